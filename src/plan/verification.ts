/** What the verify step measured for one runtime of one engine. */
export interface RuntimeVerification {
  /** `docker` (a real `docker run`) or `containerd` (config-level check). */
  engine: string;
  /** Runtime name (`docker run --runtime=` value or containerd handler). */
  name: string;
  /** Whether a sandboxed container really ran. */
  ran: boolean;
  /** `uname -r` inside the sandbox (gVisor reports `4.4.0`), empty when it did not run. */
  sandboxKernel: string;
  /** Whether /proc/kallsyms was unreadable inside the sandbox. */
  kallsymsHidden: boolean;
  /**
   * Host-side evidence: the executable the engine has registered under `name`
   * (`docker info`), which must be the installed runsc. Empty when the engine
   * reports none (or for containerd, which verify checks at config level).
   */
  runtimePath: string;
  /**
   * Host-side evidence: while the probe container ran, a host process whose
   * `/proc/PID/exe` is the installed runsc (or a gvisor-bin/ sidecar) served
   * that container. What the image prints can be faked; this cannot.
   */
  sandboxProcess: boolean;
  /** Why the runtime failed, when it did. */
  error?: string;
}

/** containerd's state as the verify step read it. */
export interface ContainerdVerification {
  /** Config version of containerd's config file (2 or 3). */
  configVersion: number;
  /** Whether containerd's own config dump shows the runsc runtime. */
  runtimeConfigured: boolean;
}

/** Medians, in milliseconds, of one runtime's timed runs (see `VerifyOptions.measureOverhead`). */
export interface WorkloadTimings {
  /** `docker run` until the container's first output: create, start and the runtime's boot. */
  startMs: number;
  /** The syscall-heavy part: `dd` of 20000 one-byte blocks, /dev/zero to /dev/null. */
  syscallMs: number;
  /** The file-heavy part: create, list, read and remove 200 small files in the container's root file system. */
  fileMs: number;
}

/** Sandboxed time over native time (runsc / runc) per part: 1.0 costs nothing, 2.0 takes twice as long. */
export interface OverheadRatios {
  /** Container start. */
  start: number;
  /** The syscall-heavy part. */
  syscall: number;
  /** The file-heavy part. */
  file: number;
}

/** What the sandbox costs on this host, for one engine's runtime. */
export interface OverheadMeasurement {
  /** `docker` (measured) or `containerd` (never measured: verify checks it at config level). */
  engine: string;
  /** The sandboxed runtime measured (`docker run --runtime=` value or containerd handler). */
  runtime: string;
  /** The runtime it is compared with: `runc`. */
  baseline: string;
  /** runsc platform the sandbox ran on (`systrap`, `ptrace`, `kvm`), empty when unknown. Compare figures per platform. */
  platform: string;
  /** Rounds run; each figure is a median over them. */
  rounds: number;
  /** Medians under the sandboxed runtime; absent when nothing was measured. */
  sandboxed?: WorkloadTimings;
  /** Medians under runc; absent when nothing was measured. */
  native?: WorkloadTimings;
  /** sandboxed / native per part; absent when nothing was measured. */
  ratios?: OverheadRatios;
  /** Why nothing was measured, when so (the verify step itself does not fail for it). */
  error?: string;
}

/**
 * The shape version of the verify step's document; bumped whenever fields are
 * added or change. Version 3 adds `overhead` (the step writes 3 only when it
 * measured the sandbox cost); version 2 documents are still read.
 */
export const VERIFICATION_SCHEMA_VERSION = 3;
/** Every schema version parseVerification reads. */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [2, VERIFICATION_SCHEMA_VERSION];

/** The verify step's report, measured on the host. */
export interface Verification {
  /** runsc version as the installed binary reports it. */
  runscVersion: string;
  /** The host's `uname -m`. */
  arch: string;
  /** The host's kernel release (`uname -r`), to compare with the sandbox kernel. */
  hostKernel: string;
  /** One entry per enabled runtime. */
  runtimes: RuntimeVerification[];
  /** containerd's state, when containerd is enabled. */
  containerd?: ContainerdVerification;
  /** True only when every enabled check passed. */
  isolated: boolean;
  /** One sentence per failed check. */
  failures: string[];
  /** The sandbox cost per engine, when `verify.measureOverhead` is on. */
  overhead?: OverheadMeasurement[];
}

/** The verify step printed something that is not a verification report. */
export class VerificationParseError extends Error {
  constructor(message: string) {
    super(`verify step output: ${message}`);
    this.name = "VerificationParseError";
  }
}

