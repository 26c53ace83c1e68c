import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EksNodeGroupInput, EksNodeGroupPlan, buildEksNodeGroupPlan } from "../plan/eks";
import { NodeTaint, RuntimeClassManifest, RuntimeClassPreset } from "../plan/kubernetes";
import { renderEksNodeUserData } from "../scripts/node-user-data";
import { EksNodeGroupArgs } from "./eks-node-group-args";
import { optsHaveKubernetesProvider } from "./kubernetes-provider";
import { RuntimeClass } from "./runtime-class";
import { asInputError, compact, inputPropertyError, planOutput } from "./validate";
import { ifKnown } from "./unknown-values";

type PlanArgs = Omit<
  EksNodeGroupArgs,
  "clusterName" | "nodeRoleArn" | "subnetIds" | "diskKmsKeyId" | "securityGroupIds" | "nodeGroupName" | "tags" | "kubeconfig" | "smokeTest" | "smokeTestImage" | "smokeTestNamespace"
>;

/** Builds the plan input from component args, dropping unset keys. */
export function eksPlanInput(args: pulumi.Unwrap<PlanArgs>): EksNodeGroupInput {
  return compact({
    kubernetesVersion: args.kubernetesVersion,
    arch: args.arch,
    instanceTypes: args.instanceTypes,
    capacityType: args.capacityType,
    scaling: args.scaling === undefined ? undefined : compact(args.scaling),
    diskSize: args.diskSize,
    metadataHopLimit: args.metadataHopLimit,
    labels: args.labels,
    taints: ifKnown(args.taints, (ts) => ts?.map((t) => compact(t))),
    gvisor: ifKnown(args.gvisor, (gvisor) =>
      gvisor === undefined
        ? undefined
        : compact({
            version: gvisor.version,
            mirror: gvisor.mirror,
            runsc: gvisor.runsc === undefined ? undefined : compact(gvisor.runsc),
            containerd: gvisor.containerd === undefined ? undefined : compact(gvisor.containerd),
          }),
    ),
    runtimeClass: ifKnown(args.runtimeClass, (rc) =>
      rc === undefined
        ? undefined
        : compact({
            name: rc.name,
            handler: rc.handler,
            overhead: ifKnown(rc.overhead, (o) => (o === undefined ? undefined : compact({ podFixed: o.podFixed === undefined ? undefined : compact(o.podFixed) }))),
          }),
    ),
  });
}

/**
 * An EKS managed node group of Amazon Linux 2023 nodes (x86_64 or Graviton)
 * that are gVisor-ready before kubelet starts: the launch template's user data
 * registers the runsc handler with containerd (NodeConfig, in the form the
 * nodes' containerd reads) and installs a pinned, sha512-verified gVisor with
 * its runsc.toml. Nodes carry the label and NoSchedule taint
 * `sandbox.pulumi-gvisor.io/runtime=<handler>`, so only pods of the matching
 * RuntimeClass land there; that class is created when the component has
 * cluster access (kubeconfig or a Kubernetes provider), and output as a
 * manifest either way.
 */
