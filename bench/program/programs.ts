/**
 * The two programs the scale part compares, each declaring `hosts` EC2 hosts
 * with gVisor: this package's Ec2Fleet, and what a user writes without it:
 * the same cloud resources (one key pair; per host a security group, an SSH
 * host key installed by cloud-init and pinned, an instance with IMDSv2 and an
 * encrypted root), the lookups done once, and the same command shape by
 * hand: per host one upload of the hand-written routine as a script
 * (remote.CopyToRemote), a command whose delete uninstalls, and one short
 * remote.Command per step calling a section of that script.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { Ec2Fleet } from "../../src/components/ec2-fleet";
import { handScript, type HandWrittenInput } from "../hand-written";

const SSH_FROM = ["203.0.113.4/32"];
const RELEASE = "https://storage.googleapis.com/gvisor/releases/release/20261005.0";
const hostNames = (n: number) => Array.from({ length: n }, (_, i) => `h${i}`);

/** Resolves once every resource of the program is registered and its outputs settled. */
export type ScaleProgram = (hosts: number) => Promise<void>;

export const packageProgram: ScaleProgram = async (hosts) => {
  const fleet = new Ec2Fleet("fleet", { sshAllowedCidrs: SSH_FROM, hosts: hostNames(hosts).map((name) => ({ name })) });
  await settled(fleet.urn);
};

/** cloud-init user data that installs a generated SSH host key (what a user pins in `hostKey`). */
const hostKeyUserData = (priv: string, pub: string) =>
  [
    "#cloud-config",
    "ssh_deletekeys: true",
    "ssh_genkeytypes: []",
    "ssh_keys:",
    "  ed25519_private: |",
    ...priv
      .trim()
      .split("\n")
      .map((l) => `    ${l}`),
    `  ed25519_public: ${JSON.stringify(pub.trim())}`,
    "",
  ].join("\n");

export const baselineProgram: ScaleProgram = async (hosts) => {
  const input: HandWrittenInput = { releaseUrl: RELEASE, layout: "archive", runtimeArgs: ["--network=none"], image: "busybox:latest" };
  const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), "gvisor-bench-hand-"));
  const scriptFile = path.join(scriptDir, "gvisor-setup.sh");
  fs.writeFileSync(scriptFile, handScript(input));
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
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
      revokeRulesOnDelete: true,
      tags,
    });
    const hostKey = new tls.PrivateKey(
      `fleet-${name}-host-key`,
      { algorithm: "ED25519" },
      { additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"] },
    );
    const instance = new aws.ec2.Instance(`fleet-${name}-instance`, {
      ami,
      instanceType: "t3.medium",
      subnetId: subnets.ids.apply((ids) => [...ids].sort()[0]!),
      vpcSecurityGroupIds: [sg.id],
      keyName: keyPair.keyName,
      userData: pulumi.secret(pulumi.all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh]).apply(([priv, pub]) => hostKeyUserData(priv, pub))),
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 20, deleteOnTermination: true },
      tags,
    });
    const connection = { host: instance.publicIp, user: "ubuntu", privateKey: key.privateKeyOpenssh, hostKey: hostKey.publicKeyOpenssh };
    const remotePath = "/var/tmp/gvisor-setup.sh";
    const call = (section: string) => `sudo sh ${remotePath} ${section}`;
    const lifecycle = new command.remote.Command(
      `fleet-${name}-lifecycle`,
      { connection, create: "true", delete: call("uninstall") },
      { dependsOn: [instance] },
    );
    const upload = new command.remote.CopyToRemote(
      `fleet-${name}-script`,
      { connection, source: new pulumi.asset.FileAsset(scriptFile), remotePath },
      { dependsOn: [lifecycle] },
    );
    const run = (step: string, after: pulumi.Resource[]) =>
      new command.remote.Command(`fleet-${name}-${step}`, { connection, create: call(step) }, { dependsOn: after });
    const engine = run("engine", [upload]);
    const install = run("install", [engine]);
    const docker = run("configure-docker", [install]);
    const containerd = run("configure-containerd", [install]);
    last.push(run("verify", [docker, containerd]).urn);
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
