import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load as loadYaml } from "js-yaml";
import { parse as parseToml } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { buildEksNodeGroupPlan } from "../../src/plan/eks";
import { PlanValidationError } from "../../src/plan/errors";
import { HostPlan, buildHostPlan } from "../../src/plan/host-plan";
import { GVISOR_NODE_LABEL, gvisorNodeScheduling } from "../../src/plan/kubernetes";
import { renderMimeMultipart, renderNodeConfig } from "../../src/plan/user-data";
import { EC2_USER_DATA_LIMIT, packShellScript, renderEksNodeUserData, renderNodeBootstrapScript, unpackShellScript } from "../../src/scripts/node-user-data";
import { renderStepScript } from "../../src/scripts/render";
import { parseMultipart } from "./support/mime";

const nodePlan = (extra: Parameters<typeof buildHostPlan>[0] = {}): HostPlan =>
  buildHostPlan({ arch: "arm64", docker: { enabled: false }, containerd: { enabled: true }, ...extra });

/** The document as cloud-init reads it: Python's email package, the parser cloud-init uses. */
function readWithPython(doc: string): { contentType: string; charset: string | null; payload: string }[] {
  const program = [
    "import email, json, sys",
    "msg = email.message_from_string(sys.stdin.read())",
    "assert msg.is_multipart(), 'not multipart'",
    "assert not msg.defects, msg.defects",
    "out = []",
    "for part in msg.walk():",
    "    if part.is_multipart(): continue",
    "    assert not part.defects, part.defects",
    "    out.append({'contentType': part.get_content_type(), 'charset': part.get_content_charset(), 'payload': part.get_payload(decode=True).decode('utf-8')})",
    "print(json.dumps(out))",
  ].join("\n");
  return JSON.parse(execFileSync("python3", ["-c", program], { input: doc, encoding: "utf8" }));
}

function nodeConfigOf(doc: string): any {
  const part = parseMultipart(doc).parts.find((p) => p.headers["content-type"] === "application/node.eks.aws");
  if (!part) throw new Error("no NodeConfig part");
  return loadYaml(part.body);
}

/** The shell part as sent (packed). */
function packedScriptOf(doc: string): string {
  const part = parseMultipart(doc).parts.find((p) => p.headers["content-type"].startsWith("text/x-shellscript"));
  if (!part) throw new Error("no shell part");
  return part.body;
}

/** The node bootstrap the shell part unpacks and runs. */
const scriptOf = (doc: string): string => unpackShellScript(packedScriptOf(doc));

const labelled = (plan: HostPlan) => gvisorNodeScheduling(plan.containerd.runtimeName);

