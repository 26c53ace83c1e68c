import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { check, show } from "../plan/errors";
import { HostPlan } from "../plan/host-plan";
import { flagWords } from "../plan/runsc-options";
import { GVISOR_NODE_LABEL, NodeTaint, checkHandlerAgreement, parseLabels, parseTaints } from "../plan/kubernetes";
import {
  containerdConfigVersionFor,
  kubeletSchedulingFlags,
  nodeContainerdConfig,
  parseKubernetesVersion,
  renderMimeMultipart,
  renderNodeConfig,
} from "../plan/user-data";
import { shellQuote } from "./quote";
import { renderStepScript } from "./render";

/** What an EKS node's user data is rendered from. */
export interface EksNodeUserDataInput {
  /** The gVisor plan (`buildHostPlan`): release, runsc options, containerd handler and runsc.toml path. */
  plan: HostPlan;
  /** The nodes' Kubernetes version (`"1.33"`): picks the containerd config form (v3 from 1.33, v2 before). */
  kubernetesVersion: string;
  /**
   * Labels the kubelet registers the node with (NodeConfig kubelet flags).
   * Leave unset when something else sets them (managed node group `labels`,
   * a Karpenter NodePool). @default none
   */
  nodeLabels?: { [key: string]: string };
  /** Taints the kubelet registers the node with. @default none */
  nodeTaints?: NodeTaint[];
}

/**
 * The root script a node runs before kubelet starts: the install step, byte
 * for byte as SSH hosts run it (pinned release, sha512-verified before
 * anything is moved into place), then runsc.toml for the containerd shim.
 * The install step runs as its own script, so its early exits (nothing to do)
 * and exit trap cannot skip or disturb the runsc.toml write.
 */
export function renderNodeBootstrapScript(plan: HostPlan): string {
  const install = renderStepScript(plan, "install").replace(/\n*$/, "\n");
  const delimiter = `PULUMI_GVISOR_INSTALL_${createHash("sha256").update(install).digest("hex").slice(0, 16)}`;
  check(!install.split("\n").includes(delimiter), "plan", "the install step contains its own heredoc delimiter");
  return [
    "#!/bin/sh",
    "# pulumi-gvisor: make this Kubernetes node gVisor-ready before kubelet starts.",
    "# cloud-init runs this part; nodeadm starts containerd and kubelet after it.",
    "#   1. the install step: the pinned gVisor release, sha512-verified, installed",
    "#      with runsc and containerd-shim-runsc-v1 on containerd's PATH;",
    "#   2. the runsc options, tried on the installed runsc, then written to",
    "#      runsc.toml, the options of the containerd runsc shim.",
    "# The runtime itself is registered by the NodeConfig part (containerd config).",
    "set -eu",
    "umask 022",
    'gv_boot=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-gvisor-boot.XXXXXX")',
    "trap 'rm -rf \"$gv_boot\"' EXIT",
    `cat >"$gv_boot/install.sh" <<'${delimiter}'`,
    `${install}${delimiter}`,
    'if ! sh "$gv_boot/install.sh"; then',
    '  echo "pulumi-gvisor node: error: the gVisor install step failed (its last line above says why); sandboxed pods cannot start on this node; fix the cause and replace the node" >&2',
    "  exit 1",
    "fi",
    // runsc refuses unknown global flags only when it runs, so a runsc.toml
    // the installed binary does not accept would fail every sandboxed pod:
    // try the flags on the binary first, as the configure steps do.
    `runsc_path=${shellQuote(plan.runscPath)}`,
    `if ! runsc_check=$("$runsc_path"${flagWords(plan.runscFlags).map((w) => ` ${shellQuote(w)}`).join("")} --version 2>&1); then`,
    '  echo "pulumi-gvisor node: error: the installed runsc refuses the runsc options: $(printf \'%s\\n\' "$runsc_check" | head -n 1); sandboxed pods cannot start on this node; fix the options and replace the node" >&2',
    "  exit 1",
    "fi",
    `runsc_toml_path=${shellQuote(plan.containerd.runscConfigPath)}`,
    `runsc_toml=${shellQuote(plan.containerd.runscToml)}`,
    'mkdir -p "$(dirname "$runsc_toml_path")"',
    "printf '%s' \"$runsc_toml\" >\"$runsc_toml_path.pulumi-gvisor-new\"",
    'chmod 0644 "$runsc_toml_path.pulumi-gvisor-new"',
    'mv -f "$runsc_toml_path.pulumi-gvisor-new" "$runsc_toml_path"',
    'echo "pulumi-gvisor node: wrote $runsc_toml_path; gVisor is ready for containerd" >&2',
    "",
  ].join("\n");
}

