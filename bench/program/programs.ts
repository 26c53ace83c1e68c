/**
 * The two programs the scale part compares, each declaring `hosts` EC2 hosts
 * with gVisor: this package's Ec2Fleet, and what a user writes without it
 * (the same cloud resources, the lookups done once, and raw remote.Commands
 * that run the hand-written routine).
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { Ec2Fleet } from "../../src/components/ec2-fleet";
import { HAND_RESTART, handConfigure, handInstall, handVerify, type HandWrittenInput } from "../hand-written";

const SSH_FROM = ["203.0.113.4/32"];
const RELEASE = "https://storage.googleapis.com/gvisor/releases/release/20261005.0";
const hostNames = (n: number) => Array.from({ length: n }, (_, i) => `h${i}`);

/** Resolves once every resource of the program is registered and its outputs settled. */
export type ScaleProgram = (hosts: number) => Promise<void>;

export const packageProgram: ScaleProgram = async (hosts) => {
  const fleet = new Ec2Fleet("fleet", { sshAllowedCidrs: SSH_FROM, hosts: hostNames(hosts).map((name) => ({ name })) });
  await settled(fleet.urn);
};

export const baselineProgram: ScaleProgram = async (hosts) => {
  const input: HandWrittenInput = { releaseUrl: RELEASE, layout: "archive", runtimeArgs: ["--network=none"], image: "busybox:latest" };
  const key = new tls.PrivateKey("fleet-ssh-key", { algorithm: "ED25519" });
  const keyPair = new aws.ec2.KeyPair("fleet-key", { publicKey: key.publicKeyOpenssh, tags: { Name: "fleet-key" } });
  const vpc = aws.ec2.getVpcOutput({ default: true });
  const subnets = aws.ec2.getSubnetsOutput({
    filters: [
      { name: "vpc-id", values: [vpc.id] },
      { name: "default-for-az", values: ["true"] },
    ],
  });
  const ami = aws.ssm.getParameterOutput({ name: "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id" }).insecureValue;
  const last: pulumi.Output<string>[] = [];
  for (const name of hostNames(hosts)) {
    const tags = { Name: `fleet-${name}`, "managed-by": "hand" };
    const sg = new aws.ec2.SecurityGroup(`fleet-${name}-ssh`, {
      vpcId: vpc.id,
      description: "SSH",
      ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: SSH_FROM }],
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
      tags,
    });
    const instance = new aws.ec2.Instance(`fleet-${name}-instance`, {
      ami,
      instanceType: "t3.medium",
      subnetId: subnets.ids.apply((ids) => [...ids].sort()[0]!),
      vpcSecurityGroupIds: [sg.id],
      keyName: keyPair.keyName,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 20, deleteOnTermination: true },
      tags,
    });
    const connection = { host: instance.publicIp, user: "ubuntu", privateKey: key.privateKeyOpenssh };
    const run = (step: string, create: string, after: pulumi.Resource[]) =>
      new command.remote.Command(`fleet-${name}-${step}`, { connection, create: `sudo sh -c ${JSON.stringify(create)}` }, { dependsOn: after });
    const engine = run("engine", "apt-get update && apt-get install -y docker.io jq curl", [instance]);
    const install = run("install", handInstall(input), [engine]);
    const configure = run("configure-docker", `${handConfigure(input)}\n${HAND_RESTART}`, [install]);
    last.push(run("verify", handVerify(input), [configure]).urn);
  }
  await settled(pulumi.all(last));
};

/** Waits for a URN (known in preview too), then for the SDK's queue of registrations to drain. */
async function settled(o: pulumi.Output<unknown>): Promise<void> {
  await new Promise<void>((resolve) => o.apply(() => resolve()));
  await pulumi.runtime.disconnect();
}

export const PROGRAMS = { package: packageProgram, baseline: baselineProgram } as const;
export type ProgramName = keyof typeof PROGRAMS;
