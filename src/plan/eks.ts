import { Arch, parseArch } from "./arch";
import { parseInstanceType } from "./ec2";
import { ContainerdConfigVersion } from "./engines";
import { check, collect, joinPath, show } from "./errors";
import { HostPlan, buildHostPlan } from "./host-plan";
import {
  GVISOR_NODE_LABEL,
  NodeTaint,
  RuntimeClassOverheadInput,
  RuntimeClassPlan,
  RuntimeClassPreset,
  buildRuntimeClassPlan,
  checkHandlerAgreement,
  gvisorNodeScheduling,
  parseLabels,
  parseTaints,
  requireDnsLabel,
} from "./kubernetes";
import { RunscOptions } from "./runsc-options";
import { KubernetesVersion, containerdConfigVersionFor, nodeContainerdConfig, parseKubernetesVersion } from "./user-data";

// An EKS managed node group whose nodes run gVisor: validation and defaults.
// Pure; the component turns the plan into a launch template and node group.

/** How EC2 capacity is bought for a node group. */
export const EksCapacityType = {
  OnDemand: "ON_DEMAND",
  Spot: "SPOT",
} as const;
export type EksCapacityType = (typeof EksCapacityType)[keyof typeof EksCapacityType];

/** The EKS-optimized Amazon Linux 2023 AMI type for each arch. */
export const EKS_AMI_TYPES: Readonly<Record<Arch, string>> = {
  x86_64: "AL2023_x86_64_STANDARD",
  arm64: "AL2023_ARM_64_STANDARD",
};

/** Instance types used when none are given. */
export const DEFAULT_INSTANCE_TYPES: Readonly<Record<Arch, readonly string[]>> = {
  x86_64: ["m7i.large"],
  arm64: ["m7g.large"],
};

/** Root volume size (GiB) when none is given: room for images next to the 20 GiB AMI. */
export const DEFAULT_DISK_SIZE = 50;


/** containerd side of the node group's gVisor setup. */
export interface EksContainerdInput {
  /** @default "runsc" */
  runtimeName?: string;
  /** @default "/etc/containerd/runsc.toml" */
  runscConfigPath?: string;
}

/** What gVisor the nodes get. */
export interface EksGvisorInput {
  /** A dated release; moving channels (`latest`, `nightly`) are refused. @default DEFAULT_GVISOR_VERSION */
  version?: string;
  /** @default gVisor's public bucket */
  mirror?: string;
  /** The `kvm` platform is refused. @default {} */
  runsc?: RunscOptions;
  /** @default {} */
  containerd?: EksContainerdInput;
}

/** Scaling of a node group. */
export interface EksScalingInput {
  /** @default 1 */
  minSize?: number;
  /** @default 2, kept within min and max */
  desiredSize?: number;
  /** @default the larger of 3 and desiredSize */
  maxSize?: number;
}

/** The RuntimeClass that goes with the node group. */
export interface EksRuntimeClassInput {
  /** @default "gvisor" */
  name?: string;
  /** Must equal the nodes' handler. @default the nodes' handler */
  handler?: string;
  /** @default none */
  overhead?: RuntimeClassOverheadInput;
}

/** A gVisor node group, as users write it (the parts that are data, not AWS references). */
export interface EksNodeGroupInput {
  kubernetesVersion: string;
  /** @default "x86_64" */
  arch?: string;
  /** @default DEFAULT_INSTANCE_TYPES[arch] */
  instanceTypes?: string[];
  /** @default "ON_DEMAND" */
  capacityType?: string;
  /** @default { minSize: 1, desiredSize: 2, maxSize: 3 } */
  scaling?: EksScalingInput;
  /** GiB. @default DEFAULT_DISK_SIZE */
  diskSize?: number;
  /** @default 1 */
  metadataHopLimit?: number;
  /** Extra node labels. @default {} */
  labels?: { [key: string]: string };
  /** Extra node taints. @default [] */
  taints?: NodeTaint[];
  /** @default {} */
  gvisor?: EksGvisorInput;
  /** @default {} */
  runtimeClass?: EksRuntimeClassInput;
}

/** A validated node group plan. */
export interface EksNodeGroupPlan {
  host: HostPlan;
  kubernetesVersion: KubernetesVersion;
  containerdConfigVersion: ContainerdConfigVersion;
  /** The containerd config the NodeConfig part carries. */
  containerdConfig: string;
  arch: Arch;
  amiType: string;
  instanceTypes: string[];
  capacityType: EksCapacityType;
  scaling: { minSize: number; desiredSize: number; maxSize: number };
  diskSize: number;
  metadataHopLimit: number;
  /** Every label a ready node carries: the gVisor label and the user's. */
  nodeLabels: { [key: string]: string };
  /** The labels nodes register with whatever happens (the node group's `labels`): the user's only. */
  registrationLabels: { [key: string]: string };
  /**
   * The labels a node gets only once gVisor is ready on it, from the node
   * bootstrap (the label the RuntimeClass selects): so a node whose install
   * failed never carries it.
   */
  readyLabels: { [key: string]: string };
  /** Every taint the nodes carry, Kubernetes form: the gVisor taint first. */
  nodeTaints: NodeTaint[];
  /** The same taints in the EKS API's form (`NO_SCHEDULE`, …). */
  eksTaints: { key: string; value?: string; effect: string }[];
  runtimeClass: RuntimeClassPlan;
}

