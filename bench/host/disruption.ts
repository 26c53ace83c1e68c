/**
 * Part 4, disruption: on two identical fresh hosts, the package and the
 * hand-written routine go through the same day-2 life (install an old-layout
 * release, change a runsc option, upgrade to a new-layout release, uninstall)
 * while a runc container runs throughout, and a runsc container from install
 * until before uninstall (the package refuses to uninstall under running
 * sandboxes; both methods get the same treatment). The package's life is a
 * `Host` through the engine model: three `pulumi up`s and a `pulumi destroy`,
 * each running what the engine runs for that change. After each phase: which
 * of the containers that ran before it were stopped or restarted (no longer
 * running with the same start time), and whether dockerd's pid changed.
 */
import type { HostPlan } from "../../src/plan/host-plan";
import { startTestHost, type Mirror, type TestHost } from "../../test/host/harness";
import { testPlan } from "../../test/host/support/steps";
import { HAND_RESTART, handConfigure, handInstall, handUnconfigure, handVerify } from "../hand-written";
import { benchHostArgs, hostsProgram, newModel, sessions, timedUp } from "./engine-host";
import { handInputFor } from "./host-steps";
import { restartDockerd, runningSince, startWorkload } from "./probes";

export const PHASES = ["install", "option change", "upgrade", "uninstall"] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseOutcome {
  phase: Phase;
  /** Containers running when the phase began. */
  runningBefore: number;
  /** Of those, stopped or restarted by the phase. */
  disrupted: number;
  dockerdRestarts: number;
  /** SSH sessions the phase opened (the package: what the engine ran for the change). */
  sessions: number;
}

export interface DisruptionResult {
  package: PhaseOutcome[];
  handWritten: PhaseOutcome[];
  /** The hand-written routine restarts Docker with this command on a systemd host; the bench restarts the test host's dockerd the same way. */
  handRestart: string;
}

/** One method's life on one host: a function per phase that returns the SSH sessions it opened. */
type Method = (host: TestHost) => (phase: Phase) => Promise<number>;

function plans(mirror: Mirror): Record<Exclude<Phase, "uninstall">, HostPlan> {
  const old = { version: mirror.versions.loose };
  return {
    install: testPlan(mirror, old),
    "option change": testPlan(mirror, { ...old, runsc: { debug: true } }),
    upgrade: testPlan(mirror, { runsc: { debug: true } }),
  };
}

const packageMethod =
  (mirror: Mirror): Method =>
  (host) => {
    const model = newModel();
    const old = { version: mirror.versions.loose };
    const args = {
      install: benchHostArgs(mirror, host, old),
      "option change": benchHostArgs(mirror, host, { ...old, runsc: { debug: true } }),
      upgrade: benchHostArgs(mirror, host, { runsc: { debug: true } }),
    };
    return async (phase) => {
      if (phase !== "uninstall") return sessions((await timedUp(model, hostsProgram([args[phase]])))[1]).length;
      const r = await model.destroy();
      if (r.error) throw new Error(`destroy failed: ${r.error}`);
      return sessions(r).length;
    };
  };

const handMethod =
  (mirror: Mirror): Method =>
  (host) => {
    const p = plans(mirror);
    return async (phase) => {
      const input = phase === "uninstall" ? undefined : handInputFor(mirror, p[phase]);
      const script =
        input === undefined ? handUnconfigure() : phase === "option change" ? handConfigure(input) : `${handInstall(input)}\n${handConfigure(input)}`;
      const r = await host.run(script);
      if (r.code !== 0) throw new Error(`hand-written ${phase} failed: ${r.stderr}`);
      await restartDockerd(host); // the guide's `${HAND_RESTART}`
      // Sessions: the guide's commands, one each (script, restart[, verify]).
      if (input === undefined) return 2;
      const v = await host.run(handVerify(input));
      if (v.code !== 0) throw new Error(`hand-written verify after ${phase} failed: ${v.stderr}`);
      return 3;
    };
  };

async function life(method: Method): Promise<PhaseOutcome[]> {
  const host = await startTestHost();
  try {
    const run = method(host);
    const out: PhaseOutcome[] = [];
    const workloads = new Map<string, string>(); // container id → start time
    const ensure = async (runtime: string, key: string) => {
      for (const [id, since] of workloads) if (id.startsWith(`${key}:`) && (await runningSince(host, id.slice(key.length + 1))) === since) return;
      for (const id of [...workloads.keys()]) if (id.startsWith(`${key}:`)) workloads.delete(id);
      const id = await startWorkload(host, runtime);
      workloads.set(`${key}:${id}`, (await runningSince(host, id))!);
    };
    for (const phase of PHASES) {
      await ensure("runc", "runc");
      if (phase === "option change" || phase === "upgrade") await ensure("runsc", "runsc");
      if (phase === "uninstall") {
        for (const key of [...workloads.keys()].filter((k) => k.startsWith("runsc:"))) {
          await host.docker.cli(["rm", "-f", key.slice("runsc:".length)]);
          workloads.delete(key);
        }
      }
      const pid = await host.docker.pid();
      const opened = await run(phase);
      let disrupted = 0;
      for (const [key, since] of workloads) if ((await runningSince(host, key.slice(key.indexOf(":") + 1))) !== since) disrupted += 1;
      out.push({ phase, runningBefore: workloads.size, disrupted, dockerdRestarts: (await host.docker.pid()) === pid ? 0 : 1, sessions: opened });
    }
    return out;
  } finally {
    await host.stop();
  }
}

export async function disruption(mirror: Mirror): Promise<DisruptionResult> {
  return { package: await life(packageMethod(mirror)), handWritten: await life(handMethod(mirror)), handRestart: HAND_RESTART };
}
