import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  GKE_SANDBOX,
  RuntimeClassInput,
  RuntimeClassManifest,
  RuntimeClassPlan,
  RuntimeClassPreset,
  Toleration,
  buildRuntimeClassPlan,
  jobOutcome,
  parsePreset,
  smokeTestJob,
} from "../plan/kubernetes";
import { kubeconfigProvider } from "./kubernetes-provider";
import { RuntimeClassArgs } from "./runtime-class-args";
import { asInputError, checkKnownNow, compact, planOutput } from "./validate";
import { ifKnown } from "./unknown-values";

/** Builds the plan input from component args, dropping unset keys. */
export function runtimeClassPlanInput(
  args: pulumi.Unwrap<Omit<RuntimeClassArgs, "kubeconfig" | "smokeTest" | "smokeTestImage" | "smokeTestNamespace" | "smokeTestTrigger">>,
): RuntimeClassInput {
  return compact({
    preset: args.preset,
    name: args.name,
    handler: args.handler,
    nodeSelector: args.nodeSelector,
    taints: ifKnown(args.taints, (ts) => ts?.map((t) => compact(t))),
    overhead: ifKnown(args.overhead, (o) => (o === undefined ? undefined : compact({ podFixed: o.podFixed === undefined ? undefined : compact(o.podFixed) }))),
    labels: args.labels,
  });
}

/** Options every child of a Kubernetes-facing component gets. */
export function kubernetesChildOptions(
  parent: pulumi.ComponentResource,
  provider: pulumi.ProviderResource | undefined,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.CustomResourceOptions {
  return {
    parent,
    ...(provider ? { provider } : {}),
    // Children do not inherit the component's dependsOn; forward it, so a
    // class made "after the cluster" is made after the cluster.
    ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}),
  };
}

/** The smoke-test Job's name and outcome. */
export interface SmokeTestOutputs {
  jobName: pulumi.Output<string | undefined>;
  status: pulumi.Output<string | undefined>;
}

/**
 * A Job that runs under `runtimeClassName` and must complete: the Kubernetes
 * provider waits for it, so the deployment fails when no sandboxed pod can
 * start. Image, namespace and trigger are each validated now when they are plain values.
 */
