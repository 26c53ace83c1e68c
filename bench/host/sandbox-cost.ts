/**
 * Part 6, sandbox cost: on one test host set up by a `Host` (through the
 * engine model), the same container start and two micro-workloads under
 * runsc and under runc, interleaved (ABAB, the first of each pair
 * alternating), medians. The workloads time themselves inside the container
 * (from /proc/uptime, 10 ms resolution; each runs for a few hundred ms), so
 * container start is not in them.
 */
import { startTestHost, type Mirror } from "../../test/host/harness";
import { median, ratio, timed } from "../stats";
import { benchHostArgs, hostsProgram, newModel, timedUp } from "./engine-host";

export interface SandboxCostResult {
  rounds: number;
  /** The runsc platform the host's daemon.json asks for (empty: runsc's default). */
  platform: string;
  /** Median ms per measure (per start, or per 1000 operations) and runtime; ratio is runsc / runc. */
  measures: { name: string; runscMs: number; runcMs: number; ratio: number }[];
}

// Prints the workload's own wall time, from the kernel's (or the sandbox's) uptime.
const selfTimed = (work: string) => `read s _ </proc/uptime; ${work}; read e _ </proc/uptime; echo "$s $e"`;

interface Workload {
  name: string;
  /** Operations per run by runtime: sized so each run takes a few hundred ms (10 ms clock). */
  ops: { runsc: number; runc: number };
  /** The script for `n` operations; none for the bare container start. */
  script?: (n: number) => string;
}

const WORKLOADS: Workload[] = [
  { name: "container start (docker run … true), per start", ops: { runsc: 1, runc: 1 } },
  // 2 syscalls (read, write) per byte: syscall-bound.
  {
    name: "syscall-heavy (dd bs=1), per 1000 syscalls",
    ops: { runsc: 40_000, runc: 800_000 },
    script: (n) => selfTimed(`dd if=/dev/zero of=/dev/null bs=1 count=${n / 2} 2>/dev/null`),
  },
  // Create, write and remove files in the container's root filesystem: file-system-bound.
  {
    name: "file-heavy (write + remove), per 1000 files",
    ops: { runsc: 500, runc: 1000 },
    script: (n) => selfTimed(`mkdir /w && i=0 && while [ "$i" -lt ${n} ]; do echo x >"/w/f$i"; i=$((i+1)); done && rm -r /w`),
  },
];

export async function sandboxCost(mirror: Mirror, rounds: number): Promise<SandboxCostResult> {
  const host = await startTestHost();
  try {
    await timedUp(newModel(), hostsProgram([benchHostArgs(mirror, host)]));
    const runtimes = await host.docker.runtimes();
    const args = (runtimes.runsc as { runtimeArgs?: string[] } | undefined)?.runtimeArgs ?? [];
    const platform = args.find((a) => a.startsWith("--platform="))?.slice("--platform=".length) ?? "";
    const one = async (runtime: "runsc" | "runc", w: Workload): Promise<number> => {
      const argv = ["run", "--rm", "--network=none", `--runtime=${runtime}`, "local/busybox:latest"];
      const n = w.ops[runtime];
      const [ms, r] = await timed(() => host.docker.cli(w.script ? [...argv, "sh", "-c", w.script(n)] : [...argv, "true"]));
      if (r.code !== 0) throw new Error(`sandbox cost: docker run --runtime=${runtime} failed: ${r.stderr}`);
      if (!w.script) return ms;
      const [s, e] = r.stdout.trim().split(/\s+/).map(Number);
      if (!Number.isFinite(s) || !Number.isFinite(e)) throw new Error(`sandbox cost: no timing from the workload: ${r.stdout}`);
      return ((e! - s!) * 1000 * 1000) / n; // ms per 1000 operations
    };
    const measures: SandboxCostResult["measures"] = [];
    for (const w of WORKLOADS) {
      const got = { runsc: [] as number[], runc: [] as number[] };
      for (let i = 0; i < rounds; i++) {
        for (const rt of i % 2 === 0 ? (["runsc", "runc"] as const) : (["runc", "runsc"] as const)) got[rt].push(await one(rt, w));
      }
      const runscMs = median(got.runsc);
      const runcMs = median(got.runc);
      measures.push({ name: w.name, runscMs, runcMs, ratio: ratio(runscMs, runcMs) });
    }
    return { rounds, platform, measures };
  } finally {
    await host.stop();
  }
}
