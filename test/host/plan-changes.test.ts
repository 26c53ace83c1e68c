/**
 * Plan changes on real test hosts: a step told to do something else first
 * undoes what its record says it did (issue 9, finding 4), and uninstall after
 * the change is exact. Every check is on the host's bytes.
 */
import { describe, expect, it } from "vitest";
import { useHostSuite } from "./support/suite";
import { lastLine, mustRun, runStep, testPlan } from "./support/steps";
import { snapshot } from "./support/faults";

const suite = useHostSuite();
const DAEMON = "/etc/docker/daemon.json";
const STATE = "/var/lib/pulumi-gvisor";
const defaultRuntime = async (host: Awaited<ReturnType<typeof suite.freshHost>>) =>
  (await host.docker.cli(["info", "--format", "{{.DefaultRuntime}}"])).stdout.trim();

describe("Docker turned off", () => {
  it("takes our runtime and the default-runtime we set out of daemon.json, giving back the exact original", async () => {
    const original = '{\n  "default-runtime": "runc",\n  "debug": true\n}\n';
    const host = await suite.freshHost({ daemonJson: original });
    const on = testPlan(suite.mirror(), { docker: { defaultRuntime: true } });
    for (const step of ["install", "configure-docker"] as const) await mustRun(host, on, step);
    expect(await defaultRuntime(host)).toBe("runsc");

    const off = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });
    const r = await mustRun(host, off, "configure-docker");
    expect(r.json).toMatchObject({ changed: true, skipped: true, undone: [DAEMON] });
    expect(await host.readFile(DAEMON)).toBe(original);
    expect(await defaultRuntime(host)).toBe("runc");
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
    expect((await mustRun(host, off, "configure-docker")).json).toMatchObject({ changed: false, skipped: true });
  });

  it("after an admin's edit: only our entry comes out, the earlier default comes back, their edit stays", async () => {
    const host = await suite.freshHost({ daemonJson: '{"default-runtime": "runc"}\n' });
    const on = testPlan(suite.mirror(), { docker: { defaultRuntime: true } });
    for (const step of ["install", "configure-docker"] as const) await mustRun(host, on, step);
    const edited = { ...JSON.parse((await host.readFile(DAEMON))!), "log-level": "warn" };
    await host.writeFile(DAEMON, `${JSON.stringify(edited)}\n`);

    await mustRun(host, testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } }), "configure-docker");
    expect(JSON.parse((await host.readFile(DAEMON))!)).toEqual({ "default-runtime": "runc", "log-level": "warn" });
    expect(await defaultRuntime(host)).toBe("runc");
  });
});

describe("Docker's configPath moved", () => {
  it("restores file A, configures file B with B's own original, and uninstall is exact for both", async () => {
    // No dockerd: a dockerd reads one file, so the bookkeeping of two is checked on the files alone.
    const host = await suite.freshHost({ docker: false, daemonJson: '{\n  "debug": true\n}\n' });
    const B = "/etc/docker/other.json";
    await host.writeFile(B, '{\n    "labels": ["b"]\n}\n');
    const before = await snapshot(host, [DAEMON, B]);
    const a = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker"] as const) await mustRun(host, a, step);
    expect(JSON.parse((await host.readFile(DAEMON))!).runtimes.runsc).toBeDefined();

    const b = testPlan(suite.mirror(), { docker: { configPath: B } });
    await mustRun(host, b, "configure-docker");
    expect(await host.readFile(DAEMON)).toBe('{\n  "debug": true\n}\n');
    expect(JSON.parse((await host.readFile(B))!)).toMatchObject({ labels: ["b"], runtimes: { runsc: {} } });

    await mustRun(host, b, "uninstall");
    expect(await snapshot(host, [DAEMON, B])).toEqual(before);
    expect(await host.stat(STATE)).toBeUndefined();
  });
});

describe("Docker's runtimeName changed", () => {
  it("unregisters the old runtime before registering the new one", async () => {
    const original = '{\n  "debug": false\n}\n';
    const host = await suite.freshHost({ daemonJson: original });
    const first = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker"] as const) await mustRun(host, first, step);
    const renamed = testPlan(suite.mirror(), { docker: { runtimeName: "gvisor" } });
    await mustRun(host, renamed, "configure-docker");
    const runtimes = await host.docker.runtimes();
    expect(Object.keys(runtimes)).toContain("gvisor");
    expect(Object.keys(runtimes)).not.toContain("runsc");
    expect(Object.keys(JSON.parse((await host.readFile(DAEMON))!).runtimes)).toEqual(["gvisor"]);
    await mustRun(host, renamed, "uninstall");
    expect(await host.readFile(DAEMON)).toBe(original);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("gvisor");
  });
});

