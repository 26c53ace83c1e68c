/**
 * The step scripts on real hosts: each scenario starts a fresh test host
 * (own /etc, /usr/local/bin, dockerd, sshd) and drives the rendered steps over
 * real SSH, then checks the host itself afterwards.
 */
import { parse } from "smol-toml";
import { parseVerification } from "../../src/plan/verification";
import { describe, expect, it } from "vitest";
import { renderStepScript } from "../../src/scripts/render";
import { SshUser, shQuote } from "./harness";
import { useHostSuite } from "./support/suite";
import { fingerprint, flavorRuntimeArgs, lastLine, mustRun, runStep, testPlan } from "./support/steps";

const suite = useHostSuite();
const freshHost = suite.freshHost;

const INSTALLED = ["/usr/local/bin/runsc", "/usr/local/bin/containerd-shim-runsc-v1"];

describe("fresh host: install, configure Docker, verify", () => {
  it.each([
    ["archive", "root"],
    ["archive", "gvtest"],
    ["loose", "root"],
    ["loose", "gvtest"],
  ] as const)("%s layout as %s: a real sandbox with its own kernel", async (layout, user: SshUser) => {
    const host = await freshHost();
    const plan = testPlan(suite.mirror(), { version: suite.mirror().versions[layout] });
    expect(plan.release.layout).toBe(layout);

    const install = await mustRun(host, plan, "install", user);
    expect(install.json).toMatchObject({ step: "install", changed: true, arch: "x86_64" });
    for (const f of INSTALLED) expect((await host.stat(f))?.mode).toBe(0o755);

    const docker = await mustRun(host, plan, "configure-docker", user);
    expect(docker.json).toMatchObject({ step: "configure-docker", changed: true });
    expect((await host.docker.runtimes()).runsc).toMatchObject({ path: "/usr/local/bin/runsc", runtimeArgs: ["--network=none", ...flavorRuntimeArgs()] });

    const verify = await mustRun(host, plan, "verify", user);
    const hostKernel = (await host.exec(["uname", "-r"])).stdout.trim();
    expect(verify.json).toMatchObject({
      runscVersion: "0.0~20221219.0",
      arch: "x86_64",
      hostKernel,
      runtimes: [{ engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true }],
      isolated: true,
      failures: [],
    });
    expect(verify.json?.runtimes[0].sandboxKernel).not.toBe(hostKernel);
  });
});

describe("shells", () => {
  it("the same step text runs unchanged under bash as under dash", async () => {
    const host = await freshHost();
    const plan = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker", "verify"] as const) {
      const r = await host.run(`bash -c ${shQuote(renderStepScript(plan, step))}`);
      expect(r.code, `${step}: ${r.stderr}`).toBe(0);
      if (step === "verify") expect(JSON.parse(r.stdout)).toMatchObject({ isolated: true, runtimes: [{ sandboxKernel: "4.4.0" }] });
    }
    expect((await host.exec(["readlink", "-f", "/bin/sh"])).stdout.trim()).toBe("/usr/bin/dash");
  });
});

describe("existing Docker configuration", () => {
  it("keeps unrelated daemon.json keys and running containers (reload, not restart)", async () => {
    const original = { "log-driver": "json-file", "log-opts": { "max-size": "10m" }, "registry-mirrors": ["https://mirror.example.internal"], labels: ["team=sandbox"] };
    const host = await freshHost({ daemonJson: `${JSON.stringify(original, null, 2)}\n` });
    const started = await host.docker.cli(["run", "-d", "--name", "keeper", "--network=none", "local/busybox:latest", "sleep", "600"]);
    expect(started.code).toBe(0);
    const inspect = async () => (await host.docker.cli(["inspect", "-f", "{{.State.Pid}} {{.State.StartedAt}} {{.State.Running}}", "keeper"])).stdout.trim();
    const before = await inspect();
    const dockerdPid = await host.docker.pid();

    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");

    const written = JSON.parse((await host.readFile("/etc/docker/daemon.json"))!);
    expect(written).toMatchObject(original);
    expect(written.runtimes.runsc.path).toBe("/usr/local/bin/runsc");
    expect(written["default-runtime"]).toBeUndefined();
    expect(await inspect()).toBe(before);
    expect(before).toMatch(/ true$/);
    expect(await host.docker.pid()).toBe(dockerdPid);
    expect(host.docker.log()).toContain("Got signal to reload configuration");
  });

  it("makes runsc the default runtime when asked, so a plain docker run is sandboxed", async () => {
    const host = await freshHost();
    const plan = testPlan(suite.mirror(), { docker: { defaultRuntime: true } });
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const r = await host.docker.cli(["run", "--rm", "--network=none", "local/busybox:latest", "uname", "-r"]);
    expect(r.stdout.trim()).toBe("4.4.0");
  });
});

