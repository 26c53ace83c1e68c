import { check, joinPath, show } from "./errors";
import { optionalBoolean, optionalOneOf, requireAbsolutePath, requireWord } from "./text";

/** How the sandbox intercepts system calls. */
export const RunscPlatform = {
  /** gVisor's default: seccomp-based, works on any VM. */
  Systrap: "systrap",
  /** Deprecated upstream and slated for removal; kept for old runsc builds. */
  Ptrace: "ptrace",
  /** Needs /dev/kvm: bare metal or nested virtualization. */
  Kvm: "kvm",
} as const;
export type RunscPlatform = (typeof RunscPlatform)[keyof typeof RunscPlatform];

/** The sandbox's network stack. */
export const RunscNetwork = {
  /** gVisor's own netstack, isolated from the host (default). */
  Sandbox: "sandbox",
  /** The host network stack: faster, much weaker isolation. */
  Host: "host",
  /** Loopback only: no network at all. */
  None: "none",
} as const;
export type RunscNetwork = (typeof RunscNetwork)[keyof typeof RunscNetwork];

/** Filesystem validation for the root mount. */
export const RunscFileAccess = { Exclusive: "exclusive", Shared: "shared" } as const;
export type RunscFileAccess = (typeof RunscFileAccess)[keyof typeof RunscFileAccess];

/**
 * Which cgroup paths runsc expects: it must match what the caller (kubelet
 * through containerd, or Docker) hands it, or every sandbox fails to start
 * ("expected cgroupsPath to be of format slice:prefix:name", or "invalid
 * systemd path").
 */
export const RunscCgroupMode = {
  /**
   * Kubernetes nodes (EksNodeGroup, renderEksNodeUserData): the node bootstrap
   * reads the node's containerd runc `SystemdCgroup` and kubelet `cgroupDriver`
   * and sets runsc the same. Elsewhere no flag is passed (runsc's default, cgroupfs).
   */
  Auto: "auto",
  /** systemd slices (`slice:prefix:name`): flag `systemd-cgroup=true`. */
  Systemd: "systemd",
  /** cgroupfs paths (`/kubepods/...`): flag `systemd-cgroup=false`, runsc's own default. */
  Cgroupfs: "cgroupfs",
} as const;
export type RunscCgroupMode = (typeof RunscCgroupMode)[keyof typeof RunscCgroupMode];

/** The runsc flag that carries the cgroup mode. */
export const SYSTEMD_CGROUP_FLAG = "systemd-cgroup";

/** Access to host Unix-domain sockets. */
export const RunscHostUds = { None: "none", Open: "open", Create: "create", All: "all" } as const;
export type RunscHostUds = (typeof RunscHostUds)[keyof typeof RunscHostUds];

/**
 * Typed runsc options. Each one set becomes a global `--flag=value` on every
 * runsc call (Docker `runtimeArgs`, containerd `runsc.toml`); an option left
 * unset is not passed, so the installed runsc uses its own default.
 */
export interface RunscOptions {
  /** @default the runsc default (`systrap` on current releases) */
  platform?: RunscPlatform;
  /** @default the runsc default (`sandbox`) */
  network?: RunscNetwork;
  /** @default the runsc default (`exclusive`) */
  fileAccess?: RunscFileAccess;
  /** Overlay for container mounts: `none`, or `root|all` `:` `memory|self|/abs/dir`. @default the runsc default (`root:self` on current releases) */
  overlay2?: string;
  /** @default the runsc default (`none`) */
  hostUds?: RunscHostUds;
  /** Direct host file access from the sentry. @default the runsc default (`true`) */
  directfs?: boolean;
  /** @default false */
  debug?: boolean;
  /** Debug log location; may use `%ID%`, `%CID%`, `%COMMAND%`. Must be absolute. @default not set */
  debugLog?: string;
  /** Log every system call (slow; for debugging). @default false */
  strace?: boolean;
  /** NVIDIA GPU proxy. @default false */
  nvproxy?: boolean;
  /**
   * The cgroup paths runsc expects (flag `systemd-cgroup`). Defaults to `auto`:
   * on Kubernetes nodes the bootstrap follows the node's containerd runc
   * `SystemdCgroup` and kubelet `cgroupDriver`, refusing an explicit value
   * that contradicts them; on SSH hosts `auto` passes no flag (runsc's
   * default, cgroupfs). Set `systemd` on hosts whose Docker or kubelet uses
   * the systemd cgroup driver.
   * @default "auto"
   */
  cgroupMode?: RunscCgroupMode;
  /**
   * Further global flags by name (without `--`), for options not typed here.
   * Names are checked against the flag grammar and against the typed options;
   * every flag is also checked against the installed runsc before use.
   * @default {}
   */
  extraFlags?: Record<string, string>;
}

