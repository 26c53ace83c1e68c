// One x86_64 EC2 host (t3.medium, Ubuntu 24.04) with gVisor registered as the
// Docker runtime `runsc`, verified by running a sandboxed container.
import * as pulumi from "@pulumi/pulumi";
import * as gvisor from "pulumi-gvisor";

const config = new pulumi.Config();

const host = new gvisor.Ec2Host("sandbox", {
  arch: gvisor.Arch.X86_64,
  // Your own address, e.g. 203.0.113.4/32: SSH is open to it alone.
  sshAllowedCidrs: [config.require("sshAllowedCidr")],
  tags: { project: "gvisor-example" },
});

export const instanceId = host.instanceId;
export const instanceType = host.instanceType;
export const publicIp = host.publicIp;
export const isolated = host.isolated;
export const runscVersion = host.runscVersion;
export const verification = host.verification;
/** pulumi stack output --show-secrets sshPrivateKey > sandbox-key && chmod 600 sandbox-key */
export const sshPrivateKey = host.privateKey;
export const ssh = pulumi.interpolate`ssh -i sandbox-key ${host.sshUser}@${host.sshHost}`;
