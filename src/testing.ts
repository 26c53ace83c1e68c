/**
 * Pulumi mocks for unit tests of programs that use pulumi-gvisor:
 * `import { setGvisorMocks } from "pulumi-gvisor/testing"`.
 *
 * The components look things up (an AMI id from AWS's public SSM parameters,
 * the default VPC and its subnets, a subnet's VPC, GKE's RuntimeClass) and read
 * provider outputs (an instance's IP, a generated key, the verify step's
 * report). These mocks answer each of them with plausible values, so a program
 * runs under `pulumi.runtime.setMocks` without a cloud or a host, and pass
 * everything else to your own mocks.
 *
 * @packageDocumentation
 */
import * as pulumi from "@pulumi/pulumi";
import { parseInstanceType } from "./plan/ec2";
import { GKE_SANDBOX } from "./plan/kubernetes";
import { VERIFICATION_SCHEMA_VERSION, Verification } from "./plan/verification";

/** What the mocks answer; every field has a default. */
export interface GvisorMocksOptions {
  /**
   * Hosts whose verify step reports `isolated: false`, by component name
   * (the `Host` or `Ec2Host` name; a fleet member is `<fleet>-<member>`).
   * Defaults to none: every host reports isolated.
   */
  notIsolated?: string[];
  /** The default VPC the `aws.ec2.getVpc({ default: true })` lookup returns. Defaults to `vpc-0d0d0d0d0d0d0d0d0`, `172.31.0.0/16`. */
  defaultVpc?: { id: string; cidrBlock: string };
  /** Subnet ids `aws.ec2.getSubnets` returns for the default VPC. Defaults to three ids, `subnet-0aaa…`, `subnet-0bbb…`, `subnet-0ccc…`. */
  defaultSubnets?: string[];
  /** The AMI id for an SSM parameter name. Defaults to a stable fake id derived from the name. */
  amiId?: (parameterName: string) => string;
  /** The runsc version the verify report shows. Defaults to `release-20261005.0`. */
  runscVersion?: string;
  /** Your own mocks: called for every resource and call these mocks do not answer. Defaults to echoing the inputs. */
  next?: Partial<pulumi.runtime.Mocks>;
}

/** Where the mocks run; passed on to `pulumi.runtime.setMocks`. */
export interface SetGvisorMocksOptions extends GvisorMocksOptions {
  /** Project name. Defaults to `project`. */
  project?: string;
  /** Stack name. Defaults to `stack`. */
  stack?: string;
  /** Preview mode: outputs the program does not give are unknown, as in `pulumi preview`. Defaults to `false`. */
  preview?: boolean;
}

/** A stable, fake AMI id for an SSM parameter name (arm64 parameters end in `a`). */
export function fakeAmiId(parameterName: string): string {
  let h = 0;
  for (const c of parameterName) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `ami-${h.toString(16).padStart(8, "0")}0000000${/arm64/.test(parameterName) ? "a" : "b"}`;
}

/** A verify report as the verify step prints it: one runtime, `docker`/`runsc`. */
export function fakeVerification(arch: string, isolated: boolean, runscVersion: string): Verification {
  const hostKernel = "6.8.0-1019-aws";
  const error = `the container reports the host kernel ${hostKernel}, so it is not running under gVisor`;
  return {
    runscVersion,
    arch,
    hostKernel,
    runtimes: [
      isolated
        ? {
            engine: "docker",
            name: "runsc",
            ran: true,
            sandboxKernel: "4.4.0",
            kallsymsHidden: true,
            runtimePath: "/usr/local/bin/runsc",
            sandboxProcess: true,
          }
        : {
            engine: "docker",
            name: "runsc",
            ran: true,
            sandboxKernel: hostKernel,
            kallsymsHidden: false,
            runtimePath: "/usr/local/bin/runsc",
            sandboxProcess: false,
            error,
          },
    ],
    isolated,
    failures: isolated ? [] : [`docker/runsc: ${error}`],
  };
}

const DEFAULT_VPC = { id: "vpc-0d0d0d0d0d0d0d0d0", cidrBlock: "172.31.0.0/16" };
const DEFAULT_SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb", "subnet-0cccccccccccccccc"];
const FAKE_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZS1rZXktZm9yLXRlc3Rz\n-----END OPENSSH PRIVATE KEY-----\n";
const FAKE_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Uta2V5LWZvci10ZXN0cy0tLS0tLS0tLS0tLS0t pulumi-gvisor";

/**
 * Mocks that answer the lookups and provider outputs pulumi-gvisor's
 * components use; pass them to `pulumi.runtime.setMocks` yourself, or use
 * {@link setGvisorMocks}. In preview mode the SDK leaves resource outputs
 * unknown whatever a mock returns, as a real preview does.
 */
