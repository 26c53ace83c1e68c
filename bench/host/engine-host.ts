/**
 * How the host parts deploy this package: real `Host` components driven
 * through the engine model (test/host/support/engine-model.ts: the Pulumi
 * engine's step rules and @pulumi/command 1.2.1's remote provider, plugged
 * into the SDK as its resource monitor) against real test hosts, so each
 * figure covers what a `pulumi up` runs today: the lifecycle command, the
 * bundle upload (SFTP) and the short step commands.
 */
import * as os from "node:os";
import { Host } from "../../src/components/host";
import type { HostArgs } from "../../src/components/host-args";
import type { Mirror, TestHost } from "../../test/host/harness";
import { EngineModel, type Step, type UpOptions, type UpResult } from "../../test/host/support/engine-model";
import { flavorRunscOptions } from "../../test/host/support/steps";
import { timed } from "../stats";

/**
 * The real engine's default `--parallel`: `4 * runtime.GOMAXPROCS(0)` unless
 * PULUMI_PARALLEL is set (pulumi v3.248.0, pkg/cmd/pulumi/operations/up.go,
 * `defaultParallel()`; unchanged in v3.259). GOMAXPROCS defaults to the CPUs
 * the process may use: 8 on this 2-core machine.
 */
export const ENGINE_DEFAULT_PARALLELISM = 4 * os.availableParallelism();

/** The Host's step resources after its lifecycle and bundle, in graph order. */
export const HOST_STEPS = ["install", "configure-docker", "configure-containerd", "verify"] as const;
export type HostStep = (typeof HOST_STEPS)[number];

/** Host args for a test host, as a user writes them (root login, the test mirror, the host key pinned). */
export function benchHostArgs(mirror: Mirror, host: TestHost, extra: Partial<HostArgs> = {}): HostArgs {
  return {
    connection: { ...host.connection("root"), dialErrorLimit: 1, perDialTimeout: 10 },
    version: mirror.versions.archive,
    mirror: mirror.baseUrl,
    verify: { image: "local/busybox:latest" },
    ...extra,
    runsc: { network: "none", ...flavorRunscOptions(), ...extra.runsc },
  };
}

/** A program of one Host per entry, named `h<i>`. */
export const hostsProgram = (args: readonly HostArgs[]) => (): void => {
  args.forEach((a, i) => new Host(`h${i}`, a));
};

export const newModel = (parallel = ENGINE_DEFAULT_PARALLELISM) => new EngineModel({ project: "pulumi-gvisor-bench", stack: "bench", parallel });

/** `pulumi up` through the model; throws on a failed step. Returns its wall time and result. */
export async function timedUp(model: EngineModel, program: () => void, opts?: UpOptions): Promise<[number, UpResult]> {
  const [ms, r] = await timed(() => model.up(program, opts));
  if (r.error) throw new Error(`up failed: ${r.error}`);
  return [ms, r];
}

/** A step's resource name without the `h<i>-` prefix (`install`, `bundle`, `lifecycle`, …). */
export const resourceOf = (s: Step) => (s.urn.split("::").pop() ?? "").replace(/^h\d+-/, "");

/** Steps that ran a command or a copy on a host: one SSH session each. */
export const sessions = (r: UpResult) => r.steps.filter((s) => s.ran !== undefined);

/** Wall time per resource (lifecycle, bundle, steps) of the steps that ran, for host `h0`. */
export function msByResource(r: UpResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sessions(r)) if (s.urn.endsWith(`::h0-${resourceOf(s)}`) && s.ms !== undefined) out[resourceOf(s)] = s.ms;
  return out;
}
