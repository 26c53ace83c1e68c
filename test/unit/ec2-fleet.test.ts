import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Ec2Fleet } from "../../src/components/ec2-fleet";
import { Ec2FleetArgs } from "../../src/components/ec2-host-args";
import { Ec2WorldOptions, GENERATED_KEY, GENERATED_PUBLIC_KEY, amiFor, useEc2Mocks } from "./support/ec2-mocks";
import { flush, settle, valueOf } from "./support/mocks";
import { expectReasonNamesPath } from "./support/input-errors";

const ME = "203.0.113.4/32";
const SSH_SIG = "4dabf18193072939515e22adb298388d";
const plain = (v: any) => (v && typeof v === "object" && SSH_SIG in v ? v.value : v);

const mixed: Ec2FleetArgs = {
  sshAllowedCidrs: [ME],
  tags: { team: "sec" },
  hosts: [
    { name: "arm-1", arch: "arm64" },
    { name: "arm-2", instanceType: "c7g.large" },
    { name: "x86-1", arch: "x86_64", os: "al2023", tags: { role: "ci" } },
  ],
};

async function build(args: Ec2FleetArgs, opts: Ec2WorldOptions = {}) {
  const world = useEc2Mocks(opts);
  const fleet = new Ec2Fleet("pool", args, { transformations: world.transformations });
  await flush(fleet);
  if (!opts.preview) await valueOf(fleet.verifications);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const instance = (host: string) => world.one("aws:ec2/instance:Instance", `pool-${host}-instance`).inputs;
  return { world, fleet, instance };
}

function refusal(args: Ec2FleetArgs): pulumi.InputPropertyError {
  const world = useEc2Mocks({ preview: true });
  try {
    new Ec2Fleet("bad", args);
  } catch (err) {
    expect(err).toBeInstanceOf(pulumi.InputPropertyError);
    expectReasonNamesPath(err);
    expect(world.registered).toEqual([]);
    return err as pulumi.InputPropertyError;
  }
  throw new Error("expected an InputPropertyError");
}

