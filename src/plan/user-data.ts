import { createHash } from "node:crypto";
import { ContainerdConfigVersion } from "./engines";
import { check, show } from "./errors";
import { HostPlan } from "./host-plan";
import { NodeTaint } from "./kubernetes";

// Pieces of Kubernetes node user data that need no step scripts: the
// Kubernetes version → containerd config form rule, the containerd config
// carried by an EKS NodeConfig, the NodeConfig document itself, and the MIME
// multipart envelope. Pure functions; the composition with the install step
// lives in scripts/node-user-data.ts.

/**
 * Where nodeadm-run.service (EKS AL2023 AMIs) reads NodeConfig drop-ins, after
 * cloud-init has run the user-data scripts and before it starts kubelet; they
 * are merged over the user data's NodeConfig, kubelet flags appended.
 */
export const NODEADM_DROP_IN_DIR = "/etc/eks/nodeadm.d";
/** The drop-in the node bootstrap writes only once gVisor is ready: it carries the ready labels. */
export const NODE_READY_DROP_IN = `${NODEADM_DROP_IN_DIR}/90-pulumi-gvisor-ready.yaml`;
/** The kubelet config nodeadm writes (its drop-ins are `<path>.d/*.conf`): where the node's `cgroupDriver` is read. */
export const KUBELET_CONFIG_PATH = "/etc/kubernetes/kubelet/config.json";

/** The first Kubernetes minor whose EKS Amazon Linux 2023 nodes run containerd 2 (config `version = 3`). */
export const CONTAINERD2_FROM_MINOR = 33;

/** A Kubernetes `major.minor` version, as EKS node groups take it. */
export interface KubernetesVersion {
  minor: number;
  /** `1.<minor>` */
  text: string;
}

/** Parses `1.33`-style versions. Numbers are refused: `1.30` as a number is `1.3`. */
export function parseKubernetesVersion(value: unknown, property: string): KubernetesVersion {
  check(
    typeof value !== "number",
    property,
    `must be a string such as "1.33", got the number ${show(value)} (a number loses trailing zeros: 1.30 becomes 1.3)`,
  );
  check(typeof value === "string", property, `must be a Kubernetes version such as "1.33", got ${show(value)}`);
  const m = /^1\.(0|[1-9]\d{0,2})$/.exec(value.trim());
  check(m !== null, property, `must be a Kubernetes major.minor version such as "1.33" (no "v", no patch), got ${show(value)}`);
  const minor = Number(m[1]);
  return { minor, text: `1.${minor}` };
}

/** The containerd config version a node of this Kubernetes version reads: 3 (containerd 2) from 1.33, 2 (containerd 1.7) before. */
export function containerdConfigVersionFor(version: KubernetesVersion): ContainerdConfigVersion {
  return version.minor >= CONTAINERD2_FROM_MINOR ? 3 : 2;
}

/**
 * The containerd config nodeadm merges into the node's own: the plan's runsc
 * runtime tables in the form that node's containerd reads. No `version` line:
 * the node's base config owns it, and a partial config must not override it.
 */
export function nodeContainerdConfig(plan: HostPlan, version: ContainerdConfigVersion): string {
  return version === 3 ? plan.containerd.blockV3 : plan.containerd.blockV2;
}

/** kubelet flags that register a node with labels and taints (sorted, so the text is stable). */
export function kubeletSchedulingFlags(labels: { [key: string]: string }, taints: readonly NodeTaint[]): string[] {
  const flags: string[] = [];
  const keys = Object.keys(labels).sort();
  if (keys.length > 0) flags.push(`--node-labels=${keys.map((k) => `${k}=${labels[k]}`).join(",")}`);
  if (taints.length > 0) {
    const words = taints.map((t) => `${t.key}${t.value === undefined ? "" : `=${t.value}`}:${t.effect}`);
    flags.push(`--register-with-taints=${words.join(",")}`);
  }
  return flags;
}

/** A YAML scalar: JSON strings are valid YAML double-quoted scalars. */
const yamlString = (s: string) => JSON.stringify(s);