/**
 * User data for an EKS Amazon Linux 2023 node that makes it gVisor-ready
 * before kubelet starts: a MIME multipart document with
 *   1. an `application/node.eks.aws` NodeConfig whose containerd config
 *      registers the runsc handler (v3 form for Kubernetes 1.33+, where nodes
 *      run containerd 2; v2 form before), plus kubelet flags for the labels
 *      and taints, when given;
 *   2. a `text/x-shellscript` part (see renderNodeBootstrapScript).
 * For launch templates, Auto Scaling groups and Karpenter EC2NodeClasses;
 * EKS managed node groups merge their own NodeConfig (cluster name, endpoint,
 * CA) into it. Throws PlanValidationError naming the input property.
 */
export function renderEksNodeUserData(input: EksNodeUserDataInput): string {
  const { plan } = input;
  const version = parseKubernetesVersion(input.kubernetesVersion, "kubernetesVersion");
  const containerdConfig = nodeContainerdConfig(plan, containerdConfigVersionFor(version));
  const labels = input.nodeLabels === undefined ? {} : parseLabels(input.nodeLabels, "nodeLabels");
  const taints = input.nodeTaints === undefined ? [] : parseTaints(input.nodeTaints, "nodeTaints");
  const handler = plan.containerd.runtimeName;
  checkHandlerAgreement(
    { node: { handler, runscConfigPath: plan.containerd.runscConfigPath, containerdConfig }, runscTomlPath: plan.containerd.runscConfigPath, nodeLabels: labels },
    { runtimeClassHandler: "plan.containerd.runtimeName", nodeLabels: "nodeLabels", node: "plan.containerd" },
  );
  taints.forEach((t, i) =>
    check(
      t.key !== GVISOR_NODE_LABEL || t.value === handler,
      `nodeTaints[${i}].value`,
      `must be the node's handler ${show(handler)} for the gVisor taint ${GVISOR_NODE_LABEL}, got ${show(t.value)}`,
    ),
  );
  const script = packShellScript(renderNodeBootstrapScript(plan));
  const doc = renderMimeMultipart([
    { contentType: "application/node.eks.aws", body: renderNodeConfig({ containerdConfig, kubeletFlags: kubeletSchedulingFlags(labels, taints) }) },
    { contentType: 'text/x-shellscript; charset="us-ascii"', body: script },
  ]);
  check(
    Buffer.byteLength(doc) <= EC2_USER_DATA_LIMIT,
    "plan",
    `renders ${Buffer.byteLength(doc)} bytes of user data; EC2 accepts at most ${EC2_USER_DATA_LIMIT}`,
  );
  return doc;
}

/** EC2 refuses user data larger than this (before base64). */
export const EC2_USER_DATA_LIMIT = 16384;

const PACKED = "PULUMI_GVISOR_PACKED";

/**
 * The bootstrap gzipped and base64-encoded inside a small script that
 * unpacks and runs it: the install step carries its shell library, and
 * uncompressed it would not fit in EC2's 16 KiB of user data. The packed
 * text is deterministic (gzip with no timestamp), so an unchanged plan gives
 * unchanged user data. `unpackShellScript` reverses it, for review and tests.
 */
export function packShellScript(script: string): string {
  const payload = gzipSync(Buffer.from(script, "utf8"), { level: 9 }).toString("base64").match(/.{1,76}/g) ?? [];
  return [
    "#!/bin/sh",
    "# pulumi-gvisor node bootstrap, gzip + base64 to fit EC2's 16 KiB user-data limit.",
    "# To read it: sed -n '/^H4sI/,/^PULUMI_GVISOR_PACKED$/p' | sed '$d' | base64 -d | gunzip",
    "set -eu",
    'gv_pack=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-gvisor-pack.XXXXXX")',
    "trap 'rm -rf \"$gv_pack\"' EXIT",
    `base64 -d >"$gv_pack/bootstrap.sh.gz" <<'${PACKED}'`,
    ...payload,
    PACKED,
    'gunzip "$gv_pack/bootstrap.sh.gz"',
    'sh "$gv_pack/bootstrap.sh"',
    "",
  ].join("\n");
}

/** The script inside `packShellScript`'s output. */
export function unpackShellScript(packed: string): string {
  const lines = packed.split("\n");
  const start = lines.findIndex((l) => l.startsWith("base64 -d "));
  const end = lines.indexOf(PACKED, start + 1);
  if (start < 0 || end < 0) throw new Error("not a packed pulumi-gvisor script");
  return gunzipSync(Buffer.from(lines.slice(start + 1, end).join(""), "base64")).toString("utf8");
}
