/**
 * The container image every host's dockerd gets: busybox-static in an
 * otherwise empty rootfs, imported with `docker import` (no registry is
 * reachable here, and none is needed).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BUSYBOX_IMAGE } from "./constants";
import { cached, fileStamp } from "./cache";
import type { HostMachine } from "./namespace";
import { runChecked } from "./proc";

const BUSYBOX = "/bin/busybox";

/** Builds (once, cached) the image tarball: /bin/busybox plus a symlink per applet. */
export function busyboxTarball(): Promise<string> {
  return cached(`busybox-rootfs-${fileStamp(BUSYBOX)}.tar`, async (tmp) => {
    const root = `${tmp}.d`;
    try {
      for (const d of ["bin", "etc", "tmp", "proc", "sys", "dev", "root"]) fs.mkdirSync(path.join(root, d), { recursive: true });
      fs.chmodSync(path.join(root, "tmp"), 0o1777);
      fs.copyFileSync(BUSYBOX, path.join(root, "bin/busybox"));
      fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
      const applets = (await runChecked([BUSYBOX, "--list"])).split("\n").filter((a) => /^[\w.[\]-]+$/.test(a));
      for (const a of applets) {
        if (a !== "busybox") fs.symlinkSync("busybox", path.join(root, "bin", a));
      }
      fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
      fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\n");
      await runChecked(["tar", "--numeric-owner", "--owner=0", "--group=0", "-C", root, "-cf", tmp, "."]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
}

/** Imports the busybox image into the host's dockerd as local/busybox:latest. */
export async function importBusybox(ns: HostMachine): Promise<void> {
  const tarball = await busyboxTarball();
  const r = await ns.exec(["docker", "import", "-", BUSYBOX_IMAGE], { input: fs.readFileSync(tarball) });
  if (r.code !== 0) throw new Error(`docker import failed: ${r.stderr}`);
}
