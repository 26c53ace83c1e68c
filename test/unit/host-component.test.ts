import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Host, setupPlanInput } from "../../src/components/host";
import { HostArgs } from "../../src/components/host-args";
import { planOutput } from "../../src/components/validate";
import { buildHostPlan } from "../../src/plan/host-plan";
import { stepBundle } from "../../src/scripts/bundle";
import { STEP_COMMAND } from "../../src/scripts/invocation";
import { changedLines, lineDiff } from "../support/line-diff";
import { Registered, flush, madeInThisProgram, settle, useMocks, valueOf } from "./support/mocks";
import { expectReasonNamesPath, raisedBy } from "./support/input-errors";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END OPENSSH PRIVATE KEY-----";
// A real ed25519 key blob: uint32 length 11, "ssh-ed25519", uint32 32, 32 key bytes.
const HOST_KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")} root@sandbox`;
const report = {
  schemaVersion: 2,
  runscVersion: "release-20261005.0",
  arch: "x86_64",
  hostKernel: "6.8.0-1019-aws",
  runtimes: [{ engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: true, error: null }],
  containerd: null,
  isolated: true,
  failures: [],
};

const baseArgs = (extra: Partial<HostArgs> = {}): HostArgs => ({
  connection: { host: "203.0.113.10", user: "ubuntu", privateKey: KEY, hostKey: HOST_KEY },
  ...extra,
});

const verifyStdout = (r: Registered) => (r.name.endsWith("-verify") ? { stdout: JSON.stringify(report), stderr: "" } : { stdout: "{}", stderr: "" });

interface Captured {
  dependsOn: string[];
  parent?: string;
  deleteBeforeReplace?: boolean;
}