describe("idempotence", () => {
  it("a second run of every step changes nothing, downloads nothing and reloads nothing", async () => {
    const host = await freshHost({ containerd: true });
    const plan = testPlan(suite.mirror(), { containerd: { enabled: true } });
    for (const step of ["install", "configure-docker", "configure-containerd"] as const) await mustRun(host, plan, step);
    // No systemd here: the step reports restartRequired and the operator restarts containerd.
    await host.containerd.restart();
    await mustRun(host, plan, "verify");

    const files = [...INSTALLED, "/etc/docker/daemon.json", "/etc/containerd/config.toml", "/etc/containerd/runsc.toml"];
    const before = await fingerprint(host, files);
    const logSize = host.docker.log().length;
    suite.mirror().clearRequests();

    for (const step of ["install", "configure-docker", "configure-containerd"] as const) {
      const again = await mustRun(host, plan, step);
      expect(again.json, step).toMatchObject({ step, changed: false });
      expect(again.stderr, step).toMatch(/nothing changed/);
    }
    expect(await fingerprint(host, files)).toEqual(before);
    expect(suite.mirror().downloads()).toEqual([]);
    expect(host.docker.log().slice(logSize)).not.toContain("Got signal to reload configuration");
  });
});

describe("bad releases leave the host as it was", () => {
  it.each([
    ["archiveBadChecksum", /checksum/i],
    ["looseBadChecksum", /checksum/i],
    ["missing", /404/],
    ["archiveTruncated", /download|curl|truncat/i],
  ] as const)("%s: one clear error line, nothing installed", async (fixture, message) => {
    const host = await freshHost();
    const plan = testPlan(suite.mirror(), { version: suite.mirror().versions[fixture] });
    const r = await runStep(host, plan, "install");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor install: error: /);
    expect(lastLine(r.stderr)).toMatch(message);
    expect(r.stdout).toBe("");
    expect((await host.exec(["ls", "-A", "/usr/local/bin"])).stdout).toBe("");
    expect((await host.sh("ls -A /tmp | grep -c pulumi-gvisor || true")).stdout.trim()).toBe("0");
  });
});

describe("runsc flags are checked against the installed binary", () => {
  it.each([
    [{ extraFlags: { "no-such-flag": "1" } }, /no-such-flag/],
    [{ platform: "systrap" as const }, /systrap.*ptrace, kvm/],
  ])("%j is refused by name before any config is written", async (runsc, message) => {
    const host = await freshHost({ daemonJson: '{"debug": false}\n' });
    // runsc 20221219, which has no systrap (trixie and sid default to runsc 20240729, which has).
    const plan = testPlan(suite.mirror(), { version: suite.mirror().versions.archive, runsc });
    await mustRun(host, plan, "install");
    const before = await fingerprint(host, ["/etc/docker/daemon.json"]);
    const r = await runStep(host, plan, "configure-docker");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor configure-docker: error: /);
    expect(lastLine(r.stderr)).toMatch(message);
    expect(lastLine(r.stderr)).toContain("0.0~20221219.0");
    expect(await fingerprint(host, ["/etc/docker/daemon.json"])).toEqual(before);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
  });
});

describe("a daemon.json that dockerd refuses", () => {
  it("is rolled back and dockerd keeps serving the runtimes it had", async () => {
    const host = await freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    // An admin's typo that dockerd has not read yet: it refuses the next reload.
    const broken = '{\n  "log-levle": "debug"\n}\n';
    await host.writeFile("/etc/docker/daemon.json", broken);
    const before = await host.docker.runtimes();

    const r = await runStep(host, plan, "configure-docker");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor configure-docker: error: .*dockerd/);
    expect(await host.readFile("/etc/docker/daemon.json")).toBe(broken);
    expect(await host.docker.runtimes()).toEqual(before);
    const ok = await host.docker.cli(["run", "--rm", "--network=none", "local/busybox:latest", "true"]);
    expect(ok.code).toBe(0);
  });
});

