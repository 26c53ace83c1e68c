import * as pulumi from "@pulumi/pulumi";
import { RuntimeClassPreset, TaintEffect } from "../plan/kubernetes";

/** A taint that gVisor nodes carry; the RuntimeClass gets the matching toleration. */
export interface NodeTaintArgs {
  /** Taint key, e.g. `sandbox.example.com/gvisor`. */
  key: pulumi.Input<string>;
  /** Taint value. Defaults to none (the toleration then matches any value: operator Exists). @default none (the toleration then matches any value: operator Exists) */
  value?: pulumi.Input<string>;
  /** Taint effect. */
  effect: pulumi.Input<TaintEffect>;
}

/** Fixed per-pod resources the sandbox costs, added to every pod of the class. */
export interface PodFixedOverheadArgs {
  /** CPU in cores, e.g. `"250m"`. Defaults to none. @default none */
  cpu?: pulumi.Input<string>;
  /** Memory, e.g. `"120Mi"` (not `"120m"`: that is milli-bytes). Defaults to none. @default none */
  memory?: pulumi.Input<string>;
}

/** Pod overhead of a RuntimeClass (`overhead.podFixed`). */
export interface RuntimeClassOverheadArgs {
  /** Resources added to every pod of the class for the sandbox. Defaults to none. @default none */
  podFixed?: pulumi.Input<PodFixedOverheadArgs>;
}

/** Arguments of the RuntimeClass component. */
export interface RuntimeClassArgs {
  /**
   * Which nodes the class schedules onto. A plain value: with `gke`, GKE's
   * own `gvisor` class is adopted (read) and nothing is created.
   * Defaults to `pulumi-gvisor`.
   * @default "pulumi-gvisor"
   */
  preset?: RuntimeClassPreset;
  /** Object name (DNS subdomain); pods name it in `runtimeClassName`. Defaults to `gvisor`. @default "gvisor" */
  name?: pulumi.Input<string>;
  /** The containerd runtime handler the nodes register (DNS label). Immutable: a change replaces the class. Defaults to `runsc`. @default "runsc" */
  handler?: pulumi.Input<string>;
  /** Generic preset only (and required there): the label only gVisor nodes carry. Defaults to none. @default none */
  nodeSelector?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Generic preset only: the taints gVisor nodes carry; each gets a toleration. Defaults to `[]`. @default [] */
  taints?: pulumi.Input<pulumi.Input<NodeTaintArgs>[]>;
  /** Pod overhead charged for the sandbox. Defaults to none. @default none */
  overhead?: pulumi.Input<RuntimeClassOverheadArgs>;
  /** Labels of the RuntimeClass object. Defaults to `{}`. @default {} */
  labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /**
   * Cluster to create the class in: a kubeconfig (contents), from which a
   * Kubernetes provider is made as a child. Give this or a Kubernetes
   * provider in the resource options, not both.
   * Secret: pass it as a secret (it is kept secret in state).
   * Defaults to the provider from the resource options, else the ambient one.
   * @default the provider from the resource options, else the ambient one
   */
  kubeconfig?: pulumi.Input<string>;
  /**
   * Run a Job under the class (busybox `uname -r`, failing unless the pod runs
   * under gVisor) and wait for it to complete. A plain value. Defaults to `false`. @default false
   */
  smokeTest?: boolean;
  /** Image of the smoke-test Job; needs `sh` and `uname`. Defaults to `docker.io/library/busybox:1.36.1`. @default "docker.io/library/busybox:1.36.1" */
  smokeTestImage?: pulumi.Input<string>;
  /** Namespace of the smoke-test Job. Defaults to `default`. @default "default" */
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
