/**
 * Day 2 on real test hosts: the Host component driven through the engine
 * model (support/engine-model.ts, written from the engine's and the command
 * provider's source) across many `pulumi up`s, with state kept between them.
 * Every scenario checks the host itself (files, binaries, records, running
 * containers) and the outputs, not only which steps ran.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/components/host";
import { HostArgs } from "../../src/components/host-args";
import { parseVerification } from "../../src/plan/verification";
import { STEP_COMMAND } from "../../src/scripts/invocation";
import type { TestHost } from "./harness";
import { EngineModel, Step, UpResult } from "./support/engine-model";
import { fingerprint, flavorRunscOptions } from "./support/steps";
import { useHostSuite } from "./support/suite";

const suite = useHostSuite();

const ORIGINAL = '{\n  "log-driver": "json-file"\n}\n';
const FILES = ["/etc/docker/daemon.json", "/usr/local/bin/runsc", "/usr/local/bin/containerd-shim-runsc-v1"];

function args(host: TestHost, extra: Partial<HostArgs> = {}): HostArgs {
  return {
    connection: { ...host.connection("gvtest"), dialErrorLimit: 1, perDialTimeout: 5 },
    version: suite.mirror().versions.archive,
    mirror: suite.mirror().baseUrl,
    verify: { image: "local/busybox:latest" },
    ...extra,
    runsc: { network: "none", ...flavorRunscOptions(), ...extra.runsc },
  };
}

/** One program: a Host named `name` (optionally aliased) with `a`. */
const hostProgram = (name: string, a: HostArgs, aliases?: { name: string }[]) => (): void => {
  new Host(name, a, aliases ? { aliases } : undefined);
};

const ops = (r: UpResult) => r.steps.filter((s) => s.op !== "same" || s.ran).map((s) => `${s.op} ${s.urn.split("::").pop()}${s.ran ? ` (${s.ran})` : ""}`);
const ran = (r: UpResult) => r.steps.filter((s): s is Step & { ran: NonNullable<Step["ran"]> } => s.ran !== undefined);

function verificationOf(model: EngineModel, name = "sandbox") {
  return parseVerification(model.resource(`${name}-verify`).outputs.stdout);
}

async function mustUp(model: EngineModel, program: () => void, opts?: Parameters<EngineModel["up"]>[1]): Promise<UpResult> {
  const r = await model.up(program, opts);
  if (r.error) throw new Error(`up failed: ${r.error}`);
  return r;
}

async function runtimes(host: TestHost): Promise<string[]> {
  return Object.keys(await host.docker.runtimes()).sort();
}

/** The host as pulumi-gvisor found it: the original daemon.json, no binaries, no state. */
async function expectPristine(host: TestHost): Promise<void> {
  expect(await host.readFile("/etc/docker/daemon.json")).toBe(ORIGINAL);
  expect(await host.stat("/usr/local/bin/runsc")).toBeUndefined();
  expect(await host.stat("/var/lib/pulumi-gvisor")).toBeUndefined();
  expect(await uploads(host)).toEqual([]);
  expect(await runtimes(host)).not.toContain("runsc");
}

/** Bundle uploads in the login's home, with mode and owner: `<name> <mode> <owner>`. */
async function uploads(host: TestHost): Promise<string[]> {
  const r = await host.sh('cd /home/gvtest && for f in .pulumi-gvisor-bundle-*.sh; do [ -e "$f" ] && stat -c "%n %a %U" "$f"; done; true');
  return r.stdout.split("\n").filter(Boolean);
}

