import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { readFileSync } from "node:fs";
import * as yaml from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import * as path from "node:path";
import { Ec2Fleet, Ec2Host, EksNodeGroup, Host, RuntimeClass } from "../../src/index";

// The multi-language analyzer reads the TypeScript source of the package, the
// way `pulumi package add` does, and refuses shapes other languages cannot use.
const root = path.resolve(__dirname, "../..");
const schemaOf = async (components: any[]) => JSON.parse(await new ComponentProvider({ name: "pulumi-gvisor", dirname: root, components }).getSchema());
// Deriving takes seconds (a TypeScript program over src/): once for the whole package.
let whole: Promise<any> | undefined;
const packageSchema = () => (whole ??= schemaOf([Host, Ec2Host, Ec2Fleet, RuntimeClass, EksNodeGroup]));

describe("multi-language schema", () => {
  it("derives a schema for every component, with typed inputs and outputs", async () => {
    const schema = await packageSchema();
    const host = schema.resources["pulumi-gvisor:index:Host"];
    expect(host.isComponent).toBe(true);
    expect(host.requiredInputs).toEqual(["connection"]);
    expect(Object.keys(host.inputProperties)).toEqual(
      expect.arrayContaining(["connection", "version", "mirror", "arch", "runsc", "docker", "containerd", "verify", "uninstallOnDelete"]),
    );
    expect(Object.keys(host.properties)).toEqual(expect.arrayContaining(["verification", "runscVersion", "isolated", "target", "bundleId", "stepDigests"]));
    const platform = schema.types["pulumi-gvisor:index:RunscPlatform"];
    expect(platform.enum.map((e: { value: string }) => e.value)).toEqual(["systrap", "ptrace", "kvm"]);
  });

  it("types arch as the Arch enum on every component that takes or reports one", async () => {
    const schema = await packageSchema();
    const arch = "#/types/pulumi-gvisor:index:Arch";
    expect(schema.types["pulumi-gvisor:index:Arch"].enum.map((e: { value: string }) => e.value)).toEqual(["x86_64", "arm64"]);
    const resource = (name: string) => schema.resources[`pulumi-gvisor:index:${name}`];
    for (const name of ["Host", "Ec2Host", "Ec2Fleet", "EksNodeGroup"]) expect(resource(name).inputProperties.arch.$ref, name).toBe(arch);
    expect(resource("Ec2Host").properties.arch.$ref).toBe(arch);
    const hostSpec = resource("Ec2Fleet").inputProperties.hosts.items.$ref.replace("#/types/", "");
    expect(schema.types[hostSpec].properties.arch.$ref).toBe(arch);
  });
});

/** One property of the schema, named for the failure message (`Host.inputs.version`, `RunscArgs.platform`). */
interface Prop {
  where: string;
  name: string;
  spec: any;
  optionalInput: boolean;
}

/** Every property of every resource and type, and whether it is an optional input (other languages' users set those). */
function properties(schema: any): Prop[] {
  const props: Prop[] = [];
  const inputTypes = new Set<string>();
  const refs = (spec: any): string[] =>
    [spec?.$ref, spec?.items?.$ref, spec?.additionalProperties?.$ref].filter(Boolean).map((r: string) => r.replace("#/types/", ""));
  const markInput = (token: string) => {
    if (inputTypes.has(token)) return;
    inputTypes.add(token);
    for (const p of Object.values<any>(schema.types[token]?.properties ?? {})) refs(p).forEach(markInput);
  };
  for (const [token, r] of Object.entries<any>(schema.resources)) {
    const short = token.split(":")[2];
    const required = new Set(r.requiredInputs ?? []);
    for (const [name, spec] of Object.entries<any>(r.inputProperties ?? {})) {
      props.push({ where: `${short}.inputs`, name, spec, optionalInput: !required.has(name) });
      refs(spec).forEach(markInput);
    }
    for (const [name, spec] of Object.entries<any>(r.properties ?? {})) props.push({ where: `${short}.outputs`, name, spec, optionalInput: false });
  }
  for (const [token, t] of Object.entries<any>(schema.types)) {
    const required = new Set(t.required ?? []);
    for (const [name, spec] of Object.entries<any>(t.properties ?? {})) {
      props.push({ where: token.split(":")[2], name, spec, optionalInput: inputTypes.has(token) && !required.has(name) });
    }
  }
  return props;
}

/** Properties whose values are credentials; anything else that looks like one must be added here on purpose. */
const SECRET_NAMES = new Set(["privateKey", "privateKeyPassword", "password", "kubeconfig"]);
const LOOKS_SECRET = /password|privatekey|secret|token|kubeconfig|credential/i;

