/** The hand-written routine's input for the same plan as the package's. */
import type { HostPlan } from "../../src/plan/host-plan";
import type { Mirror } from "../../test/host/harness";
import type { HandWrittenInput } from "../hand-written";

export function handInputFor(mirror: Mirror, plan: HostPlan): HandWrittenInput {
  return {
    releaseUrl: mirror.releaseUrl(plan.release.version),
    layout: plan.release.layout,
    runtimeArgs: plan.docker.runtimeEntry.runtimeArgs,
    image: plan.verify.image,
  };
}
