/**
 * The mock engine both scale programs run under: answers the AWS lookups and
 * gives plausible outputs (the values come from the unit tests' EC2 mocks),
 * and counts what a checkpoint would hold: the inputs the engine receives and
 * the outputs it keeps, components' registered outputs included.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SUBNETS, DEFAULT_VPC, GENERATED_KEY, GENERATED_PUBLIC_KEY, amiFor, verifyReport } from "../../test/unit/support/ec2-mocks";

export interface MockEngine {
  /** Resources registered, components included. */
  resources: () => number;
  /** Provider function calls (lookups) answered. */
  calls: () => number;
  /** Bytes of JSON of every resource's inputs plus its kept outputs, in all and by resource type. Call after the program finished. */
  stateBytes: () => Promise<{ total: number; byType: Record<string, number> }>;
}

type Monitor = { getRegisteredResources(): Map<string, { state: unknown }> };
type Struct = { toJavaScript(): unknown };
const isStruct = (v: unknown): v is Struct => typeof v === "object" && v !== null && typeof (v as Struct).toJavaScript === "function";

export function installMockEngine(preview: boolean): MockEngine {
  let resources = 0;
  let calls = 0;
  const byType: Record<string, number> = {};
  const add = (type: string, bytes: number) => void (byType[type] = (byType[type] ?? 0) + bytes);
  let instances = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources += 1;
        add(args.type, JSON.stringify(args.inputs).length);
        const state: Record<string, unknown> = { ...args.inputs };
        let id = `${args.name}-id`;
        if (!preview) {
          if (args.type === "aws:ec2/instance:Instance") {
            instances += 1;
            id = `i-0${String(instances).padStart(16, "0")}`;
            state.publicIp = `198.51.100.${instances % 250}`;
            state.privateIp = `10.0.${Math.floor(instances / 250)}.${instances % 250}`;
          } else if (args.type === "aws:ec2/keyPair:KeyPair") {
            state.keyName = `${args.name}-kp`;
          } else if (args.type === "tls:index/privateKey:PrivateKey") {
            state.privateKeyOpenssh = GENERATED_KEY;
            state.publicKeyOpenssh = GENERATED_PUBLIC_KEY;
          } else if (args.type === "command:remote:Command") {
            state.stdout = args.name.endsWith("-verify") ? JSON.stringify(verifyReport("x86_64")) : "{}";
            state.stderr = "";
          }
        }
        return { id: preview ? undefined : id, state };
      },
      call(args) {
        calls += 1;
        switch (args.token) {
          case "aws:ssm/getParameter:getParameter": {
            const ami = amiFor(String(args.inputs.name));
            return { id: args.inputs.name, name: args.inputs.name, type: "String", value: ami, insecureValue: ami };
          }
          case "aws:ec2/getVpc:getVpc":
            return { ...DEFAULT_VPC, default: true };
          case "aws:ec2/getSubnets:getSubnets":
            return { id: "us-east-1", ids: DEFAULT_SUBNETS, filters: args.inputs.filters };
          default:
            return args.inputs;
        }
      },
    },
    "pulumi-gvisor-bench",
    "bench",
    preview,
  );
  return {
    resources: () => resources,
    calls: () => calls,
    stateBytes: async () => {
      // The mock monitor keeps each resource's outputs (for components, what registerOutputs sent).
      const settings = (await import("@pulumi/pulumi/runtime/settings")) as unknown as { getMonitor(): Monitor };
      for (const [urn, r] of settings.getMonitor().getRegisteredResources()) {
        add(typeOfUrn(urn), JSON.stringify(isStruct(r.state) ? r.state.toJavaScript() : r.state).length);
      }
      return { total: Object.values(byType).reduce((a, b) => a + b, 0), byType: { ...byType } };
    },
  };
}

/** `urn:pulumi:stack::project::parent$type::name` → `type`. */
function typeOfUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}
