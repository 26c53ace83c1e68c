import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHostPlan } from "../../src/plan/host-plan";
import { StepName, renderStepScript } from "../../src/scripts/render";

// Static checks of the shell step bodies: shellcheck (as POSIX sh) with zero
// findings, and a clean parse by sh (dash) and bash. Each file is checked on
// its own (a step is runnable by hand) and each step as the renderer
// concatenates it with lib.sh.

const STEPS_DIR = resolve(__dirname, "../../src/scripts/steps");
const STEPS: StepName[] = ["install", "configure-docker", "configure-containerd", "verify", "uninstall"];
const FILES: string[] = ["lib", ...STEPS];

let work = "";
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "pulumi-gvisor-steps-"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}); install it (apt-get install -y shellcheck)`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function source(name: string): string {
  return readFileSync(join(STEPS_DIR, `${name}.sh`), "utf8");
}

// Rendered exactly as a host receives it (src/scripts/render.ts): `set -eu`,
// the step's shell-quoted GV_* variables, lib.sh, the step body. Two plans
// cover both release layouts, both engines, a platform and flag values with
// characters like % and /.
const PLANS = {
  archive: buildHostPlan({
    version: "20261020.0",
    arch: "x86_64",
    runsc: { network: "none", platform: "ptrace", debugLog: "/var/log/runsc/%ID%/" },
    docker: { defaultRuntime: true },
    containerd: { enabled: true },
  }),
  loose: buildHostPlan({ version: "20260817.0", arch: "arm64", docker: { runtimeName: "gvisor" } }),
};

describe("step scripts", () => {
  it("include lib.sh and the five steps", () => {
    const found = readdirSync(STEPS_DIR)
      .filter((f) => f.endsWith(".sh"))
      .map((f) => f.replace(/\.sh$/, ""))
      .sort();
    // Other .sh files may join later (each must then be listed here).
    expect(found).toEqual(expect.arrayContaining([...FILES].sort()));
  });

  it.each(FILES)("%s.sh is shellcheck clean as POSIX sh", (name) => {
    const r = run("shellcheck", ["-s", "sh", "-f", "gcc", join(STEPS_DIR, `${name}.sh`)]);
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  for (const [layout, plan] of Object.entries(PLANS)) {
    it.each(STEPS)(`lib.sh + %s.sh, rendered (${layout} plan), is shellcheck clean as POSIX sh`, (step) => {
      const file = join(work, `${step}.${layout}.sh`);
      writeFileSync(file, renderStepScript(plan, step));
      const r = run("shellcheck", ["-s", "sh", "-f", "gcc", file]);
      expect(r.out).toBe("");
      expect(r.status).toBe(0);
    });
  }

  for (const shell of ["sh", "bash"]) {
    it.each(FILES)(`%s.sh parses with ${shell} -n`, (name) => {
      const r = run(shell, ["-n", join(STEPS_DIR, `${name}.sh`)]);
      expect(r.out).toBe("");
      expect(r.status).toBe(0);
    });

    it.each(STEPS)(`lib.sh + %s.sh, rendered, parses with ${shell} -n`, (step) => {
      const file = join(work, `${step}.parse.sh`);
      writeFileSync(file, renderStepScript(PLANS.archive, step));
      const r = run(shell, ["-n", file]);
      expect(r.out).toBe("");
      expect(r.status).toBe(0);
    });
  }

  it.each(STEPS)("%s.sh run by hand without variables fails naming the first missing GV_ variable", (step) => {
    // Stops at the `: "${GV_X:?...}"` checks at the top, before doing anything.
    const r = spawnSync("sh", [join(STEPS_DIR, `${step}.sh`)], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/GV_[A-Z_]+: is not set/);
  });

  it.each(STEPS)("%s.sh loads lib.sh from its own directory when run by hand", (step) => {
    expect(source(step)).toContain('. "$(dirname "$0")/lib.sh"');
    expect(source(step)).toMatch(/^set -eu$/m);
  });
});
