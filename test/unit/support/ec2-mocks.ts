import * as pulumi from "@pulumi/pulumi";
import { Registered } from "./mocks";

/** An AWS provider function call the mock engine answered. */
export interface Called {
  token: string;
  inputs: Record<string, any>;
}

/** AMI id the mock SSM parameter store returns for a parameter name. */
export function amiFor(parameter: string): string {
  let h = 0;
  for (const c of parameter) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `ami-${h.toString(16).padStart(8, "0")}0000000${parameter.includes("arm64") ? "a" : "b"}`;
}

export const DEFAULT_VPC = { id: "vpc-0d0d0d0d0d0d0d0d0", cidrBlock: "172.31.0.0/16" };
export const SUBNET_VPC = { id: "vpc-0e0e0e0e0e0e0e0e0", cidrBlock: "10.20.0.0/16" };
export const DEFAULT_SUBNETS = ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa", "subnet-0cccccccccccccccc"];
export const GENERATED_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZ2VuZXJhdGVkLWtleQ==\n-----END OPENSSH PRIVATE KEY-----\n";
export const GENERATED_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdlbmVyYXRlZC0tLS0tLS0tLS0tLS0tLS0tLS0tLS0t pulumi-gvisor";
/** What the mock tls provider returns for a host key (resources named `*-host-key`). */
export const GENERATED_HOST_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\naG9zdC1rZXktbGluZS0x\naG9zdC1rZXktbGluZS0y\n-----END OPENSSH PRIVATE KEY-----\n";
export const GENERATED_HOST_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhvc3Qta2V5LS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0t";

/** A verify report as the verify step prints it. */
export function verifyReport(arch: string, isolated = true) {
  return {
    schemaVersion: 2,
    runscVersion: "release-20261020.0",
    arch,
    hostKernel: "6.8.0-1019-aws",
    runtimes: [
      isolated
        ? { engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: true, error: null }
        : {
            engine: "docker",
            name: "runsc",
            ran: true,
            sandboxKernel: "6.8.0-1019-aws",
            kallsymsHidden: false,
            runtimePath: "/usr/local/bin/runsc",
            sandboxProcess: true,
            error: "the container reports the host kernel 6.8.0-1019-aws, so it is not running under gVisor",
          },
    ],
    containerd: null,
    isolated,
    failures: isolated ? [] : ["docker/runsc: the container reports the host kernel 6.8.0-1019-aws, so it is not running under gVisor"],
  };
}

export interface Ec2World {
  registered: Registered[];
  calls: Called[];
  /** Explicit dependsOn of each resource, by resource name (recorded by `transformations`). */
  dependsOn: Map<string, string[]>;
  /** Resource options seen by `transformations`, by resource name. */
  options: Map<string, pulumi.CustomResourceOptions>;
  /** Pass as `transformations` on the component under test: children inherit it. */
  transformations: pulumi.ResourceTransformation[];
  byType(type: string): Registered[];
  one(type: string, name?: string): Registered;
}

export interface Ec2WorldOptions {
  preview?: boolean;
  project?: string;
  /** Default subnets the default VPC has. */
  defaultSubnets?: string[];
  /** Hosts (by Ec2Host resource name prefix) whose verify step reports "not isolated". */
  notIsolated?: string[];
}

/**
 * Installs Pulumi's mock engine with answers for the AWS lookups an Ec2Host
 * makes and plausible outputs for the resources it creates. In preview mode
 * outputs are unknown, as in a real preview.
 */
