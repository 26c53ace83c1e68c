import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { check, show } from "../plan/errors";
import { HostPlan } from "../plan/host-plan";
import { runscToml } from "../plan/engines";
import { RunscCgroupMode, SYSTEMD_CGROUP_FLAG, flagWords, runscCgroupMode } from "../plan/runsc-options";
import { GVISOR_NODE_LABEL, NodeTaint, checkHandlerAgreement, gvisorNodeScheduling, parseLabels, parseTaints } from "../plan/kubernetes";
import { optionalBoolean } from "../plan/text";
import {
  KUBELET_CONFIG_PATH,
  NODE_READY_DROP_IN,
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
   * Labels the kubelet registers the node with whatever happens (NodeConfig
   * kubelet flags). Not the label a RuntimeClass selects: that one is a
   * ready label (see readyLabels). Leave unset when something else sets
   * labels (managed node group `labels`). Defaults to none.
   * @default none
   */
  nodeLabels?: { [key: string]: string };
  /**
   * Labels the node gets only once gVisor is ready on it: the bootstrap writes
   * them to a nodeadm drop-in after the install, runsc.toml and the local
   * check succeeded. `sandbox.pulumi-gvisor.io/runtime=<handler>` is always
   * among them; add the label a generic RuntimeClass selects, if any.
   * Defaults to that gVisor label alone.
   * @default { "sandbox.pulumi-gvisor.io/runtime": <handler> }
   */
  readyLabels?: { [key: string]: string };
  /** Taints the kubelet registers the node with (whatever happens: they keep other pods off). Defaults to none. @default none */
  nodeTaints?: NodeTaint[];
  /**
   * Also keep kubelet from starting unless gVisor is ready (a systemd drop-in
   * asserting the ready marker), so a failed node never joins. For Karpenter,
   * which puts its NodePool labels on nodes itself: the NodeClaim then fails
   * to register and Karpenter replaces the node. Defaults to false.
   * @default false
   */
  blockKubeletUntilReady?: boolean;
}

/** How the bootstrap marks a node ready and what it reads from the node. */
export interface NodeBootstrapOptions {
  /** Labels written to the nodeadm drop-in on success. Defaults to the gVisor label for the plan's handler. @default the gVisor label for the plan's handler */
  readyLabels?: { [key: string]: string };
  /** See EksNodeUserDataInput.blockKubeletUntilReady. Defaults to false. @default false */
  blockKubeletUntilReady?: boolean;
  /** Where nodeadm's kubelet config is. Defaults to KUBELET_CONFIG_PATH. @default KUBELET_CONFIG_PATH */
  kubeletConfigPath?: string;
  /** The ready drop-in's path. Defaults to NODE_READY_DROP_IN. @default NODE_READY_DROP_IN */
  readyDropInPath?: string;
  /** The ready marker, written last on success. Defaults to nodeReadyMarker(plan). @default nodeReadyMarker(plan) */
  readyMarkerPath?: string;
  /** Directory of kubelet's systemd drop-ins (for blockKubeletUntilReady). Defaults to `/etc/systemd/system/kubelet.service.d`. @default "/etc/systemd/system/kubelet.service.d" */
  kubeletUnitDropInDir?: string;
}

/** The file the bootstrap writes last, once gVisor is ready: kubelet's start asserts it under blockKubeletUntilReady. */
export const nodeReadyMarker = (plan: HostPlan): string => `${plan.stateDir}/node-ready`;

// Reads the cgroup mode the node's own containerd hands its default runtime
// (runc): `SystemdCgroup` in that runtime's options table, from what
// containerd really loads (`config dump`: imports and version migration
// included). Prints true, false (containerd's default when unset) or unknown.
const READ_RUNC_SYSTEMD_CGROUP = String.raw`node_runc_systemd_cgroup() {
  [ -f "$containerd_config" ] || { echo unknown; return 0; }
  if command -v containerd >/dev/null 2>&1; then
    if ! containerd --config "$containerd_config" config dump >"$gv_boot/containerd.toml" 2>"$gv_boot/containerd.err"; then
      node_fail "containerd cannot read its config $containerd_config: $(head -n 1 "$gv_boot/containerd.err")" "fix the node's containerd config"
    fi
  else
    cp "$containerd_config" "$gv_boot/containerd.toml"
  fi
  awk '
    /^[[:space:]]*\[/ { t = $0; gsub(/[[:space:]"'"'"']/, "", t); next }
    t ~ /\.containerd\]$/ && /^[[:space:]]*default_runtime_name[[:space:]]*=/ {
      v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); gsub(/["'"'"']/, "", v); sub(/[[:space:]]*(#.*)?$/, "", v); def = v
    }
    t ~ /\.runtimes\.[^.]+\.options\]$/ && /^[[:space:]]*SystemdCgroup[[:space:]]*=/ {
      n = t; sub(/^.*\.runtimes\./, "", n); sub(/\.options\]$/, "", n)
      v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[[:space:]]*(#.*)?$/, "", v); sc[n] = v
    }
    END { if (def == "") def = "runc"; print ((def in sc) ? sc[def] : "false") }
  ' "$gv_boot/containerd.toml"
}`;

