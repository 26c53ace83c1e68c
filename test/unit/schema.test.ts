import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { Host } from "../../src/components/host";

// The multi-language analyzer reads the TypeScript source of the package, the
// way `pulumi package add` does, and refuses shapes other languages cannot use.
describe("multi-language schema", () => {
  it("derives a schema for every component, with typed inputs and outputs", async () => {
    const provider = new ComponentProvider({
      name: "pulumi-gvisor",
      dirname: path.resolve(__dirname, "../.."),
      components: [Host],
    });
    const schema = JSON.parse(await provider.getSchema());
    const host = schema.resources["pulumi-gvisor:index:Host"];
    expect(host.isComponent).toBe(true);
    expect(host.requiredInputs).toEqual(["connection"]);
    expect(Object.keys(host.inputProperties)).toEqual(
      expect.arrayContaining(["connection", "version", "mirror", "arch", "runsc", "docker", "containerd", "verify", "uninstallOnDelete"]),
    );
    expect(Object.keys(host.properties)).toEqual(expect.arrayContaining(["verification", "runscVersion", "isolated", "target", "bundleId", "stepDigests"]));
    const platform = schema.types["pulumi-gvisor:index:RunscPlatform"];
    expect(platform.enum.map((e: { value: string }) => e.value)).toEqual(["systrap", "ptrace", "kvm"]);
  });
});
