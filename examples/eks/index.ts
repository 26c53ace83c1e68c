// An EKS cluster with a gVisor node group (Graviton by default), the
// RuntimeClass that matches it, and a sample Deployment whose pods run in
// gVisor sandboxes. Plain @pulumi/aws resources for the cluster; the node
// group, its user data and the RuntimeClass come from pulumi-gvisor.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as gvisor from "pulumi-gvisor";

const config = new pulumi.Config();
const kubernetesVersion = config.get("kubernetesVersion") ?? "1.33";
const arch = (config.get("arch") ?? gvisor.Arch.Arm64) as gvisor.Arch;
const graviton = arch === gvisor.Arch.Arm64;
const tags = { project: pulumi.getProject(), stack: pulumi.getStack() };

// Network: the default VPC's default subnets (one per zone, public), so nodes
// can fetch the gVisor release and images without a NAT gateway.
const vpc = aws.ec2.getVpcOutput({ default: true });
const subnets = aws.ec2.getSubnetsOutput({
  filters: [
    { name: "vpc-id", values: [vpc.id] },
    { name: "default-for-az", values: ["true"] },
  ],
});
const region = aws.getRegionOutput().region;

// IAM: one role for the control plane, one for the nodes.
const assumedBy = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
  });
const clusterRole = new aws.iam.Role("cluster", { assumeRolePolicy: assumedBy("eks.amazonaws.com"), tags });
const clusterPolicy = new aws.iam.RolePolicyAttachment("cluster", {
  role: clusterRole.name,
  policyArn: "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
});
const nodeRole = new aws.iam.Role("nodes", { assumeRolePolicy: assumedBy("ec2.amazonaws.com"), tags });
const nodePolicies = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEKS_CNI_Policy",
  "AmazonEC2ContainerRegistryReadOnly",
  // Shell access through SSM Session Manager instead of SSH.
  "AmazonSSMManagedInstanceCore",
].map((policy) => new aws.iam.RolePolicyAttachment(`nodes-${policy}`, { role: nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${policy}` }));

const cluster = new aws.eks.Cluster(
  "sandbox",
  {
    version: kubernetesVersion,
    roleArn: clusterRole.arn,
    vpcConfig: {
      subnetIds: subnets.ids,
      endpointPublicAccess: true,
      publicAccessCidrs: config.getObject<string[]>("apiAllowedCidrs") ?? ["0.0.0.0/0"],
    },
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    tags,
  },
  { dependsOn: [clusterPolicy] },
);

// The gVisor nodes are tainted, so cluster add-ons (CoreDNS, …) need
// ordinary nodes of their own.
const systemNodes = new aws.eks.NodeGroup(
  "system",
  {
    clusterName: cluster.name,
    version: kubernetesVersion,
    nodeRoleArn: nodeRole.arn,
    subnetIds: subnets.ids,
    amiType: graviton ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
    instanceTypes: [graviton ? "t4g.medium" : "t3.medium"],
    scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 2 },
    tags,
  },
  { dependsOn: nodePolicies },
);

const kubeconfig = pulumi.secret(
  pulumi.jsonStringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "eks", cluster: { server: cluster.endpoint, "certificate-authority-data": cluster.certificateAuthority.data } }],
    contexts: [{ name: "eks", context: { cluster: "eks", user: "eks" } }],
    "current-context": "eks",
    users: [
      {
        name: "eks",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", cluster.name, "--region", region],
          },
        },
      },
    ],
  }),
);
const k8sProvider = new k8s.Provider("sandbox", { kubeconfig });

// gVisor nodes: user data registers the runsc handler with containerd and
// installs a pinned, sha512-verified gVisor before kubelet starts; the nodes
// carry the NoSchedule taint sandbox.pulumi-gvisor.io/runtime=runsc, and the
// label of that name only once gVisor works on them (the bootstrap adds it),
// which the RuntimeClass made through the provider selects and tolerates.
const sandboxNodes = new gvisor.EksNodeGroup(
  "gvisor",
  {
    clusterName: cluster.name,
    kubernetesVersion,
    nodeRoleArn: nodeRole.arn,
    subnetIds: subnets.ids,
    arch,
    instanceTypes: config.getObject<string[]>("instanceTypes"),
    scaling: { minSize: 1, desiredSize: 2, maxSize: 4 },
    runtimeClass: { name: "gvisor", overhead: { podFixed: { cpu: "100m", memory: "64Mi" } } },
    // Proves a sandboxed pod starts (uname -r inside the sandbox) before the
    // deployment goes on; runs again whenever the nodes' launch template changes.
    smokeTest: true,
    tags,
  },
  { providers: [k8sProvider], dependsOn: [...nodePolicies, systemNodes] },
);

// A sample workload: every pod of this Deployment runs in a gVisor sandbox,
// on the gVisor nodes only (the RuntimeClass adds the selector and toleration).
const labels = { app: "sandboxed-web" };
const web = new k8s.apps.v1.Deployment(
  "sandboxed-web",
  {
    metadata: { namespace: "default", labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          runtimeClassName: sandboxNodes.runtimeClassName,
          containers: [
            {
              name: "web",
              image: "docker.io/library/nginx:1.27-alpine",
              ports: [{ containerPort: 80 }],
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
            },
          ],
        },
      },
    },
  },
  { provider: k8sProvider, dependsOn: [sandboxNodes] },
);

export const clusterName = cluster.name;
/** pulumi stack output --show-secrets kubeconfig > kubeconfig.json && export KUBECONFIG=$PWD/kubeconfig.json */
export const kubeconfigJson = kubeconfig;
export const gvisorNodeGroup = sandboxNodes.nodeGroupName;
export const amiType = sandboxNodes.amiType;
export const runtimeClassName = sandboxNodes.runtimeClassName;
export const handler = sandboxNodes.handler;
export const nodeLabels = sandboxNodes.nodeLabels;
export const nodeTaints = sandboxNodes.nodeTaints;
export const containerdConfigVersion = sandboxNodes.containerdConfigVersion;
export const smokeTestJob = sandboxNodes.smokeTestJobName;
export const smokeTestStatus = sandboxNodes.smokeTestStatus;
export const deployment = web.metadata.name;
