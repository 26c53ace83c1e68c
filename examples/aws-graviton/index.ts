// One Graviton (arm64) EC2 host on Amazon Linux 2023, with gVisor registered
// with Docker and with containerd (the CRI runtime handler `runsc`).
import * as pulumi from "@pulumi/pulumi";
import * as gvisor from "pulumi-gvisor";

const config = new pulumi.Config();

const host = new gvisor.Ec2Host("graviton", {
  // The arch follows from the type: the "g" after the generation is Graviton.
  instanceType: config.get("instanceType") ?? "t4g.medium",
  os: gvisor.Ec2Os.AmazonLinux2023,
  sshAllowedCidrs: [config.require("sshAllowedCidr")],
  containerd: { enabled: true },
  runsc: { network: gvisor.RunscNetwork.Sandbox },
});

export const instanceId = host.instanceId;
export const arch = host.arch;
export const ami = host.ami;
export const publicIp = host.publicIp;
export const isolated = host.isolated;
export const verification = host.verification;
/** pulumi stack output --show-secrets sshPrivateKey > graviton-key && chmod 600 graviton-key */
export const sshPrivateKey = host.privateKey;
export const ssh = pulumi.interpolate`ssh -i graviton-key ${host.sshUser}@${host.sshHost}`;