describe("EKS node user data: the MIME document", () => {
  const plan = nodePlan();
  const doc = renderEksNodeUserData({ plan, kubernetesVersion: "1.33", nodeLabels: { zone: "b" }, nodeTaints: labelled(plan).taints });

  it("is multipart/mixed with a NodeConfig part, then a shell part, read the same by a strict parser and by Python's email package", () => {
    const parsed = parseMultipart(doc);
    expect(parsed.parts.map((p) => p.headers["content-type"])).toEqual(["application/node.eks.aws", 'text/x-shellscript; charset="us-ascii"']);
    expect(parsed.parts.map((p) => p.headers["content-transfer-encoding"])).toEqual(["7bit", "7bit"]);
    const python = readWithPython(doc);
    expect(python.map((p) => p.contentType)).toEqual(["application/node.eks.aws", "text/x-shellscript"]);
    expect(python[1].charset).toBe("us-ascii");
    // Byte for byte the same bodies: nothing lost or added at the boundaries.
    expect(python.map((p) => p.payload)).toEqual(parsed.parts.map((p) => p.body));
  });

  it("is byte-stable: equal inputs give equal documents, a changed input a different boundary", () => {
    const again = renderEksNodeUserData({ plan: nodePlan(), kubernetesVersion: "1.33", nodeLabels: { zone: "b" }, nodeTaints: labelled(plan).taints });
    expect(again).toBe(doc);
    const other = renderEksNodeUserData({ plan: nodePlan({ runsc: { network: "none" } }), kubernetesVersion: "1.33" });
    expect(parseMultipart(other).boundary).not.toBe(parseMultipart(doc).boundary);
  });

  it("carries a NodeConfig whose containerd config registers runsc in the v3 form for 1.33 (containerd 2)", () => {
    const nodeConfig = nodeConfigOf(doc);
    expect(nodeConfig.apiVersion).toBe("node.eks.aws/v1alpha1");
    expect(nodeConfig.kind).toBe("NodeConfig");
    expect(Object.keys(nodeConfig.spec).sort()).toEqual(["containerd", "kubelet"]);
    const toml = parseToml(nodeConfig.spec.containerd.config) as any;
    // The node's base config owns the version; the part only adds tables.
    expect(toml.version).toBeUndefined();
    expect(Object.keys(toml.plugins)).toEqual(["io.containerd.cri.v1.runtime"]);
    expect(toml.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes).toEqual({
      runsc: {
        runtime_type: "io.containerd.runsc.v1",
        options: { TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: "/etc/containerd/runsc.toml" },
      },
    });
  });

  it("uses the v2 form (containerd 1.7) for Kubernetes before 1.33, and never both", () => {
    const v2 = parseToml(nodeConfigOf(renderEksNodeUserData({ plan, kubernetesVersion: "1.32" })).spec.containerd.config) as any;
    expect(v2.version).toBeUndefined();
    expect(Object.keys(v2.plugins)).toEqual(["io.containerd.grpc.v1.cri"]);
    expect(v2.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runsc.runtime_type).toBe("io.containerd.runsc.v1");
    expect(v2.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runsc.options.ConfigPath).toBe("/etc/containerd/runsc.toml");
  });

  it("registers the registration labels and taints through kubelet flags, never the ready label, and adds no kubelet section otherwise", () => {
    expect(nodeConfigOf(doc).spec.kubelet).toEqual({
      flags: ["--node-labels=zone=b", `--register-with-taints=${GVISOR_NODE_LABEL}=runsc:NoSchedule`],
    });
    expect(JSON.stringify(nodeConfigOf(doc))).not.toContain(`${GVISOR_NODE_LABEL}=runsc,`);
    expect(nodeConfigOf(doc).spec.kubelet.flags[0]).not.toContain(GVISOR_NODE_LABEL);
    const bare = nodeConfigOf(renderEksNodeUserData({ plan, kubernetesVersion: "1.33" }));
    expect(Object.keys(bare.spec)).toEqual(["containerd"]);
  });

  it("refuses the ready label among the registration labels (a failed node would carry it), and labels, taints or options that disagree or are malformed, naming the input", () => {
    const attempt = (input: Partial<Parameters<typeof renderEksNodeUserData>[0]>) => () =>
      renderEksNodeUserData({ plan, kubernetesVersion: "1.33", ...input });
    expect(attempt({ nodeLabels: labelled(plan).labels })).toThrowError(
      /^nodeLabels\["sandbox.pulumi-gvisor.io\/runtime"\]: is set by the node bootstrap itself, and only once gVisor is ready on the node/,
    );
    expect(attempt({ readyLabels: { "example.com/gvisor": "yes" }, nodeLabels: { "example.com/gvisor": "yes" } })).toThrowError(
      /^nodeLabels\["example.com\/gvisor"\]: is also a ready label/,
    );
    expect(attempt({ readyLabels: { [GVISOR_NODE_LABEL]: "gvisor" } })).toThrowError(/readyLabels\["sandbox.pulumi-gvisor.io\/runtime"\]: must be the node's handler "runsc"/);
    expect(attempt({ nodeTaints: [{ key: GVISOR_NODE_LABEL, value: "gvisor", effect: "NoSchedule" }] })).toThrowError(/nodeTaints\[0\].value/);
    expect(attempt({ nodeLabels: { "a b": "c" } })).toThrowError(PlanValidationError);
    expect(attempt({ blockKubeletUntilReady: "yes" as unknown as boolean })).toThrowError(/^blockKubeletUntilReady: must be true or false, got "yes"/);
    expect(attempt({ kubernetesVersion: "1.33.0" })).toThrowError(/^kubernetesVersion: /);
  });

  it("puts the ready labels (the gVisor one always, plus any given) only into the drop-in the bootstrap writes on success", () => {
    const withExtra = scriptOf(renderEksNodeUserData({ plan, kubernetesVersion: "1.33", readyLabels: { "example.com/gvisor": "yes" } }));
    expect(withExtra).toContain(`ready_labels='example.com/gvisor=yes,${GVISOR_NODE_LABEL}=runsc'`);
    expect(withExtra).toContain(`--node-labels=example.com/gvisor=yes,${GVISOR_NODE_LABEL}=runsc`);
  });
});

describe("EKS node user data: packing", () => {
  const plan = nodePlan();

  it("fits EC2's 16 KiB user-data limit, with the bootstrap packed inside", () => {
    for (const version of ["1.31", "1.33"]) {
      const doc = renderEksNodeUserData({
        plan,
        kubernetesVersion: version,
        nodeLabels: { zone: "b" },
        readyLabels: { "example.com/gvisor": "yes" },
        nodeTaints: labelled(plan).taints,
        blockKubeletUntilReady: true,
      });
      expect(Buffer.byteLength(doc)).toBeLessThanOrEqual(EC2_USER_DATA_LIMIT);
      expect(scriptOf(doc)).toBe(
        renderNodeBootstrapScript(plan, { readyLabels: { "example.com/gvisor": "yes", ...labelled(plan).labels }, blockKubeletUntilReady: true }),
      );
    }
    // Unpacked, the same document would be far over the limit.
    expect(Buffer.byteLength(renderNodeBootstrapScript(plan))).toBeGreaterThan(EC2_USER_DATA_LIMIT);
  });

  it("packs deterministically, so an unchanged plan gives unchanged user data", () => {
    expect(renderEksNodeUserData({ plan, kubernetesVersion: "1.33" })).toBe(renderEksNodeUserData({ plan, kubernetesVersion: "1.33" }));
  });

  it("unpacks and runs the packed script with sh, passing its output and exit code", () => {
    const packed = packShellScript("#!/bin/sh\necho \"from inside: $(printf '%s' \"it's packed\")\"\nexit 3\n");
    const r = spawnSync("sh", ["-c", packed], { encoding: "utf8" });
    expect(r.stdout).toBe("from inside: it's packed\n");
    expect(r.status).toBe(3);
    const check = spawnSync("shellcheck", ["-s", "sh", "-"], { input: packed, encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
  });
});

describe("EKS node user data: the shell part", () => {
  const plan = nodePlan();
  const script = scriptOf(renderEksNodeUserData({ plan, kubernetesVersion: "1.33" }));
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "gv-userdata-"));
    dirs.push(d);
    return d;
  };

  it("embeds the install step exactly as SSH hosts run it, in a heredoc no line of it can end", () => {
    expect(script).toBe(renderNodeBootstrapScript(plan));
    const install = renderStepScript(plan, "install");
    const open = /^cat >"\$gv_boot\/install.sh" <<'(PULUMI_GVISOR_INSTALL_[0-9a-f]{16})'$/m.exec(script);
    expect(open).not.toBeNull();
    const delimiter = open![1];
    const start = script.indexOf(`${open![0]}\n`) + open![0].length + 1;
    const end = script.indexOf(`\n${delimiter}\n`, start);
    expect(script.slice(start, end + 1)).toBe(install);
    expect(install.split("\n")).not.toContain(delimiter);
    // The install step pins the release and verifies sha512 before installing.
    expect(install).toContain(`GV_VERSION='${plan.release.version}'`);
    expect(install).toContain(`GV_RELEASE_URL='${plan.release.baseUrl}'`);
    expect(install).toMatch(/sha512/);
  });

  it("is valid POSIX sh and shellcheck-clean, in every variant (kubelet blocked, explicit cgroup mode)", () => {
    const variants = [
      script,
      scriptOf(renderEksNodeUserData({ plan, kubernetesVersion: "1.33", blockKubeletUntilReady: true })),
      scriptOf(renderEksNodeUserData({ plan: nodePlan({ runsc: { cgroupMode: "systemd", network: "none" } }), kubernetesVersion: "1.32" })),
    ];
    for (const text of variants) {
      const d = tempDir();
      writeFileSync(join(d, "node.sh"), text);
      execFileSync("sh", ["-n", join(d, "node.sh")]);
      const check = spawnSync("shellcheck", ["-s", "sh", "-S", "warning", join(d, "node.sh")], { encoding: "utf8" });
      expect(check.error, "shellcheck must be installed (the CI installs it)").toBeUndefined();
      expect(check.stdout + check.stderr).toBe("");
      expect(check.status).toBe(0);
    }
  });

  /**
   * The bootstrap as rendered, with the install heredoc's body swapped for
   * `install` (the install step has its own tests): everything after it runs
   * exactly as on a node.
   */
  function withInstall(text: string, install: string): string {
    const open = /^cat >"\$gv_boot\/install.sh" <<'(PULUMI_GVISOR_INSTALL_[0-9a-f]{16})'$/m.exec(text)!;
    const start = text.indexOf(`${open[0]}\n`) + open[0].length + 1;
    const end = text.indexOf(`\n${open[1]}\n`, start);
    return `${text.slice(0, start)}${install}${text.slice(end)}`;
  }

  /** What a node looks like to the bootstrap: a fake runsc that knows some flags, nodeadm's kubelet and containerd configs. */
  interface FakeNode {
    runsc?: Parameters<typeof buildHostPlan>[0]["runsc"];
    /** containerd config.toml text; undefined: no file. */
    containerdConfig?: string;
    /** kubelet config.json text; undefined: no file. */
    kubeletConfig?: string;
    /** kubelet config.json.d/*.conf drop-ins, by name. */
    kubeletDropIns?: Record<string, string>;
    /** The shim is installed. Default true. */
    shim?: boolean;
    install?: string;
    blockKubeletUntilReady?: boolean;
  }

  function bootFake(node: FakeNode) {
    const d = tempDir();
    const p = nodePlan({
      installDir: d,
      containerd: { enabled: true, configPath: `${d}/etc/containerd/config.toml`, runscConfigPath: `${d}/etc/containerd/runsc.toml` },
      runsc: node.runsc,
    });
    mkdirSync(join(d, "etc/containerd"), { recursive: true });
    mkdirSync(join(d, "kubelet/config.json.d"), { recursive: true });
    if (node.containerdConfig !== undefined) writeFileSync(join(d, "etc/containerd/config.toml"), node.containerdConfig);
    if (node.kubeletConfig !== undefined) writeFileSync(join(d, "kubelet/config.json"), node.kubeletConfig);
    for (const [name, text] of Object.entries(node.kubeletDropIns ?? {})) writeFileSync(join(d, "kubelet/config.json.d", name), text);
    writeFileSync(
      join(d, "runsc"),
      [
        "#!/bin/sh",
        'for a in "$@"; do',
        '  case $a in',
        "    --network=* | --debug=* | --x-test=* | --systemd-cgroup=* | --version) ;;",
        '    *) echo "flag provided but not defined: ${a%%=*}" >&2; exit 2 ;;',
        "  esac",
        "done",
        "echo 'runsc version fake'",
        "",
      ].join("\n"),
    );
    chmodSync(join(d, "runsc"), 0o755);
    if (node.shim ?? true) writeFileSync(join(d, "containerd-shim-runsc-v1"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    // A claim of readiness left from an earlier run must not survive a failure.
    mkdirSync(join(d, "nodeadm.d"));
    writeFileSync(join(d, "nodeadm.d/90-pulumi-gvisor-ready.yaml"), "stale\n");
    const script = renderNodeBootstrapScript(p, {
      kubeletConfigPath: join(d, "kubelet/config.json"),
      readyDropInPath: join(d, "nodeadm.d/90-pulumi-gvisor-ready.yaml"),
      kubeletUnitDropInDir: join(d, "systemd/kubelet.service.d"),
      readyMarkerPath: join(d, "state/node-ready"),
      blockKubeletUntilReady: node.blockKubeletUntilReady,
    });
    const res = spawnSync("sh", ["-c", withInstall(script, node.install ?? "exit 0")], { cwd: d, encoding: "utf8" });
    const read = (f: string) => (existsSync(join(d, f)) ? readFileSync(join(d, f), "utf8") : undefined);
    return {
      dir: d,
      plan: p,
      status: res.status,
      stderr: res.stderr,
      runscToml: read("etc/containerd/runsc.toml"),
      dropIn: read("nodeadm.d/90-pulumi-gvisor-ready.yaml"),
      marker: read("state/node-ready"),
      unitDropIn: read("systemd/kubelet.service.d/99-pulumi-gvisor-ready.conf"),
    };
  }

  const RUNC_V2 = (systemd: boolean | undefined) =>
    [
      "version = 2",
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '  runtime_type = "io.containerd.runc.v2"',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      ...(systemd === undefined ? [] : [`  SystemdCgroup = ${systemd}`]),
      "",
    ].join("\n");
  // nodeadm's containerd 2 template (v3, single-quoted plugin names), as a file containerd 1.6 cannot load:
  // read without containerd on PATH.
  const RUNC_V3_NVIDIA = [
    "version = 3",
    "[plugins.'io.containerd.cri.v1.runtime'.containerd]",
    'default_runtime_name = "nvidia"',
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
    "SystemdCgroup = false",
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia.options]",
    'BinaryName = "/usr/bin/nvidia-container-runtime"',
    "SystemdCgroup = true # nodeadm",
    "",
  ].join("\n");
  const kubeletJson = (driver: string) => JSON.stringify({ kind: "KubeletConfiguration", cgroupDriver: driver, featureGates: { KubeletCgroupDriverFromCRI: true } });
  const toml = (text: string | undefined) => (parseToml(text ?? "") as any).runsc_config;

  it("on success writes runsc.toml byte for byte, then the ready drop-in whose kubelet flag carries the RuntimeClass's label, then the marker", () => {
    const r = bootFake({ runsc: { network: "none", debug: true }, containerdConfig: RUNC_V2(false), kubeletConfig: kubeletJson("cgroupfs") });
    expect(r.stderr).toContain("gVisor is ready");
    expect(r.status).toBe(0);
    expect(r.runscToml).toBe(r.plan.containerd.runscToml);
    expect(toml(r.runscToml)).toEqual({ network: "none", debug: "true" });
    expect(loadYaml(r.dropIn!)).toEqual({
      apiVersion: "node.eks.aws/v1alpha1",
      kind: "NodeConfig",
      spec: { kubelet: { flags: [`--node-labels=${GVISOR_NODE_LABEL}=runsc`] } },
    });
    expect(r.marker).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(r.unitDropIn).toBeUndefined();
  });

  const failures: [string, FakeNode, RegExp][] = [
    ["the install step fails", { install: "echo 'install: error: checksum mismatch' >&2; exit 1", containerdConfig: RUNC_V2(false) }, /the gVisor install step failed/],
    ["the installed runsc refuses an option", { runsc: { extraFlags: { "no-such-flag": "1" } }, containerdConfig: RUNC_V2(false) }, /the installed runsc refuses the runsc options: flag provided but not defined: --no-such-flag/],
    ["the shim is missing", { shim: false, containerdConfig: RUNC_V2(false) }, /the containerd shim .*containerd-shim-runsc-v1 is missing/],
    ["an explicit cgroup mode contradicts the node", { runsc: { cgroupMode: "systemd" }, containerdConfig: RUNC_V2(false) }, /runsc.cgroupMode is systemd but this node uses the cgroupfs cgroup driver/],
    ["the node's containerd and kubelet disagree", { containerdConfig: RUNC_V2(true), kubeletConfig: kubeletJson("cgroupfs") }, /this node disagrees with itself: containerd's runc has SystemdCgroup = true but kubelet's cgroupDriver is cgroupfs/],
    ["auto finds no cgroup driver", {}, /runsc.cgroupMode is auto but this node shows no cgroup driver/],
  ];
  for (const [why, node, message] of failures) {
    it(`fails closed when ${why}: one error line, no ready drop-in (the stale one removed), no marker`, () => {
      const r = bootFake(node);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("pulumi-gvisor node: error: "));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`this node does not get the labels ${GVISOR_NODE_LABEL}=runsc`);
      expect(r.dropIn).toBeUndefined();
      expect(r.marker).toBeUndefined();
    });
  }

  it("blockKubeletUntilReady: kubelet's start asserts the ready marker, which only success writes", () => {
    const failed = bootFake({ blockKubeletUntilReady: true, install: "exit 1", containerdConfig: RUNC_V2(false) });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("(and kubelet is kept from starting)");
    expect(failed.unitDropIn).toContain(`AssertPathExists=${failed.dir}/state/node-ready`);
    expect(failed.marker).toBeUndefined();
    const ok = bootFake({ blockKubeletUntilReady: true, containerdConfig: RUNC_V2(false) });
    expect(ok.status).toBe(0);
    expect(ok.unitDropIn).toBe(`[Unit]\n# pulumi-gvisor: kubelet starts only once gVisor is ready on this node.\nAssertPathExists=${ok.dir}/state/node-ready\n`);
    expect(ok.marker).toBeDefined();
  });

  describe("cgroup mode auto follows the node", () => {
    const cases: [string, FakeNode, string | undefined][] = [
      ["runc SystemdCgroup = true → runsc systemd-cgroup true", { containerdConfig: RUNC_V2(true) }, "true"],
      ["runc SystemdCgroup = false → unset", { containerdConfig: RUNC_V2(false) }, undefined],
      ["runc SystemdCgroup unset (containerd's default, false) → unset", { containerdConfig: RUNC_V2(undefined) }, undefined],
      ["runc true and kubelet systemd → true", { containerdConfig: RUNC_V2(true), kubeletConfig: kubeletJson("systemd") }, "true"],
      ["no containerd config, kubelet systemd → true", { kubeletConfig: kubeletJson("systemd") }, "true"],
      ["kubelet drop-in overrides config.json (last wins)", { kubeletConfig: kubeletJson("cgroupfs"), kubeletDropIns: { "40-nodeadm.conf": "cgroupDriver: systemd\n" } }, "true"],
    ];
    for (const [name, node, expected] of cases) {
      it(name, () => {
        const r = bootFake(node);
        expect(r.status, r.stderr).toBe(0);
        expect(toml(r.runscToml)["systemd-cgroup"]).toBe(expected);
        expect(r.stderr).toMatch(new RegExp(`cgroup mode ${expected === "true" ? "systemd" : "cgroupfs"} `));
        expect(r.dropIn).toBeDefined();
      });
    }

    it("reads the default runtime's options from nodeadm's v3 template (nvidia as default: SystemdCgroup = true)", () => {
      const d = tempDir();
      // Without containerd on PATH (containerd 1.6 here cannot load a v3 file): the file itself is read.
      const plan = nodePlan({ installDir: d, containerd: { enabled: true, configPath: `${d}/config.toml`, runscConfigPath: `${d}/runsc.toml` } });
      writeFileSync(join(d, "config.toml"), RUNC_V3_NVIDIA);
      const script = renderNodeBootstrapScript(plan);
      const fn = script.slice(script.indexOf("node_runc_systemd_cgroup() {"), script.indexOf("node_kubelet_cgroup_driver() {"));
      mkdirSync(join(d, "bin"));
      for (const tool of ["awk", "cp"]) symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(d, "bin", tool));
      const res = spawnSync("/bin/sh", ["-c", `set -eu\ngv_boot=${d}\ncontainerd_config=${d}/config.toml\nnode_fail() { exit 9; }\n${fn}\nnode_runc_systemd_cgroup`], {
        encoding: "utf8",
        env: { PATH: join(d, "bin"), HOME: d },
      });
      expect(res.stderr).toBe("");
      expect(res.stdout.trim()).toBe("true");
    });
  });

  it("an explicit cgroup mode that agrees with the node is written as given; cgroupfs renders systemd-cgroup = \"false\"", () => {
    const systemd = bootFake({ runsc: { cgroupMode: "systemd" }, containerdConfig: RUNC_V2(true) });
    expect(systemd.status, systemd.stderr).toBe(0);
    expect(toml(systemd.runscToml)["systemd-cgroup"]).toBe("true");
    expect(systemd.runscToml).toBe(systemd.plan.containerd.runscToml);
    const cgroupfs = bootFake({ runsc: { cgroupMode: "cgroupfs" }, kubeletConfig: kubeletJson("cgroupfs") });
    expect(cgroupfs.status, cgroupfs.stderr).toBe(0);
    expect(toml(cgroupfs.runscToml)["systemd-cgroup"]).toBe("false");
    // Explicit, with nothing on the node to contradict it: accepted.
    expect(bootFake({ runsc: { cgroupMode: "systemd" } }).status).toBe(0);
  });

  it("refuses a cgroupDriver that is neither systemd nor cgroupfs, with one line", () => {
    const r = bootFake({ kubeletConfig: kubeletJson("cgroupv3") });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/kubelet's cgroupDriver is "cgroupv3", not systemd or cgroupfs/);
    expect(r.dropIn).toBeUndefined();
  });

  it("keeps a value with quotes and shell syntax inert, on the command line and in runsc.toml", () => {
    const value = "it's$(touch${IFS}pwned)`touch${IFS}pwned2`\"x\"";
    const r = bootFake({ runsc: { extraFlags: { "x-test": value } }, containerdConfig: RUNC_V2(false) });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(r.dir, "pwned"))).toBe(false);
    expect(existsSync(join(r.dir, "pwned2"))).toBe(false);
    expect(toml(r.runscToml)["x-test"]).toBe(value);
  });
});

