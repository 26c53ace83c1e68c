import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HostPlan } from "../plan/host-plan";
import { flagWords } from "../plan/runsc-options";
import { stripComments } from "./minify";
import { pruneLib } from "./prune";
import { shellAssignment } from "./quote";
import { OMITTED_WHEN_EMPTY, STEP_VARIABLE_ORDER, StepVariables } from "./variables";

/** The steps a host runs, in order (`uninstall` only on delete). */
export const STEPS = ["install", "configure-docker", "configure-containerd", "verify", "uninstall"] as const;
/**
 * `engine` installs Docker and/or containerd with the OS package manager; it
 * runs first, and only on machines that may lack them (fresh cloud images).
 */
export type StepName = (typeof STEPS)[number] | "engine";

/**
 * The variables each step reads (lib.sh's included). A step's text carries
 * only these, so changing, say, the verify image changes the verify step's
 * text alone and `pulumi preview` shows exactly which steps will re-run.
 */
export const STEP_INPUTS: Readonly<Record<StepName, readonly (keyof StepVariables)[]>> = {
  engine: ["GV_STEP", "GV_STATE_DIR", "GV_DOCKER_ENABLED", "GV_CONTAINERD_ENABLED"],
  install: [
    "GV_STEP",
    "GV_VERSION",
    "GV_RELEASE_URL",
    "GV_LAYOUT",
    "GV_ARCHIVES",
    "GV_SHA512_PINS",
    "GV_KERNEL_FLOOR",
    "GV_DOWNLOAD_MAX_BYTES",
    "GV_ARCH",
    "GV_INSTALL_DIR",
    "GV_STATE_DIR",
  ],
  "configure-docker": [
    "GV_STEP",
    "GV_INSTALL_DIR",
    "GV_STATE_DIR",
    "GV_RUNSC_FLAGS",
    "GV_RUNSC_PLATFORM",
    "GV_DOCKER_ENABLED",
    "GV_DOCKER_CONFIG",
    "GV_DOCKER_RUNTIME",
    "GV_DOCKER_RUNTIME_ENTRY",
    "GV_DOCKER_DEFAULT_RUNTIME",
  ],
  "configure-containerd": [
    "GV_STEP",
    "GV_INSTALL_DIR",
    "GV_STATE_DIR",
    "GV_RUNSC_FLAGS",
    "GV_RUNSC_PLATFORM",
    "GV_CONTAINERD_ENABLED",
    "GV_CONTAINERD_CONFIG",
    "GV_CONTAINERD_RUNTIME",
    "GV_CONTAINERD_BLOCK_V2",
    "GV_CONTAINERD_BLOCK_V3",
    "GV_RUNSC_TOML_PATH",
    "GV_RUNSC_TOML",
  ],
  verify: [
    "GV_STEP",
    "GV_INSTALL_DIR",
    "GV_DOCKER_ENABLED",
    "GV_DOCKER_RUNTIME",
    "GV_CONTAINERD_ENABLED",
    "GV_CONTAINERD_CONFIG",
    "GV_CONTAINERD_RUNTIME",
    "GV_RUNSC_TOML_PATH",
    "GV_VERIFY_IMAGE",
    "GV_VERIFY_ENFORCE",
    "GV_VERIFY_OVERHEAD_ROUNDS",
  ],
  // Uninstall removes what the other steps recorded under the state dir, not
  // what the current plan says, so it is exact even after plan changes.
  uninstall: ["GV_STEP", "GV_INSTALL_DIR", "GV_STATE_DIR"],
};

/** Where the `.sh` step bodies live (next to this file in src/ and in dist/). */
export const STEPS_DIR = join(__dirname, "steps");

const bodies = new Map<string, string>();
/** The static text of `steps/<name>.sh` (or `steps/helper.py` for "helper"), read once. */
export function stepSource(name: StepName | "lib" | "helper"): string {
  let text = bodies.get(name);
  if (text === undefined) {
    text = readFileSync(join(STEPS_DIR, name === "helper" ? "helper.py" : `${name}.sh`), "utf8");
    bodies.set(name, text);
  }
  return text;
}

/** lib.sh's by-hand `gv__pysrc` (reads helper.py beside the step file). */
const BY_HAND_PYSRC = /^gv__pysrc\(\) \{\n[^\n]*\n\}$/m;

/**
 * lib.sh with helper.py inside it: `gv__pysrc` becomes a quoted heredoc of the
 * program, so a rendered step is one self-contained text (pruneLib then keeps
 * only the python subcommands the step runs).
 */
export function libWithHelper(): string {
  const lib = withoutShebang(stepSource("lib"));
  const helper = stepSource("helper");
  if (!BY_HAND_PYSRC.test(lib)) throw new Error("lib.sh: gv__pysrc is not in the form the renderer replaces");
  if (helper.split("\n").includes("GV_PY")) throw new Error("helper.py: a line equals the heredoc delimiter GV_PY");
  return lib.replace(BY_HAND_PYSRC, () => `gv__pysrc() {\n  cat <<'GV_PY'\n${helper.endsWith("\n") ? helper : `${helper}\n`}GV_PY\n}`);
}

