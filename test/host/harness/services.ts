/**
 * Starting, reloading and restarting a host's daemons, the way that host's
 * operator would: by hand on the bookworm host (no systemd: pid files and
 * signals), with systemctl on the systemd flavors. TestHost's docker.* and
 * containerd.* go through here, so tests read the same on every flavor.
 */
import { BUSYBOX_IMAGE } from "./constants";
import { connects, startContainerd, stopContainerd } from "./containerd";
import { ping, reloadDockerd, startDockerd, tail, type ReloadResult } from "./dockerd";
import type { HostMachine, HostNamespace } from "./namespace";
import { waitFor } from "./wait";

export interface HostServices {
  startDocker(): Promise<void>;
  /** Makes dockerd re-read daemon.json (SIGHUP / systemctl reload docker) and reports its verdict. */
  reloadDocker(): Promise<ReloadResult>;
  startContainerd(): Promise<void>;
  stopContainerd(): Promise<void>;
  restartContainerd(): Promise<void>;
}

type LogPath = (name: "dockerd" | "containerd") => string;

/** bookworm: the harness is the init system. */
export function namespaceServices(ns: HostNamespace, logPath: LogPath, cgroupParent: string): HostServices {
  return {
    startDocker: () => startDockerd(ns, logPath("dockerd"), cgroupParent),
    reloadDocker: () => reloadDockerd(ns, logPath("dockerd")),
    startContainerd: () => startContainerd(ns, logPath("containerd")),
    stopContainerd: () => stopContainerd(ns),
    restartContainerd: async () => {
      await stopContainerd(ns);
      await startContainerd(ns, logPath("containerd"));
    },
  };
}

/** trixie, sid: Debian's units under systemd as PID 1. */
export function systemdServices(m: HostMachine, logPath: LogPath): HostServices {
  const systemctl = async (...args: string[]) => {
    const r = await m.exec(["systemctl", ...args], { timeoutMs: 120_000 });
    if (r.code !== 0) {
      const unit = args[args.length - 1] ?? "";
      const status = await m.exec(["systemctl", "status", "--no-pager", "--lines=0", unit]);
      throw new Error(`systemctl ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}\n${status.stdout}`);
    }
  };
  const containerdUp = (why: string) =>
    waitFor(why, async () => ((await connects(`/proc/${m.initPid}/root/run/containerd/containerd.sock`)) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${tail(logPath("containerd"))}`);
    });
  return {
    startDocker: async () => {
      await systemctl("start", "docker.service");
      await waitFor("dockerd to answer on /var/run/docker.sock", async () => ((await ping(m)) ? true : undefined), { timeoutMs: 60_000 }).catch((e: Error) => {
        throw new Error(`${e.message}\n${tail(logPath("dockerd"))}`);
      });
    },
    reloadDocker: () => reloadDockerd(m, logPath("dockerd"), ["systemctl", "reload", "docker.service"]),
    startContainerd: async () => {
      await systemctl("start", "containerd.service");
      await containerdUp("containerd to listen on /run/containerd/containerd.sock");
    },
    stopContainerd: () => systemctl("stop", "containerd.service"),
    restartContainerd: async () => {
      await systemctl("restart", "containerd.service");
      await containerdUp("containerd to listen again after systemctl restart");
      await dockerReachesContainerd(m);
    },
  };
}

/**
 * After a containerd restart, dockerd (which uses containerd.service) can take
 * a moment to reach it again: under load a `docker run` right after failed
 * once with "Unavailable: connection error: … containerd.sock: connect:
 * connection refused". An operator waits for Docker to run containers again
 * before going on; so does the harness (when dockerd runs and has the image).
 */
async function dockerReachesContainerd(m: HostMachine): Promise<void> {
  const probe = `systemctl is-active --quiet docker.service || exit 0
docker image inspect ${BUSYBOX_IMAGE} >/dev/null 2>&1 || exit 0
docker run --rm --network=none ${BUSYBOX_IMAGE} true`;
  let last = "";
  await waitFor(
    "dockerd to run containers again after containerd's restart",
    async () => {
      const r = await m.exec(["sh", "-c", probe], { timeoutMs: 30_000 });
      last = r.stderr.trim();
      return r.code === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${last}`);
  });
}
