/**
 * What the host parts observe on a test host: dockerd's pid and reloads,
 * containers' start times, the files a step may touch, and the restart the
 * hand-written routine does (`systemctl restart docker` on a systemd host).
 */
import { startDockerd } from "../../test/host/harness/dockerd";
import type { HostNamespace } from "../../test/host/harness/namespace";
import { waitFor } from "../../test/host/harness/wait";
import { shQuote, type TestHost } from "../../test/host/harness";

/** dockerd's pid and how many reloads (SIGHUP) it has logged so far. */
export async function dockerdState(host: TestHost): Promise<{ pid: number; reloads: number }> {
  const reloads = host.docker.log().split("Got signal to reload configuration").length - 1;
  return { pid: await host.docker.pid(), reloads };
}

/** Files (path → mtime, inode, size) under the dirs the steps write: a re-run that rewrites nothing leaves this equal. */
export async function fileSnapshot(host: TestHost): Promise<Map<string, string>> {
  const dirs = ["/usr/local/bin", "/etc/docker", "/etc/containerd", "/var/lib/pulumi-gvisor"];
  const r = await host.sh(
    `for d in ${dirs.map(shQuote).join(" ")}; do [ -d "$d" ] && find "$d" -xdev \\( -type f -o -type l \\) -printf '%p %T@ %i %s\\n'; done; true`,
  );
  if (r.code !== 0) throw new Error(`file snapshot: ${r.stderr}`);
  const files = new Map<string, string>();
  for (const line of r.stdout.trim().split("\n").filter(Boolean)) {
    const i = line.indexOf(" ");
    files.set(line.slice(0, i), line.slice(i + 1));
  }
  return files;
}

/** Paths created, removed or changed (mtime, inode or size) between two snapshots. */
export function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const out = new Set<string>();
  for (const [p, v] of after) if (before.get(p) !== v) out.add(p);
  for (const p of before.keys()) if (!after.has(p)) out.add(p);
  return [...out].sort();
}

/** A detached `sleep` container under `runtime`; returns its id. */
export async function startWorkload(host: TestHost, runtime: string): Promise<string> {
  // A 1 s stop timeout: `sleep` as PID 1 ignores SIGTERM, and a dockerd restart would wait 10 s on each.
  const r = await host.docker.cli(["run", "-d", "--stop-timeout=1", "--network=none", `--runtime=${runtime}`, "local/busybox:latest", "sleep", "3600"]);
  if (r.code !== 0) throw new Error(`docker run -d --runtime=${runtime}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A container's start time while it runs, or undefined when it is not running (or gone). */
export async function runningSince(host: TestHost, id: string): Promise<string | undefined> {
  const r = await host.docker.cli(["inspect", "--format", "{{.State.Running}} {{.State.StartedAt}}", id]);
  if (r.code !== 0) return undefined;
  const [running, startedAt] = r.stdout.trim().split(" ");
  return running === "true" ? startedAt : undefined;
}

/**
 * Stops dockerd and starts it again with the harness's own command line: what
 * `systemctl restart docker` does on a machine with systemd. Reaches the
 * host's namespace through TestHost's private field (the harness has no
 * restart of its own yet).
 */
export async function restartDockerd(host: TestHost): Promise<void> {
  const pid = await host.docker.pid();
  const r = await host.sh('kill -TERM "$1"', [String(pid)]);
  if (r.code !== 0) throw new Error(`could not stop dockerd: ${r.stderr}`);
  await waitFor("dockerd to exit", async () => ((await host.sh('kill -0 "$1" 2>/dev/null', [String(pid)])).code !== 0 ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 25,
  });
  const ns = (host as unknown as { ns: HostNamespace }).ns;
  await startDockerd(ns, host.logPath("dockerd"), host.cgroupParent);
}
