// The repository's own Pulumi program: a fleet of gVisor hosts on EC2 from
// stack config. Quick start (local state, no account):
//   pulumi login --local && pulumi stack init dev
//   pulumi config set aws:region us-east-1
//   pulumi config set sshAllowedCidrs 203.0.113.4/32     # your own address
//   pulumi up
// Config keys: see program/config.ts and Pulumi.dev.example.yaml.
import * as pulumi from "@pulumi/pulumi";
import { Ec2Fleet } from "../src/components/ec2-fleet";
import { ProgramConfigError, fleetArgsFromConfig } from "./config";

const config = new pulumi.Config();

function args() {
  try {
    return fleetArgsFromConfig((key) => config.get(key));
  } catch (err) {
    // A RunError prints as one message, without a stack trace.
    if (err instanceof ProgramConfigError) throw new pulumi.RunError(`config ${err.message}`);
    throw err;
  }
}

const fleet = new Ec2Fleet("gvisor", args());

/** Per host: instance id, arch, type, AMI, addresses, SSH user, isolated, runsc version. */
export const hosts = fleet.hosts;
/** True when every host ran a sandboxed container with gVisor's own kernel. */
export const allIsolated = fleet.allIsolated;
/** Per host: the verify step's full report. */
export const verification = fleet.verifications;
/** The generated SSH key (secret; empty when `publicKey` is set): pulumi stack output --show-secrets sshPrivateKey > gvisor-key */
export const sshPrivateKey = fleet.privateKey;
/** Per host: the command to log in with that key. */
export const sshCommands = fleet.hosts.apply((all) =>
  Object.fromEntries(Object.entries(all).map(([name, h]) => [name, `ssh -i gvisor-key ${h.sshUser}@${h.sshHost}`])),
);
