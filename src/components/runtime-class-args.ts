import * as pulumi from "@pulumi/pulumi";
import { RuntimeClassPreset, TaintEffect } from "../plan/kubernetes";

/** A taint that gVisor nodes carry; the RuntimeClass gets the matching toleration. */
export interface NodeTaintArgs {
  /** Taint key, e.g. `sandbox.example.com/gvisor`. */
  key: pulumi.Input<string>;
  /** Taint value. @default none (the toleration then matches any value: operator Exists) */
  value?: pulumi.Input<string>;
  /** Taint effect. */
  effect: pulumi.Input<TaintEffect>;
}

/** Fixed per-pod resources the sandbox costs, added to every pod of the class. */
export interface PodFixedOverheadArgs {
  /** CPU in cores, e.g. `"250m"`. @default none */
  cpu?: pulumi.Input<string>;
  /** Memory, e.g. `"120Mi"` (not `"120m"`: that is milli-bytes). @default none */
  memory?: pulumi.Input<string>;
}

/** Pod overhead of a RuntimeClass (`overhead.podFixed`). */
export interface RuntimeClassOverheadArgs {
  /** Resources added to every pod of the class for the sandbox. @default none */
  podFixed?: pulumi.Input<PodFixedOverheadArgs>;
}

/** Arguments of the RuntimeClass component. */
export interface RuntimeClassArgs {
  /**
   * Which nodes the class schedules onto. A plain value: with `gke`, GKE's
   * own `gvisor` class is adopted (read) and nothing is created.
   * @default "pulumi-gvisor"
   */
  preset?: RuntimeClassPreset;
  /** Object name (DNS subdomain); pods name it in `runtimeClassName`. @default "gvisor" */
  name?: pulumi.Input<string>;
  /** The containerd runtime handler the nodes register (DNS label). Immutable: a change replaces the class. @default "runsc" */
  handler?: pulumi.Input<string>;
  /** Generic preset only (and required there): the label only gVisor nodes carry. @default none */
  nodeSelector?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Generic preset only: the taints gVisor nodes carry; each gets a toleration. @default [] */
  taints?: pulumi.Input<pulumi.Input<NodeTaintArgs>[]>;
  /** Pod overhead charged for the sandbox. @default none */
  overhead?: pulumi.Input<RuntimeClassOverheadArgs>;
  /** Labels of the RuntimeClass object. @default {} */
  labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /**
   * Cluster to create the class in: a kubeconfig (contents), from which a
   * Kubernetes provider is made as a child. Give this or a Kubernetes
   * provider in the resource options, not both. Kept secret.
   * @default the provider from the resource options, else the ambient one
   */
  kubeconfig?: pulumi.Input<string>;
  /**
   * Run a Job under the class (busybox `uname -r`, failing unless the pod runs
   * under gVisor) and wait for it to complete. A plain value. @default false
   */
  smokeTest?: boolean;
  /** Image of the smoke-test Job; needs `sh` and `uname`. @default "docker.io/library/busybox:1.36.1" */
  smokeTestImage?: pulumi.Input<string>;
  /** Namespace of the smoke-test Job. @default "default" */
  smokeTestNamespace?: pulumi.Input<string>;
  /**
   * Runs the smoke test again whenever this value changes (a new Job replaces
   * the old one): give something that changes when the gVisor nodes do, such
   * as their launch template version. EksNodeGroup passes its launch template
   * id and version and a digest of the user data. Without it the Job re-runs
   * only when its own spec changes, and after a failed run (the next
   * `pulumi up` starts a fresh Job; no `--replace` needed). Defaults to none.
   * @default none
   */
  smokeTestTrigger?: pulumi.Input<string>;
}
