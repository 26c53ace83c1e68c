/**
 * startTestHost(): a fresh machine-like host reached over real SSH, built
 * from the pieces in this folder. Flavors (flavors.ts): bookworm lives in
 * private namespaces of this machine (layout.ts, namespace.ts); trixie and
 * sid boot systemd under systemd-nspawn (nspawn.ts, units.ts, rootfs.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { busyboxTarball, importBusybox } from "./busybox";
import { OWNER_FILE, processStart, removeCgroups, removeDir, sweepStaleHosts, type OwnerRecord } from "./cleanup";
import { BASE_DIR, KEEP_HOSTS, type SshUser } from "./constants";
import { containerdConfigDump } from "./containerd";
import { readFrom, type ReloadResult } from "./dockerd";
import { currentFlavor, flavorByName, type Flavor, type FlavorName } from "./flavors";
import { LAYOUT_SCRIPT, PRIVATE_TMP_SCRIPT } from "./layout";
import { HostNamespace, type HostMachine, type NsExecOptions } from "./namespace";
import { NspawnMachine } from "./nspawn";
import { ensureHostPackages } from "./packages";
import { freePort } from "./ports";
import { shQuote, type CommandResult } from "./proc";
import { ensureRootfs } from "./rootfs";
import { namespaceServices, systemdServices, type HostServices } from "./services";
import { SEED_SSHD_SCRIPT, generateKeys, startSshd, waitSshdUnit, writeSshdSeed, type SshKeys } from "./sshd";
import { sshRun, type SshRunOptions } from "./ssh-client";
import { HOST_LOG_DIR, prepareScript, writeUnitSeed } from "./units";
import { USERS_SCRIPT } from "./users";

export interface TestHostOptions {
  /** Content of /etc/docker/daemon.json when the host starts. Default: no file. */
  daemonJson?: string;
  /** Content of /etc/containerd/config.toml when the host starts. Default: no file. */
  containerdConfig?: string;
  /** Start dockerd. Default true. */
  docker?: boolean;
  /** Import local/busybox:latest into dockerd. Default true (when docker is on). */
  busybox?: boolean;
  /**
   * Start containerd with the host. Default false: call `host.containerd.start()` when a test needs it.
   * On the systemd flavors containerd.service also starts whenever docker does (Debian's docker.service wants it).
   */
  containerd?: boolean;
  /** Which test host: bookworm (namespaces, no systemd), trixie or sid (systemd under nspawn). Default: GV_TEST_FLAVOR, else bookworm. */
  flavor?: FlavorName;
}

export interface SshInfo {
  host: "127.0.0.1";
  port: number;
  /** OpenSSH public key line of the host key, to pin. */
  hostPublicKey: string;
  /** OpenSSH private key accepted for every user. */
  clientPrivateKey: string;
  users: readonly SshUser[];
}

/** The shape of @pulumi/command's `remote.ConnectionArgs`, filled in for this host. */
export interface RemoteConnection {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKey: string;
}

export interface RunOptions extends SshRunOptions {
  user?: SshUser;
}

export interface FileStat {
  size: number;
  /** Permission bits, e.g. 0o755. */
  mode: number;
  owner: string;
  group: string;
  /** Modification time, seconds with fractional part. */
  mtime: number;
  inode: number;
  type: "file" | "directory" | "symlink" | "other";
}

let counter = 0;
let swept: Promise<void> | undefined;

