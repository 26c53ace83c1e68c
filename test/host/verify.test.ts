/**
 * The verify step cannot be fooled by an image: on real test hosts it checks
 * from the host side that dockerd's runtime is the installed runsc and that a
 * process of that runsc served the probe container.
 */
import { describe, expect, it } from "vitest";
import { parseVerification } from "../../src/plan/verification";
import { TestHost } from "./harness";
import { useHostSuite } from "./support/suite";
import { lastLine, mustRun, runStep, testPlan } from "./support/steps";

const suite = useHostSuite();

/**
 * An image that prints what gVisor would (kernel 4.4.0, kallsyms hidden)
 * whatever runs it: its /bin/sh is a script that ignores the probe and lies.
 * busybox's sh runs its own applets before PATH, so faking `uname` is not enough.
 */
async function buildLyingImage(host: TestHost): Promise<string> {
  const liar = ["#!/bin/busybox ash", "echo 4.4.0", "echo kallsyms=hidden", "echo probe-end", "sleep 3", ""].join("\n");
  const make = await host.docker.cli([
    "run",
    "--name",
    "liar",
    "local/busybox:latest",
    "sh",
    "-c",
    `rm /bin/sh && printf '%s' '${liar}' >/bin/sh && chmod 755 /bin/sh`,
  ]);
  expect(make.code, make.stderr).toBe(0);
  expect((await host.docker.cli(["commit", "liar", "local/liar:latest"])).code).toBe(0);
  expect((await host.docker.cli(["rm", "liar"])).code).toBe(0);
  // Under plain runc it prints exactly what the image-only checks wanted to see.
  const shown = await host.docker.cli(["run", "--rm", "local/liar:latest", "sh", "-c", "uname -r"]);
  expect(shown.stdout).toBe("4.4.0\nkallsyms=hidden\nprobe-end\n");
  return "local/liar:latest";
}

/** Points daemon.json's runtime `runsc` at another executable and reloads dockerd. */
async function repointRuntime(host: TestHost, path: string): Promise<void> {
  const conf = JSON.parse((await host.readFile("/etc/docker/daemon.json"))!);
  conf.runtimes.runsc = { path };
  await host.writeFile("/etc/docker/daemon.json", JSON.stringify(conf));
  expect((await host.docker.reload()).ok).toBe(true);
  expect((await host.docker.runtimes()).runsc).toMatchObject({ path });
}

const probesLeft = async (host: TestHost) => (await host.docker.cli(["ps", "-aq", "--filter", "name=pulumi-gvisor-verify"])).stdout.trim();

describe("verify: host-side evidence", () => {
  it("reports dockerd's runtime path and the runsc process that served the probe, and removes the probe", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const r = await mustRun(host, plan, "verify");
    expect(r.json).toMatchObject({
      schemaVersion: 2,
      isolated: true,
      runtimes: [{ name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: true }],
    });
    expect(parseVerification(r.stdout).runtimes[0]).toMatchObject({ runtimePath: "/usr/local/bin/runsc", sandboxProcess: true });
    expect(await probesLeft(host)).toBe("");
  });

  it("a runtime named runsc that points at runc fails, even when the image prints 4.4.0 and hides kallsyms", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const image = await buildLyingImage(host);
    const runc = (await host.sh("command -v runc")).stdout.trim();
    expect(runc).toMatch(/^\/.*runc$/);
    await repointRuntime(host, runc);

    const lenient = testPlan(suite.mirror(), { verify: { image, enforce: false } });
    const r = await mustRun(host, lenient, "verify");
    expect(r.json).toMatchObject({
      isolated: false,
      // The image fooled the in-container checks...
      runtimes: [{ name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: runc, sandboxProcess: false }],
    });
    // ...not the host-side ones.
    expect(r.json?.failures).toEqual([`docker/runsc: dockerd's runtime runsc runs ${runc}, not the installed /usr/local/bin/runsc`]);

    const strict = await runStep(host, testPlan(suite.mirror(), { verify: { image } }), "verify");
    expect(strict.code).not.toBe(0);
    expect(lastLine(strict.stderr)).toMatch(/^pulumi-gvisor verify: error: this host is not isolated: docker\/runsc: dockerd's runtime runsc runs /);
    expect(await probesLeft(host)).toBe("");
  });

  it("the right runtime path is not enough: the container must be served by a runsc process", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const image = await buildLyingImage(host);
    // The installed path now holds a wrapper that hands everything to runc.
    const runc = (await host.sh("command -v runc")).stdout.trim();
    await host.writeFile("/usr/local/bin/runsc", `#!/bin/sh\nexec ${runc} "$@"\n`);
    await host.exec(["chmod", "755", "/usr/local/bin/runsc"]);
    await repointRuntime(host, "/usr/local/bin/runsc");

    const r = await mustRun(host, testPlan(suite.mirror(), { verify: { image, enforce: false } }), "verify");
    expect(r.json).toMatchObject({
      isolated: false,
      runtimes: [{ ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: false }],
    });
    expect(r.json?.failures).toEqual([
      "docker/runsc: no process of the installed /usr/local/bin/runsc served the probe container, so it did not run under gVisor",
    ]);
    expect(await probesLeft(host)).toBe("");
  });
});