// Reads kubelet's cgroupDriver: nodeadm's config.json, then its config.json.d
// drop-ins in order (the last one wins, as in kubelet). JSON or YAML.
// Prints systemd, cgroupfs or unknown.
const READ_KUBELET_CGROUP_DRIVER = String.raw`node_kubelet_cgroup_driver() {
  driver=unknown
  for f in "$kubelet_config" "$kubelet_config.d"/*.conf; do
    [ -f "$f" ] || continue
    v=$(sed -n -e 's/.*"cgroupDriver"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' -e 's/^[[:space:]]*cgroupDriver:[[:space:]]*"\{0,1\}\([A-Za-z]*\).*/\1/p' "$f" | tail -n 1)
    [ -z "$v" ] || driver=$v
  done
  echo "$driver"
}`;

/**
 * The root script a node runs before kubelet starts. It fails closed: the
 * node is advertised for gVisor pods (the ready labels, through a nodeadm
 * drop-in) only after every step below succeeded; on any failure it exits
 * non-zero and the node joins without them, so no RuntimeClass selects it.
 *   1. the install step, byte for byte as SSH hosts run it (pinned release,
 *      sha512-verified before anything is moved into place), as its own
 *      script so its early exits and exit trap cannot skip what follows;
 *   2. the cgroup mode: the node's containerd runc `SystemdCgroup` and
 *      kubelet `cgroupDriver`, which runsc must match (or every sandbox
 *      fails); `auto` follows them, an explicit mode must agree;
 *   3. the runsc options tried on the installed runsc, then runsc.toml;
 *   4. the local check: runsc.toml reads back as written, the shim is there;
 *   5. the ready drop-in, then the ready marker.
 *
 * Why a nodeadm drop-in: on EKS AL2023 nodes nodeadm-config.service runs
 * before cloud-init (so containerd's and kubelet's configs exist when this
 * runs), and nodeadm-run.service runs after it, merging
 * `/etc/eks/nodeadm.d/*.yaml` over the user data (kubelet flags appended)
 * before it starts kubelet. A label written there reaches kubelet's
 * `--node-labels` at registration, and only if this script got that far; an
 * AMI without drop-in support never gets the label (closed, not open).
 */
