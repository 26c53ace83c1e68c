/**
 * Fault injection for host tests: run a rendered step and SIGKILL its whole
 * process tree as soon as it prints its Nth `phase NAME` mark (lib.sh's
 * gv_phase, printed where the step is about to change host state), and take
 * byte-exact snapshots of the files a step may touch. Nothing here is in the
 * production text: the step only prints its marks; the killing is done from
 * outside, by this wrapper.
 */
import { readFileSync } from "node:fs";
import { HostPlan } from "../../../src/plan/host-plan";
import { StepName, renderStepScript } from "../../../src/scripts/render";
import type { TestHost } from "../harness";

/** A phase mark as lib.sh's gv_phase prints it. */
export const PHASE = /^pulumi-gvisor [a-z-]+: phase ([a-z-]+)$/;

export interface KilledRun {
  /** True when the step printed its Nth mark and was killed there. */
  killed: boolean;
  /** The marks the step printed (up to the kill). */
  phases: string[];
  stderr: string;
  /** The step's exit status when it was not killed. */
  code: number;
}

// The step runs in a session of its own (setsid), so `kill -9 -PID` (dash: no `--`) reaches
// every process it started (python, docker, sync), as a dropped SSH session,
// an OOM kill of the cgroup or a reboot would.
const KILLER = `
set -u
n=$2
f=$(mktemp -u /run/gv-fault.XXXXXX)
mkfifo "$f"
setsid sh -c "$1" 2>"$f" >/dev/null &
pid=$!
seen=0
killed=0
while IFS= read -r line; do
  printf '%s\\n' "$line" >&2
  case $line in
    "pulumi-gvisor "*": phase "*)
      seen=$((seen + 1))
      if [ "$seen" -eq "$n" ]; then kill -9 "-$pid" && killed=1; break; fi
      ;;
  esac
done <"$f"
rc=0
wait "$pid" || rc=$?
rm -f "$f"
echo "killed=$killed rc=$rc"
`;

/** Runs `step` of `plan` as root; kills it at its `n`th phase mark (0: never). */
export async function runKilledAt(host: TestHost, plan: HostPlan, step: StepName, n: number): Promise<KilledRun> {
  const r = await host.sh(KILLER, [renderStepScript(plan, step), String(n)]);
  const m = /killed=(\d) rc=(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`fault wrapper failed: ${r.stdout}\n${r.stderr}`);
  const phases = r.stderr
    .split("\n")
    .map((l) => PHASE.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
  return { killed: m[1] === "1", phases, stderr: r.stderr, code: Number(m[2]) };
}

/** Where the steps may write (whole directories, so stray staged files count), and the state dir. */
export const WATCHED = ["/etc/docker", "/etc/containerd", "/usr/local/bin", "/opt/gvisor", "/var/lib/pulumi-gvisor"];

const SNAPSHOT = `
for p in "$@"; do
  if [ -L "$p" ]; then
    printf '%s link %s %s\\n' "$p" "$(readlink "$p")" "$(cat -- "$p" 2>/dev/null | sha256sum | cut -c1-16)"
  elif [ -d "$p" ]; then
    find "$p" -mindepth 1 | sort | while IFS= read -r f; do
      if [ -L "$f" ]; then printf '%s link %s\\n' "$f" "$(readlink "$f")"
      elif [ -f "$f" ]; then printf '%s file %s %s\\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -c1-16)"
      else printf '%s dir %s\\n' "$f" "$(stat -c %a "$f")"; fi
    done
    printf '%s dir %s\\n' "$p" "$(stat -c %a "$p")"
  elif [ -f "$p" ]; then
    printf '%s file %s %s\\n' "$p" "$(stat -c %a "$p")" "$(sha256sum <"$p" | cut -c1-16)"
  else
    printf '%s absent\\n' "$p"
  fi
done
# The steps' temp dirs (a killed step's stays until the next step sweeps it).
for d in /tmp/pulumi-gvisor.* /var/tmp/pulumi-gvisor.*; do
  if [ -e "$d" ]; then printf '%s temp dir\\n' "$d"; fi
done
`;

/** Byte-exact view of `paths` (type, mode, content digest; directories listed whole). */
export async function snapshot(host: TestHost, paths: readonly string[] = WATCHED): Promise<string[]> {
  const r = await host.sh(SNAPSHOT, paths);
  if (r.code !== 0) throw new Error(`snapshot: ${r.stderr}`);
  return r.stdout.trim().split("\n");
}

/** dockerd's pid as the machine sees it, and that of its parent outside the host (nsenter). */
function dockerdOuter(host: TestHost): { pid: number; parent: number } {
  for (const pid of host.processes()) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "dockerd") continue;
      const parent = Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      return { pid, parent };
    } catch {
      // exited while we looked
    }
  }
  throw new Error("dockerd is not running in the test host");
}

/** Hangs dockerd (SIGSTOP): it answers nothing, signals queue up. */
export function hangDockerd(host: TestHost): void {
  process.kill(dockerdOuter(host).pid, "SIGSTOP");
}

/**
 * Resumes a hung dockerd. util-linux nsenter, dockerd's parent outside the
 * host, stops itself when its child stops; it gets SIGCONT too, or it would
 * never reap dockerd and the host could not be stopped.
 */
export function resumeDockerd(host: TestHost): void {
  const { pid, parent } = dockerdOuter(host);
  process.kill(pid, "SIGCONT");
  if (parent > 1) process.kill(parent, "SIGCONT");
}
