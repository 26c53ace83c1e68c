/**
 * The fault matrix on real test hosts. Each step is killed (SIGKILL to its
 * whole process tree) at every phase mark it prints, one run per mark; the
 * next run of the same step must succeed and leave the host as an unbroken
 * run does, and uninstall after it must give back the original host byte for
 * byte (configs, binaries, no records). Then the faults that are not kills:
 * a full state dir, a full /tmp, a read-only /etc, dockerd stopped, dockerd hung.
 */
import { afterAll, describe, expect, it } from "vitest";
import { HostPlan } from "../../src/plan/host-plan";
import { StepName } from "../../src/scripts/render";
import type { TestHost, TestHostOptions } from "./harness";
import { useHostSuite } from "./support/suite";
import { lastLine, mustRun, runStep, testPlan } from "./support/steps";
import { WATCHED, hangDockerd, resumeDockerd, runKilledAt, snapshot } from "./support/faults";

const suite = useHostSuite();
const DAEMON = "/etc/docker/daemon.json";
const FOREIGN_RUNSC = "#!/bin/sh\necho 'runsc version foreign'\n";
/** Everything but the state dir: what "the same as an unbroken run" compares. */
const CONFIGS = WATCHED.filter((p) => p !== "/var/lib/pulumi-gvisor");

interface Scenario {
  name: string;
  host: TestHostOptions;
  /** Shapes the original host (before its snapshot). */
  prepare?: (host: TestHost) => Promise<void>;
  /** Puts the host where the step under test starts (run before every attempt). */
  setup: (host: TestHost) => Promise<void>;
  plan: () => HostPlan;
  step: StepName;
}

const tally = { injected: 0, converged: 0 };
afterAll(() => {
  console.log(`fault matrix: ${tally.injected} kill points injected, ${tally.converged} converged`);
});

const run =
  (plan: () => HostPlan, ...steps: StepName[]) =>
  async (host: TestHost) => {
    for (const step of steps) await mustRun(host, plan(), step);
  };
const dockerPlan = () => testPlan(suite.mirror(), { docker: { defaultRuntime: true } });
const bothPlan = () => testPlan(suite.mirror(), { containerd: { enabled: true } });
const containerdPlan = () => testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });

const SCENARIOS: Scenario[] = [
  {
    name: "install over a foreign runsc",
    host: { docker: false },
    prepare: (host) => host.writeFile("/usr/local/bin/runsc", FOREIGN_RUNSC, 0o755),
    setup: async () => {},
    plan: () => testPlan(suite.mirror()),
    step: "install",
  },
  {
    name: "install moved to another installDir",
    host: { docker: false },
    prepare: async (host) => void (await host.sh("mkdir -p /opt/gvisor/bin")),
    setup: run(() => testPlan(suite.mirror()), "install"),
    plan: () => testPlan(suite.mirror(), { installDir: "/opt/gvisor/bin" }),
    step: "install",
  },
  {
    name: "configure-docker as the default runtime, over an existing daemon.json",
    host: { daemonJson: '{\n  "log-level": "warn",\n  "default-runtime": "runc"\n}\n' },
    setup: run(dockerPlan, "install"),
    plan: dockerPlan,
    step: "configure-docker",
  },
  {
    name: "configure-docker giving default-runtime back (reload through the transition)",
    host: { daemonJson: '{\n  "debug": false\n}\n' },
    setup: run(dockerPlan, "install", "configure-docker"),
    plan: () => testPlan(suite.mirror()),
    step: "configure-docker",
  },
  {
    name: "configure-docker with Docker turned off",
    host: { daemonJson: '{\n  "debug": false\n}\n' },
    setup: run(dockerPlan, "install", "configure-docker"),
    plan: containerdPlan,
    step: "configure-docker",
  },
  {
    name: "configure-containerd with containerd running",
    host: { docker: false, containerd: true, containerdConfig: 'version = 2\n\n[metrics]\n  address = ""\n' },
    setup: run(containerdPlan, "install"),
    plan: containerdPlan,
    step: "configure-containerd",
  },
  {
    name: "uninstall of Docker, containerd and the binaries",
    host: { containerd: true, daemonJson: '{\n  "debug": false\n}\n', containerdConfig: "version = 2\n" },
    setup: run(bothPlan, "install", "configure-docker", "configure-containerd"),
    plan: bothPlan,
    step: "uninstall",
  },
];

describe("a step killed at each phase mark converges on its next run", () => {
  for (const s of SCENARIOS) {
    it(s.name, { timeout: 600_000 }, async () => {
      const host = await suite.freshHost(s.host);
      await s.prepare?.(host);
      const original = await snapshot(host);
      // An unbroken run: its marks, and the host it leaves.
      await s.setup(host);
      const clean = await runKilledAt(host, s.plan(), s.step, 0);
      expect(clean.killed).toBe(false);
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.phases.length).toBeGreaterThan(0);
      const done = await snapshot(host, CONFIGS);
      await mustRun(host, s.plan(), "uninstall");
      expect(await snapshot(host), "an unbroken run and uninstall").toEqual(original);

      for (let n = 1; n <= clean.phases.length; n++) {
        const at = `killed at mark ${n} (${clean.phases[n - 1]})`;
        await s.setup(host);
        const killed = await runKilledAt(host, s.plan(), s.step, n);
        expect(killed.killed, at).toBe(true);
        tally.injected++;
        const again = await runStep(host, s.plan(), s.step);
        expect(again.code, `${at}, then re-run: ${again.stderr}`).toBe(0);
        expect(await snapshot(host, CONFIGS), `${at}: the re-run leaves the host as an unbroken run`).toEqual(done);
        await mustRun(host, s.plan(), "uninstall");
        expect(await snapshot(host), `${at}: uninstall gives back the original host`).toEqual(original);
        tally.converged++;
      }
    });
  }
});

