import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostPlanInput, buildHostPlan } from "../plan/host-plan";
import { Verification, parseVerification } from "../plan/verification";
import { bundleUploadPath, stepBundle, stepBundleFile } from "../scripts/bundle";
import { STEP_COMMAND, renderAdoptInvocation, renderReleaseInvocation, renderStepInvocation } from "../scripts/invocation";
import { StepName } from "../scripts/render";
import { checkConnection, warnIfHostKeyUnpinned } from "./connection";
import { GvisorSetupArgs, HostArgs, HostConnectionArgs } from "./host-args";
import { compact, planOutput } from "./validate";

/** sha256 of each step's root script (its stdin; the lifecycle's create and delete), as stored in state. */
export interface HostStepDigests {
  /** The lifecycle's create: records this Host as the machine's owner. */
  adopt: string;
  /** The install step: download, verify sha512, install runsc and the shim. */
  install: string;
  /** Registers the runtime in daemon.json and reloads dockerd. */
  configureDocker: string;
  /** Writes runsc.toml and containerd's runtime table. */
  configureContainerd: string;
  /** Runs a sandboxed container per runtime and prints the report. */
  verify: string;
  /** The uninstall run on delete; empty when uninstallOnDelete is false. */
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
 * Resources, in order (each a child of this component):
 * - `<name>-lifecycle`: its create records this Host as the machine's owner;
 *   its delete uninstalls (unless `uninstallOnDelete: false`, or another Host
 *   took the machine over). Replaced, delete first, when the machine's address
 *   changes: a move cleans the old machine before the new one is set up.
 * - `<name>-bundle` (remote.CopyToRemote): the step bundle, content-addressed;
 *   state keeps its hash only.
 * - `[<name>-engine]`, `<name>-install`, `<name>-configure-docker`,
 *   `<name>-configure-containerd`, `<name>-verify`: short commands (the
 *   step's quoted values and a call by hash). No delete, so no replacement can
 *   undo them. A change of a step's values updates it in place; the steps
 *   after it carry its digest and re-run too.
 */
export class Host extends pulumi.ComponentResource {
  /** What the verify step measured on the host. */
  public readonly verification: pulumi.Output<Verification>;
  /** runsc version reported by the installed binary. */
  public readonly runscVersion: pulumi.Output<string>;
  /** True when every enabled runtime ran a sandbox with its own kernel. */
  public readonly isolated: pulumi.Output<boolean>;
  /** The machine this Host sets up, as `host:port` (not secret, so previews show it). */
  public readonly target: pulumi.Output<string>;
  /** sha256 of the step bundle the host runs (see `stepBundle()` for its text). */
  public readonly bundleId: pulumi.Output<string>;
  /** sha256 of each step command, as stored in state; the texts come from `renderHostCommands`. */
  public readonly stepDigests: pulumi.Output<HostStepDigests>;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything: bad input fails the preview
    // without leaving a half-registered component behind.
    const { connection, uninstallOnDelete, installEngine, repair, driftCheck, ...setup } = args;
    const plan = planOutput(setup, setupPlanInput, (input) => buildHostPlan(input, "args"));
    const checkedConnection = checkConnection(connection, "args.connection");
    super("pulumi-gvisor:index:Host", name, {}, opts);
    warnIfHostKeyUnpinned(checkedConnection, this);

    const bundle = stepBundle();
    const conn = connectionFor(checkedConnection);
    // The address and login are no secret: previews show where a Host goes.
    // The machine's address, normalised: "Host.Example." and "host.example" are one machine.
    const target = pulumi.unsecret(
      pulumi.all([field(connection, "host"), field(connection, "port")]).apply(([h, p]) => `${String(h).toLowerCase().replace(/\.$/, "")}:${p ?? 22}`),
    );
    // A pinned host key names the machine itself: a machine rebuilt behind the
    // same address gets the bundle again (a changed connection alone copies nothing).
    const identity = pulumi.unsecret(field(connection, "hostKey").apply((k) => (k ? sha256(k.trim()).slice(0, 16) : "")));
    const login = pulumi.unsecret(field(connection, "user").apply((u) => u ?? "root"));
    const bundleRef = login.apply((user) => ({ id: bundle.id, uploadPath: bundleUploadPath(bundle.id, user), resourceName: `${name}-bundle` }));
    // The URN as a plain value: an Output of this component would make each
    // child wait for all children, itself included.
    const urn = new Promise<string>((resolve) => this.urn.apply((u) => resolve(u)));
    const owner = pulumi.output(urn).apply((u) => ({ id: sha256(u).slice(0, 32), urn: u }));
    const logging = command.types.enums.remote.Logging.StdoutAndStderr;

    const adoptText = pulumi.all([plan, owner]).apply(([p, o]) => renderAdoptInvocation(p, o));
    const releaseText = pulumi
      .all([plan, bundleRef, owner, pulumi.output(uninstallOnDelete ?? true)])
      .apply(([p, b, o, on]) => (on ? renderReleaseInvocation(p, b, o) : undefined));
    const lifecycle = new command.remote.Command(
      `${name}-lifecycle`,
      {
        connection: conn,
        create: adoptText,
        // Absent, not "": the provider skips delete only when the field is
        // absent; an empty string still dials the (maybe gone) machine.
        delete: releaseText as pulumi.Output<string>,
        triggers: [target],
        addPreviousOutputInEnv: false,
        logging,
      },
      // Delete first on replacement: a move uninstalls from the old machine
      // (with the old connection) before the new one is set up, and a
      // --replace reinstalls instead of uninstalling after the install.
      { parent: this, deleteBeforeReplace: true },
    );

    const upload = new command.remote.CopyToRemote(
      `${name}-bundle`,
      {
        connection: conn,
        source: new pulumi.asset.FileAsset(stepBundleFile(bundle)),
        remotePath: bundleRef.apply((b) => b.uploadPath),
        // Sent again on a move, and after the lifecycle's replacement
        // (whose uninstall removes the upload with the rest).
        triggers: [target, lifecycle.id, identity],
      },
      { parent: this, dependsOn: [lifecycle] },
    );

    const extra = pulumi.output(repair).apply((token): Record<string, string> => (token === undefined ? {} : { GV_REPAIR: token }));
    // A new stamp on every run changes verify's text, so the engine runs it on every up.
    const driftStamp = pulumi.output(driftCheck).apply((on): Record<string, string> => (on === true ? { GV_VERIFY_RUN: new Date().toISOString() } : {}));
    const noStamp = pulumi.output<Record<string, string>>({});
    // A step's root script goes on stdin; its one-line command never changes.
    const text = (step: StepName, upstream: pulumi.Output<string>[], stamp = noStamp): pulumi.Output<string> =>
      pulumi.all([plan, bundleRef, extra, stamp, pulumi.all(upstream)]).apply(
        ([p, b, x, s, up]) =>
          renderStepInvocation(p, step, b, {
            notes: up.length ? [`runs after: ${up.map((t) => sha256(t).slice(0, 12)).join(" ")}`] : [],
            extra: { ...x, ...s },
          }).stdin,
      );
    const step = (resourceName: string, stdin: pulumi.Output<string>, after: pulumi.Resource[]) =>
      new command.remote.Command(
        `${name}-${resourceName}`,
        {
          connection: conn,
          create: STEP_COMMAND,
          stdin,
          // No update: the provider runs `create` on update. No delete: a
          // replacement (rename, --replace) must never undo the new run.
          // The lifecycle's id: when it is replaced (uninstall + adopt), every
          // step is replaced and so runs again.
          triggers: [target, lifecycle.id],
          addPreviousOutputInEnv: false,
          logging,
        },
        { parent: this, dependsOn: after },
      );

    // The engine step exists only when asked for at construction time: the
    // resource graph must be known before any Output resolves.
    const engineText = installEngine === true ? text("engine", []) : undefined;
    const engineCmd = engineText ? [step("engine", engineText, [upload])] : [];
    const install = text("install", engineText ? [engineText] : []);
    const configureDocker = text("configure-docker", [install]);
    const configureContainerd = text("configure-containerd", [install]);
    const verify = text("verify", [install, configureDocker, configureContainerd], driftStamp);

    const installCmd = step("install", install, [upload, ...engineCmd]);
    const dockerCmd = step("configure-docker", configureDocker, [installCmd]);
    const containerdCmd = step("configure-containerd", configureContainerd, [installCmd]);
    const verifyCmd = step("verify", verify, [dockerCmd, containerdCmd]);

    this.verification = verifyCmd.stdout.apply(parseVerification);
    this.runscVersion = this.verification.runscVersion;
    this.isolated = this.verification.isolated;
    this.target = target;
    this.bundleId = pulumi.output(bundle.id);
    this.stepDigests = pulumi.all([adoptText, install, configureDocker, configureContainerd, verify, releaseText]).apply(([a, i, d, c, v, u]) => ({
      adopt: sha256(a),
      install: sha256(i),
      configureDocker: sha256(d),
      configureContainerd: sha256(c),
      verify: sha256(v),
      uninstall: u === undefined ? "" : sha256(u),
    }));

    this.registerOutputs({
      verification: this.verification,
      runscVersion: this.runscVersion,
      isolated: this.isolated,
      target: this.target,
      bundleId: this.bundleId,
      stepDigests: this.stepDigests,
    });
  }
}

/**
 * One field of a connection, known as soon as that field is: lifting the
 * whole object would wait for the address of a machine made in the same run.
 */
function field<K extends keyof HostConnectionArgs>(connection: pulumi.Input<HostConnectionArgs>, key: K): pulumi.Output<pulumi.Unwrap<HostConnectionArgs[K]>> {
  if (pulumi.Output.isInstance(connection) || connection instanceof Promise) {
    return pulumi.output(connection).apply((c) => c[key]) as pulumi.Output<pulumi.Unwrap<HostConnectionArgs[K]>>;
  }
  return pulumi.output(connection[key] as pulumi.Input<unknown>) as unknown as pulumi.Output<pulumi.Unwrap<HostConnectionArgs[K]>>;
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
