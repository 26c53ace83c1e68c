/**
 * containerd inside a test host, started on demand (most scenarios only need
 * Docker). It runs from /etc/containerd/config.toml with default paths
 * (/var/lib/containerd, /run/containerd), as the distro service would, and
 * records its pid in /run/containerd/containerd.pid so a step on this
 * systemd-less host can find it.
 */
import * as net from "node:net";
import type { HostMachine, HostNamespace } from "./namespace";
import { tail } from "./dockerd";
import type { CommandResult } from "./proc";
import { waitFor } from "./wait";

export const CONTAINERD_PIDFILE = "/run/containerd/containerd.pid";

export async function startContainerd(ns: HostNamespace, logPath: string): Promise<void> {
  const child = ns.spawnDaemon(
    ["sh", "-c", `mkdir -p /run/containerd && echo $$ > ${CONTAINERD_PIDFILE} && exec containerd`],
    logPath,
    { ownNetwork: true },
  );
  await waitFor(
    "containerd to listen on /run/containerd/containerd.sock",
    async () => {
      if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}:\n${tail(logPath)}`);
      return (await connects(`/proc/${ns.initPid}/root/run/containerd/containerd.sock`)) ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** Stops the containerd started by startContainerd (or by a step that kept the pidfile up to date). */
export async function stopContainerd(ns: HostNamespace): Promise<void> {
  await ns.exec([
    "sh",
    "-c",
    `p=$(cat ${CONTAINERD_PIDFILE} 2>/dev/null) || exit 0
kill "$p" 2>/dev/null || exit 0
i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -9 "$p" 2>/dev/null || true
rm -f ${CONTAINERD_PIDFILE} /run/containerd/containerd.sock`,
  ]);
}

/** `containerd --config F config dump`: parses the config the way containerd will. */
export function containerdConfigDump(ns: HostMachine, configPath = "/etc/containerd/config.toml"): Promise<CommandResult> {
  return ns.exec(["containerd", "--config", configPath, "config", "dump"]);
}

export function connects(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: socketPath });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