export function gvisorMocks(options: GvisorMocksOptions = {}): pulumi.runtime.Mocks {
  const notIsolated = new Set(options.notIsolated ?? []);
  const amiId = options.amiId ?? fakeAmiId;
  const vpc = options.defaultVpc ?? DEFAULT_VPC;
  const runscVersion = options.runscVersion ?? "release-20261005.0";
  // The verify report's arch follows the instance the host runs on.
  const archByHost = new Map<string, string>();
  let instances = 0;

  const newResource = (args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult | undefined => {
    const id = `${args.name}-id`;
    switch (args.type) {
      case "command:remote:Command": {
        if (!args.name.endsWith("-verify")) return { id, state: { ...args.inputs, stdout: "{}", stderr: "" } };
        const host = args.name.slice(0, -"-verify".length);
        const report = fakeVerification(archByHost.get(host) ?? "x86_64", !notIsolated.has(host), runscVersion);
        return {
          id,
          state: { ...args.inputs, stdout: JSON.stringify({ schemaVersion: VERIFICATION_SCHEMA_VERSION, containerd: null, ...report }), stderr: "" },
        };
      }
      case "aws:ec2/instance:Instance": {
        instances += 1;
        let arch = "x86_64";
        try {
          arch = parseInstanceType(args.inputs.instanceType, "instanceType").arch === "arm64" ? "aarch64" : "x86_64";
        } catch {
          // An unknown type: the component itself reports it.
        }
        archByHost.set(args.name.replace(/-instance$/, ""), arch);
        const instanceId = `i-0${String(instances).padStart(16, "0")}`;
        return {
          id: instanceId,
          state: {
            ...args.inputs,
            publicIp: args.inputs.associatePublicIpAddress === false ? "" : `203.0.113.${instances}`,
            privateIp: `10.0.0.${instances}`,
            arn: `arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`,
          },
        };
      }
      case "aws:ec2/securityGroup:SecurityGroup":
        return { id: `sg-0${String(args.name.length).padStart(16, "0")}`, state: args.inputs };
      case "aws:ec2/keyPair:KeyPair":
        return { id, state: { ...args.inputs, keyName: args.inputs.keyName ?? `${args.name}-kp` } };
      case "tls:index/privateKey:PrivateKey":
        return { id, state: { ...args.inputs, privateKeyOpenssh: FAKE_PRIVATE_KEY, publicKeyOpenssh: FAKE_PUBLIC_KEY } };
      case "kubernetes:node.k8s.io/v1:RuntimeClass":
        // RuntimeClass with preset "gke" reads GKE Sandbox's own class.
        if (args.id && args.id === GKE_SANDBOX.runtimeClassName) {
          return {
            id: args.id,
            state: {
              apiVersion: "node.k8s.io/v1",
              kind: "RuntimeClass",
              metadata: { name: GKE_SANDBOX.runtimeClassName },
              handler: GKE_SANDBOX.handler,
              scheduling: {
                nodeSelector: { [GKE_SANDBOX.label]: GKE_SANDBOX.value },
                tolerations: [{ key: GKE_SANDBOX.label, operator: "Equal", value: GKE_SANDBOX.value, effect: "NoSchedule" }],
              },
            },
          };
        }
        return undefined;
      case "kubernetes:batch/v1:Job":
        // The smoke-test Job, completed as on a cluster whose gVisor nodes work.
        return {
          id,
          state: {
            ...args.inputs,
            metadata: { ...args.inputs.metadata, name: `${args.name}-abc12` },
            status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] },
          },
        };
      case "aws:eks/nodeGroup:NodeGroup":
        return {
          id,
          state: {
            ...args.inputs,
            nodeGroupName: args.inputs.nodeGroupName ?? `${args.name}-1234`,
            arn: `arn:aws:eks:us-east-1:123456789012:nodegroup/cluster/${args.name}/1`,
          },
        };
      case "aws:ec2/launchTemplate:LaunchTemplate":
        return { id: `lt-0${String(args.name.length).padStart(16, "0")}`, state: { ...args.inputs, latestVersion: 1 } };
      default:
        return undefined;
    }
  };

  const call = (args: pulumi.runtime.MockCallArgs): Record<string, unknown> | undefined => {
    switch (args.token) {
      case "aws:ssm/getParameter:getParameter": {
        const name = String(args.inputs.name);
        const ami = amiId(name);
        // `value` is always secret in the real provider; the components read `insecureValue`.
        return { arn: `arn:aws:ssm:us-east-1::parameter${name}`, id: name, name, type: "String", value: ami, insecureValue: ami, version: 1 };
      }
      case "aws:ec2/getVpc:getVpc":
        if (args.inputs.default === true) return { ...vpc, default: true };
        return { id: args.inputs.id, cidrBlock: "10.20.0.0/16", default: false };
      case "aws:ec2/getSubnets:getSubnets":
        return { id: "subnets", ids: options.defaultSubnets ?? DEFAULT_SUBNETS, filters: args.inputs.filters };
      case "aws:ec2/getSubnet:getSubnet":
        return { id: args.inputs.id, vpcId: "vpc-0e0e0e0e0e0e0e0e0", availabilityZone: "us-east-1b", cidrBlock: "10.20.1.0/24" };
      default:
        return undefined;
    }
  };

  return {
    newResource(args) {
      const answer = newResource(args);
      if (answer) return answer;
      if (options.next?.newResource) return options.next.newResource(args);
      return { id: args.id || `${args.name}-id`, state: args.inputs };
    },
    call(args) {
      const answer = call(args);
      if (answer) return answer;
      if (options.next?.call) return options.next.call(args);
      return args.inputs;
    },
  };
}

/**
 * Installs {@link gvisorMocks} as the Pulumi mock engine. Call it before the
 * program under test is imported or its resources are created.
 */
export function setGvisorMocks(options: SetGvisorMocksOptions = {}): Promise<void> {
  const { project, stack, preview, ...mocks } = options;
  return pulumi.runtime.setMocks(gvisorMocks(mocks), project ?? "project", stack ?? "stack", preview ?? false);
}
