import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stepSource } from "../../src/scripts/render";

// A stub cloud-init that is forever "running", and a launcher named cloud-init
// (as cloud-init's user-data runner is an ancestor of the node bootstrap).
const dir = mkdtempSync(join(tmpdir(), "gv-cloud-init-"));
const bin = join(dir, "bin");
execFileSync("mkdir", ["-p", bin]);
writeFileSync(join(bin, "cloud-init"), '#!/bin/sh\n[ "$2" = "--wait" ] && sleep 30\necho "status: running"\n');
chmodSync(join(bin, "cloud-init"), 0o755);
execFileSync("mkdir", ["-p", join(dir, "runner")]);
const launcher = join(dir, "runner", "cloud-init");
writeFileSync(launcher, '#!/bin/sh\nsh -c "$1"\n');
chmodSync(launcher, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (limit: number) =>
  ["set -eu", "GV_STEP=test", stepSource("lib"), `gv_init test`, `gv_wait_for_cloud_init ${limit}`, "echo done >&3"].join("\n");
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

describe("waiting for cloud-init", () => {
  it("does not wait when the step itself runs inside cloud-init", () => {
    const started = Date.now();
    const out = execFileSync(launcher, [script(20)], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out.trim()).toBe("done");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("waits, bounded, when cloud-init is running elsewhere", () => {
    const started = Date.now();
    const r = spawnSync("sh", ["-c", script(2)], { env, encoding: "utf8" });
    expect(r.stdout.trim()).toBe("done");
    expect(r.stderr).toMatch(/waiting for cloud-init to finish \(status: running; at most 2s\)/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it("says why it stopped waiting", () => {
    let stderr = "";
    try {
      execFileSync("sh", ["-c", `${script(1)}\necho x >&2; exit 3`], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      stderr = (err as { stderr: string }).stderr;
    }
    expect(stderr).toMatch(/cloud-init is still running after 1s; continuing without it/);
  });
});
