/**
 * The host's Docker daemon: Debian's dockerd 20.10 with every default path
 * (daemon.json, /var/run/docker.pid, /var/run/docker.sock, /var/lib/docker),
 * which the host's mounts make private, so steps find Docker where they
 * would on a real machine and `docker` in a session just works.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { HostMachine, HostNamespace } from "./namespace";
import { waitFor } from "./wait";

/**
 * Flags kept to what the host needs; anything else stays in daemon.json's
 * hands (a key given both as flag and in daemon.json stops dockerd). No
 * --config-file: dockerd 20.10 accepts a missing daemon.json only at the
 * default path, and given explicitly it fails to start without one.
 * --bridge=none/--iptables=false: containers here run with --network=none.
 */
export function dockerdArgs(cgroupParent: string): string[] {
  return ["/usr/sbin/dockerd", "--bridge=none", "--iptables=false", `--cgroup-parent=${cgroupParent}`];
}

export async function startDockerd(ns: HostNamespace, logPath: string, cgroupParent: string): Promise<void> {
  const child = ns.spawnDaemon(dockerdArgs(cgroupParent), logPath, { ownNetwork: true });
  await waitFor(
    "dockerd to answer on /var/run/docker.sock",
    async () => {
      if (child.exitCode !== null) {
        throw new Error(`dockerd exited with ${child.exitCode}:\n${tail(logPath)}`);
      }
      return (await ping(ns)) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
}

/** GET /_ping on the host's docker socket, reached from outside through /proc/<init>/root. */
export function ping(ns: HostMachine): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: `/proc/${ns.initPid}/root/run/docker.sock`, path: "/_ping", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
  });
}

export interface ReloadResult {
  ok: boolean;
  /** dockerd's log lines written during the reload. */
  log: string;
}

/**
 * SIGHUP to the pid in /var/run/docker.pid, as a step on a host without
 * systemd does (or `trigger`, e.g. `systemctl reload docker`), then waits for
 * dockerd to log the outcome: 20.10, 26 and 28 log "Got signal to reload
 * configuration", then "Reloaded configuration" on success and an error
 * (keeping the old config) otherwise.
 */
export async function reloadDockerd(
  ns: HostMachine,
  logPath: string,
  trigger: readonly string[] = ["sh", "-c", 'kill -HUP "$(cat /var/run/docker.pid)"'],
): Promise<ReloadResult> {
  const start = fs.statSync(logPath).size;
  const r = await ns.exec(trigger);
  if (r.code !== 0) throw new Error(`could not signal dockerd (${trigger.join(" ")}): ${r.stderr}`);
  return waitFor(
    "dockerd to log the outcome of the reload",
    async () => {
      const log = readFrom(logPath, start);
      if (!log.includes("Got signal to reload configuration")) return undefined;
      if (log.includes("Reloaded configuration")) return { ok: true, log };
      if (/level=error/.test(log.split("Got signal to reload configuration")[1] ?? "")) return { ok: false, log };
      return undefined;
    },
    { timeoutMs: 15_000, intervalMs: 25 },
  );
}

export function readFrom(file: string, offset: number): string {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf.toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

export function tail(file: string, bytes = 4000): string {
  try {
    const size = fs.statSync(file).size;
    return readFrom(file, Math.max(0, size - bytes));
  } catch {
    return "(no log)";
  }
}
