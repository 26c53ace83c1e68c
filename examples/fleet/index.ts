// A mixed fleet: two Graviton hosts and one x86_64 host, provisioned in
// parallel, sharing one generated SSH key pair, each verified on its own.
import * as pulumi from "@pulumi/pulumi";
import * as gvisor from "pulumi-gvisor";

const config = new pulumi.Config();

const fleet = new gvisor.Ec2Fleet("sandboxes", {
  sshAllowedCidrs: [config.require("sshAllowedCidr")],
  tags: { project: "gvisor-example" },
  hosts: [
    { name: "arm-1", arch: gvisor.Arch.Arm64 },
    { name: "arm-2", instanceType: "c7g.large" },
    { name: "x86-1", arch: gvisor.Arch.X86_64, os: gvisor.Ec2Os.AmazonLinux2023 },
  ],
});

/** Per host: instance id, arch, type, AMI, addresses, SSH user, isolated, runsc version. */
export const hosts = fleet.hosts;
export const allIsolated = fleet.allIsolated;
export const verifications = fleet.verifications;
/** pulumi stack output --show-secrets sshPrivateKey > fleet-key && chmod 600 fleet-key */
export const sshPrivateKey = fleet.privateKey;
