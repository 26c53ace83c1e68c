import { Arch, GvisorArch, gvisorArch, parseArch } from "./arch";
import { DockerRuntimeEntry, containerdRuntimeBlock, dockerRuntimeEntry, runscToml } from "./engines";
import { check, collect, joinPath, show } from "./errors";
import { MAX_DOWNLOAD_BYTES, ResolvedRelease, Sha512Pins, parseSha512Pins, resolveRelease } from "./release";
import { RunscFlag, RunscOptions, runscFlags } from "./runsc-options";
import { optionalBoolean, requireAbsolutePath, requireLine } from "./text";

/** Docker choices, as users write them. */
export interface DockerOptions {
  /** Register the runtime with Docker. @default true */
  enabled?: boolean;
  /** Runtime name, the `docker run --runtime=` value. @default "runsc" */
  runtimeName?: string;
  /** Make it Docker's `default-runtime`, so every container is sandboxed. @default false */
  defaultRuntime?: boolean;
  /** Path of daemon.json. @default "/etc/docker/daemon.json" */
  configPath?: string;
}

/** containerd choices, as users write them. */
export interface ContainerdOptions {
  /** Register the runtime with containerd's CRI plugin. @default false */
  enabled?: boolean;
  /** Runtime handler name (what a Kubernetes RuntimeClass `handler` names). DNS label. @default "runsc" */
  runtimeName?: string;
  /** Path of containerd's config.toml. @default "/etc/containerd/config.toml" */
  configPath?: string;
  /** Path of the shim's runsc.toml. @default "/etc/containerd/runsc.toml" */
  runscConfigPath?: string;
}

/** Verification choices, as users write them. */
export interface VerifyOptions {
  /** Image run under each runtime; needs `sh`, `uname`, `head`. @default DEFAULT_VERIFY_IMAGE */
  image?: string;
  /** Fail the step (and the deployment) when the host is not isolated. @default true */
  enforce?: boolean;
  /**
   * Also measure what the sandbox costs on this host: rounds of one container
   * under runc and one under the runtime (alternating which goes first), each
   * timed from the host for its start (`docker run` to the container's first
   * output), a syscall-heavy part (`dd` of 20000 one-byte blocks from
   * /dev/zero to /dev/null: 40000 read/write syscalls) and a file-heavy part
   * (create, list, read and remove 200 small files in the container's root
   * file system). The medians (ms), the runsc/runc ratios and the runsc
   * platform go in `verification.overhead`. Needs only sh, dd, seq, ls, cat
   * and rm in the image; takes a few seconds. A failure to measure is
   * reported there and never fails the step. Docker only (containerd is
   * checked at config level). Defaults to off.
   * @default false
   */
  measureOverhead?: boolean;
  /** Rounds of the sandbox cost measurement (1 to 20); only with `measureOverhead`. Defaults to 3. @default 3 */
  overheadRounds?: number;
}

/** Everything that decides what runs on a host, as users write it. */
export interface HostPlanInput {
  /** gVisor release. @default DEFAULT_GVISOR_VERSION */
  version?: string;
  /** Release bucket base URL (internal mirror). @default DEFAULT_RELEASE_MIRROR */
  mirror?: string;
  /**
   * sha512 of `gvisor.tar.bz2` per arch, checked on the host in addition to the
   * mirror's checksum file. Defaults to no pins (the mirror's checksum only).
   * @default {}
   */
  sha512?: Sha512Pins;
  /** Expected CPU arch; checked on the host. @default detected on the host */
  arch?: string;
  /** Where runsc and the shim are installed. @default "/usr/local/bin" */
  installDir?: string;
  /** Typed runsc options. @default {} */
  runsc?: RunscOptions;
  /** @default { enabled: true } */
  docker?: DockerOptions;
  /** @default { enabled: false } */
  containerd?: ContainerdOptions;
  /** @default { enforce: true } */
  verify?: VerifyOptions;
}

/** A validated, fully defaulted plan: plain data, ready to render. */
export interface HostPlan {
  release: ResolvedRelease;
  /** Digests of gvisor.tar.bz2 pinned in the program, by `uname -m` arch. */
  sha512Pins: Sha512Pins;
  /** Largest archive or binary the install step downloads, in bytes. */
  downloadMaxBytes: number;
  /** Expected arch, or undefined to accept the host's. */
  arch?: Arch;
  gvisorArch?: GvisorArch;
  installDir: string;
  runscPath: string;
  stateDir: string;
  runscFlags: RunscFlag[];
  platform?: string;
  docker: { enabled: boolean; runtimeName: string; defaultRuntime: boolean; configPath: string; runtimeEntry: DockerRuntimeEntry };
  containerd: {
    enabled: boolean;
    runtimeName: string;
    configPath: string;
    runscConfigPath: string;
    blockV2: string;
    blockV3: string;
    runscToml: string;
  };
  /** `overheadRounds` is set only when the sandbox cost is measured. */
  verify: { image: string; enforce: boolean; overheadRounds?: number };
}