describe("faults that are not kills", () => {
  it("a full state dir while the foreign runsc is kept aside: nothing installed, then converges", async () => {
    const host = await suite.freshHost({ docker: false });
    await host.writeFile("/usr/local/bin/runsc", `${FOREIGN_RUNSC}${"#".repeat(2 << 20)}\n`, 0o755);
    const original = await snapshot(host);
    expect((await host.sh("mkdir -p /var/lib/pulumi-gvisor && mount -t tmpfs -o size=1m tmpfs /var/lib/pulumi-gvisor")).code).toBe(0);
    const plan = testPlan(suite.mirror());
    const r = await runStep(host, plan, "install");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor install: error: could not keep a verified copy of the existing \/usr\/local\/bin\/runsc .*is it full\?/);
    expect(await snapshot(host, CONFIGS)).toEqual(original.filter((l) => !l.startsWith("/var/lib/pulumi-gvisor")));
    expect((await host.sh("mount -o remount,size=64m /var/lib/pulumi-gvisor")).code).toBe(0);
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "uninstall");
    expect(await snapshot(host, CONFIGS)).toEqual(original.filter((l) => !l.startsWith("/var/lib/pulumi-gvisor")));
  });

  it("a full /tmp: the steps fall back to /var/tmp and uninstall restores the host", async () => {
    const host = await suite.freshHost({ daemonJson: '{\n  "debug": false\n}\n' });
    const original = await snapshot(host);
    expect((await host.sh("mount -t tmpfs -o size=64k tmpfs /tmp && (dd if=/dev/zero of=/tmp/fill bs=4k 2>/dev/null || true)")).code).toBe(0);
    const plan = testPlan(suite.mirror());
    for (const step of ["install", "configure-docker", "verify", "uninstall"] as const) await mustRun(host, plan, step);
    expect(await snapshot(host)).toEqual(original);
  });

  it("a read-only /etc/docker: one clear line, daemon.json as it was, then converges", async () => {
    const originalJson = '{\n  "debug": false\n}\n';
    const host = await suite.freshHost({ daemonJson: originalJson });
    const original = await snapshot(host);
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    expect((await host.sh("mount --bind /etc/docker /etc/docker && mount -o remount,ro,bind /etc/docker")).code).toBe(0);
    const r = await runStep(host, plan, "configure-docker");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(
      /^pulumi-gvisor configure-docker: error: could not write \/etc\/docker\/daemon.json; check the file system \(read-only, full\?\)/,
    );
    expect(r.stdout).toBe("");
    expect(await host.readFile(DAEMON)).toBe(originalJson);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
    expect((await host.sh("umount /etc/docker")).code).toBe(0);
    await mustRun(host, plan, "configure-docker");
    await mustRun(host, plan, "uninstall");
    expect(await snapshot(host)).toEqual(original);
  });

  it("dockerd stopped: daemon.json is written for its next start, and uninstall restores it", async () => {
    const host = await suite.freshHost({ daemonJson: '{\n  "debug": false\n}\n' });
    const original = await snapshot(host);
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    expect(
      (await host.sh('kill -TERM "$(cat /var/run/docker.pid)"; i=0; while [ -e /var/run/docker.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done')).code,
    ).toBe(0);
    const r = await mustRun(host, plan, "configure-docker");
    expect(r.json).toMatchObject({ changed: true, dockerRunning: false, reloaded: false });
    await mustRun(host, plan, "uninstall");
    expect(await snapshot(host)).toEqual(original);
  });

  it("dockerd hung: the step gives up in bounded time with one line, then converges once dockerd answers", { timeout: 300_000 }, async () => {
    const originalJson = '{\n  "debug": false\n}\n';
    const host = await suite.freshHost({ daemonJson: originalJson });
    const original = await snapshot(host);
    const plan = testPlan(suite.mirror());
    await mustRun(host, plan, "install");
    hangDockerd(host);
    const started = Date.now();
    let r;
    try {
      r = await runStep(host, plan, "configure-docker");
    } finally {
      resumeDockerd(host);
    }
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(
      /^pulumi-gvisor configure-docker: error: dockerd did not take the new \/etc\/docker\/daemon.json \(docker info did not answer \(dockerd hung\?\)\)/,
    );
    await mustRun(host, plan, "configure-docker");
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");
    await mustRun(host, plan, "uninstall");
    expect(await snapshot(host)).toEqual(original);
  });
});
