import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  const doc = renderEksNodeUserData({ plan, kubernetesVersion: "1.33", nodeLabels: labelled(plan).labels, nodeTaints: labelled(plan).taints });

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
    const again = renderEksNodeUserData({ plan: nodePlan(), kubernetesVersion: "1.33", nodeLabels: labelled(plan).labels, nodeTaints: labelled(plan).taints });
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

  it("registers the labels and taints through kubelet flags when given, and adds no kubelet section otherwise", () => {
    expect(nodeConfigOf(doc).spec.kubelet).toEqual({
      flags: [`--node-labels=${GVISOR_NODE_LABEL}=runsc`, `--register-with-taints=${GVISOR_NODE_LABEL}=runsc:NoSchedule`],
    });
    const several = renderEksNodeUserData({
      plan,
      kubernetesVersion: "1.33",
      nodeLabels: { zone: "b", [GVISOR_NODE_LABEL]: "runsc" },
      nodeTaints: [...labelled(plan).taints, { key: "dedicated", effect: "NoExecute" }],
    });
    expect(nodeConfigOf(several).spec.kubelet.flags).toEqual([
      `--node-labels=${GVISOR_NODE_LABEL}=runsc,zone=b`,
      `--register-with-taints=${GVISOR_NODE_LABEL}=runsc:NoSchedule,dedicated:NoExecute`,
    ]);
    const bare = nodeConfigOf(renderEksNodeUserData({ plan, kubernetesVersion: "1.33" }));
    expect(Object.keys(bare.spec)).toEqual(["containerd"]);
  });

  it("refuses labels and taints that disagree with the node's handler, or are malformed, naming the input", () => {
    const attempt = (input: Partial<Parameters<typeof renderEksNodeUserData>[0]>) => () =>
      renderEksNodeUserData({ plan, kubernetesVersion: "1.33", ...input });
    expect(attempt({ nodeLabels: { [GVISOR_NODE_LABEL]: "gvisor" } })).toThrowError(/nodeLabels\["sandbox.pulumi-gvisor.io\/runtime"\]: must be the node's handler "runsc"/);
    expect(attempt({ nodeTaints: [{ key: GVISOR_NODE_LABEL, value: "gvisor", effect: "NoSchedule" }] })).toThrowError(/nodeTaints\[0\].value/);
    expect(attempt({ nodeLabels: { "a b": "c" } })).toThrowError(PlanValidationError);
    expect(attempt({ kubernetesVersion: "1.33.0" })).toThrowError(/^kubernetesVersion: /);
  });
});

