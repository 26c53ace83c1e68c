import * as pulumi from "@pulumi/pulumi";
import { Arch } from "../plan/arch";
import { RunscCgroupMode, RunscFileAccess, RunscHostUds, RunscNetwork, RunscPlatform } from "../plan/runsc-options";

/** A jump host the SSH connection goes through. */
export interface ProxyConnectionArgs {
  /** Address (IP or DNS name) of the bastion. */
  host: pulumi.Input<string>;
  /** SSH port of the bastion. Defaults to `22`. @default 22 */
  port?: pulumi.Input<number>;
  /** Login user on the bastion. Defaults to `root`. @default "root" */
  user?: pulumi.Input<string>;
  /** PEM private key for the bastion. Secret: pass it as a secret (it is kept secret in state). Defaults to none: the SSH agent or `password`. @default none (agent or password) */
  privateKey?: pulumi.Input<string>;
  /** Password login on the bastion. Secret: pass it as a secret (it is kept secret in state). Defaults to none. @default none */
  password?: pulumi.Input<string>;
  /** Expected bastion host key (`ssh-ed25519 AAAA…`), pinned when given. Defaults to none: the bastion's key is not checked. @default not checked */
  hostKey?: pulumi.Input<string>;
}

/** How to reach the machine: the `@pulumi/command` remote connection shape. */
export interface HostConnectionArgs {
  /** Address (IP or DNS name) of the machine. */
  host: pulumi.Input<string>;
  /** SSH port. Defaults to `22`. @default 22 */
  port?: pulumi.Input<number>;
  /** Login user: root, or a user with passwordless sudo. Defaults to `root`. @default "root" */
  user?: pulumi.Input<string>;
  /** PEM or OpenSSH private key. Secret: pass it as a secret (it is kept secret in state). Defaults to none: the SSH agent or `password`. @default none (agent or password) */
  privateKey?: pulumi.Input<string>;
  /** Passphrase of `privateKey`. Secret: pass it as a secret (it is kept secret in state). Defaults to none (an unencrypted key). @default none */
  privateKeyPassword?: pulumi.Input<string>;
  /** Password login. Secret: pass it as a secret (it is kept secret in state). Defaults to none. @default none */
  password?: pulumi.Input<string>;
  /** Expected host key (`ssh-ed25519 AAAA…`). Pin it: without it the host key is not checked at all. Defaults to none (not checked). @default not checked */
  hostKey?: pulumi.Input<string>;
  /** Bastion to connect through. Defaults to none: a direct connection. @default direct connection */
  proxy?: pulumi.Input<ProxyConnectionArgs>;
  /** Dial attempts before giving up (a new VM may not accept SSH yet). Defaults to `10`. @default 10 */
  dialErrorLimit?: pulumi.Input<number>;
  /** Seconds per dial attempt. Defaults to `15`. @default 15 */
  perDialTimeout?: pulumi.Input<number>;
}

/**
 * Typed runsc options, passed to every runsc call (Docker `runtimeArgs`,
 * containerd's `runsc.toml`). Unset options are not passed, so runsc uses its
 * own defaults. Each flag is checked against the installed runsc before any
 * config that uses it is written: an unknown flag would make every container fail.
 */
