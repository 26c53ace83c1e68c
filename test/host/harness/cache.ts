/**
 * Build-once artifacts (busybox image tarball, mirror fixtures) cached on disk
 * under CACHE_DIR, keyed by their inputs. Vitest runs each test file in a fresh
 * worker, so an in-memory cache alone would rebuild them for every file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CACHE_DIR } from "./constants";

const inFlight = new Map<string, Promise<string>>();

/**
 * Returns CACHE_DIR/<key>, building it with `build(tmpPath)` when missing. The
 * build writes to a private temp path that is renamed into place, so a
 * concurrent run (another engineer's, another worker) never sees half of it.
 */
export function cached(key: string, build: (tmpPath: string) => Promise<void>): Promise<string> {
  let p = inFlight.get(key);
  if (!p) {
    p = (async () => {
      const final = path.join(CACHE_DIR, key);
      if (fs.existsSync(final)) return final;
      fs.mkdirSync(CACHE_DIR, { recursive: true });
      const tmp = path.join(CACHE_DIR, `.tmp-${key}-${process.pid}-${Date.now()}`);
      try {
        await build(tmp);
        try {
          fs.renameSync(tmp, final);
        } catch (e) {
          // Someone else finished first: theirs is as good as ours.
          if (!fs.existsSync(final)) throw e;
        }
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      return final;
    })();
    inFlight.set(key, p);
    p.catch(() => inFlight.delete(key));
  }
  return p;
}

/** A short cache key part from a file's identity (size + mtime), cheap to compute. */
export function fileStamp(file: string): string {
  const st = fs.statSync(file);
  return `${st.size.toString(36)}${Math.floor(st.mtimeMs).toString(36)}`;
}
