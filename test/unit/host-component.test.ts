import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Host, setupPlanInput } from "../../src/components/host";
import { planOutput } from "../../src/components/validate";
import { buildHostPlan } from "../../src/plan/host-plan";
import { HostArgs } from "../../src/components/host-args";
import { Registered, flush, settle, useMocks, valueOf } from "./support/mocks";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END OPENSSH PRIVATE KEY-----";
const report = {
  schemaVersion: 2,
  runscVersion: "release-20261020.0",
  arch: "x86_64",
  hostKernel: "6.8.0-1019-aws",
  runtimes: [{ engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: true, error: null }],
  containerd: null,
  isolated: true,
  failures: [],
};

const baseArgs = (extra: Partial<HostArgs> = {}): HostArgs => ({
  connection: { host: "203.0.113.10", user: "ubuntu", privateKey: KEY, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey" },
  ...extra,
});

const verifyStdout = (r: Registered) => (r.name.endsWith("-verify") ? { stdout: JSON.stringify(report), stderr: "" } : { stdout: "{}", stderr: "" });

/** Builds a Host in a fresh mock program and returns it with what was registered. */
async function program(args: HostArgs, preview = false) {
  const registered = useMocks(preview, verifyStdout);
  const dependsOn = new Map<string, string[]>();
  const parents = new Map<string, string | undefined>();
  const host = new Host("sandbox", args, {
    transformations: [
      (t) => {
        const deps = (t.opts.dependsOn ?? []) as pulumi.Resource[];
        dependsOn.set(t.name, deps.map((d) => (d as any).__name));
        parents.set(t.name, (t.opts.parent as any)?.__name);
        return undefined;
      },
    ],
  });
  await flush(host);
  if (!preview) await valueOf(host.verification);
  const commands = registered.filter((r) => r.type === "command:remote:Command");
  const byStep = Object.fromEntries(commands.map((c) => [c.name.replace(/^sandbox-/, ""), c.inputs]));
  return { host, registered, commands, byStep, dependsOn, parents };
}

describe("Host component", () => {
  it("creates one remote command per step, parented by the component and chained", async () => {
    const { registered, commands, dependsOn, parents } = await program(baseArgs());
    expect(registered.find((r) => r.type === "pulumi-gvisor:index:Host")?.name).toBe("sandbox");
    expect(commands.map((c) => c.name)).toEqual(["sandbox-install", "sandbox-configure-docker", "sandbox-configure-containerd", "sandbox-verify"]);
    for (const c of commands) expect(parents.get(c.name)).toBe("sandbox");
    expect(dependsOn.get("sandbox-install")).toEqual([]);
    expect(dependsOn.get("sandbox-configure-docker")).toEqual(["sandbox-install"]);
    expect(dependsOn.get("sandbox-configure-containerd")).toEqual(["sandbox-install"]);
    expect(dependsOn.get("sandbox-verify")).toEqual(["sandbox-configure-docker", "sandbox-configure-containerd"]);
  });

  it("runs the same text on update as on create, and uninstalls only from the install step", async () => {
    const { byStep } = await program(baseArgs());
    for (const inputs of Object.values(byStep)) {
      expect(inputs.update).toBe(inputs.create);
      expect(inputs.addPreviousOutputInEnv).toBe(false);
    }
    expect(byStep.install.delete).toContain('run step "uninstall"');
    expect(byStep.verify.delete).toBeUndefined();
  });

  it("leaves the host alone on delete when uninstallOnDelete is false", async () => {
    const { byStep } = await program(baseArgs({ uninstallOnDelete: false }));
    expect(byStep.install.delete ?? "").toBe("");
  });

  it("reports the verification measured by the verify step as typed outputs", async () => {
    const { host } = await program(baseArgs());
    expect(await valueOf(host.isolated)).toBe(true);
    expect(await valueOf(host.runscVersion)).toBe("release-20261020.0");
    const v = await valueOf(host.verification);
    expect(v.runtimes[0]).toEqual({ engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: true });
    expect(v.hostKernel).not.toBe(v.runtimes[0].sandboxKernel);
    const steps = await valueOf(host.steps);
    expect(steps.install).toContain("GV_VERSION=");
  });

  it("gives byte-identical command inputs for equal args (an unchanged stack previews no diff)", async () => {
    const a = await program(baseArgs({ runsc: { network: "none", extraFlags: { b: "1", a: "2" } } }));
    const b = await program(baseArgs({ runsc: { extraFlags: { a: "2", b: "1" }, network: "none" } }));
    expect(JSON.stringify(b.byStep)).toBe(JSON.stringify(a.byStep));
  });

  it("re-runs install, the configure steps and verify on a version change", async () => {
    const a = await program(baseArgs({ version: "20261020.0" }));
    const b = await program(baseArgs({ version: "20261103.0" }));
    expect(b.byStep.install.create).not.toBe(a.byStep.install.create);
    expect(b.byStep.verify.triggers).not.toEqual(a.byStep.verify.triggers);
    // configure steps re-check the plan's flags against the new binary
    expect(b.byStep["configure-docker"].triggers).not.toEqual(a.byStep["configure-docker"].triggers);
    expect(b.byStep.verify.create).toBe(a.byStep.verify.create);
  });

  it("re-runs only verify when only the verify image changes", async () => {
    const a = await program(baseArgs());
    const b = await program(baseArgs({ verify: { image: "registry.internal/busybox:1.37" } }));
    for (const step of ["install", "configure-docker", "configure-containerd"]) {
      expect(JSON.stringify(b.byStep[step])).toBe(JSON.stringify(a.byStep[step]));
    }
    expect(b.byStep.verify.create).not.toBe(a.byStep.verify.create);
  });

  it("re-runs configure-docker and verify, not install, when a runsc option changes", async () => {
    const a = await program(baseArgs());
    const b = await program(baseArgs({ runsc: { network: "none" } }));
    expect(JSON.stringify(b.byStep.install)).toBe(JSON.stringify(a.byStep.install));
    expect(b.byStep["configure-docker"].create).not.toBe(a.byStep["configure-docker"].create);
    expect(b.byStep.verify.triggers).not.toEqual(a.byStep.verify.triggers);
  });

  it("keeps the connection and its key secret, and no key in any step text", async () => {
    const { host, commands } = await program(baseArgs());
    const steps = await valueOf(host.steps);
    for (const text of Object.values(steps)) expect(text).not.toContain("c2VjcmV0LWtleQ");
    for (const c of commands) {
      for (const field of ["create", "update", "delete"]) expect(String(c.inputs[field] ?? "")).not.toContain("c2VjcmV0LWtleQ");
    }
    const child = (host as any).__childResources as Set<pulumi.Resource> | undefined;
    const install = [...(child ?? [])].find((r) => (r as any).__name === "sandbox-install") as any;
    const conn = await settle(install.connection);
    expect(conn.secret).toBe(true);
  });

  it("does not hang in preview, where the verify output is unknown", async () => {
    const { host } = await program(baseArgs(), true);
    const v = await settle(host.verification);
    expect(v.known).toBe(false);
    const steps = await settle(host.steps);
    expect(steps.known).toBe(true);
  });

  it("refuses bad input at construction with an InputPropertyError naming the property", async () => {
    useMocks(true);
    const attempt = (args: HostArgs) => () => new Host("bad", args);
    expect(attempt(baseArgs({ runsc: { extraFlags: { vfs2: "true" } } }))).toThrowError(pulumi.InputPropertyError);
    try {
      attempt(baseArgs({ docker: { runtimeName: "runsc;reboot" } }))();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(pulumi.InputPropertyError);
      expect((err as pulumi.InputPropertyError).propertyPath).toBe("args.docker.runtimeName");
      expect((err as pulumi.InputPropertyError).reason).toMatch(/letters, digits/);
    }
  });

  it("validates inputs that arrive as Outputs once they resolve", async () => {
    useMocks(false);
    const plan = planOutput({ version: pulumi.output("release-20261020.0") }, (resolved) => buildHostPlan(setupPlanInput(resolved), "args"));
    const failure = await valueOf(plan).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(pulumi.InputPropertyError);
    expect((failure as pulumi.InputPropertyError).propertyPath).toBe("args.version");
    expect((failure as pulumi.InputPropertyError).reason).toMatch(/git tag name/);
  });
});
