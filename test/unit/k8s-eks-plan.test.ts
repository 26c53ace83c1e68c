import { RuntimeClass as RuntimeClassModel } from "kubernetes-models/node.k8s.io/v1/RuntimeClass";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { EksNodeGroupInput, buildEksNodeGroupPlan } from "../../src/plan/eks";
import { parseInstanceType } from "../../src/plan/ec2";
import { PlanValidationError } from "../../src/plan/errors";
import { GVISOR_NODE_LABEL } from "../../src/plan/kubernetes";
import { containerdConfigVersionFor, parseKubernetesVersion } from "../../src/plan/user-data";

const base: EksNodeGroupInput = { kubernetesVersion: "1.33" };

function refusal(input: Partial<EksNodeGroupInput> | Record<string, unknown>): [string, string] {
  try {
    buildEksNodeGroupPlan({ ...base, ...input } as EksNodeGroupInput, "args");
  } catch (err) {
    expect(err).toBeInstanceOf(PlanValidationError);
    return [(err as PlanValidationError).property, (err as PlanValidationError).reason];
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("EKS node group plan", () => {
  it("defaults: x86_64 AL2023, m7i.large, on demand, 1/2/3 nodes, 50 GiB, IMDS hop limit 1, containerd only", () => {
    const plan = buildEksNodeGroupPlan(base);
    expect(plan).toMatchObject({
      arch: "x86_64",
      amiType: "AL2023_x86_64_STANDARD",
      instanceTypes: ["m7i.large"],
      capacityType: "ON_DEMAND",
      scaling: { minSize: 1, desiredSize: 2, maxSize: 3 },
      diskSize: 50,
      metadataHopLimit: 1,
      containerdConfigVersion: 3,
    });
    expect(plan.host.docker.enabled).toBe(false);
    expect(plan.host.containerd.enabled).toBe(true);
    expect(plan.host.gvisorArch).toBe("x86_64");
  });

  it("Graviton: arm64 picks the ARM AMI type, m7g.large, and the aarch64 release directory", () => {
    const plan = buildEksNodeGroupPlan({ ...base, arch: "arm64" });
    expect(plan.amiType).toBe("AL2023_ARM_64_STANDARD");
    expect(plan.instanceTypes).toEqual(["m7g.large"]);
    expect(plan.host.gvisorArch).toBe("aarch64");
  });

  it("refuses instance types of the other arch, saying which arch to set", () => {
    expect(refusal({ instanceTypes: ["m7g.large"] })).toEqual(["args.instanceTypes[0]", expect.stringMatching(/"m7g.large" is an arm64 type .*x86_64 \(the default\).*set arch to "arm64"/)]);
    expect(refusal({ arch: "arm64", instanceTypes: ["c7g.xlarge", "m7i.large"] })[0]).toBe("args.instanceTypes[1]");
    expect(buildEksNodeGroupPlan({ ...base, arch: "arm64", instanceTypes: ["c7gn.large", "t4g.medium", "c8g.xlarge"] }).instanceTypes).toHaveLength(3);
    expect(refusal({ instanceTypes: [] })[0]).toBe("args.instanceTypes");
    expect(refusal({ instanceTypes: ["m7i.large", "m7i.large"] })).toEqual(["args.instanceTypes[1]", expect.stringMatching(/repeats/)]);
    expect(refusal({ instanceTypes: ["large"] })[0]).toBe("args.instanceTypes[0]");
  });

  it.each([
    ["m7g.large", "arm64"],
    ["c7gn.16xlarge", "arm64"],
    ["t4g.micro", "arm64"],
    ["x2gd.xlarge", "arm64"],
    ["is4gen.large", "arm64"],
    ["im4gn.large", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["a1.large", "arm64"],
    ["m7i.large", "x86_64"],
    ["m7i-flex.large", "x86_64"],
    ["c5n.xlarge", "x86_64"],
    ["g4dn.xlarge", "x86_64"],
    ["m6a.metal", "x86_64"],
    ["u-6tb1.metal", "x86_64"],
  ])("reads the arch of %s as %s", (type, arch) => {
    // The same reading as Ec2Host's: one rule for both.
    expect(parseInstanceType(type, "type").arch).toBe(arch);
  });

  it("refuses the kvm platform: no nested virtualization on managed node groups", () => {
    expect(refusal({ gvisor: { runsc: { platform: "kvm" } } })).toEqual([
      "args.gvisor.runsc.platform",
      expect.stringMatching(/nested virtualization is not available to EKS managed node groups/),
    ]);
    expect(buildEksNodeGroupPlan({ ...base, gvisor: { runsc: { platform: "systrap" } } }).host.platform).toBe("systrap");
  });

  it("refuses moving release channels, and keeps the host plan's own checks with node-group paths", () => {
    expect(refusal({ gvisor: { version: "latest" } })).toEqual(["args.gvisor.version", expect.stringMatching(/pin a dated release/)]);
    expect(refusal({ gvisor: { version: "nightly" } })[0]).toBe("args.gvisor.version");
    expect(buildEksNodeGroupPlan({ ...base, gvisor: { version: "nightly/2026-11-01" } }).host.release.channelPath).toBe("nightly/2026-11-01");
    expect(refusal({ gvisor: { runsc: { extraFlags: { vfs2: "true" } } } })[0]).toBe('args.gvisor.runsc.extraFlags["vfs2"]');
    expect(refusal({ gvisor: { containerd: { runtimeName: "Run_SC" } } })[0]).toBe("args.gvisor.containerd.runtimeName");
    expect(refusal({ gvisor: { containerd: { configPath: "/etc/x" } } as any })[0]).toBe("args.gvisor.containerd.configPath");
    expect(refusal({ gvisor: { installDir: "/opt" } as any })[0]).toBe("args.gvisor.installDir");
  });

  it("labels and taints the nodes for their handler, and translates taints to the EKS API form", () => {
    const plan = buildEksNodeGroupPlan({
      ...base,
      labels: { team: "sandbox" },
      taints: [{ key: "dedicated", value: "untrusted", effect: "NoExecute" }],
    });
    expect(plan.nodeLabels).toEqual({ [GVISOR_NODE_LABEL]: "runsc", team: "sandbox" });
    expect(plan.nodeTaints).toEqual([
      { key: GVISOR_NODE_LABEL, value: "runsc", effect: "NoSchedule" },
      { key: "dedicated", value: "untrusted", effect: "NoExecute" },
    ]);
    expect(plan.eksTaints).toEqual([
      { key: GVISOR_NODE_LABEL, value: "runsc", effect: "NO_SCHEDULE" },
      { key: "dedicated", value: "untrusted", effect: "NO_EXECUTE" },
    ]);
  });

  it("refuses user labels or taints that would override the gVisor ones", () => {
    expect(refusal({ labels: { [GVISOR_NODE_LABEL]: "runsc" } })[0]).toBe(`args.labels["${GVISOR_NODE_LABEL}"]`);
    expect(refusal({ taints: [{ key: GVISOR_NODE_LABEL, effect: "NoExecute" }] })[0]).toBe("args.taints[0].key");
  });

  it("one handler everywhere: a custom runtime name reaches containerd, the label, the taint and the RuntimeClass", () => {
    const plan = buildEksNodeGroupPlan({
      ...base,
      gvisor: { containerd: { runtimeName: "gvisor-sb", runscConfigPath: "/etc/containerd/gvisor-sb.toml" } },
      runtimeClass: { name: "sandboxed" },
    });
    const toml = parseToml(plan.containerdConfig) as any;
    const entry = toml.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes["gvisor-sb"];
    expect(entry.options.ConfigPath).toBe("/etc/containerd/gvisor-sb.toml");
    expect(plan.host.containerd.runscConfigPath).toBe("/etc/containerd/gvisor-sb.toml");
    expect(plan.nodeLabels[GVISOR_NODE_LABEL]).toBe("gvisor-sb");
    expect(plan.eksTaints[0].value).toBe("gvisor-sb");
    const rc = plan.runtimeClass.manifest;
    new RuntimeClassModel(rc as any).validate();
    expect(rc.metadata.name).toBe("sandboxed");
    expect(rc.handler).toBe("gvisor-sb");
    expect(rc.scheduling.nodeSelector).toEqual({ [GVISOR_NODE_LABEL]: "gvisor-sb" });
  });

  it("refuses a RuntimeClass handler other than the nodes' (at preview, with the property path)", () => {
    expect(refusal({ runtimeClass: { handler: "gvisor" } })).toEqual([
      "args.runtimeClass.handler",
      expect.stringMatching(/is "gvisor" but the nodes register the containerd handler "runsc"/),
    ]);
    expect(refusal({ gvisor: { containerd: { runtimeName: "gvisor" } }, runtimeClass: { handler: "runsc" } })[0]).toBe("args.runtimeClass.handler");
    expect(buildEksNodeGroupPlan({ ...base, gvisor: { containerd: { runtimeName: "gvisor" } }, runtimeClass: { handler: "gvisor" } }).runtimeClass.handler).toBe("gvisor");
    expect(refusal({ runtimeClass: { handler: "Bad Handler" } })[0]).toBe("args.runtimeClass.handler");
    expect(refusal({ runtimeClass: { overhead: { podFixed: { memory: "64m" } } } })[0]).toBe("args.runtimeClass.overhead.podFixed.memory");
  });

  it("scaling: defaults fit within the given bounds, and inconsistent bounds are refused", () => {
    expect(buildEksNodeGroupPlan({ ...base, scaling: { maxSize: 1 } }).scaling).toEqual({ minSize: 1, desiredSize: 1, maxSize: 1 });
    expect(buildEksNodeGroupPlan({ ...base, scaling: { minSize: 0, desiredSize: 0 } }).scaling).toEqual({ minSize: 0, desiredSize: 0, maxSize: 3 });
    expect(buildEksNodeGroupPlan({ ...base, scaling: { desiredSize: 5 } }).scaling).toEqual({ minSize: 1, desiredSize: 5, maxSize: 5 });
    expect(refusal({ scaling: { minSize: 4, maxSize: 2 } })[0]).toBe("args.scaling.minSize");
    expect(refusal({ scaling: { desiredSize: 9, maxSize: 3 } })[0]).toBe("args.scaling.desiredSize");
    expect(refusal({ scaling: { maxSize: 0 } })[0]).toBe("args.scaling.maxSize");
    expect(refusal({ scaling: { minSize: 1.5 } })[0]).toBe("args.scaling.minSize");
    expect(refusal({ diskSize: 10 })[0]).toBe("args.diskSize");
    expect(refusal({ metadataHopLimit: 0 })[0]).toBe("args.metadataHopLimit");
    expect(refusal({ capacityType: "RESERVED" })[0]).toBe("args.capacityType");
  });
});

describe("Kubernetes version → containerd config form", () => {
  it.each([
    ["1.29", 2],
    ["1.32", 2],
    ["1.33", 3],
    ["1.34", 3],
    ["1.40", 3],
  ])("%s nodes read config version %i", (version, form) => {
    expect(containerdConfigVersionFor(parseKubernetesVersion(version, "v"))).toBe(form);
    expect(buildEksNodeGroupPlan({ kubernetesVersion: version }).containerdConfigVersion).toBe(form);
  });

  it("refuses numbers (1.30 would become 1.3), a v prefix and patch versions", () => {
    expect(refusal({ kubernetesVersion: 1.3 as any })).toEqual(["args.kubernetesVersion", expect.stringMatching(/1.30 becomes 1.3/)]);
    expect(refusal({ kubernetesVersion: "v1.33" })[0]).toBe("args.kubernetesVersion");
    expect(refusal({ kubernetesVersion: "1.33.2" })[0]).toBe("args.kubernetesVersion");
    expect(refusal({ kubernetesVersion: "2.0" })[0]).toBe("args.kubernetesVersion");
  });
});

describe("runsc cgroup mode on node groups", () => {
  const flagsOf = (cgroupMode?: string) =>
    buildEksNodeGroupPlan({ kubernetesVersion: "1.33", gvisor: { runsc: cgroupMode === undefined ? {} : { cgroupMode: cgroupMode as never } } }).host.runscFlags;

  it("auto (the default) passes no flag: the node bootstrap decides from the node", () => {
    expect(flagsOf()).toEqual([]);
    expect(flagsOf("auto")).toEqual([]);
  });

  it("systemd and cgroupfs render the systemd-cgroup flag, true and false", () => {
    expect(flagsOf("systemd")).toEqual([{ name: "systemd-cgroup", value: "true" }]);
    expect(flagsOf("cgroupfs")).toEqual([{ name: "systemd-cgroup", value: "false" }]);
  });

  it("refuses an unknown mode and the raw flag in extraFlags, naming the property", () => {
    expect(() => flagsOf("cgroupv2")).toThrowError(/^args\.gvisor\.runsc\.cgroupMode: must be one of .*"auto".*got "cgroupv2"/);
    expect(() =>
      buildEksNodeGroupPlan({ kubernetesVersion: "1.33", gvisor: { runsc: { extraFlags: { "systemd-cgroup": "true" } } } }),
    ).toThrowError(/^args\.gvisor\.runsc\.extraFlags\["systemd-cgroup"\]: use the typed option runsc\.cgroupMode instead/);
  });
});

describe("fail closed: which labels a node registers with and which it gets only once ready", () => {
  it("registers the user's labels only; the label the RuntimeClass selects is a ready label", () => {
    const plan = buildEksNodeGroupPlan({ kubernetesVersion: "1.33", labels: { team: "a" }, gvisor: { containerd: { runtimeName: "gvisor-sb" } } });
    expect(plan.registrationLabels).toEqual({ team: "a" });
    expect(plan.readyLabels).toEqual({ [GVISOR_NODE_LABEL]: "gvisor-sb" });
    expect(plan.runtimeClass.manifest.scheduling.nodeSelector).toEqual(plan.readyLabels);
    expect(plan.nodeLabels).toEqual({ team: "a", [GVISOR_NODE_LABEL]: "gvisor-sb" });
    // The taint is registered whatever happens: it keeps other pods off.
    expect(plan.eksTaints).toEqual([{ key: GVISOR_NODE_LABEL, value: "gvisor-sb", effect: "NO_SCHEDULE" }]);
  });
});
