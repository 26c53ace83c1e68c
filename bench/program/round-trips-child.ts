/**
 * Part 5, round trips, counted from the resources the Host component
 * registers (so it follows whatever Host declares): built once per variant
 * under the mock engine in update mode, in this one fresh process, printing
 * one JSON line. For each `command:remote:*` resource: its inputs and its
 * explicit dependsOn. The parent diffs variants against the base.
 */
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../src/components/host";
import type { HostArgs } from "../../src/components/host-args";
import { verifyReport } from "../../test/unit/support/ec2-mocks";
import { flush, useMocks } from "../../test/unit/support/mocks";

export interface RegisteredCommand {
  name: string;
  type: string;
  inputs: Record<string, unknown>;
  dependsOn: string[];
}

const BASE: HostArgs = { connection: { host: "198.51.100.7", user: "ubuntu", privateKey: "key-1" } };

/** Day-2 changes a user makes, each applied to BASE. */
export const VARIANTS: Record<string, HostArgs> = {
  base: BASE,
  "no-op update": BASE,
  "runsc option (debug)": { ...BASE, runsc: { debug: true } },
  "gVisor upgrade": { ...BASE, version: "20260928.0" },
  "verify image": { ...BASE, verify: { image: "registry.example/busybox:1.37" } },
  "Docker default runtime": { ...BASE, docker: { defaultRuntime: true } },
  "containerd enabled": { ...BASE, containerd: { enabled: true } },
  "SSH key rotated": { ...BASE, connection: { ...BASE.connection, privateKey: "key-2" } },
};

async function build(args: HostArgs): Promise<RegisteredCommand[]> {
  const registered = useMocks(false, (r) => (r.name.endsWith("-verify") ? { stdout: JSON.stringify(verifyReport("x86_64")) } : { stdout: "{}" }));
  const deps = new Map<string, string[]>();
  const record: pulumi.ResourceTransformation = (t) => {
    const d = t.opts.dependsOn;
    const list = (d === undefined ? [] : Array.isArray(d) ? d : [d]) as pulumi.Resource[];
    deps.set(
      t.name,
      list.map((r) => (r as unknown as { __name: string }).__name),
    );
    return undefined;
  };
  const host = new Host("h", args, { transformations: [record] });
  await flush(host);
  return registered
    .filter((r) => r.type.startsWith("command:remote:"))
    .map((r) => ({ name: r.name, type: r.type, inputs: r.inputs, dependsOn: deps.get(r.name) ?? [] }));
}

async function main() {
  const out: Record<string, RegisteredCommand[]> = {};
  for (const [name, args] of Object.entries(VARIANTS)) out[name] = await build(args);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
