import * as pulumi from "@pulumi/pulumi";
import { RunscFileAccess, RunscHostUds, RunscNetwork, RunscPlatform } from "../plan/runsc-options";

/** A jump host the SSH connection goes through. */
export interface ProxyConnectionArgs {
  /** Address of the bastion. */
  host: pulumi.Input<string>;
  /** @default 22 */
  port?: pulumi.Input<number>;
  /** @default "root" */
  user?: pulumi.Input<string>;
  /** PEM private key for the bastion; kept secret. @default none (agent or password) */
  privateKey?: pulumi.Input<string>;
  /** @default none */
  password?: pulumi.Input<string>;
  /** Expected bastion host key (`ssh-ed25519 AAAA…`); pinned when given. @default not checked */
  hostKey?: pulumi.Input<string>;
}

/** How to reach the machine: the `@pulumi/command` remote connection shape. */
export interface HostConnectionArgs {
  /** Address (IP or DNS name) of the machine. */
  host: pulumi.Input<string>;
  /** @default 22 */
  port?: pulumi.Input<number>;
  /** Login user: root, or a user with passwordless sudo. @default "root" */
  user?: pulumi.Input<string>;
  /** PEM private key; kept secret. @default none (agent or password) */
  privateKey?: pulumi.Input<string>;
  /** Passphrase of the private key; kept secret. @default none */
  privateKeyPassword?: pulumi.Input<string>;
  /** Password login; kept secret. @default none */
  password?: pulumi.Input<string>;
  /** Expected host key (`ssh-ed25519 AAAA…`). Pin it: without it the host key is not checked. @default not checked */
  hostKey?: pulumi.Input<string>;
  /** Bastion to connect through. @default direct connection */
  proxy?: pulumi.Input<ProxyConnectionArgs>;
  /** Dial attempts before giving up (a new VM may not accept SSH yet). @default 10 */
  dialErrorLimit?: pulumi.Input<number>;
  /** Seconds per dial attempt. @default 15 */
  perDialTimeout?: pulumi.Input<number>;
}

/** Typed runsc options; see RunscOptions in the plan layer for what each does. */
export interface RunscArgs {
  /** @default the runsc default (`systrap`) */
  platform?: pulumi.Input<RunscPlatform>;
  /** @default the runsc default (`sandbox`) */
  network?: pulumi.Input<RunscNetwork>;
  /** @default the runsc default (`exclusive`) */
  fileAccess?: pulumi.Input<RunscFileAccess>;
  /** `none`, or `root|all` `:` `memory|self|/abs/dir`. @default the runsc default */
  overlay2?: pulumi.Input<string>;
  /** @default the runsc default (`none`) */
  hostUds?: pulumi.Input<RunscHostUds>;
  /** @default the runsc default (`true`) */
  directfs?: pulumi.Input<boolean>;
  /** @default false */
  debug?: pulumi.Input<boolean>;
  /** Absolute path; may use `%ID%`, `%CID%`, `%COMMAND%`. @default not set */
  debugLog?: pulumi.Input<string>;
  /** @default false */
  strace?: pulumi.Input<boolean>;
  /** @default false */
  nvproxy?: pulumi.Input<boolean>;
  /** Further global flags by name (no leading dashes). @default {} */
  extraFlags?: pulumi.Input<{ [name: string]: pulumi.Input<string> }>;
}

/** Docker integration. */
export interface DockerArgs {
  /** Register the runtime in daemon.json. @default true */
  enabled?: pulumi.Input<boolean>;
  /** The `docker run --runtime=` name. @default "runsc" */
  runtimeName?: pulumi.Input<string>;
  /** Make it `default-runtime`, so every container is sandboxed. @default false */
  defaultRuntime?: pulumi.Input<boolean>;
  /** @default "/etc/docker/daemon.json" */
  configPath?: pulumi.Input<string>;
}

/** containerd (CRI) integration. */
export interface ContainerdArgs {
  /** Register the runtime with containerd's CRI plugin. @default false */
  enabled?: pulumi.Input<boolean>;
  /** Runtime handler (what a RuntimeClass `handler` names); DNS label. @default "runsc" */
  runtimeName?: pulumi.Input<string>;
  /** @default "/etc/containerd/config.toml" */
  configPath?: pulumi.Input<string>;
  /** @default "/etc/containerd/runsc.toml" */
  runscConfigPath?: pulumi.Input<string>;
}

/** The verification run after configuration. */
export interface VerifyArgs {
  /** Image run under each runtime (needs sh, uname, head). @default "docker.io/library/busybox:1.36.1" */
  image?: pulumi.Input<string>;
  /** Fail the deployment when the host is not isolated. @default true */
  enforce?: pulumi.Input<boolean>;
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
  /** gVisor release: dated (`20261005.0`), `latest`, `nightly` or `nightly/YYYY-MM-DD`. @default DEFAULT_GVISOR_VERSION */
  version?: pulumi.Input<string>;
  /** Base URL of a release mirror laid out like gVisor's bucket. @default gVisor's public bucket */
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
  /** Expected CPU arch (`x86_64` | `arm64`); checked on the host. @default detected on the host */
  arch?: pulumi.Input<string>;
  /** @default "/usr/local/bin" */
  installDir?: pulumi.Input<string>;
  /** @default {} (runsc defaults) */
  runsc?: pulumi.Input<RunscArgs>;
  /** @default { enabled: true, runtimeName: "runsc" } */
  docker?: pulumi.Input<DockerArgs>;
  /** @default { enabled: false } */
  containerd?: pulumi.Input<ContainerdArgs>;
  /** @default { enforce: true } */
  verify?: pulumi.Input<VerifyArgs>;
}

/** Arguments of the Host component. */
export interface HostArgs extends GvisorSetupArgs {
  /** How to reach the machine over SSH. */
  connection: pulumi.Input<HostConnectionArgs>;
  /** Remove runtimes, configs and binaries when the resource is deleted. @default true */
  uninstallOnDelete?: pulumi.Input<boolean>;
  /**
   * Install the enabled container engines (Docker, containerd) with the OS
   * package manager first, when missing. For fresh cloud images. A plain
   * value: it decides which resources exist. @default false
   */
  installEngine?: boolean;
}