describe("Host day 2 through the engine model on a real host", () => {
  it("first up sets the host up; an unchanged up runs nothing; state stays small", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    const first = await mustUp(model, hostProgram("sandbox", args(host)));
    expect(ran(first).map((s) => `${s.urn.split("::").pop()} ${s.ran}`)).toEqual([
      "sandbox-lifecycle create",
      "sandbox-bundle copy",
      "sandbox-install create",
      expect.stringMatching(/^sandbox-configure-(docker|containerd) create$/),
      expect.stringMatching(/^sandbox-configure-(docker|containerd) create$/),
      "sandbox-verify create",
    ]);
    const v = verificationOf(model);
    expect(v.isolated).toBe(true);
    expect(v.runtimes[0]).toMatchObject({ name: "runsc", ran: true, sandboxKernel: "4.4.0", sandboxProcess: true, runtimePath: "/usr/local/bin/runsc" });
    expect(await runtimes(host)).toContain("runsc");
    // In the login's own home, not in a shared temp dir another user could write to.
    expect(await uploads(host)).toEqual([expect.stringMatching(/^\.pulumi-gvisor-bundle-gvtest-[0-9a-f]{16}\.sh \d+ gvtest$/)]);
    expect((await host.sh("ls /var/tmp")).stdout).not.toContain("pulumi-gvisor");

    const before = await fingerprint(host, FILES);
    const preview = await model.up(hostProgram("sandbox", args(host)), { preview: true });
    expect(ops(preview)).toEqual([]);
    const again = await mustUp(model, hostProgram("sandbox", args(host)));
    expect(ops(again)).toEqual([]);
    expect(await fingerprint(host, FILES)).toEqual(before);

    // Real stdout and stderr included: the whole Host in state.
    const bytes = model.stateBytes();
    if (process.env.GV_PRINT_STATE_BYTES)
      for (const r of model.state.values())
        console.log(
          `state ${r.name} ${JSON.stringify(Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, JSON.stringify(v ?? "").length])))} in=${JSON.stringify(r.inputs).length}`,
        );
    expect(bytes).toBeLessThan(64 * 1024);
  });

  it("bumps the gVisor version in place: every step updates, nothing is replaced, a running sandbox keeps running", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host, { version: suite.mirror().versions.archiveBz2Only })));
    const run = await host.docker.cli(["run", "-d", "--runtime=runsc", "--network=none", "local/busybox:latest", "sleep", "600"]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const dockerd = await host.docker.pid();

    const preview = await model.up(hostProgram("sandbox", args(host)), { preview: true });
    expect(ops(preview).sort()).toEqual([
      "update sandbox-configure-containerd",
      "update sandbox-configure-docker",
      "update sandbox-install",
      "update sandbox-verify",
    ]);
    expect(preview.diff).toContain(`+ GV_VERSION='${suite.mirror().versions.archive}'`);

    const up = await mustUp(model, hostProgram("sandbox", args(host)));
    expect(up.steps.filter((s) => s.op === "replace" || s.op === "delete")).toEqual([]);
    expect(verificationOf(model).isolated).toBe(true);
    const state = await host.docker.cli(["inspect", "-f", "{{.State.Running}} {{.RestartCount}}", id]);
    expect(state.stdout.trim()).toBe("true 0");
    expect(await host.docker.pid()).toBe(dockerd);
    await host.docker.cli(["rm", "-f", id]);
  });

  it("shows a runsc option change as a few changed lines and re-runs only configure and verify", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host)));
    const changed = args(host, { runsc: { debug: true } });
    const preview = await model.up(hostProgram("sandbox", changed), { preview: true });
    const diffLines = preview.diff.split("\n").filter((l) => /^\s+[+-] /.test(l));
    expect(diffLines.length).toBeGreaterThan(0);
    expect(diffLines.length).toBeLessThanOrEqual(20);
    expect(ops(preview).sort()).toEqual(["update sandbox-configure-containerd", "update sandbox-configure-docker", "update sandbox-verify"]);
    await mustUp(model, hostProgram("sandbox", changed));
    const rt = (await host.docker.runtimes()).runsc;
    expect(rt?.runtimeArgs).toContain("--debug=true");
  });

  it("renames the runtime and drops default-runtime: the old entry goes, the default it set is put back", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host, { docker: { defaultRuntime: true } })));
    expect(JSON.parse((await host.readFile("/etc/docker/daemon.json"))!)["default-runtime"]).toBe("runsc");
    await mustUp(model, hostProgram("sandbox", args(host, { docker: { runtimeName: "gvisor" } })));
    const json = JSON.parse((await host.readFile("/etc/docker/daemon.json"))!);
    expect(Object.keys(json.runtimes)).toEqual(["gvisor"]);
    expect(json["default-runtime"]).toBeUndefined();
    expect(json["log-driver"]).toBe("json-file");
    expect(await runtimes(host)).toContain("gvisor");
    expect(verificationOf(model).runtimes[0]?.name).toBe("gvisor");
    await model.destroy();
    await expectPristine(host);
  });

  it("rotating connection settings re-runs the steps as no-ops: no file rewritten, dockerd not reloaded", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host)));
    const before = await fingerprint(host, FILES);
    const dockerd = await host.docker.pid();
    const log = host.docker.log().length;
    const rotated = args(host);
    rotated.connection = { ...host.connection("root"), dialErrorLimit: 2, perDialTimeout: 6 };
    const up = await mustUp(model, hostProgram("sandbox", rotated));
    expect(up.steps.filter((s) => s.op === "replace")).toEqual([]);
    expect(up.steps.filter((s) => s.op === "update").length).toBeGreaterThan(0);
    // The new login gets its own copy of the bundle, in its own home, on the update.
    expect((await host.sh("ls -a /root")).stdout).toMatch(/^\.pulumi-gvisor-bundle-root-[0-9a-f]{16}\.sh$/m);
    expect(await fingerprint(host, FILES)).toEqual(before);
    expect(await host.docker.pid()).toBe(dockerd);
    expect(host.docker.log(log)).not.toMatch(/Got signal to reload configuration/);
  });

  it("--replace of a step re-runs it and uninstalls nothing; --replace of the lifecycle reinstalls", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host)));
    for (const step of ["sandbox-install", "sandbox-configure-docker", "sandbox-verify"]) {
      const r = await mustUp(model, hostProgram("sandbox", args(host)), { replace: [step] });
      expect(ops(r)).toContain(`replace ${step} (create)`);
      expect(ran(r).filter((s) => s.ran === "delete")).toEqual([]);
      expect(verificationOf(model).isolated).toBe(true);
      expect(await runtimes(host)).toContain("runsc");
    }
    const r = await mustUp(model, hostProgram("sandbox", args(host)), { replace: ["sandbox-lifecycle"] });
    const order = ran(r).map((s) => `${s.urn.split("::").pop()} ${s.ran}`);
    expect(order[0]).toBe("sandbox-lifecycle delete");
    expect(order).toContain("sandbox-install create");
    expect(verificationOf(model).isolated).toBe(true);
    expect(await runtimes(host)).toContain("runsc");
  });

  it("a rename with an alias re-creates nothing; without one the new Host takes over and the old delete leaves the machine alone", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host)));
    const aliased = await mustUp(model, hostProgram("renamed", args(host), [{ name: "sandbox" }]));
    expect(aliased.steps.filter((s) => s.op === "create" || s.op === "delete" || s.op === "replace")).toEqual([]);
    expect(ops(aliased)).toEqual(["update renamed-lifecycle (update)"]);

    const moved = await mustUp(model, hostProgram("other", args(host)));
    const deleted = ran(moved)
      .filter((s) => s.ran === "delete")
      .map((s) => s.urn.split("::").pop());
    expect(deleted).toEqual(["renamed-lifecycle"]);
    const release = moved.steps.find((s) => s.ran === "delete");
    expect(release?.error).toBeUndefined();
    expect(await runtimes(host)).toContain("runsc");
    expect(await host.stat("/usr/local/bin/runsc")).toBeDefined();
    expect(verificationOf(model, "other").isolated).toBe(true);
  });

  it("moves to another machine: the old one is cleaned first (delete before replace), then the new one is set up", async () => {
    const a = await suite.freshHost({ daemonJson: ORIGINAL });
    const b = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(a)));
    const preview = await model.up(hostProgram("sandbox", args(b)), { preview: true });
    expect(preview.diff).toContain(`~ triggers: ["127.0.0.1:${a.ssh.port}"] => ["127.0.0.1:${b.ssh.port}"]`);
    const up = await mustUp(model, hostProgram("sandbox", args(b)));
    const order = ran(up).map((s) => `${s.urn.split("::").pop()} ${s.ran}`);
    expect(order.indexOf("sandbox-lifecycle delete")).toBeLessThan(order.indexOf("sandbox-install create"));
    await expectPristine(a);
    expect(await runtimes(b)).toContain("runsc");
    expect(verificationOf(model).isolated).toBe(true);
  });

  it("destroy: uninstallOnDelete restores the host; false touches nothing; a gone host fails only when it must be cleaned", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host)));
    const d = await model.destroy();
    expect(d.error).toBeUndefined();
    await expectPristine(host);
    expect(model.state.size).toBe(0);

    const kept = new EngineModel();
    await mustUp(kept, hostProgram("sandbox", args(host, { uninstallOnDelete: false })));
    await host.stop();
    const gone = await kept.destroy();
    expect(gone.error).toBeUndefined();
    expect(ran(gone)).toEqual([]);

    const other = await suite.freshHost({ daemonJson: ORIGINAL });
    const strict = new EngineModel();
    await mustUp(strict, hostProgram("sandbox", args(other)));
    await other.stop();
    const failed = await strict.destroy();
    // [cmd connection.go] dialErrorLimit 1: two dials, then the error.
    expect(failed.error).toMatch(/^after 1 failed attempts: /);
    expect(strict.state.size).toBeGreaterThan(0);
  });

  it("a failed step fails with its own error line first; the fixed re-run converges", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    const bad = await model.up(hostProgram("sandbox", args(host, { version: suite.mirror().versions.archiveBadChecksum })));
    expect(bad.error).toBeDefined();
    const [first, second] = bad.error!.split("\n");
    expect(first).toBe(`Process exited with status 1: running ${JSON.stringify(STEP_COMMAND)}:`);
    expect(second).toMatch(/^pulumi-gvisor install: error: checksum mismatch/);
    expect([...model.state.values()].map((r) => r.name).sort()).toEqual(["sandbox", "sandbox-bundle", "sandbox-lifecycle"]);
    expect(await host.stat("/usr/local/bin/runsc")).toBeUndefined();

    const fixed = await mustUp(model, hostProgram("sandbox", args(host)));
    expect(ops(fixed)).toContain("create sandbox-install (create)");
    expect(verificationOf(model).isolated).toBe(true);
  });

  it("driftCheck re-runs verify on every up and fails on a drifted host; a repair token fixes it", async () => {
    const host = await suite.freshHost({ daemonJson: ORIGINAL });
    const model = new EngineModel();
    await mustUp(model, hostProgram("sandbox", args(host, { driftCheck: true })));
    const again = await mustUp(model, hostProgram("sandbox", args(host, { driftCheck: true })));
    expect(ops(again)).toEqual(["update sandbox-verify (update)"]);

    // Someone removes runsc by hand: refresh could not see it, the drift check does.
    expect((await host.exec(["rm", "/usr/local/bin/runsc"])).code).toBe(0);
    const drifted = await model.up(hostProgram("sandbox", args(host, { driftCheck: true })));
    expect(drifted.error).toMatch(/pulumi-gvisor verify: error: this host is not isolated: /);

    const repaired = await mustUp(model, hostProgram("sandbox", args(host, { driftCheck: true, repair: "1" })));
    expect(ops(repaired)).toContain("update sandbox-install (update)");
    expect(await host.stat("/usr/local/bin/runsc")).toBeDefined();
    expect(await runtimes(host)).toContain("runsc");
    expect(verificationOf(model).isolated).toBe(true);
  });
});