describe("a plan change the installed runsc refuses", () => {
  it("leaves the earlier configuration in place (the old record is undone only after the new plan's checks)", async () => {
    const host = await suite.freshHost();
    const first = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker"] as const) await mustRun(host, first, step);
    const before = await host.readFile(DAEMON);
    const bad = testPlan(suite.mirror(), { docker: { runtimeName: "gvisor" }, runsc: { extraFlags: { "no-such-flag": "1" } } });
    const r = await runStep(host, bad, "configure-docker");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/no-such-flag/);
    expect(await host.readFile(DAEMON)).toBe(before);
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");
  });
});

describe("containerd changes", () => {
  const CONFIG = "/etc/containerd/config.toml";
  const TOML = "/etc/containerd/runsc.toml";
  const original = 'version = 2\n\n[metrics]\n  address = ""\n';

  it("turned off: config.toml gets its exact bytes back and runsc.toml goes", async () => {
    const host = await suite.freshHost({ docker: false, containerdConfig: original });
    const before = await snapshot(host, [CONFIG, TOML]);
    const on = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });
    for (const step of ["install", "configure-containerd"] as const) await mustRun(host, on, step);
    expect(await host.readFile(CONFIG)).toMatch(/BEGIN pulumi-gvisor runtime runsc/);

    // The plan must keep one engine: Docker on, containerd off.
    const off = testPlan(suite.mirror());
    const r = await mustRun(host, off, "configure-containerd");
    expect(r.json).toMatchObject({ changed: true, skipped: true });
    expect(await snapshot(host, [CONFIG, TOML])).toEqual(before);
  });

  it("runtimeName and runscConfigPath changed: the old block and file go, the new ones come, uninstall is exact", async () => {
    const host = await suite.freshHost({ docker: false, containerdConfig: original });
    const NEW_TOML = "/etc/containerd/gvisor.toml";
    const before = await snapshot(host, [CONFIG, TOML, NEW_TOML]);
    const first = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });
    for (const step of ["install", "configure-containerd"] as const) await mustRun(host, first, step);
    const changed = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true, runtimeName: "gvisor", runscConfigPath: NEW_TOML } });
    await mustRun(host, changed, "configure-containerd");
    const text = (await host.readFile(CONFIG))!;
    expect(text).toMatch(/BEGIN pulumi-gvisor runtime gvisor/);
    expect(text).not.toMatch(/BEGIN pulumi-gvisor runtime runsc/);
    expect(await host.stat(TOML)).toBeUndefined();
    expect(await host.stat(NEW_TOML)).toBeDefined();
    await mustRun(host, changed, "uninstall");
    expect(await snapshot(host, [CONFIG, TOML, NEW_TOML])).toEqual(before);
  });

  it("configPath moved: the old file is restored, the new one configured, uninstall is exact", async () => {
    const host = await suite.freshHost({ docker: false, containerdConfig: original });
    const OTHER = "/etc/containerd/other.toml";
    const before = await snapshot(host, [CONFIG, OTHER, TOML]);
    const first = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });
    for (const step of ["install", "configure-containerd"] as const) await mustRun(host, first, step);
    const moved = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true, configPath: OTHER } });
    await mustRun(host, moved, "configure-containerd");
    expect(await host.readFile(CONFIG)).toBe(original);
    expect(await host.readFile(OTHER)).toMatch(/BEGIN pulumi-gvisor runtime runsc/);
    await mustRun(host, moved, "uninstall");
    expect(await snapshot(host, [CONFIG, OTHER, TOML])).toEqual(before);
  });
});

describe("installDir moved over a foreign runsc", () => {
  it("takes ours out of the old dir, keeps the foreign one aside in the new, and uninstall puts it back", async () => {
    const host = await suite.freshHost({ docker: false });
    const NEW = "/opt/gvisor/bin";
    await host.writeFile(`${NEW}/runsc`, "#!/bin/sh\necho foreign runsc\n", 0o755);
    const before = await snapshot(host, ["/usr/local/bin", "/opt/gvisor"]);
    await mustRun(host, testPlan(suite.mirror()), "install");
    expect(await host.stat("/usr/local/bin/runsc")).toBeDefined();

    const moved = testPlan(suite.mirror(), { installDir: NEW });
    await mustRun(host, moved, "install");
    expect((await host.exec(["ls", "-A", "/usr/local/bin"])).stdout).toBe("");
    expect((await host.exec([`${NEW}/runsc`, "--version"])).stdout).toMatch(/runsc version/);
    await mustRun(host, moved, "uninstall");
    expect(await snapshot(host, ["/usr/local/bin", "/opt/gvisor"])).toEqual(before);
    expect(await host.readFile(`${NEW}/runsc`)).toBe("#!/bin/sh\necho foreign runsc\n");
  });
});
