import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildHostPlan } from "../../src/plan/host-plan";
import { stripComments } from "../../src/scripts/minify";
import { STEP_INPUTS, STEPS, StepName, renderStepBody, renderStepCommand, renderStepScript, stepSource, wrapForSsh } from "../../src/scripts/render";
import { STEP_VARIABLE_ORDER } from "../../src/scripts/variables";

const VAR = /\bGV_[A-Z0-9_]+\b/g;
/** Shell text without comment lines, so a function named in a comment is not a call. */
const code = (text: string) => text.replace(/^\s*#.*$/gm, "");
const CONTRACT = new Set<string>(STEP_VARIABLE_ORDER);

/** lib.sh's functions: which contract variables each reads and which functions it calls. */
function libFunctions(): Map<string, { vars: Set<string>; calls: Set<string> }> {
  const lib = code(stepSource("lib"));
  const names = [...lib.matchAll(/^([a-z_][a-z0-9_]*)\(\)\s*\{/gm)].map((m) => m[1]);
  const fns = new Map<string, { vars: Set<string>; calls: Set<string> }>();
  const chunks = lib.split(/^(?=[a-z_][a-z0-9_]*\(\)\s*\{)/m);
  for (const chunk of chunks) {
    const name = /^([a-z_][a-z0-9_]*)\(\)/.exec(chunk)?.[1];
    if (!name) continue;
    fns.set(name, {
      vars: new Set([...chunk.matchAll(VAR)].map((m) => m[0]).filter((v) => CONTRACT.has(v))),
      calls: new Set(names.filter((n) => n !== name && new RegExp(`\\b${n}\\b`).test(chunk))),
    });
  }
  return fns;
}

/** Contract variables a step body reads, directly or through lib functions it calls. */
function variablesRead(step: StepName): Set<string> {
  const body = code(stepSource(step));
  const fns = libFunctions();
  const read = new Set([...body.matchAll(VAR)].map((m) => m[0]).filter((v) => CONTRACT.has(v)));
  const queue = [...fns.keys()].filter((n) => new RegExp(`\\b${n}\\b`).test(body));
  const seen = new Set<string>();
  while (queue.length) {
    const fn = queue.pop()!;
    if (seen.has(fn)) continue;
    seen.add(fn);
    for (const v of fns.get(fn)!.vars) read.add(v);
    queue.push(...fns.get(fn)!.calls);
  }
  return read;
}

const x86 = buildHostPlan({ arch: "x86_64", version: "20261020.0", runsc: { network: "none" }, containerd: { enabled: true } });
const arm = buildHostPlan({ arch: "arm64", version: "20260817.0", runsc: { platform: "systrap", overlay2: "root:memory" }, docker: { runtimeName: "gvisor", defaultRuntime: true } });

/** The rendered script up to where the plan-independent body starts: header and quoted variables. */
const prelude = (script: string, step: StepName) => script.slice(0, script.indexOf(renderStepBody(step)));

describe("step rendering", () => {
  for (const step of STEPS) {
    it(`${step}: carries exactly the variables its body reads`, () => {
      const declared = new Set<string>(STEP_INPUTS[step]);
      const read = variablesRead(step);
      read.add("GV_STEP");
      expect([...read].sort()).toEqual([...declared].sort());
    });

    it(`${step}: renders byte-stable variables for x86_64 and arm64`, () => {
      expect(prelude(renderStepScript(x86, step), step)).toMatchSnapshot("x86_64");
      expect(prelude(renderStepScript(arm, step), step)).toMatchSnapshot("arm64");
      expect(renderStepScript(x86, step)).toBe(renderStepScript(buildHostPlan({ arch: "x86_64", version: "20261020.0", runsc: { network: "none" }, containerd: { enabled: true } }), step));
    });

    it(`${step}: parses under sh and bash, wrapped for SSH too`, () => {
      for (const shell of ["sh", "bash"]) {
        execFileSync(shell, ["-n"], { input: renderStepScript(x86, step) });
        execFileSync(shell, ["-n"], { input: renderStepCommand(arm, step) });
      }
    });
  }

  it("keeps every step file 7-bit ASCII (user data parts must be, and previews stay plain)", () => {
    for (const name of [...STEPS, "engine", "lib"] as const) {
      expect([...stepSource(name)].filter((c) => c !== "\t" && c !== "\n" && (c < " " || c > "~")), name).toEqual([]);
    }
  });

  it("embeds the step body unchanged but for comments, with only the parts of lib.sh it uses", () => {
    const install = renderStepScript(x86, "install");
    expect(install).toContain(stripComments(stepSource("install").split("\n").slice(1).join("\n")).trimEnd());
    expect(install).toMatch(/^gv_init\(\) \{$/m);
    expect(install).toMatch(/^gv_wait_for_cloud_init\(\) \{$/m);
    expect(install).not.toMatch(/^gv_docker_reload\(\) \{$/m);
    expect(install).toMatch(/^def cmd_untar\(\):$/m);
    expect(install).not.toMatch(/^def cmd_docker_merge\(\):$/m);
    const docker = renderStepScript(x86, "configure-docker");
    expect(docker).toMatch(/^gv_docker_reload\(\) \{$/m);
    expect(docker).toMatch(/^def cmd_docker_merge\(\):$/m);
    expect(install.length).toBeLessThan(stepSource("lib").length + stepSource("install").length);
  });

  it("carries helper.py inside the text, pruned to what the step runs, and reads no file beside it", () => {
    const install = renderStepBody("install");
    expect(install).toMatch(/^def cmd_undo_plan\(\):$/m);
    expect(install).not.toMatch(/^def cmd_docker_merge\(\):$/m);
    expect(install).not.toContain("/helper.py");
    expect(install).toContain("cat <<'GV_PY'\n");
    const docker = renderStepBody("configure-docker");
    expect(docker).toMatch(/^def cmd_docker_unmerge\(\):$/m);
    expect(docker).not.toMatch(/^def cmd_verify_doc\(\):$/m);
    // The shared code loses its comment lines (user data must fit 16 KiB); shellcheck directives stay.
    expect(install).not.toContain("# Records of managed files");
    expect(install).toMatch(/^\s*# shellcheck disable=/m);
    expect(renderStepBody("install")).toBe(install);
  });

  it("quotes hostile values so the shell sees them as data", () => {
    const plan = buildHostPlan({ runsc: { extraFlags: { "debug-command": "$(touch${IFS}/tmp/pwned)`id`';\"" } } });
    const script = renderStepScript(plan, "configure-docker");
    const prelude = script.slice(0, script.indexOf("\n", script.indexOf("GV_DOCKER_DEFAULT_RUNTIME=")));
    const out = execFileSync("sh", ["-c", `${prelude}\nprintf '%s' "$GV_RUNSC_FLAGS"`], { encoding: "utf8" });
    expect(out).toBe("--debug-command=$(touch${IFS}/tmp/pwned)`id`';\"");
  });

  it("runs the wrapped script as root directly, passing stdout, stderr and the exit code through", () => {
    const command = wrapForSsh("#!/bin/sh\nset -eu\necho out; echo err >&2\nexit 7\n", "demo");
    let result: { status: number | null; stdout: string; stderr: string } | undefined;
    try {
      execFileSync("sh", ["-c", command], { encoding: "utf8", stdio: "pipe" });
    } catch (err) {
      result = err as never;
    }
    expect(result?.status).toBe(7);
    expect(result?.stdout).toBe("out\n");
    expect(result?.stderr).toBe("err\n");
  });

  it("verify.measureOverhead off: the verify step's values render as before; on: one more quoted line, the body the same", () => {
    const base = { arch: "x86_64", version: "20261020.0", runsc: { network: "none" }, containerd: { enabled: true } } as const;
    const off = renderStepScript(x86, "verify");
    // Off, whether left out or said, is the text without the measurement's variable.
    expect(renderStepScript(buildHostPlan({ ...base, verify: { measureOverhead: false } }), "verify")).toBe(off);
    expect(prelude(off, "verify")).not.toContain("GV_VERIFY_OVERHEAD_ROUNDS");
    expect(prelude(off, "verify").split("\n").at(-2)).toMatch(/^GV_VERIFY_ENFORCE='true'$/);
    const on = renderStepScript(buildHostPlan({ ...base, verify: { measureOverhead: true, overheadRounds: 4 } }), "verify");
    const added = prelude(on, "verify")
      .split("\n")
      .filter((l) => !prelude(off, "verify").split("\n").includes(l));
    expect(added).toEqual(["GV_VERIFY_OVERHEAD_ROUNDS='4'"]);
    expect(on.slice(on.indexOf(renderStepBody("verify")))).toBe(off.slice(off.indexOf(renderStepBody("verify"))));
    // Every other step is the same text either way.
    for (const step of STEPS.filter((s) => s !== "verify")) {
      expect(renderStepScript(buildHostPlan({ ...base, verify: { measureOverhead: true } }), step)).toBe(renderStepScript(x86, step));
    }
  });

  it("the verify body reads the measurement's variable as optional, and refuses a value that is not a count", () => {
    expect(stepSource("verify")).toContain("overhead_rounds=${GV_VERIFY_OVERHEAD_ROUNDS:-}");
    for (const bad of ["0", "00", "3x", "-1", "100"]) {
      const r = spawnSync("sh", ["-c", `set -eu\ngv_die() { echo "$1" >&2; exit 1; }\nGV_VERIFY_OVERHEAD_ROUNDS='${bad}'\n${/^# Unset \(the default\).*?\nesac$/ms.exec(stepSource("verify"))![0]}\necho measured "$overhead_rounds"`], { encoding: "utf8" });
      expect(r.status, bad).toBe(1);
      expect(r.stderr).toContain(`GV_VERIFY_OVERHEAD_ROUNDS must be a number of rounds from 1 to 99, got '${bad}'`);
    }
    const ok = spawnSync("sh", ["-c", `set -eu\ngv_die() { exit 1; }\n${/^# Unset \(the default\).*?\nesac$/ms.exec(stepSource("verify"))![0]}\necho "[$overhead_rounds]"`], { encoding: "utf8" });
    expect(ok.stdout).toBe("[]\n");
  });

  it("keeps heredoc delimiters out of reach of the script text", () => {
    const script = renderStepScript(x86, "verify");
    const command = wrapForSsh(script, "verify");
    const delimiter = /<<'(PULUMI_GVISOR_[0-9a-f]{16})'/.exec(command)![1];
    expect(script.split("\n")).not.toContain(delimiter);
    expect(command.split("\n").filter((l) => l === delimiter)).toHaveLength(1);
  });
});
