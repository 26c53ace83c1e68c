import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Job } from "kubernetes-models/batch/v1/Job";
import { RuntimeClass as RuntimeClassModel } from "kubernetes-models/node.k8s.io/v1/RuntimeClass";
import { parse as parseToml } from "smol-toml";
import { load as loadYaml } from "js-yaml";
import { describe, expect, it } from "vitest";
import { EksNodeGroup } from "../../src/components/eks-node-group";
import { EksNodeGroupArgs } from "../../src/components/eks-node-group-args";
import { RuntimeClass } from "../../src/components/runtime-class";
import { RuntimeClassArgs } from "../../src/components/runtime-class-args";
import { GVISOR_NODE_LABEL, SMOKE_TEST_SCRIPT } from "../../src/plan/kubernetes";
import { Seen, drain, known, look, optionRecorder, recordResources, settled } from "./support/k8s-mocks";
import { runtimeClassPlanInput } from "../../src/components/runtime-class";
import { eksPlanInput } from "../../src/components/eks-node-group";
import { planOutput } from "../../src/components/validate";
import { buildRuntimeClassPlan } from "../../src/plan/kubernetes";
import { buildEksNodeGroupPlan } from "../../src/plan/eks";
import { parseMultipart } from "./support/mime";
import { madeInThisProgram } from "./support/mocks";
import { unpackShellScript } from "../../src/scripts/node-user-data";
import { expectReasonNamesPath, raisedBy, thrown } from "./support/input-errors";

const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: s3cr3t-token}}]\n";
const RC_TYPE = "kubernetes:node.k8s.io/v1:RuntimeClass";
const JOB_TYPE = "kubernetes:batch/v1:Job";
const PROVIDER_TYPE = "pulumi:providers:kubernetes";
const RC_COMPONENT = "pulumi-gvisor:index:RuntimeClass";
const LT_TYPE = "aws:ec2/launchTemplate:LaunchTemplate";
const NG_TYPE = "aws:eks/nodeGroup:NodeGroup";

/** Outputs a real cluster would report: a completed Job, GKE's class on read. */
const clusterOutputs = (r: Seen): Record<string, unknown> => {
  if (r.type === JOB_TYPE) return { metadata: { ...r.inputs.metadata, name: `${r.name}-abc12` }, status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } };
  if (r.type === RC_TYPE && r.readId === "gvisor") return { metadata: { name: "gvisor" }, handler: "gvisor", scheduling: { nodeSelector: { "sandbox.gke.io/runtime": "gvisor" } } };
  if (r.type === "aws:eks/nodeGroup:NodeGroup") return { arn: "arn:aws:eks:eu-west-1:111122223333:nodegroup/c/ng/1", nodeGroupName: r.inputs.nodeGroupName ?? `${r.name}-1234` };
  if (r.type === "aws:ec2/launchTemplate:LaunchTemplate") return { latestVersion: 3 };
  return {};
};

async function runtimeClassProgram(args: RuntimeClassArgs, opts: pulumi.ComponentResourceOptions = {}, preview = false) {
  const seen = recordResources(preview, clusterOutputs);
  const { options, transformation } = optionRecorder();
  const rc = new RuntimeClass("sandbox", args, { ...opts, transformations: [transformation] });
  await settled(rc);
  return { rc, seen, options, of: (type: string) => seen.filter((r) => r.type === type) };
}

