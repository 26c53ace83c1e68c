import { Arch, parseArch } from "./arch";
import { check, collect, joinPath, show } from "./errors";
import { requireLine } from "./text";

// EC2 rules for a gVisor host: which instance types are which arch, where the
// kvm platform can work, which public AMI parameter to read, and which SSH
// sources are acceptable. Pure functions: no Pulumi, no I/O.

/** Operating systems an Ec2Host can boot, each with a public AMI parameter per arch. */
export const Ec2Os = {
  /** Ubuntu Server 24.04 LTS (Canonical's images; login user `ubuntu`). */
  Ubuntu2404: "ubuntu-24.04",
  /** Amazon Linux 2023 (login user `ec2-user`). */
  AmazonLinux2023: "al2023",
} as const;
export type Ec2Os = (typeof Ec2Os)[keyof typeof Ec2Os];

/** A small general-purpose type per arch, used when only the arch is given. */
export const DEFAULT_INSTANCE_TYPES: Readonly<Record<Arch, string>> = {
  x86_64: "t3.medium",
  arm64: "t4g.medium",
};
/** The operating system an EC2 host gets when `os` is not given: Ubuntu 24.04. */
export const DEFAULT_EC2_OS: Ec2Os = Ec2Os.Ubuntu2404;
/** Root volume size in GiB. The images need 8; Docker images and gVisor need room. */
export const DEFAULT_ROOT_VOLUME_GIB = 20;
/** SSH dial attempts for a fresh instance (boot plus sshd start can take minutes). */
export const DEFAULT_EC2_DIAL_ERROR_LIMIT = 30;
/** Tag put on everything an Ec2Host or Ec2Fleet creates. */
export const MANAGED_BY_TAG = { key: "managed-by", value: "pulumi-gvisor" } as const;

/** The login user each OS's image creates for the key pair. */
export const LOGIN_USERS: Readonly<Record<Ec2Os, string>> = {
  "ubuntu-24.04": "ubuntu",
  al2023: "ec2-user",
};

/**
 * The AWS public SSM parameter holding the current AMI id for an OS and arch.
 * Its `value` is marked secret by the provider; read `insecureValue`.
 */
