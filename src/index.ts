// Public API of pulumi-gvisor: re-exports only.
export { Host } from "./components/host";
export type { HostSteps } from "./components/host";
export type * from "./components/host-args";
export { Arch } from "./plan/arch";
export { PlanValidationError } from "./plan/errors";
export { DEFAULT_INSTALL_DIR, DEFAULT_VERIFY_IMAGE, buildHostPlan } from "./plan/host-plan";
export type { ContainerdOptions, DockerOptions, HostPlan, HostPlanInput, VerifyOptions } from "./plan/host-plan";
export { DEFAULT_GVISOR_VERSION, DEFAULT_RELEASE_MIRROR, releaseDownloads, resolveRelease } from "./plan/release";
export type { ResolvedRelease } from "./plan/release";
export { RunscFileAccess, RunscHostUds, RunscNetwork, RunscPlatform } from "./plan/runsc-options";
export type { RunscOptions } from "./plan/runsc-options";
export { parseVerification } from "./plan/verification";
export type { ContainerdVerification, RuntimeVerification, Verification } from "./plan/verification";
export { STEPS, renderStepCommand, renderStepScript, renderSteps } from "./scripts/render";
export type { StepName } from "./scripts/render";
export { shellQuote } from "./scripts/quote";
