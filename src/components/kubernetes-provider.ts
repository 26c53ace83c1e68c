import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inputPropertyError } from "./validate";

/** Whether the resource options name a Kubernetes provider (`provider`, or in `providers`). */
export function optsHaveKubernetesProvider(opts: pulumi.ComponentResourceOptions | undefined): boolean {
  if (!opts) return false;
  const listed = Array.isArray(opts.providers) ? opts.providers : Object.values(opts.providers ?? {});
  return [opts.provider, ...listed].some((p) => p instanceof k8s.Provider);
}

/**
 * The Kubernetes provider made from a `kubeconfig` input, as a child of
 * `parent`, or undefined when no kubeconfig is given (children then use the
 * provider from the resource options or the parent). Refuses both at once:
 * which cluster is meant would be a guess.
 */
export function kubeconfigProvider(
  parent: pulumi.ComponentResource,
  name: string,
  kubeconfig: pulumi.Input<string> | undefined,
  opts: pulumi.ComponentResourceOptions | undefined,
): k8s.Provider | undefined {
  if (kubeconfig === undefined) return undefined;
  if (optsHaveKubernetesProvider(opts)) {
    throw inputPropertyError(
      "args.kubeconfig",
      "is given together with a Kubernetes provider in the resource options; give one of them, so the cluster is not a guess",
    );
  }
  return new k8s.Provider(`${name}-k8s`, { kubeconfig: pulumi.secret(kubeconfig) }, { parent });
}