export async function startTestHost(opts: TestHostOptions = {}): Promise<TestHost> {
  const t0 = Date.now();
  const flavor = opts.flavor === undefined ? currentFlavor() : flavorByName(opts.flavor, "startTestHost({ flavor })");
  await ensureHostPackages([flavor]);
  swept ??= sweepStaleHosts();
  await swept;
  const wantDocker = opts.docker ?? true;
  const tarball = wantDocker && (opts.busybox ?? true) ? busyboxTarball() : undefined;

  const id = `${process.pid.toString(36)}-${(counter++).toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const dir = path.join(BASE_DIR, id);
  const seed = path.join(dir, "seed");
  fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
  fs.mkdirSync(seed, { recursive: true });
  const keys = generateKeys(id);
  writeSshdSeed(seed, keys);
  if (opts.daemonJson !== undefined) fs.writeFileSync(path.join(seed, "daemon.json"), opts.daemonJson);
  if (opts.containerdConfig !== undefined) fs.writeFileSync(path.join(seed, "containerd-config.toml"), opts.containerdConfig);
  const cgroupParent = `/gvtest-${id}`;
  const logPath = (name: LogName) => path.join(dir, "logs", `${name}.log`);
  const recordOwner = (m: HostMachine) => {
    const owner: OwnerRecord = { ownerPid: process.pid, ownerStart: processStart(process.pid) ?? "", initPid: m.initPid, pidNs: m.pidNs, cgroupParent };
    fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner));
  };

  let host: TestHost;
  if (!flavor.systemd) {
    const ns = await HostNamespace.start(logPath("init"));
    recordOwner(ns);
    host = new TestHost(id, dir, flavor, ns, namespaceServices(ns, logPath, cgroupParent), keys, cgroupParent);
    try {
      const setup = await ns.exec(
        ["sh", "-euc", [LAYOUT_SCRIPT, USERS_SCRIPT, SEED_SSHD_SCRIPT, PRIVATE_TMP_SCRIPT].join("\n"), "setup", dir],
        { timeoutMs: 60_000 },
      );
      if (setup.code !== 0) throw new Error(`test host setup failed:\n${setup.stdout}${setup.stderr}`);
      const [port] = await Promise.all([
        startSshd(ns, logPath("sshd")),
        wantDocker ? host.services.startDocker().then(() => (tarball ? importBusybox(ns) : undefined)) : undefined,
        opts.containerd ? host.services.startContainerd() : undefined,
      ]);
      host.setPort(port);
    } catch (e) {
      await host.stop();
      throw e;
    }
  } else {
    const rootfs = await ensureRootfs(flavor);
    const seedOpts = { sshPort: await freePort(), docker: wantDocker, containerd: opts.containerd ?? false, hostname: `gvtest-${flavor.name}` };
    writeUnitSeed(path.join(seed, "root"), seedOpts);
    fs.writeFileSync(path.join(seed, "prepare.sh"), prepareScript(seedOpts, [SEED_SSHD_SCRIPT, USERS_SCRIPT].join("\n")));
    for (const d of ["docker", "containerd"]) fs.mkdirSync(path.join(dir, "data", d), { recursive: true });
    const m = await NspawnMachine.boot({
      id,
      dir,
      lower: rootfs.tree,
      cgroupParent,
      hostname: seedOpts.hostname,
      binds: [`${dir}/data/docker:/var/lib/docker`, `${dir}/data/containerd:/var/lib/containerd`, `${dir}/logs:${HOST_LOG_DIR}`],
    });
    recordOwner(m);
    host = new TestHost(id, dir, flavor, m, systemdServices(m, logPath), keys, cgroupParent);
    try {
      // systemctl needs the host's D-Bus: wait for the boot to finish first.
      await m.waitBooted();
      const [port] = await Promise.all([
        waitSshdUnit(m, seedOpts.sshPort, logPath("sshd")),
        wantDocker ? host.services.startDocker().then(() => (tarball ? importBusybox(m) : undefined)) : undefined,
        opts.containerd ? host.services.startContainerd() : undefined,
      ]);
      host.setPort(port);
    } catch (e) {
      await host.stop();
      throw e;
    }
  }
  host.startupMs = Date.now() - t0;
  return host;
}

type LogName = "sshd" | "dockerd" | "containerd" | "init";

export class TestHost {
  private port = 0;
  private stopping?: Promise<void>;
  /** Wall time startTestHost took for this host. */
  startupMs = 0;

  constructor(
    readonly id: string,
    /** The host's working dir on the real machine (logs/, cow/ upper dirs, data/). */
    readonly dir: string,
    /** Which Debian suite the host is and how it boots (systemd or not). */
    readonly flavor: Flavor,
    private readonly ns: HostMachine,
    /** @internal How this flavor starts and reloads its daemons. */
    readonly services: HostServices,
    private readonly keys: SshKeys,
    /** The cgroup every container of this host lives under. */
    readonly cgroupParent: string,
  ) {}

  /** @internal */
  setPort(port: number): void {
    this.port = port;
  }

  get ssh(): SshInfo {
    return {
      host: "127.0.0.1",
      port: this.port,
      hostPublicKey: this.keys.hostPublicKey,
      clientPrivateKey: this.keys.clientPrivateKey,
      users: ["root", "gvtest"],
    };
  }

  /** Connection args for `user`, in @pulumi/command's remote.Command shape. */
  connection(user: SshUser = "root"): RemoteConnection {
    return { host: "127.0.0.1", port: this.port, user, privateKey: this.keys.clientPrivateKey, hostKey: this.keys.hostPublicKey };
  }

  /** Runs command text over SSH, as remote.Command would (default user root). */
  run(command: string, opts: RunOptions = {}): Promise<CommandResult> {
    const { user = "root", ...rest } = opts;
    return sshRun(
      { host: "127.0.0.1", port: this.port, user, privateKey: this.keys.clientPrivateKey, hostPublicKey: this.keys.hostPublicKey },
      command,
      rest,
    );
  }

  /** Runs argv inside the host as root, without SSH: for setup and assertions. */
  exec(argv: readonly string[], opts?: NsExecOptions): Promise<CommandResult> {
    return this.ns.exec(argv, opts);
  }

  /** `sh -c script` inside the host; extra args become $1, $2, … */
  sh(script: string, args: readonly string[] = [], opts?: NsExecOptions): Promise<CommandResult> {
    return this.ns.exec(["sh", "-c", script, "sh", ...args], opts);
  }

  /** A file's content inside the host, or undefined when it does not exist. */
  async readFile(file: string): Promise<string | undefined> {
    const r = await this.sh('[ -e "$1" ] || exit 3; cat -- "$1"', [file]);
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new Error(`readFile ${file}: ${r.stderr}`);
    return r.stdout;
  }

  /** Writes a file inside the host (parent dirs created), for arranging a scenario. */
  async writeFile(file: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const r = await this.sh(`mkdir -p "$(dirname -- "$1")" && cat > "$1" && chmod ${mode.toString(8)} "$1"`, [file], {
      input: content,
    });
    if (r.code !== 0) throw new Error(`writeFile ${file}: ${r.stderr}`);
  }

  async stat(file: string): Promise<FileStat | undefined> {
    const r = await this.exec(["stat", "-c", "%s|%a|%U|%G|%.9Y|%i|%F", "--", file]);
    if (r.code !== 0) return undefined;
    const [size, mode, owner, group, mtime, inode, kind] = r.stdout.trim().split("|");
    const type = kind === "regular file" || kind === "regular empty file" ? "file" : kind === "directory" ? "directory" : kind === "symbolic link" ? "symlink" : "other";
    return { size: Number(size), mode: parseInt(mode ?? "0", 8), owner: owner ?? "", group: group ?? "", mtime: Number(mtime), inode: Number(inode), type };
  }

  /** Docker inside the host. */
  readonly docker = {
    /** `docker <args>` inside the host (the host's own client and daemon: 20.10, 26 or 28). */
    cli: (args: readonly string[], opts?: NsExecOptions) => this.ns.exec(["docker", ...args], opts),
    /** dockerd's pid as the host sees it (the content of /var/run/docker.pid). */
    pid: async (): Promise<number> => Number((await this.readFile("/var/run/docker.pid"))?.trim()),
    /** SIGHUP via /var/run/docker.pid (systemd flavors: `systemctl reload docker`), then dockerd's verdict from its log. */
    reload: (): Promise<ReloadResult> => this.services.reloadDocker(),
    /** `docker info`'s Runtimes. */
    runtimes: async (): Promise<Record<string, { path: string; runtimeArgs?: string[] }>> => {
      const r = await this.ns.exec(["docker", "info", "--format", "{{json .Runtimes}}"]);
      if (r.code !== 0) throw new Error(`docker info: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, { path: string; runtimeArgs?: string[] }>;
    },
    log: (fromByte = 0): string => this.readLog("dockerd", fromByte),
  };

  /**
   * containerd inside the host: on demand on bookworm; on the systemd flavors
   * containerd.service (started with docker, which wants it), driven with
   * systemctl start/stop/restart.
   */
  readonly containerd = {
    start: () => this.services.startContainerd(),
    stop: () => this.services.stopContainerd(),
    restart: () => this.services.restartContainerd(),
    configDump: (configPath?: string) => containerdConfigDump(this.ns, configPath),
    log: (fromByte = 0): string => this.readLog("containerd", fromByte),
  };

  /** Path of a daemon's log on the real machine (sshd, dockerd, containerd, init). */
  logPath(name: LogName): string {
    return path.join(this.dir, "logs", `${name}.log`);
  }

  readLog(name: LogName, fromByte = 0): string {
    try {
      return readFrom(this.logPath(name), fromByte);
    } catch {
      return "";
    }
  }

  /** Outer PIDs of the host's processes (empty once stopped). */
  processes(): number[] {
    return this.ns.processes();
  }

  /** `systemctl <args>` inside the host; throws on a host without systemd. */
  systemctl(args: readonly string[]): Promise<CommandResult> {
    if (!this.flavor.systemd) return Promise.reject(new Error(`the ${this.flavor.name} test host has no systemd`));
    return this.ns.exec(["systemctl", ...args]);
  }

  get pidNamespace(): string {
    return this.ns.pidNs;
  }

  /** Kills every process of the host and removes everything it left. Safe to call twice, and after a failed start. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.ns.kill();
      await removeCgroups(this.cgroupParent);
      if (!KEEP_HOSTS) await removeDir(this.dir);
    })();
    return this.stopping;
  }
}

/** Shell-quotes words into one command line, for building `run()` text. */
export const shellJoin = (words: readonly string[]) => words.map(shQuote).join(" ");