export function renderNodeBootstrapScript(plan: HostPlan, options: NodeBootstrapOptions = {}): string {
  const install = renderStepScript(plan, "install").replace(/\n*$/, "\n");
  const delimiter = `PULUMI_GVISOR_INSTALL_${createHash("sha256").update(install).digest("hex").slice(0, 16)}`;
  check(!install.split("\n").includes(delimiter), "plan", "the install step contains its own heredoc delimiter");
  const readyLabels = options.readyLabels ?? gvisorNodeScheduling(plan.containerd.runtimeName).labels;
  const labelWords = Object.keys(readyLabels).sort().map((k) => `${k}=${readyLabels[k]}`).join(",");
  const readyDropIn = renderNodeConfig({ kubeletFlags: kubeletSchedulingFlags(readyLabels, []) });
  const unitDir = options.kubeletUnitDropInDir ?? "/etc/systemd/system/kubelet.service.d";
  const marker = options.readyMarkerPath ?? nodeReadyMarker(plan);
  const mode = runscCgroupMode(plan.runscFlags);
  const systemdFlags = mode === RunscCgroupMode.Auto ? [...plan.runscFlags, { name: SYSTEMD_CGROUP_FLAG, value: "true" }] : plan.runscFlags;
  const flagCheck = (flags: typeof plan.runscFlags) => flagWords(flags).map((w) => ` ${shellQuote(w)}`).join("");
  const block = options.blockKubeletUntilReady === true;
  return [
    "#!/bin/sh",
    "# pulumi-gvisor: make this node gVisor-ready before nodeadm starts kubelet. Fails closed:",
    "# the ready labels (a nodeadm drop-in) are written only once every step below succeeded.",
    "set -eu",
    "umask 022",
    `ready_dropin=${shellQuote(options.readyDropInPath ?? NODE_READY_DROP_IN)}`,
    `ready_marker=${shellQuote(marker)}`,
    `ready_labels=${shellQuote(labelWords)}`,
    "# No claim of readiness survives from an earlier run.",
    'rm -f "$ready_dropin" "$ready_marker"',
    ...(block
      ? [
          `kubelet_unit_dropin=${shellQuote(`${unitDir}/99-pulumi-gvisor-ready.conf`)}`,
          'mkdir -p "$(dirname "$kubelet_unit_dropin")"',
          `printf '%s\\n' '[Unit]' '# pulumi-gvisor: kubelet starts only once gVisor is ready on this node.' ${shellQuote(`AssertPathExists=${marker}`)} >"$kubelet_unit_dropin"`,
          "if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi",
        ]
      : []),
    "node_fail() {",
    `  echo "pulumi-gvisor node: error: $1; this node does not get the labels $ready_labels, so no gVisor pod is scheduled here${block ? " (and kubelet is kept from starting)" : ""}; $2 and replace the node" >&2`,
    "  exit 1",
    "}",
    'gv_boot=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-gvisor-boot.XXXXXX")',
    "trap 'rm -rf \"$gv_boot\"' EXIT",
    `cat >"$gv_boot/install.sh" <<'${delimiter}'`,
    `${install}${delimiter}`,
    'if ! sh "$gv_boot/install.sh"; then',
    '  node_fail "the gVisor install step failed (its last line above says why)" "fix the cause"',
    "fi",
    "",
    "# cgroup mode: runsc must expect the cgroup paths kubelet and containerd hand it.",
    `containerd_config=${shellQuote(plan.containerd.configPath)}`,
    `kubelet_config=${shellQuote(options.kubeletConfigPath ?? KUBELET_CONFIG_PATH)}`,
    `cgroup_mode=${shellQuote(mode)}`,
    READ_RUNC_SYSTEMD_CGROUP,
    READ_KUBELET_CGROUP_DRIVER,
    "runc_systemd=$(node_runc_systemd_cgroup)",
    "kubelet_driver=$(node_kubelet_cgroup_driver)",
    `case $runc_systemd in true) from_runc=systemd ;; false) from_runc=cgroupfs ;; unknown) from_runc=unknown ;; *) node_fail "containerd's runc SystemdCgroup is \\"$runc_systemd\\", not true or false" "fix the node's containerd config" ;; esac`,
    `case $kubelet_driver in systemd | cgroupfs | unknown) ;; *) node_fail "kubelet's cgroupDriver is \\"$kubelet_driver\\", not systemd or cgroupfs" "fix the node's kubelet config" ;; esac`,
    'if [ "$from_runc" != unknown ] && [ "$kubelet_driver" != unknown ] && [ "$from_runc" != "$kubelet_driver" ]; then',
    `  node_fail "this node disagrees with itself: containerd's runc has SystemdCgroup = $runc_systemd but kubelet's cgroupDriver is $kubelet_driver, so no runsc cgroup mode can match" "make containerd and kubelet use the same cgroup driver"`,
    "fi",
    'node_driver=$from_runc; [ "$node_driver" != unknown ] || node_driver=$kubelet_driver',
    'if [ "$cgroup_mode" = auto ]; then',
    '  [ "$node_driver" != unknown ] || node_fail "runsc.cgroupMode is auto but this node shows no cgroup driver (no containerd config at $containerd_config, no cgroupDriver in $kubelet_config)" "set runsc.cgroupMode to systemd or cgroupfs"',
    '  cgroup_mode=$node_driver',
    'elif [ "$node_driver" != unknown ] && [ "$cgroup_mode" != "$node_driver" ]; then',
    '  node_fail "runsc.cgroupMode is $cgroup_mode but this node uses the $node_driver cgroup driver (containerd runc SystemdCgroup = $runc_systemd, kubelet cgroupDriver = $kubelet_driver); every sandbox would fail to start" "set runsc.cgroupMode to auto (or $node_driver)"',
    "fi",
    'echo "pulumi-gvisor node: cgroup mode $cgroup_mode (containerd runc SystemdCgroup = $runc_systemd, kubelet cgroupDriver = $kubelet_driver)" >&2',
    "",
    // runsc refuses unknown global flags only when it runs, so a runsc.toml
    // the installed binary does not accept would fail every sandboxed pod:
    // try the flags on the binary first, as the configure steps do.
    `runsc_path=${shellQuote(plan.runscPath)}`,
    `runsc_toml_path=${shellQuote(plan.containerd.runscConfigPath)}`,
    'if [ "$cgroup_mode" = systemd ]; then',
    `  runsc_check=$("$runsc_path"${flagCheck(systemdFlags)} --version 2>&1) || runsc_refused=1`,
    `  runsc_toml=${shellQuote(runscToml(plan.runscPath, systemdFlags))}`,
    "else",
    `  runsc_check=$("$runsc_path"${flagCheck(plan.runscFlags)} --version 2>&1) || runsc_refused=1`,
    `  runsc_toml=${shellQuote(plan.containerd.runscToml)}`,
    "fi",
    'if [ "${runsc_refused:-0}" = 1 ]; then',
    `  node_fail "the installed runsc refuses the runsc options: $(printf '%s\\n' "$runsc_check" | head -n 1)" "fix the options"`,
    "fi",
    'mkdir -p "$(dirname "$runsc_toml_path")"',
    `printf '%s' "$runsc_toml" >"$runsc_toml_path.pulumi-gvisor-new"`,
    'chmod 0644 "$runsc_toml_path.pulumi-gvisor-new"',
    'mv -f "$runsc_toml_path.pulumi-gvisor-new" "$runsc_toml_path"',
    'echo "pulumi-gvisor node: wrote $runsc_toml_path" >&2',
    "",
    "# Local check: what containerd's shim will read and run is in place.",
    `printf '%s' "$runsc_toml" >"$gv_boot/runsc.toml.expected"`,
    'cmp -s "$gv_boot/runsc.toml.expected" "$runsc_toml_path" || node_fail "$runsc_toml_path does not read back as written" "check the disk"',
    `shim_path=${shellQuote(`${plan.installDir === "/" ? "" : plan.installDir}/containerd-shim-runsc-v1`)}`,
    `[ -x "$shim_path" ] || node_fail "the containerd shim $shim_path is missing or not executable" "check the release's contents"`,
    "",
    "# Ready: only now may the node be advertised for gVisor pods.",
    'mkdir -p "$(dirname "$ready_dropin")" "$(dirname "$ready_marker")"',
    `printf '%s' ${shellQuote(readyDropIn)} >"$ready_dropin.pulumi-gvisor-new"`,
    'mv -f "$ready_dropin.pulumi-gvisor-new" "$ready_dropin"',
    'date -u +%Y-%m-%dT%H:%M:%SZ >"$ready_marker"',
    'echo "pulumi-gvisor node: gVisor is ready; wrote $ready_dropin (kubelet registers the labels $ready_labels)" >&2',
    "",
  ].join("\n");
}

