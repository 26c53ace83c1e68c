import * as pulumi from "@pulumi/pulumi";
import { Arch } from "../plan/arch";
import { Ec2Os } from "../plan/ec2";
import { GvisorSetupArgs, ProxyConnectionArgs } from "./host-args";

/**
 * How one EC2 gVisor host is provisioned, on top of the gVisor setup every
 * host takes (version, runsc options, Docker, containerd, verification).
 */
export interface Ec2HostArgs extends GvisorSetupArgs {
  /**
   * CPU architecture: `x86_64` (Intel/AMD) or `arm64` (Graviton). Derived from
   * `instanceType` when omitted; a mismatch with `instanceType` is refused.
   * Also checked on the host by the install step.
   * Defaults to the arch of `instanceType`, or `x86_64` when neither is given.
   * @default the arch of `instanceType`, or `x86_64` when neither is given
   */
  arch?: pulumi.Input<Arch>;
  /**
   * EC2 instance type. Graviton families (t4g, m7g, c7gn, r8g, …) are arm64.
   * Defaults to `t3.medium` for x86_64, `t4g.medium` for arm64.
   * @default "t3.medium" for x86_64, "t4g.medium" for arm64
   */
  instanceType?: pulumi.Input<string>;
  /**
   * Operating system. Its current AMI for the arch is read from AWS's public
   * SSM parameters, and it decides the SSH login user.
   * Defaults to `ubuntu-24.04`.
   * @default "ubuntu-24.04"
   */
  os?: pulumi.Input<Ec2Os>;
  /**
   * An explicit AMI id instead of the current public image. It must be an
   * image of `os` for `arch` (the login user and package manager follow `os`).
   * Defaults to the current image of `os` for the arch.
   * @default the current image of `os` for the arch
   */
  amiId?: pulumi.Input<string>;
  /**
   * Replace the instance when a newer AMI is published (or `amiId` changes).
   * Off by default: a running host is kept, and only new hosts get the newer image.
   * A plain value: it is a resource option.
   * Defaults to `false`.
   * @default false
   */
  replaceOnAmiChange?: boolean;
  /** SSH login user. Defaults to `ubuntu` for Ubuntu, `ec2-user` for Amazon Linux. @default "ubuntu" for Ubuntu, "ec2-user" for Amazon Linux */
  sshUser?: pulumi.Input<string>;
  /**
   * CIDR blocks allowed to reach SSH (port 22), IPv4 or IPv6, e.g.
   * `["203.0.113.4/32"]`. Required unless `proxy` is given. Blocks wider than
   * /16 (IPv4) or /48 (IPv6), such as `0.0.0.0/0` or `10.0.0.0/8`, need
   * `allowSshFromAnywhere`. Defaults to the VPC's IPv4 CIDR when `proxy` is
   * given; required otherwise.
   * @default with `proxy`: the VPC's IPv4 CIDR; otherwise required
   */
  sshAllowedCidrs?: pulumi.Input<pulumi.Input<string>[]>;
  /** Accept SSH from `0.0.0.0/0`, `::/0` or other blocks wider than /16 (IPv4) or /48 (IPv6). Defaults to `false`. @default false */
  allowSshFromAnywhere?: pulumi.Input<boolean>;
  /**
   * A bastion to reach the host through. The host is then private (no public
   * IP unless `associatePublicIpAddress`) and reached at its private address.
   * Defaults to direct connection.
   * @default direct connection
   */
  proxy?: pulumi.Input<ProxyConnectionArgs>;
  /** Give the instance a public IPv4 address. Defaults to `true`, or `false` when `proxy` is given. @default true, or false when `proxy` is given */
  associatePublicIpAddress?: pulumi.Input<boolean>;
  /** Subnet to launch in. Defaults to a default subnet of the default VPC (the first by id). @default a default subnet of the default VPC (the first by id) */
  subnetId?: pulumi.Input<string>;
  /** VPC of `subnetId` (looked up from the subnet when omitted). Needs `subnetId`. Defaults to the subnet's VPC. @default the subnet's VPC */
  vpcId?: pulumi.Input<string>;
  /** Zone for the default VPC's subnet (some types exist only in some zones). Not with `subnetId`. Defaults to any zone. @default any */
  availabilityZone?: pulumi.Input<string>;
  /** Further security groups to attach, besides the SSH-only group created here. Defaults to `[]`. @default [] */
  securityGroupIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** Root volume size in GiB (encrypted gp3). Defaults to `20`. @default 20 */
  rootVolumeSize?: pulumi.Input<number>;
  /** KMS key for the root volume's encryption. Defaults to the account's default EBS key. @default the account's default EBS key */
  rootVolumeKmsKeyId?: pulumi.Input<string>;
  /** IAM instance profile name. Defaults to none: the instance gets no AWS credentials. @default none: the instance gets no AWS credentials */
  iamInstanceProfile?: pulumi.Input<string>;
  /**
   * An OpenSSH public key to import as the instance's key pair. Without it,
   * `keyName` or a generated ED25519 pair is used.
   * Defaults to a generated ED25519 key pair.
   * @default a generated ED25519 key pair
   */
  publicKey?: pulumi.Input<string>;
  /** Name of an existing EC2 key pair. Not with `publicKey`. Defaults to a new key pair. @default a new key pair */
  keyName?: pulumi.Input<string>;
  /**
   * The private half of `publicKey` or `keyName`, for the SSH connection.
   * Secret: pass it as a secret (it is kept secret in state). Without it the SSH agent (`SSH_AUTH_SOCK`) is used.
   * Defaults to the generated key's private half, or the SSH agent.
   * @default the generated key, or the SSH agent
   */
  privateKey?: pulumi.Input<string>;
  /** SSH dial attempts before giving up (a fresh instance takes a while to accept SSH). Defaults to `30`. @default 30 */
  sshDialErrorLimit?: pulumi.Input<number>;
  /** Run the uninstall step before the resource is deleted (the instance is terminated anyway). Defaults to `false`. @default false */
  uninstallOnDelete?: pulumi.Input<boolean>;
  /** Tags for everything created, merged over `Name` and `managed-by: pulumi-gvisor`. Defaults to `{}`. @default {} */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/** One host of an Ec2Fleet: a name plus overrides of the fleet's settings. */
export interface Ec2FleetHostArgs extends Ec2HostArgs {
  /** Host name: 1 to 40 lowercase letters, digits or '-'. Names the resources and the Name tag. */
  name: string;
}

/** Arguments of Ec2Fleet: settings shared by every host, and the hosts. */
export interface Ec2FleetArgs extends Ec2HostArgs {
  /**
   * The hosts, e.g. `[{ name: "arm-1", arch: "arm64" }, { name: "x86-1" }]`.
   * Each host's fields override the shared ones (`tags` are merged). A plain
   * list: it decides which resources exist.
   */
  hosts: Ec2FleetHostArgs[];
}