/**
 * A small image that has sh, uname and head, pinned by digest so a re-pointed
 * tag cannot change what verify runs. The digest is the multi-arch index of
 * `busybox:1.36.1` (x86_64 and arm64), as several independent public projects
 * pin it; the tag stays in the reference for readers.
 */
export const DEFAULT_VERIFY_IMAGE = "docker.io/library/busybox:1.36.1@sha256:73aaf090f3d85aa34ee199857f03fa3a95c8ede2ffd4cc2cdb5b94e566b11662";
/** Where runsc, the shim and `gvisor-bin/` are installed when `installDir` is not given. */
export const DEFAULT_INSTALL_DIR = "/usr/local/bin";
export const STATE_DIR = "/var/lib/pulumi-gvisor";
/** Rounds of the sandbox cost measurement when `verify.overheadRounds` is not given. */
export const DEFAULT_OVERHEAD_ROUNDS = 3;
/** The most rounds `verify.overheadRounds` takes (each round runs two containers). */
export const MAX_OVERHEAD_ROUNDS = 20;

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DOCKER_RUNTIME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const IMAGE_REF =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

function objectOrEmpty<T>(value: T | undefined, property: string): Partial<NonNullable<T>> {
  if (value === undefined) return {};
  check(typeof value === "object" && value !== null && !Array.isArray(value), property, `must be an object, got ${show(value)}`);
  return value as Partial<NonNullable<T>>;
}

/** Refuses unknown keys, so a typo is an error rather than a silently ignored setting. */
function onlyKeys(value: object, allowed: readonly string[], property: string): void {
  for (const key of Object.keys(value)) {
    check(allowed.includes(key), joinPath(property, key), `is not a known setting; known: ${allowed.join(", ")}`);
  }
}

/**
 * Validates user input and returns a complete plan. Throws
 * PlanValidationError naming the property path (under `root`, e.g. `args`).
 */
export function buildHostPlan(input: HostPlanInput, root = ""): HostPlan {
  const at = (p: string) => joinPath(root, p);
  onlyKeys(input, ["version", "mirror", "sha512", "arch", "installDir", "runsc", "docker", "containerd", "verify"], root || "args");

  // Independent checks, each reported (and each skipped while a value it
  // needs is not known yet) on its own.
  const [release, arch, installDir, flags, docker, containerd, verify] = collect(
    () => resolveRelease(input, { version: at("version"), mirror: at("mirror") }),
    () => (input.arch === undefined ? undefined : parseArch(input.arch, at("arch"))),
    () => (input.installDir === undefined ? DEFAULT_INSTALL_DIR : requireAbsolutePath(input.installDir, at("installDir"))),
    () => runscFlags(input.runsc, at("runsc")),
    () => dockerOptions(input.docker, at),
    () => containerdOptions(input.containerd, at),
    () => verifyOptions(input.verify, at),
  );
  const sha512Pins = parseSha512Pins(input.sha512, at("sha512"), release);
  const runscPath = installDir === "/" ? "/runsc" : `${installDir}/runsc`;
  const dockerEnabled = docker.enabled;
  const containerdEnabled = containerd.enabled;
  const dockerRuntime = docker.runtimeName;
  const handler = containerd.runtimeName;
  const runscConfigPath = containerd.runscConfigPath;
  const image = verify.image;
  check(dockerEnabled || containerdEnabled, root || "args", "enables neither docker nor containerd: gVisor would be installed but no container engine could use it");

  const platform = flags.find((f) => f.name === "platform")?.value;
  return {
    release,
    sha512Pins,
    downloadMaxBytes: MAX_DOWNLOAD_BYTES,
    arch,
    gvisorArch: arch === undefined ? undefined : gvisorArch(arch),
    installDir,
    runscPath,
    stateDir: STATE_DIR,
    runscFlags: flags,
    platform,
    docker: {
      enabled: dockerEnabled,
      runtimeName: dockerRuntime,
      defaultRuntime: docker.defaultRuntime,
      configPath: docker.configPath,
      runtimeEntry: dockerRuntimeEntry(runscPath, flags),
    },
    containerd: {
      enabled: containerdEnabled,
      runtimeName: handler,
      configPath: containerd.configPath,
      runscConfigPath,
      blockV2: containerdRuntimeBlock(2, handler, runscConfigPath),
      blockV3: containerdRuntimeBlock(3, handler, runscConfigPath),
      runscToml: runscToml(runscPath, flags),
    },
    verify: {
      image,
      enforce: verify.enforce,
      ...(verify.overheadRounds === undefined ? {} : { overheadRounds: verify.overheadRounds }),
    },
  };
}

