import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { ProgramConfigError, fleetArgsFromConfig } from "../../program/config";
import { GENERATED_KEY, useEc2Mocks } from "./support/ec2-mocks";
import { settle, valueOf } from "./support/mocks";

// The examples import the package by name, as users do. Until src/index.ts
// re-exports the EC2 components, the name resolves to the index plus them.
vi.mock("pulumi-gvisor", async () => ({
  ...(await import("../../src/index")),
  ...(await import("../../src/components/ec2-host")),
  ...(await import("../../src/components/ec2-fleet")),
  ...(await import("../../src/plan/ec2")),
}));

const ME = "203.0.113.4/32";

/** Runs a Pulumi program module under mocks with the given config (in the program's project namespace). */
async function run(path: string, project: string, config: Record<string, string>, preview = false) {
  const world = useEc2Mocks({ project, preview });
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `${project}:${k}`, v])));
  vi.resetModules();
  // A computed path: the root typecheck leaves the examples to examples/tsconfig.json.
  const exports: Record<string, pulumi.Output<any>> = await import(/* @vite-ignore */ path);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { world, exports };
}

/** The value of every export, in update mode. */
async function values(exports: Record<string, pulumi.Output<any>>) {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(exports)) out[k] = await valueOf(v);
  return out;
}

const ROOT = "../../program/index";

describe("root program config", () => {
  const from = (config: Record<string, string>) => fleetArgsFromConfig((k) => config[k]);

  it("defaults to one x86_64 host; count and arch make N hosts named by arch", () => {
    expect(from({ sshAllowedCidrs: ME })).toEqual({ hosts: [{ name: "x86-1" }], sshAllowedCidrs: [ME] });
    expect(from({ sshAllowedCidrs: ME, arch: "arm64", count: "3" }).hosts).toEqual([{ name: "arm-1" }, { name: "arm-2" }, { name: "arm-3" }]);
    expect(from({ sshAllowedCidrs: ME, instanceType: "m7g.large", count: "2" })).toMatchObject({ instanceType: "m7g.large", hosts: [{ name: "host-1" }, { name: "host-2" }] });
  });

  it("reads lists as JSON (YAML lists, --path) or as comma/space separated words", () => {
    expect(from({ sshAllowedCidrs: `["${ME}","2001:db8::/56"]` }).sshAllowedCidrs).toEqual([ME, "2001:db8::/56"]);
    expect(from({ sshAllowedCidrs: `${ME}, 198.51.100.0/24` }).sshAllowedCidrs).toEqual([ME, "198.51.100.0/24"]);
  });

  it("takes a host list and the optional settings", () => {
    const args = from({
      sshAllowedCidrs: ME,
      hosts: JSON.stringify([{ name: "arm-1", arch: "arm64" }, { name: "x86-1", os: "al2023", instanceType: "c7i.large" }]),
      gvisorVersion: "20260817.0",
      containerd: "true",
      allowSshFromAnywhere: "false",
      subnetId: "subnet-0123456789abcdef0",
      publicKey: "ssh-ed25519 AAAA me",
    });
    expect(args).toEqual({
      hosts: [{ name: "arm-1", arch: "arm64" }, { name: "x86-1", os: "al2023", instanceType: "c7i.large" }],
      sshAllowedCidrs: [ME],
      allowSshFromAnywhere: false,
      version: "20260817.0",
      containerd: { enabled: true },
      subnetId: "subnet-0123456789abcdef0",
      publicKey: "ssh-ed25519 AAAA me",
    });
  });

  it.each<[Record<string, string>, string, RegExp]>([
    [{}, "pulumi-gvisor:sshAllowedCidrs", /is required: .*pulumi config set sshAllowedCidrs 203\.0\.113\.4\/32/],
    [{ sshAllowedCidrs: '["a", 1]' }, "pulumi-gvisor:sshAllowedCidrs", /must be a list of strings/],
    [{ sshAllowedCidrs: "[oops" }, "pulumi-gvisor:sshAllowedCidrs", /is not valid JSON/],
    [{ sshAllowedCidrs: ME, count: "0" }, "pulumi-gvisor:count", /whole number of at least 1/],
    [{ sshAllowedCidrs: ME, count: "two" }, "pulumi-gvisor:count", /whole number/],
    [{ sshAllowedCidrs: ME, containerd: "yes" }, "pulumi-gvisor:containerd", /must be true or false/],
    [{ sshAllowedCidrs: ME, hosts: "[]" }, "pulumi-gvisor:hosts", /non-empty list of host specs/],
    [{ sshAllowedCidrs: ME, hosts: '[{"name":"a","subnet":"x"}]' }, "pulumi-gvisor:hosts[0].subnet", /is not a host setting here; known: name, arch/],
    [{ sshAllowedCidrs: ME, hosts: '["a"]' }, "pulumi-gvisor:hosts[0]", /must be an object/],
    [{ sshAllowedCidrs: ME, hosts: '[{"name":"a"}]', count: "2" }, "pulumi-gvisor:count", /conflicts with hosts/],
  ])("refuses %j at %s", (config, property, reason) => {
    try {
      from(config);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProgramConfigError);
      expect((err as ProgramConfigError).property).toBe(property);
      expect((err as ProgramConfigError).reason).toMatch(reason);
    }
  });
});