/** Builds a Host in a fresh mock program and returns it with what was registered. */
async function program(args: HostArgs, preview = false) {
  const registered = useMocks(preview, verifyStdout);
  const opts = new Map<string, Captured>();
  const host = new Host("sandbox", args, {
    transformations: [
      (t) => {
        const deps = (t.opts.dependsOn ?? []) as pulumi.Resource[];
        opts.set(t.name, {
          dependsOn: deps.map((d) => (d as any).__name),
          parent: (t.opts.parent as any)?.__name,
          deleteBeforeReplace: (t.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
        });
        return undefined;
      },
    ],
  });
  await flush(host);
  if (!preview) await valueOf(host.verification);
  const children = registered.filter((r) => r.type.startsWith("command:remote:"));
  const byName = Object.fromEntries(children.map((c) => [c.name.replace(/^sandbox-/, ""), c.inputs]));
  return { host, registered, children, byName, opts };
}

/** Every changed line between the string inputs of two programs' resources. */
function changedLinesBetween(a: Record<string, Record<string, any>>, b: Record<string, Record<string, any>>): string[] {
  const lines: string[] = [];
  for (const [name, inputs] of Object.entries(b)) {
    for (const [key, value] of Object.entries(inputs)) {
      const before = a[name]?.[key];
      if (typeof value !== "string" || typeof before !== "string" || before === value) continue;
      const d = lineDiff(before, value);
      lines.push(...d.removed.map((l) => `${name}.${key} - ${l}`), ...d.added.map((l) => `${name}.${key} + ${l}`));
    }
  }
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe("Host component", () => {
  it("adopts the machine, uploads the bundle, then runs the chained steps, all parented by the component", async () => {
    const { registered, children, opts } = await program(baseArgs());
    expect(registered.find((r) => r.type === "pulumi-gvisor:index:Host")?.name).toBe("sandbox");
    expect(children.map((c) => `${c.type} ${c.name}`)).toEqual([
      "command:remote:Command sandbox-lifecycle",
      "command:remote:CopyToRemote sandbox-bundle",
      "command:remote:Command sandbox-install",
      "command:remote:Command sandbox-configure-docker",
      "command:remote:Command sandbox-configure-containerd",
      "command:remote:Command sandbox-verify",
    ]);
    for (const c of children) expect(opts.get(c.name)?.parent).toBe("sandbox");
    expect(opts.get("sandbox-lifecycle")?.dependsOn).toEqual([]);
    expect(opts.get("sandbox-bundle")?.dependsOn).toEqual(["sandbox-lifecycle"]);
    expect(opts.get("sandbox-install")?.dependsOn).toEqual(["sandbox-bundle"]);
    expect(opts.get("sandbox-configure-docker")?.dependsOn).toEqual(["sandbox-install"]);
    expect(opts.get("sandbox-configure-containerd")?.dependsOn).toEqual(["sandbox-install"]);
    expect(opts.get("sandbox-verify")?.dependsOn).toEqual(["sandbox-configure-docker", "sandbox-configure-containerd"]);
  });

  it("replaces the lifecycle delete-first, and gives steps neither update nor delete", async () => {
    const { byName, opts } = await program(baseArgs());
    expect(opts.get("sandbox-lifecycle")?.deleteBeforeReplace).toBe(true);
    expect(byName.lifecycle.delete).toContain('. "$gv_store/uninstall.sh"');
    expect(byName.install.create).toBe(STEP_COMMAND);
    for (const step of ["install", "configure-docker", "configure-containerd", "verify"]) {
      expect(opts.get(`sandbox-${step}`)?.deleteBeforeReplace).toBeUndefined();
      expect("update" in byName[step]).toBe(false);
      expect("delete" in byName[step]).toBe(false);
      expect(byName[step].addPreviousOutputInEnv).toBe(false);
      expect(byName[step].triggers).toEqual(["203.0.113.10:22", "sandbox-lifecycle-id"]);
    }
    expect(byName.lifecycle.triggers).toEqual(["203.0.113.10:22"]);
    expect(byName.bundle.triggers).toEqual(["203.0.113.10:22", "sandbox-lifecycle-id", expect.stringMatching(/^[0-9a-f]{16}$/)]);
  });

  it("sends no delete at all when uninstallOnDelete is false (an empty one would still dial the machine)", async () => {
    const { byName, host } = await program(baseArgs({ uninstallOnDelete: false }));
    expect("delete" in byName.lifecycle).toBe(false);
    expect((await valueOf(host.stepDigests)).uninstall).toBe("");
  });

  it("uploads the content-addressed bundle into the login's home (no shared temp dir) and refers to it by hash", async () => {
    const { byName, host } = await program(baseArgs());
    const bundle = stepBundle();
    expect(byName.bundle.remotePath).toBe(`.pulumi-gvisor-bundle-ubuntu-${bundle.id.slice(0, 16)}.sh`);
    expect(await valueOf(host.bundleId)).toBe(bundle.id);
    expect(byName.install.stdin).toContain(`GV_BUNDLE_ID='${bundle.id}'`);
    expect(byName.install.stdin).toContain('. "$gv_store/install.sh"');
    expect(byName.lifecycle.create).toContain("GV_OWNER_URN='urn:pulumi:test::pulumi-gvisor-test::pulumi-gvisor:index:Host::sandbox'");
  });

  it("keeps a Host's stored state under 64 KB: short commands, digests instead of copies", async () => {
    const { children, host } = await program(baseArgs({ containerd: { enabled: true } }));
    // State keeps each resource's inputs and its outputs (the inputs again, plus stdout/stderr).
    const stderr = "pulumi-gvisor step: a progress line of about eighty characters, as steps print them\n".repeat(25);
    const state = children.map((c) => ({ inputs: c.inputs, outputs: { ...c.inputs, stdout: c.name.endsWith("verify") ? JSON.stringify(report) : "{}", stderr } }));
    const bytes = Buffer.byteLength(JSON.stringify(state));
    expect(bytes).toBeLessThan(64 * 1024);
    for (const c of children) expect(Buffer.byteLength(String(c.inputs.stdin ?? c.inputs.create ?? ""))).toBeLessThan(6 * 1024);
    expect(Object.values(await valueOf(host.stepDigests)).every((d) => d === "" || /^[0-9a-f]{64}$/.test(d))).toBe(true);
  });

  it("shows a one-option change as a few changed lines in preview, not a diff inside whole scripts", async () => {
    const a = await program(baseArgs({ containerd: { enabled: true } }));
    const b = await program(baseArgs({ containerd: { enabled: true }, runsc: { debug: true } }));
    const changed = changedLinesBetween(a.byName, b.byName);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThanOrEqual(20);
    expect(changed.some((l) => l.includes("--debug=true"))).toBe(true);
    expect(b.byName.install.stdin).toBe(a.byName.install.stdin);
  });

  it("re-runs install and every step after it on a version change, in place", async () => {
    const a = await program(baseArgs({ version: "20261005.0" }));
    const b = await program(baseArgs({ version: "20260928.0" }));
    for (const step of ["install", "configure-docker", "configure-containerd", "verify"]) {
      expect(b.byName[step].stdin).not.toBe(a.byName[step].stdin);
      expect(b.byName[step].create).toBe(STEP_COMMAND);
      expect(b.byName[step].triggers).toEqual(a.byName[step].triggers);
    }
    const diff = lineDiff(a.byName["configure-docker"].stdin, b.byName["configure-docker"].stdin);
    expect(diff.added).toEqual([expect.stringMatching(/^# runs after: [0-9a-f]{12}$/)]);
    expect(changedLinesBetween(a.byName, b.byName).length).toBeLessThanOrEqual(20);
  });

  it("re-runs only verify when only the verify image changes", async () => {
    const a = await program(baseArgs());
    const b = await program(baseArgs({ verify: { image: "registry.internal/busybox:1.37" } }));
    for (const step of ["bundle", "lifecycle", "install", "configure-docker", "configure-containerd"]) {
      expect(JSON.stringify(b.byName[step])).toBe(JSON.stringify(a.byName[step]));
    }
    expect(b.byName.verify.stdin).not.toBe(a.byName.verify.stdin);
  });

  it("re-runs every step, and nothing else, when the repair token changes", async () => {
    const a = await program(baseArgs());
    const b = await program(baseArgs({ repair: "2026-12-01 daemon.json edited by hand" }));
    for (const step of ["install", "configure-docker", "configure-containerd", "verify"]) {
      expect(b.byName[step].stdin).toContain("GV_REPAIR='2026-12-01 daemon.json edited by hand'");
    }
    expect(b.byName.lifecycle.create).toBe(a.byName.lifecycle.create);
  });

  it("changes verify on every run with driftCheck, and only verify", async () => {
    const a = await program(baseArgs({ driftCheck: true }));
    await new Promise((r) => setTimeout(r, 5));
    const b = await program(baseArgs({ driftCheck: true }));
    expect(b.byName.verify.stdin).not.toBe(a.byName.verify.stdin);
    expect(b.byName.verify.stdin).toMatch(/GV_VERIFY_RUN='\d{4}-\d\d-\d\dT/);
    expect(b.byName.install.stdin).toBe(a.byName.install.stdin);
    expect(changedLines(lineDiff(a.byName.verify.stdin, b.byName.verify.stdin))).toBe(2);
  });

  it("gives byte-identical inputs for equal args (an unchanged stack previews no diff)", async () => {
    const a = await program(baseArgs({ runsc: { network: "none", extraFlags: { b: "1", a: "2" } } }));
    const b = await program(baseArgs({ runsc: { extraFlags: { a: "2", b: "1" }, network: "none" } }));
    expect(JSON.stringify(b.byName)).toBe(JSON.stringify(a.byName));
  });

  it("treats one machine's address the same however it is spelled, and re-sends the bundle to a rebuilt machine", async () => {
    const a = await program(baseArgs());
    const b = await program(baseArgs({ connection: { host: "203.0.113.10.", user: "ubuntu", privateKey: KEY, hostKey: HOST_KEY } }));
    expect(b.byName.lifecycle.triggers).toEqual(a.byName.lifecycle.triggers);
    const otherKey = HOST_KEY.replace("BwcH", "BwcI");
    const c = await program(baseArgs({ connection: { host: "203.0.113.10", user: "ubuntu", privateKey: KEY, hostKey: otherKey } }));
    expect(c.byName.bundle.triggers).not.toEqual(a.byName.bundle.triggers);
    expect(c.byName.lifecycle.triggers).toEqual(a.byName.lifecycle.triggers);
  });

  it("keeps the connection secret and shows where it goes in plain text", async () => {
    const { host, byName } = await program(baseArgs());
    for (const inputs of Object.values(byName)) {
      for (const field of ["create", "stdin", "delete", "remotePath"]) expect(String(inputs[field] ?? "")).not.toContain("c2VjcmV0LWtleQ");
    }
    const child = (host as any).__childResources as Set<pulumi.Resource> | undefined;
    const install = [...(child ?? [])].find((r) => (r as any).__name === "sandbox-install") as any;
    expect((await settle(install.connection)).secret).toBe(true);
    const target = await settle(host.target);
    expect(target).toEqual({ known: true, value: "203.0.113.10:22", secret: false });
  });

  it("does not hang in preview, where the verify output is unknown", async () => {
    const { host } = await program(baseArgs(), true);
    expect((await settle(host.verification)).known).toBe(false);
    expect((await settle(host.stepDigests)).known).toBe(true);
  });

  it("warns in preview when the host key is not pinned", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue(undefined);
    await program({ connection: { host: "203.0.113.10", privateKey: KEY } }, true);
    expect(warn.mock.calls.map((c) => c[0])).toContainEqual(expect.stringMatching(/^connection\.hostKey is not set, so the SSH host key of 203\.0\.113\.10 is not checked/));
    warn.mockClear();
    await program(baseArgs(), true);
    expect(warn).not.toHaveBeenCalled();
  });

  it("refuses bad input at construction with an InputPropertyError naming the property", async () => {
    useMocks(true);
    const attempt = (args: HostArgs) => () => new Host("bad", args);
    expect(attempt(baseArgs({ runsc: { extraFlags: { vfs2: "true" } } }))).toThrowError(pulumi.InputPropertyError);
    const cases: [HostArgs, string, RegExp][] = [
      [baseArgs({ docker: { runtimeName: "runsc;reboot" } }), "args.docker.runtimeName", /letters, digits/],
      [baseArgs({ connection: { host: "203.0.113.10", hostKey: "203.0.113.10 ssh-ed25519 AAAAC3Nz" } }), "args.connection.hostKey", /must start with an OpenSSH key type/],
      [baseArgs({ connection: { host: "203.0.113.10", hostKey: "AAAAC3NzaC1lZDI1NTE5AAAAIKey" } }), "args.connection.hostKey", /must start with an OpenSSH key type/],
      [baseArgs({ connection: { host: "203.0.113.10", hostKey: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIKey" } }), "args.connection.hostKey", /is not a valid ssh-rsa key/],
      [baseArgs({ connection: { host: "203.0.113.10", port: 70000 } }), "args.connection.port", /whole number from 1 to 65535/],
      [baseArgs({ connection: { host: "", privateKey: KEY } }), "args.connection.host", /must not be empty/],
    ];
    for (const [args, path, reason] of cases) {
      try {
        attempt(args)();
        expect.unreachable(`accepted ${path}`);
      } catch (err) {
        expect(err).toBeInstanceOf(pulumi.InputPropertyError);
        expectReasonNamesPath(err);
        expect((err as pulumi.InputPropertyError).propertyPath).toBe(path);
        expect((err as pulumi.InputPropertyError).reason).toMatch(reason);
      }
    }
  });

  it("checks a pinned host key at preview even while the address is still unknown", async () => {
    useMocks(true);
    const later = new Promise<string>(() => undefined);
    expect(() => new Host("bad", { connection: { host: pulumi.output(later), hostKey: "not a key" } })).toThrowError(pulumi.InputPropertyError);
  });

  it("validates inputs that arrive as Outputs once they resolve", async () => {
    useMocks(false);
    const plan = planOutput({ version: pulumi.output("release-20261020.0") }, setupPlanInput, (input) => buildHostPlan(input, "args"));
    const failure = await valueOf(plan).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(pulumi.InputPropertyError);
    expect((failure as pulumi.InputPropertyError).propertyPath).toBe("args.version");
    expect((failure as pulumi.InputPropertyError).reason).toMatch(/git tag name/);
  });
});

describe("Host: validation at preview while other inputs are unknown", () => {

  it("refuses a bad plain field at construction although the mirror is an Output not known yet, naming its path in the reason", async () => {
    const cases: [Partial<HostArgs>, string, RegExp][] = [
      [{ installDir: "bin" }, "args.installDir", /^args\.installDir: must be an absolute path, got "bin"/],
      [{ runsc: { platform: "bogus" as never } }, "args.runsc.platform", /^args\.runsc\.platform: /],
      [{ docker: { runtimeName: "runc" } }, "args.docker.runtimeName", /^args\.docker\.runtimeName: "runc" is Docker's built-in runtime/],
      [{ verify: { image: "Not An Image" } }, "args.verify.image", /^args\.verify\.image: is not a valid image reference/],
      [{ arch: "sparc" as never }, "args.arch", /^args\.arch: must be "x86_64" or "arm64"/],
    ];
    for (const [extra, path, reason] of cases) {
      const registered = useMocks(true);
      const mirror = madeInThisProgram("mirror");
      const err = raisedBy(() => new Host("bad", baseArgs({ mirror, ...extra })));
      expect(err, path).toBeInstanceOf(pulumi.InputPropertyError);
      expect(err.propertyPath, path).toBe(path);
      expect(err.reason, path).toMatch(reason);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(registered.map((r) => r.type), path).toEqual(["test:index:Made"]);
    }
  });

  it("leaves the checks that need the unknown value for later, and constructs a good Host", async () => {
    useMocks(true);
    const mirror = madeInThisProgram("mirror");
    // A pin is judged against the release, which needs the mirror: not refused early.
    const host = new Host("ok", baseArgs({ mirror, installDir: "/opt/gvisor/bin", sha512: { x86_64: "a".repeat(128) } }));
    await flush(host);
    expect((await settle(host.stepDigests)).known).toBe(false);
    // Docker off and containerd not known yet: "enables neither" cannot be judged yet.
    const host2 = new Host("ok2", baseArgs({ docker: { enabled: false }, containerd: { enabled: madeInThisProgram("flag") as never } }));
    await flush(host2);
  });

  it("refuses, in the preview, a bad value that is an Output known there", async () => {
    useMocks(true);
    const plan = planOutput({ mirror: madeInThisProgram("mirror"), installDir: pulumi.output("bin") }, setupPlanInput, (input) => buildHostPlan(input, "args"));
    const err = await settle(plan).then(
      () => undefined,
      (e: unknown) => e as any,
    );
    expect(err).toBeInstanceOf(pulumi.InputPropertyError);
    expect(err.propertyPath).toBe("args.installDir");
    expect(err.reason).toMatch(/^args\.installDir: must be an absolute path/);
    const good = planOutput({ mirror: madeInThisProgram("mirror2"), installDir: pulumi.output("/opt/bin") }, setupPlanInput, (input) => buildHostPlan(input, "args"));
    expect((await settle(good)).known).toBe(false);
  });
});
