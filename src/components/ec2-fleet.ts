import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { shareLookups } from "./lookups";
import * as tls from "@pulumi/tls";
import { Arch } from "../plan/arch";
import { checkFleetHosts, mergeTags } from "../plan/ec2";
import { Verification } from "../plan/verification";
import { Ec2FleetArgs, Ec2FleetHostArgs, Ec2HostArgs } from "./ec2-host-args";
import { Ec2Host, checkEc2HostArgs, withPropertyRoot } from "./ec2-host";
import { asInputError, bareReason, collectInputErrors, inputPropertyError } from "./validate";
import { isKnownNow } from "./unknown-values";

/** What a fleet reports about each host. */
export interface Ec2FleetHostSummary {
  /** EC2 instance id. */
  instanceId: string;
  /** `x86_64` or `arm64`. */
  arch: Arch;
  /** EC2 instance type. */
  instanceType: string;
  /** AMI the instance was launched from. */
  ami: string;
  /** Public IPv4 address (empty for a private host). */
  publicIp: string;
  /** Private IPv4 address. */
  privateIp: string;
  /** SSH login user. */
  sshUser: string;
  /** The address SSH uses (public, or private behind a proxy). */
  sshHost: string;
  /** True when the host ran a sandbox with gVisor's own kernel. */
  isolated: boolean;
  /** runsc version on the host. */
  runscVersion: string;
}

/** A host spec uses the fleet's key when it names no key of its own. */
const usesFleetKey = (spec: Ec2FleetHostArgs) => spec.keyName === undefined && spec.publicKey === undefined && spec.privateKey === undefined;

/** Shared tags merged with a host's own (the host's win). Plain when both are plain, so preview can validate. */
function mergeTagInputs(shared: Ec2HostArgs["tags"], own: Ec2HostArgs["tags"]): Ec2HostArgs["tags"] {
  if (shared === undefined) return own;
  if (own === undefined) return shared;
  if (isKnownNow(shared) && isKnownNow(own)) return { ...(shared as Record<string, string>), ...(own as Record<string, string>) };
  return pulumi.all([shared, own]).apply(([a, b]) => ({ ...a, ...b }));
}

// Each fleet's Ec2Host components, kept beside the class rather than in a
// field: the multi-language schema would read a field of components as a
// resource reference it cannot resolve.
const fleetMembers = new WeakMap<object, { [name: string]: Ec2Host }>();

/**
 * One member's args: the shared settings under the host's own (tags merged).
 * A host that names a key of its own takes none of the fleet's key settings;
 * the others take the fleet's key pair when there is one.
 */
function memberArgs(
  shared: Ec2HostArgs,
  spec: Ec2FleetHostArgs,
  fleetKey: { keyName: pulumi.Input<string>; privateKey?: pulumi.Input<string> } | undefined,
): Ec2HostArgs {
  const own: Ec2HostArgs & { name?: string } = { ...spec };
  delete own.name;
  const key = !usesFleetKey(spec)
    ? { keyName: own.keyName, publicKey: own.publicKey, privateKey: own.privateKey }
    : fleetKey !== undefined
      ? { keyName: fleetKey.keyName, publicKey: undefined, privateKey: fleetKey.privateKey }
      : { keyName: shared.keyName, publicKey: shared.publicKey, privateKey: shared.privateKey };
  return { ...shared, ...own, ...key, tags: mergeTagInputs(shared.tags, own.tags) };
}

/**
 * A bad value a member inherited from the fleet's shared settings is the
 * fleet's: `args.hosts[1].sshAllowedCidrs[0]` becomes `args.sshAllowedCidrs[0]`
 * when host 1 does not set sshAllowedCidrs itself. So does a required setting
 * that no host sets.
 */
function blameSharedSetting(err: unknown, hosts: Ec2FleetHostArgs[], i: number, shared: Ec2HostArgs, root: string): unknown {
  if (!(err instanceof pulumi.InputPropertyError) || !err.propertyPath.startsWith(`${root}.`)) return err;
  const rest = err.propertyPath.slice(root.length + 1);
  const key = /^[A-Za-z0-9]+/.exec(rest)?.[0] as keyof Ec2HostArgs | undefined;
  if (key === undefined || key === "tags" || hosts[i][key] !== undefined) return err;
  // Inherited from the fleet, or missing everywhere (then it belongs at the fleet level too).
  if (shared[key] === undefined && hosts.some((h) => h[key] !== undefined)) return err;
  return inputPropertyError(`args.${rest}`, bareReason(err));
}

/**
 * A set of gVisor hosts on EC2 from a list of specs: mixed arches and types,
 * e.g. two Graviton hosts and one x86_64. Each host is an Ec2Host named
 * `<fleet>-<host>`; they share one key pair (given or generated) and nothing
 * else, and nothing in one host's chain waits on another's, so they are
 * provisioned in parallel.
 */
