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

/** The shape version of the verify step's document; bumped whenever fields are added or change. */
export const VERIFICATION_SCHEMA_VERSION = 2;

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

/**
 * Parses the verify step's stdout: exactly one JSON object of
 * {@link VERIFICATION_SCHEMA_VERSION}. Unknown fields are ignored; missing
 * required ones, or another schema version, are an error that says which.
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
  if (top.schemaVersion !== VERIFICATION_SCHEMA_VERSION) {
    throw new VerificationParseError(
      `schemaVersion must be ${VERIFICATION_SCHEMA_VERSION} (the verify step of this package version), got ${JSON.stringify(top.schemaVersion) ?? "nothing"}`,
    );
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
  };
}
