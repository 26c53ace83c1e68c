import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SharedLookups, lookupsFor } from "./lookups";
import * as tls from "@pulumi/tls";
import { Arch } from "../plan/arch";
import { Ec2HostPlan, Ec2HostPlanInput, buildEc2HostPlan, pickDefaultSubnet, resolveArchAndType } from "../plan/ec2";
import { collect, joinPath } from "../plan/errors";
import { HostPlan, HostPlanInput, buildHostPlan } from "../plan/host-plan";
import { Verification } from "../plan/verification";
import { Ec2HostArgs } from "./ec2-host-args";
import { Host, setupPlanInput } from "./host";
import { GvisorSetupArgs, HostConnectionArgs } from "./host-args";
import { asInputError, checkKnownNow, planOutput } from "./validate";
import { ifKnown, isKnownNow } from "./unknown-values";

/** Seconds per SSH dial attempt. */
const PER_DIAL_TIMEOUT = 15;

// Ec2Fleet builds Ec2Host args for its members and wants errors to name the
// member's path (`args.hosts[2].instanceType`). The path travels beside the
// args object, not in it, so the public args stay exactly the documented ones.
const propertyRoots = new WeakMap<object, string>();

/** Makes validation errors for these args name properties under `root`. @internal */
export function withPropertyRoot<T extends object>(args: T, root: string): T {
  propertyRoots.set(args, root);
  return args;
}

/** The plain values validation needs, as Inputs; secrets and the bastion stay out. */
function validatedInputs(args: Ec2HostArgs) {
  return {
    arch: args.arch,
    instanceType: args.instanceType,
    os: args.os,
    amiId: args.amiId,
    sshUser: args.sshUser,
    sshAllowedCidrs: args.sshAllowedCidrs,
    allowSshFromAnywhere: args.allowSshFromAnywhere,
    associatePublicIpAddress: args.associatePublicIpAddress,
    subnetId: args.subnetId,
    vpcId: args.vpcId,
    availabilityZone: args.availabilityZone,
    securityGroupIds: args.securityGroupIds,
    rootVolumeSize: args.rootVolumeSize,
    iamInstanceProfile: args.iamInstanceProfile,
    // A key pair created alongside (a fleet's) is known only after it exists:
    // only its presence matters here, so it must not hold the plan back.
    keyName: isKnownNow(args.keyName) ? args.keyName : undefined,
    sshDialErrorLimit: args.sshDialErrorLimit,
    tags: args.tags,
    setup: setupOf(args),
  };
}

/** Which optional settings are given at all (decided at construction: they decide which resources exist). */
interface Presence {
  proxy: boolean;
  keyName: boolean;
  publicKey: boolean;
  privateKey: boolean;
}

function presenceOf(args: Ec2HostArgs): Presence {
  return {
    proxy: args.proxy !== undefined,
    keyName: args.keyName !== undefined,
    publicKey: args.publicKey !== undefined,
    privateKey: args.privateKey !== undefined,
  };
}

/** The gVisor setup fields, exactly as Host takes them. */
function setupOf(args: Ec2HostArgs): GvisorSetupArgs {
  return {
    version: args.version,
    mirror: args.mirror,
    sha512: args.sha512,
    arch: args.arch,
    installDir: args.installDir,
    runsc: args.runsc,
    docker: args.docker,
    containerd: args.containerd,
    verify: args.verify,
  };
}

/**
 * Validates now every Ec2Host check whose values are plain (a fleet checks
 * all members before registering itself); the Ec2Host checks the rest as
 * its Outputs resolve. @internal
 */
export function checkEc2HostArgs(name: string, args: Ec2HostArgs, root: string): void {
  checkKnownNow(validatedInputs(args), ec2PlanInputs(name, presenceOf(args)), (inputs) => planEc2Host(inputs, root));
}

/** Both plans of an Ec2Host, checked as early as each value allows (see planOutput). @internal */
export function ec2HostPlanOutput(name: string, args: Ec2HostArgs, root = "args"): pulumi.Output<Ec2HostPlans> {
  return planOutput(validatedInputs(args), ec2PlanInputs(name, presenceOf(args)), (inputs) => planEc2Host(inputs, root));
}

/**
 * Where an Ec2Host goes: the given subnet (its VPC looked up unless given), or
 * the first default subnet of the default VPC. `vpcCidr` is set when SSH is to
 * be open to the VPC (a bastion without an explicit list). @internal
 */
