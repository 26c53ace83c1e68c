/**
 * The private namespaces a test host lives in.
 *
 * `unshare` gives the host its own mount namespace (so it can have its own
 * /etc, /usr/local/bin, /var/lib/docker, /run) and its own PID namespace (so a
 * step's `kill`, `pidof` or a stray `pkill` only ever sees the host's own
 * processes, and so that killing the namespace's init is guaranteed to take
 * every process of the host with it). The network namespace is left shared:
 * sshd listens on the real loopback and sessions reach the release mirror on
 * 127.0.0.1; only the daemons get private network namespaces (see
 * spawnDaemon).
 *
 * init is `tini` (reaps orphans, as PID 1 must) running `cat` on a pipe from
 * this process: if the test runner dies without calling stop(), the pipe
 * closes, `cat` exits, tini exits and the kernel kills the whole host.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { HOST_PATH } from "./constants";
import { runProcess, type CommandResult, type ProcessOptions } from "./proc";
import { waitFor } from "./wait";

export interface NsExecOptions extends ProcessOptions {
  /** Extra variables on top of the minimal PATH/HOME/LANG. */
  extraEnv?: Record<string, string>;
}

/** What a test host's isolation gives TestHost, whichever way the host boots. */
export interface HostMachine {
  /** Real (outer) PID of the host's PID 1. */
  readonly initPid: number;
  /** `pid:[inode]` of the host's PID namespace. */
  readonly pidNs: string;
  /** Runs argv inside the host as root. */
  exec(argv: readonly string[], opts?: NsExecOptions): Promise<CommandResult>;
  alive(): boolean;
  /** Outer PIDs of every process still in the host. */
  processes(): number[];
  /** Kills every process of the host; resolves once none is left. */
  kill(): Promise<void>;
}

export class HostNamespace implements HostMachine {
  private exited: Promise<void>;

  private constructor(
    private readonly unshare: ChildProcess,
    /** Real (outer) PID of the namespace's init; PID 1 inside. */
    readonly initPid: number,
    /** `pid:[inode]` of the host's PID namespace, to find its processes from outside. */
    readonly pidNs: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (unshare.exitCode !== null || unshare.signalCode !== null) resolve();
      else unshare.once("exit", () => resolve());
    });
  }

  static async start(logPath: string): Promise<HostNamespace> {
    const log = fs.openSync(logPath, "a");
    const child = spawn(
      "unshare",
      ["--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc", "--kill-child", "--", "tini", "--", "cat"],
      { env: { PATH: HOST_PATH }, stdio: ["pipe", "ignore", log] },
    );
    fs.closeSync(log);
    // Never written to; only its closing matters (see the module comment).
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.unref();
    const unsharePid = child.pid;
    if (unsharePid === undefined) throw new Error("could not spawn unshare");
    const initPid = await waitFor(
      "the test host's init process",
      async () => {
        if (child.exitCode !== null) throw new Error(`unshare exited with ${child.exitCode}; see ${logPath}`);
        const kids = fs.readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, "utf8").trim();
        return kids ? Number(kids.split(/\s+/)[0]) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    const pidNs = fs.readlinkSync(`/proc/${initPid}/ns/pid`);
    if (pidNs === fs.readlinkSync("/proc/self/ns/pid")) throw new Error("unshare did not create a PID namespace");
    return new HostNamespace(child, initPid, pidNs);
  }

  /** Argv prefix that runs a command inside the host (mount + PID namespaces, cwd /). */
  private nsenter(): string[] {
    return ["nsenter", "-t", String(this.initPid), "-m", "-p", "--wd=/", "--"];
  }

  private env(extra?: Record<string, string>): NodeJS.ProcessEnv {
    return { PATH: HOST_PATH, HOME: "/root", LANG: "C.UTF-8", USER: "root", ...extra };
  }

  /** Runs argv inside the host as root, like a root shell on that machine would. */
  exec(argv: readonly string[], opts: NsExecOptions = {}): Promise<CommandResult> {
    if (!this.alive()) return Promise.reject(new Error("test host is stopped"));
    return runProcess([...this.nsenter(), ...argv], { ...opts, env: this.env(opts.extraEnv) });
  }

  /**
   * Starts a long-running daemon inside the host, output appended to logPath.
   * With `ownNetwork`, it runs in a fresh network namespace with only `lo`:
   * a second dockerd there cannot touch the real machine's docker0, iptables
   * or routes. Daemons talk to clients over unix sockets, so nothing is lost.
   */
  spawnDaemon(argv: readonly string[], logPath: string, { ownNetwork = false } = {}): ChildProcess {
    const log = fs.openSync(logPath, "a");
    const inner = ownNetwork
      ? ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "daemon", ...argv]
      : [...argv];
    const child = spawn(this.nsenter()[0]!, [...this.nsenter().slice(1), ...inner], {
      env: this.env(),
      stdio: ["ignore", log, log],
    });
    fs.closeSync(log);
    child.unref();
    return child;
  }

  alive(): boolean {
    return inPidNamespace(this.initPid, this.pidNs);
  }

  /** Outer PIDs of every process still in the host's PID namespace. */
  processes(): number[] {
    return pidNamespaceProcesses(this.pidNs);
  }

  /**
   * Kills the host: SIGKILL to its init makes the kernel kill every process in
   * the PID namespace; the mount namespace and all its mounts go with the last
   * of them. Resolves once no process of the host is left.
   */
  async kill(): Promise<void> {
    if (this.alive()) {
      try {
        process.kill(this.initPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 10_000))]);
    await waitFor("the test host's processes to exit", async () => (this.processes().length === 0 ? true : undefined), {
      timeoutMs: 20_000,
    });
    if (this.unshare.exitCode === null && this.unshare.signalCode === null) this.unshare.kill("SIGKILL");
  }
}

/** Whether process `pid` (an outer PID) still runs in the PID namespace `pidNs` (a readlink of /proc/PID/ns/pid). */
export function inPidNamespace(pid: number, pidNs: string): boolean {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`) === pidNs;
  } catch {
    return false;
  }
}

/** Outer PIDs of every process in the PID namespace `pidNs`. */
export function pidNamespaceProcesses(pidNs: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => inPidNamespace(pid, pidNs));
}
