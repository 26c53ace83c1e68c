/**
 * The steps' records on real test hosts: each defect of the old bookkeeping
 * (a default sandbox lost, a partial original kept, a kill between a write and
 * its record, a package binary taken for a foreign one, a symlink replaced),
 * reproduced and checked byte for byte, and the Host's ownership marks
 * removed by uninstall.
 */
import { describe, expect, it } from "vitest";
import { renderStepScript } from "../../src/scripts/render";
import { useHostSuite } from "./support/suite";
import { lastLine, mustRun, runStep, testPlan } from "./support/steps";
import { hangDockerd, resumeDockerd, runKilledAt, snapshot } from "./support/faults";

const suite = useHostSuite();
const DAEMON = "/etc/docker/daemon.json";
const STATE = "/var/lib/pulumi-gvisor";

describe("a daemon.json that already sandboxes by default", () => {
  it("keeps default-runtime runsc under a default plan, and uninstall gives back the exact bytes", async () => {
    const original = `${JSON.stringify({ "default-runtime": "runsc", runtimes: { runsc: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none"] } } }, null, 2)}\n`;
    const host = await suite.freshHost({ daemonJson: original });
    const plan = testPlan(suite.mirror());
    expect(plan.docker.defaultRuntime).toBe(false);
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const written = JSON.parse((await host.readFile(DAEMON))!);
    expect(written["default-runtime"]).toBe("runsc");
    expect(written.runtimes.runsc.path).toBe("/usr/local/bin/runsc");
    expect((await host.docker.cli(["info", "--format", "{{.DefaultRuntime}}"])).stdout.trim()).toBe("runsc");
    const plain = await host.docker.cli(["run", "--rm", "--network=none", "local/busybox:latest", "uname", "-r"]);
    expect(plain.stdout.trim()).toBe("4.4.0");

    await mustRun(host, plan, "uninstall");
    expect(await host.readFile(DAEMON)).toBe(original);
    expect((await host.docker.cli(["info", "--format", "{{.DefaultRuntime}}"])).stdout.trim()).toBe("runsc");
  });
});

describe("a default runtime the package did not set", () => {
  it("is not replaced when the plan asks for runsc as the default: one clear line, nothing written", async () => {
    const original = `${JSON.stringify({ "default-runtime": "sandboxed", runtimes: { sandboxed: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none"] } } })}\n`;
    const host = await suite.freshHost({ daemonJson: original });
    const plan = testPlan(suite.mirror(), { docker: { defaultRuntime: true } });
    await mustRun(host, plan, "install");
    const r = await runStep(host, plan, "configure-docker");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(
      /^pulumi-gvisor configure-docker: error: \/etc\/docker\/daemon.json makes sandboxed the default runtime, which pulumi-gvisor did not set and does not replace; /,
    );
    expect(await host.readFile(DAEMON)).toBe(original);
    expect(await host.stat(`${STATE}/files`)).toBeUndefined();
  });
});

describe("a full state dir while the original is copied", () => {
  it("fails with the host untouched and no partial original, then converges once there is room", async () => {
    // An original larger than the state dir's free space.
    const original = `${JSON.stringify({ labels: Array.from({ length: 6000 }, (_, i) => `label-${i}=value-${i}`) }, null, 2)}\n`;
    const host = await suite.freshHost({ daemonJson: original });
    expect((await host.sh(`mkdir -p ${STATE} && mount -t tmpfs -o size=64k tmpfs ${STATE}`)).code).toBe(0);
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    const before = await host.docker.runtimes();

    const r = await runStep(host, plan, "configure-docker");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(
      /^pulumi-gvisor configure-docker: error: could not keep a verified copy of the original \/etc\/docker\/daemon.json .*is it full\?.*nothing was changed$/,
    );
    expect(await host.readFile(DAEMON)).toBe(original);
    expect(await host.docker.runtimes()).toEqual(before);
    expect((await host.sh(`ls -A ${STATE}/files 2>/dev/null | wc -l`)).stdout.trim()).toBe("0");

    expect((await host.sh(`mount -o remount,size=16m ${STATE}`)).code).toBe(0);
    await mustRun(host, plan, "configure-docker");
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");
    await mustRun(host, plan, "uninstall");
    expect(await host.readFile(DAEMON)).toBe(original);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
  });
});

