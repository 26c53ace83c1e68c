import { check, collect, joinPath, show } from "./errors";
import { DEFAULT_VERIFY_IMAGE } from "./host-plan";
import { requireLine, requireWord } from "./text";

// Kubernetes side of gVisor: names, scheduling presets, RuntimeClass and
// smoke-test manifests, and the check that node config, runsc.toml and
// RuntimeClass agree on one handler. Pure functions, no Pulumi, no I/O.

/**
 * The label every node made ready by this package carries, and the key of its
 * NoSchedule taint. The value is the containerd runtime handler the node
 * registers (`runsc` by default), so a RuntimeClass selects exactly the nodes
 * that know its handler. Defined here and nowhere else.
 */
export const GVISOR_NODE_LABEL = "sandbox.pulumi-gvisor.io/runtime";

/** GKE Sandbox: the label and taint key of its gVisor nodes, their value, and the RuntimeClass GKE installs. */
export const GKE_SANDBOX = {
  label: "sandbox.gke.io/runtime",
  value: "gvisor",
  runtimeClassName: "gvisor",
  handler: "gvisor",
} as const;

/** The RuntimeClass name used when none is given. */
export const DEFAULT_RUNTIME_CLASS_NAME = "gvisor";
/** The handler used when none is given: what `containerd.runtimeName` defaults to. */
export const DEFAULT_RUNTIME_HANDLER = "runsc";

/** Which nodes a RuntimeClass schedules onto. */
export const RuntimeClassPreset = {
  /** Nodes made by this package (EksNodeGroup, user data): label and taint `sandbox.pulumi-gvisor.io/runtime=<handler>`. */
  PulumiGvisor: "pulumi-gvisor",
  /** GKE Sandbox node pools. GKE provides the `gvisor` RuntimeClass itself: it is adopted (read), never created or changed. */
  Gke: "gke",
  /** Any other cluster: give the node label (`nodeSelector`) and, optionally, the taints the gVisor nodes carry. */
  Generic: "generic",
} as const;
export type RuntimeClassPreset = (typeof RuntimeClassPreset)[keyof typeof RuntimeClassPreset];

/** Effect of a node taint, as Kubernetes writes it. */
export const TaintEffect = {
  NoSchedule: "NoSchedule",
  PreferNoSchedule: "PreferNoSchedule",
  NoExecute: "NoExecute",
} as const;
export type TaintEffect = (typeof TaintEffect)[keyof typeof TaintEffect];

/** A node taint. */
export interface NodeTaint {
  /** Taint key. */
  key: string;
  /** Taint value. Defaults to none: the toleration then matches any value (operator `Exists`). @default none */
  value?: string;
  /** Taint effect (`NoSchedule`, `PreferNoSchedule`, `NoExecute`). */
  effect: TaintEffect;
}

/** A pod toleration, as the RuntimeClass carries it. */
export interface Toleration {
  /** Taint key tolerated. */
  key: string;
  /** `Equal` (key and value match) or `Exists` (any value). */
  operator: string;
  /** Taint value tolerated, with operator `Equal`. */
  value?: string;
  /** Taint effect tolerated. */
  effect: string;
}

/** Metadata of a rendered RuntimeClass. */
export interface RuntimeClassMetadata {
  /** Object name, what pods put in `runtimeClassName`. */
  name: string;
  /** Labels of the object. */
  labels?: { [key: string]: string };
}

/** Pod overhead of a rendered RuntimeClass. */
export interface RuntimeClassOverhead {
  /** Resource name (`cpu`, `memory`) to quantity. */
  podFixed: { [resource: string]: string };
}

/** Scheduling of a rendered RuntimeClass. */
export interface RuntimeClassScheduling {
  /** Labels a node must have to run pods of the class. */
  nodeSelector: { [key: string]: string };
  /** Tolerations added to every pod of the class. */
  tolerations?: Toleration[];
}

/** The `node.k8s.io/v1` RuntimeClass this package renders. */
export interface RuntimeClassManifest {
  /** Always `node.k8s.io/v1`. */
  apiVersion: string;
  /** Always `RuntimeClass`. */
  kind: string;
  /** Name and labels. */
  metadata: RuntimeClassMetadata;
  /** The containerd runtime handler the nodes register. */
  handler: string;
  /** Pod overhead charged for the sandbox, when set. */
  overhead?: RuntimeClassOverhead;
  /** Which nodes pods of the class run on. */
  scheduling: RuntimeClassScheduling;
}