describe("MIME envelope", () => {
  it("sends a non-ASCII shell part base64-encoded, which Python decodes back to the same text", () => {
    const body = "#!/bin/sh\necho 'gVisor … ready'\n";
    const doc = renderMimeMultipart([
      { contentType: "application/node.eks.aws", body: "---\nkind: NodeConfig\n" },
      { contentType: 'text/x-shellscript; charset="utf-8"', body, base64IfNeeded: true },
    ]);
    const parsed = parseMultipart(doc);
    expect(parsed.parts[1].headers["content-transfer-encoding"]).toBe("base64");
    expect(parsed.parts[1].body).toBe(body);
    expect(readWithPython(doc)[1].payload).toBe(body);
  });

  it("refuses a NodeConfig part nodeadm could not read (it does not decode base64)", () => {
    expect(() => renderMimeMultipart([{ contentType: "application/node.eks.aws", body: "kind: NodeConfig # café\n" }])).toThrowError(
      /application\/node.eks.aws part must be 7-bit ASCII/,
    );
    expect(() => renderMimeMultipart([{ contentType: "application/node.eks.aws", body: `${"x".repeat(999)}\n` }])).toThrowError(/998/);
  });

  it("keeps bodies without a final newline exact", () => {
    const doc = renderMimeMultipart([{ contentType: "text/plain", body: "no newline" }, { contentType: "text/plain", body: "two\n\n" }]);
    expect(parseMultipart(doc).parts.map((p) => p.body)).toEqual(["no newline", "two\n\n"]);
    expect(readWithPython(doc).map((p) => p.payload)).toEqual(["no newline", "two\n\n"]);
  });
});