describe("root program (Pulumi.yaml at the repository root)", () => {
  it("deploys a fleet from arch/count config and exports its documented outputs", async () => {
    const { world, exports } = await run(ROOT, "pulumi-gvisor", { sshAllowedCidrs: ME, arch: "arm64", count: "2", "aws:region": "eu-west-1" });
    expect(Object.keys(exports).sort()).toEqual(["allIsolated", "hosts", "sshCommands", "sshPrivateKey", "verification"]);
    const out = await values(exports);
    expect(Object.keys(out.hosts)).toEqual(["arm-1", "arm-2"]);
    expect(out.hosts["arm-1"]).toMatchObject({ arch: "arm64", instanceType: "t4g.medium", sshUser: "ubuntu", isolated: true });
    expect(out.allIsolated).toBe(true);
    expect(out.verification["arm-2"]).toMatchObject({ arch: "aarch64", isolated: true });
    expect(out.sshCommands["arm-1"]).toBe(`ssh -i gvisor-key ubuntu@${out.hosts["arm-1"].sshHost}`);
    expect(await settle(exports.sshPrivateKey)).toEqual({ known: true, value: GENERATED_KEY, secret: true });
    expect(world.byType("pulumi-gvisor:index:Ec2Fleet").map((r) => r.name)).toEqual(["gvisor"]);
    const sg = world.byType("aws:ec2/securityGroup:SecurityGroup");
    expect(sg).toHaveLength(2);
    for (const g of sg) expect(g.inputs.ingress[0].cidrBlocks).toEqual([ME]);
  });

  it("deploys a mixed host list", async () => {
    const hosts = JSON.stringify([{ name: "arm-1", arch: "arm64" }, { name: "x86-1", arch: "x86_64", os: "al2023" }]);
    const { world, exports } = await run(ROOT, "pulumi-gvisor", { sshAllowedCidrs: `["${ME}"]`, hosts });
    const out = await values(exports);
    expect(out.hosts["x86-1"]).toMatchObject({ arch: "x86_64", instanceType: "t3.medium", sshUser: "ec2-user" });
    expect(world.byType("aws:ec2/instance:Instance").map((r) => r.inputs.instanceType)).toEqual(["t4g.medium", "t3.medium"]);
  });

  it("previews with unknown outputs and known step texts", async () => {
    const { world, exports } = await run(ROOT, "pulumi-gvisor", { sshAllowedCidrs: ME }, true);
    expect((await settle(exports.allIsolated)).known).toBe(false);
    const engine = world.byType("command:remote:Command").find((c) => c.name === "gvisor-x86-1-engine");
    expect(engine?.inputs.stdin).toContain('. "$gv_store/engine.sh"');
  });

  it("stops with the config key and the fix when sshAllowedCidrs is missing", async () => {
    await expect(run(ROOT, "pulumi-gvisor", {})).rejects.toThrowError(/^config pulumi-gvisor:sshAllowedCidrs: is required/);
  });
});

describe("examples", () => {
  it("aws-x86: one x86_64 host, outputs as documented", async () => {
    const { world, exports } = await run("../../examples/aws-x86/index", "gvisor-example-aws-x86", { sshAllowedCidr: ME });
    expect(Object.keys(exports).sort()).toEqual(["instanceId", "instanceType", "isolated", "publicIp", "runscVersion", "ssh", "sshPrivateKey", "verification"]);
    const out = await values(exports);
    expect(out).toMatchObject({ instanceType: "t3.medium", isolated: true, runscVersion: "release-20261020.0" });
    expect(out.ssh).toBe(`ssh -i sandbox-key ubuntu@${out.publicIp}`);
    expect(world.one("aws:ec2/instance:Instance").inputs.tags.project).toBe("gvisor-example");
  });

  it("aws-graviton: one arm64 Amazon Linux host with containerd too", async () => {
    const { world, exports } = await run("../../examples/aws-graviton/index", "gvisor-example-aws-graviton", { sshAllowedCidr: ME });
    expect(Object.keys(exports).sort()).toEqual(["ami", "arch", "instanceId", "isolated", "publicIp", "ssh", "sshPrivateKey", "verification"]);
    const out = await values(exports);
    expect(out).toMatchObject({ arch: "arm64", isolated: true });
    expect(out.ssh).toMatch(/^ssh -i graviton-key ec2-user@203\.0\.113\./);
    expect(world.one("aws:ec2/instance:Instance").inputs.instanceType).toBe("t4g.medium");
    expect(world.calls.find((c) => c.token === "aws:ssm/getParameter:getParameter")?.inputs.name).toBe("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
    const engine = world.byType("command:remote:Command").find((c) => c.name === "graviton-engine");
    expect(engine?.inputs.stdin).toContain("GV_CONTAINERD_ENABLED='true'");
  });

  it("fleet: two Graviton hosts and one x86_64, all reported", async () => {
    const { exports } = await run("../../examples/fleet/index", "gvisor-example-fleet", { sshAllowedCidr: ME });
    expect(Object.keys(exports).sort()).toEqual(["allIsolated", "hosts", "sshPrivateKey", "verifications"]);
    const out = await values(exports);
    expect(Object.fromEntries(Object.entries(out.hosts).map(([n, h]: [string, any]) => [n, [h.arch, h.instanceType]]))).toEqual({
      "arm-1": ["arm64", "t4g.medium"],
      "arm-2": ["arm64", "c7g.large"],
      "x86-1": ["x86_64", "t3.medium"],
    });
    expect(out.allIsolated).toBe(true);
    expect(Object.keys(out.verifications)).toEqual(["arm-1", "arm-2", "x86-1"]);
  });
});