export function ec2HostNetwork(
  args: Ec2HostArgs,
  ec2: pulumi.Output<Ec2HostPlan>,
  root: string,
  lookups: SharedLookups,
): { subnetId: pulumi.Output<string>; vpcId: pulumi.Output<string>; vpcCidr?: pulumi.Output<string> } {
  const wantVpcCidr = args.proxy !== undefined && args.sshAllowedCidrs === undefined;
  const vpcCidrOf = (vpcId: pulumi.Input<string>) =>
    lookups.once(pulumi.interpolate`vpc-cidr:${vpcId}`, (opts) => aws.ec2.getVpcOutput({ id: vpcId }, opts).cidrBlock);
  if (args.subnetId !== undefined) {
    const subnetId = pulumi.output(args.subnetId);
    const vpcId =
      args.vpcId !== undefined
        ? pulumi.output(args.vpcId)
        : lookups.once(pulumi.interpolate`subnet-vpc:${subnetId}`, (opts) => aws.ec2.getSubnetOutput({ id: subnetId }, opts).vpcId);
    return { subnetId, vpcId, vpcCidr: wantVpcCidr ? vpcCidrOf(vpcId) : undefined };
  }
  const vpc = lookups.once("default-vpc", (opts) => aws.ec2.getVpcOutput({ default: true }, opts));
  const vpcId = vpc.apply((v) => v.id);
  const zone = ec2.apply((p) => p.availabilityZone ?? "");
  const ids = lookups.once(pulumi.interpolate`default-subnets:${vpcId}:${zone}`, (opts) => {
    const filters = pulumi.all([vpcId, zone]).apply(([id, az]) => [
      { name: "vpc-id", values: [id] },
      { name: "default-for-az", values: ["true"] },
      ...(az ? [{ name: "availability-zone", values: [az] }] : []),
    ]);
    return aws.ec2.getSubnetsOutput({ filters }, opts).ids;
  });
  const subnetId = pulumi
    .all([ids, vpcId, ec2])
    .apply(([ids, id, p]) => asInputError(() => pickDefaultSubnet(ids, id, p.availabilityZone, `${root}.subnetId`)));
  return { subnetId, vpcId, vpcCidr: wantVpcCidr ? vpc.apply((v) => v.cidrBlock) : undefined };
}

/**
 * The instance's user data: a cloud-config that installs the given ED25519
 * host key (cloud-init's ssh module writes `ssh_keys` to
 * /etc/ssh/ssh_host_ed25519_key{,.pub}) and removes the image's own keys, so
 * sshd presents exactly the key the connection pins. The text holds the
 * private key: keep it secret. @internal
 */
export function hostKeyCloudConfig(privateKeyOpenssh: string, publicKeyOpenssh: string): string {
  const block = privateKeyOpenssh.trim().split("\n").map((line) => `    ${line.trim()}`);
  return ["#cloud-config", "ssh_deletekeys: true", "ssh_genkeytypes: []", "ssh_keys:", "  ed25519_private: |", ...block, `  ed25519_public: ${JSON.stringify(publicKeyOpenssh.trim())}`, ""].join("\n");
}

/** Both plans of one EC2 host: the machine and the gVisor setup on it. */
export interface Ec2HostPlans {
  ec2: Ec2HostPlan;
  host: HostPlan;
}

/** The two plan inputs of an Ec2Host, from its resolved args (values not known yet are carried along, not looked into). */
interface Ec2PlanInputs {
  ec2: Ec2HostPlanInput;
  setup: HostPlanInput;
}

function ec2PlanInputs(name: string, presence: Presence) {
  return (resolved: pulumi.Unwrap<ReturnType<typeof validatedInputs>>): Ec2PlanInputs => {
    const { setup, ...ec2 } = resolved;
    return {
      ec2: {
        ...ec2,
        name,
        platform: ifKnown(setup.runsc, (r) => r?.platform),
        hasProxy: presence.proxy,
        hasKeyName: presence.keyName,
        hasPublicKey: presence.publicKey,
        hasPrivateKey: presence.privateKey,
      },
      setup: setupPlanInput(setup),
    };
  };
}

/** `input` with `arch` set, leaving every other field (known or not) as it is. */
function withArch(input: HostPlanInput, arch: Arch): HostPlanInput {
  return new Proxy(input, {
    get: (target, key, receiver) => (key === "arch" ? arch : Reflect.get(target, key, receiver)),
    has: (target, key) => key === "arch" || Reflect.has(target, key),
    ownKeys: (target) => [...new Set([...Reflect.ownKeys(target), "arch"])],
    getOwnPropertyDescriptor: (target, key) =>
      key === "arch" ? { value: arch, writable: true, enumerable: true, configurable: true } : Reflect.getOwnPropertyDescriptor(target, key),
  });
}

/**
 * Validates everything an Ec2Host needs (pure): the EC2 settings, and the
 * gVisor setup with the arch the EC2 settings give, independently, so a
 * bad value in either is reported even while the other holds a value not
 * known yet. Errors name paths under `root`.
 */