describe("RuntimeClass component", () => {
  for (const preview of [true, false]) {
    it(`creates one schema-valid node.k8s.io/v1 RuntimeClass as its child (${preview ? "preview" : "update"})`, async () => {
      const { rc, seen, options, of } = await runtimeClassProgram({}, {}, preview);
      expect(seen.map((r) => r.type)).toEqual(["pulumi-gvisor:index:RuntimeClass", RC_TYPE]);
      const [created] = of(RC_TYPE);
      expect(options.get(`${RC_TYPE}::sandbox`)?.parent).toBe("sandbox");
      expect(options.get(`${RC_TYPE}::sandbox`)?.deleteBeforeReplace).toBe(true);
      new RuntimeClassModel({ apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", ...created.inputs } as any).validate();
      expect(created.inputs.metadata).toEqual({ name: "gvisor" });
      expect(created.inputs.handler).toBe("runsc");
      expect(created.inputs.scheduling).toEqual({
        nodeSelector: { [GVISOR_NODE_LABEL]: "runsc" },
        tolerations: [{ key: GVISOR_NODE_LABEL, operator: "Equal", value: "runsc", effect: "NoSchedule" }],
      });
      expect(await known(rc.name)).toBe("gvisor");
      expect(await known(rc.handler)).toBe("runsc");
      expect(await known(rc.managed)).toBe(true);
      const manifest = await known(rc.manifest);
      new RuntimeClassModel(manifest as any).validate();
      expect(manifest).toMatchObject({ apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", handler: "runsc" });
      expect(await known(rc.tolerations)).toEqual(created.inputs.scheduling.tolerations);
      expect((await look(rc.smokeTestJobName)).value).toBeUndefined();
    });
  }

  it("makes a Kubernetes provider from kubeconfig, secret, and creates the class through it", async () => {
    const { rc, of, options } = await runtimeClassProgram({ kubeconfig: KUBECONFIG });
    const [provider] = of(PROVIDER_TYPE);
    expect(provider.name).toBe("sandbox-k8s");
    expect(options.get(`${PROVIDER_TYPE}::sandbox-k8s`)?.parent).toBe("sandbox");
    expect(options.get(`${RC_TYPE}::sandbox`)?.provider).toBe("sandbox-k8s");
    expect(of(RC_TYPE)[0].provider).toMatch(/\$pulumi:providers:kubernetes::sandbox-k8s::/);
    const children = [...((rc as any).__childResources as Set<pulumi.Resource>)];
    const k8sProvider = children.find((c) => c instanceof k8s.Provider) as any;
    expect((await look(k8sProvider.kubeconfig)).secret).toBe(true);
  });

  it("uses the caller's provider when given one", async () => {
    const seen = recordResources(false);
    const caller = new k8s.Provider("cluster", { kubeconfig: KUBECONFIG });
    const rc = new RuntimeClass("sandbox", {}, { providers: [caller] });
    await settled(rc);
    expect(seen.filter((r) => r.type === PROVIDER_TYPE).map((r) => r.name)).toEqual(["cluster"]);
    expect(seen.find((r) => r.type === RC_TYPE)?.provider).toMatch(/::pulumi:providers:kubernetes::cluster::/);
  });

  it("refuses a kubeconfig together with a provider in the options", async () => {
    recordResources(true);
    const caller = new k8s.Provider("cluster", { kubeconfig: KUBECONFIG });
    const err = thrown(() => new RuntimeClass("both", { kubeconfig: KUBECONFIG }, { provider: caller }));
    expect(err).toBeInstanceOf(pulumi.InputPropertyError);
    expect((err as pulumi.InputPropertyError).propertyPath).toBe("args.kubeconfig");
    await drain();
  });

  it("renders overhead and generic scheduling", async () => {
    const { of } = await runtimeClassProgram({
      preset: "generic",
      name: "sandboxed",
      handler: "gvisor",
      nodeSelector: { "example.com/gvisor": "true" },
      taints: [{ key: "example.com/gvisor", effect: "NoSchedule" }],
      overhead: { podFixed: { cpu: "250m", memory: "120Mi" } },
    });
    const [created] = of(RC_TYPE);
    new RuntimeClassModel({ apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", ...created.inputs } as any).validate();
    expect(created.inputs).toMatchObject({
      metadata: { name: "sandboxed" },
      handler: "gvisor",
      overhead: { podFixed: { cpu: "250m", memory: "120Mi" } },
      scheduling: { nodeSelector: { "example.com/gvisor": "true" }, tolerations: [{ key: "example.com/gvisor", operator: "Exists", effect: "NoSchedule" }] },
    });
  });

  it("gke preset: reads GKE's gvisor class (never registers one) and reports it", async () => {
    const { rc, seen, of } = await runtimeClassProgram({ preset: "gke" });
    const rcs = of(RC_TYPE);
    expect(rcs).toHaveLength(1);
    expect(rcs[0].readId).toBe("gvisor");
    expect(seen.filter((r) => r.type === RC_TYPE && r.readId === undefined)).toHaveLength(0);
    expect(await known(rc.name)).toBe("gvisor");
    expect(await known(rc.handler)).toBe("gvisor");
    expect(await known(rc.managed)).toBe(false);
    expect((await known(rc.manifest)).scheduling.nodeSelector).toEqual({ "sandbox.gke.io/runtime": "gvisor" });
  });

  it("smoke test: a schema-valid Job under the class, after it; its name and outcome are outputs", async () => {
    const { rc, of } = await runtimeClassProgram({ smokeTest: true, smokeTestNamespace: "smoke" });
    const [job] = of(JOB_TYPE);
    expect(job.name).toBe("sandbox-smoke-test");
    new Job({ apiVersion: "batch/v1", kind: "Job", ...job.inputs } as any).validate();
    expect(job.inputs.metadata.namespace).toBe("smoke");
    expect(job.inputs.spec.template.spec.runtimeClassName).toBe("gvisor");
    expect(job.inputs.spec.template.spec.containers[0].command).toEqual(["sh", "-c", SMOKE_TEST_SCRIPT]);
    expect(await known(rc.smokeTestJobName)).toBe("sandbox-smoke-test-abc12");
    expect(await known(rc.smokeTestStatus)).toBe("Complete");
  });

  it("smoke test in preview: the Job is planned, its outcome unknown, and nothing hangs", async () => {
    const { rc, of } = await runtimeClassProgram({ smokeTest: true }, {}, true);
    expect(of(JOB_TYPE)).toHaveLength(1);
    // Nothing ran, so nothing may claim the sandbox works.
    expect((await look(rc.smokeTestStatus)).value).not.toBe("Complete");
  });

  it("forwards dependsOn to its children", async () => {
    recordResources(false);
    const before = new k8s.core.v1.Namespace("first", {});
    const { options } = await runtimeClassProgram({ smokeTest: true }, { dependsOn: [before] });
    expect(options.get(`${RC_COMPONENT}::sandbox`)?.dependsOn).toEqual(["first"]);
    expect(options.get(`${RC_TYPE}::sandbox`)?.dependsOn).toEqual(["first"]);
    expect(options.get(`${JOB_TYPE}::sandbox-smoke-test`)?.dependsOn).toEqual(["first"]);
  });

  it("refuses bad names and quantities at construction, naming the property", async () => {
    recordResources(true);
    const cases: [RuntimeClassArgs, string, RegExp][] = [
      [{ name: "GVisor" }, "args.name", /DNS subdomain/],
      [{ handler: "run_sc" }, "args.handler", /DNS label/],
      [{ overhead: { podFixed: { memory: "128m" } } }, "args.overhead.podFixed.memory", /milli/],
      [{ preset: "gke", handler: "runsc" }, "args.handler", /gvisor/],
      [{ preset: "generic" }, "args.nodeSelector", /required/],
      [{ smokeTest: true, smokeTestNamespace: "Bad NS" }, "args.smokeTestNamespace", /DNS label/],
    ];
    for (const [args, path, reason] of cases) {
      const err = thrown(() => new RuntimeClass("bad", args));
      expect(err, path).toBeInstanceOf(pulumi.InputPropertyError);
      expectReasonNamesPath(err);
      expect((err as pulumi.InputPropertyError).propertyPath).toBe(path);
      expect((err as pulumi.InputPropertyError).reason).toMatch(reason);
    }
    await drain();
  });

  it("validates Output-valued args once they resolve (the plan Output the component builds from)", async () => {
    recordResources(false);
    const plan = planOutput({ handler: pulumi.output("Not-A-Label") }, runtimeClassPlanInput, (i) => buildRuntimeClassPlan(i, "args"));
    await expect(known(plan)).rejects.toMatchObject({ propertyPath: "args.handler", reason: expect.stringMatching(/DNS label/) });
    const good = planOutput({ name: pulumi.output("sandboxed") }, runtimeClassPlanInput, (i) => buildRuntimeClassPlan(i, "args"));
    expect((await known(good)).manifest.metadata.name).toBe("sandboxed");
  });
});

const eksArgs = (extra: Partial<EksNodeGroupArgs> = {}): EksNodeGroupArgs => ({
  clusterName: "sandbox-cluster",
  kubernetesVersion: "1.33",
  nodeRoleArn: "arn:aws:iam::111122223333:role/nodes",
  subnetIds: ["subnet-a", "subnet-b"],
  ...extra,
});

async function eksProgram(args: EksNodeGroupArgs, opts: pulumi.ComponentResourceOptions = {}, preview = false) {
  const seen = recordResources(preview, clusterOutputs);
  const { options, transformation } = optionRecorder();
  const ng = new EksNodeGroup("gvisor", args, { ...opts, transformations: [transformation] });
  await settled(ng);
  await new Promise((r) => setTimeout(r, 50));
  const one = (type: string) => {
    const found = seen.filter((r) => r.type === type);
    expect(found, type).toHaveLength(1);
    return found[0];
  };
  return { ng, seen, options, one, of: (type: string) => seen.filter((r) => r.type === type) };
}

describe("EksNodeGroup component", () => {
  for (const preview of [true, false]) {
    it(`builds a launch template and an AL2023 node group as children, no cluster objects without cluster access (${preview ? "preview" : "update"})`, async () => {
      const { ng, seen, options, one } = await eksProgram(eksArgs(), {}, preview);
      expect(seen.map((r) => r.type)).toEqual(["pulumi-gvisor:index:EksNodeGroup", LT_TYPE, NG_TYPE]);
      expect(options.get(`${LT_TYPE}::gvisor-nodes`)?.parent).toBe("gvisor");
      // Autoscalers own the desired size: a refresh after scaling must not show a diff.
      expect(options.get(`${NG_TYPE}::gvisor-nodes`)?.ignoreChanges).toEqual(["scalingConfig.desiredSize"]);
      expect(options.get(`${NG_TYPE}::gvisor-nodes`)?.parent).toBe("gvisor");
      const lt = seen[1];
      const group = one("aws:eks/nodeGroup:NodeGroup");
      expect(lt.inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect(lt.inputs.blockDeviceMappings).toEqual([
        { deviceName: "/dev/xvda", ebs: { volumeSize: 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
      ]);
      expect(lt.inputs.updateDefaultVersion).toBe(true);
      expect(group.inputs).toMatchObject({
        clusterName: "sandbox-cluster",
        nodeRoleArn: "arn:aws:iam::111122223333:role/nodes",
        subnetIds: ["subnet-a", "subnet-b"],
        version: "1.33",
        amiType: "AL2023_x86_64_STANDARD",
        instanceTypes: ["m7i.large"],
        capacityType: "ON_DEMAND",
        scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 3 },
        // Fail closed: the label the RuntimeClass selects is not registered by
        // EKS for every node; the bootstrap adds it once gVisor is ready.
        labels: {},
        taints: [{ key: GVISOR_NODE_LABEL, value: "runsc", effect: "NO_SCHEDULE" }],
        updateConfig: { maxUnavailable: 1 },
      });
      if (!preview) expect(group.inputs.launchTemplate).toEqual({ id: "gvisor-nodes-id", version: "3" });
      // The user data the template carries is the rendered document, base64-encoded.
      const userData = await known(ng.userData);
      if (!preview) expect(Buffer.from(lt.inputs.userData, "base64").toString("utf8")).toBe(userData);
      const nodeConfig = loadYaml(parseMultipart(userData).parts[0].body) as any;
      const toml = parseToml(nodeConfig.spec.containerd.config) as any;
      expect(toml.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes.runsc.runtime_type).toBe("io.containerd.runsc.v1");
      // Registration labels and taints go through the node group, not kubelet flags;
      // the ready label comes from the bootstrap's nodeadm drop-in, on success only.
      expect(nodeConfig.spec.kubelet).toBeUndefined();
      const bootstrap = unpackShellScript(parseMultipart(userData).parts[1].body);
      expect(bootstrap).toContain(`ready_labels='${GVISOR_NODE_LABEL}=runsc'`);
      expect(await known(ng.nodeLabels)).toEqual({ [GVISOR_NODE_LABEL]: "runsc" });
      expect(await known(ng.runtimeClassCreated)).toBe(false);
      expect(await known(ng.runtimeClassName)).toBe("gvisor");
      const manifest = await known(ng.runtimeClassManifest);
      new RuntimeClassModel(manifest as any).validate();
      expect(manifest.scheduling.nodeSelector).toEqual({ [GVISOR_NODE_LABEL]: "runsc" });
      expect(await known(ng.containerdConfigVersion)).toBe(3);
    });
  }

  it("Graviton: arm64 gets the ARM AMI type, Graviton instances and the aarch64 release", async () => {
    const { ng, one } = await eksProgram(eksArgs({ arch: "arm64", instanceTypes: ["c7g.large", "m7g.large"] }));
    expect(one("aws:eks/nodeGroup:NodeGroup").inputs).toMatchObject({ amiType: "AL2023_ARM_64_STANDARD", instanceTypes: ["c7g.large", "m7g.large"] });
    expect(await known(ng.amiType)).toBe("AL2023_ARM_64_STANDARD");
    const shellPart = parseMultipart(await known(ng.userData)).parts.find((p) => p.headers["content-type"].startsWith("text/x-shellscript"))!;
    expect(unpackShellScript(shellPart.body)).toContain("GV_ARCH='aarch64'");
  });

  it("Kubernetes 1.32 nodes get the v2 containerd form, and the node group is pinned to 1.32", async () => {
    const { ng, one } = await eksProgram(eksArgs({ kubernetesVersion: "1.32" }));
    expect(one("aws:eks/nodeGroup:NodeGroup").inputs.version).toBe("1.32");
    const toml = parseToml((loadYaml(parseMultipart(await known(ng.userData)).parts[0].body) as any).spec.containerd.config) as any;
    expect(toml.version).toBeUndefined();
    expect(toml.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runsc).toBeDefined();
  });

  it("tags the template, what it launches and the node group; takes disk, hop limit, security groups and scaling", async () => {
    const { one } = await eksProgram(
      eksArgs({
        tags: { team: "platform" },
        diskSize: 100,
        diskKmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/k",
        metadataHopLimit: 2,
        securityGroupIds: ["sg-1"],
        scaling: { minSize: 0, desiredSize: 0, maxSize: 4 },
        capacityType: "SPOT",
      }),
    );
    const lt = one("aws:ec2/launchTemplate:LaunchTemplate").inputs;
    expect(lt.tags).toEqual({ team: "platform" });
    expect(lt.tagSpecifications).toEqual(["instance", "volume", "network-interface"].map((resourceType) => ({ resourceType, tags: { Name: "gvisor", team: "platform" } })));
    expect(lt.blockDeviceMappings[0].ebs).toMatchObject({ volumeSize: 100, kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/k", encrypted: "true" });
    expect(lt.metadataOptions.httpPutResponseHopLimit).toBe(2);
    expect(lt.vpcSecurityGroupIds).toEqual(["sg-1"]);
    expect(one("aws:eks/nodeGroup:NodeGroup").inputs).toMatchObject({ tags: { team: "platform" }, scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 4 }, capacityType: "SPOT" });
  });

  it("with a kubeconfig: a RuntimeClass child (after the node group) through a provider made from it, matching the nodes", async () => {
    const { ng, options, one } = await eksProgram(
      eksArgs({ kubeconfig: KUBECONFIG, gvisor: { containerd: { runtimeName: "gvisor-sb" } }, runtimeClass: { name: "sandboxed", overhead: { podFixed: { memory: "64Mi" } } } }),
    );
    expect(one(RC_COMPONENT).name).toBe("gvisor-runtime-class");
    expect(options.get(`${RC_COMPONENT}::gvisor-runtime-class`)).toMatchObject({ parent: "gvisor", dependsOn: ["gvisor-nodes"] });
    expect(options.get(`${PROVIDER_TYPE}::gvisor-runtime-class-k8s`)?.parent).toBe("gvisor-runtime-class");
    expect(options.get(`${RC_TYPE}::gvisor-runtime-class`)).toMatchObject({ parent: "gvisor-runtime-class", dependsOn: ["gvisor-nodes"], provider: "gvisor-runtime-class-k8s" });
    const rc = one(RC_TYPE);
    expect(rc.provider).toMatch(/\$pulumi:providers:kubernetes::gvisor-runtime-class-k8s::/);
    new RuntimeClassModel({ apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", ...rc.inputs } as any).validate();
    expect(rc.inputs).toMatchObject({
      metadata: { name: "sandboxed" },
      handler: "gvisor-sb",
      overhead: { podFixed: { memory: "64Mi" } },
      scheduling: { nodeSelector: { [GVISOR_NODE_LABEL]: "gvisor-sb" } },
    });
    const group = one("aws:eks/nodeGroup:NodeGroup").inputs;
    expect(group.labels[GVISOR_NODE_LABEL]).toBeUndefined();
    expect(unpackShellScript(parseMultipart(await known(ng.userData)).parts[1].body)).toContain(`--node-labels=${GVISOR_NODE_LABEL}=gvisor-sb`);
    expect(group.taints[0]).toEqual({ key: GVISOR_NODE_LABEL, value: "gvisor-sb", effect: "NO_SCHEDULE" });
    expect(await known(ng.userData)).toContain("containerd.runtimes.gvisor-sb]");
    expect(await known(ng.runtimeClassCreated)).toBe(true);
    expect(await known(ng.runtimeClassName)).toBe("sandboxed");
    expect(await known(ng.handler)).toBe("gvisor-sb");
  });

  it("with a Kubernetes provider in the options: the class goes through it; the smoke test runs after the nodes", async () => {
    const seen = recordResources(false, clusterOutputs);
    const { options, transformation } = optionRecorder();
    const caller = new k8s.Provider("cluster", { kubeconfig: KUBECONFIG });
    const ng = new EksNodeGroup("gvisor", eksArgs({ smokeTest: true }), { providers: [caller], transformations: [transformation] });
    await settled(ng);
    expect(await known(ng.smokeTestStatus)).toBe("Complete");
    expect(seen.filter((r) => r.type === PROVIDER_TYPE).map((r) => r.name)).toEqual(["cluster"]);
    const rc = seen.find((r) => r.type === RC_TYPE)!;
    const job = seen.find((r) => r.type === JOB_TYPE)!;
    expect(rc.provider).toMatch(/::pulumi:providers:kubernetes::cluster::/);
    expect(job.provider).toMatch(/::pulumi:providers:kubernetes::cluster::/);
    expect(job.inputs.spec.template.spec.runtimeClassName).toBe("gvisor");
    expect(options.get(`${JOB_TYPE}::gvisor-runtime-class-smoke-test`)?.dependsOn).toEqual(["gvisor-nodes"]);
    expect(await known(ng.smokeTestJobName)).toBe("gvisor-runtime-class-smoke-test-abc12");
  });

  it("refuses at construction: handler mismatch, kvm, a smoke test without cluster access, both kubeconfig and provider", async () => {
    recordResources(true);
    const caller = new k8s.Provider("cluster", { kubeconfig: KUBECONFIG });
    const cases: [EksNodeGroupArgs, pulumi.ComponentResourceOptions, string, RegExp][] = [
      [eksArgs({ runtimeClass: { handler: "gvisor" } }), {}, "args.runtimeClass.handler", /nodes register the containerd handler "runsc"/],
      [eksArgs({ gvisor: { runsc: { platform: "kvm" } } }), {}, "args.gvisor.runsc.platform", /nested virtualization/],
      [eksArgs({ arch: "x86_64", instanceTypes: ["m7g.large"] }), {}, "args.instanceTypes[0]", /arm64/],
      [eksArgs({ kubernetesVersion: 1.3 as any }), {}, "args.kubernetesVersion", /1.30 becomes 1.3/],
      [eksArgs({ smokeTest: true }), {}, "args.smokeTest", /needs cluster access/],
      [eksArgs({ kubeconfig: KUBECONFIG }), { providers: [caller] }, "args.kubeconfig", /not both|one of them/],
    ];
    for (const [args, opts, path, reason] of cases) {
      const err = thrown(() => new EksNodeGroup("bad", args, opts));
      expect(err, path).toBeInstanceOf(pulumi.InputPropertyError);
      expectReasonNamesPath(err);
      expect((err as pulumi.InputPropertyError).propertyPath).toBe(path);
      expect((err as pulumi.InputPropertyError).reason).toMatch(reason);
    }
    await drain();
  });

  it("validates Output-valued args once they resolve (the plan Output the component builds from)", async () => {
    recordResources(false);
    const plan = planOutput({ kubernetesVersion: pulumi.output("1.33"), runtimeClass: pulumi.output({ handler: "other" }) }, eksPlanInput, (i) =>
      buildEksNodeGroupPlan(i, "args"),
    );
    await expect(known(plan)).rejects.toMatchObject({ propertyPath: "args.runtimeClass.handler" });
    const good = planOutput({ kubernetesVersion: pulumi.output("1.32"), arch: pulumi.output("arm64" as const) }, eksPlanInput, (i) => buildEksNodeGroupPlan(i, "args"));
    expect((await known(good)).amiType).toBe("AL2023_ARM_64_STANDARD");
  });
});

// ---------------------------------------------------------------------------
// Smoke-test lifecycle

/**
 * What the engine and pulumi-kubernetes do with the smoke Job on the next
 * `pulumi up`, from their documented behaviour (FIELD-NOTES; the Job
 * resource's docs): a Job that failed stays in state with initialization
 * errors and is updated, which waits on that same failed Job again, unless it
 * carries `pulumi.com/replaceUnready: "true"`, which makes it a replacement;
 * a change under a `replaceOnChanges` path is a replacement; equal inputs of
 * a ready Job are no change.
 */
function nextJobStep(
  prev: { inputs: Record<string, any>; ready: boolean } | undefined,
  next: Record<string, any>,
  replaceOnChanges: readonly string[],
): "create" | "none" | "update (awaits the same Job)" | "update" | "replace (a new Job runs)" {
  if (prev === undefined) return "create";
  const at = (o: Record<string, any>, path: string) => JSON.stringify(path.split(".").reduce((v: any, k) => v?.[k], o));
  if (replaceOnChanges.some((path) => at(prev.inputs, path) !== at(next, path))) return "replace (a new Job runs)";
  if (!prev.ready) return next.metadata?.annotations?.["pulumi.com/replaceUnready"] === "true" ? "replace (a new Job runs)" : "update (awaits the same Job)";
  return JSON.stringify(prev.inputs) === JSON.stringify(next) ? "none" : "update";
}

/** Runs a program under the mocks and returns the smoke Job's inputs and resource options. */
async function smokeJob(build: (t: pulumi.ResourceTransformation) => pulumi.Resource, outputs: (r: Seen) => Record<string, unknown> = clusterOutputs) {
  const seen = recordResources(false, outputs);
  let jobOpts: pulumi.CustomResourceOptions | undefined;
  const transformation: pulumi.ResourceTransformation = (t) => {
    if (t.type === JOB_TYPE) jobOpts = t.opts as pulumi.CustomResourceOptions;
    return undefined;
  };
  const root = build(transformation);
  await settled(root);
  await new Promise((r) => setTimeout(r, 50));
  const jobs = seen.filter((r) => r.type === JOB_TYPE);
  expect(jobs).toHaveLength(1);
  return { inputs: jobs[0].inputs, opts: jobOpts! };
}

describe("smoke-test lifecycle", () => {
  const withLaunchTemplateVersion = (version: number) => (r: Seen) =>
    r.type === LT_TYPE ? { latestVersion: version } : clusterOutputs(r);
  const nodeGroupJob = (args: Partial<EksNodeGroupArgs>, version = 3) =>
    smokeJob((t) => new EksNodeGroup("gvisor", eksArgs({ kubeconfig: KUBECONFIG, smokeTest: true, ...args }), { transformations: [t] }), withLaunchTemplateVersion(version));

  it("the Job is auto-named, replaced on any spec change, and marked for replacement when unready", async () => {
    const { inputs, opts } = await smokeJob((t) => new RuntimeClass("sandbox", { smokeTest: true }, { transformations: [t] }));
    expect(inputs.metadata.name).toBeUndefined();
    expect(inputs.metadata.annotations).toEqual({ "pulumi.com/replaceUnready": "true" });
    expect(opts.replaceOnChanges).toEqual(["spec"]);
    // Auto-named: the new Job can exist before the old one is deleted.
    expect(opts.deleteBeforeReplace).toBeUndefined();
    new Job({ apiVersion: "batch/v1", kind: "Job", ...inputs } as any).validate();
  });

  it("re-runs when the node group's launch template version changes, and when the user data does", async () => {
    const v3 = await nodeGroupJob({}, 3);
    const v3again = await nodeGroupJob({}, 3);
    const v4 = await nodeGroupJob({}, 4);
    const otherUserData = await nodeGroupJob({ gvisor: { runsc: { network: "none" } } }, 3);
    const trigger = (j: { inputs: Record<string, any> }) => j.inputs.spec.template.metadata.annotations["sandbox.pulumi-gvisor.io/smoke-test-trigger"];
    expect(trigger(v3)).toMatch(/^gvisor-nodes-id:3:[0-9a-f]{16}$/);
    expect(trigger(v3again)).toBe(trigger(v3));
    expect(trigger(v4)).toMatch(/^gvisor-nodes-id:4:/);
    expect(trigger(otherUserData)).not.toBe(trigger(v3));
    const succeeded = { inputs: v3.inputs, ready: true };
    expect(nextJobStep(succeeded, v3again.inputs, v3.opts.replaceOnChanges!)).toBe("none");
    expect(nextJobStep(succeeded, v4.inputs, v4.opts.replaceOnChanges!)).toBe("replace (a new Job runs)");
    expect(nextJobStep(succeeded, otherUserData.inputs, otherUserData.opts.replaceOnChanges!)).toBe("replace (a new Job runs)");
  });

  it("after a failed run, the next pulumi up with unchanged inputs runs a fresh Job, without --replace", async () => {
    const first = await nodeGroupJob({});
    const failed = { inputs: first.inputs, ready: false };
    const again = await nodeGroupJob({});
    expect(again.inputs).toEqual(first.inputs);
    expect(nextJobStep(failed, again.inputs, again.opts.replaceOnChanges!)).toBe("replace (a new Job runs)");
    // Without the annotation the engine would wait on the same failed Job again: the failure mode this prevents.
    const metadata = { ...again.inputs.metadata, annotations: undefined };
    expect(nextJobStep(failed, { ...again.inputs, metadata }, again.opts.replaceOnChanges!)).toBe("update (awaits the same Job)");
    // Once the fresh Job completed, an unchanged program changes nothing.
    expect(nextJobStep({ inputs: again.inputs, ready: true }, again.inputs, again.opts.replaceOnChanges!)).toBe("none");
  });

  it("takes a trigger of the caller's on a RuntimeClass of its own, validated with the property path", async () => {
    const a = await smokeJob((t) => new RuntimeClass("sandbox", { smokeTest: true, smokeTestTrigger: "pool-v7" }, { transformations: [t] }));
    expect(a.inputs.spec.template.metadata.annotations).toEqual({ "sandbox.pulumi-gvisor.io/smoke-test-trigger": "pool-v7" });
    recordResources(false);
    expect(thrown(() => new RuntimeClass("bad", { smokeTest: true, smokeTestTrigger: "two\nlines" }))).toMatchObject({
      propertyPath: "args.smokeTestTrigger",
    });
    await drain();
  });
});

describe("validation at preview while other inputs are unknown", () => {

  it("EksNodeGroup: refuses a bad plain field at construction although the cluster's version is an Output not known yet", async () => {
    const cases: [Partial<EksNodeGroupArgs>, string, RegExp][] = [
      [{ gvisor: { runsc: { platform: "kvm" } } }, "args.gvisor.runsc.platform", /^args\.gvisor\.runsc\.platform: "kvm" needs \/dev\/kvm/],
      [{ gvisor: { version: "latest" } }, "args.gvisor.version", /^args\.gvisor\.version: "latest" moves/],
      [{ gvisor: { containerd: { runtimeName: "Bad_Name" } } }, "args.gvisor.containerd.runtimeName", /^args\.gvisor\.containerd\.runtimeName: must be a DNS label/],
      [{ diskSize: 5 }, "args.diskSize", /^args\.diskSize: must be a whole number from 20/],
      [{ arch: "arm64", instanceTypes: ["m7i.large"] }, "args.instanceTypes[0]", /^args\.instanceTypes\[0\]: "m7i\.large" is an x86_64 type/],
    ];
    for (const [extra, path, reason] of cases) {
      const seen = recordResources(true, clusterOutputs);
      const kubernetesVersion = madeInThisProgram("cluster-version");
      const err = raisedBy(() => new EksNodeGroup("bad", eksArgs({ kubernetesVersion, ...extra })));
      expect(err, path).toBeInstanceOf(pulumi.InputPropertyError);
      expect(err.propertyPath, path).toBe(path);
      expect(err.reason, path).toMatch(reason);
      await drain();
      expect(seen.map((r) => r.type), path).toEqual(["test:index:Made"]);
    }
    // Good args with the version unknown: constructed, nothing refused.
    recordResources(true, clusterOutputs);
    const ng = new EksNodeGroup("ok", eksArgs({ kubernetesVersion: madeInThisProgram("v") }));
    await settled(ng);
  });

  it("RuntimeClass: refuses a bad handler at construction although the name is an Output not known yet", async () => {
    const seen = recordResources(true, clusterOutputs);
    const err = raisedBy(() => new RuntimeClass("bad", { name: madeInThisProgram("class-name"), handler: "Not-A-Label" }));
    expect(err).toBeInstanceOf(pulumi.InputPropertyError);
    expect(err.propertyPath).toBe("args.handler");
    expect(err.reason).toMatch(/^args\.handler: .*DNS label/);
    await drain();
    expect(seen.map((r) => r.type)).toEqual(["test:index:Made"]);
    // The smoke test's namespace, while its trigger is an Output not known yet.
    recordResources(true, clusterOutputs);
    const smoke = raisedBy(() => new RuntimeClass("bad", { kubeconfig: KUBECONFIG, smokeTest: true, smokeTestTrigger: madeInThisProgram("t"), smokeTestNamespace: "Bad NS" }));
    expect(smoke?.propertyPath).toBe("args.smokeTestNamespace");
    expect(smoke?.reason).toMatch(/^args\.smokeTestNamespace: /);
    await drain();
    const late = planOutput({ name: madeInThisProgram("n"), handler: pulumi.output("runc") }, runtimeClassPlanInput, (i) => buildRuntimeClassPlan(i, "args"));
    await expect(known(late)).rejects.toMatchObject({ propertyPath: "args.handler", reason: expect.stringMatching(/^args\.handler: "runc" is the default/) });
  });
});
