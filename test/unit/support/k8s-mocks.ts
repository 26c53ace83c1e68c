import * as pulumi from "@pulumi/pulumi";

/** A resource the mock engine was asked to create or read, with what the program said about it. */
export interface Seen {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** `urn::id` of the provider reference, when one was given. */
  provider?: string;
  /** The id to read, for `Resource.get`. */
  readId?: string;
  custom: boolean;
}

/** Resource options as a transformation saw them, by resource name. */
export interface SeenOptions {
  parent?: string;
  dependsOn: string[];
  deleteBeforeReplace?: boolean;
  provider?: string;
  ignoreChanges?: string[];
}

/**
 * Installs the mock engine and records every registration and read.
 * `outputs` adds provider-computed outputs (not in preview, where the engine
 * knows nothing the program did not say).
 */
export function recordResources(
  preview: boolean,
  outputs: (r: Seen) => Record<string, unknown> = () => ({}),
  invoke: (token: string, inputs: Record<string, any>) => Record<string, unknown> = (_token, inputs) => inputs,
  project = "pulumi-gvisor-test",
): Seen[] {
  const seen: Seen[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const r: Seen = {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          custom: args.custom ?? false,
          ...(args.provider ? { provider: args.provider } : {}),
          ...(args.id ? { readId: args.id } : {}),
        };
        seen.push(r);
        // A registration carries an empty import id; a read, the id to read.
        const id = args.id || (preview ? undefined : `${args.name}-id`);
        // A read reports the live object even in preview; nothing else is known there.
        const computed = preview && !args.id ? {} : outputs(r);
        return { id, state: { ...args.inputs, ...computed } };
      },
      call(args) {
        return invoke(args.token, args.inputs);
      },
    },
    project,
    "test",
    preview,
  );
  return seen;
}

/**
 * A transformation that records each resource's parent, dependsOn and a few
 * options, keyed `type::name` (a component and its main child may share a name).
 */
export function optionRecorder(): { options: Map<string, SeenOptions>; transformation: pulumi.ResourceTransformation } {
  const options = new Map<string, SeenOptions>();
  const nameOf = (r: unknown) => (r as { __name?: string }).__name ?? "?";
  return {
    options,
    transformation: (t) => {
      const deps = t.opts.dependsOn;
      const list = deps === undefined ? [] : Array.isArray(deps) ? deps : [deps];
      options.set(`${t.type}::${t.name}`, {
        parent: t.opts.parent ? nameOf(t.opts.parent) : undefined,
        dependsOn: list.map(nameOf),
        deleteBeforeReplace: (t.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
        provider: (t.opts as pulumi.CustomResourceOptions).provider ? nameOf((t.opts as pulumi.CustomResourceOptions).provider) : undefined,
        ignoreChanges: t.opts.ignoreChanges,
      });
      return undefined;
    },
  };
}

/** Reads an Output: its value, whether it is known, and whether it is secret. */
export async function look<T>(output: pulumi.Output<T>): Promise<{ known: boolean; value: T | undefined; secret: boolean }> {
  const o = output as any;
  const [known, value, secret] = await Promise.all([o.isKnown, o.promise(true), o.isSecret]);
  return { known, value, secret };
}

/** Resolves an Output that must be known. */
export async function known<T>(output: pulumi.Output<T>): Promise<T> {
  const r = await look(output);
  if (!r.known) throw new Error("output is unknown");
  return r.value as T;
}

/** Waits until the SDK has sent every registration of `resource` and its children to the mock engine. */
export async function settled(resource: pulumi.Resource): Promise<void> {
  await known(resource.urn);
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Lets the SDK finish what a component started before its constructor threw
 * (it still registers the component), so the next test's mocks do not
 * receive it.
 */
export async function drain(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