/** One global runsc flag, validated. */
export interface RunscFlag {
  name: string;
  value: string;
}

/** Flags from older guides that current runsc refuses or ignores, with what to use instead. */
export const DEPRECATED_FLAGS: Readonly<Record<string, string>> = {
  vfs2: 'it is a deprecated no-op on current runsc and will be removed; drop it (VFS2 is always on)',
  "fsgofer-host-uds": 'it is deprecated; use runsc.hostUds = "all" (flag host-uds=all)',
  overlay: 'it is deprecated; use runsc.overlay2 (e.g. "root:memory", "all:self" or "none")',
};

/** Flags owned by the container engine or this package; setting them breaks the integration. */
const RESERVED_FLAGS: Readonly<Record<string, string>> = {
  root: "the container engine sets the runsc state directory itself",
  "log-fd": "the container engine owns runsc's log descriptors",
  "debug-log-fd": "the container engine owns runsc's log descriptors",
  "panic-log-fd": "the container engine owns runsc's log descriptors",
};

/** Typed options, in the order their flags are rendered. */
const TYPED: ReadonlyArray<{ key: keyof RunscOptions; flag: string }> = [
  { key: "platform", flag: "platform" },
  { key: "network", flag: "network" },
  { key: "fileAccess", flag: "file-access" },
  { key: "overlay2", flag: "overlay2" },
  { key: "hostUds", flag: "host-uds" },
  { key: "directfs", flag: "directfs" },
  { key: "debug", flag: "debug" },
  { key: "debugLog", flag: "debug-log" },
  { key: "strace", flag: "strace" },
  { key: "nvproxy", flag: "nvproxy" },
  { key: "cgroupMode", flag: SYSTEMD_CGROUP_FLAG },
];

const FLAG_NAME = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
const OVERLAY2 = /^(?:none|(?:root|all):(?:memory|self|\/[A-Za-z0-9._+@/-]*))$/;

/**
 * Validates runsc options and returns the flags they render to, in a stable
 * order (typed options first, then `extraFlags` sorted by name).
 */