export function useEc2Mocks(opts: Ec2WorldOptions = {}): Ec2World {
  const preview = opts.preview ?? false;
  const registered: Registered[] = [];
  const calls: Called[] = [];
  let instances = 0;
  const archByHost = new Map<string, string>();

  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const r = { type: args.type, name: args.name, inputs: args.inputs };
        registered.push(r);
        const state: Record<string, unknown> = { ...args.inputs };
        let id = `${args.name}-id`;
        if (!preview) {
          switch (args.type) {
            case "aws:ec2/instance:Instance": {
              instances += 1;
              id = `i-0${String(instances).padStart(16, "0")}`;
              const host = args.name.replace(/-instance$/, "");
              archByHost.set(host, /^[a-z]+[0-9]+g|^a1\./.test(args.inputs.instanceType) ? "aarch64" : "x86_64");
              state.publicIp = args.inputs.associatePublicIpAddress === false ? "" : `203.0.113.${instances}`;
              state.privateIp = `10.0.0.${instances}`;
              state.arn = `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;
              break;
            }
            case "aws:ec2/securityGroup:SecurityGroup":
              id = `sg-0${args.name.length.toString(16).padStart(16, "0")}`;
              break;
            case "aws:ec2/keyPair:KeyPair":
              state.keyName = `${args.name}-kp`;
              break;
            case "tls:index/privateKey:PrivateKey": {
              const hostKey = args.name.endsWith("-host-key");
              state.privateKeyOpenssh = hostKey ? GENERATED_HOST_KEY : GENERATED_KEY;
              // The tls provider ends public keys with a newline (the host key shows it is trimmed).
              state.publicKeyOpenssh = hostKey ? `${GENERATED_HOST_PUBLIC_KEY}\n` : GENERATED_PUBLIC_KEY;
              break;
            }
            case "command:remote:Command": {
              if (args.name.endsWith("-verify")) {
                const host = args.name.replace(/-verify$/, "");
                const arch = archByHost.get(host) ?? "x86_64";
                state.stdout = JSON.stringify(verifyReport(arch, !(opts.notIsolated ?? []).includes(host)));
              } else {
                state.stdout = "{}";
              }
              state.stderr = "";
              break;
            }
          }
        }
        return { id: preview ? undefined : id, state };
      },
      call(args) {
        calls.push({ token: args.token, inputs: args.inputs });
        switch (args.token) {
          case "aws:ssm/getParameter:getParameter": {
            const name = String(args.inputs.name);
            const ami = amiFor(name);
            return { arn: `arn:aws:ssm:us-east-1::parameter${name}`, id: name, name, type: "String", value: ami, insecureValue: ami, version: 7, region: "us-east-1" };
          }
          case "aws:ec2/getVpc:getVpc":
            return args.inputs.default === true ? { ...DEFAULT_VPC, default: true } : { id: args.inputs.id, cidrBlock: SUBNET_VPC.cidrBlock, default: false };
          case "aws:ec2/getSubnets:getSubnets":
            return { id: "us-east-1", ids: opts.defaultSubnets ?? DEFAULT_SUBNETS, filters: args.inputs.filters };
          case "aws:ec2/getSubnet:getSubnet":
            return { id: args.inputs.id, vpcId: SUBNET_VPC.id, availabilityZone: "us-east-1b", cidrBlock: "10.20.1.0/24" };
          default:
            return args.inputs;
        }
      },
    },
    opts.project ?? "pulumi-gvisor-test",
    "test",
    preview,
  );

  const dependsOn = new Map<string, string[]>();
  const options = new Map<string, pulumi.CustomResourceOptions>();
  const transformations: pulumi.ResourceTransformation[] = [
    (t) => {
      const deps = (t.opts.dependsOn ?? []) as pulumi.Resource[];
      dependsOn.set(t.name, (Array.isArray(deps) ? deps : [deps]).map((d) => (d as any).__name));
      options.set(t.name, t.opts as pulumi.CustomResourceOptions);
      return undefined;
    },
  ];
  const byType = (type: string) => registered.filter((r) => r.type === type);
  return {
    registered,
    calls,
    dependsOn,
    options,
    transformations,
    byType,
    one(type, name) {
      const found = byType(type).filter((r) => name === undefined || r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
      return found[0];
    },
  };
}