// ---------------------------------------------------------------------------
// Names

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const NAME_PART = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

/** An RFC 1123 label: what a RuntimeClass `handler` must be. */
export function requireDnsLabel(value: unknown, property: string): string {
  const v = requireLine(value, property);
  check(
    v.length <= 63 && DNS_LABEL.test(v),
    property,
    `must be a DNS label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit, got ${show(v)}`,
  );
  return v;
}

/** An RFC 1123 subdomain: what most object names (a RuntimeClass's among them) must be. */
export function requireDnsSubdomain(value: unknown, property: string): string {
  const v = requireLine(value, property);
  check(
    v.length <= 253 && v.split(".").every((part) => DNS_LABEL.test(part)),
    property,
    `must be a DNS subdomain: at most 253 characters, lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit, got ${show(v)}`,
  );
  return v;
}

/** A label or taint key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function requireLabelKey(value: unknown, property: string): string {
  const v = requireLine(value, property);
  const slash = v.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : v.slice(0, slash);
  const name = slash < 0 ? v : v.slice(slash + 1);
  const why = `must be a label key: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got ${show(v)}`;
  check(name.length <= 63 && NAME_PART.test(name), property, why);
  if (prefix !== undefined) {
    check(prefix.length <= 253 && prefix.split(".").every((part) => DNS_LABEL.test(part)), property, why);
  }
  return v;
}

/** A label or taint value: empty, or at most 63 letters, digits, '-', '_', '.', alphanumeric at both ends. */
export function requireLabelValue(value: unknown, property: string): string {
  check(typeof value === "string", property, `must be a string, got ${show(value)}`);
  check(
    value === "" || (value.length <= 63 && NAME_PART.test(value)),
    property,
    `must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got ${show(value)}`,
  );
  return value;
}

// ---------------------------------------------------------------------------
// Quantities

const QUANTITY = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * A resource quantity for pod overhead: `cpu` in cores (`250m`, `0.5`),
 * `memory` in bytes (`120Mi`, `1G`). Refuses negative values and the usual
 * slips: memory in `m` (milli-bytes), cpu with a byte suffix.
 */
