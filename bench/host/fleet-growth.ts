/**
 * Part 3, fleet growth: 1, 4 and 8 fresh test hosts deployed at once (the
 * hosts start before the clock does), every host's step graph run by an
 * EngineRunner bounded by the real engine's default parallelism; time until
 * every host verified. Sizes run in a rotating order over rounds.
 */
import { startTestHost, type Mirror, type TestHost } from "../../test/host/harness";
import { testPlan } from "../../test/host/support/steps";
import { median, ratio, timed } from "../stats";
import { ENGINE_DEFAULT_PARALLELISM, type EngineRunner } from "./engine-runner";
import { hostJobs } from "./host-steps";

export interface FleetGrowthResult {
  /** Which runner drove the steps. */
  runner: string;
  parallelism: number;
  rounds: number;
  sizes: { hosts: number; allVerifiedMs: number; vsOneHost: number }[];
}

async function deploy(mirror: Mirror, n: number, runner: EngineRunner, parallelism: number): Promise<number> {
  const hosts: TestHost[] = [];
  try {
    for (let i = 0; i < n; i++) hosts.push(await startTestHost());
    const plan = testPlan(mirror);
    const jobs = hosts.flatMap((h, i) => hostJobs(`h${i}`, h, plan));
    return (await timed(() => runner(jobs, parallelism)))[0];
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
}

export async function fleetGrowth(
  mirror: Mirror,
  opts: { sizes: readonly number[]; rounds: number; runner: EngineRunner; runnerName: string; parallelism?: number },
  log: (line: string) => void,
): Promise<FleetGrowthResult> {
  const parallelism = opts.parallelism ?? ENGINE_DEFAULT_PARALLELISM;
  const got = new Map<number, number[]>(opts.sizes.map((s) => [s, []]));
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? opts.sizes : [...opts.sizes].reverse();
    for (const n of order) {
      const ms = await deploy(mirror, n, opts.runner, parallelism);
      got.get(n)!.push(ms);
      log(`fleet ${n} hosts: all verified in ${ms.toFixed(0)} ms`);
    }
  }
  const one = median(got.get(opts.sizes[0]!)!);
  return {
    runner: opts.runnerName,
    parallelism,
    rounds: opts.rounds,
    sizes: opts.sizes.map((n) => ({ hosts: n, allVerifiedMs: median(got.get(n)!), vsOneHost: ratio(median(got.get(n)!), one) })),
  };
}