describe("the schema other languages' SDKs are generated from", () => {
  let schema: any;
  let props: Prop[];
  beforeAll(async () => {
    schema = await packageSchema();
    props = properties(schema);
  });
  const named = (p: Prop) => `${p.where}.${p.name}`;

  it("covers all five components", () => {
    expect(Object.keys(schema.resources).sort()).toEqual(
      ["Ec2Fleet", "Ec2Host", "EksNodeGroup", "Host", "RuntimeClass"].map((c) => `pulumi-gvisor:index:${c}`),
    );
    expect(props.length).toBeGreaterThan(250);
  });

  it("describes every property", () => {
    expect(props.filter((p) => !p.spec.description?.trim()).map(named)).toEqual([]);
  });

  it("states the default of every optional input in its description (the analyzer drops @default tags)", () => {
    expect(props.filter((p) => p.optionalInput && !/Defaults to /.test(p.spec.description ?? "")).map(named)).toEqual([]);
  });

  it("says of every credential that it is secret, and has no credential-like property it does not know", () => {
    const credentials = props.filter((p) => SECRET_NAMES.has(p.name));
    expect(credentials.length).toBeGreaterThanOrEqual(8);
    // The SDK's analyzer (3.248) sets no `secret` flag: the text tells other languages' users to pass a secret.
    expect(credentials.filter((p) => p.spec.secret !== true && !/\bsecret\b/i.test(p.spec.description ?? "")).map(named)).toEqual([]);
    expect(props.filter((p) => LOOKS_SECRET.test(p.name) && !SECRET_NAMES.has(p.name)).map(named)).toEqual([]);
  });
});

describe("examples/yaml-host: a YAML program using the components through the plugin", () => {
  const program = yaml.load(readFileSync(path.join(root, "examples/yaml-host/Pulumi.yaml"), "utf8")) as any;
  let schema: any;
  beforeAll(async () => {
    schema = await packageSchema();
  });

  /** Checks a YAML value against a schema property; returns the problems, by path. */
  function check(value: any, spec: any, at: string): string[] {
    if (typeof value === "string" && /^\$\{[^}]+\}$/.test(value)) return []; // an interpolation: typed by the engine
    if (value && typeof value === "object" && Object.keys(value).some((k) => k.startsWith("fn::"))) return [];
    if (spec.$ref) {
      const type = schema.types[spec.$ref.replace("#/types/", "")];
      if (!type) return [`${at}: unknown type ${spec.$ref}`];
      if (type.enum)
        return type.enum.some((e: any) => e.value === value)
          ? []
          : [`${at}: ${JSON.stringify(value)} is not one of ${type.enum.map((e: any) => e.value).join(", ")}`];
      return checkObject(value, type.properties ?? {}, type.required ?? [], at);
    }
    switch (spec.type) {
      case "array":
        return Array.isArray(value) ? value.flatMap((v, i) => check(v, spec.items, `${at}[${i}]`)) : [`${at}: not a list`];
      case "object":
        return value && typeof value === "object"
          ? Object.entries(value).flatMap(([k, v]) => check(v, spec.additionalProperties ?? {}, `${at}.${k}`))
          : [`${at}: not a map`];
      case "integer":
      case "number":
        return typeof value === "number" ? [] : [`${at}: not a number`];
      case "boolean":
        return typeof value === "boolean" ? [] : [`${at}: not a boolean`];
      case "string":
        return typeof value === "string" ? [] : [`${at}: not a string`];
      default:
        return [];
    }
  }
  function checkObject(value: any, specs: Record<string, any>, required: string[], at: string): string[] {
    if (!value || typeof value !== "object") return [`${at}: not an object`];
    return [
      ...required.filter((r) => !(r in value)).map((r) => `${at}.${r}: required`),
      ...Object.entries(value).flatMap(([k, v]) => (k in specs ? check(v, specs[k], `${at}.${k}`) : [`${at}.${k}: not a property of the schema`])),
    ];
  }

  it("uses only inputs the schema has, with values of their types, and every required one", () => {
    const resources = Object.entries<any>(program.resources).filter(([, r]) => r.type.startsWith("pulumi-gvisor:"));
    expect(resources.length).toBeGreaterThan(0);
    const problems = resources.flatMap(([name, r]) => {
      const res = schema.resources[r.type];
      if (!res) return [`${name}: unknown component ${r.type}`];
      return checkObject(r.properties ?? {}, res.inputProperties, res.requiredInputs ?? [], name);
    });
    expect(problems).toEqual([]);
  });

  it("reads only outputs the components have, and takes credentials from secret config", () => {
    const outputs = JSON.stringify(program.outputs);
    const used = [...outputs.matchAll(/\$\{([a-zA-Z0-9-]+)\.([a-zA-Z0-9]+)/g)].map((m) => [m[1], m[2]]);
    expect(used.length).toBeGreaterThan(0);
    for (const [resource, output] of used) expect(Object.keys(schema.resources[program.resources[resource].type].properties)).toContain(output);
    const credentials = [...JSON.stringify(program.resources).matchAll(/"(privateKey|password|privateKeyPassword|kubeconfig)":"\$\{([a-zA-Z0-9]+)\}"/g)];
    expect(credentials.length).toBeGreaterThan(0);
    for (const [, , config] of credentials) expect(program.config[config]).toMatchObject({ secret: true });
  });

  it("fails on a misspelt input, a bad enum value and a missing required input", () => {
    const host = schema.resources["pulumi-gvisor:index:Host"];
    expect(checkObject({ runsc: { platfrom: "kvm" } }, host.inputProperties, host.requiredInputs, "h")).toEqual([
      "h.connection: required",
      "h.runsc.platfrom: not a property of the schema",
    ]);
    expect(checkObject({ connection: { host: "x" }, runsc: { network: "bridge" } }, host.inputProperties, host.requiredInputs, "h")).toEqual([
      'h.runsc.network: "bridge" is not one of sandbox, host, none',
    ]);
  });
});