export function requireQuantity(value: unknown, resource: "cpu" | "memory", property: string): string {
  const v = requireLine(typeof value === "number" ? String(value) : value, property);
  check(!v.startsWith("-"), property, `must not be negative, got ${show(v)}`);
  check(
    QUANTITY.test(v.replace(/^\+/, "")),
    property,
    `must be a Kubernetes quantity (e.g. ${resource === "cpu" ? '"250m" or "0.5"' : '"120Mi" or "1Gi"'}), got ${show(v)}`,
  );
  if (resource === "memory") {
    check(!/[num]$/.test(v), property, `${show(v)} is in milli-, micro- or nano-bytes; write memory as e.g. "${v.slice(0, -1)}Mi"`);
  } else {
    check(!/[KMGTPE]i$/.test(v), property, `cpu is counted in cores ("250m", "0.5", "2"), not with a byte suffix, got ${show(v)}`);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Scheduling

/** The label and taint this package puts on gVisor nodes for `handler`: the one source for node groups and RuntimeClasses. */
export function gvisorNodeScheduling(handler: string): { labels: { [key: string]: string }; taints: NodeTaint[] } {
  return {
    labels: { [GVISOR_NODE_LABEL]: handler },
    taints: [{ key: GVISOR_NODE_LABEL, value: handler, effect: TaintEffect.NoSchedule }],
  };
}

/** GKE Sandbox's node label and taint. */
export function gkeSandboxScheduling(): { labels: { [key: string]: string }; taints: NodeTaint[] } {
  return {
    labels: { [GKE_SANDBOX.label]: GKE_SANDBOX.value },
    taints: [{ key: GKE_SANDBOX.label, value: GKE_SANDBOX.value, effect: TaintEffect.NoSchedule }],
  };
}

/** The toleration that lets a pod onto nodes with `taint`. */
export function tolerationFor(taint: NodeTaint): Toleration {
  return taint.value === undefined
    ? { key: taint.key, operator: "Exists", effect: taint.effect }
    : { key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect };
}

function plainObject(value: unknown, property: string): Record<string, unknown> {
  check(typeof value === "object" && value !== null && !Array.isArray(value), property, `must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

function onlyKeys(value: object, allowed: readonly string[], property: string): void {
  for (const key of Object.keys(value)) {
    check(allowed.includes(key), joinPath(property, key), `is not a known setting; known: ${allowed.join(", ")}`);
  }
}

/** Validates a label map (node labels, node selector, metadata labels). */
export function parseLabels(value: unknown, property: string): { [key: string]: string } {
  const obj = plainObject(value, property);
  const out: { [key: string]: string } = {};
  for (const key of Object.keys(obj).sort()) {
    const at = `${property}[${show(key)}]`;
    requireLabelKey(key, at);
    out[key] = requireLabelValue(obj[key], at);
  }
  return out;
}

/** Validates a list of taints; one taint per key and effect. */
export function parseTaints(value: unknown, property: string): NodeTaint[] {
  check(Array.isArray(value), property, `must be a list of taints, got ${show(value)}`);
  const seen = new Set<string>();
  return value.map((raw, i) => {
    const at = `${property}[${i}]`;
    const t = plainObject(raw, at);
    onlyKeys(t, ["key", "value", "effect"], at);
    const key = requireLabelKey(t.key, `${at}.key`);
    const taintValue = t.value === undefined || t.value === "" ? undefined : requireLabelValue(t.value, `${at}.value`);
    const effects = Object.values(TaintEffect) as string[];
    check(
      typeof t.effect === "string" && effects.includes(t.effect),
      `${at}.effect`,
      `must be one of ${effects.map((e) => `"${e}"`).join(", ")}, got ${show(t.effect)}`,
    );
    const effect = t.effect as TaintEffect;
    check(!seen.has(`${key}:${effect}`), at, `repeats the taint ${show(key)} with effect ${effect}`);
    seen.add(`${key}:${effect}`);
    return taintValue === undefined ? { key, effect } : { key, value: taintValue, effect };
  });
}

// ---------------------------------------------------------------------------
// RuntimeClass

/** Pod overhead, as users write it. */
export interface RuntimeClassOverheadInput {
  podFixed?: { cpu?: string; memory?: string };
}

/** A RuntimeClass, as users write it. */
export interface RuntimeClassInput {
  /** @default "pulumi-gvisor" */
  preset?: RuntimeClassPreset;
  /** @default "gvisor" */
  name?: string;
  /** @default "runsc" ("gvisor" with the gke preset) */
  handler?: string;
  /** Generic preset only: the label gVisor nodes carry. */
  nodeSelector?: { [key: string]: string };
  /** Generic preset only: the taints gVisor nodes carry; each gets a toleration. @default [] */
  taints?: NodeTaint[];
  /** @default none */
  overhead?: RuntimeClassOverheadInput;
  /** Labels of the RuntimeClass object. @default {} */
  labels?: { [key: string]: string };
}

/** A validated RuntimeClass: what to create (or adopt), and the scheduling it implies. */
export interface RuntimeClassPlan {
  preset: RuntimeClassPreset;
  name: string;
  handler: string;
  /** False for the gke preset: GKE owns the object; it is read, never written. */
  create: boolean;
  /** The labels a node must carry to be chosen, and the taints it carries. */
  nodeLabels: { [key: string]: string };
  nodeTaints: NodeTaint[];
  manifest: RuntimeClassManifest;
}

/** Parses a preset name (plain value: it decides which resources exist). */
export function parsePreset(value: unknown, property: string): RuntimeClassPreset {
  if (value === undefined) return RuntimeClassPreset.PulumiGvisor;
  const presets = Object.values(RuntimeClassPreset) as string[];
  check(
    typeof value === "string" && presets.includes(value),
    property,
    `must be one of ${presets.map((p) => `"${p}"`).join(", ")}, got ${show(value)}`,
  );
  return value as RuntimeClassPreset;
}

function parseOverhead(value: unknown, property: string): RuntimeClassOverhead | undefined {
  if (value === undefined) return undefined;
  const o = plainObject(value, property);
  onlyKeys(o, ["podFixed"], property);
  if (o.podFixed === undefined) return undefined;
  const at = joinPath(property, "podFixed");
  const p = plainObject(o.podFixed, at);
  onlyKeys(p, ["cpu", "memory"], at);
  const podFixed: { [resource: string]: string } = {};
  if (p.cpu !== undefined) podFixed.cpu = requireQuantity(p.cpu, "cpu", joinPath(at, "cpu"));
  if (p.memory !== undefined) podFixed.memory = requireQuantity(p.memory, "memory", joinPath(at, "memory"));
  return Object.keys(podFixed).length === 0 ? undefined : { podFixed };
}

/** Renders the manifest of a RuntimeClass from validated parts. */
export function runtimeClassManifest(parts: {
  name: string;
  handler: string;
  nodeLabels: { [key: string]: string };
  nodeTaints: NodeTaint[];
  overhead?: RuntimeClassOverhead;
  labels?: { [key: string]: string };
}): RuntimeClassManifest {
  const labels = parts.labels && Object.keys(parts.labels).length > 0 ? parts.labels : undefined;
  const tolerations = parts.nodeTaints.map(tolerationFor);
  return {
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    metadata: labels ? { name: parts.name, labels } : { name: parts.name },
    handler: parts.handler,
    ...(parts.overhead ? { overhead: parts.overhead } : {}),
    scheduling: tolerations.length > 0 ? { nodeSelector: parts.nodeLabels, tolerations } : { nodeSelector: parts.nodeLabels },
  };
}

/**
 * Validates a RuntimeClass and derives its scheduling from the preset.
 * Throws PlanValidationError naming the property under `root`.
 */
export function buildRuntimeClassPlan(input: RuntimeClassInput, root = ""): RuntimeClassPlan {
  const at = (p: string) => joinPath(root, p);
  onlyKeys(input, ["preset", "name", "handler", "nodeSelector", "taints", "overhead", "labels"], root || "args");
  const preset = parsePreset(input.preset, at("preset"));

  if (preset === RuntimeClassPreset.Gke) {
    // GKE installs and reconciles its own RuntimeClass: adopt it, change nothing.
    const owned = "GKE Sandbox installs and manages this RuntimeClass; the gke preset adopts it unchanged";
    check(input.name === undefined || input.name === GKE_SANDBOX.runtimeClassName, at("name"), `must be "${GKE_SANDBOX.runtimeClassName}" (or unset) with the gke preset: ${owned}. For a class of your own on GKE Sandbox nodes, use the generic preset with GKE_SANDBOX's label and taint`);
    check(input.handler === undefined || input.handler === GKE_SANDBOX.handler, at("handler"), `must be "${GKE_SANDBOX.handler}" (or unset) with the gke preset: GKE Sandbox nodes register the handler "${GKE_SANDBOX.handler}", got ${show(input.handler)}`);
    for (const key of ["nodeSelector", "taints", "overhead", "labels"] as const) {
      check(input[key] === undefined, at(key), `cannot be set with the gke preset: ${owned}`);
    }
    const { labels, taints } = gkeSandboxScheduling();
    return {
      preset,
      name: GKE_SANDBOX.runtimeClassName,
      handler: GKE_SANDBOX.handler,
      create: false,
      nodeLabels: labels,
      nodeTaints: taints,
      manifest: runtimeClassManifest({ name: GKE_SANDBOX.runtimeClassName, handler: GKE_SANDBOX.handler, nodeLabels: labels, nodeTaints: taints }),
    };
  }

  // Independent checks, each reported (and each skipped while its value is not known yet) on its own.
  const [name, handler, overhead, labels] = collect(
    () => requireDnsSubdomain(input.name ?? DEFAULT_RUNTIME_CLASS_NAME, at("name")),
    () => {
      const handler = requireDnsLabel(input.handler ?? DEFAULT_RUNTIME_HANDLER, at("handler"));
      check(handler !== "runc", at("handler"), '"runc" is the default, unsandboxed runtime; a gVisor RuntimeClass must name the runsc handler');
      return handler;
    },
    () => parseOverhead(input.overhead, at("overhead")),
    () => (input.labels === undefined ? undefined : parseLabels(input.labels, at("labels"))),
  );

  let nodeLabels: { [key: string]: string };
  let nodeTaints: NodeTaint[];
  if (preset === RuntimeClassPreset.PulumiGvisor) {
    for (const key of ["nodeSelector", "taints"] as const) {
      check(input[key] === undefined, at(key), `is set by the "pulumi-gvisor" preset (label and taint ${GVISOR_NODE_LABEL}=<handler>); use the "generic" preset to choose your own`);
    }
    ({ labels: nodeLabels, taints: nodeTaints } = gvisorNodeScheduling(handler));
  } else {
    check(input.nodeSelector !== undefined, at("nodeSelector"), "is required with the generic preset: the label only gVisor nodes carry, so sandboxed pods never land on nodes without the handler");
    nodeLabels = parseLabels(input.nodeSelector, at("nodeSelector"));
    check(Object.keys(nodeLabels).length > 0, at("nodeSelector"), "must name at least one label that only gVisor nodes carry");
    nodeTaints = input.taints === undefined ? [] : parseTaints(input.taints, at("taints"));
  }
  return {
    preset,
    name,
    handler,
    create: true,
    nodeLabels,
    nodeTaints,
    manifest: runtimeClassManifest({ name, handler, nodeLabels, nodeTaints, overhead, labels }),
  };
}

// ---------------------------------------------------------------------------
// Agreement

/** The three places a handler name lives on a gVisor Kubernetes node setup. */
export interface HandlerAgreementInput {
  /** The node side: the containerd runtime handler and where its runsc.toml is. */
  node: { handler: string; runscConfigPath: string; containerdConfig: string };
  /** Where the node's bootstrap writes runsc.toml. */
  runscTomlPath: string;
  /** The RuntimeClass side. */
  runtimeClass?: { handler: string; nodeSelector: { [key: string]: string } };
  /** The labels the nodes register with. */
  nodeLabels?: { [key: string]: string };
}

/**
 * Refuses a setup whose parts name different handlers: a RuntimeClass whose
 * handler the nodes do not register (pods fail with `no runtime for "x" is
 * configured`), a containerd entry whose ConfigPath is not where runsc.toml is
 * written, or a gVisor node label naming another handler (pods would land on
 * nodes that cannot run them). `property` is the input to blame.
 */
export function checkHandlerAgreement(input: HandlerAgreementInput, property: { runtimeClassHandler: string; nodeLabels: string; node: string }): void {
  const { handler, runscConfigPath, containerdConfig } = input.node;
  const lines = containerdConfig.split("\n").map((l) => l.trim());
  const tables = lines.filter((l) => /^\[.*\.runtimes\.[^.\]]+\]$/.test(l));
  check(
    tables.length === 1 && tables[0].endsWith(`.runtimes.${handler}]`),
    property.node,
    `the node's containerd config registers ${tables.map((t) => show(t)).join(", ") || "no runtime"}, not the handler ${show(handler)}`,
  );
  const configPaths = lines.filter((l) => l.startsWith("ConfigPath ="));
  check(
    configPaths.length === 1 && configPaths[0] === `ConfigPath = ${JSON.stringify(runscConfigPath)}`,
    property.node,
    `the node's containerd entry for ${show(handler)} reads runsc.toml from ${configPaths.join(", ") || "nowhere"}, not ${show(runscConfigPath)}`,
  );
  check(
    input.runscTomlPath === runscConfigPath,
    property.node,
    `runsc.toml is written to ${show(input.runscTomlPath)} but containerd reads it from ${show(runscConfigPath)}`,
  );
  if (input.runtimeClass) {
    check(
      input.runtimeClass.handler === handler,
      property.runtimeClassHandler,
      `is ${show(input.runtimeClass.handler)} but the nodes register the containerd handler ${show(handler)}: pods would fail with 'no runtime for "${input.runtimeClass.handler}" is configured'. Leave it unset to follow the nodes, or change both`,
    );
    const selected = input.runtimeClass.nodeSelector[GVISOR_NODE_LABEL];
    check(
      selected === undefined || selected === handler,
      property.runtimeClassHandler,
      `the RuntimeClass selects nodes labelled ${GVISOR_NODE_LABEL}=${selected}, but these nodes register ${show(handler)}`,
    );
  }
  const label = input.nodeLabels?.[GVISOR_NODE_LABEL];
  check(
    label === undefined || label === handler,
    `${property.nodeLabels}[${show(GVISOR_NODE_LABEL)}]`,
    `must be the node's handler ${show(handler)}: the label tells the scheduler which handler a node runs, got ${show(label)}`,
  );
}

// ---------------------------------------------------------------------------
// Smoke test

/** What the smoke-test Job's container runs: it prints the sandbox kernel and fails unless the pod is under gVisor. */
export const SMOKE_TEST_SCRIPT = [
  'kernel=$(uname -r)',
  'echo "sandbox kernel: $kernel"',
  // Two signals, as on SSH hosts: gVisor reports its own kernel (4.4.0), and
  // has no /proc/kallsyms, which every Linux host kernel has.
  'if [ "$kernel" != 4.4.0 ]; then echo "kernel $kernel is not gVisor\'s 4.4.0: this pod is not running under gVisor" >&2; exit 1; fi',
  'if [ -e /proc/kallsyms ]; then echo "/proc/kallsyms exists: this pod is not running under gVisor" >&2; exit 1; fi',
  'echo "gVisor sandbox: ok"',
].join("\n");

/**
 * pulumi-kubernetes' annotation: a Job that failed to become ready (it failed,
 * or timed out) in an earlier deployment is replaced on the next one, not
 * awaited again. Without it the failed Job stays in state with initialization
 * errors, and every later `pulumi up` waits on that same failed Job until
 * `--replace`.
 */
export const REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready";
/** Pod-template annotation of the smoke Job that carries its trigger (e.g. the nodes' launch template version). */
export const SMOKE_TEST_TRIGGER_ANNOTATION = "sandbox.pulumi-gvisor.io/smoke-test-trigger";

/**
 * The `batch/v1` Job (without name: auto-named, so a replacement can be made
 * before the old Job is deleted) that proves a sandboxed pod starts under
 * `runtimeClassName`. Lifecycle: `trigger` goes into the pod template, which
 * Kubernetes keeps immutable, so a new trigger value replaces the Job and the
 * test runs again (the component also sets `replaceOnChanges: ["spec"]`);
 * `pulumi.com/replaceUnready` makes the next `pulumi up` after a failure run a
 * fresh Job instead of waiting on the failed one.
 */
export function smokeTestJob(parts: { runtimeClassName: string; image?: string; namespace?: string; trigger?: string }, root = "") {
  const [image, namespace, trigger] = collect(
    () => requireWord(parts.image ?? DEFAULT_VERIFY_IMAGE, joinPath(root, "smokeTestImage")),
    () => requireDnsLabel(parts.namespace ?? "default", joinPath(root, "smokeTestNamespace")),
    () => (parts.trigger === undefined ? undefined : requireLine(parts.trigger, joinPath(root, "smokeTestTrigger"))),
  );
  const labels = { "app.kubernetes.io/name": "gvisor-smoke-test", "app.kubernetes.io/managed-by": "pulumi-gvisor" };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { namespace, labels, annotations: { [REPLACE_UNREADY_ANNOTATION]: "true" } },
    spec: {
      backoffLimit: 2,
      activeDeadlineSeconds: 600,
      template: {
        metadata: trigger === undefined ? { labels } : { labels, annotations: { [SMOKE_TEST_TRIGGER_ANNOTATION]: trigger } },
        spec: {
          runtimeClassName: parts.runtimeClassName,
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "uname",
              image,
              command: ["sh", "-c", SMOKE_TEST_SCRIPT],
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
            },
          ],
        },
      },
    },
  };
}

/** The Job's outcome from its status: `Complete`, `Failed` or `Running`. */
export function jobOutcome(status: { conditions?: { type?: string; status?: string }[] } | undefined): string {
  const conditions = status?.conditions ?? [];
  const holds = (type: string) => conditions.some((c) => c.type === type && c.status === "True");
  if (holds("Complete")) return "Complete";
  if (holds("Failed")) return "Failed";
  return "Running";
}
