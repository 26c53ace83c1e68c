import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load as loadYaml } from "js-yaml";
import { parse as parseToml } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { EksNodeGroupInput, buildEksNodeGroupPlan } from "../../src/plan/eks";
import { GVISOR_NODE_LABEL, SMOKE_TEST_SCRIPT } from "../../src/plan/kubernetes";
import { KUBELET_CONFIG_PATH, NODEADM_DROP_IN_DIR, NODE_READY_DROP_IN } from "../../src/plan/user-data";
import { nodeReadyMarker, renderEksNodeUserData } from "../../src/scripts/node-user-data";
import { parseMultipart } from "../unit/support/mime";
import { installSidBinaries } from "./support/debian-sid";
import { useHostSuite } from "./support/suite";

// Real parts for what the unit suite can only parse: containerd 1.6 reading
// the NodeConfig's containerd config, the Debian runsc running the smoke-test
// script, and the node bootstrap part running as root on a test host (own
// /etc, /usr/local/bin, /var) against the harness's release mirror.

const work = mkdtempSync(join(tmpdir(), "gv-node-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function userDataFor(input: Partial<EksNodeGroupInput>) {
  const plan = buildEksNodeGroupPlan({ kubernetesVersion: "1.32", ...input });
  const doc = parseMultipart(renderEksNodeUserData({ plan: plan.host, kubernetesVersion: plan.kubernetesVersion.text }));
  const nodeConfig = loadYaml(doc.parts[0].body) as any;
  return { plan, containerdConfig: nodeConfig.spec.containerd.config as string };
}

/**
 * `containerd config dump`, parsed, of the part merged into a base config of
 * `version` (what nodeadm does with the node's own config).
 */
function dump(part: string, version = 2): any {
  const dir = mkdtempSync(join(work, "ctd-"));
  writeFileSync(join(dir, "config.toml"), `version = ${version}\n\n${part}`);
  const out = execFileSync("containerd", ["--config", join(dir, "config.toml"), "config", "dump"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return parseToml(out);
}

describe("containerd 1.6 reads the NodeConfig's containerd config", () => {
  it("registers runsc from the v2 form (Kubernetes < 1.33), with the shim type and runsc.toml path", () => {
    const { containerdConfig } = userDataFor({});
    const runtime = dump(containerdConfig).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runsc;
    expect(runtime.runtime_type).toBe("io.containerd.runsc.v1");
    expect(runtime.options).toEqual({ TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: "/etc/containerd/runsc.toml" });
  });

  it("registers a custom handler under its own name, pointing at its own runsc.toml", () => {
    const { containerdConfig } = userDataFor({ gvisor: { containerd: { runtimeName: "gvisor-sb", runscConfigPath: "/etc/containerd/gvisor-sb.toml" } } });
    const runtimes = dump(containerdConfig).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes;
    expect(runtimes["gvisor-sb"].options.ConfigPath).toBe("/etc/containerd/gvisor-sb.toml");
    expect(runtimes.runsc).toBeUndefined();
  });

  it("silently ignores the v3 form, which is why the form follows the Kubernetes version", () => {
    const { containerdConfig } = userDataFor({ kubernetesVersion: "1.33" });
    expect(containerdConfig).toContain("io.containerd.cri.v1.runtime");
    const runtimes = dump(containerdConfig).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes;
    expect(runtimes.runsc).toBeUndefined();
  });
});

describe("smoke-test script", () => {
  it("passes inside a real gVisor sandbox (Debian's runsc)", () => {
    const root = mkdtempSync(join(work, "runsc-root-"));
    const tmp = mkdtempSync(join(work, "runsc-tmp-"));
    // The sandbox's gofer opens TMPDIR as another user: mkdtemp's 0700 is too tight.
    chmodSync(work, 0o755);
    chmodSync(tmp, 0o755);
    const res = spawnSync("runsc", ["--root", root, "--network=none", "do", "sh", "-c", SMOKE_TEST_SCRIPT], {
      encoding: "utf8",
      env: { ...process.env, TMPDIR: tmp },
      timeout: 120_000,
    });
    expect(res.stderr).not.toMatch(/not running under gVisor/);
    expect(res.stdout).toContain("sandbox kernel: 4.4.0");
    expect(res.stdout).toContain("gVisor sandbox: ok");
    expect(res.status).toBe(0);
  });
});

describe("node bootstrap part, run as root on a test host against the release mirror (fail closed)", () => {
  const suite = useHostSuite();

  /** nodeadm's configs as nodeadm-config.service leaves them before cloud-init runs the user data. */
  const RUNC_V2 = (systemd: boolean) =>
    `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = ${systemd}\n`;
  const KUBELET = (driver: string) => `${JSON.stringify({ apiVersion: "kubelet.config.k8s.io/v1beta1", kind: "KubeletConfiguration", cgroupDriver: driver })}\n`;

  /**
   * Writes the user data's shell part where cloud-init would and runs it as
   * root, as cloud-init does; then reports what it left for kubelet and
   * nodeadm (the ready drop-in, kubelet's unit drop-in, the marker).
   */
  async function boot(input: Partial<EksNodeGroupInput>, node: { systemd: boolean; kubelet?: string }, block = false) {
    const host = await suite.freshHost({ docker: false, containerdConfig: RUNC_V2(node.systemd) });
    await host.writeFile(KUBELET_CONFIG_PATH, KUBELET(node.kubelet ?? (node.systemd ? "systemd" : "cgroupfs")));
    const plan = buildEksNodeGroupPlan({ kubernetesVersion: "1.32", ...input });
    const doc = parseMultipart(
      renderEksNodeUserData({ plan: plan.host, kubernetesVersion: plan.kubernetesVersion.text, readyLabels: plan.readyLabels, blockKubeletUntilReady: block }),
    );
    await host.writeFile("/var/lib/cloud/instance/scripts/part-002", doc.parts[1].body, 0o700);
    const r = await host.run("/var/lib/cloud/instance/scripts/part-002");
    const installed = (await host.sh("ls -A /usr/local/bin")).stdout.split("\n").filter(Boolean);
    return {
      host,
      plan,
      ...r,
      installed,
      runscToml: await host.readFile(plan.host.containerd.runscConfigPath),
      dropIn: await host.readFile(NODE_READY_DROP_IN),
      nodeadmDir: (await host.sh(`ls -A ${NODEADM_DROP_IN_DIR} 2>/dev/null || true`)).stdout.split("\n").filter(Boolean),
      unitDropIn: await host.readFile("/etc/systemd/system/kubelet.service.d/99-pulumi-gvisor-ready.conf"),
      marker: await host.readFile(nodeReadyMarker(plan.host)),
    };
  }

  /** The labels kubelet would register with, from every NodeConfig nodeadm-run merges (flags appended, as nodeadm does). */
  function kubeletNodeLabels(dropIn: string | undefined): string[] {
    if (dropIn === undefined) return [];
    const flags: string[] = (loadYaml(dropIn) as any).spec.kubelet.flags;
    return flags.filter((f) => f.startsWith("--node-labels=")).flatMap((f) => f.slice("--node-labels=".length).split(","));
  }

  it("a good release on a systemd-cgroup node: installs, writes runsc.toml with systemd-cgroup, then the ready drop-in with the RuntimeClass's label", async () => {
    const r = await boot({ gvisor: { version: suite.mirror().versions.archive, mirror: suite.mirror().baseUrl, runsc: { network: "none" } } }, { systemd: true });
    expect(r.stderr).toContain("pulumi-gvisor node: gVisor is ready");
    expect(r.code).toBe(0);
    expect(r.installed).toEqual(expect.arrayContaining(["runsc", "containerd-shim-runsc-v1"]));
    expect((parseToml(r.runscToml!) as any).runsc_config).toEqual({ network: "none", "systemd-cgroup": "true" });
    // The installed Debian runsc accepts the options, systemd-cgroup included.
    expect((await r.host.exec(["/usr/local/bin/runsc", "--network=none", "--systemd-cgroup=true", "--version"])).code).toBe(0);
    expect(r.nodeadmDir).toEqual(["90-pulumi-gvisor-ready.yaml"]);
    expect(kubeletNodeLabels(r.dropIn)).toEqual([`${GVISOR_NODE_LABEL}=runsc`]);
    expect(r.plan.runtimeClass.manifest.scheduling.nodeSelector).toEqual({ [GVISOR_NODE_LABEL]: "runsc" });
    expect(r.marker).toBeDefined();
    // The install step reported in JSON on stdout, as on SSH hosts.
    expect(r.stdout).toMatch(/"step":"install"/);
  });

  it("a containerd 2.1 node with nodeadm's v3 template: reads SystemdCgroup from containerd 2.1's own config dump", async () => {
    // nodeadm's containerd 2 template (runc, SystemdCgroup = true) with the node group's v3 part merged in.
    const plan = buildEksNodeGroupPlan({ kubernetesVersion: "1.33", gvisor: { version: suite.mirror().versions.archive, mirror: suite.mirror().baseUrl } });
    const config = [
      "version = 3",
      "[plugins.'io.containerd.cri.v1.runtime'.containerd]",
      'default_runtime_name = "runc"',
      "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
      'runtime_type = "io.containerd.runc.v2"',
      "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
      'BinaryName = "/usr/sbin/runc"',
      "SystemdCgroup = true",
      "",
      plan.containerdConfig,
    ].join("\n");
    const host = await suite.freshHost({ docker: false, containerdConfig: config });
    await installSidBinaries(host, ["containerd"]);
    expect((await host.exec(["containerd", "--version"])).stdout).toMatch(/ 2\.1\./);
    const doc = parseMultipart(renderEksNodeUserData({ plan: plan.host, kubernetesVersion: "1.33", readyLabels: plan.readyLabels }));
    await host.writeFile("/var/lib/cloud/instance/scripts/part-002", doc.parts[1].body, 0o700);
    const r = await host.run("/var/lib/cloud/instance/scripts/part-002");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("cgroup mode systemd (containerd runc SystemdCgroup = true, kubelet cgroupDriver = unknown)");
    expect((parseToml((await host.readFile(plan.host.containerd.runscConfigPath))!) as any).runsc_config).toEqual({ "systemd-cgroup": "true" });
    expect(kubeletNodeLabels(await host.readFile(NODE_READY_DROP_IN))).toEqual([`${GVISOR_NODE_LABEL}=runsc`]);
  });

  it("a cgroupfs node: runsc.toml leaves systemd-cgroup unset", async () => {
    const r = await boot({ gvisor: { version: suite.mirror().versions.archive, mirror: suite.mirror().baseUrl } }, { systemd: false });
    expect(r.code, r.stderr).toBe(0);
    expect((parseToml(r.runscToml!) as any).runsc_config).toEqual({});
    expect(kubeletNodeLabels(r.dropIn)).toEqual([`${GVISOR_NODE_LABEL}=runsc`]);
  });

  const failing: [string, () => Partial<EksNodeGroupInput>, { systemd: boolean; kubelet?: string }, RegExp][] = [
    ["a mirror whose checksum does not match", () => ({ gvisor: { version: suite.mirror().versions.archiveBadChecksum, mirror: suite.mirror().baseUrl } }), { systemd: true }, /checksum/],
    ["a mirror that drops the connection halfway", () => ({ gvisor: { version: suite.mirror().versions.archiveTruncated, mirror: suite.mirror().baseUrl } }), { systemd: true }, /the gVisor install step failed/],
    ["a release the mirror does not have", () => ({ gvisor: { version: suite.mirror().versions.missing, mirror: suite.mirror().baseUrl } }), { systemd: true }, /the gVisor install step failed/],
    [
      "an explicit cgroup mode the node contradicts",
      () => ({ gvisor: { version: suite.mirror().versions.archive, mirror: suite.mirror().baseUrl, runsc: { cgroupMode: "cgroupfs" } } }),
      { systemd: true },
      /runsc.cgroupMode is cgroupfs but this node uses the systemd cgroup driver/,
    ],
    [
      "a node whose containerd and kubelet disagree",
      () => ({ gvisor: { version: suite.mirror().versions.archive, mirror: suite.mirror().baseUrl } }),
      { systemd: true, kubelet: "cgroupfs" },
      /this node disagrees with itself/,
    ],
  ];
  for (const [why, input, node, message] of failing) {
    it(`${why}: the node never carries the label the RuntimeClass selects`, async () => {
      const r = await boot(input(), node);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(new RegExp(`pulumi-gvisor node: error: .*this node does not get the labels ${GVISOR_NODE_LABEL}=runsc, so no gVisor pod is scheduled here`));
      // Nothing for nodeadm-run to merge: kubelet registers without the label.
      expect(r.nodeadmDir).toEqual([]);
      expect(kubeletNodeLabels(r.dropIn)).not.toContain(`${GVISOR_NODE_LABEL}=runsc`);
      expect(r.marker).toBeUndefined();
    });
  }

  it("blockKubeletUntilReady with a failing mirror: kubelet's unit asserts a marker that was never written", async () => {
    const r = await boot({ gvisor: { version: suite.mirror().versions.archiveBadChecksum, mirror: suite.mirror().baseUrl } }, { systemd: true }, true);
    expect(r.code).toBe(1);
    expect(r.unitDropIn).toContain(`AssertPathExists=${nodeReadyMarker(r.plan.host)}`);
    expect(r.marker).toBeUndefined();
    expect(r.nodeadmDir).toEqual([]);
    expect(r.installed).toEqual([]);
  });
});