describe("Ec2Fleet", () => {
  it("provisions mixed arches and types, one Ec2Host per spec", async () => {
    const { world, instance } = await build(mixed);
    expect(world.byType("pulumi-gvisor:index:Ec2Host").map((r) => r.name)).toEqual(["pool-arm-1", "pool-arm-2", "pool-x86-1"]);
    expect(instance("arm-1").instanceType).toBe("t4g.medium");
    expect(instance("arm-2").instanceType).toBe("c7g.large");
    expect(instance("x86-1").instanceType).toBe("t3.medium");
    expect(instance("arm-1").ami).toBe(amiFor("/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id"));
    expect(instance("x86-1").ami).toBe(amiFor("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"));
    for (const h of ["arm-1", "arm-2", "x86-1"]) {
      expect(instance(h).metadataOptions.httpTokens).toBe("required");
      expect(instance(h).rootBlockDevice.encrypted).toBe(true);
    }
    expect(instance("x86-1").tags).toEqual({ Name: "pool-x86-1", "managed-by": "pulumi-gvisor", team: "sec", role: "ci" });
    expect(instance("arm-1").tags).toEqual({ Name: "pool-arm-1", "managed-by": "pulumi-gvisor", team: "sec" });
  });

  it("asks each lookup once for the whole fleet: one default VPC, one subnet list per zone, one AMI parameter per image", async () => {
    const { world, instance } = await build({
      ...mixed,
      hosts: [...mixed.hosts, { name: "arm-3", arch: "arm64", availabilityZone: "us-east-1c" }, { name: "arm-4", arch: "arm64" }],
    });
    const count = (token: string) => world.calls.filter((c) => c.token === token).length;
    expect(count("aws:ec2/getVpc:getVpc")).toBe(1);
    // The hosts with no zone share one question, the host in us-east-1c asks its own.
    expect(count("aws:ec2/getSubnets:getSubnets")).toBe(2);
    // Ubuntu arm64 (arm-1..4) and AL2023 x86_64 (x86-1).
    expect(world.calls.filter((c) => c.token === "aws:ssm/getParameter:getParameter").map((c) => c.inputs.name).sort()).toEqual([
      "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
      "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id",
    ]);
    // Shared answers still reach every host.
    expect(instance("arm-4").ami).toBe(amiFor("/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id"));
    expect(instance("arm-3").subnetId).toMatch(/^subnet-/);
  });

  it("shares one generated key pair; its private key is a secret output used by every host", async () => {
    const { world, fleet, instance } = await build(mixed);
    const loginKeys = world.byType("tls:index/privateKey:PrivateKey").filter((r) => !r.name.endsWith("-host-key"));
    expect(loginKeys.map((r) => r.name)).toEqual(["pool-ssh-key"]);
    const keyPairs = world.byType("aws:ec2/keyPair:KeyPair");
    expect(keyPairs.map((r) => r.name)).toEqual(["pool-key"]);
    expect(keyPairs[0].inputs.publicKey).toBe(GENERATED_PUBLIC_KEY);
    for (const h of ["arm-1", "arm-2", "x86-1"]) expect(instance(h).keyName).toBe("pool-key-kp");
    expect(await settle(fleet.privateKey)).toEqual({ known: true, value: GENERATED_KEY, secret: true });
    for (const c of world.byType("command:remote:Command")) expect(plain(c.inputs.connection).privateKey).toBe(GENERATED_KEY);
  });

  it("lets a host bring its own key while the others share the fleet's", async () => {
    const { world, instance } = await build({
      sshAllowedCidrs: [ME],
      publicKey: "ssh-ed25519 AAAAteam team@ci",
      hosts: [{ name: "a" }, { name: "b", keyName: "ops", privateKey: "ops-key" }],
    });
    expect(world.byType("tls:index/privateKey:PrivateKey").filter((r) => !r.name.endsWith("-host-key"))).toEqual([]);
    expect(world.byType("aws:ec2/keyPair:KeyPair").map((r) => [r.name, r.inputs.publicKey])).toEqual([["pool-key", "ssh-ed25519 AAAAteam team@ci"]]);
    expect(instance("a").keyName).toBe("pool-key-kp");
    expect(instance("b").keyName).toBe("ops");
  });

  it("provisions hosts in parallel: nothing in one host's chain waits on another's", async () => {
    const { world, fleet } = await build(mixed);
    const hostOf = (name: string) => /^pool-(arm-1|arm-2|x86-1)(?:-|$)/.exec(name)?.[1];
    let chains = 0;
    for (const [name, deps] of world.dependsOn) {
      const own = hostOf(name);
      if (own === undefined) {
        expect(deps).toEqual([]); // fleet-level: the component, the shared key
        continue;
      }
      for (const d of deps) expect(hostOf(d)).toBe(own);
      if (deps.length > 0) chains++;
    }
    expect(chains).toBe(3 * 6); // lifecycle (after the upload), engine, install, two configure steps, verify per host
    // Each host's steps connect to its own instance's address, all distinct.
    const hosts = await valueOf(fleet.hosts);
    const seen = new Set<string>();
    for (const h of ["arm-1", "arm-2", "x86-1"]) {
      for (const step of ["engine", "install", "verify"]) {
        expect(plain(world.one("command:remote:Command", `pool-${h}-${step}`).inputs.connection).host).toBe(hosts[h].publicIp);
      }
      seen.add(hosts[h].publicIp);
    }
    expect(seen.size).toBe(3);
  });

  it("reports each host, each verification, and allIsolated", async () => {
    const { fleet } = await build(mixed);
    const hosts = await valueOf(fleet.hosts);
    expect(Object.keys(hosts)).toEqual(["arm-1", "arm-2", "x86-1"]);
    expect(hosts["arm-2"]).toEqual({
      instanceId: expect.stringMatching(/^i-0/),
      arch: "arm64",
      instanceType: "c7g.large",
      ami: expect.stringMatching(/^ami-/),
      publicIp: expect.stringMatching(/^203\.0\.113\./),
      privateIp: expect.stringMatching(/^10\.0\.0\./),
      sshUser: "ubuntu",
      sshHost: hosts["arm-2"].publicIp,
      isolated: true,
      runscVersion: "release-20261020.0",
    });
    expect(hosts["x86-1"].sshUser).toBe("ec2-user");
    const v = await valueOf(fleet.verifications);
    expect(v["arm-1"].arch).toBe("aarch64");
    expect(v["x86-1"].arch).toBe("x86_64");
    expect(await valueOf(fleet.allIsolated)).toBe(true);
  });

  it("is not allIsolated when one host is not", async () => {
    const { fleet } = await build(mixed, { notIsolated: ["pool-arm-2"] });
    expect(await valueOf(fleet.allIsolated)).toBe(false);
    const v = await valueOf(fleet.verifications);
    expect(v["arm-2"].failures).toEqual(["docker/runsc: the container reports the host kernel 6.8.0-1019-aws, so it is not running under gVisor"]);
    expect((await valueOf(fleet.hosts))["arm-2"].isolated).toBe(false);
    expect(v["arm-1"].isolated).toBe(true);
  });

  it("previews without hanging", async () => {
    const { fleet, world } = await build(mixed, { preview: true });
    expect((await settle(fleet.allIsolated)).known).toBe(false);
    const commands = world.byType("command:remote:Command");
    expect(commands).toHaveLength(3 * 6);
    // The shared key pair does not exist yet in a preview; the step texts are known anyway.
    for (const c of commands) expect(c.inputs.stdin ?? c.inputs.create).toMatch(/^# pulumi-gvisor (step|adopt)/);
    expect(commands.find((c) => c.name === "pool-arm-1-install")?.inputs.stdin).toContain("GV_ARCH='aarch64'");
  });

  it("reports every bad host in one preview, and a bad shared setting once", () => {
    const world = useEc2Mocks({ preview: true });
    const args: Ec2FleetArgs = {
      sshAllowedCidrs: [ME],
      hosts: [
        { name: "a", arch: "arm64", instanceType: "t3.large" },
        { name: "b" },
        { name: "c", sshAllowedCidrs: ["0.0.0.0/0"] },
        { name: "d", rootVolumeSize: 1 },
      ],
    };
    let err: any;
    try {
      new Ec2Fleet("bad", args);
    } catch (e) {
      err = e;
    }
    expect(pulumi.InputPropertiesError.isInstance(err)).toBe(true);
    expect(world.registered).toEqual([]);
    expect(err.errors.map((e: any) => e.propertyPath)).toEqual(["args.hosts[0].instanceType", "args.hosts[2].sshAllowedCidrs[0]", "args.hosts[3].rootVolumeSize"]);
    expect(err.message).toMatch(/^3 invalid inputs:\n {2}args\.hosts\[0\]\.instanceType: does not match .*\n {2}args\.hosts\[2\]\.sshAllowedCidrs\[0\]: .*whole internet.*\n {2}args\.hosts\[3\]\.rootVolumeSize: /);
    // Inherited by every member, reported once at the fleet's own path.
    const shared = refusal({ sshAllowedCidrs: ["0.0.0.0/0"], hosts: [{ name: "a" }, { name: "b" }, { name: "c" }] });
    expect(shared.propertyPath).toBe("args.sshAllowedCidrs[0]");
  });

  it.each<[Ec2FleetArgs, string, RegExp]>([
    [{ sshAllowedCidrs: [ME], hosts: [] }, "args.hosts", /must list at least one host/],
    [{ sshAllowedCidrs: [ME], hosts: [{ name: "a" }, { name: "a" }] }, "args.hosts[1].name", /"a" is used by args\.hosts\[0\] too/],
    [{ sshAllowedCidrs: [ME], hosts: [{ name: "Web_1" }] }, "args.hosts[0].name", /lowercase letters, digits or '-'/],
    [{ sshAllowedCidrs: [ME], hosts: [{ name: "a" }, { name: "b", arch: "arm64", instanceType: "t3.large" }] }, "args.hosts[1].instanceType", /does not match .*"t3\.large" is an x86_64 type/],
    [{ sshAllowedCidrs: [ME], hosts: [{ name: "a" }, { name: "b", sshAllowedCidrs: ["0.0.0.0/0"] }] }, "args.hosts[1].sshAllowedCidrs[0]", /whole internet/],
    [{ sshAllowedCidrs: ["0.0.0.0/0"], hosts: [{ name: "a" }] }, "args.sshAllowedCidrs[0]", /whole internet/],
    [{ hosts: [{ name: "a" }] }, "args.sshAllowedCidrs", /is required/],
    [{ sshAllowedCidrs: [ME], runsc: { platform: "kvm" }, hosts: [{ name: "a", instanceType: "m8i.large" }, { name: "b" }] }, "args.runsc.platform", /args\.hosts\[1\]\.instanceType "t3\.medium" does not have/],
    [{ sshAllowedCidrs: [ME], privateKey: "orphan", hosts: [{ name: "a" }] }, "args.privateKey", /private half of publicKey or keyName/],
    [{ sshAllowedCidrs: [ME], tags: { "aws:x": "1" }, hosts: [{ name: "a" }] }, 'args.hosts[0].tags["aws:x"]', /reserved for AWS/],
  ])("refuses %j at %s", (args, property, reason) => {
    const e = refusal(args);
    expect(e.propertyPath).toBe(property);
    expect(e.reason).toMatch(reason);
  });
});

describe("Ec2Fleet: validation at preview while other inputs are unknown", () => {
  it("refuses every bad member at construction although the shared subnet is an Output not known yet", async () => {
    const world = useEc2Mocks({ preview: true });
    const subnetId = new aws.ec2.Subnet("app", { vpcId: "vpc-0e0e0e0e0e0e0e0e0", cidrBlock: "10.20.1.0/24" }).id;
    let err: any;
    try {
      new Ec2Fleet("bad", {
        sshAllowedCidrs: [ME],
        subnetId,
        hosts: [{ name: "a", installDir: "bin" }, { name: "b" }, { name: "c", runsc: { platform: "kvm" } }],
      });
    } catch (e) {
      err = e;
    }
    expect(pulumi.InputPropertiesError.isInstance(err)).toBe(true);
    expect(err.errors).toEqual([
      { propertyPath: "args.hosts[0].installDir", reason: expect.stringMatching(/^args\.hosts\[0\]\.installDir: must be an absolute path, got "bin"/) },
      { propertyPath: "args.hosts[2].runsc.platform", reason: expect.stringMatching(/^args\.hosts\[2\]\.runsc\.platform: "kvm" needs \/dev\/kvm/) },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(world.registered.map((r) => r.type)).toEqual(["aws:ec2/subnet:Subnet"]);
  });
});
