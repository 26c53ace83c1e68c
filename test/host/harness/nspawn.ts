/**
 * A test host booted with systemd as PID 1 under systemd-nspawn, from a
 * cached Debian root filesystem (rootfs.ts) behind a per-host overlay.
 *
 * Shape (recipe in FIELD-NOTES, "Test hosts from newer Debian suites"):
 * `unshare -m` (a tmpfs over /run/systemd, since this machine is not
 * systemd-booted, and the overlay live only there), the host's own cgroup2
 * subtree, then `systemd-nspawn -b` with the unified hierarchy. nspawn gives
 * the host its own PID, UTS and IPC namespaces and a private /dev of fresh
 * device nodes. The network namespace stays the machine's, so sshd listens
 * on the real loopback and sessions reach the release mirror on 127.0.0.1;
 * dockerd and containerd run in a network namespace of the host's own
 * (units.ts), where they cannot touch the machine's docker0 or routes.
 *
 * The wrapper shell reads a pipe from the test runner: when the pipe closes
 * (stop(), or the runner died) it stops nspawn with SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HOST_PATH } from "./constants";
import { inPidNamespace, pidNamespaceProcesses, type HostMachine, type NsExecOptions } from "./namespace";
import { runProcess, type CommandResult } from "./proc";
import { waitFor } from "./wait";

/** The machine's cgroup2 mount: /sys/fs/cgroup itself on a pure v2 machine, else the hybrid's `unified`. */
export function cgroup2Root(): string {
  const mounts = fs.readFileSync("/proc/self/mounts", "utf8").split("\n");
  const m = mounts.map((l) => l.split(" ")).find((f) => f[2] === "cgroup2");
  if (!m?.[1]) throw new Error("no cgroup2 mount on this machine: systemd-nspawn hosts need one");
  return m[1];
}

/**
 * Positional parameters: $1 host dir (holds cow/, root/, seed/root/, logs/,
 * data/), $2 lower tree, $3 cgroup2 dir of the host, then nspawn's argv.
 */
const WRAPPER = String.raw`
H=$1 LOWER=$2 CG=$3; shift 3
mkdir -p "$CG" && echo $$ > "$CG/cgroup.procs"
mkdir -p /run/systemd && mount -t tmpfs -o mode=0755 gvtest-run-systemd /run/systemd
R=$H/root
mkdir -p "$H/cow/upper" "$H/cow/work" "$R"
mount -t overlay gvtest-root -o "lowerdir=$LOWER,upperdir=$H/cow/upper,workdir=$H/cow/work" "$R"
sh -eu "$H/seed/prepare.sh" "$H" "$R" >>"$H/logs/init.log" 2>&1
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 SYSTEMD_SECCOMP=0 "$@" </dev/null >>"$H/logs/init.log" 2>&1 &
n=$!
echo "$n" > "$H/nspawn.pid"
cat >/dev/null || true
kill -TERM "$n" 2>/dev/null
wait "$n"
`;

export interface NspawnStart {
  id: string;
  /** Host working dir; seed/prepare.sh and seed/root/ must be in place. */
  dir: string;
  lower: string;
  /** Relative cgroup path, e.g. /gvtest-<id>, created under the cgroup2 root. */
  cgroupParent: string;
  hostname: string;
  binds: readonly string[];
}

export class NspawnMachine implements HostMachine {
  private exited: Promise<void>;