describe("NodeConfig YAML", () => {
  it("keeps the containerd TOML exact through the YAML literal block", () => {
    const config = 'version = 2\n\n[a."b.c".d]\n  k = "v: #x"\n\n  ConfigPath = "/x"\n';
    const yaml = renderNodeConfig({ containerdConfig: config, kubeletFlags: ['--node-labels=a=b,c="d"'] });
    const doc = loadYaml(yaml) as any;
    expect(doc.spec.containerd.config).toBe(config);
    expect(doc.spec.kubelet.flags).toEqual(['--node-labels=a=b,c="d"']);
  });
});

describe("user data snapshot", () => {
  // The install step's text belongs to the step scripts (tested with them);
  // here it is replaced by a marker, so the snapshot pins this renderer alone.
  function normalised(packedDoc: string, plan: HostPlan): string {
    const packed = packedScriptOf(packedDoc);
    const doc = packedDoc.replace(packed, () => scriptOf(packedDoc));
    const install = renderStepScript(plan, "install");
    expect(doc).toContain(install);
    const { boundary } = parseMultipart(doc);
    return doc
      .replace(install, "<renderStepScript(plan, \"install\")>\n")
      .replaceAll(boundary, "<boundary>")
      .replace(/PULUMI_GVISOR_INSTALL_[0-9a-f]{16}/g, "<delimiter>");
  }

  it("Graviton nodes, Kubernetes 1.33, a registration label and the taint in kubelet flags", () => {
    const plan = nodePlan();
    const doc = renderEksNodeUserData({ plan, kubernetesVersion: "1.33", nodeLabels: { zone: "b" }, nodeTaints: labelled(plan).taints });
    expect(normalised(doc, plan)).toMatchSnapshot();
  });

  it("the node group's own user data: x86_64, Kubernetes 1.31, custom handler and runsc options", () => {
    const ng = buildEksNodeGroupPlan({
      kubernetesVersion: "1.31",
      gvisor: { containerd: { runtimeName: "gvisor-sb" }, runsc: { network: "none", overlay2: "root:memory" } },
    });
    const doc = renderEksNodeUserData({ plan: ng.host, kubernetesVersion: ng.kubernetesVersion.text, readyLabels: ng.readyLabels });
    expect(normalised(doc, ng.host)).toMatchSnapshot();
  });
});
