/**
 * Runs rendered plan steps on a harness test host over real SSH, exactly as
 * @pulumi/command sends them, and parses their one-line JSON results.
 */
import { HostPlan, HostPlanInput, buildHostPlan } from "../../../src/plan/host-plan";
import { StepName, renderStepCommand } from "../../../src/scripts/render";
import { currentFlavor, type CommandResult, type Mirror, type SshUser, type TestHost } from "../harness";

/**
 * Runsc 20221219 refuses Docker containers with network enabled in the root netns: test plans use `none`.
 * The release is the flavor's default fixture (`mirror.defaultVersion`: runsc 20221219 on bookworm,
 * 20240729 on trixie and sid) unless `input.version` names one. Plus the flags the running flavor's hosts need on this machine (`ignore-cgroups` under nspawn; see flavors.ts).
 */
export function testPlan(mirror: Mirror, input: HostPlanInput = {}): HostPlan {
  const extraFlags = { ...flavorRunscOptions().extraFlags, ...input.runsc?.extraFlags };
  return buildHostPlan({
    version: mirror.defaultVersion,
    mirror: mirror.baseUrl,
    ...input,
    runsc: { network: "none", ...input.runsc, ...(Object.keys(extraFlags).length ? { extraFlags } : {}) },
    verify: { image: "local/busybox:latest", ...input.verify },
  });
}

/** The running flavor's runsc flags (flavors.ts `testRunscFlags`) as runsc options: `{}` on bookworm. */
export function flavorRunscOptions(): { extraFlags?: Record<string, string> } {
  const flags = currentFlavor().testRunscFlags;
  return Object.keys(flags).length ? { extraFlags: { ...flags } } : {};
}

/** The same flags as they appear in Docker's runtimeArgs, after `--network=none`. */
export const flavorRuntimeArgs = (): string[] => Object.entries(currentFlavor().testRunscFlags).map(([k, v]) => `--${k}=${v}`);

export interface StepResult extends CommandResult {
  /** The JSON object on stdout, when there is one. */
  json?: Record<string, any>;
}

export async function runStep(host: TestHost, plan: HostPlan, step: StepName, user: SshUser = "root"): Promise<StepResult> {
  const result = await host.run(renderStepCommand(plan, step), { user });
  let json: Record<string, any> | undefined;
  try {
    json = JSON.parse(result.stdout.trim());
  } catch {
    json = undefined;
  }
  return { ...result, json };
}

/** Runs a step that must succeed; a failure throws with the step's stderr. */
export async function mustRun(host: TestHost, plan: HostPlan, step: StepName, user: SshUser = "root"): Promise<StepResult> {
  const r = await runStep(host, plan, step, user);
  if (r.code !== 0) throw new Error(`step ${step} failed (exit ${r.code}):\n${r.stderr}`);
  return r;
}

/** The last non-empty stderr line: where every step puts its one-line error. */
export const lastLine = (text: string) => text.trim().split("\n").pop() ?? "";

/** Bytes and mtime of files, to prove a re-run rewrote nothing. */
export async function fingerprint(host: TestHost, files: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of files) {
    const stat = await host.stat(f);
    out[f] = stat === undefined ? "absent" : `${stat.mtime} ${stat.inode} ${(await host.sh('sha256sum -- "$1" 2>/dev/null || echo dir', [f])).stdout.split(" ")[0]}`;
  }
  return out;
}