describe("a kill between writing daemon.json and confirming the reload", () => {
  it("converges on the re-run, and uninstall restores the exact original", async () => {
    const original = '{\n  "log-level": "warn"\n}\n';
    const host = await suite.freshHost({ daemonJson: original });
    const plan = testPlan(suite.mirror(), { docker: { defaultRuntime: true } });
    await mustRun(host, plan, "install");
    // dockerd hangs, so the step sits in its reload-confirm loop; it is
    // killed there (the file is written, the reload not confirmed).
    hangDockerd(host);
    const killed = await host.sh(
      `cp /etc/docker/daemon.json /run/gv-original
      setsid sh -c "$1" >/dev/null 2>&1 &
      step=$!
      i=0
      while cmp -s /etc/docker/daemon.json /run/gv-original && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
      sleep 1
      kill -9 "-$step"
      wait "$step" || true`,
      [renderStepScript(plan, "configure-docker")],
    );
    resumeDockerd(host);
    expect(killed.code).toBe(0);
    expect(await host.readFile(DAEMON)).not.toBe(original);

    const again = await mustRun(host, plan, "configure-docker");
    expect(again.json).toMatchObject({ step: "configure-docker" });
    expect((await host.docker.cli(["info", "--format", "{{.DefaultRuntime}}"])).stdout.trim()).toBe("runsc");
    await mustRun(host, plan, "uninstall");
    expect(await host.readFile(DAEMON)).toBe(original);
    expect((await host.docker.cli(["info", "--format", "{{.DefaultRuntime}}"])).stdout.trim()).toBe("runc");
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
    expect(await host.stat(STATE)).toBeUndefined();
  });

  it("an unchanged daemon.json that dockerd has not loaded is reloaded, not reported as in place", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    // dockerd forgets the runtime (a reload of a file without it), then our
    // bytes come back without a reload: what a run killed before its reload leaves.
    const ours = (await host.readFile(DAEMON))!;
    await host.writeFile(DAEMON, '{"runtimes": {}}\n');
    expect((await host.docker.reload()).ok).toBe(true);
    await host.writeFile(DAEMON, ours);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");

    const r = await mustRun(host, plan, "configure-docker");
    expect(r.json).toMatchObject({ changed: true, reloaded: true });
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");
  });
});

describe("a kill in configure-containerd after its files are written", () => {
  it("neither the block nor runsc.toml survives uninstall", async () => {
    const host = await suite.freshHost({ containerd: true, containerdConfig: "version = 2\n" });
    const plan = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });
    await mustRun(host, plan, "install");
    const before = await snapshot(host, ["/etc/containerd/config.toml", "/etc/containerd/runsc.toml"]);
    // Marks: record, write; killed once the write has begun.
    const k = await runKilledAt(host, plan, "configure-containerd", 2);
    expect(k.killed).toBe(true);
    await mustRun(host, plan, "configure-containerd");
    expect(await host.readFile("/etc/containerd/config.toml")).toMatch(/# BEGIN pulumi-gvisor runtime runsc/);
    await mustRun(host, plan, "uninstall");
    expect(await snapshot(host, ["/etc/containerd/config.toml", "/etc/containerd/runsc.toml"])).toEqual(before);
  });
});

describe("a kill after the binaries are renamed in, before the record", () => {
  it("the re-run does not keep the package's own runsc as a foreign one", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    const k = await runKilledAt(host, plan, "install", 3); // record, rename, commit
    expect(k.phases).toEqual(["record", "rename", "commit"]);
    expect(k.killed).toBe(true);
    const again = await mustRun(host, plan, "install");
    expect(again.stderr).not.toMatch(/keeping a copy of the existing/);
    expect(await host.stat(`${STATE}/install/orig`)).toBeUndefined();
    await mustRun(host, plan, "uninstall");
    expect((await host.exec(["ls", "-A", "/usr/local/bin"])).stdout).toBe("");
  });
});

describe("a symlinked daemon.json", () => {
  it("is written through its link and restored with its exact bytes and mode", async () => {
    const host = await suite.freshHost();
    const original = '{\n  "debug": false\n}\n';
    await host.writeFile("/etc/docker/real/daemon.json", original, 0o600);
    expect((await host.sh(`ln -s real/daemon.json ${DAEMON}`)).code).toBe(0);
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    expect((await host.stat(DAEMON))?.type).toBe("symlink");
    expect(JSON.parse((await host.readFile("/etc/docker/real/daemon.json"))!).runtimes.runsc).toBeDefined();

    await mustRun(host, plan, "uninstall");
    expect((await host.exec(["readlink", DAEMON])).stdout.trim()).toBe("real/daemon.json");
    expect(await host.readFile("/etc/docker/real/daemon.json")).toBe(original);
    expect((await host.stat("/etc/docker/real/daemon.json"))?.mode).toBe(0o600);
  });
});

