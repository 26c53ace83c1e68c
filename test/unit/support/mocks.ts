import * as pulumi from "@pulumi/pulumi";

/** A resource the mock engine was asked to create. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

/** Reads an Output's value and whether it is known, through the SDK's own promise. */
export async function settle<T>(output: pulumi.Output<T>): Promise<{ known: boolean; value: T | undefined; secret: boolean }> {
  const o = output as any;
  const [known, value, secret] = await Promise.all([o.isKnown, o.promise(true), o.isSecret]);
  return { known, value, secret };
}

/** Resolves an Output that must be known. */
export async function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  const { known, value } = await settle(output);
  if (!known) throw new Error("output is unknown");
  return value as T;
}

/**
 * Installs Pulumi's mock engine. `outputs` gives extra outputs per resource
 * (e.g. a command's stdout); in preview mode nothing else is known.
 */
export function useMocks(
  preview: boolean,
  outputs: (r: Registered) => Record<string, unknown> = () => ({}),
): Registered[] {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const r = { type: args.type, name: args.name, inputs: args.inputs };
        registered.push(r);
        return { id: preview ? undefined : `${args.name}-id`, state: { ...args.inputs, ...(preview ? {} : outputs(r)) } };
      },
      call(args) {
        return args.inputs;
      },
    },
    "pulumi-gvisor-test",
    "test",
    preview,
  );
  return registered;
}

/** Waits until the SDK has sent every registration to the mock engine. */
export async function flush(resource: pulumi.Resource): Promise<void> {
  await valueOf(resource.urn);
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/** A resource made in the same program; its `value` output is unknown in a preview (the mocks return no such output). */
class Made extends pulumi.CustomResource {
  declare readonly value: pulumi.Output<string>;
  constructor(name: string) {
    super("test:index:Made", name, { value: undefined });
  }
}

/** An Output of another resource, unknown in a preview: a mirror, a cluster version, a subnet made alongside. */
export function madeInThisProgram(name: string): pulumi.Output<string> {
  return new Made(name).value;
}