export interface RunscArgs {
  /**
   * How the sandbox intercepts the application's system calls.
   * `systrap` (runsc's default): seccomp-based, works on any x86_64 or arm64
   * host and in VMs without nested virtualization; use it unless you have a
   * reason not to. `ptrace`: the old fallback, slower and deprecated upstream;
   * only for old runsc builds that lack systrap. `kvm`: uses hardware
   * virtualization through `/dev/kvm`, fastest for syscall-heavy work, but only
   * on bare metal (`*.metal`) or VMs with nested virtualization (EC2 C8i/M8i/R8i).
   * Defaults to runsc's default (`systrap`). @default the runsc default (`systrap`)
   */
  platform?: pulumi.Input<RunscPlatform>;
  /**
   * The sandbox's network stack. `sandbox` (runsc's default): gVisor's own
   * user-space network stack, the isolating choice. `host`: the host's network
   * stack through the sandbox, faster for network-heavy work but a larger attack
   * surface; use it only for trusted workloads that need the throughput. `none`:
   * loopback only, for jobs that must not reach the network at all.
   * Defaults to runsc's default (`sandbox`). @default the runsc default (`sandbox`)
   */
  network?: pulumi.Input<RunscNetwork>;
  /**
   * Whether the sandbox may cache the root filesystem. `exclusive` (runsc's
   * default): only this sandbox changes its files, so runsc caches them (fast).
   * `shared`: files may change outside the sandbox (a volume written by the host
   * or another container); slower, but the sandbox sees those changes.
   * Defaults to runsc's default (`exclusive`). @default the runsc default (`exclusive`)
   */
  fileAccess?: pulumi.Input<RunscFileAccess>;
  /**
   * An overlay over the container's filesystem that keeps its writes away from
   * the host: `root:memory` (the root filesystem's writes in sandbox memory),
   * `root:self` (in a file inside the container's rootfs), `all:…` (every
   * mount), `root:/abs/dir` (in a host directory), or `none` (writes go to the
   * host filesystem). Use `none` when containers write much data you must keep;
   * memory overlays count against the container's memory. Replaces the
   * deprecated `overlay` flag. Defaults to runsc's default (current releases overlay the root filesystem). @default the runsc default
   */
  overlay2?: pulumi.Input<string>;
  /**
   * Host Unix domain sockets the sandbox may use: `none` (runsc's default),
   * `open` (connect to existing sockets, e.g. a mounted database socket),
   * `create` (create sockets on host mounts), `all`. Allow only what the
   * workload needs. Replaces the deprecated `fsgofer-host-uds` flag.
   * Defaults to runsc's default (`none`). @default the runsc default (`none`)
   */
  hostUds?: pulumi.Input<RunscHostUds>;
  /**
   * Lets the sandbox open host files directly instead of through the gofer
   * process: faster file access, with the sandbox's seccomp filter still
   * limiting it. Turn it off only to keep all file access behind the gofer.
   * Defaults to runsc's default (`true`). @default the runsc default (`true`)
   */
  directfs?: pulumi.Input<boolean>;
  /** Debug logging of runsc itself (verbose; for troubleshooting, with `debugLog`). Defaults to `false`. @default false */
  debug?: pulumi.Input<boolean>;
  /**
   * Where runsc writes its debug logs: an absolute path, which may use `%ID%`,
   * `%CID%`, `%COMMAND%` (ending in `/` makes one file per command in that
   * directory). Defaults to none: no debug log. @default not set
   */
  debugLog?: pulumi.Input<string>;
  /** Log every system call the application makes (very slow; for troubleshooting only). Defaults to `false`. @default false */
  strace?: pulumi.Input<boolean>;
  /** NVIDIA GPU proxying into the sandbox. Current runsc turns it on by itself when GPU devices are in the container spec. Defaults to `false`. @default false */
  nvproxy?: pulumi.Input<boolean>;
  /**
   * Which cgroup paths runsc expects (flag `systemd-cgroup`); it must match the
   * paths kubelet/containerd or Docker hand it, or every sandbox fails. `auto`:
   * EKS nodes follow their containerd runc `SystemdCgroup` and kubelet
   * `cgroupDriver` (a contradicting explicit value is refused on the node); on a
   * Host `auto` passes no flag (runsc's default, cgroupfs). On a Host whose Docker
   * (`docker info -f '{{.CgroupDriver}}'`) or kubelet uses systemd, set `systemd`.
   * Defaults to `auto`.
   * @default "auto"
   */
  cgroupMode?: pulumi.Input<RunscCgroupMode>;
  /**
   * Further global runsc flags by name (no leading dashes), for flags without
   * a typed option. Cgroup mode is one: `{ "systemd-cgroup": "true" }` when the
   * engine passes systemd slice paths (`slice:prefix:name`, e.g. containerd or
   * kubelet with the systemd cgroup driver); leave it unset for cgroupfs paths.
   * It must match the paths the engine passes, or every container fails.
   * Deprecated flags are refused with their modern replacement.
   * Defaults to `{}`. @default {}
   */
  extraFlags?: pulumi.Input<{ [name: string]: pulumi.Input<string> }>;
}

/** Docker integration. */
export interface DockerArgs {
  /** Register the runtime in Docker's daemon.json (other keys are kept). Defaults to `true`. @default true */
  enabled?: pulumi.Input<boolean>;
  /** The `docker run --runtime=` name. Defaults to `runsc`. @default "runsc" */
  runtimeName?: pulumi.Input<string>;
  /** Make it `default-runtime`, so every container is sandboxed. Defaults to `false`. @default false */
  defaultRuntime?: pulumi.Input<boolean>;
  /** Path of Docker's daemon configuration on the host. Defaults to `/etc/docker/daemon.json`. @default "/etc/docker/daemon.json" */
  configPath?: pulumi.Input<string>;
}

/** containerd (CRI) integration. */
export interface ContainerdArgs {
  /** Register the runtime with containerd's CRI plugin. Defaults to `false`. @default false */
  enabled?: pulumi.Input<boolean>;
  /** Runtime handler (what a RuntimeClass `handler` names); a DNS label. Defaults to `runsc`. @default "runsc" */
  runtimeName?: pulumi.Input<string>;
  /** Path of containerd's configuration on the host (v2 or v3 form, detected). Defaults to `/etc/containerd/config.toml`. @default "/etc/containerd/config.toml" */
  configPath?: pulumi.Input<string>;
  /** Where the runsc shim's options file is written. Defaults to `/etc/containerd/runsc.toml`. @default "/etc/containerd/runsc.toml" */
  runscConfigPath?: pulumi.Input<string>;
}

