import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Ec2Fleet } from "../../src/components/ec2-fleet";
import { Ec2Host } from "../../src/components/ec2-host";

// The analyzer reads the package's entry point, as `pulumi package add` does.
// This builds an entry that re-exports src/index.ts plus the EC2 components
// (the lines src/index.ts gets for them), over this checkout's src/.
const root = path.resolve(__dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "gv-schema-"));
symlinkSync(path.join(root, "src"), path.join(dir, "src"));
symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "pulumi-gvisor", version: "0.1.0" }));
writeFileSync(
  path.join(dir, "index.ts"),
  [
    'export * from "./src/index";',
    'export { Ec2Host } from "./src/components/ec2-host";',
    'export { Ec2Fleet } from "./src/components/ec2-fleet";',
    'export type * from "./src/components/ec2-host-args";',
    'export { Ec2Os } from "./src/plan/ec2";',
    "",
  ].join("\n"),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("multi-language schema of the EC2 components", () => {
  it("derives typed inputs and outputs for Ec2Host and Ec2Fleet", async () => {
    const provider = new ComponentProvider({ name: "pulumi-gvisor", dirname: dir, components: [Ec2Host, Ec2Fleet] });
    const schema = JSON.parse(await provider.getSchema());

    const host = schema.resources["pulumi-gvisor:index:Ec2Host"];
    expect(host.isComponent).toBe(true);
    expect(host.requiredInputs).toEqual([]);
    expect(Object.keys(host.inputProperties)).toEqual(
      expect.arrayContaining([
        "arch", "instanceType", "os", "amiId", "replaceOnAmiChange", "sshAllowedCidrs", "allowSshFromAnywhere", "proxy", "subnetId", "vpcId",
        "rootVolumeSize", "iamInstanceProfile", "publicKey", "keyName", "privateKey", "tags", "version", "sha512", "runsc", "docker", "containerd", "verify",
      ]),
    );
    expect(host.inputProperties.os.$ref).toBe("#/types/pulumi-gvisor:index:Ec2Os");
    expect(host.inputProperties.replaceOnAmiChange.plain).toBe(true);
    expect(host.inputProperties.sshAllowedCidrs).toMatchObject({ type: "array", items: { type: "string" } });
    expect(Object.keys(host.properties).sort()).toEqual(
      ["ami", "arch", "hostPublicKey", "instanceId", "instanceType", "isolated", "privateIp", "privateKey", "publicIp", "runscVersion", "securityGroupId", "sshHost", "sshUser", "verification"],
    );
    expect(host.properties.verification.$ref).toBe("#/types/pulumi-gvisor:index:Verification");
    expect(schema.types["pulumi-gvisor:index:Ec2Os"].enum.map((e: { value: string }) => e.value)).toEqual(["ubuntu-24.04", "al2023"]);

    const fleet = schema.resources["pulumi-gvisor:index:Ec2Fleet"];
    expect(fleet.requiredInputs).toEqual(["hosts"]);
    expect(fleet.inputProperties.hosts).toMatchObject({ type: "array", plain: true, items: { $ref: "#/types/pulumi-gvisor:index:Ec2FleetHostArgs" } });
    expect(schema.types["pulumi-gvisor:index:Ec2FleetHostArgs"].required).toEqual(["name"]);
    expect(Object.keys(fleet.properties).sort()).toEqual(["allIsolated", "hosts", "privateKey", "verifications"]);
    expect(fleet.properties.hosts).toMatchObject({ type: "object", additionalProperties: { $ref: "#/types/pulumi-gvisor:index:Ec2FleetHostSummary" } });
    expect(Object.keys(schema.types["pulumi-gvisor:index:Ec2FleetHostSummary"].properties).sort()).toEqual(
      ["ami", "arch", "instanceId", "instanceType", "isolated", "privateIp", "publicIp", "runscVersion", "sshHost", "sshUser"],
    );
  });
});