describe("EKS node user data: packing", () => {
  const plan = nodePlan();

  it("fits EC2's 16 KiB user-data limit, with the bootstrap packed inside", () => {
    for (const version of ["1.31", "1.33"]) {
      const doc = renderEksNodeUserData({ plan, kubernetesVersion: version, nodeLabels: labelled(plan).labels, nodeTaints: labelled(plan).taints });
      expect(Buffer.byteLength(doc)).toBeLessThanOrEqual(EC2_USER_DATA_LIMIT);
      expect(scriptOf(doc)).toBe(renderNodeBootstrapScript(plan));
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

  it("is valid POSIX sh and shellcheck-clean", () => {
    const d = tempDir();
    writeFileSync(join(d, "node.sh"), script);
    execFileSync("sh", ["-n", join(d, "node.sh")]);
    const check = spawnSync("shellcheck", ["-s", "sh", "-S", "warning", join(d, "node.sh")], { encoding: "utf8" });
    expect(check.error, "shellcheck must be installed (the CI installs it)").toBeUndefined();
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  /** The part after the install heredoc: checks the runsc options and writes runsc.toml. */
  function tail(text: string): string {
    const after = text.indexOf('if ! sh "$gv_boot/install.sh"; then');
    const fi = text.indexOf("\nfi\n", after) + 4;
    return `set -eu\n${text.slice(fi)}`;
  }

  /** A plan whose runsc and runsc.toml live in a temp dir, with a fake runsc that knows some flags. */
  function fakeNode(runsc: Parameters<typeof buildHostPlan>[0]["runsc"]) {
    const d = tempDir();
    const p = nodePlan({ installDir: d, containerd: { enabled: true, runscConfigPath: `${d}/etc/runsc.toml` }, runsc });
    writeFileSync(
      join(d, "runsc"),
      [
        "#!/bin/sh",
        'for a in "$@"; do',
        '  case $a in',
        "    --network=* | --debug=* | --x-test=* | --version) ;;",
        '    *) echo "flag provided but not defined: ${a%%=*}" >&2; exit 2 ;;',
        "  esac",
        "done",
        "echo 'runsc version fake'",
        "",
      ].join("\n"),
    );
    chmodSync(join(d, "runsc"), 0o755);
    return { dir: d, plan: p };
  }

  it("tries the runsc options on the installed runsc, then writes runsc.toml byte for byte, quoted safely", () => {
    const { dir, plan: p } = fakeNode({ network: "none", debug: true });
    const res = spawnSync("sh", ["-c", tail(renderNodeBootstrapScript(p))], { encoding: "utf8" });
    expect(res.stderr).toContain(`wrote ${dir}/etc/runsc.toml`);
    expect(res.status).toBe(0);
    const written = readFileSync(join(dir, "etc/runsc.toml"), "utf8");
    expect(written).toBe(p.containerd.runscToml);
    const toml = parseToml(written) as any;
    expect(toml.binary_name).toBe(`${dir}/runsc`);
    expect(toml.runsc_config).toEqual({ network: "none", debug: "true" });
  });

  it("refuses to write runsc.toml when the installed runsc does not know an option", () => {
    const { dir, plan: p } = fakeNode({ network: "none", extraFlags: { "no-such-flag": "1" } });
    const res = spawnSync("sh", ["-c", tail(renderNodeBootstrapScript(p))], { encoding: "utf8" });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/pulumi-gvisor node: error: the installed runsc refuses the runsc options: flag provided but not defined: --no-such-flag/);
    expect(existsSync(join(dir, "etc/runsc.toml"))).toBe(false);
  });

  it("keeps a value with quotes and shell syntax inert, on the command line and in runsc.toml", () => {
    const value = "it's$(touch${IFS}pwned)`touch${IFS}pwned2`\"x\"";
    const { dir, plan: p } = fakeNode({ extraFlags: { "x-test": value } });
    const res = spawnSync("sh", ["-c", tail(renderNodeBootstrapScript(p))], { cwd: dir, encoding: "utf8" });
    expect(res.status).toBe(0);
    expect(existsSync(join(dir, "pwned"))).toBe(false);
    expect(existsSync(join(dir, "pwned2"))).toBe(false);
    expect((parseToml(readFileSync(join(dir, "etc/runsc.toml"), "utf8")) as any).runsc_config["x-test"]).toBe(value);
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

  it("Graviton nodes, Kubernetes 1.33, labels and taint in kubelet flags", () => {
    const plan = nodePlan();
    const doc = renderEksNodeUserData({ plan, kubernetesVersion: "1.33", nodeLabels: labelled(plan).labels, nodeTaints: labelled(plan).taints });
    expect(normalised(doc, plan)).toMatchSnapshot();
  });

  it("the node group's own user data: x86_64, Kubernetes 1.31, custom handler and runsc options", () => {
    const ng = buildEksNodeGroupPlan({
      kubernetesVersion: "1.31",
      gvisor: { containerd: { runtimeName: "gvisor-sb" }, runsc: { network: "none", overlay2: "root:memory" } },
    });
    const doc = renderEksNodeUserData({ plan: ng.host, kubernetesVersion: ng.kubernetesVersion.text });
    expect(normalised(doc, ng.host)).toMatchSnapshot();
  });
});