describe("containerd", () => {
  it("gets a config the real containerd parses, with the runsc runtime in its dump, and comes up on it", async () => {
    const host = await freshHost({ containerd: true });
    const plan = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });
    await mustRun(host, plan, "install");
    const r = await mustRun(host, plan, "configure-containerd");
    expect(r.json).toMatchObject({ step: "configure-containerd", changed: true, configVersion: 2 });

    expect(r.json?.restartRequired).toBe(true); // containerd runs, and there is no systemd to restart it
    const dump = await host.containerd.configDump();
    expect(dump.code).toBe(0);
    const parsed = parse(dump.stdout) as any;
    expect(parsed.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runsc).toMatchObject({
      runtime_type: "io.containerd.runsc.v1",
      options: { TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: "/etc/containerd/runsc.toml" },
    });
    await host.containerd.restart();
    expect(host.containerd.log()).not.toMatch(/level=fatal/);
    const runscToml = (await host.readFile("/etc/containerd/runsc.toml"))!;
    expect(runscToml).toMatch(/^\[runsc_config\]\n {2}network = "none"$/m);

    const verify = await mustRun(host, plan, "verify");
    expect(verify.json?.containerd).toMatchObject({ configVersion: 2, runtimeConfigured: true });
    expect(verify.json?.isolated).toBe(true);
  });
});

describe("uninstall", () => {
  it("restores daemon.json's original bytes, removes the runtime and the binaries", async () => {
    const original = '{\n    "log-level": "warn",\n    "labels": ["a=b"]\n}\n';
    const host = await freshHost({ daemonJson: original });
    const plan = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker", "verify"] as const) await mustRun(host, plan, step);
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");

    const r = await mustRun(host, plan, "uninstall");
    expect(r.json).toMatchObject({ step: "uninstall", changed: true });
    expect(await host.readFile("/etc/docker/daemon.json")).toBe(original);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
    for (const f of INSTALLED) expect(await host.stat(f)).toBeUndefined();
    const again = await mustRun(host, plan, "uninstall");
    expect(again.json).toMatchObject({ changed: false });
  });
});

describe("uninstall while sandboxes run", () => {
  it("is refused, changing nothing, until the containers are stopped", async () => {
    const host = await freshHost();
    const plan = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker"] as const) await mustRun(host, plan, step);
    const started = await host.docker.cli(["run", "-d", "--name", "boxed", "--runtime=runsc", "--network=none", "local/busybox:latest", "sleep", "600"]);
    expect(started.code).toBe(0);
    const before = await fingerprint(host, [...INSTALLED, "/etc/docker/daemon.json"]);

    const r = await runStep(host, plan, "uninstall");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor uninstall: error: 1 running container\(s\) use the runsc runtime.*stop them first/);
    expect(await fingerprint(host, [...INSTALLED, "/etc/docker/daemon.json"])).toEqual(before);

    expect((await host.docker.cli(["rm", "-f", "boxed"])).code).toBe(0);
    await mustRun(host, plan, "uninstall");
    for (const f of INSTALLED) expect(await host.stat(f)).toBeUndefined();
  });
});

describe("verify on a broken runtime", () => {
  it("reports isolated: false with the reason, and fails only when enforcing", async () => {
    const host = await freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    // Force an unknown flag into the runtime by hand, as a careless edit would.
    const conf = JSON.parse((await host.readFile("/etc/docker/daemon.json"))!);
    conf.runtimes.runsc.runtimeArgs.push("--bogus=1");
    await host.writeFile("/etc/docker/daemon.json", JSON.stringify(conf));
    expect((await host.docker.reload()).ok).toBe(true);

    const lenient = testPlan(suite.mirror(), { verify: { enforce: false } });
    const r = await mustRun(host, lenient, "verify");
    expect(r.json).toMatchObject({ isolated: false, runtimes: [{ name: "runsc", ran: false }] });
    expect(r.json?.failures.join("\n")).toMatch(/docker\/runsc: .*bogus/);
    // The component parses this report into its typed output.
    expect(parseVerification(r.stdout)).toMatchObject({ isolated: false, runtimes: [{ ran: false, sandboxKernel: "", kallsymsHidden: false }] });

    const strict = await runStep(host, plan, "verify");
    expect(strict.code).not.toBe(0);
    expect(JSON.parse(strict.stdout).isolated).toBe(false);
    expect(lastLine(strict.stderr)).toMatch(/^pulumi-gvisor verify: error: /);
  });
});
