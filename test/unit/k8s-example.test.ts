import * as pulumi from "@pulumi/pulumi";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { describe, expect, it, vi } from "vitest";
import { GVISOR_NODE_LABEL } from "../../src/plan/kubernetes";
import { Seen, known, look, recordResources } from "./support/k8s-mocks";

// The example imports the package by name, as users do. Until src/index.ts
// re-exports the Kubernetes components, the name resolves to the index plus them.
vi.mock("pulumi-gvisor", async () => ({
  ...(await import("../../src/index")),
  ...(await import("../../src/components/runtime-class")),
  ...(await import("../../src/components/eks-node-group")),
}));

const PROJECT = "gvisor-example-eks";
const EXAMPLE = ["..", "..", "examples", "eks", "index"].join("/");

/** What AWS and the cluster would answer. */
const cloud = (r: Seen): Record<string, unknown> => {
  if (r.type === "aws:eks/cluster:Cluster") return { name: "sandbox-1a2b", endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com", certificateAuthority: { data: "Q0EK" } };
  if (r.type === "aws:ec2/launchTemplate:LaunchTemplate") return { latestVersion: 1 };
  if (r.type === "aws:eks/nodeGroup:NodeGroup") return { nodeGroupName: r.inputs.nodeGroupName ?? `${r.name}-1234` };
  if (r.type === "kubernetes:batch/v1:Job") return { metadata: { ...r.inputs.metadata, name: "job-x1" }, status: { conditions: [{ type: "Complete", status: "True" }] } };
  return {};
};
const invoke = (token: string): Record<string, unknown> => {
  if (token === "aws:ec2/getVpc:getVpc") return { id: "vpc-0a1b" };
  if (token === "aws:ec2/getSubnets:getSubnets") return { ids: ["subnet-a", "subnet-b", "subnet-c"] };
  if (token === "aws:index/getRegion:getRegion") return { name: "eu-west-1", region: "eu-west-1" };
  throw new Error(`unexpected invoke ${token}`);
};

async function runExample(preview: boolean, config: Record<string, string> = {}) {
  const seen = recordResources(preview, cloud, invoke, PROJECT);
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v])));
  vi.resetModules();
  // A computed path: the root typecheck leaves the examples to examples/tsconfig.json.
  const exports: Record<string, pulumi.Output<any>> = await import(/* @vite-ignore */ EXAMPLE);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { seen, exports, one: (type: string) => seen.filter((r) => r.type === type) };
}

describe("examples/eks", () => {
  for (const preview of [true, false]) {
    it(`builds the cluster, a system node group, Graviton gVisor nodes, the RuntimeClass, the smoke test and the Deployment (${preview ? "preview" : "update"})`, async () => {
      const { exports, one } = await runExample(preview);
      const groups = one("aws:eks/nodeGroup:NodeGroup");
      expect(groups.map((g) => g.name).sort()).toEqual(["gvisor-nodes", "system"]);
      const gvisorGroup = groups.find((g) => g.name === "gvisor-nodes")!;
      expect(gvisorGroup.inputs).toMatchObject({ amiType: "AL2023_ARM_64_STANDARD", instanceTypes: ["m7g.large"], version: "1.33", labels: {} });
      expect(groups.find((g) => g.name === "system")!.inputs.taints).toBeUndefined();
      const [rc] = one("kubernetes:node.k8s.io/v1:RuntimeClass");
      expect(rc.inputs).toMatchObject({ metadata: { name: "gvisor" }, handler: "runsc", overhead: { podFixed: { cpu: "100m", memory: "64Mi" } } });
      // The class selects the ready label, which the node group does not register for every node.
      expect(rc.inputs.scheduling.nodeSelector).toEqual({ [GVISOR_NODE_LABEL]: "runsc" });
      expect(one("kubernetes:batch/v1:Job")).toHaveLength(1);
      const [web] = one("kubernetes:apps/v1:Deployment");
      expect(web.inputs.spec.template.spec.runtimeClassName).toBe("gvisor");
      new Deployment({ apiVersion: "apps/v1", kind: "Deployment", ...web.inputs } as any).validate();
      expect(await known(exports.handler)).toBe("runsc");
      expect((await look(exports.kubeconfigJson)).secret).toBe(true);
      if (!preview) {
        expect(await known(exports.smokeTestStatus)).toBe("Complete");
        const kubeconfig = JSON.parse(await known(exports.kubeconfigJson));
        expect(kubeconfig.users[0].user.exec.args).toEqual(["eks", "get-token", "--cluster-name", "sandbox-1a2b", "--region", "eu-west-1"]);
      }
    });
  }

  it("x86_64 on Kubernetes 1.32 by config: x86 AMI types and the containerd 1.7 (v2) config form", async () => {
    const { exports, one } = await runExample(false, { arch: "x86_64", kubernetesVersion: "1.32" });
    const amiTypes = one("aws:eks/nodeGroup:NodeGroup").map((g) => g.inputs.amiType);
    expect(amiTypes).toEqual(["AL2023_x86_64_STANDARD", "AL2023_x86_64_STANDARD"]);
    expect(await known(exports.containerdConfigVersion)).toBe(2);
  });
});
