import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { afterAll, describe, expect, it } from "vitest";
import { EksNodeGroup } from "../../src/components/eks-node-group";
import { RuntimeClass } from "../../src/components/runtime-class";

// The analyzer `pulumi package add` uses reads the TypeScript source from the
// package's entry point. A throwaway package whose entry re-exports the two
// components lets it check them here, whatever src/index.ts exports today.
describe("multi-language schema of the Kubernetes components", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gv-schema-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const src = path.resolve(__dirname, "../../src/components");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "pulumi-gvisor", version: "0.0.0", main: "index.js" }));
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ extends: path.resolve(__dirname, "../../tsconfig.json"), compilerOptions: { rootDir: "/" }, include: ["index.ts"] }),
  );
  writeFileSync(
    path.join(dir, "index.ts"),
    [`export { RuntimeClass } from ${JSON.stringify(path.join(src, "runtime-class"))};`, `export { EksNodeGroup } from ${JSON.stringify(path.join(src, "eks-node-group"))};`, ""].join("\n"),
  );

  it("derives typed inputs, plain switches, enums and outputs for RuntimeClass and EksNodeGroup", async () => {
    const provider = new ComponentProvider({ name: "pulumi-gvisor", dirname: dir, components: [RuntimeClass, EksNodeGroup] });
    const schema = JSON.parse(await provider.getSchema());

    const rc = schema.resources["pulumi-gvisor:index:RuntimeClass"];
    expect(rc.isComponent).toBe(true);
    expect(rc.requiredInputs).toEqual([]);
    expect(Object.keys(rc.inputProperties).sort()).toEqual(
      ["handler", "kubeconfig", "labels", "name", "nodeSelector", "overhead", "preset", "smokeTest", "smokeTestImage", "smokeTestNamespace", "smokeTestTrigger", "taints"],
    );
    expect(rc.inputProperties.preset.plain).toBe(true);
    expect(rc.inputProperties.smokeTest.plain).toBe(true);
    expect(rc.properties.manifest.$ref).toBe("#/types/pulumi-gvisor:index:RuntimeClassManifest");
    expect(rc.required).toEqual(expect.arrayContaining(["name", "handler", "manifest", "managed", "nodeSelector", "tolerations"]));

    const ng = schema.resources["pulumi-gvisor:index:EksNodeGroup"];
    expect(ng.requiredInputs.sort()).toEqual(["clusterName", "kubernetesVersion", "nodeRoleArn", "subnetIds"]);
    expect(ng.inputProperties.smokeTest.plain).toBe(true);
    expect(ng.inputProperties.arch.$ref).toBe("#/types/pulumi-gvisor:index:Arch");
    expect(Object.keys(ng.properties)).toEqual(
      expect.arrayContaining(["nodeGroupName", "launchTemplateId", "userData", "amiType", "handler", "nodeLabels", "nodeTaints", "runtimeClassName", "runtimeClassManifest", "smokeTestStatus"]),
    );

    const values = (type: string) => schema.types[`pulumi-gvisor:index:${type}`].enum.map((e: { value: string }) => e.value);
    expect(values("RuntimeClassPreset")).toEqual(["pulumi-gvisor", "gke", "generic"]);
    expect(values("TaintEffect")).toEqual(["NoSchedule", "PreferNoSchedule", "NoExecute"]);
    expect(values("EksCapacityType")).toEqual(["ON_DEMAND", "SPOT"]);
    expect(values("RunscCgroupMode")).toEqual(["auto", "systemd", "cgroupfs"]);
    // Every input property is described for other languages' docs.
    const inputs: [string, any][] = [
      ...Object.entries<any>(rc.inputProperties).map(([n, p]): [string, any] => [`RuntimeClass.${n}`, p]),
      ...Object.entries<any>(ng.inputProperties).map(([n, p]): [string, any] => [`EksNodeGroup.${n}`, p]),
      ...Object.entries<any>(schema.types)
        // RunscArgs belongs to the Host component's args and is checked with them.
        .filter(([token]) => token.endsWith("Args") && token !== "pulumi-gvisor:index:RunscArgs")
        .flatMap(([token, type]) => Object.entries<any>(type.properties ?? {}).map(([n, p]): [string, any] => [`${token}.${n}`, p])),
    ];
    const undescribed = inputs.filter(([, p]) => !p.description).map(([n]) => n);
    expect(undescribed).toEqual([]);
  });
});
