import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Ec2Host, ec2HostNetwork, ec2HostPlanOutput } from "../../src/components/ec2-host";
import { Ec2HostArgs } from "../../src/components/ec2-host-args";
import { load as loadYaml } from "js-yaml";
import {
  DEFAULT_SUBNETS,
  DEFAULT_VPC,
  Ec2WorldOptions,
  GENERATED_HOST_KEY,
  GENERATED_HOST_PUBLIC_KEY,
  GENERATED_KEY,
  GENERATED_PUBLIC_KEY,
  SUBNET_VPC,
  amiFor,
  useEc2Mocks,
} from "./support/ec2-mocks";
import { flush, settle, valueOf } from "./support/mocks";
import { expectReasonNamesPath, raisedBy } from "./support/input-errors";
import { SharedLookups } from "../../src/components/lookups";

const ME = "203.0.113.4/32";
const SSH_SIG = "4dabf18193072939515e22adb298388d";
/** The mock engine shows secret inputs wrapped; this unwraps them. */
const plain = (v: any) => (v && typeof v === "object" && SSH_SIG in v ? v.value : v);
const UBUNTU_AMD64 = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
const UBUNTU_ARM64 = "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id";
const AL2023_AMD64 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
const AL2023_ARM64 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";

/** Builds an Ec2Host named "web" under fresh mocks and waits for every registration. */
async function build(args: Ec2HostArgs, opts: Ec2WorldOptions = {}) {
  const world = useEc2Mocks(opts);
  const host = new Ec2Host("web", args, { transformations: world.transformations });
  await flush(host);
  if (!opts.preview) await valueOf(host.verification);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const instance = world.one("aws:ec2/instance:Instance").inputs;
  const sg = world.one("aws:ec2/securityGroup:SecurityGroup").inputs;
  const commands = world.byType("command:remote:Command");
  const step = (s: string) => commands.find((c) => c.name === `web-${s}`)!.inputs;
  return { world, host, instance, sg, commands, step };
}

/** Constructs an Ec2Host in preview and returns the InputPropertyError it raised. */
function refusal(args: Ec2HostArgs): pulumi.InputPropertyError {
  const world = useEc2Mocks({ preview: true });
  try {
    new Ec2Host("bad", args);
  } catch (err) {
    expect(err).toBeInstanceOf(pulumi.InputPropertyError);
    expectReasonNamesPath(err);
    expect(world.registered).toEqual([]); // validated before anything registers
    return err as pulumi.InputPropertyError;
  }
  throw new Error("expected an InputPropertyError");
}

