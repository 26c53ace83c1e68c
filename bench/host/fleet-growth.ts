/**
 * Part 3, fleet growth: 1, 4 and 8 fresh test hosts (started before the
 * clock does) deployed at once by one program of N `Host` components through
 * the engine model, at the real engine's default parallelism; time until
 * every host verified (the `pulumi up` returned with every verify step done).
 * Sizes run in a rotating order over rounds.
 */
import { startTestHost, type Mirror, type TestHost } from "../../test/host/harness";
import { parseVerification } from "../../src/plan/verification";
import { median, ratio } from "../stats";
import { ENGINE_DEFAULT_PARALLELISM, benchHostArgs, hostsProgram, newModel, sessions, timedUp } from "./engine-host";

export interface FleetGrowthResult {
  /** What drove the hosts. */
  runner: string;
  parallelism: number;
  rounds: number;
  sizes: { hosts: number; allVerifiedMs: number; vsOneHost: number; sessions: number }[];
}

async function deploy(mirror: Mirror, n: number, parallelism: number): Promise<{ ms: number; sessions: number }> {
  const hosts: TestHost[] = [];
  try {
    for (let i = 0; i < n; i++) hosts.push(await startTestHost());
    const model = newModel(parallelism);
    const [ms, r] = await timedUp(model, hostsProgram(hosts.map((h) => benchHostArgs(mirror, h))));
    for (let i = 0; i < n; i++) {
      const v = parseVerification(model.resource(`h${i}-verify`).outputs.stdout);
      if (!v.isolated) throw new Error(`fleet of ${n}: host h${i} verified but is not isolated`);
    }
    return { ms, sessions: sessions(r).length };
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
}

export async function fleetGrowth(
  mirror: Mirror,
  opts: { sizes: readonly number[]; rounds: number; parallelism?: number },
  log: (line: string) => void,
): Promise<FleetGrowthResult> {
  const parallelism = opts.parallelism ?? ENGINE_DEFAULT_PARALLELISM;
  const got = new Map<number, { ms: number; sessions: number }[]>(opts.sizes.map((s) => [s, []]));
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? opts.sizes : [...opts.sizes].reverse();
    for (const n of order) {
      const d = await deploy(mirror, n, parallelism);
      got.get(n)!.push(d);
      log(`fleet ${n} hosts: all verified in ${d.ms.toFixed(0)} ms (${d.sessions} SSH sessions)`);
    }
  }
  const med = (n: number) => median(got.get(n)!.map((d) => d.ms));
  const one = med(opts.sizes[0]!);
  return {
    runner: "engine model",
    parallelism,
    rounds: opts.rounds,
    sizes: opts.sizes.map((n) => ({ hosts: n, allVerifiedMs: med(n), vsOneHost: ratio(med(n), one), sessions: got.get(n)![0]!.sessions })),
  };
}
