import * as pulumi from "@pulumi/pulumi";
import { Arch } from "../plan/arch";
import { EksCapacityType } from "../plan/eks";
import { RunscArgs } from "./host-args";
import { NodeTaintArgs, RuntimeClassOverheadArgs } from "./runtime-class-args";

/** containerd side of the nodes' gVisor setup. */
export interface EksContainerdArgs {
  /** The runtime handler the nodes register (DNS label); the RuntimeClass and the node label name it. Defaults to `runsc`. @default "runsc" */
  runtimeName?: pulumi.Input<string>;
  /** Where the nodes keep the shim's runsc.toml. Defaults to `/etc/containerd/runsc.toml`. @default "/etc/containerd/runsc.toml" */
  runscConfigPath?: pulumi.Input<string>;
}

/** The gVisor the nodes get. */
export interface EksGvisorArgs {
  /** A dated gVisor release (`20261020.0`); `latest` and `nightly` are refused, as nodes launched later would differ. Defaults to the release this version of the package pins (`DEFAULT_GVISOR_VERSION`). @default DEFAULT_GVISOR_VERSION */
  version?: pulumi.Input<string>;
  /** Base URL of a release mirror laid out like gVisor's bucket. Defaults to gVisor's public bucket. @default gVisor's public bucket */
  mirror?: pulumi.Input<string>;
  /** runsc options; `platform: "kvm"` is refused (no nested virtualization on managed node groups). Defaults to `{}`: runsc's own defaults (systrap). @default {} (runsc defaults: systrap) */
  runsc?: pulumi.Input<RunscArgs>;
  /** The containerd handler and runsc.toml path. Defaults to `{ runtimeName: "runsc", runscConfigPath: "/etc/containerd/runsc.toml" }`. @default { runtimeName: "runsc", runscConfigPath: "/etc/containerd/runsc.toml" } */
  containerd?: pulumi.Input<EksContainerdArgs>;
}

/** Node group size. */
export interface EksScalingArgs {
  /** Fewest nodes. Defaults to `1`. @default 1 */
  minSize?: pulumi.Input<number>;
  /** Nodes to run now. Defaults to `2`, kept within minSize and maxSize. @default 2, kept within minSize and maxSize */
  desiredSize?: pulumi.Input<number>;
  /** Most nodes. Defaults to the larger of `3` and desiredSize. @default the larger of 3 and desiredSize */
  maxSize?: pulumi.Input<number>;
}

/** The RuntimeClass that goes with the node group. */
export interface EksRuntimeClassArgs {
  /** Class name pods put in `runtimeClassName`. Defaults to `gvisor`. @default "gvisor" */
  name?: pulumi.Input<string>;
  /** Must equal the nodes' handler (`gvisor.containerd.runtimeName`); a mismatch is refused. Defaults to the nodes' handler. @default the nodes' handler */
  handler?: pulumi.Input<string>;
  /** Pod overhead charged for the sandbox. Defaults to none. @default none */
  overhead?: pulumi.Input<RuntimeClassOverheadArgs>;
}

/** Arguments of the EksNodeGroup component. */
export interface EksNodeGroupArgs {
  /** Name of the existing EKS cluster. */
  clusterName: pulumi.Input<string>;
  /** Kubernetes version of the nodes (`"1.33"`); picks the AMI release line and the containerd config form. */
  kubernetesVersion: pulumi.Input<string>;
  /** ARN of the IAM role the nodes use (AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryReadOnly). */
  nodeRoleArn: pulumi.Input<string>;
  /** Subnets the nodes are placed in; they need a route to the gVisor release bucket (or your mirror). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** CPU architecture: `x86_64` or `arm64` (Graviton). Picks the AL2023 AMI type. Defaults to `x86_64`. @default "x86_64" */
  arch?: pulumi.Input<Arch>;
  /** EC2 instance types, all of `arch`. Defaults to `["m7i.large"]` for x86_64, `["m7g.large"]` for arm64. @default ["m7i.large"] for x86_64, ["m7g.large"] for arm64 */
  instanceTypes?: pulumi.Input<pulumi.Input<string>[]>;
  /** On-demand or spot capacity. Defaults to `ON_DEMAND`. @default "ON_DEMAND" */
  capacityType?: pulumi.Input<EksCapacityType>;
  /** Node group size. Defaults to `{ minSize: 1, desiredSize: 2, maxSize: 3 }`. @default { minSize: 1, desiredSize: 2, maxSize: 3 } */
  scaling?: pulumi.Input<EksScalingArgs>;
  /** Root volume size in GiB (gp3, encrypted). Defaults to `50`. @default 50 */
  diskSize?: pulumi.Input<number>;
  /** KMS key for the root volume. Defaults to the account's default EBS key. @default the account's default EBS key */
  diskKmsKeyId?: pulumi.Input<string>;
  /**
   * IMDSv2 hop limit. 1 keeps pods (which are not on the host network) away
   * from the node role's credentials; raise it only for pods that need IMDS.
   * Defaults to `1`.
   * @default 1
   */
  metadataHopLimit?: pulumi.Input<number>;
  /** Security groups of the nodes. Defaults to the cluster security group. @default the cluster security group */
  securityGroupIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** Node group name. Defaults to a name derived from the resource name, with a random suffix. @default derived from the resource name, with a random suffix */
  nodeGroupName?: pulumi.Input<string>;
  /** Node labels besides the gVisor one (`sandbox.pulumi-gvisor.io/runtime=<handler>`, always set). Defaults to `{}`. @default {} */
  labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Node taints besides the gVisor NoSchedule one (always set). Defaults to `[]`. @default [] */
  taints?: pulumi.Input<pulumi.Input<NodeTaintArgs>[]>;
  /** Tags of the node group, the launch template, and the instances and volumes it launches. Defaults to `{}`. @default {} */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** The gVisor the nodes get. Defaults to `{}`: the pinned release, runsc's defaults, handler `runsc`. @default {} (pinned release, runsc defaults, handler "runsc") */
  gvisor?: pulumi.Input<EksGvisorArgs>;
  /** The RuntimeClass that goes with the nodes. Defaults to `{ name: "gvisor" }`. @default { name: "gvisor" } */
  runtimeClass?: pulumi.Input<EksRuntimeClassArgs>;
  /**
   * The cluster's kubeconfig (contents). With it, or with a Kubernetes
   * provider in the resource options, the RuntimeClass is created in the
   * cluster; without either, only its manifest is output.
   * Secret: pass it as a secret (it is kept secret in state).
   * Defaults to none: the provider in the resource options, if any.
   * @default none
   */
  kubeconfig?: pulumi.Input<string>;
  /**
   * After the nodes join, run a Job under the RuntimeClass that must complete
   * (needs cluster access, see kubeconfig). It runs again when the launch
   * template version or the user data changes, and the next `pulumi up` after
   * a failed run starts a fresh Job (no `--replace`). A plain value.
   * Defaults to `false`.
   * @default false
   */
  smokeTest?: boolean;
  /** Image of the smoke-test Job. Defaults to `docker.io/library/busybox:1.36.1`. @default "docker.io/library/busybox:1.36.1" */
  smokeTestImage?: pulumi.Input<string>;
  /** Namespace of the smoke-test Job. Defaults to `default`. @default "default" */
  smokeTestNamespace?: pulumi.Input<string>;
}
