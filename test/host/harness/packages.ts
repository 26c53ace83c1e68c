/**
 * Makes sure the real parts every test host is built from are installed.
 * CI starts from a bare Debian machine, so the host suite installs what it
 * needs itself; it fails (never skips) where it cannot.
 */
import * as fs from "node:fs";
import type { Flavor } from "./flavors";
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

/**
 * What the machine needs on top to build and boot the systemd flavors:
 * mmdebstrap builds their root filesystems, zstd packs the cache,
 * systemd-container gives systemd-nspawn.
 */
export const NSPAWN_PACKAGES = ["mmdebstrap", "systemd-container", "zstd"] as const;

const ensured = new Map<string, Promise<void>>();

/**
 * Installs whatever the given flavors need that is missing (HOST_PACKAGES,
 * plus NSPAWN_PACKAGES for systemd flavors). Runs once per process and set.
 */
export function ensureHostPackages(flavors: readonly Pick<Flavor, "systemd">[] = []): Promise<void> {
  const wanted = [...HOST_PACKAGES, ...(flavors.some((f) => f.systemd) ? NSPAWN_PACKAGES : [])];
  const key = wanted.join(" ");
  let p = ensured.get(key);
  if (!p) {
    p = install(wanted);
    ensured.set(key, p);
  }
  return p;
}

async function install(packages: readonly string[]): Promise<void> {
  if (process.platform !== "linux" || process.getuid?.() !== 0) {
    throw new Error("host tests need root on Linux (they create namespaces and start sshd/dockerd)");
  }
  if (!isDebian()) {
    throw new Error("host tests need a Debian host (they install runsc, docker.io, containerd with apt-get)");
  }
  const missing: string[] = [];
  for (const pkg of packages) {
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
