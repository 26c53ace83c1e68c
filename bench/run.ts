/**
 * `npm run bench` (root, Debian): side-by-side timings on a real test host.
 *
 * 1. Container start-to-exit, `docker run --rm … true`, runc vs runsc,
 *    interleaved so both see the same machine load; reported as medians and
 *    their ratio (what sandboxing costs a short-lived job here).
 * 2. The host steps, first run vs an unchanged re-run (what a `pulumi up`
 *    that changed nothing costs on the host).
 */
import { performance } from "node:perf_hooks";
import { startMirror, startTestHost } from "../test/host/harness";
import { mustRun, testPlan } from "../test/host/support/steps";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

async function main() {
  const mirror = await startMirror();
  const host = await startTestHost();
  try {
    const plan = testPlan(mirror);
    const steps = ["install", "configure-docker", "verify"] as const;
    const first: number[] = [];
    for (const step of steps) first.push((await timed(() => mustRun(host, plan, step)))[0]);
    const again: number[] = [];
    for (const step of steps) again.push((await timed(() => mustRun(host, plan, step)))[0]);

    const run = async (runtime: string) => {
      const [t, r] = await timed(() => host.docker.cli(["run", "--rm", "--network=none", `--runtime=${runtime}`, "local/busybox:latest", "true"]));
      if (r.code !== 0) throw new Error(`docker run --runtime=${runtime}: ${r.stderr}`);
      return t;
    };
    await run("runc");
    await run("runsc"); // warm both paths once
    const runc: number[] = [];
    const runsc: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      runc.push(await run("runc"));
      runsc.push(await run("runsc"));
    }

    console.log(`\ncontainer start-to-exit (docker run --rm … true), ${ROUNDS} interleaved rounds`);
    console.log(`  runc   median ${ms(median(runc))}`);
    console.log(`  runsc  median ${ms(median(runsc))}`);
    console.log(`  ratio  runsc/runc = ${(median(runsc) / median(runc)).toFixed(2)}x`);
    console.log(`\nhost steps over SSH: first run vs unchanged re-run`);
    steps.forEach((s, i) => console.log(`  ${s.padEnd(17)} ${ms(first[i]).padStart(8)} → ${ms(again[i]).padStart(8)}  (${(again[i] / first[i]).toFixed(2)}x)`));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    console.log(`  ${"whole chain".padEnd(17)} ${ms(sum(first)).padStart(8)} → ${ms(sum(again)).padStart(8)}  (${(sum(again) / sum(first)).toFixed(2)}x)`);
  } finally {
    await host.stop();
    await mirror.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