export function planEc2Host(inputs: Ec2PlanInputs, root: string): Ec2HostPlans {
  const at = (p: string) => joinPath(root, p);
  const [ec2, host] = collect(
    () => buildEc2HostPlan(inputs.ec2, root),
    () => {
      const { arch } = resolveArchAndType(inputs.ec2.arch, inputs.ec2.instanceType, { arch: at("arch"), instanceType: at("instanceType") });
      return buildHostPlan(withArch(inputs.setup, arch), root);
    },
  );
  return { ec2, host };
}

/**
 * One EC2 instance (x86_64 or Graviton) with gVisor, set up and verified.
 *
 * Provisions the machine the careful way: AMI from AWS's public parameters
 * (kept on later updates unless `replaceOnAmiChange`), IMDSv2 only with hop
 * limit 1, encrypted gp3 root volume, a security group that opens SSH to
 * `sshAllowedCidrs` only, no instance profile unless given, tags on all.
 * Then composes `Host` over SSH with the engine step first (Docker and/or
 * containerd from the OS packages on a fresh image).
 */
export class Ec2Host extends pulumi.ComponentResource {
  /** EC2 instance id. */
  public readonly instanceId: pulumi.Output<string>;
  /** Public IPv4 address (empty when the instance has none). */
  public readonly publicIp: pulumi.Output<string>;
  /** Private IPv4 address. */
  public readonly privateIp: pulumi.Output<string>;
  /** `x86_64` or `arm64`. */
  public readonly arch: pulumi.Output<Arch>;
  /** The instance type. */
  public readonly instanceType: pulumi.Output<string>;
  /** The AMI the instance runs. */
  public readonly ami: pulumi.Output<string>;
  /** SSH login user. */
  public readonly sshUser: pulumi.Output<string>;
  /** The address the SSH connection uses (public, or private behind a bastion). */
  public readonly sshHost: pulumi.Output<string>;
  /** The SSH-only security group created for the host. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** The generated SSH private key (OpenSSH format, secret); empty when a key was given. */
  public readonly privateKey: pulumi.Output<string>;
  /** The instance's SSH host key (`ssh-ed25519 AAAA…`), generated here and pinned by every step; add it to known_hosts. */
  public readonly hostPublicKey: pulumi.Output<string>;
  /** What the verify step measured on the host. */
  public readonly verification: pulumi.Output<Verification>;
  /** True when every enabled runtime ran a sandbox with its own kernel. */
  public readonly isolated: pulumi.Output<boolean>;
  /** runsc version reported by the installed binary. */
  public readonly runscVersion: pulumi.Output<string>;