describe("uninstall and the Host component's ownership marks", () => {
  it("removes the owner file, the step bundles and their uploads last, then the empty state dir", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await host.writeFile(`${STATE}/owner`, "stack/project/host\n", 0o600);
    await host.writeFile(`${STATE}/bundles/${"a".repeat(64)}/install.sh`, "# body\n");
    // The upload sits in the login's home (root's here), where SSH commands start; older releases used /var/tmp.
    await host.writeFile("/root/.pulumi-gvisor-bundle-0123456789abcdef.sh", "# upload\n");
    await host.writeFile("/root/unrelated.sh", "keep\n");
    await host.writeFile("/var/tmp/pulumi-gvisor-bundle-1234", "# upload\n");
    await host.writeFile("/var/tmp/unrelated", "keep\n");
    await mustRun(host, plan, "uninstall");
    expect(await host.stat(STATE)).toBeUndefined();
    expect(await host.stat("/root/.pulumi-gvisor-bundle-0123456789abcdef.sh")).toBeUndefined();
    expect(await host.readFile("/root/unrelated.sh")).toBe("keep\n");
    expect(await host.stat("/var/tmp/pulumi-gvisor-bundle-1234")).toBeUndefined();
    expect(await host.readFile("/var/tmp/unrelated")).toBe("keep\n");
  });

  it("keeps them while something else is left to undo (a failed uninstall)", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker"] as const) await mustRun(host, plan, step);
    await host.writeFile(`${STATE}/owner`, "stack/project/host\n", 0o600);
    // The admin makes runsc the default after us: removing it would break dockerd.
    const conf = JSON.parse((await host.readFile(DAEMON))!);
    await host.writeFile(DAEMON, `${JSON.stringify({ ...conf, "default-runtime": "runsc" })}\n`);
    const r = await runStep(host, plan, "uninstall");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor uninstall: error: .*makes runsc the default runtime, which pulumi-gvisor did not set/);
    expect(await host.readFile(`${STATE}/owner`)).toBe("stack/project/host\n");
    expect(await host.stat("/usr/local/bin/runsc")).toBeDefined();
  });
});

describe("records of the first layout ($GV_STATE_DIR/docker, /containerd)", () => {
  it("are converted, so uninstall on a host configured by an earlier release is exact", async () => {
    const original = '{\n  "debug": true\n}\n';
    const host = await suite.freshHost({ daemonJson: original, containerdConfig: "version = 2\n" });
    const plan = testPlan(suite.mirror(), { containerd: { enabled: true } });
    await mustRun(host, plan, "install");
    // What the earlier release left: its bytes in place and one record per step.
    const written = `${JSON.stringify({ debug: true, runtimes: { runsc: { path: "/usr/local/bin/runsc", runtimeArgs: ["--network=none"] } }, "default-runtime": "runsc" }, null, 2)}\n`;
    await host.writeFile(DAEMON, written);
    expect((await host.docker.reload()).ok).toBe(true);
    await host.writeFile(`${STATE}/docker/record`, "config=/etc/docker/daemon.json\nruntime=runsc\n", 0o600);
    await host.writeFile(`${STATE}/docker/original`, original, 0o600);
    await host.writeFile(`${STATE}/docker/written`, written, 0o600);
    const block =
      '\n# BEGIN pulumi-gvisor runtime runsc\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n  runtime_type = "io.containerd.runsc.v1"\n# END pulumi-gvisor runtime runsc\n';
    await host.writeFile("/etc/containerd/config.toml", `version = 2\n${block}`);
    await host.writeFile("/etc/containerd/runsc.toml", "[runsc_config]\n", 0o644);
    await host.writeFile(`${STATE}/containerd/record`, "config=/etc/containerd/config.toml\nruntime=runsc\nrunsc_toml=/etc/containerd/runsc.toml\n", 0o600);
    await host.writeFile(`${STATE}/containerd/config.original`, "version = 2\n", 0o600);
    await host.writeFile(`${STATE}/containerd/config.written`, `version = 2\n${block}`, 0o600);
    await host.writeFile(`${STATE}/containerd/runsc.toml.original.absent`, "", 0o600);
    await host.writeFile(`${STATE}/containerd/runsc.toml.written`, "[runsc_config]\n", 0o600);

    await mustRun(host, plan, "uninstall");
    expect(await host.readFile(DAEMON)).toBe(original);
    expect((await host.docker.cli(["info", "--format", "{{.DefaultRuntime}}"])).stdout.trim()).toBe("runc");
    expect(await host.readFile("/etc/containerd/config.toml")).toBe("version = 2\n");
    expect(await host.stat("/etc/containerd/runsc.toml")).toBeUndefined();
    expect(await host.stat(STATE)).toBeUndefined();
  });
});
