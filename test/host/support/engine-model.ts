/**
 * A small model of the Pulumi engine and the @pulumi/command 1.2.1 remote
 * provider, to drive real components against real test hosts across many
 * `pulumi up`s. It plugs into the Node SDK as its resource monitor (the way
 * `setMocks` does), keeps state between operations, and executes each step
 * the way the engine and the provider would. Each rule names its source:
 *   [cmd]  pulumi-command v1.2.1, provider/pkg/provider/remote/
 *   [go]   pulumi-go-provider infer/ (default Diff and Check)
 *   [eng]  pulumi v3.248, pkg/resource/deploy/ (step_generator.go, step_executor.go)
 *   [sdk]  @pulumi/pulumi 3.248, runtime/resource.js and runtime/mocks.js
 * Deliberate simplifications are marked "model:".
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { Client, type ConnectConfig } from "ssh2";
import { lineDiff } from "../../support/line-diff";

// SDK internals the mock machinery itself uses [sdk runtime/mocks.js].
/* eslint-disable @typescript-eslint/no-require-imports */
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: new (mocks: pulumi.runtime.Mocks) => any };
const settings = require("@pulumi/pulumi/runtime/settings") as {
  setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean): void;
  waitForRPCs(): Promise<void>;
};
const stateModule = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };
const rpc = require("@pulumi/pulumi/runtime/rpc") as {
  serializeProperties(label: string, props: Record<string, unknown>): Promise<Record<string, unknown>>;
  specialSigKey: string;
  specialSecretSig: string;
  specialAssetSig: string;
};
const resproto = require("@pulumi/pulumi/proto/resource_pb") as { RegisterResourceResponse: new () => any };
const structproto = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: unknown): unknown } };
/* eslint-enable @typescript-eslint/no-require-imports */

/** A resource as the model's state (the snapshot) keeps it. */
export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  id: string;
  parent: string;
  /** Inputs with secrets unwrapped and assets as `{ asset: path, hash }`. */
  inputs: Record<string, any>;
  outputs: Record<string, any>;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace: boolean;
  /** model: a replaced resource whose delete has not run yet ([eng] keeps it with Delete: true). */
  pendingDelete?: boolean;
}

export type StepOp = "same" | "create" | "update" | "replace" | "delete";

/** One step the engine took (or, in preview, would take). */
export interface Step {
  op: StepOp;
  urn: string;
  /** The provider operation that ran a command on a host, if any. */
  ran?: "create" | "update" | "delete" | "copy";
  /** Input keys that differ from the old state (update and replace). */
  changed?: string[];
  error?: string;
  /** Wall time of the step once it held an executor slot (delete-first deletes included), ms. */
  ms?: number;
}

export interface UpResult {
  steps: Step[];
  /** The first step error, formatted as the provider reports it. */
  error?: string;
  /** What `pulumi preview --diff` would print for the changed string inputs. */
  diff: string;
}

export interface UpOptions {
  preview?: boolean;
  /** `pulumi up --replace URN` (repeatable); a name matches its resource's last URN part. */
  replace?: string[];
}

export interface EngineModelOptions {
  project?: string;
  stack?: string;
  /** [eng] --parallel defaults to 4 × GOMAXPROCS (pkg/cmd/pulumi/operations/up.go). */
  parallel?: number;
  /** Answers invokes (provider functions); the Host component makes none. */
  call?: (token: string, inputs: Record<string, any>) => Record<string, any>;
}

/** Go's strconv.Quote for the text the provider puts in its error ([cmd] `%q`). */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const named: Record<string, string> = {
      "\u0007": "\\a",
      "\b": "\\b",
      "\f": "\\f",
      "\n": "\\n",
      "\r": "\\r",
      "\t": "\\t",
      "\u000b": "\\v",
      "\\": "\\\\",
      '"': '\\"',
    };
    if (named[ch]) out += named[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

// The SDK's own signatures for secrets and assets in serialized properties.
const SECRET_KEY = rpc.specialSigKey;
const SECRET_SIG = rpc.specialSecretSig;
const ASSET_SIG = rpc.specialAssetSig;

/** Secrets unwrapped, assets reduced to path and content hash (what [eng] diffs assets by). */
function plain(value: any): any {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    if (value[SECRET_KEY] === SECRET_SIG) return plain(value.value);
    if (value[SECRET_KEY] === ASSET_SIG) {
      const file = value.path as string;
      return { asset: file, hash: createHash("sha256").update(fs.readFileSync(file)).digest("hex") };
    }
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, plain(v)]),
    );
  }
  return value;
}