const EKS_EFFECT: Readonly<Record<string, string>> = {
  NoSchedule: "NO_SCHEDULE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
};

function objectOrEmpty(value: unknown, property: string): Record<string, unknown> {
  if (value === undefined) return {};
  check(typeof value === "object" && value !== null && !Array.isArray(value), property, `must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

function onlyKeys(value: object, allowed: readonly string[], property: string): void {
  for (const key of Object.keys(value)) {
    check(allowed.includes(key), joinPath(property, key), `is not a known setting; known: ${allowed.join(", ")}`);
  }
}

function integer(value: unknown, min: number, max: number, property: string): number {
  check(
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max,
    property,
    `must be a whole number from ${min} to ${max}, got ${show(value)}`,
  );
  return value;
}

function parseScaling(value: unknown, property: string): EksNodeGroupPlan["scaling"] {
  const s = objectOrEmpty(value, property);
  onlyKeys(s, ["minSize", "desiredSize", "maxSize"], property);
  const at = (k: string) => joinPath(property, k);
  const minSize = s.minSize === undefined ? 1 : integer(s.minSize, 0, 1000, at("minSize"));
  const maxGiven = s.maxSize === undefined ? undefined : integer(s.maxSize, 1, 1000, at("maxSize"));
  const desiredSize =
    s.desiredSize === undefined ? Math.min(Math.max(2, minSize), maxGiven ?? Infinity) : integer(s.desiredSize, 0, 1000, at("desiredSize"));
  const maxSize = maxGiven ?? Math.max(3, desiredSize, minSize);
  check(minSize <= maxSize, at("minSize"), `(${minSize}) must not exceed maxSize (${maxSize})`);
  check(desiredSize >= minSize && desiredSize <= maxSize, at("desiredSize"), `(${desiredSize}) must lie between minSize (${minSize}) and maxSize (${maxSize})`);
  return { minSize, desiredSize, maxSize };
}

function parseInstanceTypes(value: unknown, arch: Arch, archGiven: boolean, property: string): string[] {
  if (value === undefined) return [...DEFAULT_INSTANCE_TYPES[arch]];
  check(Array.isArray(value) && value.length > 0, property, `must be a non-empty list of EC2 instance types, got ${show(value)}`);
  check(value.length <= 20, property, "may list at most 20 instance types");
  const seen = new Set<string>();
  return value.map((t, i) => {
    const at = `${property}[${i}]`;
    const says = parseInstanceType(t, at).arch;
    check(!seen.has(t), at, `repeats ${show(t)}`);
    seen.add(t);
    check(
      says === arch,
      at,
      `${show(t)} is an ${says} type but the node group's arch is ${arch}${archGiven ? "" : " (the default)"}: set arch to "${says}" or pick ${arch} types; one node group runs one AMI type`,
    );
    return t;
  });
}

/** The gVisor setup of the nodes: containerd only (EKS nodes have no Docker). */
function nodeHostPlan(value: unknown, arch: Arch, at: (p: string) => string): HostPlan {
  const gvisor = objectOrEmpty(value, at("gvisor"));
  onlyKeys(gvisor, ["version", "mirror", "runsc", "containerd"], at("gvisor"));
  const containerd = objectOrEmpty(gvisor.containerd, at("gvisor.containerd"));
  onlyKeys(containerd, ["runtimeName", "runscConfigPath"], at("gvisor.containerd"));
  const host = buildHostPlan(
    {
      ...(gvisor.version === undefined ? {} : { version: gvisor.version as string }),
      ...(gvisor.mirror === undefined ? {} : { mirror: gvisor.mirror as string }),
      ...(gvisor.runsc === undefined ? {} : { runsc: gvisor.runsc as RunscOptions }),
      arch,
      docker: { enabled: false },
      containerd: { enabled: true, ...(containerd as EksContainerdInput) },
    },
    at("gvisor"),
  );
  check(
    host.release.channelPath !== "release/latest" && host.release.channelPath !== "nightly/latest",
    at("gvisor.version"),
    `${show(gvisor.version)} moves: nodes launched later would install a different gVisor than nodes launched today; pin a dated release such as "20261020.0"`,
  );
  check(
    host.platform !== "kvm",
    at("gvisor.runsc.platform"),
    '"kvm" needs /dev/kvm, and nested virtualization is not available to EKS managed node groups; leave it unset (systrap, the default)',
  );
  return host;
}

