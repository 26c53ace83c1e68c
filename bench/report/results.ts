/** The JSON document `npm run bench` writes (bench/results.json by default). */
import type { DisruptionResult } from "../host/disruption";
import type { FleetGrowthResult } from "../host/fleet-growth";
import type { ExtractionResult, HostTimeResult } from "../host/host-time";
import type { SandboxCostResult } from "../host/sandbox-cost";
import type { RoundTripsResult } from "../program/round-trips";
import type { ScaleRow } from "../program/scale";

export interface MachineInfo {
  cpus: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  os: string;
  node: string;
  versions: Record<string, string>;
  commit: string;
  /** 1-, 5- and 15-minute load averages when the bench started and ended: the machine is shared, figures move with it. */
  loadAverage: { start: number[]; end: number[] };
}

export interface BenchResults {
  schemaVersion: 1;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  /** What was run, with the knobs (BENCH_* variables) that shaped it. */
  settings: Record<string, string>;
  scale?: ScaleRow[];
  hostTime?: HostTimeResult;
  extraction?: ExtractionResult;
  fleet?: FleetGrowthResult;
  disruption?: DisruptionResult;
  roundTrips?: RoundTripsResult;
  sandboxCost?: SandboxCostResult;
}