export class Ec2Fleet extends pulumi.ComponentResource {
  /** Per host name: addresses, type, AMI and whether it is isolated. */
  public readonly hosts: pulumi.Output<{ [name: string]: Ec2FleetHostSummary }>;
  /** Per host name: the verify step's full report. */
  public readonly verifications: pulumi.Output<{ [name: string]: Verification }>;
  /** True when every host verified isolated. */
  public readonly allIsolated: pulumi.Output<boolean>;
  /** The generated SSH private key shared by the hosts (OpenSSH, secret); empty when a key was given. */
  public readonly privateKey: pulumi.Output<string>;

  constructor(name: string, args: Ec2FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    const { hosts, ...shared } = args;
    const names = asInputError(() => checkFleetHosts(hosts, "args.hosts"));
    const ownsKey = shared.keyName === undefined && hosts.some(usesFleetKey) && (shared.publicKey !== undefined || shared.privateKey === undefined);
    // Members are validated before anything registers (a placeholder stands
    // in for the fleet's key pair, which does not exist yet).
    const placeholder = ownsKey ? { keyName: "fleet-key-pair" as pulumi.Input<string>, privateKey: undefined } : undefined;
    // Members are independent: every bad one is reported in the same preview.
    collectInputErrors(
      hosts.map((spec, i) => () => {
        try {
          checkEc2HostArgs(`${name}-${spec.name}`, memberArgs(shared, spec, placeholder), `args.hosts[${i}]`);
        } catch (err) {
          throw blameSharedSetting(err, hosts, i, shared, `args.hosts[${i}]`);
        }
      }),
      // A shared setting every member inherits is one problem, reported once.
      (e) => (e.propertyPath.startsWith("args.hosts[") ? e.reason : e.propertyPath),
    );
    super("pulumi-gvisor:index:Ec2Fleet", name, {}, opts);
    const parent = { parent: this };

    // One key pair for every host that names none of its own.
    let fleetKey: { keyName: pulumi.Input<string>; privateKey?: pulumi.Input<string> } | undefined;
    let generated: pulumi.Output<string> | undefined;
    if (ownsKey) {
      const tags = asInputError(() => (isKnownNow(shared.tags) ? mergeTags(`${name}-key`, shared.tags, "args.tags") : undefined));
      let publicKey: pulumi.Input<string>;
      if (shared.publicKey !== undefined) {
        publicKey = shared.publicKey;
      } else {
        const key = new tls.PrivateKey(`${name}-ssh-key`, { algorithm: "ED25519" }, parent);
        publicKey = key.publicKeyOpenssh;
        generated = pulumi.secret(key.privateKeyOpenssh);
      }
      const keyPair = new aws.ec2.KeyPair(
        `${name}-key`,
        {
          publicKey,
          tags: tags ?? pulumi.output(shared.tags).apply((t) => mergeTags(`${name}-key`, t, "args.tags")),
        },
        parent,
      );
      fleetKey = { keyName: keyPair.keyName, privateKey: shared.publicKey !== undefined ? shared.privateKey : generated };
    }

    const members: { [name: string]: Ec2Host } = {};
    fleetMembers.set(this, members);
    shareLookups(this);
    hosts.forEach((spec, i) => {
      // No dependsOn between members: each host's chain is its own.
      const merged = withPropertyRoot(memberArgs(shared, spec, fleetKey), `args.hosts[${i}]`);
      members[spec.name] = new Ec2Host(`${name}-${spec.name}`, merged, parent);
    });

    const summaries = names.map((n) => {
      const h = members[n];
      return pulumi
        .output({
          instanceId: h.instanceId,
          arch: h.arch,
          instanceType: h.instanceType,
          ami: h.ami,
          publicIp: h.publicIp,
          privateIp: h.privateIp,
          sshUser: h.sshUser,
          sshHost: h.sshHost,
          isolated: h.isolated,
          runscVersion: h.runscVersion,
        })
        .apply((s): [string, Ec2FleetHostSummary] => [n, s]);
    });
    this.hosts = pulumi.all(summaries).apply((entries) => Object.fromEntries(entries));
    this.verifications = pulumi
      .all(names.map((n) => members[n].verification.apply((v): [string, Verification] => [n, v])))
      .apply((entries) => Object.fromEntries(entries));
    this.allIsolated = pulumi.all(names.map((n) => members[n].isolated)).apply((all) => all.every((x) => x === true));
    this.privateKey = generated ?? pulumi.secret("");

    this.registerOutputs({
      hosts: this.hosts,
      verifications: this.verifications,
      allIsolated: this.allIsolated,
      privateKey: this.privateKey,
    });
  }

  /** The Ec2Host component of one host, by its name in `hosts`. */
  public member(name: string): Ec2Host {
    const members = fleetMembers.get(this) ?? {};
    const host = members[name];
    if (host === undefined) throw new Error(`Ec2Fleet has no host named ${JSON.stringify(name)}; hosts: ${Object.keys(members).join(", ")}`);
    return host;
  }
}