export function amiParameterName(os: Ec2Os, arch: Arch): string {
  switch (os) {
    case "ubuntu-24.04":
      return `/aws/service/canonical/ubuntu/server/24.04/stable/current/${arch === "arm64" ? "arm64" : "amd64"}/hvm/ebs-gp3/ami-id`;
    case "al2023":
      return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch === "arm64" ? "arm64" : "x86_64"}`;
  }
}

/** What the name of an instance type says about the machine. */
export interface InstanceTypeInfo {
  /** As written, e.g. `c7gn.2xlarge`. */
  name: string;
  /** The part before the dot, e.g. `c7gn`, `c8i-flex`, `u-6tb1`. */
  family: string;
  /** The part after the dot, e.g. `2xlarge`, `metal-24xl`. */
  size: string;
  arch: Arch;
  /** Bare metal: the instance sees the CPU's virtualization extensions (/dev/kvm). */
  metal: boolean;
  /** An Intel family that offers EC2 nested virtualization (C8i, M8i, R8i and their d/flex variants). */
  nestedVirtualization: boolean;
}

const INSTANCE_TYPE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Graviton families carry a `g` right after the generation digits: t4g, m7g, c7gn, m6gd, x2gd, im4gn, g5g, hpc7g, r8g. */
const GRAVITON_FAMILY = /^[a-z]+[0-9]+g/;
/** Families with EC2 nested virtualization (8th generation Intel). */
const NESTED_VIRT_FAMILY = /^[cmr]8id?(?:-flex)?$/;

/**
 * Parses an instance type name and derives its arch. Graviton families have a
 * `g` after the generation (t4g, m7g, c7gn, m6gd, g5g, im4gn, hpc7g); `a1` is
 * the first-generation Graviton. Families that start with `g` (g4dn, g5, g6:
 * NVIDIA GPUs on x86), `inf`, `trn`, `dl`, `u-…` and the rest are x86_64.
 * `mac*` types are refused: they run macOS on dedicated hosts.
 */
export function parseInstanceType(value: unknown, property: string): InstanceTypeInfo {
  const name = requireLine(value, property);
  check(
    INSTANCE_TYPE.test(name),
    property,
    `is not an EC2 instance type name (family "." size, lowercase, e.g. "t3.medium" or "m7g.large"), got ${show(name)}`,
  );
  const [family, size] = name.split(".") as [string, string];
  const base = family.split("-")[0];
  check(
    !base.startsWith("mac"),
    property,
    `${show(name)} is a Mac instance: it runs macOS on a dedicated host, where gVisor cannot run; choose a Linux type such as "${DEFAULT_INSTANCE_TYPES.x86_64}" or "${DEFAULT_INSTANCE_TYPES.arm64}"`,
  );
  const arch: Arch = base === "a1" || GRAVITON_FAMILY.test(base) ? "arm64" : "x86_64";
  return {
    name,
    family,
    size,
    arch,
    metal: size === "metal" || size.startsWith("metal-"),
    nestedVirtualization: NESTED_VIRT_FAMILY.test(family),
  };
}

/**
 * Derives arch and instance type from each other. Neither given: x86_64 with
 * the default type. A mismatch is refused, naming both values.
 */
export function resolveArchAndType(
  arch: unknown,
  instanceType: unknown,
  paths: { arch: string; instanceType: string },
): { arch: Arch; instanceType: InstanceTypeInfo } {
  const wanted = arch === undefined ? undefined : parseArch(arch, paths.arch);
  if (instanceType === undefined) {
    const a = wanted ?? "x86_64";
    return { arch: a, instanceType: parseInstanceType(DEFAULT_INSTANCE_TYPES[a], paths.instanceType) };
  }
  const info = parseInstanceType(instanceType, paths.instanceType);
  if (wanted !== undefined && wanted !== info.arch) {
    const hint =
      info.arch === "arm64"
        ? `${show(info.name)} is a Graviton (arm64) type; for x86_64 pick an Intel/AMD type such as "${DEFAULT_INSTANCE_TYPES.x86_64}", or set arch to "arm64"`
        : `${show(info.name)} is an x86_64 type; for arm64 pick a Graviton type (a "g" after the generation, e.g. "${DEFAULT_INSTANCE_TYPES.arm64}", "m7g.large"), or set arch to "x86_64"`;
    check(false, paths.instanceType, `does not match ${paths.arch} = ${show(arch)}: ${hint}`);
  }
  return { arch: info.arch, instanceType: info };
}

/**
 * Decides whether `runsc.platform = "kvm"` can work on an instance type, and
 * whether it needs EC2 nested virtualization switched on. Other platforms need
 * nothing. Refuses kvm where /dev/kvm cannot exist, with the reason.
 */
export function kvmRequirements(platform: unknown, type: InstanceTypeInfo, paths: { platform: string; instanceType: string }): { nestedVirtualization: boolean } {
  if (platform !== "kvm") return { nestedVirtualization: false };
  check(
    type.arch !== "arm64",
    paths.platform,
    `"kvm" is not offered on Graviton: ${paths.instanceType} ${show(type.name)} is arm64 and EC2 has no nested virtualization there; leave runsc.platform unset (systrap) or use an x86_64 *.metal or C8i/M8i/R8i type`,
  );
  if (type.metal) return { nestedVirtualization: false };
  check(
    type.nestedVirtualization,
    paths.platform,
    `"kvm" needs /dev/kvm, which ${paths.instanceType} ${show(type.name)} does not have: use a bare-metal type (e.g. "m7i.metal-24xl") or a C8i/M8i/R8i type (e.g. "m8i.large", EC2 nested virtualization, switched on for you), or leave runsc.platform unset (systrap)`,
  );
  return { nestedVirtualization: true };
}

/** A validated CIDR block. */
export interface Cidr {
  cidr: string;
  family: 4 | 6;
  prefix: number;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function ipv4Network(octets: number[], prefix: number): string {
  const value = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (value & mask) >>> 0;
  return [net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join(".") + `/${prefix}`;
}

/** Parses an IPv6 address into 8 groups, or undefined when it is not one (embedded IPv4 not accepted). */
function ipv6Groups(address: string): number[] | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(address)) return undefined;
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === "" ? [] : s.split(":"));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const groups = [...head, ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  if (halves.length === 1 && groups.length !== 8) return undefined;
  if (halves.length === 2 && groups.length > 7) return undefined;
  const zeros = 8 - groups.length;
  return [...head, ...Array(halves.length === 2 ? zeros : 0).fill("0"), ...tail].map((g) => parseInt(g, 16));
}

function ipv6Network(groups: number[], prefix: number): string {
  const net = groups.map((g, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    return g & mask;
  });
  // Canonical text: longest run (>1) of zero groups becomes "::".
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (net[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && net[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = net.map((g) => g.toString(16));
  const text = best.len > 1 ? `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}` : hex.join(":");
  return `${text}/${prefix}`;
}

/** Parses an IPv4 or IPv6 CIDR block; host bits must be zero (AWS refuses them in rules). */
export function parseCidr(value: unknown, property: string): Cidr {
  const text = requireLine(value, property);
  const example = 'e.g. "203.0.113.4/32" or "2001:db8::/64"';
  const v4 = IPV4_CIDR.exec(text);
  if (v4) {
    const octets = v4.slice(1, 5).map(Number);
    const prefix = Number(v4[5]);
    check(octets.every((o) => o <= 255) && prefix <= 32, property, `is not a valid IPv4 CIDR block (${example}), got ${show(text)}`);
    const network = ipv4Network(octets, prefix);
    check(network === text, property, `has host bits set: write the network address ${show(network)} (or a /32 for a single address), got ${show(text)}`);
    return { cidr: text, family: 4, prefix };
  }
  const slash = text.lastIndexOf("/");
  check(slash > 0, property, `must be a CIDR block with a prefix length (${example}); for one address add /32 (IPv4) or /128 (IPv6), got ${show(text)}`);
  const groups = ipv6Groups(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  check(groups !== undefined && /^\d{1,3}$/.test(prefixText) && Number(prefixText) <= 128, property, `is not a valid IPv4 or IPv6 CIDR block (${example}), got ${show(text)}`);
  const prefix = Number(prefixText);
  const network = ipv6Network(groups, prefix);
  check(
    ipv6Groups(network.slice(0, network.lastIndexOf("/")))!.every((g, i) => g === groups[i]),
    property,
    `has host bits set: write the network address ${show(network)}, got ${show(text)}`,
  );
  return { cidr: text, family: 6, prefix };
}

/**
 * The widest SSH source blocks accepted without `allowSshFromAnywhere`: an
 * IPv4 /16 (65,536 addresses, a large office or VPC) and an IPv6 /48 (one
 * site). Anything wider is open to far more machines than need SSH.
 */
export const WIDEST_SSH_PREFIX = { 4: 16, 6: 48 } as const;

/** SSH sources, split by family, as the security group takes them. */
export interface SshIngress {
  ipv4: string[];
  ipv6: string[];
}

/**
 * Validates the CIDR blocks allowed to reach SSH. Blocks wider than /16 (IPv4)
 * or /48 (IPv6), 0.0.0.0/0 and ::/0 among them, are refused unless
 * `allowAnywhere` is true: SSH open to the internet is an explicit choice.
 */
export function sshIngress(cidrs: unknown, allowAnywhere: unknown, paths: { cidrs: string; allowAnywhere: string }): SshIngress {
  check(Array.isArray(cidrs), paths.cidrs, `must be a list of CIDR blocks (e.g. ["203.0.113.4/32"]), got ${show(cidrs)}`);
  check(
    cidrs.length > 0,
    paths.cidrs,
    'must list at least one CIDR block allowed to reach SSH (e.g. your own address as "203.0.113.4/32"); the host is configured over SSH',
  );
  check(allowAnywhere === undefined || typeof allowAnywhere === "boolean", paths.allowAnywhere, `must be true or false, got ${show(allowAnywhere)}`);
  const seen = new Set<string>();
  const out: SshIngress = { ipv4: [], ipv6: [] };
  cidrs.forEach((value, i) => {
    const at = `${paths.cidrs}[${i}]`;
    const c = parseCidr(value, at);
    check(!seen.has(c.cidr), at, `${show(c.cidr)} is listed twice`);
    seen.add(c.cidr);
    const widest = WIDEST_SSH_PREFIX[c.family];
    if (c.prefix < widest && allowAnywhere !== true) {
      const addresses = c.family === 4 ? (2 ** (32 - c.prefix)).toLocaleString("en-US") : `2^${128 - c.prefix}`;
      const what = c.prefix === 0 ? "opens SSH to the whole internet" : `opens SSH to ${addresses} addresses (a /${c.prefix}; at most /${widest} is accepted for IPv${c.family})`;
      check(
        false,
        at,
        `${show(c.cidr)} ${what}: list the addresses or networks that need SSH (e.g. your own as "203.0.113.4/32", an office as a /24), use a bastion (proxy), or set ${paths.allowAnywhere} = true to accept the risk`,
      );
    }
    (c.family === 4 ? out.ipv4 : out.ipv6).push(c.cidr);
  });
  return out;
}

const AWS_ID = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);

/** Requires an AWS resource id such as `subnet-0abc…` (or leaves undefined). */
export function optionalAwsId(value: unknown, prefix: "ami" | "subnet" | "vpc" | "sg", property: string): string | undefined {
  if (value === undefined) return undefined;
  const text = requireLine(value, property);
  check(AWS_ID(prefix).test(text), property, `must be an id like "${prefix}-0123456789abcdef0", got ${show(text)}`);
  return text;
}

/** Validates user tags (AWS limits) and merges them over the defaults. */
export function mergeTags(name: string, tags: unknown, property: string): Record<string, string> {
  const defaults = { Name: name, [MANAGED_BY_TAG.key]: MANAGED_BY_TAG.value };
  if (tags === undefined) return defaults;
  check(typeof tags === "object" && tags !== null && !Array.isArray(tags), property, `must be a map of tag name to value, got ${show(tags)}`);
  const entries = Object.entries(tags as Record<string, unknown>);
  for (const [key, value] of entries) {
    const at = `${property}[${show(key)}]`;
    check(key.length >= 1 && key.length <= 128, at, "tag keys must be 1 to 128 characters");
    check(!key.toLowerCase().startsWith("aws:"), at, 'the "aws:" prefix is reserved for AWS');
    check(typeof value === "string" && value.length <= 256, at, `tag values must be strings of at most 256 characters, got ${show(value)}`);
  }
  const merged = { ...defaults, ...(tags as Record<string, string>) };
  check(Object.keys(merged).length <= 50, property, "AWS allows at most 50 tags per resource (including Name and managed-by)");
  return merged;
}

/** The EC2 settings of one host, as the user wrote them (resolved). */
export interface Ec2HostPlanInput {
  /** Resource name (used for the Name tag). */
  name: string;
  arch?: unknown;
  instanceType?: unknown;
  os?: unknown;
  amiId?: unknown;
  sshUser?: unknown;
  platform?: unknown;
  sshAllowedCidrs?: unknown;
  allowSshFromAnywhere?: unknown;
  /** Whether a bastion (`proxy`) is given. */
  hasProxy: boolean;
  associatePublicIpAddress?: unknown;
  subnetId?: unknown;
  vpcId?: unknown;
  availabilityZone?: unknown;
  securityGroupIds?: unknown;
  rootVolumeSize?: unknown;
  iamInstanceProfile?: unknown;
  /** Whether `keyName` is given; its value (when known) is `keyName`. */
  hasKeyName?: boolean;
  keyName?: unknown;
  hasPublicKey: boolean;
  hasPrivateKey: boolean;
  sshDialErrorLimit?: unknown;
  tags?: unknown;
}

/** The validated EC2 decisions for one host: plain data. */
export interface Ec2HostPlan {
  arch: Arch;
  instanceType: InstanceTypeInfo;
  os: Ec2Os;
  /** The SSM parameter to read the AMI from, or undefined when `amiId` is given. */
  amiParameter?: string;
  amiId?: string;
  loginUser: string;
  /** Switch on EC2 nested virtualization (kvm on C8i/M8i/R8i). */
  nestedVirtualization: boolean;
  /** SSH sources; undefined means "the VPC's own CIDR" (bastion setups without an explicit list). */
  sshIngress?: SshIngress;
  associatePublicIpAddress: boolean;
  /** Connect through the bastion to the private address. */
  usePrivateAddress: boolean;
  subnetId?: string;
  vpcId?: string;
  availabilityZone?: string;
  securityGroupIds: string[];
  rootVolumeSize: number;
  iamInstanceProfile?: string;
  sshDialErrorLimit: number;
  tags: Record<string, string>;
}

const AZ = /^[a-z]{2}(?:-[a-z0-9]+)+$/;
const PROFILE_NAME = /^[\w+=,.@-]{1,128}$/;
const LOGIN_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * Validates one host's EC2 settings and returns the plan. Property paths are
 * under `root` (`args`, or `args.hosts[2]` in a fleet).
 */
export function buildEc2HostPlan(input: Ec2HostPlanInput, root = "args"): Ec2HostPlan {
  const at = (p: string) => joinPath(root, p);
  const archPaths = { arch: at("arch"), instanceType: at("instanceType") };
  // Independent checks, each reported (and each skipped while a value it
  // needs is not known yet) on its own.
  const [{ arch, instanceType }, { nestedVirtualization }, os, amiId, sshUser, ingress, associatePublicIpAddress, network, securityGroupIds, size, iamInstanceProfile, , dial, tags] =
    collect(
      () => resolveArchAndType(input.arch, input.instanceType, archPaths),
      () => kvmRequirements(input.platform, resolveArchAndType(input.arch, input.instanceType, archPaths).instanceType, { platform: at("runsc.platform"), instanceType: at("instanceType") }),
      () => {
        const osValues = Object.values(Ec2Os) as string[];
        const os = (input.os ?? DEFAULT_EC2_OS) as Ec2Os;
        check(osValues.includes(os), at("os"), `must be one of ${osValues.map((o) => `"${o}"`).join(", ")}, got ${show(input.os)}`);
        return os;
      },
      () => optionalAwsId(input.amiId, "ami", at("amiId")),
      () => {
        if (input.sshUser === undefined) return undefined;
        const user = requireLine(input.sshUser, at("sshUser"));
        check(LOGIN_USER.test(user), at("sshUser"), `must be a Linux user name (lowercase letters, digits, '_' or '-'), got ${show(user)}`);
        return user;
      },
      () => sshIngressOf(input, at),
      () => {
        check(
          input.associatePublicIpAddress === undefined || typeof input.associatePublicIpAddress === "boolean",
          at("associatePublicIpAddress"),
          `must be true or false, got ${show(input.associatePublicIpAddress)}`,
        );
        return (input.associatePublicIpAddress as boolean | undefined) ?? !input.hasProxy;
      },
      () => networkOf(input, at),
      () => {
        const groups = input.securityGroupIds ?? [];
        check(Array.isArray(groups), at("securityGroupIds"), `must be a list of security group ids, got ${show(groups)}`);
        return groups.map((g, i) => optionalAwsId(g, "sg", `${at("securityGroupIds")}[${i}]`) as string);
      },
      () => {
        const size = input.rootVolumeSize ?? DEFAULT_ROOT_VOLUME_GIB;
        check(
          typeof size === "number" && Number.isInteger(size) && size >= 8 && size <= 16384,
          at("rootVolumeSize"),
          `must be a whole number of GiB from 8 to 16384 (the images need 8), got ${show(input.rootVolumeSize)}`,
        );
        return size;
      },
      () => {
        if (input.iamInstanceProfile === undefined) return undefined;
        const profile = requireLine(input.iamInstanceProfile, at("iamInstanceProfile"));
        check(PROFILE_NAME.test(profile), at("iamInstanceProfile"), `must be an instance profile name (letters, digits and +=,.@_-), got ${show(profile)}`);
        return profile;
      },
      () => checkKeys(input, at),
      () => {
        const dial = input.sshDialErrorLimit ?? DEFAULT_EC2_DIAL_ERROR_LIMIT;
        check(
          typeof dial === "number" && Number.isInteger(dial) && (dial === -1 || (dial >= 1 && dial <= 1000)),
          at("sshDialErrorLimit"),
          `must be a whole number from 1 to 1000 (or -1 for no limit), got ${show(input.sshDialErrorLimit)}`,
        );
        return dial;
      },
      () => mergeTags(input.name, input.tags, at("tags")),
    );

  return {
    arch,
    instanceType,
    os,
    amiParameter: amiId === undefined ? amiParameterName(os, arch) : undefined,
    amiId,
    loginUser: sshUser ?? LOGIN_USERS[os],
    nestedVirtualization,
    sshIngress: ingress,
    associatePublicIpAddress,
    usePrivateAddress: input.hasProxy || !associatePublicIpAddress,
    subnetId: network.subnetId,
    vpcId: network.vpcId,
    availabilityZone: network.availabilityZone,
    securityGroupIds,
    rootVolumeSize: size,
    iamInstanceProfile,
    sshDialErrorLimit: dial,
    tags,
  };
}

/** SSH sources: the given blocks, or undefined (the VPC's CIDR) behind a bastion without a list. */
function sshIngressOf(input: Ec2HostPlanInput, at: (p: string) => string): SshIngress | undefined {
  if (input.sshAllowedCidrs === undefined && input.hasProxy) {
    check(input.allowSshFromAnywhere !== true, at("allowSshFromAnywhere"), "has no effect without sshAllowedCidrs; with a bastion, SSH is open to the VPC's CIDR only");
    return undefined;
  }
  check(
    input.sshAllowedCidrs !== undefined,
    at("sshAllowedCidrs"),
    'is required: list the CIDR blocks allowed to reach SSH (e.g. your own address as ["203.0.113.4/32"]), or give a bastion (proxy), which opens SSH to the VPC only',
  );
  return sshIngress(input.sshAllowedCidrs, input.allowSshFromAnywhere, { cidrs: at("sshAllowedCidrs"), allowAnywhere: at("allowSshFromAnywhere") });
}

/** Subnet, VPC and zone, which decide together where the host goes. */
function networkOf(input: Ec2HostPlanInput, at: (p: string) => string): { subnetId?: string; vpcId?: string; availabilityZone?: string } {
  const [subnetId, vpcId, availabilityZone] = collect(
    () => optionalAwsId(input.subnetId, "subnet", at("subnetId")),
    () => optionalAwsId(input.vpcId, "vpc", at("vpcId")),
    () => {
      if (input.availabilityZone === undefined) return undefined;
      const zone = requireLine(input.availabilityZone, at("availabilityZone"));
      check(AZ.test(zone), at("availabilityZone"), `must be a zone name such as "us-east-1a", got ${show(zone)}`);
      return zone;
    },
  );
  check(vpcId === undefined || subnetId !== undefined, at("subnetId"), `is required with vpcId ${show(vpcId)}: only the default VPC has default subnets to choose from`);
  check(
    availabilityZone === undefined || subnetId === undefined,
    at("availabilityZone"),
    "only picks the default VPC's subnet; with subnetId the subnet decides the zone, so drop one of the two",
  );
  return { subnetId, vpcId, availabilityZone };
}

/** Which key settings may go together. */
function checkKeys(input: Ec2HostPlanInput, at: (p: string) => string): void {
  const hasKeyName = input.hasKeyName === true || input.keyName !== undefined;
  if (hasKeyName) {
    if (input.keyName !== undefined) requireLine(input.keyName, at("keyName"));
    check(!input.hasPublicKey, at("keyName"), "and publicKey both name a key: give keyName (an existing EC2 key pair) or publicKey (imported as a new one), not both");
  }
  check(
    !input.hasPrivateKey || hasKeyName || input.hasPublicKey,
    at("privateKey"),
    "is the private half of publicKey or keyName: give one of those too, or leave all three unset to generate a key pair",
  );
}

/**
 * Picks the subnet for a host in the default VPC: the first (by id, so the
 * choice is stable) of the VPC's default-for-zone subnets.
 */
export function pickDefaultSubnet(ids: readonly string[], vpcId: string, zone: string | undefined, property: string): string {
  check(
    ids.length > 0,
    property,
    `is not given, and the default VPC ${vpcId} has no default subnet${zone ? ` in ${zone}` : ""}: give subnetId, or create one with "aws ec2 create-default-subnet --availability-zone <zone>"`,
  );
  return [...ids].sort()[0];
}

/** Host names in a fleet: they become resource names and Name tags. */
const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Validates a fleet's host list: at least one, names well-formed and unique. */
export function checkFleetHosts(hosts: unknown, property: string): string[] {
  check(Array.isArray(hosts), property, `must be a list of host specs ({ name, arch?, instanceType?, … }), got ${show(hosts)}`);
  check(hosts.length > 0, property, "must list at least one host");
  const names: string[] = [];
  hosts.forEach((h, i) => {
    const at = `${property}[${i}]`;
    check(typeof h === "object" && h !== null && !Array.isArray(h), at, `must be a host spec object, got ${show(h)}`);
    const name = (h as { name?: unknown }).name;
    check(
      typeof name === "string" && HOST_NAME.test(name),
      `${at}.name`,
      `must be 1 to 40 lowercase letters, digits or '-' (not at either end), got ${show(name)}`,
    );
    check(!names.includes(name), `${at}.name`, `${show(name)} is used by ${property}[${names.indexOf(name)}] too; host names must be unique`);
    names.push(name);
  });
  return names;
}