/**
 * User data for an EKS Amazon Linux 2023 node that makes it gVisor-ready
 * before kubelet starts: a MIME multipart document with
 *   1. an `application/node.eks.aws` NodeConfig whose containerd config
 *      registers the runsc handler (v3 form for Kubernetes 1.33+, where nodes
 *      run containerd 2; v2 form before), plus kubelet flags for the
 *      registration labels and taints, when given;
 *   2. a `text/x-shellscript` part (see renderNodeBootstrapScript), which
 *      adds the ready labels only once gVisor works on the node.
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
  const gvisorLabel = gvisorNodeScheduling(handler).labels;
  const extraReady = input.readyLabels === undefined ? {} : parseLabels(input.readyLabels, "readyLabels");
  const readyLabels = { ...extraReady, ...gvisorLabel };
  checkHandlerAgreement(
    { node: { handler, runscConfigPath: plan.containerd.runscConfigPath, containerdConfig }, runscTomlPath: plan.containerd.runscConfigPath, nodeLabels: extraReady },
    { runtimeClassHandler: "plan.containerd.runtimeName", nodeLabels: "readyLabels", node: "plan.containerd" },
  );
  for (const key of Object.keys(labels)) {
    check(
      !(key in readyLabels),
      `nodeLabels[${show(key)}]`,
      key === GVISOR_NODE_LABEL
        ? "is set by the node bootstrap itself, and only once gVisor is ready on the node (so a node whose install failed never carries it); remove it from nodeLabels"
        : "is also a ready label; a label the RuntimeClass selects must be set only once gVisor is ready: keep it in readyLabels alone",
    );
  }
  taints.forEach((t, i) =>
    check(
      t.key !== GVISOR_NODE_LABEL || t.value === handler,
      `nodeTaints[${i}].value`,
      `must be the node's handler ${show(handler)} for the gVisor taint ${GVISOR_NODE_LABEL}, got ${show(t.value)}`,
    ),
  );
  const blockKubeletUntilReady = optionalBoolean(input.blockKubeletUntilReady, "blockKubeletUntilReady") ?? false;
  const script = packShellScript(renderNodeBootstrapScript(plan, { readyLabels, blockKubeletUntilReady }));
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
  // Lines of 996 base64 characters: within the 998 a MIME line may have, and
  // ~200 bytes fewer newlines than the usual 76.
  const payload = gzipSync(Buffer.from(script, "utf8"), { level: 9 }).toString("base64").match(/.{1,996}/g) ?? [];
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
