import type { Ec2FleetArgs, Ec2FleetHostArgs } from "../src/components/ec2-host-args";
import type { Arch } from "../src/plan/arch";
import type { Ec2Os } from "../src/plan/ec2";
import { PlanValidationError, show } from "../src/plan/errors";

// Stack config of the repository's own program, read into Ec2Fleet args.
// Pure: `get` returns a config value as the Pulumi CLI stored it (a string,
// or JSON text for lists and objects set with --path or in the YAML file).

/** The config keys this program reads (in the project's namespace, `pulumi-gvisor:`). */
export const CONFIG_KEYS = [
  "sshAllowedCidrs",
  "allowSshFromAnywhere",
  "arch",
  "count",
  "instanceType",
  "os",
  "hosts",
  "gvisorVersion",
  "containerd",
  "subnetId",
  "vpcId",
  "publicKey",
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Host spec fields the `hosts` list may set. */
const HOST_KEYS = ["name", "arch", "instanceType", "os", "amiId", "subnetId", "availabilityZone", "rootVolumeSize", "tags"] as const;

/** A config error: names the key as `pulumi config set` takes it. */
export class ProgramConfigError extends PlanValidationError {}

function fail(key: string, reason: string): never {
  throw new ProgramConfigError(`pulumi-gvisor:${key}`, reason);
}

function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail(key, `is not valid JSON, got ${show(text)}`);
  }
}

/** A list of strings: JSON (`["a","b"]`, as --path and YAML lists store it) or words separated by commas or spaces. */
function stringList(key: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().startsWith("[") ? parseJson(key, text) : text.split(/[\s,]+/).filter(Boolean);
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) fail(key, `must be a list of strings, got ${show(text)}`);
  return value as string[];
}

function bool(key: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text !== "true" && text !== "false") fail(key, `must be true or false, got ${show(text)}`);
  return text === "true";
}

function positiveInt(key: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) fail(key, `must be a whole number of at least 1, got ${show(text)}`);
  return Number(text);
}

/** Short, name-safe arch labels for generated host names. */
const ARCH_LABEL: Record<string, string> = { x86_64: "x86", amd64: "x86", arm64: "arm", aarch64: "arm" };

/**
 * Builds the fleet's args from stack config. Either `hosts` (a list of host
 * specs) or `count` hosts of `arch`/`instanceType` (default: one x86_64 host).
 */
export function fleetArgsFromConfig(get: (key: ConfigKey) => string | undefined): Ec2FleetArgs {
  const sshAllowedCidrs = stringList("sshAllowedCidrs", get("sshAllowedCidrs"));
  if (sshAllowedCidrs === undefined) {
    fail(
      "sshAllowedCidrs",
      'is required: the CIDR blocks allowed to reach the hosts over SSH, e.g. your own address: pulumi config set sshAllowedCidrs 203.0.113.4/32',
    );
  }
  const arch = get("arch");
  const instanceType = get("instanceType");
  const count = positiveInt("count", get("count"));
  const hostsText = get("hosts");

  let hosts: Ec2FleetHostArgs[];
  if (hostsText !== undefined) {
    if (count !== undefined) fail("count", "conflicts with hosts: give a host list or a count, not both");
    const list = parseJson("hosts", hostsText);
    if (!Array.isArray(list) || list.length === 0) fail("hosts", `must be a non-empty list of host specs like [{"name":"arm-1","arch":"arm64"}], got ${show(hostsText)}`);
    hosts = list.map((spec, i) => {
      const at = `hosts[${i}]`;
      if (typeof spec !== "object" || spec === null || Array.isArray(spec)) fail(at, `must be an object like {"name":"arm-1","arch":"arm64"}, got ${show(spec)}`);
      for (const k of Object.keys(spec)) {
        if (!(HOST_KEYS as readonly string[]).includes(k)) fail(`${at}.${k}`, `is not a host setting here; known: ${HOST_KEYS.join(", ")}`);
      }
      return spec as Ec2FleetHostArgs;
    });
  } else {
    // Names say the arch when it is known from config alone (the fleet validates the values).
    const prefix = arch !== undefined ? (ARCH_LABEL[arch] ?? "host") : instanceType !== undefined ? "host" : "x86";
    hosts = Array.from({ length: count ?? 1 }, (_, i) => ({ name: `${prefix}-${i + 1}` }));
  }

  const containerd = bool("containerd", get("containerd"));
  const args: Ec2FleetArgs = {
    hosts,
    sshAllowedCidrs,
    allowSshFromAnywhere: bool("allowSshFromAnywhere", get("allowSshFromAnywhere")),
    arch: arch as Arch | undefined,
    instanceType,
    os: get("os") as Ec2Os | undefined,
    version: get("gvisorVersion"),
    containerd: containerd === undefined ? undefined : { enabled: containerd },
    subnetId: get("subnetId"),
    vpcId: get("vpcId"),
    publicKey: get("publicKey"),
  };
  // Unset keys stay absent, so the components' defaults apply.
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) as unknown as Ec2FleetArgs;
}
