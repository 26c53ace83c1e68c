import { describe, expect, it } from "vitest";
import {
  DEFAULT_INSTANCE_TYPES,
  Ec2HostPlanInput,
  amiParameterName,
  buildEc2HostPlan,
  checkFleetHosts,
  kvmRequirements,
  mergeTags,
  parseCidr,
  parseInstanceType,
  pickDefaultSubnet,
  resolveArchAndType,
  sshIngress,
} from "../../src/plan/ec2";
import { PlanValidationError } from "../../src/plan/errors";

/** Runs `f`, expecting a PlanValidationError; returns it. */
function refused(f: () => unknown): PlanValidationError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(PlanValidationError);
    return err as PlanValidationError;
  }
  throw new Error("expected a PlanValidationError");
}

const base: Ec2HostPlanInput = { name: "h", hasProxy: false, hasPublicKey: false, hasPrivateKey: false, sshAllowedCidrs: ["203.0.113.4/32"] };
const paths = { arch: "args.arch", instanceType: "args.instanceType" };

describe("instance types and arch", () => {
  it.each([
    ["t4g.medium", "arm64"],
    ["m7g.large", "arm64"],
    ["c7gn.2xlarge", "arm64"],
    ["m6gd.metal", "arm64"],
    ["r8g.xlarge", "arm64"],
    ["x2gd.large", "arm64"],
    ["im4gn.large", "arm64"],
    ["is4gen.medium", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["hpc7g.4xlarge", "arm64"],
    ["a1.large", "arm64"],
    ["t3.medium", "x86_64"],
    ["t3a.small", "x86_64"],
    ["m7i-flex.large", "x86_64"],
    ["c8i.large", "x86_64"],
    ["m5zn.large", "x86_64"],
    ["g5.xlarge", "x86_64"],
    ["g4dn.xlarge", "x86_64"],
    ["gr6.4xlarge", "x86_64"],
    ["inf2.xlarge", "x86_64"],
    ["trn1.2xlarge", "x86_64"],
    ["dl2q.24xlarge", "x86_64"],
    ["u-6tb1.112xlarge", "x86_64"],
    ["u7i-12tb.224xlarge", "x86_64"],
    ["p5en.48xlarge", "x86_64"],
  ])("%s is %s", (type, arch) => {
    expect(parseInstanceType(type, "args.instanceType").arch).toBe(arch);
  });

  it("knows bare metal and the nested-virtualization families", () => {
    expect(parseInstanceType("m7i.metal-24xl", "p")).toMatchObject({ family: "m7i", size: "metal-24xl", metal: true, nestedVirtualization: false });
    expect(parseInstanceType("c6g.metal", "p")).toMatchObject({ metal: true, arch: "arm64" });
    for (const t of ["c8i.large", "m8i.xlarge", "r8i.2xlarge", "c8i-flex.large", "m8i-flex.xlarge", "m8id.large", "r8id.large"]) {
      expect(parseInstanceType(t, "p").nestedVirtualization).toBe(true);
    }
    for (const t of ["c7i.large", "m8g.large", "c8gd.large", "m8a.large", "t3.medium"]) {
      expect(parseInstanceType(t, "p").nestedVirtualization).toBe(false);
    }
  });

  it("refuses malformed names and Mac instances", () => {
    expect(refused(() => parseInstanceType("T3.Medium", "args.instanceType")).message).toMatch(/^args\.instanceType: is not an EC2 instance type name .*"T3\.Medium"/);
    expect(refused(() => parseInstanceType("t3", "args.instanceType")).reason).toMatch(/family "\." size/);
    expect(refused(() => parseInstanceType("", "args.instanceType")).reason).toBe("must not be empty");
    expect(refused(() => parseInstanceType("mac2-m2.metal", "args.instanceType")).reason).toMatch(/Mac instance: it runs macOS on a dedicated host/);
  });

  it("derives one from the other, with small general-purpose defaults", () => {
    expect(resolveArchAndType(undefined, undefined, paths)).toMatchObject({ arch: "x86_64", instanceType: { name: "t3.medium" } });
    expect(resolveArchAndType("arm64", undefined, paths)).toMatchObject({ arch: "arm64", instanceType: { name: "t4g.medium" } });
    expect(resolveArchAndType("aarch64", undefined, paths).instanceType.name).toBe(DEFAULT_INSTANCE_TYPES.arm64);
    expect(resolveArchAndType(undefined, "m7g.large", paths).arch).toBe("arm64");
    expect(resolveArchAndType("amd64", "c7a.large", paths).arch).toBe("x86_64");
  });

  it("refuses a mismatch, naming both values", () => {
    const a = refused(() => resolveArchAndType("arm64", "t3.medium", paths));
    expect(a.property).toBe("args.instanceType");
    expect(a.reason).toMatch(/^does not match args\.arch = "arm64": "t3\.medium" is an x86_64 type; for arm64 pick a Graviton type/);
    const b = refused(() => resolveArchAndType("x86_64", "m7g.large", paths));
    expect(b.reason).toMatch(/^does not match args\.arch = "x86_64": "m7g\.large" is a Graviton \(arm64\) type/);
    expect(refused(() => resolveArchAndType("riscv64", undefined, paths)).property).toBe("args.arch");
  });
});

describe("AMI parameters", () => {
  it.each([
    ["ubuntu-24.04", "x86_64", "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"],
    ["ubuntu-24.04", "arm64", "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id"],
    ["al2023", "x86_64", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"],
    ["al2023", "arm64", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"],
  ] as const)("%s on %s reads %s", (os, arch, name) => {
    expect(amiParameterName(os, arch)).toBe(name);
  });
});

describe("kvm", () => {
  const p = { platform: "args.runsc.platform", instanceType: "args.instanceType" };
  const type = (t: string) => parseInstanceType(t, "args.instanceType");

  it("needs nothing for the other platforms", () => {
    expect(kvmRequirements(undefined, type("t3.medium"), p)).toEqual({ nestedVirtualization: false });
    expect(kvmRequirements("systrap", type("t4g.medium"), p)).toEqual({ nestedVirtualization: false });
  });

  it("works on x86 bare metal as is, and on C8i/M8i/R8i with nested virtualization", () => {
    expect(kvmRequirements("kvm", type("m7i.metal-24xl"), p)).toEqual({ nestedVirtualization: false });
    expect(kvmRequirements("kvm", type("c5.metal"), p)).toEqual({ nestedVirtualization: false });
    expect(kvmRequirements("kvm", type("m8i.large"), p)).toEqual({ nestedVirtualization: true });
    expect(kvmRequirements("kvm", type("c8i-flex.large"), p)).toEqual({ nestedVirtualization: true });
  });

  it("is refused on other virtual types, with the reason and the alternatives", () => {
    const e = refused(() => kvmRequirements("kvm", type("t3.medium"), p));
    expect(e.property).toBe("args.runsc.platform");
    expect(e.reason).toMatch(/^"kvm" needs \/dev\/kvm, which args\.instanceType "t3\.medium" does not have: use a bare-metal type .* or a C8i\/M8i\/R8i type .*or leave runsc\.platform unset/);
    expect(refused(() => kvmRequirements("kvm", type("c7i.large"), p)).reason).toMatch(/needs \/dev\/kvm/);
  });

  it("is refused on Graviton, bare metal included", () => {
    for (const t of ["m7g.large", "c6g.metal", "a1.metal"]) {
      const e = refused(() => kvmRequirements("kvm", type(t), p));
      expect(e.property).toBe("args.runsc.platform");
      expect(e.reason).toMatch(new RegExp(`^"kvm" is not offered on Graviton: args\\.instanceType "${t.replace(".", "\\.")}" is arm64`));
    }
  });
});

describe("CIDR blocks and SSH sources", () => {
  const sp = { cidrs: "args.sshAllowedCidrs", allowAnywhere: "args.allowSshFromAnywhere" };

  it("parses IPv4 and IPv6 networks", () => {
    expect(parseCidr("203.0.113.4/32", "p")).toEqual({ cidr: "203.0.113.4/32", family: 4, prefix: 32 });
    expect(parseCidr("10.0.0.0/8", "p")).toEqual({ cidr: "10.0.0.0/8", family: 4, prefix: 8 });
    expect(parseCidr("2001:db8::/64", "p")).toEqual({ cidr: "2001:db8::/64", family: 6, prefix: 64 });
    expect(parseCidr("2001:db8:0:0:0:0:0:1/128", "p").family).toBe(6);
    expect(parseCidr("::/0", "p").prefix).toBe(0);
  });

  it("refuses malformed blocks, bare addresses and host bits, saying what to write", () => {
    expect(refused(() => parseCidr("203.0.113.4", "p")).reason).toMatch(/add \/32 \(IPv4\)/);
    expect(refused(() => parseCidr("203.0.113.256/32", "p")).reason).toMatch(/not a valid IPv4 CIDR/);
    expect(refused(() => parseCidr("203.0.113.4/33", "p")).reason).toMatch(/not a valid IPv4 CIDR/);
    expect(refused(() => parseCidr("203.0.113.4/24", "p")).reason).toBe('has host bits set: write the network address "203.0.113.0/24" (or a /32 for a single address), got "203.0.113.4/24"');
    expect(refused(() => parseCidr("2001:db8::1/64", "p")).reason).toMatch(/host bits set: write the network address "2001:db8::\/64"/);
    expect(refused(() => parseCidr("2001:db8:::/64", "p")).reason).toMatch(/not a valid IPv4 or IPv6/);
    expect(refused(() => parseCidr("example.com/32", "p")).reason).toMatch(/not a valid IPv4 or IPv6/);
  });

  it("splits sources by family", () => {
    expect(sshIngress(["203.0.113.4/32", "2001:db8::/56", "198.51.100.0/24"], undefined, sp)).toEqual({
      ipv4: ["203.0.113.4/32", "198.51.100.0/24"],
      ipv6: ["2001:db8::/56"],
    });
  });

  it("refuses the whole internet, and other very wide blocks, without the opt-in", () => {
    for (const [cidr, what] of [
      ["0.0.0.0/0", "opens SSH to the whole internet"],
      ["::/0", "opens SSH to the whole internet"],
      ["0.0.0.0/1", "opens SSH to 2,147,483,648 addresses \\(a /1; at most /16 is accepted for IPv4\\)"],
      ["10.0.0.0/8", "opens SSH to 16,777,216 addresses \\(a /8; at most /16 is accepted for IPv4\\)"],
      ["172.16.0.0/15", "opens SSH to 131,072 addresses \\(a /15; at most /16"],
      ["2000::/3", "opens SSH to 2\\^125 addresses \\(a /3; at most /48 is accepted for IPv6\\)"],
      ["2001:db8::/47", "\\(a /47; at most /48 is accepted for IPv6\\)"],
    ]) {
      const e = refused(() => sshIngress(["203.0.113.4/32", cidr], undefined, sp));
      expect(e.property).toBe("args.sshAllowedCidrs[1]");
      expect(e.reason).toMatch(new RegExp(`${what}.*: list the addresses or networks that need SSH.*set args\\.allowSshFromAnywhere = true to accept the risk`));
    }
    expect(sshIngress(["0.0.0.0/0", "::/0"], true, sp)).toEqual({ ipv4: ["0.0.0.0/0"], ipv6: ["::/0"] });
    expect(sshIngress(["10.0.0.0/8"], true, sp)).toEqual({ ipv4: ["10.0.0.0/8"], ipv6: [] });
    expect(refused(() => sshIngress(["0.0.0.0/0"], false, sp)).property).toBe("args.sshAllowedCidrs[0]");
  });

  it("accepts blocks up to /16 (IPv4) and /48 (IPv6) without the opt-in", () => {
    expect(sshIngress(["10.20.0.0/16", "2001:db8:1::/48"], undefined, sp)).toEqual({ ipv4: ["10.20.0.0/16"], ipv6: ["2001:db8:1::/48"] });
  });

  it("refuses an empty list, a non-list, duplicates and a non-boolean opt-in", () => {
    expect(refused(() => sshIngress([], undefined, sp)).reason).toMatch(/must list at least one CIDR block/);
    expect(refused(() => sshIngress("203.0.113.4/32", undefined, sp)).reason).toMatch(/must be a list of CIDR blocks/);
    expect(refused(() => sshIngress(["203.0.113.4/32", "203.0.113.4/32"], undefined, sp)).property).toBe("args.sshAllowedCidrs[1]");
    expect(refused(() => sshIngress(["203.0.113.4/32"], "yes", sp)).property).toBe("args.allowSshFromAnywhere");
  });
});

describe("tags, subnets and fleet host lists", () => {
  it("merges user tags over Name and managed-by, within AWS limits", () => {
    expect(mergeTags("web", undefined, "args.tags")).toEqual({ Name: "web", "managed-by": "pulumi-gvisor" });
    expect(mergeTags("web", { team: "sec", Name: "custom" }, "args.tags")).toEqual({ Name: "custom", "managed-by": "pulumi-gvisor", team: "sec" });
    expect(refused(() => mergeTags("web", { "aws:x": "1" }, "args.tags")).property).toBe('args.tags["aws:x"]');
    expect(refused(() => mergeTags("web", { k: "v".repeat(257) }, "args.tags")).reason).toMatch(/at most 256/);
    expect(refused(() => mergeTags("web", ["a"], "args.tags")).reason).toMatch(/map of tag name to value/);
    const many = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"]));
    expect(refused(() => mergeTags("web", many, "args.tags")).reason).toMatch(/at most 50 tags/);
  });

  it("picks the first default subnet by id, or says how to get one", () => {
    expect(pickDefaultSubnet(["subnet-0b", "subnet-0a"], "vpc-1", undefined, "args.subnetId")).toBe("subnet-0a");
    const e = refused(() => pickDefaultSubnet([], "vpc-0d0d", "us-east-1a", "args.subnetId"));
    expect(e.property).toBe("args.subnetId");
    expect(e.reason).toMatch(/default VPC vpc-0d0d has no default subnet in us-east-1a: give subnetId, or create one/);
  });

  it("requires unique, well-formed host names", () => {
    expect(checkFleetHosts([{ name: "arm-1" }, { name: "x86-1" }], "args.hosts")).toEqual(["arm-1", "x86-1"]);
    expect(refused(() => checkFleetHosts([], "args.hosts")).reason).toBe("must list at least one host");
    expect(refused(() => checkFleetHosts({}, "args.hosts")).property).toBe("args.hosts");
    expect(refused(() => checkFleetHosts([{ name: "Arm_1" }], "args.hosts")).property).toBe("args.hosts[0].name");
    expect(refused(() => checkFleetHosts([{}], "args.hosts")).property).toBe("args.hosts[0].name");
    expect(refused(() => checkFleetHosts(["arm-1"], "args.hosts")).property).toBe("args.hosts[0]");
    const dup = refused(() => checkFleetHosts([{ name: "a" }, { name: "b" }, { name: "a" }], "args.hosts"));
    expect(dup.property).toBe("args.hosts[2].name");
    expect(dup.reason).toBe('"a" is used by args.hosts[0] too; host names must be unique');
  });
});

describe("buildEc2HostPlan", () => {
  it("defaults to a hardened x86_64 Ubuntu host reached on its public address", () => {
    expect(buildEc2HostPlan(base)).toEqual({
      arch: "x86_64",
      instanceType: parseInstanceType("t3.medium", "p"),
      os: "ubuntu-24.04",
      amiParameter: "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
      amiId: undefined,
      loginUser: "ubuntu",
      nestedVirtualization: false,
      sshIngress: { ipv4: ["203.0.113.4/32"], ipv6: [] },
      associatePublicIpAddress: true,
      usePrivateAddress: false,
      subnetId: undefined,
      vpcId: undefined,
      availabilityZone: undefined,
      securityGroupIds: [],
      rootVolumeSize: 20,
      iamInstanceProfile: undefined,
      sshDialErrorLimit: 30,
      tags: { Name: "h", "managed-by": "pulumi-gvisor" },
    });
  });

  it("uses ec2-user on Amazon Linux, the explicit AMI when given, and the bastion's private route", () => {
    expect(buildEc2HostPlan({ ...base, os: "al2023", arch: "arm64" })).toMatchObject({
      loginUser: "ec2-user",
      amiParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    });
    expect(buildEc2HostPlan({ ...base, amiId: "ami-0123456789abcdef0" })).toMatchObject({ amiId: "ami-0123456789abcdef0", amiParameter: undefined });
    expect(buildEc2HostPlan({ ...base, sshAllowedCidrs: undefined, hasProxy: true })).toMatchObject({
      sshIngress: undefined,
      associatePublicIpAddress: false,
      usePrivateAddress: true,
    });
    expect(buildEc2HostPlan({ ...base, associatePublicIpAddress: false }).usePrivateAddress).toBe(true);
  });

  it.each<[Partial<Ec2HostPlanInput>, string, RegExp]>([
    [{ sshAllowedCidrs: undefined }, "args.sshAllowedCidrs", /is required: list the CIDR blocks allowed to reach SSH .* or give a bastion/],
    [{ sshAllowedCidrs: ["0.0.0.0/0"] }, "args.sshAllowedCidrs[0]", /opens SSH to the whole internet/],
    [{ sshAllowedCidrs: undefined, hasProxy: true, allowSshFromAnywhere: true }, "args.allowSshFromAnywhere", /has no effect without sshAllowedCidrs/],
    [{ os: "debian-12" }, "args.os", /must be one of "ubuntu-24.04", "al2023", got "debian-12"/],
    [{ amiId: "ami-XYZ" }, "args.amiId", /must be an id like "ami-0123456789abcdef0"/],
    [{ sshUser: "Root User" }, "args.sshUser", /must be a Linux user name/],
    [{ platform: "kvm" }, "args.runsc.platform", /needs \/dev\/kvm, which args\.instanceType "t3\.medium" does not have/],
    [{ arch: "arm64", platform: "kvm" }, "args.runsc.platform", /not offered on Graviton/],
    [{ associatePublicIpAddress: "yes" }, "args.associatePublicIpAddress", /must be true or false/],
    [{ subnetId: "subnet-1" }, "args.subnetId", /must be an id like "subnet-/],
    [{ vpcId: "vpc-0123456789abcdef0" }, "args.subnetId", /is required with vpcId "vpc-0123456789abcdef0": only the default VPC has default subnets/],
    [{ availabilityZone: "us-east-1a", subnetId: "subnet-0123456789abcdef0" }, "args.availabilityZone", /with subnetId the subnet decides the zone/],
    [{ availabilityZone: "US East" }, "args.availabilityZone", /must be a zone name/],
    [{ securityGroupIds: ["sg-0123456789abcdef0", "default"] }, "args.securityGroupIds[1]", /must be an id like "sg-/],
    [{ rootVolumeSize: 4 }, "args.rootVolumeSize", /whole number of GiB from 8 to 16384/],
    [{ rootVolumeSize: 20.5 }, "args.rootVolumeSize", /whole number of GiB/],
    [{ iamInstanceProfile: "has space" }, "args.iamInstanceProfile", /must be an instance profile name/],
    [{ keyName: "mine", hasPublicKey: true }, "args.keyName", /and publicKey both name a key/],
    [{ hasPrivateKey: true }, "args.privateKey", /is the private half of publicKey or keyName/],
    [{ sshDialErrorLimit: 0 }, "args.sshDialErrorLimit", /from 1 to 1000 \(or -1 for no limit\)/],
    [{ tags: { "aws:owner": "x" } }, 'args.tags["aws:owner"]', /reserved for AWS/],
    [{ instanceType: "m7g.large", arch: "x86_64" }, "args.instanceType", /does not match args\.arch = "x86_64"/],
  ])("refuses %j at %s", (extra, property, reason) => {
    const e = refused(() => buildEc2HostPlan({ ...base, ...extra }));
    expect(e.property).toBe(property);
    expect(e.reason).toMatch(reason);
  });

  it("names paths under a fleet member's root", () => {
    expect(refused(() => buildEc2HostPlan({ ...base, rootVolumeSize: 1 }, "args.hosts[2]")).property).toBe("args.hosts[2].rootVolumeSize");
  });
});
