/**
 * How fleet growth drives hosts: a graph of step jobs run under a bound on
 * parallel jobs, as the Pulumi engine runs resources (up to `--parallel`,
 * default 4 × GOMAXPROCS, where GOMAXPROCS is the CPU count). Until the engine
 * model (test/host/support/engine-model.ts) lands, `directRunner` walks the
 * graph itself; any function of this shape can replace it.
 */
import * as os from "node:os";

export interface StepJob {
  /** Unique in the graph, e.g. `h3/install`. */
  id: string;
  /** Jobs that must finish first. */
  after: readonly string[];
  run: () => Promise<void>;
}

/** Runs every job once its `after` jobs finished, at most `parallelism` at a time; rejects on the first failure. */
export type EngineRunner = (jobs: readonly StepJob[], parallelism: number) => Promise<void>;

/** The real engine's default `--parallel` on this machine. */
export const ENGINE_DEFAULT_PARALLELISM = 4 * os.cpus().length;

export const directRunner: EngineRunner = (jobs, parallelism) =>
  new Promise((resolve, reject) => {
    const byId = new Map(jobs.map((j) => [j.id, j]));
    for (const j of jobs) for (const a of j.after) if (!byId.has(a)) return reject(new Error(`job ${j.id} waits on unknown job ${a}`));
    const done = new Set<string>();
    const started = new Set<string>();
    let running = 0;
    let failed = false;
    const pump = () => {
      if (failed) return;
      if (done.size === jobs.length) return resolve();
      for (const j of jobs) {
        if (running >= parallelism) break;
        if (started.has(j.id) || !j.after.every((a) => done.has(a))) continue;
        started.add(j.id);
        running += 1;
        j.run().then(
          () => {
            running -= 1;
            done.add(j.id);
            pump();
          },
          (err: unknown) => {
            failed = true;
            reject(err);
          },
        );
      }
      if (running === 0 && done.size < jobs.length) reject(new Error("step graph has a cycle: nothing can start"));
    };
    pump();
  });
