/**
 * One program-scale sample in a fresh process, so its peak RSS is its own:
 * `node --import tsx bench/program/child.ts <package|baseline> <hosts> <preview|update>`
 * prints one JSON line (ScaleSample).
 */
import { performance } from "node:perf_hooks";

export interface ScaleSample {
  program: string;
  hosts: number;
  mode: "preview" | "update";
  /** Loading the SDKs and the program's modules. */
  loadMs: number;
  /** Constructing the program until every registration settled. */
  wallMs: number;
  resources: number;
  calls: number;
  stateBytes: number;
  /** stateBytes by resource type. */
  stateByType: Record<string, number>;
  /** Peak resident set of the whole process, bytes. */
  peakRssBytes: number;
}

async function main() {
  const [program, hostsArg, mode] = process.argv.slice(2);
  const hosts = Number(hostsArg);
  if ((program !== "package" && program !== "baseline") || !Number.isInteger(hosts) || hosts < 1 || (mode !== "preview" && mode !== "update")) {
    throw new Error(`usage: child.ts <package|baseline> <hosts> <preview|update>, got ${process.argv.slice(2).join(" ")}`);
  }
  const t0 = performance.now();
  const { installMockEngine } = await import("./mock-engine");
  const engine = installMockEngine(mode === "preview");
  const { PROGRAMS } = await import("./programs");
  const t1 = performance.now();
  await PROGRAMS[program](hosts);
  const t2 = performance.now();
  const state = await engine.stateBytes();
  const sample: ScaleSample = {
    program,
    hosts,
    mode,
    loadMs: t1 - t0,
    wallMs: t2 - t1,
    resources: engine.resources(),
    calls: engine.calls(),
    stateBytes: state.total,
    stateByType: state.byType,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
