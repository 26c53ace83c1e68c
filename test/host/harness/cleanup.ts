/**
 * What a stopped host can leave on the real machine, and removing it:
 * cgroups (the only thing the host's containers create outside its
 * namespaces) and its working dir. Also sweeps hosts whose test runner died
 * without calling stop().
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BASE_DIR } from "./constants";
import { sleep } from "./wait";

const CGROUP_ROOT = "/sys/fs/cgroup";

/** Every controller dir (v1 hierarchies and the v2 tree) where `parent` exists. */
export function cgroupDirs(parent: string): string[] {
  const rel = parent.replace(/^\/+/, "");
  const candidates = [path.join(CGROUP_ROOT, rel)];
  try {
    for (const c of fs.readdirSync(CGROUP_ROOT)) candidates.push(path.join(CGROUP_ROOT, c, rel));
  } catch {
    // no cgroup fs
  }
  return candidates.filter((d) => {
    try {
      return fs.statSync(d).isDirectory() && fs.existsSync(path.join(d, "cgroup.procs"));
    } catch {
      return false;
    }
  });
}

/** Removes a cgroup subtree deepest first (cgroup dirs go with rmdir, not rm -r). */
export async function removeCgroups(parent: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = cgroupDirs(parent);
    if (left.length === 0) return;
    for (const d of left) rmdirTree(d);
    if (cgroupDirs(parent).length === 0) return;
    if (Date.now() > deadline) throw new Error(`cgroups left behind: ${cgroupDirs(parent).join(", ")}`);
    // Tasks that were just killed leave their cgroup a moment later.
    await sleep(100);
  }
}

function rmdirTree(dir: string): void {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // busy: retried by the caller
  }
}

/** rm -rf with retries: the host's mounts are released asynchronously after its last process dies. */
export async function removeDir(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    } catch (e) {
      if (i >= 50) throw e;
      await sleep(100);
    }
  }
}

/** What a host records about itself so a later run can clean up after a crash. */
export interface OwnerRecord {
  /** PID and start time of the test runner that owns the host. */
  ownerPid: number;
  ownerStart: string;
  initPid: number;
  pidNs: string;
  cgroupParent: string;
}

export const OWNER_FILE = "owner.json";

export function processStart(pid: number): string | undefined {
  try {
    // Field 22 of /proc/PID/stat (after the parenthesised command name).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Removes hosts whose owning test runner is gone. Hosts of live runners (other engineers' too) are left alone. */
export async function sweepStaleHosts(): Promise<void> {
  let entries: string[];
  try {
    entries = fs.readdirSync(BASE_DIR);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name.startsWith(".")) continue;
    const dir = path.join(BASE_DIR, name);
    let rec: OwnerRecord;
    try {
      rec = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8")) as OwnerRecord;
    } catch {
      continue; // not a host dir, or one still being created
    }
    if (processStart(rec.ownerPid) === rec.ownerStart) continue;
    try {
      if (fs.readlinkSync(`/proc/${rec.initPid}/ns/pid`) === rec.pidNs) process.kill(rec.initPid, "SIGKILL");
    } catch {
      // already gone
    }
    await sleep(200);
    await removeCgroups(rec.cgroupParent).catch(() => undefined);
    await removeDir(dir).catch(() => undefined);
  }
}