export class EksNodeGroup extends pulumi.ComponentResource {
  /** Name of the EKS node group. */
  public readonly nodeGroupName: pulumi.Output<string>;
  /** ARN of the EKS node group. */
  public readonly nodeGroupArn: pulumi.Output<string>;
  /** ID of the launch template. */
  public readonly launchTemplateId: pulumi.Output<string>;
  /** The nodes' user data (MIME multipart), before base64 encoding. */
  public readonly userData: pulumi.Output<string>;
  /** AL2023 AMI type of the nodes. */
  public readonly amiType: pulumi.Output<string>;
  /** containerd config version the nodes read (3 from Kubernetes 1.33, else 2). */
  public readonly containerdConfigVersion: pulumi.Output<number>;
  /** The containerd runtime handler the nodes register. */
  public readonly handler: pulumi.Output<string>;
  /** Every label a ready node carries (the gVisor one comes from the node's bootstrap, only once gVisor works there). */
  public readonly nodeLabels: pulumi.Output<{ [key: string]: string }>;
  /** Every taint the nodes carry (Kubernetes form). */
  public readonly nodeTaints: pulumi.Output<NodeTaint[]>;
  /** Name of the RuntimeClass for these nodes. */
  public readonly runtimeClassName: pulumi.Output<string>;
  /** The RuntimeClass for these nodes; apply it yourself when the component has no cluster access. */
  public readonly runtimeClassManifest: pulumi.Output<RuntimeClassManifest>;
  /** Whether the RuntimeClass was created in the cluster by this component. */
  public readonly runtimeClassCreated: pulumi.Output<boolean>;
  /** Name of the smoke-test Job, when `smokeTest` is on. */
  public readonly smokeTestJobName: pulumi.Output<string | undefined>;
  /** `Complete` once the smoke-test Job succeeded, when `smokeTest` is on. */
  public readonly smokeTestStatus: pulumi.Output<string | undefined>;