describe("verify: the runsc version", () => {
  /** The runsc the flavor's hosts run when a test names no release: Debian 12's on bookworm, Debian 13's on trixie and sid. */
  const FLAVOR_RUNSC = { bookworm: "0.0~20221219.0", trixie: "0.0~20240729.0", sid: "0.0~20240729.0" } as const;

  it(`reports the runsc ${suite.flavor.name} hosts run by default, and the new one after an upgrade`, async () => {
    const mirror = suite.mirror();
    const host = await suite.freshHost();
    const plan = testPlan(mirror);
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const r = await mustRun(host, plan, "verify");
    expect(r.json).toMatchObject({ runscVersion: FLAVOR_RUNSC[suite.flavor.name], isolated: true });
    expect(parseVerification(r.stdout).runscVersion).toBe(FLAVOR_RUNSC[suite.flavor.name]);

    // From runsc 20221219 to 20240729 on one host: verify reads the binary now installed.
    const old = testPlan(mirror, { version: mirror.versions.archive });
    await mustRun(host, old, "install");
    expect((await mustRun(host, old, "verify")).json).toMatchObject({ runscVersion: "0.0~20221219.0", isolated: true });
    const newer = testPlan(mirror, { version: mirror.versions.archiveRunsc20240729 });
    expect((await mustRun(host, newer, "install")).json).toMatchObject({ changed: true, runscVersion: "0.0~20240729.0" });
    const after = await mustRun(host, newer, "verify");
    expect(after.json).toMatchObject({ runscVersion: "0.0~20240729.0", isolated: true, failures: [] });
    expect(await probesLeft(host)).toBe("");
  });

  it.each([
    { platform: "systrap", directfs: true, overlay2: "root:self", hostUds: "all" },
    { platform: "systrap", directfs: false, overlay2: "none", hostUds: "open" },
  ] as const)("runsc 20240729 runs the probe with the options current gVisor has: %j", async (options) => {
    const mirror = suite.mirror();
    const host = await suite.freshHost();
    const plan = testPlan(mirror, { version: mirror.versions.archiveRunsc20240729, runsc: options });
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const flags = [`--platform=${options.platform}`, `--overlay2=${options.overlay2}`, `--host-uds=${options.hostUds}`, `--directfs=${options.directfs}`];
    const args: string[] = (await host.docker.runtimes()).runsc?.runtimeArgs ?? [];
    expect(args).toEqual(expect.arrayContaining(flags));
    const r = await mustRun(host, plan, "verify");
    expect(r.json).toMatchObject({
      runscVersion: "0.0~20240729.0",
      isolated: true,
      failures: [],
      runtimes: [{ ran: true, sandboxKernel: "4.4.0", sandboxProcess: true }],
    });

    // The flags reach the sandbox itself: its runsc process carries them.
    const run = await host.docker.cli(["run", "-d", "--runtime=runsc", "--network=none", "local/busybox:latest", "sleep", "60"]);
    expect(run.code, run.stderr).toBe(0);
    const sandbox = (await host.sh("ps -eo args | grep -- 'runsc-sandbox' | grep -v grep || true")).stdout;
    for (const f of flags) expect(sandbox).toContain(f);
    expect((await host.docker.cli(["rm", "-f", run.stdout.trim()])).code).toBe(0);
  });

  it("the same options against runsc 20221219 are refused by name, with its version, before any config is written", async () => {
    const mirror = suite.mirror();
    const host = await suite.freshHost();
    const plan = testPlan(mirror, { version: mirror.versions.archive, runsc: { directfs: true } });
    await mustRun(host, plan, "install");
    const r = await runStep(host, plan, "configure-docker");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toBe(
      "pulumi-gvisor configure-docker: error: runsc 0.0~20221219.0 at /usr/local/bin/runsc does not know the flag --directfs (from the plan's runsc flags); remove that flag or install a gVisor release that has it; nothing was written",
    );
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
  });
});

