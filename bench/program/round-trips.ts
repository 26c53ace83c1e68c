/**
 * Part 5, round trips per host, from the command resources Host registers
 * (round-trips-child.ts) and the engine's rules (FIELD-NOTES, "How the engine
 * and remote.Command really behave"): each remote command resource that runs
 * is one SSH session; an input change other than `triggers` is an Update (one
 * session; a CopyToRemote's only when its source or remotePath changed: it
 * copies nothing otherwise); a `triggers` change is a replacement: the new resource's create,
 * then the old one's delete whenever `delete` is set ("" still dials). The
 * critical path is the longest dependsOn chain of command resources.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import type { RegisteredCommand } from "./round-trips-child";

export interface RoundTripsResult {
  /** Command resources (SSH sessions) a first deployment runs per host. */
  sessionsPerHost: number;
  /** SSH sessions one after another on the longest chain. */
  criticalPathSessions: number;
  criticalPath: string[];
  /** Per day-2 change: steps updated, replaced, and SSH sessions the update costs. */
  changes: { change: string; updated: string[]; replaced: string[]; sessions: number }[];
}

const CHILD = path.join(__dirname, "round-trips-child.ts");
const stable = (v: unknown) => JSON.stringify(v);

function criticalPath(cmds: RegisteredCommand[]): string[] {
  const byName = new Map(cmds.map((c) => [c.name, c]));
  const memo = new Map<string, string[]>();
  const longest = (name: string, depth = 0): string[] => {
    if (depth > cmds.length) throw new Error(`dependsOn cycle at ${name}`);
    const hit = memo.get(name);
    if (hit) return hit;
    const deps = (byName.get(name)?.dependsOn ?? []).filter((d) => byName.has(d)).map((d) => longest(d, depth + 1));
    const best = deps.reduce<string[]>((a, b) => (b.length > a.length ? b : a), []);
    const chain = [...best, name];
    memo.set(name, chain);
    return chain;
  };
  return cmds.map((c) => longest(c.name)).reduce<string[]>((a, b) => (b.length > a.length ? b : a), []);
}

export function diffVariants(variants: Record<string, RegisteredCommand[]>): RoundTripsResult {
  const base = variants.base;
  if (!base) throw new Error("round trips: no base variant");
  const old = new Map(base.map((c) => [c.name, c]));
  const changes = Object.entries(variants)
    .filter(([name]) => name !== "base")
    .map(([change, cmds]) => {
      const updated: string[] = [];
      const replaced: string[] = [];
      let sessions = 0;
      for (const c of cmds) {
        const before = old.get(c.name);
        if (before === undefined) {
          sessions += 1; // a new step runs its create
          replaced.push(c.name);
        } else if (stable(before.inputs.triggers) !== stable(c.inputs.triggers)) {
          replaced.push(c.name);
          sessions += 1 + (before.inputs.delete === undefined ? 0 : 1);
        } else if (stable(before.inputs) !== stable(c.inputs)) {
          updated.push(c.name);
          // CopyToRemote's update copies only when its source or remotePath changed (copyController.go).
          const copies = c.type !== "command:remote:CopyToRemote" || ["source", "remotePath"].some((k) => stable(before.inputs[k]) !== stable(c.inputs[k]));
          sessions += copies ? 1 : 0;
        }
      }
      for (const b of base) if (!cmds.some((c) => c.name === b.name) && b.inputs.delete !== undefined) sessions += 1; // a removed step runs its delete
      return { change, updated, replaced, sessions };
    });
  const path_ = criticalPath(base);
  return { sessionsPerHost: base.length, criticalPathSessions: path_.length, criticalPath: path_, changes };
}

export function roundTrips(): Promise<RoundTripsResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", CHILD], { timeout: 120_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`round trips failed: ${err.message}\n${stderr}`));
      try {
        resolve(diffVariants(JSON.parse(stdout.trim().split("\n").pop() ?? "") as Record<string, RegisteredCommand[]>));
      } catch (e) {
        reject(e);
      }
    });
  });
}