  constructor(name: string, args: EksNodeGroupArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const {
      clusterName,
      nodeRoleArn,
      subnetIds,
      diskKmsKeyId,
      securityGroupIds,
      nodeGroupName,
      tags,
      kubeconfig,
      smokeTest,
      smokeTestImage,
      smokeTestNamespace,
      ...planArgs
    } = args;
    // Validate before registering anything: bad input fails the preview
    // without leaving a half-registered component behind.
    const plan = planOutput(planArgs, eksPlanInput, (input) => buildEksNodeGroupPlan(input, "args"));
    if (kubeconfig !== undefined && optsHaveKubernetesProvider(opts)) {
      throw inputPropertyError("args.kubeconfig", "is given together with a Kubernetes provider in the resource options; give one of them, so the cluster is not a guess");
    }
    super("pulumi-gvisor:index:EksNodeGroup", name, {}, opts);
    const get = <T>(f: (p: EksNodeGroupPlan) => T) => plan.apply((p: EksNodeGroupPlan) => f(p) as pulumi.Unwrap<T>) as pulumi.Output<pulumi.Unwrap<T>>;

    // Whether the class is created decides which resources exist, so it is
    // decided from what is known now: a kubeconfig (even one not yet
    // resolved) or a Kubernetes provider from the options or a parent.
    const clusterAccess = kubeconfig !== undefined || this.getProvider("kubernetes::RuntimeClass") !== undefined;
    if (smokeTest === true && !clusterAccess) {
      throw inputPropertyError("args.smokeTest", "needs cluster access to run its Job: give kubeconfig or a Kubernetes provider in the resource options");
    }

    // Fail closed: the label the RuntimeClass selects is not among the node
    // group's labels (EKS would register every node with it); the bootstrap
    // in the user data adds it through a nodeadm drop-in only once gVisor is
    // ready on the node. The taint is registered whatever happens: it keeps
    // other pods off, and without the label no sandboxed pod comes either.
    this.userData = get((p) =>
      asInputError(() => renderEksNodeUserData({ plan: p.host, kubernetesVersion: p.kubernetesVersion.text, readyLabels: p.readyLabels })),
    );
    const allTags = pulumi.output(tags ?? {});

    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-nodes`,
      {
        description: "gVisor-ready EKS nodes (pulumi-gvisor)",
        updateDefaultVersion: true,
        userData: this.userData.apply((text) => Buffer.from(text, "utf8").toString("base64")),
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: get((p) => p.metadataHopLimit),
        },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: compact({
              volumeSize: get((p) => p.diskSize),
              volumeType: "gp3",
              encrypted: "true",
              deleteOnTermination: "true",
              kmsKeyId: diskKmsKeyId,
            }),
          },
        ],
        ...(securityGroupIds === undefined ? {} : { vpcSecurityGroupIds: securityGroupIds }),
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
          resourceType,
          tags: allTags.apply((t) => ({ Name: name, ...t })),
        })),
        tags: allTags,
      },
      { parent: this },
    );

    const nodeGroup = new aws.eks.NodeGroup(
      `${name}-nodes`,
      {
        clusterName,
        nodeRoleArn,
        subnetIds,
        ...(nodeGroupName === undefined ? {} : { nodeGroupName }),
        // The node's Kubernetes version decides which containerd it runs and
        // so which config form the user data carries: pin them together.
        version: get((p) => p.kubernetesVersion.text),
        amiType: get((p) => p.amiType),
        instanceTypes: get((p) => p.instanceTypes),
        capacityType: get((p) => p.capacityType),
        scalingConfig: get((p) => p.scaling),
        labels: get((p) => p.registrationLabels),
        taints: get((p) => p.eksTaints),
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply((v) => String(v)) },
        updateConfig: { maxUnavailable: 1 },
        tags: allTags,
      },
      // Cluster autoscalers own the desired size once the group exists.
      { parent: this, ignoreChanges: ["scalingConfig.desiredSize"] },
    );

    this.nodeGroupName = nodeGroup.nodeGroupName;
    this.nodeGroupArn = nodeGroup.arn;
    this.launchTemplateId = launchTemplate.id;
    this.amiType = get((p) => p.amiType);
    this.containerdConfigVersion = get((p) => p.containerdConfigVersion);
    this.handler = get((p) => p.host.containerd.runtimeName);
    this.nodeLabels = get((p) => p.nodeLabels);
    this.nodeTaints = get((p) => p.nodeTaints);
    this.runtimeClassManifest = get((p) => p.runtimeClass.manifest);
    this.runtimeClassCreated = pulumi.output(clusterAccess);

    if (clusterAccess) {
      const rc = new RuntimeClass(
        `${name}-runtime-class`,
        {
          preset: RuntimeClassPreset.PulumiGvisor,
          name: get((p) => p.runtimeClass.name),
          handler: get((p) => p.runtimeClass.handler),
          overhead: get((p) => ({ podFixed: p.runtimeClass.manifest.overhead?.podFixed as { cpu?: string; memory?: string } | undefined })),
          ...(kubeconfig === undefined ? {} : { kubeconfig }),
          smokeTest: smokeTest === true,
          ...(smokeTestImage === undefined ? {} : { smokeTestImage }),
          ...(smokeTestNamespace === undefined ? {} : { smokeTestNamespace }),
          // New nodes (a new launch template version, new user data) are
          // proven again: the Job is replaced and re-runs after the roll.
          smokeTestTrigger: pulumi
            .all([launchTemplate.id, launchTemplate.latestVersion, this.userData])
            .apply(([id, version, text]) => `${id}:${version}:${createHash("sha256").update(text).digest("hex").slice(0, 16)}`),
        },
        // The smoke test needs nodes; the class itself could come earlier,
        // but nothing can use it before the nodes exist either.
        { parent: this, dependsOn: [nodeGroup] },
      );
      this.runtimeClassName = rc.name;
      this.smokeTestJobName = rc.smokeTestJobName;
      this.smokeTestStatus = rc.smokeTestStatus;
    } else {
      this.runtimeClassName = get((p) => p.runtimeClass.name);
      this.smokeTestJobName = pulumi.output(undefined);
      this.smokeTestStatus = pulumi.output(undefined);
    }

    this.registerOutputs({
      nodeGroupName: this.nodeGroupName,
      nodeGroupArn: this.nodeGroupArn,
      launchTemplateId: this.launchTemplateId,
      userData: this.userData,
      amiType: this.amiType,
      containerdConfigVersion: this.containerdConfigVersion,
      handler: this.handler,
      nodeLabels: this.nodeLabels,
      nodeTaints: this.nodeTaints,
      runtimeClassName: this.runtimeClassName,
      runtimeClassManifest: this.runtimeClassManifest,
      runtimeClassCreated: this.runtimeClassCreated,
      smokeTestJobName: this.smokeTestJobName,
      smokeTestStatus: this.smokeTestStatus,
    });
  }
}
