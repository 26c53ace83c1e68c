/**
 * Fixed names and paths shared by the harness modules. Kept in one place so a
 * test can refer to them instead of repeating string literals.
 */
import * as path from "node:path";

/** Where per-host working dirs and build caches live on the real machine. */
export const BASE_DIR = process.env.GV_TEST_HOSTS_DIR ?? "/tmp/gvisor-test-hosts";

/** Build caches (busybox image tarball, mirror fixtures) shared by every run. */
export const CACHE_DIR = path.join(BASE_DIR, ".cache");

/** The two SSH users every test host offers. `gvtest` reaches root with `sudo -n`. */
export const SSH_USERS = ["root", "gvtest"] as const;
export type SshUser = (typeof SSH_USERS)[number];

/** The non-root user, created inside each host's copy-on-write /etc. */
export const TEST_USER = "gvtest";

/** PATH given to daemons and to `exec` inside a host: what a stock root shell has. */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Tag of the image imported into every host's dockerd. */
export const BUSYBOX_IMAGE = "local/busybox:latest";

/** Set to keep a host's working dir (logs, overlay upper dirs) after stop(), for debugging. */
export const KEEP_HOSTS = process.env.GV_TEST_KEEP_HOSTS === "1";
