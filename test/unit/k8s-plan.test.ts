import { execFileSync } from "node:child_process";
import { Job } from "kubernetes-models/batch/v1/Job";
import { RuntimeClass as RuntimeClassModel } from "kubernetes-models/node.k8s.io/v1/RuntimeClass";
import { describe, expect, it } from "vitest";
import { PlanValidationError } from "../../src/plan/errors";
import {
  GKE_SANDBOX,
  GVISOR_NODE_LABEL,
  RuntimeClassInput,
  RuntimeClassManifest,
  SMOKE_TEST_SCRIPT,
  buildRuntimeClassPlan,
  checkHandlerAgreement,
  jobOutcome,
  requireDnsLabel,
  requireDnsSubdomain,
  requireLabelKey,
  requireLabelValue,
  smokeTestJob,
  tolerationFor,
} from "../../src/plan/kubernetes";

/** Validates against the Kubernetes schema offline; returns the manifest for chaining. */
export function schemaValid(manifest: RuntimeClassManifest): RuntimeClassManifest {
  new RuntimeClassModel(manifest as any).validate();
  return manifest;
}

/** The error a plan build throws, as [property, reason]. */
function refusal(input: RuntimeClassInput): [string, string] {
  try {
    buildRuntimeClassPlan(input, "args");
  } catch (err) {
    expect(err).toBeInstanceOf(PlanValidationError);
    const e = err as PlanValidationError;
    return [e.property, e.reason];
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("RuntimeClass presets", () => {
  it("pulumi-gvisor (default): name gvisor, handler runsc, selects and tolerates the package's own label and taint", () => {
    const plan = buildRuntimeClassPlan({}, "args");
    expect(plan).toMatchObject({ preset: "pulumi-gvisor", name: "gvisor", handler: "runsc", create: true });
    expect(schemaValid(plan.manifest)).toEqual({
      apiVersion: "node.k8s.io/v1",
      kind: "RuntimeClass",
      metadata: { name: "gvisor" },
      handler: "runsc",
      scheduling: {
        nodeSelector: { "sandbox.pulumi-gvisor.io/runtime": "runsc" },
        tolerations: [{ key: "sandbox.pulumi-gvisor.io/runtime", operator: "Equal", value: "runsc", effect: "NoSchedule" }],
      },
    });
  });

  it("pulumi-gvisor: the label and taint value follow the handler, so a class only selects nodes that register it", () => {
    const plan = buildRuntimeClassPlan({ name: "sandboxed", handler: "gvisor-debug" });
    expect(schemaValid(plan.manifest).scheduling).toEqual({
      nodeSelector: { [GVISOR_NODE_LABEL]: "gvisor-debug" },
      tolerations: [{ key: GVISOR_NODE_LABEL, operator: "Equal", value: "gvisor-debug", effect: "NoSchedule" }],
    });
    expect(plan.nodeTaints).toEqual([{ key: GVISOR_NODE_LABEL, value: "gvisor-debug", effect: "NoSchedule" }]);
  });

  it("gke: adopts GKE Sandbox's gvisor class (handler gvisor, sandbox.gke.io/runtime=gvisor) and creates nothing", () => {
    const plan = buildRuntimeClassPlan({ preset: "gke" }, "args");
    expect(plan).toMatchObject({ preset: "gke", name: "gvisor", handler: "gvisor", create: false });
    expect(schemaValid(plan.manifest).scheduling).toEqual({
      nodeSelector: { "sandbox.gke.io/runtime": "gvisor" },
      tolerations: [{ key: "sandbox.gke.io/runtime", operator: "Equal", value: "gvisor", effect: "NoSchedule" }],
    });
    expect(buildRuntimeClassPlan({ preset: "gke", name: "gvisor", handler: "gvisor" }).create).toBe(false);
  });

  it("gke: refuses to change what GKE manages, naming the property", () => {
    expect(refusal({ preset: "gke", name: "sandbox" })).toEqual(["args.name", expect.stringMatching(/GKE Sandbox installs and manages/)]);
    expect(refusal({ preset: "gke", handler: "runsc" })).toEqual(["args.handler", expect.stringMatching(/register the handler "gvisor"/)]);
    expect(refusal({ preset: "gke", overhead: { podFixed: { memory: "100Mi" } } })[0]).toBe("args.overhead");
    expect(refusal({ preset: "gke", nodeSelector: { a: "b" } })[0]).toBe("args.nodeSelector");
  });

  it("generic: the caller's label and taints; a taint without value is tolerated with Exists", () => {
    const plan = buildRuntimeClassPlan({
      preset: "generic",
      nodeSelector: { "example.com/gvisor": "true" },
      taints: [
        { key: "example.com/gvisor", value: "true", effect: "NoSchedule" },
        { key: "dedicated", effect: "NoExecute" },
      ],
    });
    expect(schemaValid(plan.manifest).scheduling).toEqual({
      nodeSelector: { "example.com/gvisor": "true" },
      tolerations: [
        { key: "example.com/gvisor", operator: "Equal", value: "true", effect: "NoSchedule" },
        { key: "dedicated", operator: "Exists", effect: "NoExecute" },
      ],
    });
    // Without taints the class only selects (nodes that are labelled but not tainted).
    const labelOnly = buildRuntimeClassPlan({ preset: "generic", nodeSelector: { "example.com/gvisor": "true" } });
    expect(schemaValid(labelOnly.manifest).scheduling).toEqual({ nodeSelector: { "example.com/gvisor": "true" } });
  });

  it("generic needs a selector; the other presets refuse one", () => {
    expect(refusal({ preset: "generic" })).toEqual(["args.nodeSelector", expect.stringMatching(/required with the generic preset/)]);
    expect(refusal({ preset: "generic", nodeSelector: {} })[0]).toBe("args.nodeSelector");
    expect(refusal({ nodeSelector: { a: "b" } })).toEqual(["args.nodeSelector", expect.stringMatching(/set by the "pulumi-gvisor" preset/)]);
    expect(refusal({ taints: [] })[0]).toBe("args.taints");
    expect(refusal({ preset: "aks" as any })).toEqual(["args.preset", expect.stringMatching(/"pulumi-gvisor", "gke", "generic"/)]);
  });

  it("renders overhead and object labels, schema-valid", () => {
    const plan = buildRuntimeClassPlan({ overhead: { podFixed: { cpu: "250m", memory: "120Mi" } }, labels: { team: "platform" } });
    const m = schemaValid(plan.manifest);
    expect(m.overhead).toEqual({ podFixed: { cpu: "250m", memory: "120Mi" } });
    expect(m.metadata).toEqual({ name: "gvisor", labels: { team: "platform" } });
    expect(buildRuntimeClassPlan({ overhead: {} }).manifest.overhead).toBeUndefined();
  });
});

describe("names the schema does not check", () => {
  it("kubernetes-models accepts names and handlers the API server refuses, so the plan checks them", () => {
    // The offline schema has no DNS rules: this manifest passes it…
    expect(() => new RuntimeClassModel({ metadata: { name: "Bad_Name" }, handler: "Bad.Handler" } as any).validate()).not.toThrow();
    // …and the plan refuses both.
    expect(refusal({ name: "Bad_Name" })[0]).toBe("args.name");
    expect(refusal({ handler: "Bad.Handler" })[0]).toBe("args.handler");
  });

  it.each([
    ["name", "Gvisor", /DNS subdomain/],
    ["name", "-gvisor", /DNS subdomain/],
    ["name", "gvisor.", /DNS subdomain/],
    ["name", "g_visor", /DNS subdomain/],
    ["name", `${"a".repeat(250)}.bcd`, /at most 253/],
    ["name", "", /must not be empty/],
    ["handler", "run.sc", /DNS label/],
    ["handler", "runsc-", /DNS label/],
    ["handler", "a".repeat(64), /at most 63/],
    ["handler", "runc", /unsandboxed/],
  ])("refuses %s %j", (key, value, reason) => {
    const [property, why] = refusal({ [key]: value });
    expect(property).toBe(`args.${key}`);
    expect(why).toMatch(reason);
  });

  it("accepts the longest and dotted forms the API server accepts", () => {
    expect(requireDnsSubdomain("gvisor.sandbox.example.com", "p")).toBe("gvisor.sandbox.example.com");
    expect(requireDnsSubdomain(`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, "p")).toHaveLength(253);
    expect(requireDnsLabel("a".repeat(63), "p")).toHaveLength(63);
    for (const name of ["gvisor.sandbox.example.com", "a", "gvisor-2"]) {
      schemaValid(buildRuntimeClassPlan({ name, handler: "runsc-2" }).manifest);
    }
  });

  it("checks label keys and values as Kubernetes does", () => {
    expect(requireLabelKey("sandbox.pulumi-gvisor.io/runtime", "p")).toBeTruthy();
    expect(requireLabelKey("Node_Pool.v2", "p")).toBeTruthy();
    for (const bad of ["/x", "a/", "Bad_Prefix.io/x", "x/y/z", `${"a".repeat(64)}`, "-x"]) {
      expect(() => requireLabelKey(bad, "p"), bad).toThrowError(PlanValidationError);
    }
    expect(requireLabelValue("", "p")).toBe("");
    expect(() => requireLabelValue("has space", "p")).toThrowError(/label value/);
    expect(() => requireLabelValue("a".repeat(64), "p")).toThrowError(/at most 63/);
    expect(refusal({ preset: "generic", nodeSelector: { "bad key!": "x" } })[0]).toBe('args.nodeSelector["bad key!"]');
    expect(refusal({ preset: "generic", nodeSelector: { a: "b" }, taints: [{ key: "a", effect: "NoRun" as any }] })).toEqual([
      "args.taints[0].effect",
      expect.stringMatching(/"NoSchedule", "PreferNoSchedule", "NoExecute"/),
    ]);
    expect(
      refusal({
        preset: "generic",
        nodeSelector: { a: "b" },
        taints: [
          { key: "a", effect: "NoSchedule" },
          { key: "a", value: "x", effect: "NoSchedule" },
        ],
      })[0],
    ).toBe("args.taints[1]");
  });
});

describe("overhead quantities", () => {
  it.each([
    ["cpu", "250m"],
    ["cpu", "0.5"],
    ["cpu", "2"],
    ["memory", "120Mi"],
    ["memory", "1Gi"],
    ["memory", "128974848"],
    ["memory", "129e6"],
    ["memory", "123M"],
  ])("accepts %s %s, which the schema accepts too", (resource, quantity) => {
    const plan = buildRuntimeClassPlan({ overhead: { podFixed: { [resource]: quantity } } });
    expect(schemaValid(plan.manifest).overhead?.podFixed[resource]).toBe(quantity);
  });

  it.each([
    ["memory", "128m", /milli-, micro- or nano-bytes.*"128Mi"/],
    ["memory", "-1Gi", /negative/],
    ["memory", "12 Mi", /quantity/],
    ["memory", "lots", /quantity/],
    ["cpu", "1Gi", /cores/],
    ["cpu", "250 m", /quantity/],
  ])("refuses %s %j naming args.overhead.podFixed.<resource>", (resource, quantity, reason) => {
    const [property, why] = refusal({ overhead: { podFixed: { [resource]: quantity } } });
    expect(property).toBe(`args.overhead.podFixed.${resource}`);
    expect(why).toMatch(reason);
  });

  it("refuses resources other than cpu and memory", () => {
    expect(refusal({ overhead: { podFixed: { gpu: "1" } as any } })[0]).toBe("args.overhead.podFixed.gpu");
  });
});

describe("handler agreement", () => {
  const containerdConfig = [
    "version = 3",
    "",
    '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runsc]',
    '  runtime_type = "io.containerd.runsc.v1"',
    '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runsc.options]',
    '  TypeUrl = "io.containerd.runsc.v1.options"',
    '  ConfigPath = "/etc/containerd/runsc.toml"',
    "",
  ].join("\n");
  const paths = { runtimeClassHandler: "args.runtimeClass.handler", nodeLabels: "args.labels", node: "args.gvisor.containerd" };
  const agreeing = {
    node: { handler: "runsc", runscConfigPath: "/etc/containerd/runsc.toml", containerdConfig },
    runscTomlPath: "/etc/containerd/runsc.toml",
    runtimeClass: { handler: "runsc", nodeSelector: { [GVISOR_NODE_LABEL]: "runsc" } },
    nodeLabels: { [GVISOR_NODE_LABEL]: "runsc" },
  };
  const why = (input: typeof agreeing) => {
    try {
      checkHandlerAgreement(input, paths);
    } catch (err) {
      return [(err as PlanValidationError).property, (err as PlanValidationError).reason];
    }
    return undefined;
  };

  it("accepts a setup where node config, runsc.toml, label and class name one handler", () => {
    expect(why(agreeing)).toBeUndefined();
  });

  it("refuses a RuntimeClass handler the nodes do not register, with the error pods would get", () => {
    expect(why({ ...agreeing, runtimeClass: { handler: "gvisor", nodeSelector: { [GVISOR_NODE_LABEL]: "gvisor" } } })).toEqual([
      "args.runtimeClass.handler",
      expect.stringMatching(/no runtime for "gvisor" is configured/),
    ]);
  });

  it("refuses a class that selects nodes labelled for another handler", () => {
    expect(why({ ...agreeing, runtimeClass: { handler: "runsc", nodeSelector: { [GVISOR_NODE_LABEL]: "other" } } })?.[1]).toMatch(/labelled sandbox.pulumi-gvisor.io\/runtime=other/);
  });

  it("refuses a node label naming another handler", () => {
    expect(why({ ...agreeing, nodeLabels: { [GVISOR_NODE_LABEL]: "gvisor" } })).toEqual([
      'args.labels["sandbox.pulumi-gvisor.io/runtime"]',
      expect.stringMatching(/must be the node's handler "runsc"/),
    ]);
  });

  it("refuses containerd config for another handler, a ConfigPath elsewhere, or runsc.toml written elsewhere", () => {
    expect(why({ ...agreeing, node: { ...agreeing.node, containerdConfig: containerdConfig.replace(/runtimes\.runsc/g, "runtimes.gvisor") } })?.[1]).toMatch(/registers .*runtimes.gvisor.*not the handler "runsc"/);
    expect(why({ ...agreeing, node: { ...agreeing.node, containerdConfig: containerdConfig.replace("/etc/containerd/runsc.toml", "/etc/runsc.toml") } })?.[1]).toMatch(/reads runsc.toml from/);
    expect(why({ ...agreeing, runscTomlPath: "/etc/gvisor/runsc.toml" })?.[1]).toMatch(/runsc.toml is written to "\/etc\/gvisor\/runsc.toml" but containerd reads it from/);
  });
});

describe("smoke-test Job", () => {
  it("is a schema-valid batch/v1 Job naming the RuntimeClass, locked down, with bounded retries", () => {
    const job = smokeTestJob({ runtimeClassName: "gvisor" });
    new Job(job as any).validate();
    const pod = job.spec.template.spec;
    expect(pod.runtimeClassName).toBe("gvisor");
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.containers[0].image).toBe("docker.io/library/busybox:1.36.1@sha256:73aaf090f3d85aa34ee199857f03fa3a95c8ede2ffd4cc2cdb5b94e566b11662");
    expect(pod.containers[0].command).toEqual(["sh", "-c", SMOKE_TEST_SCRIPT]);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0].securityContext.capabilities.drop).toEqual(["ALL"]);
    expect(job.spec.backoffLimit).toBeLessThanOrEqual(3);
    expect(job.metadata.namespace).toBe("default");
  });

  it("takes image and namespace, and refuses bad ones naming the property", () => {
    const job = smokeTestJob({ runtimeClassName: "sandboxed", image: "registry.internal/busybox:1.37", namespace: "smoke" }, "args");
    new Job(job as any).validate();
    expect(job.metadata.namespace).toBe("smoke");
    expect(() => smokeTestJob({ runtimeClassName: "x", namespace: "Not_A_Namespace" }, "args")).toThrowError(/args.smokeTestNamespace/);
    expect(() => smokeTestJob({ runtimeClassName: "x", image: "busybox latest" }, "args")).toThrowError(/args.smokeTestImage/);
  });

  it("its script fails outside gVisor: this test host has /proc/kallsyms", () => {
    let status = 0;
    let stderr = "";
    try {
      execFileSync("sh", ["-c", SMOKE_TEST_SCRIPT], { stdio: "pipe" });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/not running under gVisor/);
  });

  it("reads the Job's outcome from its conditions", () => {
    expect(jobOutcome({ conditions: [{ type: "Complete", status: "True" }] })).toBe("Complete");
    expect(jobOutcome({ conditions: [{ type: "Failed", status: "True" }] })).toBe("Failed");
    expect(jobOutcome({ conditions: [{ type: "Complete", status: "False" }] })).toBe("Running");
    expect(jobOutcome(undefined)).toBe("Running");
  });
});

describe("GKE constants", () => {
  it("are what GKE Sandbox uses", () => {
    expect(GKE_SANDBOX).toEqual({ label: "sandbox.gke.io/runtime", value: "gvisor", runtimeClassName: "gvisor", handler: "gvisor" });
    expect(tolerationFor({ key: GKE_SANDBOX.label, value: GKE_SANDBOX.value, effect: "NoSchedule" })).toEqual({
      key: "sandbox.gke.io/runtime",
      operator: "Equal",
      value: "gvisor",
      effect: "NoSchedule",
    });
  });
});
