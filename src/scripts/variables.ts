/**
 * The contract between the TypeScript renderer and the shell step bodies in
 * `steps/*.sh`. Every value a step needs reaches the host as one of these
 * shell variables, assigned (shell-quoted) at the top of the rendered text.
 * Nothing else crosses: SSH environment variables are not delivered by a stock
 * sshd, and no user value is ever interpolated into script text.
 *
 * Booleans are the strings `true` / `false`. Lists are space-separated; the
 * plan validator guarantees their items contain no whitespace.
 */
export interface StepVariables {
  /** Name of the step being run (install, configure-docker, …); used in messages. */
  GV_STEP: string;
  /** Release label as the user gave it (`20261005.0`, `20260817.0`, `latest`, `nightly/2026-11-01`). */
  GV_VERSION: string;
  /** Release base URL without arch and without trailing slash, e.g. `https://storage.googleapis.com/gvisor/releases/release/20261005.0`. */
  GV_RELEASE_URL: string;
  /** `archive` (gvisor.tar.bz2 + .sha512) or `loose` (runsc, containerd-shim-runsc-v1, each with .sha512). */
  GV_LAYOUT: "archive" | "loose";
  /**
   * Archive files the release ships, space-separated, preferred first
   * (`gvisor.tar.zstd gvisor.tar.bz2`, or `gvisor.tar.bz2`); empty for the
   * loose layout. The host takes zstd only when it has the `zstd` command and
   * the mirror serves it (a 404 falls back to bz2).
   */
  GV_ARCHIVES: string;
  /**
   * sha512 digests of gvisor.tar.bz2 pinned in the program, space-separated
   * `<uname -m>=<128 hex>` words; empty for none. A pinned host downloads
   * gvisor.tar.bz2 and checks it against both the pin and the mirror's file.
   */
  GV_SHA512_PINS: string;
  /** Oldest host kernel (`major.minor`) the release runs on, or empty when none is known. */
  GV_KERNEL_FLOOR: string;
  /** Largest archive or binary the install step downloads, in bytes (decimal). */
  GV_DOWNLOAD_MAX_BYTES: string;
  /** Expected `uname -m` (`x86_64` | `aarch64`), or empty to accept whatever the host is. */
  GV_ARCH: string;
  /** Where runsc, containerd-shim-runsc-v1 and gvisor-bin/ are installed. */
  GV_INSTALL_DIR: string;
  /** Where steps keep their records and backups (checksums, original config bytes). */
  GV_STATE_DIR: string;
  /** Global runsc flags, space-separated `--name=value` words. Empty for none. */
  GV_RUNSC_FLAGS: string;
  /** Platform the plan asks for (`systrap` | `ptrace` | `kvm`), or empty for the binary's default. */
  GV_RUNSC_PLATFORM: string;
  /** Whether Docker is configured. */
  GV_DOCKER_ENABLED: string;
  /** Path of Docker's daemon.json. */
  GV_DOCKER_CONFIG: string;
  /** Docker runtime name (the `--runtime=` value). */
  GV_DOCKER_RUNTIME: string;
  /** The runtime entry as one JSON object: `{"path": "...", "runtimeArgs": [...]}`. */
  GV_DOCKER_RUNTIME_ENTRY: string;
  /** Whether the runtime becomes Docker's `default-runtime`. */
  GV_DOCKER_DEFAULT_RUNTIME: string;
  /** Whether containerd is configured. */
  GV_CONTAINERD_ENABLED: string;
  /** Path of containerd's config.toml. */
  GV_CONTAINERD_CONFIG: string;
  /** containerd runtime handler name (what a RuntimeClass `handler` names). */
  GV_CONTAINERD_RUNTIME: string;
  /** TOML of the runtime tables for config `version = 2` (containerd 1.x), multi-line. */
  GV_CONTAINERD_BLOCK_V2: string;
  /** TOML of the runtime tables for config `version = 3` / `4` (containerd 2.x), multi-line. */
  GV_CONTAINERD_BLOCK_V3: string;
  /** Path of the shim's runsc.toml. */
  GV_RUNSC_TOML_PATH: string;
  /** Full content of runsc.toml, multi-line. */
  GV_RUNSC_TOML: string;
  /** Image the verify step runs (`uname -r`, a /proc/kallsyms probe) under each runtime. */
  GV_VERIFY_IMAGE: string;
  /** Whether verify exits non-zero when the host is not isolated. */
  GV_VERIFY_ENFORCE: string;
  /**
   * Rounds of verify's sandbox cost measurement (decimal, at least 1), or
   * empty when it is off. Empty, it is left out of the step's text altogether
   * (see OMITTED_WHEN_EMPTY), so plans that do not measure render as before.
   */
  GV_VERIFY_OVERHEAD_ROUNDS: string;
}

/** The order variables are written in, so rendered text is byte-stable. */
export const STEP_VARIABLE_ORDER: readonly (keyof StepVariables)[] = [
  "GV_STEP",
  "GV_VERSION",
  "GV_RELEASE_URL",
  "GV_LAYOUT",
  "GV_ARCHIVES",
  "GV_SHA512_PINS",
  "GV_KERNEL_FLOOR",
  "GV_DOWNLOAD_MAX_BYTES",
  "GV_ARCH",
  "GV_INSTALL_DIR",
  "GV_STATE_DIR",
  "GV_RUNSC_FLAGS",
  "GV_RUNSC_PLATFORM",
  "GV_DOCKER_ENABLED",
  "GV_DOCKER_CONFIG",
  "GV_DOCKER_RUNTIME",
  "GV_DOCKER_RUNTIME_ENTRY",
  "GV_DOCKER_DEFAULT_RUNTIME",
  "GV_CONTAINERD_ENABLED",
  "GV_CONTAINERD_CONFIG",
  "GV_CONTAINERD_RUNTIME",
  "GV_CONTAINERD_BLOCK_V2",
  "GV_CONTAINERD_BLOCK_V3",
  "GV_RUNSC_TOML_PATH",
  "GV_RUNSC_TOML",
  "GV_VERIFY_IMAGE",
  "GV_VERIFY_ENFORCE",
  "GV_VERIFY_OVERHEAD_ROUNDS",
];

/** Optional variables: not assigned at all when empty (the step reads them as `${NAME:-}`). */
export const OMITTED_WHEN_EMPTY: ReadonlySet<keyof StepVariables> = new Set(["GV_VERIFY_OVERHEAD_ROUNDS"]);