/** The Docker settings, checked and defaulted. */
function dockerOptions(value: DockerOptions | undefined, at: (p: string) => string) {
  const docker = objectOrEmpty(value, at("docker"));
  onlyKeys(docker, ["enabled", "runtimeName", "defaultRuntime", "configPath"], at("docker"));
  const runtimeName = requireLine(docker.runtimeName ?? "runsc", at("docker.runtimeName"));
  check(
    DOCKER_RUNTIME_NAME.test(runtimeName),
    at("docker.runtimeName"),
    `must be letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit), got ${show(runtimeName)}`,
  );
  check(!["runc", "io.containerd.runc.v2"].includes(runtimeName), at("docker.runtimeName"), `${show(runtimeName)} is Docker's built-in runtime; pick another name`);
  return {
    enabled: optionalBoolean(docker.enabled, at("docker.enabled")) ?? true,
    runtimeName,
    defaultRuntime: optionalBoolean(docker.defaultRuntime, at("docker.defaultRuntime")) ?? false,
    configPath: requireAbsolutePath(docker.configPath ?? "/etc/docker/daemon.json", at("docker.configPath")),
  };
}

/** The containerd settings, checked and defaulted. */
function containerdOptions(value: ContainerdOptions | undefined, at: (p: string) => string) {
  const containerd = objectOrEmpty(value, at("containerd"));
  onlyKeys(containerd, ["enabled", "runtimeName", "configPath", "runscConfigPath"], at("containerd"));
  const runtimeName = requireLine(containerd.runtimeName ?? "runsc", at("containerd.runtimeName"));
  check(
    DNS_LABEL.test(runtimeName),
    at("containerd.runtimeName"),
    `must be a DNS label (lowercase letters, digits, '-', at most 63) so a RuntimeClass can name it, got ${show(runtimeName)}`,
  );
  check(runtimeName !== "runc", at("containerd.runtimeName"), '"runc" is containerd\'s default runtime; pick another name');
  return {
    enabled: optionalBoolean(containerd.enabled, at("containerd.enabled")) ?? false,
    runtimeName,
    runscConfigPath: requireAbsolutePath(containerd.runscConfigPath ?? "/etc/containerd/runsc.toml", at("containerd.runscConfigPath")),
    configPath: requireAbsolutePath(containerd.configPath ?? "/etc/containerd/config.toml", at("containerd.configPath")),
  };
}

/** The verification settings, checked and defaulted. */
function verifyOptions(value: VerifyOptions | undefined, at: (p: string) => string) {
  const verify = objectOrEmpty(value, at("verify"));
  onlyKeys(verify, ["image", "enforce", "measureOverhead", "overheadRounds"], at("verify"));
  const [image, enforce, overheadRounds] = collect(
    () => {
      const image = requireLine(verify.image ?? DEFAULT_VERIFY_IMAGE, at("verify.image"));
      check(IMAGE_REF.test(image), at("verify.image"), `is not a valid image reference (e.g. "busybox:1.36.1" or "registry.example.com/team/busybox@sha256:…"), got ${show(image)}`);
      return image;
    },
    () => optionalBoolean(verify.enforce, at("verify.enforce")) ?? true,
    () => verifyOverheadRounds(verify, at),
  );
  return { image, enforce, overheadRounds };
}

/** The rounds of the sandbox cost measurement, or undefined when it is off. */
function verifyOverheadRounds(verify: Partial<VerifyOptions>, at: (p: string) => string): number | undefined {
  const measure = optionalBoolean(verify.measureOverhead, at("verify.measureOverhead")) ?? false;
  const rounds = verify.overheadRounds;
  if (rounds !== undefined) {
    check(
      typeof rounds === "number" && Number.isInteger(rounds) && rounds >= 1 && rounds <= MAX_OVERHEAD_ROUNDS,
      at("verify.overheadRounds"),
      `must be a whole number from 1 to ${MAX_OVERHEAD_ROUNDS}, got ${show(rounds)}`,
    );
    check(measure, at("verify.overheadRounds"), `is set, but ${at("verify.measureOverhead")} is not true; set measureOverhead: true to measure, or leave overheadRounds out`);
  }
  return measure ? (rounds ?? DEFAULT_OVERHEAD_ROUNDS) : undefined;
}