/** [eng] assets compare by hash only (sdk/go/common/resource/asset: Equals). */
function equalInputs(a: any, b: any): boolean {
  if (a && b && typeof a === "object" && typeof b === "object" && "hash" in a && "asset" in a && "hash" in b) return a.hash === b.hash;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equalInputs(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => equalInputs(a[k], b[k]));
  }
  return a === b;
}

function changedKeys(olds: Record<string, any>, news: Record<string, any>): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => !equalInputs(olds[k], news[k])).sort();
}

interface Connection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  hostKey?: string;
  dialErrorLimit?: number;
  perDialTimeout?: number;
}

/** [cmd connection.go] Dial: dialErrorLimit N allows N+1 dials, then "after N failed attempts: <err>". */
async function dial(conn: Connection): Promise<Client> {
  const limit = conn.dialErrorLimit ?? 10;
  let last: Error | undefined;
  for (let dials = 1; ; dials++) {
    try {
      return await new Promise<Client>((resolve, reject) => {
        const client = new Client();
        const expected = conn.hostKey ? Buffer.from(conn.hostKey.trim().split(/\s+/)[1] ?? "", "base64") : undefined;
        const config: ConnectConfig = {
          host: conn.host,
          port: conn.port ?? 22,
          username: conn.user ?? "root",
          privateKey: conn.privateKey,
          readyTimeout: (conn.perDialTimeout ?? 15) * 1000,
          // [cmd] a hostKey is pinned (ssh.FixedHostKey); without one any key is accepted.
          hostVerifier: (key: Buffer) => expected === undefined || key.equals(expected),
        };
        client
          .on("ready", () => resolve(client))
          .on("error", reject)
          .connect(config);
      });
    } catch (e) {
      last = e as Error;
      if (dials > limit) break;
      // model: the provider backs off between dials (retry.Until); a short fixed pause here.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`after ${limit} failed attempts: ${last?.message}`);
}

/** [cmd commandOutputs.go run] one session, the whole text as one exec; stdout and stderr also interleaved. */
async function runCommand(conn: Connection, text: string, stdin?: string): Promise<{ stdout: string; stderr: string }> {
  const client = await dial(conn);
  try {
    return await new Promise((resolve, reject) => {
      client.exec(text, (err, stream) => {
        if (err) return reject(err);
        let stdout = "";
        let stderr = "";
        let both = "";
        let code: number | null = null;
        let signal: string | undefined;
        stream.on("data", (b: Buffer) => ((stdout += b.toString()), (both += b.toString())));
        stream.stderr.on("data", (b: Buffer) => ((stderr += b.toString()), (both += b.toString())));
        stream.on("exit", (c: number | null, s?: string) => ((code = c), (signal = s)));
        // [cmd] session.Stdin is the `stdin` input when it is set and not empty; otherwise EOF.
        stream.end(stdin !== undefined && stdin.length > 0 ? stdin : undefined);
        stream.on("close", () => {
          if (code === 0) return resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
          // [cmd] fmt.Errorf("%w: running %q:\n%s", err, cmd, stdouterrbuf); golang.org/x/crypto/ssh ExitError text.
          const status = signal ? `Process exited with status ${code ?? "?"} from signal ${signal}` : `Process exited with status ${code}`;
          reject(new Error(`${status}: running ${goQuote(text)}:\n${both}`));
        });
      });
    });
  } finally {
    client.end();
  }
}

/** [cmd copyController.go] CopyToRemote of a file asset: SFTP, parent dirs created, an existing file overwritten. */
async function copyToRemote(conn: Connection, source: string, remotePath: string): Promise<void> {
  const client = await dial(conn);
  try {
    await new Promise<void>((resolve, reject) => {
      client.sftp((err, sftp) => {
        if (err) return reject(err);
        // A relative path is the SFTP server's: under the login's home.
        const parts = path.posix
          .dirname(remotePath)
          .split("/")
          .filter((p) => p !== "" && p !== ".");
        const mkdirs = async () => {
          let dir = remotePath.startsWith("/") ? "" : ".";
          for (const p of parts) {
            dir += `/${p}`;
            await new Promise<void>((res) => sftp.mkdir(dir, () => res()));
          }
        };
        mkdirs()
          .then(() => sftp.fastPut(source, remotePath, (e) => (e ? reject(new Error(`failed to copy ${source} to ${remotePath}: ${e.message}`)) : resolve())))
          .catch(reject);
      });
    });
  } finally {
    client.end();
  }
}

/** A counting semaphore: the engine's step executor runs at most `parallel` steps at once. */
class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.free === 0) await new Promise<void>((r) => this.waiting.push(r));
    else this.free--;
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** [eng resource/urn.go] NewURN: the type is qualified by the parent's type chain. */
function newUrn(stack: string, project: string, parentType: string, type: string, name: string): string {
  const qualified = parentType ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}
const urnType = (urn: string) => urn.split("::")[2] ?? "";
const urnName = (urn: string) => urn.split("::").slice(3).join("::");

export class EngineModel {
  /** The snapshot, in the order resources were created (dependencies first). */
  state = new Map<string, ResourceState>();
  readonly project: string;
  readonly stack: string;
  private readonly parallel: number;

  constructor(private readonly opts: EngineModelOptions = {}) {
    this.project = opts.project ?? "pulumi-gvisor-lifecycle";
    this.stack = opts.stack ?? "dev";
    // GOMAXPROCS defaults to the number of CPUs the process may use.
    this.parallel = opts.parallel ?? 4 * os.availableParallelism();
  }

  /** `pulumi up` (or `pulumi preview` with `preview: true`) of `program`. */
  async up(program: () => void | Promise<void>, upOpts: UpOptions = {}): Promise<UpResult> {
    const preview = upOpts.preview ?? false;
    const run = new Deployment(this, preview, upOpts.replace ?? [], new Slots(this.parallel));
    const monitor = new MockMonitor({ newResource: () => ({ id: "", state: {} }), call: (a) => this.opts.call?.(a.token, a.inputs) ?? a.inputs });
    monitor.registerResource = (req: any, callback: (err: unknown, res?: unknown) => void) => {
      run.register(req).then(
        (res) => callback(null, res),
        (err) => callback(err),
      );
    };
    monitor.registerResourceOutputs = (_req: unknown, callback: (err: unknown, res?: unknown) => void) => callback(null, {});
    settings.setMockOptions(monitor, this.project, this.stack, preview);
    const store = stateModule.getStore();
    Object.assign(store, {
      supportsSecrets: true,
      supportsResourceReferences: true,
      supportsOutputValues: false,
      supportsAliasSpecs: true,
      supportsDeletedWith: true,
    });
    // The SDK rejects a failed resource's outputs and its dependents'; the
    // error itself is already in the run's errors.
    const swallow = () => undefined;
    process.on("unhandledRejection", swallow);
    try {
      await program();
      await run.settled(settings.waitForRPCs());
      await run.finish();
    } finally {
      // Rejections of a failed resource's outputs surface a tick later.
      await new Promise((r) => setTimeout(r, 20));
      process.off("unhandledRejection", swallow);
    }
    if (!preview) this.state = run.newState();
    return { steps: run.steps, error: run.errors[0], diff: run.diffText() };
  }

  /** `pulumi destroy`: every resource deleted, dependents first ([eng] reverse dependency order). */
  async destroy(): Promise<UpResult> {
    const steps: Step[] = [];
    const errors: string[] = [];
    for (const r of [...this.state.values()].reverse()) {
      const step: Step = { op: "delete", urn: r.urn };
      steps.push(step);
      try {
        step.ran = await providerDelete(r);
        this.state.delete(r.urn);
      } catch (e) {
        step.error = (e as Error).message;
        errors.push(step.error);
        break; // [eng] stops at the first failed step
      }
    }
    return { steps, error: errors[0], diff: "" };
  }

  /** Bytes of the snapshot as JSON: what the engine rewrites at every checkpoint. */
  stateBytes(filter: (r: ResourceState) => boolean = () => true): number {
    return Buffer.byteLength(JSON.stringify([...this.state.values()].filter(filter)));
  }

  /** The state of the resource whose URN ends with `::name`. */
  resource(name: string): ResourceState {
    const r = [...this.state.values()].find((s) => s.name === name);
    if (!r) throw new Error(`no resource named ${name} in state (have: ${[...this.state.values()].map((s) => s.name).join(", ")})`);
    return r;
  }
}

/** [cmd] Delete runs `delete` with the OLD inputs and connection; skipped only when absent. CopyToRemote has no delete. */
async function providerDelete(r: ResourceState): Promise<Step["ran"]> {
  if (!r.custom || r.type !== "command:remote:Command") return undefined;
  if (r.outputs.delete === undefined) return undefined;
  await runCommand(r.outputs.connection, r.outputs.delete, r.outputs.stdin);
  return "delete";
}

class Deployment {
  readonly steps: Step[] = [];
  readonly errors: string[] = [];
  private readonly registered = new Map<string, ResourceState>();
  /** Old URNs taken over through an alias, or already deleted for a delete-first replacement. */
  private readonly consumed = new Set<string>();
  private readonly diffs: string[] = [];
  /** Old URNs that a resource registered under a new URN took over through an alias. */
  private readonly takenOver = new Set<string>();
  /** Old URNs replaced create-before-delete in this run: deleted at the end. */
  private readonly replaced = new Set<string>();

  constructor(
    private readonly model: EngineModel,
    private readonly preview: boolean,
    private readonly replaceTargets: string[],
    private readonly slots: Slots,
  ) {}

  private inflight = 0;
  private lastActivity = Date.now();

  /**
   * Resolves when the program has registered everything it will. The SDK's
   * RPC queue drains on success; after a failure, resources waiting on the
   * failed one never register (as under the real engine, which stops), so
   * then the run ends once nothing has moved for a moment.
   */
  async settled(rpcs: Promise<void>): Promise<void> {
    let drained = false;
    void rpcs.then(() => (drained = true));
    while (!drained) {
      await new Promise((r) => setTimeout(r, 100));
      if (this.errors.length && this.inflight === 0 && Date.now() - this.lastActivity > 500) return;
    }
  }

  private aliasUrns(req: any, type: string, name: string, parentUrn: string): string[] {
    const urns: string[] = [];
    for (const alias of req.getAliasesList() as any[]) {
      if (alias.hasUrn?.() && alias.getUrn()) {
        urns.push(alias.getUrn());
        continue;
      }
      const spec = alias.getSpec?.();
      if (!spec) continue;
      const parent = spec.getNoparent() ? "" : spec.getParenturn() || parentUrn;
      const parentType = parent ? urnType(parent) : "";
      urns.push(
        newUrn(spec.getStack() || this.model.stack, spec.getProject() || this.model.project, parentType, spec.getType() || type, spec.getName() || name),
      );
    }
    // [eng] a child inherits its parent's aliases: the parent's old name is
    // swapped for the new one in the child's name (resmon inheritedChildAlias).
    const parent = parentUrn ? this.registered.get(parentUrn) : undefined;
    for (const parentAlias of parent ? ((parent as any).aliases as string[]) : []) {
      const childName = name.startsWith(parent!.name) ? urnName(parentAlias) + name.slice(parent!.name.length) : name;
      urns.push(newUrn(this.model.stack, this.model.project, urnType(parentAlias), type, childName));
    }
    return urns;
  }

  async register(req: any): Promise<unknown> {
    this.inflight++;
    this.lastActivity = Date.now();
    try {
      return await this.registerNow(req);
    } finally {
      this.inflight--;
      this.lastActivity = Date.now();
    }
  }

  private async registerNow(req: any): Promise<unknown> {
    const type: string = req.getType();
    const name: string = req.getName();
    const parentUrn: string = req.getParent() || "";
    const urn = newUrn(this.model.stack, this.model.project, parentUrn ? urnType(parentUrn) : "", type, name);
    // The serialized inputs, as the engine receives them (secrets and assets by signature).
    const inputs = plain(req.getObject().toJavaScript());
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v: any, k: string) => (propertyDependencies[k] = v.getUrnsList()));
    const aliases = this.aliasUrns(req, type, name, parentUrn);
    const news: ResourceState & { aliases?: string[] } = {
      urn,
      type,
      name,
      custom: req.getCustom(),
      id: "",
      parent: parentUrn,
      inputs,
      outputs: {},
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      aliases,
    };
    const oldUrn = [urn, ...aliases].find((u) => this.model.state.has(u) && !this.model.state.get(u)!.pendingDelete && !this.deleted.has(u));
    const olds = oldUrn ? this.model.state.get(oldUrn) : undefined;
    if (oldUrn) this.consumed.add(oldUrn);
    if (oldUrn && oldUrn !== urn) this.takenOver.add(oldUrn);

    const result = await this.step(news, olds);
    this.registered.set(urn, result);
    const response = new resproto.RegisterResourceResponse();
    response.setUrn(urn);
    response.setId(result.id);
    response.setObject(structproto.Struct.fromJavaScript(await rpc.serializeProperties("", result.outputs)));
    return response;
  }

  /** [eng step_generator.go] decide same / create / update / replace, then execute it. */
  private async step(news: ResourceState, olds: ResourceState | undefined): Promise<ResourceState> {
    if (!news.custom) {
      // Components have no provider: they are registered, never diffed.
      this.steps.push({ op: olds ? "same" : "create", urn: news.urn });
      return { ...news, id: "", outputs: {} };
    }
    if (!olds) return this.execute({ op: "create", urn: news.urn }, news, undefined);
    const changed = changedKeys(olds.inputs, news.inputs);
    const forced = this.replaceTargets.some((t) => t === news.urn || t === news.name);
    // [go] fields tagged replaceOnChanges (triggers) replace; the SDK also sends replaceOnChanges ["triggers[*]"].
    const replace = forced || changed.includes("triggers");
    if (changed.length === 0 && !forced) {
      this.steps.push({ op: "same", urn: news.urn });
      return { ...news, id: olds.id, outputs: olds.outputs };
    }
    this.recordDiff(news, olds, changed);
    return this.execute({ op: replace ? "replace" : "update", urn: news.urn, changed }, news, olds);
  }

  private async execute(step: Step, news: ResourceState, olds: ResourceState | undefined): Promise<ResourceState> {
    this.steps.push(step);
    if (this.errors.length) {
      // model: after a failed step the engine starts no new steps.
      step.error = "not run: an earlier step failed";
      throw new Error(`[engine-model] ${step.error}`);
    }
    if (this.preview) {
      if (step.op === "replace" && !news.deleteBeforeReplace) this.replaced.add(olds!.urn);
      // [cmd] nothing runs in preview; stdout/stderr are unknown on create and on a changed update.
      return { ...news, id: olds && step.op === "update" ? olds.id : "", outputs: { ...news.inputs } };
    }
    try {
      return await this.slots.run(async () => {
        const t0 = performance.now();
        if (step.op === "replace" && news.deleteBeforeReplace) await this.deleteFirst(olds!, step);
        const id = step.op === "update" ? olds!.id : randomBytes(4).toString("hex");
        const outputs = await this.providerWrite(step, news, olds);
        // [eng] the old resource is marked for deletion only once its replacement exists.
        if (step.op === "replace" && !news.deleteBeforeReplace) this.replaced.add(olds!.urn);
        step.ms = performance.now() - t0;
        return { ...news, id, outputs };
      });
    } catch (e) {
      step.error = (e as Error).message;
      this.errors.push(step.error);
      // [eng] a failed create leaves nothing in state; a failed update keeps the old state.
      if (olds && step.op === "update") this.registered.set(news.urn, olds);
      throw new Error(`[engine-model] ${step.error}`);
    }
  }

  /** [cmd] Create and Update of remote.Command and remote.CopyToRemote. */
  private async providerWrite(step: Step, news: ResourceState, olds: ResourceState | undefined): Promise<Record<string, any>> {
    const inputs = news.inputs;
    if (news.type === "command:remote:CopyToRemote") {
      // [cmd copyController.go] Update copies only when the source hash or remotePath changed.
      const needCopy = step.op !== "update" || olds!.inputs.source?.hash !== inputs.source?.hash || olds!.inputs.remotePath !== inputs.remotePath;
      if (needCopy) {
        await copyToRemote(inputs.connection, inputs.source.asset, inputs.remotePath);
        step.ran = "copy";
      }
      return { ...inputs };
    }
    if (news.type !== "command:remote:Command") return { ...inputs };
    // [cmd commandController.go] Update runs `update`, else `create`; Create runs `create` when set.
    const text: string | undefined = step.op === "update" ? (inputs.update ?? inputs.create) : inputs.create;
    if (text === undefined) return { ...inputs, ...(olds ? { stdout: olds.outputs.stdout, stderr: olds.outputs.stderr } : {}) };
    const out = await runCommand(inputs.connection, text, inputs.stdin);
    step.ran = step.op === "update" ? "update" : "create";
    return { ...inputs, stdout: out.stdout, stderr: out.stderr };
  }

  /**
   * [eng step_generator.go] delete-before-replace: first the dependents whose
   * inputs depend on this resource's outputs (calculateDependentReplacements:
   * property dependencies, not dependsOn), newest first, then the resource.
   */
  private async deleteFirst(olds: ResourceState, replacement: Step): Promise<void> {
    const doomed = new Set([olds.urn]);
    for (const r of this.model.state.values()) {
      if (Object.values(r.propertyDependencies).some((urns) => urns.some((u) => doomed.has(u)))) doomed.add(r.urn);
    }
    for (const r of [...this.model.state.values()].reverse()) {
      if (!doomed.has(r.urn) || this.deleted.has(r.urn)) continue;
      const step: Step = { op: "delete", urn: r.urn };
      // Listed before the replacement's create, in the order they run.
      this.steps.splice(this.steps.indexOf(replacement), 0, step);
      step.ran = await providerDelete(r);
      this.deleted.add(r.urn);
    }
  }

  /** Deletes at the end: replaced resources (create-before-delete) and resources no longer in the program. */
  async finish(): Promise<void> {
    const pending = [...this.model.state.values()].reverse().filter((r) => this.dueForDelete(r));
    if (this.preview) {
      for (const r of pending) this.steps.push({ op: "delete", urn: r.urn });
      return;
    }
    // [eng] after a failed step no further steps start: the deletes wait for the next run.
    if (this.errors.length) return;
    for (const r of pending) {
      const step: Step = { op: "delete", urn: r.urn };
      this.steps.push(step);
      try {
        step.ran = await providerDelete(r);
        this.deleted.add(r.urn);
      } catch (e) {
        step.error = (e as Error).message;
        this.errors.push(step.error);
        return;
      }
    }
  }
  /** Old resources deleted in this run (first, for a delete-first replacement, or at the end). */
  private readonly deleted = new Set<string>();

  private dueForDelete(r: ResourceState): boolean {
    if (this.deleted.has(r.urn)) return false;
    if (r.pendingDelete) return true;
    if (this.replaced.has(r.urn)) return true;
    return !this.consumed.has(r.urn);
  }

  /** The snapshot after this run. */
  newState(): Map<string, ResourceState> {
    const next = new Map<string, ResourceState>();
    // Old resources whose delete has not run yet stay (a failed run): the
    // replaced ones marked for deletion on the next run.
    for (const r of this.model.state.values()) {
      if (this.deleted.has(r.urn) || !this.dueForDelete(r)) continue;
      next.set(r.pendingDelete || this.replaced.has(r.urn) ? `${r.urn}#replaced` : r.urn, { ...r, pendingDelete: r.pendingDelete || this.replaced.has(r.urn) });
    }
    for (const r of this.registered.values()) {
      const { aliases: _aliases, ...rest } = r as ResourceState & { aliases?: string[] };
      void _aliases;
      next.set(r.urn, rest);
    }
    // An old resource the program did not get to register (its dependency failed) keeps its old state.
    for (const r of this.model.state.values()) {
      if (
        this.consumed.has(r.urn) &&
        !this.takenOver.has(r.urn) &&
        !this.deleted.has(r.urn) &&
        !this.replaced.has(r.urn) &&
        ![...next.values()].some((n) => n.urn === r.urn)
      )
        next.set(r.urn, r);
    }
    return next;
  }

  private recordDiff(news: ResourceState, olds: ResourceState, changed: string[]): void {
    const lines = [`~ ${news.type} ${news.name}`];
    for (const key of changed) {
      const a = olds.inputs[key];
      const b = news.inputs[key];
      if (key === "connection") lines.push(`    ~ connection: [secret]`);
      else if (typeof a === "string" && typeof b === "string" && (a.includes("\n") || b.includes("\n"))) {
        const d = lineDiff(a, b);
        lines.push(`    ~ ${key}:`, ...d.removed.map((l) => `      - ${l}`), ...d.added.map((l) => `      + ${l}`));
      } else lines.push(`    ~ ${key}: ${JSON.stringify(a)} => ${JSON.stringify(b)}`);
    }
    this.diffs.push(lines.join("\n"));
  }

  diffText(): string {
    return this.diffs.join("\n");
  }
}
