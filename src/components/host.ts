import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostPlan, HostPlanInput, buildHostPlan } from "../plan/host-plan";
import { Verification, parseVerification } from "../plan/verification";
import { StepName, renderStepCommand } from "../scripts/render";
import { GvisorSetupArgs, HostArgs, HostConnectionArgs } from "./host-args";
import { compact, planOutput } from "./validate";

/** Rendered command text of each step, as it runs on the host. */
export interface HostSteps {
  install: string;
  configureDocker: string;
  configureContainerd: string;
  verify: string;
  uninstall: string;
}

/** Builds the plan input from setup args, dropping unset keys. */
export function setupPlanInput(args: pulumi.Unwrap<GvisorSetupArgs>): HostPlanInput {
  return compact({
    version: args.version,
    mirror: args.mirror,
    sha512: args.sha512 === undefined ? undefined : compact(args.sha512),
    arch: args.arch,
    installDir: args.installDir,
    runsc: args.runsc === undefined ? undefined : compact(args.runsc),
    docker: args.docker === undefined ? undefined : compact(args.docker),
    containerd: args.containerd === undefined ? undefined : compact(args.containerd),
    verify: args.verify === undefined ? undefined : compact(args.verify),
  });
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * gVisor on any machine reachable by SSH: installs a pinned, checksum-verified
 * runsc and shim, registers the runtime with Docker and/or containerd, then
 * proves isolation with a real sandboxed container and reports what it saw.
 *
 * One `remote.Command` per step, chained. A step's text carries only the
 * values it uses, and its triggers are the texts of the steps before it, so a
 * plan change re-runs exactly the steps it affects (and verify after them).
 */
export class Host extends pulumi.ComponentResource {
  /** What the verify step measured on the host. */
  public readonly verification: pulumi.Output<Verification>;
  /** runsc version reported by the installed binary. */
  public readonly runscVersion: pulumi.Output<string>;
  /** True when every enabled runtime ran a sandbox with its own kernel. */
  public readonly isolated: pulumi.Output<boolean>;
  /** The step scripts, exactly as they run on the host. */
  public readonly steps: pulumi.Output<HostSteps>;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything: bad input fails the preview
    // without leaving a half-registered component behind.
    const { connection, uninstallOnDelete, installEngine, ...setup } = args;
    const plan = planOutput(setup, (resolved) => buildHostPlan(setupPlanInput(resolved), "args"));
    super("pulumi-gvisor:index:Host", name, {}, opts);

    const text = (step: StepName) => plan.apply((p: HostPlan) => renderStepCommand(p, step));

    const install = text("install");
    const configureDocker = text("configure-docker");
    const configureContainerd = text("configure-containerd");
    const verify = text("verify");
    const uninstall = text("uninstall");

    const conn = connectionFor(connection);
    const step = (
      resourceName: string,
      create: pulumi.Output<string>,
      after: pulumi.Resource[],
      upstream: pulumi.Output<string>[],
      del?: pulumi.Input<string>,
    ) =>
      new command.remote.Command(
        `${name}-${resourceName}`,
        {
          connection: conn,
          create,
          // Same text on update: an input change re-runs the (idempotent)
          // step in place instead of replacing it, which would run the old
          // resource's delete (uninstall) after the new install.
          update: create,
          delete: del,
          triggers: upstream.map((t) => t.apply(sha256)),
          addPreviousOutputInEnv: false,
          logging: command.types.enums.remote.Logging.StdoutAndStderr,
        },
        { parent: this, dependsOn: after },
      );

    // The engine step exists only when asked for at construction time: the
    // resource graph must be known before any Output resolves.
    const engineCmd = installEngine === true ? [step("engine", text("engine"), [], [])] : [];

    const keepOnDelete = pulumi.output(uninstallOnDelete ?? true);
    const installCmd = step(
      "install",
      install,
      engineCmd,
      [],
      pulumi.all([keepOnDelete, uninstall]).apply(([on, text]) => (on ? text : "")),
    );
    const dockerCmd = step("configure-docker", configureDocker, [installCmd], [install]);
    const containerdCmd = step("configure-containerd", configureContainerd, [installCmd], [install]);
    const verifyCmd = step("verify", verify, [dockerCmd, containerdCmd], [install, configureDocker, configureContainerd]);

    this.verification = verifyCmd.stdout.apply(parseVerification);
    this.runscVersion = this.verification.runscVersion;
    this.isolated = this.verification.isolated;
    this.steps = pulumi
      .all([install, configureDocker, configureContainerd, verify, uninstall])
      .apply(([i, d, c, v, u]) => ({ install: i, configureDocker: d, configureContainerd: c, verify: v, uninstall: u }));

    this.registerOutputs({
      verification: this.verification,
      runscVersion: this.runscVersion,
      isolated: this.isolated,
      steps: this.steps,
    });
  }
}

/**
 * The connection with its credentials marked secret, and a patient dial
 * policy by default: a machine that was just created may take a while to
 * accept SSH.
 */
export function connectionFor(connection: pulumi.Input<HostConnectionArgs>): pulumi.Output<command.types.input.remote.ConnectionArgs> {
  return pulumi.secret(
    pulumi.output(connection).apply((c) =>
      compact({
        host: c.host,
        port: c.port ?? 22,
        user: c.user ?? "root",
        privateKey: c.privateKey,
        privateKeyPassword: c.privateKeyPassword,
        password: c.password,
        hostKey: c.hostKey,
        proxy: c.proxy === undefined ? undefined : compact({ ...c.proxy, port: c.proxy.port ?? 22, user: c.proxy.user ?? "root" }),
        dialErrorLimit: c.dialErrorLimit ?? 10,
        perDialTimeout: c.perDialTimeout ?? 15,
      }),
    ),
  );
}
