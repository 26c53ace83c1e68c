/**
 * Part 1, program scale: each (program, hosts, mode) sample runs in a fresh
 * child process (its peak RSS is its own), one at a time, the package and
 * the hand-written baseline back to back (ABAB, the first of each pair
 * alternating per round) so both see the same machine load.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { median, ratio } from "../stats";
import type { ScaleSample } from "./child";
import type { ProgramName } from "./programs";

export interface ScaleOptions {
  sizes: readonly number[];
  /** Rounds per size; sizes above `bigSize` get `bigRounds` (each 500-host sample takes ~25 s here). */
  rounds: number;
  bigSize: number;
  bigRounds: number;
}

export interface ScaleRow {
  hosts: number;
  mode: "preview" | "update";
  samples: number;
  package: ScaleMedians;
  baseline: ScaleMedians;
  /** package / baseline. */
  ratio: { wall: number; peakRss: number; resources: number; state: number };
}

export interface ScaleMedians {
  wallMs: number;
  msPerHost: number;
  resourcesPerHost: number;
  peakRssBytes: number;
  stateBytesPerHost: number;
  callsPerHost: number;
  /** State bytes per host by resource type (from the last sample; it does not vary between runs). */
  stateByTypePerHost: Record<string, number>;
}

const CHILD = path.join(__dirname, "child.ts");

function sample(program: ProgramName, hosts: number, mode: "preview" | "update"): Promise<ScaleSample> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", CHILD, program, String(hosts), mode], { timeout: 300_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`scale sample ${program} ${hosts} ${mode} failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "") as ScaleSample);
    });
  });
}

function medians(samples: ScaleSample[]): ScaleMedians {
  const hosts = samples[0]!.hosts;
  const last = samples[samples.length - 1]!;
  return {
    wallMs: median(samples.map((s) => s.wallMs)),
    msPerHost: median(samples.map((s) => s.wallMs / hosts)),
    resourcesPerHost: median(samples.map((s) => s.resources / hosts)),
    peakRssBytes: median(samples.map((s) => s.peakRssBytes)),
    stateBytesPerHost: median(samples.map((s) => s.stateBytes / hosts)),
    callsPerHost: median(samples.map((s) => s.calls / hosts)),
    stateByTypePerHost: Object.fromEntries(Object.entries(last.stateByType).map(([t, b]) => [t, Math.round(b / hosts)])),
  };
}

export async function programScale(opts: ScaleOptions, log: (line: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const hosts of opts.sizes) {
    for (const mode of ["preview", "update"] as const) {
      const got: Record<ProgramName, ScaleSample[]> = { package: [], baseline: [] };
      const rounds = hosts > opts.bigSize ? opts.bigRounds : opts.rounds;
      for (let round = 0; round < rounds; round++) {
        const order: ProgramName[] = round % 2 === 0 ? ["package", "baseline"] : ["baseline", "package"];
        for (const program of order) got[program].push(await sample(program, hosts, mode));
      }
      const p = medians(got.package);
      const b = medians(got.baseline);
      rows.push({
        hosts,
        mode,
        samples: rounds,
        package: p,
        baseline: b,
        ratio: {
          wall: ratio(p.wallMs, b.wallMs),
          peakRss: ratio(p.peakRssBytes, b.peakRssBytes),
          resources: ratio(p.resourcesPerHost, b.resourcesPerHost),
          state: ratio(p.stateBytesPerHost, b.stateBytesPerHost),
        },
      });
      log(`scale ${hosts} hosts ${mode}: package ${p.wallMs.toFixed(0)} ms vs baseline ${b.wallMs.toFixed(0)} ms (${rounds} rounds)`);
    }
  }
  return rows;
}