describe("Ec2Host: the machine", () => {
  it("provisions a hardened x86_64 Ubuntu host in the default VPC and composes Host on it", async () => {
    const { world, instance, host } = await build({ sshAllowedCidrs: [ME] });
    expect(world.registered.map((r) => r.type)).toEqual(
      expect.arrayContaining(["pulumi-gvisor:index:Ec2Host", "pulumi-gvisor:index:Host", "aws:ec2/instance:Instance", "aws:ec2/securityGroup:SecurityGroup"]),
    );
    expect(instance.instanceType).toBe("t3.medium");
    expect(instance.ami).toBe(amiFor(UBUNTU_AMD64));
    expect(world.calls.filter((c) => c.token === "aws:ssm/getParameter:getParameter").map((c) => c.inputs.name)).toEqual([UBUNTU_AMD64]);
    expect(instance.subnetId).toBe([...DEFAULT_SUBNETS].sort()[0]);
    expect(instance.associatePublicIpAddress).toBe(true);
    expect(instance.iamInstanceProfile).toBeUndefined();
    expect(instance.cpuOptions).toBeUndefined();
    expect(await valueOf(host.arch)).toBe("x86_64");
    expect(await valueOf(host.sshUser)).toBe("ubuntu");
  });

  it("requires IMDSv2 with a hop limit of 1 (containers cannot reach instance credentials)", async () => {
    const { instance } = await build({ sshAllowedCidrs: [ME] });
    expect(instance.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
  });

  it("encrypts a gp3 root volume of 20 GiB by default, with the given size and KMS key when set", async () => {
    const a = await build({ sshAllowedCidrs: [ME] });
    expect(a.instance.rootBlockDevice).toMatchObject({ encrypted: true, volumeType: "gp3", volumeSize: 20, deleteOnTermination: true });
    expect(a.instance.rootBlockDevice.kmsKeyId).toBeUndefined();
    const b = await build({ sshAllowedCidrs: [ME], rootVolumeSize: 64, rootVolumeKmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/abc" });
    expect(b.instance.rootBlockDevice).toMatchObject({ encrypted: true, volumeType: "gp3", volumeSize: 64, kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/abc" });
  });

  it("tags everything it creates, user tags merged over Name and managed-by", async () => {
    const { world, instance, sg } = await build({ sshAllowedCidrs: [ME], tags: { team: "sec" } });
    expect(instance.tags).toEqual({ Name: "web", "managed-by": "pulumi-gvisor", team: "sec" });
    expect(instance.rootBlockDevice.tags).toEqual({ Name: "web-root", "managed-by": "pulumi-gvisor", team: "sec" });
    expect(sg.tags).toEqual({ Name: "web-ssh", "managed-by": "pulumi-gvisor", team: "sec" });
    expect(world.one("aws:ec2/keyPair:KeyPair").inputs.tags).toEqual({ Name: "web-key", "managed-by": "pulumi-gvisor", team: "sec" });
  });

  it("attaches an instance profile only when one is given", async () => {
    const { instance } = await build({ sshAllowedCidrs: [ME], iamInstanceProfile: "gvisor-hosts" });
    expect(instance.iamInstanceProfile).toBe("gvisor-hosts");
  });

  it("keeps running hosts on a newer AMI unless replaceOnAmiChange is set", async () => {
    const a = await build({ sshAllowedCidrs: [ME] });
    expect(a.world.options.get("web-instance")?.ignoreChanges).toEqual(["ami"]);
    const b = await build({ sshAllowedCidrs: [ME], replaceOnAmiChange: true });
    expect(b.world.options.get("web-instance")?.ignoreChanges ?? []).toEqual([]);
  });
});

describe("Ec2Host: arch, instance type and AMI", () => {
  it.each<[Partial<Ec2HostArgs>, string, string, string]>([
    [{}, "x86_64", "t3.medium", UBUNTU_AMD64],
    [{ arch: "arm64" }, "arm64", "t4g.medium", UBUNTU_ARM64],
    [{ instanceType: "m7g.large" }, "arm64", "m7g.large", UBUNTU_ARM64],
    [{ instanceType: "c7a.large" }, "x86_64", "c7a.large", UBUNTU_AMD64],
    [{ os: "al2023" }, "x86_64", "t3.medium", AL2023_AMD64],
    [{ os: "al2023", arch: "arm64" }, "arm64", "t4g.medium", AL2023_ARM64],
  ])("%j → %s on %s, AMI from %s", async (extra, arch, type, parameter) => {
    const { world, instance, host } = await build({ sshAllowedCidrs: [ME], ...extra });
    expect(instance.instanceType).toBe(type);
    expect(world.calls.find((c) => c.token === "aws:ssm/getParameter:getParameter")?.inputs.name).toBe(parameter);
    expect(instance.ami).toBe(amiFor(parameter));
    expect(await valueOf(host.arch)).toBe(arch);
    expect(await valueOf(host.ami)).toBe(amiFor(parameter));
  });

  it("passes the derived arch to the install step, which checks it on the machine", async () => {
    const { step } = await build({ sshAllowedCidrs: [ME], instanceType: "c7g.large" });
    expect(step("install").stdin).toContain("GV_ARCH='aarch64'");
  });

  it("uses an explicit AMI without reading any parameter", async () => {
    const { world, instance } = await build({ sshAllowedCidrs: [ME], amiId: "ami-0123456789abcdef0" });
    expect(instance.ami).toBe("ami-0123456789abcdef0");
    expect(world.calls.filter((c) => c.token === "aws:ssm/getParameter:getParameter")).toEqual([]);
  });

  it("refuses an arch/type mismatch at preview, naming both values", () => {
    const e = refusal({ sshAllowedCidrs: [ME], arch: "arm64", instanceType: "t3.medium" });
    expect(e.propertyPath).toBe("args.instanceType");
    expect(e.reason).toMatch(/does not match args\.arch = "arm64": "t3\.medium" is an x86_64 type/);
    const f = refusal({ sshAllowedCidrs: [ME], arch: "x86_64", instanceType: "m7g.large" });
    expect(f.reason).toMatch(/does not match args\.arch = "x86_64": "m7g\.large" is a Graviton \(arm64\) type/);
  });
});

describe("Ec2Host: network and SSH exposure", () => {
  it("opens SSH (22/tcp) to the allowed blocks only, IPv4 and IPv6 apart, and all egress", async () => {
    const { sg } = await build({ sshAllowedCidrs: [ME, "2001:db8::/56"] });
    expect(sg.vpcId).toBe(DEFAULT_VPC.id);
    expect(sg.ingress).toEqual([
      { description: "SSH from the allowed CIDR blocks", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [ME], ipv6CidrBlocks: ["2001:db8::/56"] },
    ]);
    expect(sg.egress).toEqual([
      { description: expect.stringMatching(/OS packages, gVisor releases/), protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
    ]);
  });

  it("never opens SSH to the world by default", () => {
    for (const cidrs of [["0.0.0.0/0"], [ME, "::/0"]]) {
      const e = refusal({ sshAllowedCidrs: cidrs });
      expect(e.propertyPath).toBe(`args.sshAllowedCidrs[${cidrs.length - 1}]`);
      expect(e.reason).toMatch(/opens SSH to the whole internet: .*set args\.allowSshFromAnywhere = true to accept the risk/);
    }
    const missing = refusal({});
    expect(missing.propertyPath).toBe("args.sshAllowedCidrs");
    expect(missing.reason).toMatch(/^args\.sshAllowedCidrs: is required/);
  });

  it("opens SSH to the world only with the explicit opt-in", async () => {
    const { sg } = await build({ sshAllowedCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true });
    expect(sg.ingress[0].cidrBlocks).toEqual(["0.0.0.0/0"]);
  });

  it("uses the given subnet, looking its VPC up, and attaches extra security groups", async () => {
    const { world, instance, sg } = await build({ sshAllowedCidrs: [ME], subnetId: "subnet-0123456789abcdef0", securityGroupIds: ["sg-0123456789abcdef0"] });
    expect(instance.subnetId).toBe("subnet-0123456789abcdef0");
    expect(sg.vpcId).toBe(SUBNET_VPC.id);
    expect(world.calls.map((c) => c.token)).not.toContain("aws:ec2/getVpc:getVpc");
    expect(instance.vpcSecurityGroupIds).toHaveLength(2);
    expect(instance.vpcSecurityGroupIds[1]).toBe("sg-0123456789abcdef0");
  });

  it("narrows the default subnet to a zone when asked", async () => {
    const { world } = await build({ sshAllowedCidrs: [ME], availabilityZone: "us-east-1c" });
    const filters = world.calls.find((c) => c.token === "aws:ec2/getSubnets:getSubnets")!.inputs.filters;
    expect(filters).toEqual([
      { name: "vpc-id", values: [DEFAULT_VPC.id] },
      { name: "default-for-az", values: ["true"] },
      { name: "availability-zone", values: ["us-east-1c"] },
    ]);
  });

  it("fails clearly when the default VPC has no default subnet", async () => {
    // The lookup the component makes, without resources that would fail after it.
    useEc2Mocks({ defaultSubnets: [] });
    const args = { sshAllowedCidrs: [ME], availabilityZone: "us-east-1f" };
    const ec2 = ec2HostPlanOutput("web", args).apply((p) => p.ec2);
    const failure = await valueOf(ec2HostNetwork(args, ec2, "args.hosts[1]", new SharedLookups({})).subnetId).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(pulumi.InputPropertyError);
    expect((failure as pulumi.InputPropertyError).propertyPath).toBe("args.hosts[1].subnetId");
    expect((failure as pulumi.InputPropertyError).reason).toMatch(/default VPC vpc-0d0d0d0d0d0d0d0d0 has no default subnet in us-east-1f: give subnetId/);
  });

  it("behind a bastion: no public IP, connects to the private address through the proxy, SSH open to the VPC only", async () => {
    const proxy = { host: "198.51.100.7", user: "jump", privateKey: "bastion-key" };
    const { sg, instance, step, host } = await build({ proxy, subnetId: "subnet-0123456789abcdef0" });
    expect(instance.associatePublicIpAddress).toBe(false);
    expect(sg.ingress[0].cidrBlocks).toEqual([SUBNET_VPC.cidrBlock]);
    const conn = plain(step("engine").connection);
    expect(conn.host).toBe(await valueOf(host.privateIp));
    expect(conn.proxy).toMatchObject({ host: "198.51.100.7", user: "jump", privateKey: "bastion-key", port: 22 });
  });
});

describe("Ec2Host: SSH key", () => {
  it("generates an ED25519 key pair whose private key is a secret output and the connection's key", async () => {
    const { world, host, step } = await build({ sshAllowedCidrs: [ME] });
    expect(world.one("tls:index/privateKey:PrivateKey", "web-ssh-key").inputs).toEqual({ algorithm: "ED25519" });
    const keyPair = world.one("aws:ec2/keyPair:KeyPair");
    expect(keyPair.inputs.publicKey).toBe(GENERATED_PUBLIC_KEY);
    expect(world.one("aws:ec2/instance:Instance").inputs.keyName).toBe("web-key-kp");
    const key = await settle(host.privateKey);
    expect(key).toEqual({ known: true, value: GENERATED_KEY, secret: true });
    expect(plain(step("engine").connection).privateKey).toBe(GENERATED_KEY);
    for (const c of world.byType("command:remote:Command")) expect(String(c.inputs.stdin ?? c.inputs.create)).not.toContain("Z2VuZXJhdGVkLWtleQ");
  });

  it("imports the user's public key and connects with the given private key (or the SSH agent)", async () => {
    const a = await build({ sshAllowedCidrs: [ME], publicKey: "ssh-ed25519 AAAAmine me@laptop", privateKey: "my-private-key" });
    expect(a.world.byType("tls:index/privateKey:PrivateKey").map((k) => k.name)).toEqual(["web-host-key"]);
    expect(a.world.one("aws:ec2/keyPair:KeyPair").inputs.publicKey).toBe("ssh-ed25519 AAAAmine me@laptop");
    expect(plain(a.step("engine").connection).privateKey).toBe("my-private-key");
    expect(await settle(a.host.privateKey)).toMatchObject({ value: "", secret: true });
    const b = await build({ sshAllowedCidrs: [ME], publicKey: "ssh-ed25519 AAAAmine me@laptop" });
    expect(plain(b.step("engine").connection).privateKey).toBeUndefined();
  });

  it("uses an existing key pair by name without creating one", async () => {
    const { world, instance } = await build({ sshAllowedCidrs: [ME], keyName: "ops", privateKey: "ops-key" });
    expect(world.byType("aws:ec2/keyPair:KeyPair")).toEqual([]);
    expect(instance.keyName).toBe("ops");
  });
});

describe("Ec2Host: pinned host key", () => {
  it("generates the instance's ED25519 host key and installs it through cloud-init user data, as a secret", async () => {
    const { world, instance, host } = await build({ sshAllowedCidrs: [ME] });
    expect(world.one("tls:index/privateKey:PrivateKey", "web-host-key").inputs).toEqual({ algorithm: "ED25519" });
    expect(world.options.get("web-host-key")?.additionalSecretOutputs).toContain("privateKeyOpenssh");
    // The mock engine shows a secret input wrapped.
    expect(instance.userData).toMatchObject({ [SSH_SIG]: expect.any(String) });
    const userData = plain(instance.userData) as string;
    expect(userData.split("\n")[0]).toBe("#cloud-config");
    const config = loadYaml(userData) as Record<string, any>;
    expect(config).toEqual({
      ssh_deletekeys: true,
      ssh_genkeytypes: [],
      ssh_keys: { ed25519_private: GENERATED_HOST_KEY, ed25519_public: GENERATED_HOST_PUBLIC_KEY },
    });
    expect(await valueOf(host.hostPublicKey)).toBe(GENERATED_HOST_PUBLIC_KEY);
  });

  it("pins the generated public key as every step's hostKey, and not the login key", async () => {
    const { commands } = await build({ sshAllowedCidrs: [ME] });
    expect(commands.length).toBeGreaterThan(0);
    for (const c of commands) expect(plain(c.inputs.connection).hostKey).toBe(GENERATED_HOST_PUBLIC_KEY);
    expect(GENERATED_HOST_PUBLIC_KEY).not.toBe(GENERATED_PUBLIC_KEY);
  });

  it("pins it also with the user's own login key and behind a bastion", async () => {
    const a = await build({ sshAllowedCidrs: [ME], keyName: "ops", privateKey: "ops-key" });
    expect(plain(a.step("install").connection).hostKey).toBe(GENERATED_HOST_PUBLIC_KEY);
    const b = await build({ proxy: { host: "198.51.100.7", user: "jump", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJhc3Rpb24tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0t" } });
    const conn = plain(b.step("install").connection);
    expect(conn.hostKey).toBe(GENERATED_HOST_PUBLIC_KEY);
    expect(plain(conn.proxy).hostKey).toBe("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJhc3Rpb24tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0t");
  });
});

describe("Ec2Host: the Host chain", () => {
  it("runs engine first, then the Host steps, all against the instance's public address", async () => {
    const { world, host, commands, step } = await build({ sshAllowedCidrs: [ME] });
    expect(commands.map((c) => c.name)).toEqual(["web-lifecycle", "web-engine", "web-install", "web-configure-docker", "web-configure-containerd", "web-verify"]);
    expect(world.dependsOn.get("web-engine")).toEqual(["web-bundle"]);
    expect(world.dependsOn.get("web-install")).toEqual(["web-bundle", "web-engine"]);
    expect(world.dependsOn.get("web-verify")).toEqual(["web-configure-docker", "web-configure-containerd"]);
    const publicIp = await valueOf(host.publicIp);
    expect(publicIp).toMatch(/^203\.0\.113\./);
    for (const c of commands) {
      expect(plain(c.inputs.connection)).toMatchObject({ host: publicIp, user: "ubuntu", port: 22, dialErrorLimit: 30, perDialTimeout: 15 });
    }
    expect(step("engine").stdin).toContain('. "$gv_store/engine.sh"');
    expect(step("engine").stdin).toContain("GV_DOCKER_ENABLED='true'");
    expect(await valueOf(host.sshHost)).toBe(publicIp);
  });

  it("logs in as ec2-user on Amazon Linux, or as the given user, with the given dial limit", async () => {
    const a = await build({ sshAllowedCidrs: [ME], os: "al2023" });
    expect(plain(a.step("engine").connection).user).toBe("ec2-user");
    const b = await build({ sshAllowedCidrs: [ME], sshUser: "admin", sshDialErrorLimit: 60 });
    expect(plain(b.step("engine").connection)).toMatchObject({ user: "admin", dialErrorLimit: 60 });
  });

  it("does not uninstall before termination by default (the instance goes anyway)", async () => {
    const a = await build({ sshAllowedCidrs: [ME] });
    // No delete at all: the provider would still dial a "" delete, and fail the destroy once SSH is closed.
    expect("delete" in a.step("lifecycle")).toBe(false);
    const b = await build({ sshAllowedCidrs: [ME], uninstallOnDelete: true });
    expect(b.step("lifecycle").delete).toContain('. "$gv_store/uninstall.sh"');
  });

  it("passes the gVisor setup through: containerd enabled reaches the engine and configure steps", async () => {
    const { step } = await build({ sshAllowedCidrs: [ME], containerd: { enabled: true }, version: "20260817.0" });
    expect(step("engine").stdin).toContain("GV_CONTAINERD_ENABLED='true'");
    expect(step("install").stdin).toContain("GV_VERSION='20260817.0'");
  });

  it("reports the documented outputs after an update", async () => {
    const { host } = await build({ sshAllowedCidrs: [ME], arch: "arm64" });
    expect(await valueOf(host.instanceId)).toMatch(/^i-0/);
    expect(await valueOf(host.privateIp)).toMatch(/^10\.0\.0\./);
    expect(await valueOf(host.instanceType)).toBe("t4g.medium");
    expect(await valueOf(host.securityGroupId)).toMatch(/^sg-/);
    expect(await valueOf(host.isolated)).toBe(true);
    expect(await valueOf(host.runscVersion)).toBe("release-20261020.0");
    const v = await valueOf(host.verification);
    expect(v).toMatchObject({ arch: "aarch64", isolated: true, failures: [] });
    expect(v.runtimes[0]).toMatchObject({ engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0" });
  });

  it("previews without hanging: the step texts are known, the machine's outputs are not", async () => {
    const { host, step } = await build({ sshAllowedCidrs: [ME], arch: "arm64" }, { preview: true });
    expect(step("install").stdin).toContain("GV_ARCH='aarch64'");
    expect((await settle(host.verification)).known).toBe(false);
    expect((await settle(host.publicIp)).known).toBe(false);
    expect(await valueOf(host.arch)).toBe("arm64");
  });
});

describe("Ec2Host: kvm", () => {
  it("switches nested virtualization on for kvm on C8i/M8i/R8i", async () => {
    const { instance } = await build({ sshAllowedCidrs: [ME], instanceType: "m8i.large", runsc: { platform: "kvm" } });
    expect(instance.cpuOptions).toEqual({ nestedVirtualization: "enabled" });
  });

  it("needs nothing extra on bare metal, and leaves other platforms alone", async () => {
    const a = await build({ sshAllowedCidrs: [ME], instanceType: "m7i.metal-24xl", runsc: { platform: "kvm" } });
    expect(a.instance.cpuOptions).toBeUndefined();
    const b = await build({ sshAllowedCidrs: [ME], instanceType: "m8i.large", runsc: { platform: "systrap" } });
    expect(b.instance.cpuOptions).toBeUndefined();
  });

  it("refuses kvm at preview where /dev/kvm cannot exist, with the reason", () => {
    const a = refusal({ sshAllowedCidrs: [ME], runsc: { platform: "kvm" } });
    expect(a.propertyPath).toBe("args.runsc.platform");
    expect(a.reason).toMatch(/"kvm" needs \/dev\/kvm, which args\.instanceType "t3\.medium" does not have/);
    const b = refusal({ sshAllowedCidrs: [ME], instanceType: "c7g.metal", runsc: { platform: "kvm" } });
    expect(b.reason).toMatch(/"kvm" is not offered on Graviton/);
  });

  it("checks values that arrive as Outputs once they resolve", async () => {
    useEc2Mocks();
    const late = (args: Ec2HostArgs) =>
      valueOf(ec2HostPlanOutput("late", args)).then(
        () => undefined,
        (err: unknown) => err as pulumi.InputPropertyError,
      );
    const a = await late({ sshAllowedCidrs: [ME], arch: "arm64", runsc: { platform: pulumi.output("kvm" as const) } });
    expect(a).toBeInstanceOf(pulumi.InputPropertyError);
    expect(a?.propertyPath).toBe("args.runsc.platform");
    expect(a?.reason).toMatch(/not offered on Graviton/);
    const b = await late({ sshAllowedCidrs: pulumi.output(["0.0.0.0/0"]), instanceType: pulumi.output("m7g.large") });
    expect(b?.propertyPath).toBe("args.sshAllowedCidrs[0]");
    const ok = await valueOf(ec2HostPlanOutput("late", { sshAllowedCidrs: [ME], instanceType: pulumi.output("m8i.large"), runsc: pulumi.output({ platform: "kvm" as const }) }));
    expect(ok.ec2).toMatchObject({ arch: "x86_64", nestedVirtualization: true });
    expect(ok.host.platform).toBe("kvm");
  });
});

describe("Ec2Host: bad input", () => {
  it.each<[Partial<Ec2HostArgs>, string, RegExp]>([
    [{ instanceType: "t3" }, "args.instanceType", /is not an EC2 instance type name/],
    [{ instanceType: "mac2.metal" }, "args.instanceType", /Mac instance/],
    [{ arch: "riscv64" as never }, "args.arch", /^args\.arch: must be "x86_64" or "arm64"/],
    [{ os: "windows" as never }, "args.os", /must be one of "ubuntu-24.04", "al2023"/],
    [{ amiId: "ubuntu" }, "args.amiId", /must be an id like "ami-/],
    [{ sshAllowedCidrs: ["203.0.113.4/24"] }, "args.sshAllowedCidrs[0]", /host bits set: write the network address "203\.0\.113\.0\/24"/],
    [{ sshAllowedCidrs: ["my laptop"] }, "args.sshAllowedCidrs[0]", /must not contain whitespace|CIDR block/],
    [{ rootVolumeSize: 2 }, "args.rootVolumeSize", /from 8 to 16384/],
    [{ vpcId: "vpc-0123456789abcdef0" }, "args.subnetId", /is required with vpcId/],
    [{ subnetId: "subnet-0123456789abcdef0", availabilityZone: "us-east-1a" }, "args.availabilityZone", /subnet decides the zone/],
    [{ keyName: "ops", publicKey: "ssh-ed25519 AAAA" }, "args.keyName", /both name a key/],
    [{ privateKey: "orphan" }, "args.privateKey", /private half of publicKey or keyName/],
    [{ tags: { "aws:cloudformation": "x" } }, 'args.tags["aws:cloudformation"]', /reserved for AWS/],
    [{ docker: { runtimeName: "runsc;reboot" } }, "args.docker.runtimeName", /letters, digits/],
    [{ version: "release-2026" }, "args.version", /./],
    [{ docker: { enabled: false } }, "args", /enables neither docker nor containerd/],
  ])("refuses %j at %s", (extra, property, reason) => {
    const e = refusal({ sshAllowedCidrs: [ME], ...extra });
    expect(e.propertyPath).toBe(property);
    expect(e.reason).toMatch(reason);
  });
});

describe("Ec2Host: validation at preview while other inputs are unknown", () => {
  /** A subnet made in the same program: its id is unknown in a preview. */
  function previewWithNewSubnet() {
    const world = useEc2Mocks({ preview: true });
    const subnet = new aws.ec2.Subnet("app", { vpcId: SUBNET_VPC.id, cidrBlock: "10.20.1.0/24" });
    return { world, subnetId: subnet.id };
  }


  it("refuses a bad plain field at construction although the subnet is an unknown Output, naming its path in the reason", async () => {
    const cases: [Partial<Ec2HostArgs>, string, RegExp][] = [
      [{ installDir: "bin" }, "args.installDir", /^args\.installDir: must be an absolute path, got "bin"/],
      [{ runsc: { platform: "kvm" } }, "args.runsc.platform", /^args\.runsc\.platform: "kvm" needs \/dev\/kvm/],
      [{ runsc: { network: "bridge" as never } }, "args.runsc.network", /^args\.runsc\.network: /],
      [{ rootVolumeSize: 4 }, "args.rootVolumeSize", /^args\.rootVolumeSize: must be a whole number of GiB/],
      [{ vpcId: "vpc-nope" }, "args.vpcId", /^args\.vpcId: must be an id like "vpc-/],
      [{ tags: { "aws:owner": "me" } }, 'args.tags["aws:owner"]', /reserved for AWS/],
      [{ instanceType: "m7g.large", arch: "x86_64" }, "args.instanceType", /^args\.instanceType: does not match args\.arch/],
    ];
    for (const [extra, path, reason] of cases) {
      const { world, subnetId } = previewWithNewSubnet();
      const err = raisedBy(() => new Ec2Host("bad", { sshAllowedCidrs: [ME], subnetId, ...extra }));
      expect(err, path).toBeInstanceOf(pulumi.InputPropertyError);
      expect(err.propertyPath, path).toBe(path);
      expect(err.reason, path).toMatch(reason);
      expect(err.message, path).toBe(err.reason);
      await new Promise((resolve) => setTimeout(resolve, 10));
      // Only the subnet registered: the Ec2Host was refused before super().
      expect(world.registered.map((r) => r.type)).toEqual(["aws:ec2/subnet:Subnet"]);
    }
  });

  it("reports every bad field at once, and still waits for the subnet to judge the subnet", async () => {
    const { subnetId } = previewWithNewSubnet();
    const err = raisedBy(() => new Ec2Host("bad", { sshAllowedCidrs: [ME], subnetId, installDir: "bin", rootVolumeSize: 4 }));
    expect(pulumi.InputPropertiesError.isInstance(err)).toBe(true);
    expect(err.errors.map((e: any) => e.propertyPath)).toEqual(["args.rootVolumeSize", "args.installDir"]);
    expect(err.errors.map((e: any) => e.reason)).toEqual([expect.stringMatching(/^args\.rootVolumeSize: /), expect.stringMatching(/^args\.installDir: /)]);
    // vpcId with a subnet is fine even while the subnet is unknown: no check that needs the subnet runs early.
    let ok: Ec2Host | undefined;
    expect(raisedBy(() => (ok = new Ec2Host("ok", { sshAllowedCidrs: [ME], subnetId, vpcId: SUBNET_VPC.id })))).toBeUndefined();
    await flush(ok!);
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it("previews a good host on a new subnet: nothing is refused, every resource is planned", async () => {
    const { world, subnetId } = previewWithNewSubnet();
    const host = new Ec2Host("web", { sshAllowedCidrs: [ME], subnetId, vpcId: SUBNET_VPC.id, installDir: "/opt/gvisor/bin" }, { transformations: world.transformations });
    await flush(host);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(world.byType("command:remote:Command").map((c) => c.name)).toEqual(
      expect.arrayContaining(["web-lifecycle", "web-engine", "web-install", "web-configure-docker", "web-configure-containerd", "web-verify"]),
    );
    expect(world.one("aws:ec2/instance:Instance")).toBeDefined();
    expect((await settle(host.verification)).known).toBe(false);
  });

  it("refuses, in the preview, a bad value that is an Output known there, while the subnet stays unknown", async () => {
    const { subnetId } = previewWithNewSubnet();
    const settled = (args: Ec2HostArgs) =>
      settle(ec2HostPlanOutput("late", args)).then(
        (s) => ({ known: s.known, err: undefined as any }),
        (err: unknown) => ({ known: false, err: err as any }),
      );
    const a = await settled({ sshAllowedCidrs: [ME], subnetId, installDir: pulumi.output("bin") });
    expect(a.err).toBeInstanceOf(pulumi.InputPropertyError);
    expect(a.err.propertyPath).toBe("args.installDir");
    expect(a.err.reason).toMatch(/^args\.installDir: must be an absolute path, got "bin"/);
    const b = await settled({ sshAllowedCidrs: [ME], subnetId, runsc: pulumi.output({ platform: "kvm" as const }) });
    expect(b.err?.propertyPath).toBe("args.runsc.platform");
    // Valid: no error, and the plan waits for the subnet (unknown in the preview).
    const c = await settled({ sshAllowedCidrs: [ME], subnetId, installDir: pulumi.output("/opt/bin") });
    expect(c).toEqual({ known: false, err: undefined });
  });
});