export function runscFlags(options: RunscOptions | undefined, path = "runsc"): RunscFlag[] {
  if (options === undefined) return [];
  check(typeof options === "object" && options !== null, path, `must be an object, got ${show(options)}`);
  const known = new Set<string>([...TYPED.map((t) => t.key), "extraFlags"]);
  for (const key of Object.keys(options)) {
    const hint = DEPRECATED_FLAGS[key] ?? (key === "fsgoferHostUds" ? DEPRECATED_FLAGS["fsgofer-host-uds"] : undefined);
    check(hint === undefined, joinPath(path, key), `refused: ${hint}`);
    check(known.has(key), joinPath(path, key), `is not a runsc option; known: ${[...known].join(", ")}`);
  }

  const flags: RunscFlag[] = [];
  const add = (flag: string, value: string | boolean | undefined) => {
    if (value !== undefined) flags.push({ name: flag, value: String(value) });
  };
  const p = (key: string) => joinPath(path, key);
  add("platform", optionalOneOf(options.platform, Object.values(RunscPlatform), p("platform")));
  add("network", optionalOneOf(options.network, Object.values(RunscNetwork), p("network")));
  add("file-access", optionalOneOf(options.fileAccess, Object.values(RunscFileAccess), p("fileAccess")));
  if (options.overlay2 !== undefined) {
    const value = requireWord(options.overlay2, p("overlay2"));
    check(
      OVERLAY2.test(value),
      p("overlay2"),
      `must be "none" or "<root|all>:<memory|self|/abs/dir>" (e.g. "root:memory"), got ${show(value)}`,
    );
    add("overlay2", value);
  }
  add("host-uds", optionalOneOf(options.hostUds, Object.values(RunscHostUds), p("hostUds")));
  add("directfs", optionalBoolean(options.directfs, p("directfs")));
  add("debug", optionalBoolean(options.debug, p("debug")));
  if (options.debugLog !== undefined) {
    const value = requireWord(options.debugLog, p("debugLog"));
    // runsc expands %ID%, %CID%, %COMMAND%, %TIMESTAMP%, and a trailing "/"
    // means "a directory of per-container logs": both are fine in the path.
    requireAbsolutePath(value.replace(/%(?:ID|CID|COMMAND|TIMESTAMP)%/g, "x").replace(/(.)\/$/, "$1"), p("debugLog"));
    add("debug-log", value);
  }
  add("strace", optionalBoolean(options.strace, p("strace")));
  add("nvproxy", optionalBoolean(options.nvproxy, p("nvproxy")));
  const cgroupMode = optionalOneOf(options.cgroupMode, Object.values(RunscCgroupMode), p("cgroupMode"));
  if (cgroupMode !== undefined && cgroupMode !== RunscCgroupMode.Auto) add(SYSTEMD_CGROUP_FLAG, cgroupMode === RunscCgroupMode.Systemd);

  const extra = options.extraFlags ?? {};
  check(typeof extra === "object" && extra !== null && !Array.isArray(extra), p("extraFlags"), "must be a map of flag name to value");
  const typedByFlag = new Map(TYPED.map((t) => [t.flag, t.key]));
  for (const name of Object.keys(extra).sort()) {
    const at = `${p("extraFlags")}[${show(name)}]`;
    const bare = name.replace(/^-+/, "");
    check(bare === name, at, `write the flag name without leading dashes ("${bare}")`);
    check(DEPRECATED_FLAGS[name] === undefined, at, `refused: ${DEPRECATED_FLAGS[name]}`);
    check(FLAG_NAME.test(name), at, "is not a valid runsc flag name (lowercase letters, digits, '-' or '_' between words)");
    const typed = typedByFlag.get(name);
    check(typed === undefined, at, `use the typed option runsc.${typed} instead`);
    check(RESERVED_FLAGS[name] === undefined, at, `refused: ${RESERVED_FLAGS[name]}`);
    const raw = extra[name] as unknown;
    const value = typeof raw === "boolean" || typeof raw === "number" ? String(raw) : raw;
    flags.push({ name, value: requireWord(value, at) });
  }
  const words = flagWords(flags);
  const total = words.reduce((n, w) => n + Buffer.byteLength(w) + 1, 0);
  if (total > MAX_RUNSC_FLAGS_BYTES) {
    const largest = flags.reduce((a, b) => (Buffer.byteLength(b.value) > Buffer.byteLength(a.value) ? b : a));
    check(
      false,
      path,
      `the runsc flags add up to ${total} bytes, more than the ${MAX_RUNSC_FLAGS_BYTES} that fit: every flag is passed on every runsc call and repeated in the host steps, where the kernel refuses over-long arguments ("Argument list too long"); shorten the values (the longest is --${largest.name}, ${Buffer.byteLength(largest.value)} bytes)`,
    );
  }
  return flags;
}

/** The cgroup mode the flags carry: `auto` when they leave `systemd-cgroup` unset. */
export function runscCgroupMode(flags: readonly RunscFlag[]): RunscCgroupMode {
  const flag = flags.find((f) => f.name === SYSTEMD_CGROUP_FLAG);
  if (flag === undefined) return RunscCgroupMode.Auto;
  return flag.value === "true" ? RunscCgroupMode.Systemd : RunscCgroupMode.Cgroupfs;
}
/**
 * The most bytes all runsc flags may take together (`--name=value` words and
 * the spaces between them). They travel in daemon.json, runsc.toml and
 * several times in the step text, and each runsc call passes them all.
 */
export const MAX_RUNSC_FLAGS_BYTES = 8 * 1024;

/** The flags as runsc command-line words: `--name=value`. */
export function flagWords(flags: readonly RunscFlag[]): string[] {
  return flags.map((f) => `--${f.name}=${f.value}`);
}
