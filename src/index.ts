// Public API of pulumi-gvisor: re-exports only.
export { Host } from "./components/host";
export type { HostStepDigests } from "./components/host";
export { BUNDLED_STEPS, bundleUploadPath, stepBundle, stepBundleFile } from "./scripts/bundle";
export type { StepBundle } from "./scripts/bundle";
export { renderAdoptInvocation, renderReleaseInvocation, renderStepInvocation } from "./scripts/invocation";
export { HOST_KEY_TYPES, requireHostKey } from "./plan/ssh";
export type * from "./components/host-args";
export { Arch } from "./plan/arch";
export { PlanValidationError, PlanValidationErrors } from "./plan/errors";
export { DEFAULT_INSTALL_DIR, DEFAULT_OVERHEAD_ROUNDS, DEFAULT_VERIFY_IMAGE, MAX_OVERHEAD_ROUNDS, buildHostPlan } from "./plan/host-plan";
export type { ContainerdOptions, DockerOptions, HostPlan, HostPlanInput, VerifyOptions } from "./plan/host-plan";
export { DEFAULT_GVISOR_VERSION, DEFAULT_RELEASE_MIRROR, releaseDownloads, resolveRelease } from "./plan/release";
export type { ResolvedRelease } from "./plan/release";
export { RunscCgroupMode, RunscFileAccess, RunscHostUds, RunscNetwork, RunscPlatform } from "./plan/runsc-options";
export type { RunscOptions } from "./plan/runsc-options";
export { READABLE_SCHEMA_VERSIONS, VERIFICATION_SCHEMA_VERSION, VerificationParseError, parseVerification } from "./plan/verification";
export type { ContainerdVerification, OverheadMeasurement, OverheadRatios, RuntimeVerification, Verification, WorkloadTimings } from "./plan/verification";
export { STEPS, renderStepCommand, renderStepScript, renderSteps } from "./scripts/render";
export type { StepName } from "./scripts/render";
export { shellQuote } from "./scripts/quote";

// AWS: hosts and fleets.
export { Ec2Host } from "./components/ec2-host";
export { Ec2Fleet } from "./components/ec2-fleet";
export type { Ec2FleetHostSummary } from "./components/ec2-fleet";
export type * from "./components/ec2-host-args";
export { DEFAULT_EC2_OS, DEFAULT_INSTANCE_TYPES, DEFAULT_ROOT_VOLUME_GIB, Ec2Os, amiParameterName, parseInstanceType } from "./plan/ec2";
export type { InstanceTypeInfo } from "./plan/ec2";

// Kubernetes: RuntimeClass, EKS node groups, node user data.
export { RuntimeClass } from "./components/runtime-class";
export type * from "./components/runtime-class-args";
export { EksNodeGroup } from "./components/eks-node-group";
export type * from "./components/eks-node-group-args";
export {
  DEFAULT_RUNTIME_CLASS_NAME,
  DEFAULT_RUNTIME_HANDLER,
  GKE_SANDBOX,
  GVISOR_NODE_LABEL,
  RuntimeClassPreset,
  TaintEffect,
  buildRuntimeClassPlan,
  checkHandlerAgreement,
  gkeSandboxScheduling,
  gvisorNodeScheduling,
  smokeTestJob,
  tolerationFor,
} from "./plan/kubernetes";
export type {
  HandlerAgreementInput,
  NodeTaint,
  RuntimeClassInput,
  RuntimeClassManifest,
  RuntimeClassMetadata,
  RuntimeClassOverhead,
  RuntimeClassPlan,
  RuntimeClassScheduling,
  Toleration,
} from "./plan/kubernetes";
export { DEFAULT_INSTANCE_TYPES as DEFAULT_EKS_INSTANCE_TYPES, EKS_AMI_TYPES, EksCapacityType, buildEksNodeGroupPlan } from "./plan/eks";
export type { EksNodeGroupInput, EksNodeGroupPlan } from "./plan/eks";
export { CONTAINERD2_FROM_MINOR, containerdConfigVersionFor, parseKubernetesVersion, renderMimeMultipart, renderNodeConfig } from "./plan/user-data";
export type { KubernetesVersion, MimePart } from "./plan/user-data";
export { renderEksNodeUserData, renderNodeBootstrapScript } from "./scripts/node-user-data";
export type { EksNodeUserDataInput } from "./scripts/node-user-data";