export function smokeTestResources(
  name: string,
  runtimeClassName: pulumi.Output<string>,
  args: { image?: pulumi.Input<string>; namespace?: pulumi.Input<string>; trigger?: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions,
): SmokeTestOutputs {
  const probe = { image: args.image, namespace: args.namespace, trigger: args.trigger };
  checkKnownNow(
    probe,
    (p) => compact({ runtimeClassName: "probe", image: p.image, namespace: p.namespace, trigger: p.trigger }),
    (parts) => smokeTestJob(parts, "args"),
  );
  const manifest = pulumi
    .all([runtimeClassName, args.image, args.namespace, args.trigger])
    .apply(([rc, image, namespace, trigger]) => asInputError(() => smokeTestJob(compact({ runtimeClassName: rc, image, namespace, trigger }), "args")));
  const job = new k8s.batch.v1.Job(
    `${name}-smoke-test`,
    { metadata: manifest.metadata, spec: manifest.spec },
    {
      ...opts,
      customTimeouts: { create: "10m", update: "10m" },
      // Any change to what the test runs, or to its trigger, is a new run: a
      // new Job (auto-named, so it is made before the old one goes), never an
      // in-place update that would keep the old outcome. A failed Job is
      // replaced on the next run through its replaceUnready annotation.
      replaceOnChanges: ["spec"],
    },
  );
  return { jobName: job.metadata.name, status: job.status.apply((s) => jobOutcome(s)) };
}

/**
 * A `node.k8s.io/v1` RuntimeClass for gVisor, with the scheduling that keeps
 * sandboxed pods on nodes that have the handler: a node selector and
 * tolerations from a preset (this package's nodes, GKE Sandbox) or from the
 * caller (generic). With the `gke` preset, GKE's own `gvisor` class is read,
 * never created or changed. Optionally proves that a sandboxed pod starts.
 */
export class RuntimeClass extends pulumi.ComponentResource {
  /** The class name pods put in `runtimeClassName`. */
  public readonly name: pulumi.Output<string>;
  /** The containerd runtime handler the class names. */
  public readonly handler: pulumi.Output<string>;
  /** The rendered RuntimeClass (for the gke preset: the class GKE provides). */
  public readonly manifest: pulumi.Output<RuntimeClassManifest>;
  /** False when the class is adopted (gke preset) rather than created. */
  public readonly managed: pulumi.Output<boolean>;
  /** The labels a node must carry for pods of this class. */
  public readonly nodeSelector: pulumi.Output<{ [key: string]: string }>;
  /** The tolerations pods of this class get. */
  public readonly tolerations: pulumi.Output<Toleration[]>;
  /** Name of the smoke-test Job, when `smokeTest` is on. */
  public readonly smokeTestJobName: pulumi.Output<string | undefined>;
  /** `Complete` once the smoke-test Job succeeded (the deployment fails otherwise), when `smokeTest` is on. */
  public readonly smokeTestStatus: pulumi.Output<string | undefined>;

  constructor(name: string, args: RuntimeClassArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    // Validate before registering anything: bad input fails the preview
    // without leaving a half-registered component behind.
    const preset = asInputError(() => parsePreset(args.preset, "args.preset"));
    const { kubeconfig, smokeTest, smokeTestImage, smokeTestNamespace, smokeTestTrigger, ...classArgs } = args;
    const plan = planOutput(classArgs, runtimeClassPlanInput, (input) => buildRuntimeClassPlan(input, "args"));
    super("pulumi-gvisor:index:RuntimeClass", name, {}, opts);

    const provider = kubeconfigProvider(this, name, kubeconfig, opts);
    const childOpts = kubernetesChildOptions(this, provider, opts);

    if (preset === RuntimeClassPreset.Gke) {
      // GKE installs and reconciles this object: read it (which also proves
      // GKE Sandbox is on), never write it.
      const existing = k8s.node.v1.RuntimeClass.get(name, GKE_SANDBOX.runtimeClassName, childOpts);
      this.name = existing.metadata.name;
      this.handler = existing.handler;
    } else {
      const rc = new k8s.node.v1.RuntimeClass(
        name,
        {
          metadata: plan.apply((p: RuntimeClassPlan) => p.manifest.metadata),
          handler: plan.apply((p: RuntimeClassPlan) => p.handler),
          overhead: plan.apply((p: RuntimeClassPlan) => p.manifest.overhead),
          scheduling: plan.apply((p: RuntimeClassPlan) => p.manifest.scheduling),
        },
        // The handler is immutable and the name fixed: a change replaces the
        // object, which must go before its successor can take the name.
        { ...childOpts, deleteBeforeReplace: true },
      );
      this.name = rc.metadata.name;
      this.handler = rc.handler;
    }
    this.manifest = plan.apply((p: RuntimeClassPlan) => p.manifest);
    this.managed = plan.apply((p: RuntimeClassPlan) => p.create);
    this.nodeSelector = plan.apply((p: RuntimeClassPlan) => p.nodeLabels);
    this.tolerations = plan.apply((p: RuntimeClassPlan) => p.manifest.scheduling.tolerations ?? []);

    const smoke =
      smokeTest === true
        ? smokeTestResources(name, this.name, { image: smokeTestImage, namespace: smokeTestNamespace, trigger: smokeTestTrigger }, childOpts)
        : { jobName: pulumi.output(undefined), status: pulumi.output(undefined) };
    this.smokeTestJobName = smoke.jobName;
    this.smokeTestStatus = smoke.status;

    this.registerOutputs({
      name: this.name,
      handler: this.handler,
      manifest: this.manifest,
      managed: this.managed,
      nodeSelector: this.nodeSelector,
      tolerations: this.tolerations,
      smokeTestJobName: this.smokeTestJobName,
      smokeTestStatus: this.smokeTestStatus,
    });
  }
}