describe("verify: sandbox cost (measureOverhead)", () => {
  it("reports start, syscall and file medians under runsc and runc, their ratios and the platform, and leaves no container", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror(), { verify: { measureOverhead: true, overheadRounds: 3 } });
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const started = Date.now();
    const r = await mustRun(host, plan, "verify");
    const took = Date.now() - started;
    const v = parseVerification(r.stdout);
    expect(r.json?.schemaVersion).toBe(3);
    expect(v.isolated).toBe(true);
    expect(v.overhead).toHaveLength(1);
    const [m] = v.overhead!;
    expect(m, JSON.stringify(m)).toMatchObject({ engine: "docker", runtime: "runsc", baseline: "runc", rounds: 3 });
    expect(m.error).toBeUndefined();
    // Debian's runsc 20221219 has ptrace and kvm; newer builds (trixie, sid) default to systrap.
    expect(["systrap", "ptrace", "kvm"]).toContain(m.platform);
    // The plan sets no platform, so it is the installed runsc's default, as `runsc flags` shows it.
    const flags = (await host.sh("/usr/local/bin/runsc flags 2>&1")).stdout;
    expect(flags).toMatch(new RegExp(`-platform string\\n[^\\n]*\\(default "${m.platform}"\\)`));
    expect(r.stderr).toContain(`runsc platform ${m.platform} (runsc's default)`);
    for (const t of [m.sandboxed!, m.native!]) {
      for (const ms of [t.startMs, t.syscallMs, t.fileMs]) expect(ms).toBeGreaterThan(0);
    }
    for (const ratio of [m.ratios!.start, m.ratios!.syscall, m.ratios!.file]) expect(ratio).toBeGreaterThan(0);
    // The ratios are the medians' quotients, not figures of their own.
    // (within 5%: the medians are rounded to 0.1 ms, the ratios are taken before that).
    expect(Math.abs(m.ratios!.syscall / (m.sandboxed!.syscallMs / m.native!.syscallMs) - 1)).toBeLessThan(0.05);
    console.log(`sandbox cost on ${suite.flavor.name} (${m.platform}), verify took ${took} ms:`, JSON.stringify(m));
    expect((await host.docker.cli(["ps", "-aq"])).stdout.trim()).toBe("");
  });

  it("a platform the plan sets is read from dockerd's runtime args", async () => {
    const host = await suite.freshHost();
    // ptrace: the one platform the mirror's runsc 20221219 runs on here on every flavor.
    const mirror = suite.mirror();
    const plan = testPlan(mirror, { version: mirror.versions.archive, runsc: { platform: "ptrace" }, verify: { measureOverhead: true, overheadRounds: 1 } });
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    const r = await mustRun(host, plan, "verify");
    const [m] = parseVerification(r.stdout).overhead!;
    expect(m, JSON.stringify(m)).toMatchObject({ platform: "ptrace", rounds: 1 });
    expect(m.error).toBeUndefined();
    expect(r.stderr).toContain("runsc platform ptrace (from dockerd's runtime args)");
  });

  it("a measurement that fails is reported in the document and does not fail verify, even enforced", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-docker");
    // An image whose sh runs the probe but not the workload (as one lacking a tool would).
    const sh = ["#!/bin/busybox ash", 'case "$2" in *gv-started*) echo "no workload here" >&2; exit 9 ;; esac', 'exec /bin/busybox ash "$@"', ""].join("\n");
    const make = await host.docker.cli([
      "run",
      "--name",
      "picky",
      "local/busybox:latest",
      "sh",
      "-c",
      `rm /bin/sh && printf '%s' '${sh}' >/bin/sh && chmod 755 /bin/sh`,
    ]);
    expect(make.code, make.stderr).toBe(0);
    expect((await host.docker.cli(["commit", "picky", "local/picky:latest"])).code).toBe(0);
    expect((await host.docker.cli(["rm", "picky"])).code).toBe(0);

    const r = await mustRun(host, testPlan(suite.mirror(), { verify: { image: "local/picky:latest", measureOverhead: true, overheadRounds: 2 } }), "verify");
    const v = parseVerification(r.stdout);
    expect(v.isolated).toBe(true);
    expect(v.overhead).toEqual([
      {
        engine: "docker",
        runtime: "runsc",
        baseline: "runc",
        platform: expect.stringMatching(/^(systrap|ptrace|kvm)$/),
        rounds: 2,
        // The first run of the first round is under runc.
        error: "the workload container under --runtime=runc failed (exit 9): no workload here",
      },
    ]);
    expect(await host.docker.cli(["ps", "-aq", "--filter", "name=pulumi-gvisor-"]).then((p) => p.stdout.trim())).toBe("");
  });
});