/** A YAML literal block (`|`) of `text` at `indent` spaces; `text` ends with one newline. */
function yamlLiteral(text: string, indent: number): string {
  check(!/^\s/.test(text), "containerdConfig", "must not start with whitespace (it is written as a YAML literal block)");
  const pad = " ".repeat(indent);
  const body = text.replace(/\n+$/, "").split("\n").map((line) => (line === "" ? "" : `${pad}${line}`));
  return `|\n${body.join("\n")}`;
}

/**
 * An EKS `NodeConfig` (node.eks.aws/v1alpha1) carrying a containerd config to
 * merge and/or extra kubelet flags. nodeadm merges it with the NodeConfig EKS
 * itself adds (cluster name, endpoint, CA), and with drop-ins in
 * `/etc/eks/nodeadm.d/` (where the node bootstrap puts its ready label).
 */
export function renderNodeConfig(parts: { containerdConfig?: string; kubeletFlags?: readonly string[] }): string {
  const lines = ["---", "apiVersion: node.eks.aws/v1alpha1", "kind: NodeConfig", "spec:"];
  if (parts.containerdConfig !== undefined) {
    lines.push("  containerd:", `    config: ${yamlLiteral(parts.containerdConfig, 6)}`);
  }
  if (parts.kubeletFlags && parts.kubeletFlags.length > 0) {
    lines.push("  kubelet:", "    flags:", ...parts.kubeletFlags.map((f) => `      - ${yamlString(f)}`));
  }
  check(lines.length > 4, "parts", "must carry a containerd config or kubelet flags");
  return `${lines.join("\n")}\n`;
}

/** One part of a MIME multipart document. */
export interface MimePart {
  /** e.g. `application/node.eks.aws`, `text/x-shellscript; charset="us-ascii"` */
  contentType: string;
  body: string;
  /**
   * Send a body that is not 7-bit ASCII (or has lines over 998 characters)
   * base64-encoded. cloud-init decodes base64 parts; nodeadm does not, so a
   * NodeConfig part must stay 7-bit and is refused otherwise. @default false
   */
  base64IfNeeded?: boolean;
}

// RFC 5322 caps lines at 998 octets; cloud-init reads any part, but an
// over-long or non-ASCII body travels base64-encoded to stay a valid message.
// eslint-disable-next-line no-control-regex
const SEVEN_BIT = (body: string) => /^[\x09\x0a\x20-\x7e]*$/.test(body) && body.split("\n").every((l) => l.length <= 998);

/**
 * A `multipart/mixed` document (what cloud-init and EKS managed node groups
 * read). The boundary is derived from the content, so equal parts give equal
 * bytes, and it is checked to occur in no part. Each body is kept byte for
 * byte: the newline before a delimiter belongs to the delimiter (RFC 2046).
 */
export function renderMimeMultipart(parts: readonly MimePart[]): string {
  check(parts.length > 0, "parts", "must not be empty");
  const digest = createHash("sha256");
  for (const p of parts) digest.update(p.contentType).update("\0").update(p.body).update("\0");
  const boundary = `==pulumi-gvisor-${digest.digest("hex").slice(0, 24)}==`;
  let doc = `MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="${boundary}"\n\n`;
  for (const p of parts) {
    check(/^[a-z0-9.+-]+\/[a-z0-9.+-]+(?:; ?[a-z-]+="?[A-Za-z0-9._-]+"?)*$/.test(p.contentType), "contentType", `is not a MIME content type: ${show(p.contentType)}`);
    const sevenBit = SEVEN_BIT(p.body);
    check(sevenBit || p.base64IfNeeded === true, "body", `of the ${p.contentType} part must be 7-bit ASCII with lines of at most 998 characters`);
    const body = sevenBit ? p.body : (Buffer.from(p.body, "utf8").toString("base64").match(/.{1,76}/g) ?? []).join("\n");
    check(!body.includes(`--${boundary}`), "body", "contains the MIME boundary");
    const encoding = sevenBit ? "7bit" : "base64";
    // The newline after the body belongs to the next delimiter, not to the body.
    doc += `--${boundary}\nContent-Type: ${p.contentType}\nContent-Transfer-Encoding: ${encoding}\n\n${body}\n`;
  }
  return `${doc}--${boundary}--\n`;
}