/**
 * Validates a gVisor node group and derives everything that must agree:
 * the containerd handler, the runsc.toml path, the node label and taint, and
 * the RuntimeClass. Throws PlanValidationError naming the property under `root`.
 */
export function buildEksNodeGroupPlan(input: EksNodeGroupInput, root = "args"): EksNodeGroupPlan {
  const at = (p: string) => joinPath(root, p);
  const archOf = (): Arch => (input.arch === undefined ? "x86_64" : parseArch(input.arch, at("arch")));
  // Independent checks, each reported (and each skipped while a value it
  // needs is not known yet, such as the version of a cluster made in the
  // same program) on its own.
  const [kubernetesVersion, arch, instanceTypes, capacityType, scaling, diskSize, metadataHopLimit, host, userLabels, userTaints, rcInput] = collect(
    () => parseKubernetesVersion(input.kubernetesVersion, at("kubernetesVersion")),
    archOf,
    () => parseInstanceTypes(input.instanceTypes, archOf(), input.arch !== undefined, at("instanceTypes")),
    () => {
      const capacityTypes = Object.values(EksCapacityType) as string[];
      const capacityType = (input.capacityType ?? EksCapacityType.OnDemand) as EksCapacityType;
      check(capacityTypes.includes(capacityType), at("capacityType"), `must be one of ${capacityTypes.map((c) => `"${c}"`).join(", ")}, got ${show(input.capacityType)}`);
      return capacityType;
    },
    () => parseScaling(input.scaling, at("scaling")),
    () => (input.diskSize === undefined ? DEFAULT_DISK_SIZE : integer(input.diskSize, 20, 16384, at("diskSize"))),
    () => (input.metadataHopLimit === undefined ? 1 : integer(input.metadataHopLimit, 1, 64, at("metadataHopLimit"))),
    // gVisor on the nodes: containerd only (EKS nodes have no Docker).
    () => nodeHostPlan(input.gvisor, archOf(), at),
    () => (input.labels === undefined ? {} : parseLabels(input.labels, at("labels"))),
    () => (input.taints === undefined ? [] : parseTaints(input.taints, at("taints"))),
    () => {
      const rc = objectOrEmpty(input.runtimeClass, at("runtimeClass"));
      onlyKeys(rc, ["name", "handler", "overhead"], at("runtimeClass"));
      return rc;
    },
  );
  const handler = host.containerd.runtimeName;
  const gvisorScheduling = gvisorNodeScheduling(handler);
  check(
    !(GVISOR_NODE_LABEL in userLabels),
    `${at("labels")}[${show(GVISOR_NODE_LABEL)}]`,
    `is set by the node group itself (to the handler ${show(handler)}), and only once gVisor is ready on the node; remove it`,
  );
  userTaints.forEach((t, i) =>
    check(t.key !== GVISOR_NODE_LABEL, `${at("taints")}[${i}].key`, "is the gVisor taint the node group sets itself; remove it"),
  );
  const nodeLabels = { ...gvisorScheduling.labels, ...userLabels };
  const nodeTaints = [...gvisorScheduling.taints, ...userTaints];

  const containerdConfigVersion = containerdConfigVersionFor(kubernetesVersion);
  const containerdConfig = nodeContainerdConfig(host, containerdConfigVersion);
  const rcHandler = rcInput.handler === undefined ? handler : requireDnsLabel(rcInput.handler, at("runtimeClass.handler"));
  checkHandlerAgreement(
    {
      node: { handler, runscConfigPath: host.containerd.runscConfigPath, containerdConfig },
      runscTomlPath: host.containerd.runscConfigPath,
      runtimeClass: { handler: rcHandler, nodeSelector: gvisorNodeScheduling(rcHandler).labels },
      nodeLabels,
    },
    { runtimeClassHandler: at("runtimeClass.handler"), nodeLabels: at("labels"), node: at("gvisor.containerd") },
  );
  const runtimeClass = buildRuntimeClassPlan(
    {
      preset: RuntimeClassPreset.PulumiGvisor,
      handler,
      ...(rcInput.name === undefined ? {} : { name: rcInput.name as string }),
      ...(rcInput.overhead === undefined ? {} : { overhead: rcInput.overhead as RuntimeClassOverheadInput }),
    },
    at("runtimeClass"),
  );

  return {
    host,
    kubernetesVersion,
    containerdConfigVersion,
    containerdConfig,
    arch,
    amiType: EKS_AMI_TYPES[arch],
    instanceTypes,
    capacityType,
    scaling,
    diskSize,
    metadataHopLimit,
    nodeLabels,
    registrationLabels: userLabels,
    readyLabels: gvisorScheduling.labels,
    nodeTaints,
    eksTaints: nodeTaints.map((t) => ({ key: t.key, ...(t.value === undefined ? {} : { value: t.value }), effect: EKS_EFFECT[t.effect] })),
    runtimeClass,
  };
}