/** All step variables for a plan (the superset; each step takes its own subset). */
export function stepVariables(plan: HostPlan, step: StepName): StepVariables {
  const bool = (b: boolean) => (b ? "true" : "false");
  return {
    GV_STEP: step,
    GV_VERSION: plan.release.version,
    GV_RELEASE_URL: plan.release.baseUrl,
    GV_LAYOUT: plan.release.layout,
    GV_ARCHIVES: plan.release.archives.join(" "),
    GV_SHA512_PINS: Object.entries(plan.sha512Pins)
      .map(([arch, hex]) => `${arch}=${hex}`)
      .join(" "),
    GV_KERNEL_FLOOR: plan.release.kernelFloor,
    GV_DOWNLOAD_MAX_BYTES: String(plan.downloadMaxBytes),
    GV_ARCH: plan.gvisorArch ?? "",
    GV_INSTALL_DIR: plan.installDir,
    GV_STATE_DIR: plan.stateDir,
    GV_RUNSC_FLAGS: flagWords(plan.runscFlags).join(" "),
    GV_RUNSC_PLATFORM: plan.platform ?? "",
    GV_DOCKER_ENABLED: bool(plan.docker.enabled),
    GV_DOCKER_CONFIG: plan.docker.configPath,
    GV_DOCKER_RUNTIME: plan.docker.runtimeName,
    GV_DOCKER_RUNTIME_ENTRY: JSON.stringify(plan.docker.runtimeEntry),
    GV_DOCKER_DEFAULT_RUNTIME: bool(plan.docker.defaultRuntime),
    GV_CONTAINERD_ENABLED: bool(plan.containerd.enabled),
    GV_CONTAINERD_CONFIG: plan.containerd.configPath,
    GV_CONTAINERD_RUNTIME: plan.containerd.runtimeName,
    GV_CONTAINERD_BLOCK_V2: plan.containerd.blockV2,
    GV_CONTAINERD_BLOCK_V3: plan.containerd.blockV3,
    GV_RUNSC_TOML_PATH: plan.containerd.runscConfigPath,
    GV_RUNSC_TOML: plan.containerd.runscToml,
    GV_VERIFY_IMAGE: plan.verify.image,
    GV_VERIFY_ENFORCE: bool(plan.verify.enforce),
    GV_VERIFY_OVERHEAD_ROUNDS: plan.verify.overheadRounds === undefined ? "" : String(plan.verify.overheadRounds),
  };
}

function withoutShebang(text: string): string {
  return text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text;
}

/**
 * A step as a self-contained root script: `set -eu`, the step's variables
 * (shell-quoted), the parts of lib.sh the step uses, then the step body. This is what cloud-init user
 * data embeds and what the SSH wrapper below runs.
 */
export function renderStepScript(plan: HostPlan, step: StepName): string {
  return ["#!/bin/sh", `# pulumi-gvisor step: ${step}`, "set -eu", ...stepAssignments(plan, step), renderStepBody(step)].join("\n");
}

/** The shell-quoted `GV_…='…'` lines a step reads, in a stable order. */
export function stepAssignments(plan: HostPlan, step: StepName): string[] {
  const all = stepVariables(plan, step);
  const inputs = new Set(STEP_INPUTS[step]);
  return STEP_VARIABLE_ORDER.filter((name) => inputs.has(name) && !(OMITTED_WHEN_EMPTY.has(name) && all[name] === "")).map((name) =>
    shellAssignment(name, all[name]),
  );
}

/**
 * Everything of a step that does not depend on the plan: the parts of lib.sh
 * it uses, then its body. It runs after the step's assignments, whether those
 * come first in the same text (user data, renderStepScript) or are set by a
 * short command that then sources this text from the host's bundle store.
 */
export function renderStepBody(step: StepName): string {
  const full = [pruneLib(libWithHelper(), stepSource(step)).trimEnd(), withoutShebang(stepSource(step)).trimEnd()].join("\n");
  return `${stripComments(full)}\n`;
}

/**
 * A step as the command text for an SSH session (what `remote.Command` runs,
 * and what the host test suite sends): the root script in a quoted heredoc,
 * run by `sh` as root, or through `sudo -n` for a non-root login.
 */
export function renderStepCommand(plan: HostPlan, step: StepName): string {
  return wrapForSsh(renderStepScript(plan, step), step);
}

/** Wraps a root script so any login user with root or passwordless sudo can run it. */
export function wrapForSsh(script: string, step: string): string {
  // The delimiter carries a hash of the script, so no line of the script can
  // equal it (and a check below makes sure of it).
  const delimiter = `PULUMI_GVISOR_${createHash("sha256").update(script).digest("hex").slice(0, 16)}`;
  if (script.split("\n").includes(delimiter)) throw new Error(`step ${step}: script contains its own heredoc delimiter`);
  return [
    `# pulumi-gvisor: run step "${step}" as root (directly, or through sudo -n)`,
    `gvisor_step=$(cat <<'${delimiter}'`,
    script.trimEnd(),
    delimiter,
    ")",
    'if [ "$(id -u)" -eq 0 ]; then sh -c "$gvisor_step"',
    'elif command -v sudo >/dev/null 2>&1; then sudo -n sh -c "$gvisor_step"',
    `else echo "pulumi-gvisor ${step}: error: not root and sudo is missing; connect as root or as a user with passwordless sudo" >&2; exit 1; fi`,
    "",
  ].join("\n");
}

/** Every step of a plan, rendered for SSH. */
export function renderSteps(plan: HostPlan): Record<StepName, string> {
  return Object.fromEntries(STEPS.map((s) => [s, renderStepCommand(plan, s)])) as Record<StepName, string>;
}
