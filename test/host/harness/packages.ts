/**
 * Makes sure the real parts every test host is built from are installed.
 * CI starts from a bare Debian machine, so the host suite installs what it
 * needs itself; it fails (never skips) where it cannot.
 */
import * as fs from "node:fs";
import { runProcess, runChecked, MINIMAL_ENV } from "./proc";

/**
 * Debian packages a test host is built from. tini is the namespace's init
 * (reaps orphans); util-linux gives unshare/nsenter; passwd gives useradd.
 */
export const HOST_PACKAGES = [
  "runsc",
  "docker.io",
  "containerd",
  "openssh-server",
  "busybox-static",
  "sudo",
  "curl",
  "bzip2",
  "zstd",
  "wget",
  "iproute2",
  "util-linux",
  "tini",
  "passwd",
] as const;

let ensured: Promise<void> | undefined;

/** Installs whatever of HOST_PACKAGES is missing. Runs once per process. */
export function ensureHostPackages(): Promise<void> {
  ensured ??= install();
  return ensured;
}

async function install(): Promise<void> {
  if (process.platform !== "linux" || process.getuid?.() !== 0) {
    throw new Error("host tests need root on Linux (they create namespaces and start sshd/dockerd)");
  }
  if (!isDebian()) {
    throw new Error("host tests need a Debian host (they install runsc, docker.io, containerd with apt-get)");
  }
  const missing: string[] = [];
  for (const pkg of HOST_PACKAGES) {
    const r = await runProcess(["dpkg-query", "-W", "-f=${Status}", pkg]);
    if (r.code !== 0 || !r.stdout.includes("install ok installed")) missing.push(pkg);
  }
  if (missing.length === 0) return;

  const env = { ...MINIMAL_ENV, DEBIAN_FRONTEND: "noninteractive" };
  // Without systemd, maintainer scripts would start sshd on port 22 and a
  // dockerd that creates docker0 on the real machine: forbid service starts
  // for the duration of the install (policy-rc.d exit 101 = "not allowed").
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !fs.existsSync(policy);
  if (ownPolicy) fs.writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    await runChecked(["apt-get", "update"], { env, timeoutMs: 600_000 });
    await runChecked(["apt-get", "install", "-y", "--no-install-recommends", ...missing], {
      env,
      timeoutMs: 1_200_000,
    });
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true });
  }
}

function isDebian(): boolean {
  try {
    const osRelease = fs.readFileSync("/etc/os-release", "utf8");
    return /^ID="?debian"?$/m.test(osRelease);
  } catch {
    return false;
  }
}