function field<T>(obj: Record<string, unknown>, key: string, type: "string" | "boolean" | "number", where: string): T {
  const value = obj[key];
  if (typeof value !== type) {
    throw new VerificationParseError(`${where}${key} must be a ${type}, got ${JSON.stringify(value) ?? "nothing"}`);
  }
  return value as T;
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new VerificationParseError(`${where} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function optionalRecord(obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> | undefined {
  const value = obj[key];
  return value === null || value === undefined ? undefined : record(value, `${where}${key}`);
}

function timings(obj: Record<string, unknown>, key: string, where: string): WorkloadTimings | undefined {
  const t = optionalRecord(obj, key, where);
  if (t === undefined) return undefined;
  const at = `${where}${key}.`;
  return { startMs: field(t, "startMs", "number", at), syscallMs: field(t, "syscallMs", "number", at), fileMs: field(t, "fileMs", "number", at) };
}

function overheadEntry(value: unknown, where: string): OverheadMeasurement {
  const o = record(value, where.slice(0, -1));
  const r = optionalRecord(o, "ratios", where);
  const ratios =
    r === undefined
      ? undefined
      : {
          start: field<number>(r, "start", "number", `${where}ratios.`),
          syscall: field<number>(r, "syscall", "number", `${where}ratios.`),
          file: field<number>(r, "file", "number", `${where}ratios.`),
        };
  const sandboxed = timings(o, "sandboxed", where);
  const native = timings(o, "native", where);
  const error = o.error === null || o.error === undefined ? undefined : field<string>(o, "error", "string", where);
  return {
    engine: field<string>(o, "engine", "string", where),
    runtime: field<string>(o, "runtime", "string", where),
    baseline: field<string>(o, "baseline", "string", where),
    platform: field<string>(o, "platform", "string", where),
    rounds: field<number>(o, "rounds", "number", where),
    ...(sandboxed === undefined ? {} : { sandboxed }),
    ...(native === undefined ? {} : { native }),
    ...(ratios === undefined ? {} : { ratios }),
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * Parses the verify step's stdout: exactly one JSON object of a schema
 * version in {@link READABLE_SCHEMA_VERSIONS} (2: no `overhead`; 3: may have it).
 * Unknown fields are ignored; missing required ones, or another schema
 * version, are an error that says which.
 */
export function parseVerification(stdout: string): Verification {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim());
  } catch {
    const head = stdout.trim().slice(0, 200);
    throw new VerificationParseError(`expected one JSON object, got ${JSON.stringify(head)}`);
  }
  const top = record(doc, "the document");
  if (typeof top.schemaVersion !== "number" || !READABLE_SCHEMA_VERSIONS.includes(top.schemaVersion)) {
    throw new VerificationParseError(
      `schemaVersion must be ${READABLE_SCHEMA_VERSIONS.join(" or ")} (the verify step of this package version), got ${JSON.stringify(top.schemaVersion) ?? "nothing"}`,
    );
  }
  let overhead: OverheadMeasurement[] | undefined;
  // Schema 3 has overhead only when the step measured it; schema 2 never has it.
  if (top.schemaVersion >= 3 && top.overhead !== null && top.overhead !== undefined) {
    if (!Array.isArray(top.overhead)) throw new VerificationParseError(`overhead must be an array, got ${JSON.stringify(top.overhead)}`);
    overhead = top.overhead.map((o, i) => overheadEntry(o, `overhead[${i}].`));
  }
  if (!Array.isArray(top.runtimes)) throw new VerificationParseError("runtimes must be an array");
  if (!Array.isArray(top.failures) || top.failures.some((f) => typeof f !== "string")) {
    throw new VerificationParseError("failures must be an array of strings");
  }
  const runtimes = top.runtimes.map((r, i) => {
    const where = `runtimes[${i}].`;
    const rt = record(r, `runtimes[${i}]`);
    const error = rt.error === null || rt.error === undefined ? undefined : field<string>(rt, "error", "string", where);
    return {
      engine: field<string>(rt, "engine", "string", where),
      name: field<string>(rt, "name", "string", where),
      ran: field<boolean>(rt, "ran", "boolean", where),
      sandboxKernel: field<string>(rt, "sandboxKernel", "string", where),
      kallsymsHidden: field<boolean>(rt, "kallsymsHidden", "boolean", where),
      runtimePath: field<string>(rt, "runtimePath", "string", where),
      sandboxProcess: field<boolean>(rt, "sandboxProcess", "boolean", where),
      ...(error === undefined ? {} : { error }),
    };
  });
  let containerd: ContainerdVerification | undefined;
  if (top.containerd !== null && top.containerd !== undefined) {
    const c = record(top.containerd, "containerd");
    containerd = {
      configVersion: field<number>(c, "configVersion", "number", "containerd."),
      runtimeConfigured: field<boolean>(c, "runtimeConfigured", "boolean", "containerd."),
    };
  }
  return {
    runscVersion: field<string>(top, "runscVersion", "string", ""),
    arch: field<string>(top, "arch", "string", ""),
    hostKernel: field<string>(top, "hostKernel", "string", ""),
    runtimes,
    ...(containerd === undefined ? {} : { containerd }),
    isolated: field<boolean>(top, "isolated", "boolean", ""),
    failures: top.failures as string[],
    ...(overhead === undefined ? {} : { overhead }),
  };
}