/** The verification run after configuration. */
export interface VerifyArgs {
  /** Image run under each runtime (needs sh, uname, head). Defaults to `docker.io/library/busybox:1.36.1`. @default "docker.io/library/busybox:1.36.1" */
  image?: pulumi.Input<string>;
  /** Fail the deployment when the host is not isolated. Defaults to `true`. @default true */
  enforce?: pulumi.Input<boolean>;
  /**
   * Also measure what the sandbox costs this host's workloads, runsc against
   * runc (Docker only): container start, a syscall-heavy part (`dd` of 1-byte
   * blocks) and a file-heavy part (create, list, read, remove 200 small files),
   * medians of `overheadRounds` alternating rounds, with their ratios and the
   * runsc platform, in `verification.overhead`. Takes a few seconds; a failure
   * to measure is reported there and never fails the deployment. Defaults to off.
   * @default false
   */
  measureOverhead?: pulumi.Input<boolean>;
  /** Rounds of the sandbox cost measurement (1 to 20); only with `measureOverhead`. Defaults to 3. @default 3 */
  overheadRounds?: pulumi.Input<number>;
}

/** sha512 digests of `gvisor.tar.bz2` pinned per arch (`uname -m` names). */
export interface Sha512PinArgs {
  /** Digest for x86_64 hosts. Defaults to none (the mirror's checksum only). @default none */
  x86_64?: pulumi.Input<string>;
  /** Digest for aarch64 (Graviton) hosts. Defaults to none (the mirror's checksum only). @default none */
  aarch64?: pulumi.Input<string>;
}

/** What gVisor setup a host gets; shared by Host, Ec2Host and fleets. */
export interface GvisorSetupArgs {
  /**
   * gVisor release: dated (`20261005.0`, or `20261005` for its first build),
   * `latest`, `nightly` or `nightly/YYYY-MM-DD`. A moving channel installs
   * whatever it points at on each run: pin a date. Defaults to the release this
   * version of the package pins (`DEFAULT_GVISOR_VERSION`). @default DEFAULT_GVISOR_VERSION
   */
  version?: pulumi.Input<string>;
  /** Base URL of a release mirror laid out like gVisor's bucket (https; plain http only on loopback). Defaults to gVisor's public release bucket. @default gVisor's public bucket */
  mirror?: pulumi.Input<string>;
  /**
   * The sha512 of the release's `gvisor.tar.bz2` per arch (128 hex digits, the
   * first word of `gvisor.tar.bz2.sha512` from gVisor's own bucket), checked on
   * the host in addition to the mirror's checksum file: the mirror's checksum
   * comes from the same server as the archive, so only a digest pinned here
   * stops a mirror that serves a bad archive with a matching checksum. A
   * pinned host downloads `gvisor.tar.bz2` (not `.zstd`). Needs a release
   * after 20260817.0. Defaults to no pins (the mirror's checksum only).
   * @default {}
   */
  sha512?: pulumi.Input<Sha512PinArgs>;
  /** Expected CPU arch: `x86_64` (Intel/AMD) or `arm64` (Graviton and other 64-bit ARM); the install step refuses a host of another arch. Defaults to none: whatever the host is. @default detected on the host */
  arch?: pulumi.Input<Arch>;
  /** Absolute directory for `runsc`, `containerd-shim-runsc-v1` and `gvisor-bin/`. Defaults to `/usr/local/bin`. @default "/usr/local/bin" */
  installDir?: pulumi.Input<string>;
  /** runsc options (platform, network, file access, overlay, …). Defaults to `{}`: runsc's own defaults. @default {} (runsc defaults) */
  runsc?: pulumi.Input<RunscArgs>;
  /** Docker integration. Defaults to `{ enabled: true, runtimeName: "runsc" }`. @default { enabled: true, runtimeName: "runsc" } */
  docker?: pulumi.Input<DockerArgs>;
  /** containerd integration. Defaults to `{ enabled: false }`. @default { enabled: false } */
  containerd?: pulumi.Input<ContainerdArgs>;
  /** The verification after configuration. Defaults to `{ enforce: true }` with the busybox image. @default { enforce: true } */
  verify?: pulumi.Input<VerifyArgs>;
}

/** Arguments of the Host component. */
export interface HostArgs extends GvisorSetupArgs {
  /** How to reach the machine over SSH. The connection is kept secret. */
  connection: pulumi.Input<HostConnectionArgs>;
  /** Remove runtimes, configs and binaries when the resource is deleted. Defaults to `true`. @default true */
  uninstallOnDelete?: pulumi.Input<boolean>;
  /**
   * Install the enabled container engines (Docker, containerd) with the OS
   * package manager first, when missing. For fresh cloud images. A plain
   * value: it decides which resources exist. Defaults to `false`. @default false
   */
  installEngine?: boolean;
  /**
   * Any text. Changing it re-runs every step on the next `pulumi up`, which
   * repairs drift (a removed binary, an edited daemon.json or config.toml):
   * each step compares the host with its plan and fixes only what differs.
   * Defaults to not set.
   * @default not set
   */
  repair?: pulumi.Input<string>;
  /**
   * Re-run the verify step on every `pulumi up` (its script then changes on
   * every run, so previews show it as an update of two lines), so drift shows
   * in the outputs and, with `verify.enforce`, fails the update. `pulumi
   * refresh` cannot see drift: remote commands have no read. Defaults to `false`.
   * @default false
   */
  driftCheck?: pulumi.Input<boolean>;
}
