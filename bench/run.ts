/**
 * `npm run bench [-- out.json]` (root, Debian; not part of `npm test`): what it
 * costs to create, keep and grow a gVisor fleet with this package, each
 * figure side by side with the alternative in the same run (interleaved,
 * medians), since the machine is noisy. Prints one table; writes JSON
 * (bench/results.json or the path given) and an SVG chart next to it.
 *
 *   1. program scale under the mock engine (child processes)   bench/program/scale.ts
 *   2. host time: cold, warm, hand-written routine, floor;
 *      bz2 vs zstd extraction                                    bench/host/host-time.ts
 *   3. fleet growth: N Hosts through the engine model          bench/host/fleet-growth.ts
 *   4. disruption of running containers                         bench/host/disruption.ts
 *   5. round trips per host                                     bench/program/round-trips.ts
 *   6. sandbox cost: start and micro-workloads, runsc vs runc   bench/host/sandbox-cost.ts
 *
 * `npm run bench -- --report [file.json]` re-renders the table and chart of an earlier run.
 *
 * Knobs: BENCH_PARTS (scale,host,fleet,disruption,trips,sandbox), BENCH_SCALE_SIZES
 * (1,10,100,500), BENCH_SCALE_ROUNDS (2; sizes over 100 get
 * BENCH_SCALE_BIG_ROUNDS, 1), BENCH_HOST_ROUNDS (3), BENCH_FLEET_SIZES (1,4,8),
 * BENCH_FLEET_ROUNDS (2), BENCH_SANDBOX_ROUNDS (5).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startMirror, type Mirror } from "../test/host/harness";
import { disruption } from "./host/disruption";
import { fleetGrowth } from "./host/fleet-growth";
import { extraction, hostTime } from "./host/host-time";
import { sandboxCost } from "./host/sandbox-cost";
import { roundTrips } from "./program/round-trips";
import { programScale } from "./program/scale";
import { renderChart } from "./report/chart";
import type { BenchResults, MachineInfo } from "./report/results";
import { renderTable, renderTargets, tableRows } from "./report/rows";

const PARTS = ["scale", "host", "fleet", "disruption", "trips", "sandbox"] as const;
type Part = (typeof PARTS)[number];

function numbers(name: string, fallback: string): number[] {
  const raw = process.env[name] ?? fallback;
  const xs = raw.split(",").map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((n) => !Number.isInteger(n) || n < 1 || n > 1000))
    throw new Error(`${name}: expected positive integers up to 1000 separated by commas, got "${raw}"`);
  return xs;
}
const count = (name: string, fallback: number) => numbers(name, String(fallback))[0]!;

function parts(): Set<Part> {
  const raw = process.env.BENCH_PARTS ?? PARTS.join(",");
  const want = raw.split(",").map((s) => s.trim());
  const bad = want.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (bad.length) throw new Error(`BENCH_PARTS: unknown part ${bad.map((b) => `"${b}"`).join(", ")}; parts are ${PARTS.join(", ")}`);
  return new Set(want as Part[]);
}

function firstLine(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 })
      .split("\n")[0]!
      .trim();
  } catch {
    return "absent";
  }
}

function machine(): MachineInfo {
  const pkg = (name: string) => (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), "utf8")) as { version: string }).version;
  return {
    cpus: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: firstLine(["sh", "-c", '. /etc/os-release && echo "$PRETTY_NAME"']),
    node: process.versions.node,
    versions: {
      "@pulumi/pulumi": pkg("@pulumi/pulumi"),
      "@pulumi/command": pkg("@pulumi/command"),
      "@pulumi/aws": pkg("@pulumi/aws"),
      docker: firstLine(["dockerd", "--version"]),
      runsc: firstLine(["runsc", "--version"]),
      openssh: firstLine(["sh", "-c", "ssh -V 2>&1"]),
      bzip2: firstLine(["sh", "-c", "bzip2 --help 2>&1 | head -n1"]),
      zstd: firstLine(["zstd", "--version"]),
    },
    commit: firstLine(["git", "rev-parse", "--short", "HEAD"]),
    loadAverage: { start: os.loadavg(), end: [] },
  };
}

/** Writes the JSON and the SVG beside it, and prints the table. */
function publish(results: BenchResults, out: string): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  const svg = out.replace(/\.json$/, "") + ".svg";
  fs.writeFileSync(svg, renderChart(results));
  const rows = tableRows(results);
  console.log(renderTable(rows));
  console.log(`\n${renderTargets(rows)}`);
  const load = (xs: number[]) => xs.map((l) => l.toFixed(1)).join(" ");
  console.log(
    `\n${(results.durationMs / 1000).toFixed(0)} s on ${results.machine.cores} × ${results.machine.cpus}, load ${load(results.machine.loadAverage.start)} → ${load(results.machine.loadAverage.end)}; wrote ${out} and ${svg}`,
  );
}

async function main() {
  if (process.argv[2] === "--report") {
    // Re-render the table and chart of an earlier run without measuring again.
    const file = path.resolve(process.argv[3] ?? path.join(__dirname, "results.json"));
    return publish(JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults, file);
  }
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, "results.json"));
  const want = parts();
  const t0 = Date.now();
  const log = (line: string) => console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}`);
  const settings: Record<string, string> = { parts: [...want].join(",") };
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith("BENCH_")) settings[k] = v ?? "";
  const results: BenchResults = { schemaVersion: 1, startedAt: new Date(t0).toISOString(), durationMs: 0, machine: machine(), settings };

  if (want.has("trips")) {
    results.roundTrips = await roundTrips();
    log("round trips counted");
  }
  if (want.has("scale")) {
    results.scale = await programScale(
      {
        sizes: numbers("BENCH_SCALE_SIZES", "1,10,100,500"),
        rounds: count("BENCH_SCALE_ROUNDS", 2),
        bigSize: 100,
        bigRounds: count("BENCH_SCALE_BIG_ROUNDS", 1),
      },
      log,
    );
  }
  if (want.has("host") || want.has("fleet") || want.has("disruption") || want.has("sandbox")) {
    const mirror: Mirror = await startMirror();
    try {
      if (want.has("host")) {
        results.hostTime = await hostTime(mirror, count("BENCH_HOST_ROUNDS", 3), log);
        results.extraction = await extraction(mirror, 5);
        log("extraction compared");
      }
      if (want.has("disruption")) {
        results.disruption = await disruption(mirror);
        log("disruption measured");
      }
      if (want.has("sandbox")) {
        results.sandboxCost = await sandboxCost(mirror, count("BENCH_SANDBOX_ROUNDS", 5));
        log("sandbox cost measured");
      }
      if (want.has("fleet")) {
        results.fleet = await fleetGrowth(mirror, { sizes: numbers("BENCH_FLEET_SIZES", "1,4,8"), rounds: count("BENCH_FLEET_ROUNDS", 2) }, log);
      }
    } finally {
      await mirror.stop();
    }
  }
  results.durationMs = Date.now() - t0;
  results.machine.loadAverage.end = os.loadavg();

  publish(results, out);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