  private constructor(
    private readonly wrapper: ChildProcess,
    private readonly nspawnPid: number,
    readonly initPid: number,
    readonly pidNs: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (wrapper.exitCode !== null || wrapper.signalCode !== null) resolve();
      else wrapper.once("exit", () => resolve());
    });
  }

  static async boot(s: NspawnStart): Promise<NspawnMachine> {
    const initLog = path.join(s.dir, "logs", "init.log");
    const nspawn = [
      "systemd-nspawn",
      "--boot",
      `--directory=${path.join(s.dir, "root")}`,
      `--machine=${s.hostname}`,
      "--register=no",
      "--keep-unit",
      "--resolv-conf=off",
      "--timezone=off",
      "--link-journal=no",
      "--console=pipe",
      // dockerd, runc and runsc need the full set (mounts, namespaces, seccomp).
      "--capability=all",
      ...s.binds.map((b) => `--bind=${b}`),
    ];
    const cg = path.join(cgroup2Root(), s.cgroupParent);
    const log = fs.openSync(initLog, "a");
    const child = spawn("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", WRAPPER, "gvtest-nspawn", s.dir, s.lower, cg, ...nspawn], {
      env: { PATH: HOST_PATH, LANG: "C.UTF-8" },
      stdio: ["pipe", "ignore", log],
    });
    fs.closeSync(log);
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.unref();
    const pidFile = path.join(s.dir, "nspawn.pid");
    const nspawnPid = await waitFor(
      "systemd-nspawn to start",
      async () => {
        if (child.exitCode !== null) throw new Error(`the nspawn wrapper exited with ${child.exitCode}: ${tailOf(initLog)}`);
        const t = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : "";
        return t ? Number(t) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    const ownPidNs = fs.readlinkSync("/proc/self/ns/pid");
    // nspawn's child that lives in a new PID namespace is the host's PID 1 (systemd).
    const initPid = await waitFor(
      "the host's systemd (PID 1 under nspawn)",
      async () => {
        if (child.exitCode !== null) throw new Error(`systemd-nspawn exited: ${tailOf(initLog)}`);
        for (const t of fs.readdirSync(`/proc/${nspawnPid}/task`)) {
          for (const c of fs.readFileSync(`/proc/${nspawnPid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
            if (fs.readlinkSync(`/proc/${c}/ns/pid`) !== ownPidNs && fs.readFileSync(`/proc/${c}/comm`, "utf8").trim() === "systemd") return Number(c);
          }
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    const machine = new NspawnMachine(child, nspawnPid, initPid, fs.readlinkSync(`/proc/${initPid}/ns/pid`));
    return machine;
  }

  /** Enters every namespace of the host's PID 1 (the network one is the machine's anyway). */
  private nsenter(): string[] {
    return ["nsenter", "-t", String(this.initPid), "-m", "-u", "-i", "-p", "-C", "--wd=/", "--"];
  }

  exec(argv: readonly string[], opts: NsExecOptions = {}): Promise<CommandResult> {
    if (!this.alive()) return Promise.reject(new Error("test host is stopped"));
    return runProcess([...this.nsenter(), ...argv], {
      ...opts,
      env: { PATH: HOST_PATH, HOME: "/root", LANG: "C.UTF-8", USER: "root", ...opts.extraEnv },
    });
  }

  /** Waits until systemd has finished booting (`running`, or `degraded` with the failed units named). */
  async waitBooted(timeoutMs = 60_000): Promise<string> {
    return waitFor(
      "systemd in the test host to finish booting",
      async () => {
        const r = await this.exec(["systemctl", "is-system-running"], { timeoutMs: 10_000 });
        const state = r.stdout.trim();
        if (state === "running" || state === "degraded") return state;
        if (state === "stopping" || state === "offline") throw new Error(`systemd is ${state}`);
        return undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  alive(): boolean {
    return inPidNamespace(this.initPid, this.pidNs);
  }

  processes(): number[] {
    return pidNamespaceProcesses(this.pidNs);
  }

  /**
   * Stops the host: closing the pipe makes the wrapper SIGTERM nspawn, which
   * has systemd power off (~0.2 s to a few s); SIGKILL to PID 1 if it hangs.
   */
  async kill(): Promise<void> {
    this.wrapper.stdin?.end();
    try {
      process.kill(this.nspawnPid, "SIGTERM");
    } catch {
      // already gone
    }
    const gone = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    if (!gone && this.alive()) {
      try {
        process.kill(this.initPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await waitFor("the test host's processes to exit", async () => (this.processes().length === 0 ? true : undefined), { timeoutMs: 20_000 });
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (this.wrapper.exitCode === null && this.wrapper.signalCode === null) this.wrapper.kill("SIGKILL");
  }
}

function tailOf(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").slice(-2000);
  } catch {
    return "(no log)";
  }
}