  constructor(name: string, args: Ec2HostArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything: bad input fails the preview
    // without leaving a half-registered component behind.
    const root = propertyRoots.get(args) ?? "args";
    const plans = ec2HostPlanOutput(name, args, root);
    super("pulumi-gvisor:index:Ec2Host", name, {}, opts);
    const ec2 = plans.apply((p) => p.ec2);
    const tags = ec2.apply((p) => p.tags);
    const tagged = (suffix: string) => tags.apply((t) => ({ ...t, Name: `${t.Name}-${suffix}` }));
    const parent = { parent: this };

    // Fleet members share their lookups: one AWS call per question, not per host.
    const lookups = lookupsFor(opts?.parent, this);
    const { subnetId, vpcId, vpcCidr } = ec2HostNetwork(args, ec2, root, lookups);

    const ingress = pulumi.all([ec2, vpcCidr]).apply(([p, cidr]) => {
      const allowed = p.sshIngress ?? { ipv4: cidr ? [cidr] : [], ipv6: [] };
      return [
        {
          description: "SSH from the allowed CIDR blocks",
          protocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrBlocks: allowed.ipv4,
          ipv6CidrBlocks: allowed.ipv6,
        },
      ];
    });
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-ssh`,
      {
        vpcId,
        description: "pulumi-gvisor host: SSH from the allowed CIDR blocks only; all egress",
        ingress,
        egress: [
          {
            description: "All egress: OS packages, gVisor releases, container images",
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            ipv6CidrBlocks: ["::/0"],
          },
        ],
        revokeRulesOnDelete: true,
        tags: tagged("ssh"),
      },
      parent,
    );

    // SSH key: an existing key pair, an imported public key, or a generated ED25519 pair.
    let keyName: pulumi.Input<string>;
    let connectionKey: pulumi.Input<string> | undefined = args.privateKey === undefined ? undefined : pulumi.secret(args.privateKey);
    let generatedKey: pulumi.Output<string> | undefined;
    if (args.keyName !== undefined) {
      keyName = args.keyName;
    } else {
      let publicKey: pulumi.Input<string>;
      if (args.publicKey !== undefined) {
        publicKey = args.publicKey;
      } else {
        const key = new tls.PrivateKey(`${name}-ssh-key`, { algorithm: "ED25519" }, parent);
        publicKey = key.publicKeyOpenssh;
        generatedKey = pulumi.secret(key.privateKeyOpenssh);
        connectionKey = generatedKey;
      }
      keyName = new aws.ec2.KeyPair(`${name}-key`, { publicKey, tags: tagged("key") }, parent).keyName;
    }

    // The instance's SSH host key, made here and installed by cloud-init, so
    // every step (destroy included) can pin it from the first dial: without
    // hostKey the provider checks no host key at all.
    const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"] });
    const hostPublicKey = hostKey.publicKeyOpenssh.apply((k) => k.trim());
    const userData = pulumi.secret(pulumi.all([hostKey.privateKeyOpenssh, hostPublicKey]).apply(([priv, pub]) => hostKeyCloudConfig(priv, pub)));

    const ami = args.amiId !== undefined ? pulumi.output(args.amiId) : lookups.once(
            ec2.apply((p) => `ami:${p.amiParameter as string}`),
            (o) => aws.ssm.getParameterOutput({ name: ec2.apply((p) => p.amiParameter as string) }, o).insecureValue,
          );

    const instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami,
        instanceType: ec2.apply((p) => p.instanceType.name),
        subnetId,
        vpcSecurityGroupIds: pulumi.all([securityGroup.id, ec2]).apply(([id, p]) => [id, ...p.securityGroupIds]),
        associatePublicIpAddress: ec2.apply((p) => p.associatePublicIpAddress),
        keyName,
        iamInstanceProfile: args.iamInstanceProfile === undefined ? undefined : ec2.apply((p) => p.iamInstanceProfile as string),
        userData,
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: {
          encrypted: true,
          volumeType: "gp3",
          volumeSize: ec2.apply((p) => p.rootVolumeSize),
          kmsKeyId: args.rootVolumeKmsKeyId,
          deleteOnTermination: true,
          tags: tagged("root"),
        },
        // Only for kvm on C8i/M8i/R8i: nested virtualization turns VSM off.
        cpuOptions: ec2.apply((p) => (p.nestedVirtualization ? { nestedVirtualization: "enabled" } : undefined)) as pulumi.Output<aws.types.input.ec2.InstanceCpuOptions>,
        tags,
      },
      { parent: this, ignoreChanges: args.replaceOnAmiChange === true ? [] : ["ami"] },
    );

    const address = pulumi
      .all([instance.publicIp, instance.privateIp, ec2])
      .apply(([pub, priv, p]) => (p.usePrivateAddress || !pub ? priv : pub));
    const connection: HostConnectionArgs = {
      host: address,
      user: ec2.apply((p) => p.loginUser),
      privateKey: connectionKey,
      hostKey: hostPublicKey,
      proxy: args.proxy,
      dialErrorLimit: ec2.apply((p) => p.sshDialErrorLimit),
      perDialTimeout: PER_DIAL_TIMEOUT,
    };
    const host = new Host(
      name,
      {
        ...setupOf(args),
        arch: ec2.apply((p) => p.arch),
        connection,
        installEngine: true,
        uninstallOnDelete: args.uninstallOnDelete ?? false,
      },
      parent,
    );

    this.instanceId = instance.id;
    this.publicIp = instance.publicIp.apply((ip) => ip ?? "");
    this.privateIp = instance.privateIp;
    this.arch = ec2.apply((p) => p.arch);
    this.instanceType = instance.instanceType;
    this.ami = instance.ami;
    this.sshUser = ec2.apply((p) => p.loginUser);
    this.sshHost = address;
    this.securityGroupId = securityGroup.id;
    this.privateKey = generatedKey ?? pulumi.secret("");
    this.hostPublicKey = hostPublicKey;
    this.verification = host.verification;
    this.isolated = host.isolated;
    this.runscVersion = host.runscVersion;

    this.registerOutputs({
      instanceId: this.instanceId,
      publicIp: this.publicIp,
      privateIp: this.privateIp,
      arch: this.arch,
      instanceType: this.instanceType,
      ami: this.ami,
      sshUser: this.sshUser,
      sshHost: this.sshHost,
      securityGroupId: this.securityGroupId,
      privateKey: this.privateKey,
      hostPublicKey: this.hostPublicKey,
      verification: this.verification,
      isolated: this.isolated,
      runscVersion: this.runscVersion,
    });
  }
}
