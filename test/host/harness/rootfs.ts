/**
 * Root filesystems of the nspawn flavors, built from Debian's archive with
 * mmdebstrap and cached on disk: a zstd tarball (the cache, ~180 MB, built in
 * ~45 s) keyed by suite + package list + build options, and the tree
 * extracted from it once (~5 s), which every host of that flavor uses as the
 * read-only lower layer of its own overlay. Either is rebuilt when missing.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Flavor } from "./flavors";
import { MINIMAL_ENV, runChecked } from "./proc";
import { sleep } from "./wait";

/** Outside any clone, so CI runs and engineers share it. */
export const ROOTFS_CACHE = process.env.GV_TEST_ROOTFS_CACHE ?? "/var/cache/pulumi-gvisor-test/rootfs";
/** Debian archive the root filesystems and the newer fixture runsc come from. */
export const DEBIAN_MIRROR = process.env.GV_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

/**
 * What a nspawn host has installed: the engines and runsc of its suite, sshd,
 * and what the steps call (curl, bzip2, zstd, python3, sudo). docker.io only
 * recommends docker-cli; systemd-sysv and dbus make systemd a real init.
 */
export const ROOTFS_PACKAGES = [
  "docker.io",
  "docker-cli",
  "containerd",
  "runc",
  "runsc",
  "openssh-server",
  "python3",
  "ca-certificates",
  "busybox-static",
  "iproute2",
  "procps",
  "sudo",
  // wget: the install step's fallback when a host has no curl (tested by hiding curl).
  "wget",
  "curl",
  "bzip2",
  "zstd",
  "xz-utils",
  "passwd",
  "systemd",
  "systemd-sysv",
  "dbus",
] as const;

/** Bumped when the build command changes in a way the package list does not show. */
const BUILD_FORMAT = 1;

function mmdebstrapArgs(suite: string, out: string): string[] {
  return [
    "mmdebstrap",
    "--mode=root",
    "--variant=minbase",
    "--quiet",
    // sid's Release file is now and then "expired" against the clock.
    '--aptopt=Acquire::Check-Valid-Until "false"',
    `--include=${ROOTFS_PACKAGES.join(",")}`,
    `--customize-hook=chroot "$1" dpkg-query -W -f='\${Package} \${Version}\\n' > "$1/.gvtest-packages"`,
    suite,
    out,
    DEBIAN_MIRROR,
  ];
}

export function rootfsKey(flavor: Flavor): string {
  const h = createHash("sha256")
    .update(JSON.stringify({ BUILD_FORMAT, suite: flavor.suite, ROOTFS_PACKAGES, DEBIAN_MIRROR }))
    .digest("hex");
  return `${flavor.suite}-${h.slice(0, 12)}`;
}

export interface Rootfs {
  /** The extracted tree: the read-only lower layer of every host of this flavor. */
  tree: string;
  tarball: string;
  /** `package version` lines as dpkg saw them at build time. */
  packages: Map<string, string>;
  /** Pinned versions this build does not have, as "name: built X, pinned Y". */
  drift: string[];
}

const inFlight = new Map<string, Promise<Rootfs>>();

/** The flavor's root filesystem: restored from the cache, or built when there is none. */
export function ensureRootfs(flavor: Flavor): Promise<Rootfs> {
  const key = rootfsKey(flavor);
  let p = inFlight.get(key);
  if (!p) {
    p = withLock(key, () => prepare(flavor, key));
    inFlight.set(key, p);
    p.catch(() => inFlight.delete(key));
  }
  return p;
}

async function prepare(flavor: Flavor, key: string): Promise<Rootfs> {
  fs.mkdirSync(ROOTFS_CACHE, { recursive: true });
  const tarball = path.join(ROOTFS_CACHE, `${key}.tar.zst`);
  const tree = path.join(ROOTFS_CACHE, key);
  if (!fs.existsSync(tarball)) {
    const t0 = Date.now();
    const tmp = path.join(ROOTFS_CACHE, `.tmp-${key}-${process.pid}.tar.zst`);
    const tmpdir = fs.mkdtempSync(path.join(ROOTFS_CACHE, `.tmp-${key}-work-`));
    try {
      await runChecked(mmdebstrapArgs(flavor.suite, tmp), { env: { ...MINIMAL_ENV, TMPDIR: tmpdir }, timeoutMs: 900_000 });
      fs.renameSync(tmp, tarball);
    } catch (e) {
      throw new Error(`building the ${flavor.name} root filesystem with mmdebstrap failed (is deb.debian.org reachable?): ${(e as Error).message}`);
    } finally {
      fs.rmSync(tmp, { force: true });
      fs.rmSync(tmpdir, { recursive: true, force: true });
    }
    console.log(`[harness] built ${flavor.name} root filesystem ${tarball} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (!fs.existsSync(path.join(tree, ".gvtest-packages"))) {
    const t0 = Date.now();
    const tmp = fs.mkdtempSync(path.join(ROOTFS_CACHE, `.tmp-${key}-tree-`));
    try {
      await runChecked(["tar", "--zstd", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tarball, "-C", tmp], { timeoutMs: 300_000 });
      fs.rmSync(tree, { recursive: true, force: true });
      fs.renameSync(tmp, tree);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    console.log(`[harness] restored ${flavor.name} root filesystem from ${tarball} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const packages = new Map(
    fs
      .readFileSync(path.join(tree, ".gvtest-packages"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ") as [string, string]),
  );
  const drift = Object.entries(flavor.pinned)
    .filter(([name, pin]) => pin && !(packages.get(name) ?? "").startsWith(pin))
    .map(([name, pin]) => `${name}: built ${packages.get(name) ?? "(absent)"}, pinned ${pin}`);
  if (drift.length) {
    console.warn(
      `[harness] ${flavor.name} root filesystem drifted from its pins (${drift.join("; ")}); delete ${tarball} to rebuild, update FLAVORS pins to accept`,
    );
  }
  return { tree, tarball, packages, drift };
}

/**
 * A directory lock (`mkdir` is atomic) so that parallel test processes build
 * a root filesystem once; a lock whose owner died is taken over.
 */
async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(ROOTFS_CACHE, { recursive: true });
  const lock = path.join(ROOTFS_CACHE, `.lock-${key}`);
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch {
      const owner = Number(readOr(path.join(lock, "pid"), "0"));
      if (owner && !alive(owner)) fs.rmSync(lock, { recursive: true, force: true });
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
