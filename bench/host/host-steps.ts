/**
 * The step graph of one host, as Host chains its remote.Commands (install,
 * then Docker and containerd side by side, then verify), and the hand-written
 * routine's input for the same plan.
 */
import type { HostPlan } from "../../src/plan/host-plan";
import type { StepName } from "../../src/scripts/render";
import type { Mirror, TestHost } from "../../test/host/harness";
import { mustRun } from "../../test/host/support/steps";
import type { HandWrittenInput } from "../hand-written";
import type { StepJob } from "./engine-runner";

export const HOST_STEPS: readonly { step: StepName; after: readonly StepName[] }[] = [
  { step: "install", after: [] },
  { step: "configure-docker", after: ["install"] },
  { step: "configure-containerd", after: ["install"] },
  { step: "verify", after: ["configure-docker", "configure-containerd"] },
];

/** One job per step of `host`, ids prefixed with `prefix/`; `onDone` gets each step's wall time. */
export function hostJobs(prefix: string, host: TestHost, plan: HostPlan, onDone: (step: StepName, ms: number) => void = () => {}): StepJob[] {
  return HOST_STEPS.map(({ step, after }) => ({
    id: `${prefix}/${step}`,
    after: after.map((a) => `${prefix}/${a}`),
    run: async () => {
      const t0 = performance.now();
      await mustRun(host, plan, step);
      onDone(step, performance.now() - t0);
    },
  }));
}

export function handInputFor(mirror: Mirror, plan: HostPlan): HandWrittenInput {
  return {
    releaseUrl: mirror.releaseUrl(plan.release.version),
    layout: plan.release.layout,
    runtimeArgs: plan.docker.runtimeEntry.runtimeArgs,
    image: plan.verify.image,
  };
}
