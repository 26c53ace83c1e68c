/**
 * Part 2, host time. Each round takes three identical fresh test hosts, in a
 * rotating order: the package cold (a `Host` through the engine model, fresh
 * → verified: lifecycle, bundle upload, steps), then an unchanged `pulumi up`
 * (warm: nothing may run) and a forced re-run of every step (`--replace` of
 * each step resource, same plan); the hand-written routine; and the floor
 * (only what no installer can skip). Medians over rounds. Also bz2 vs zstd:
 * checksum and extraction of the same content.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sha512, startTestHost, shQuote, type Mirror, type TestHost } from "../../test/host/harness";
import { runChecked } from "../../test/host/harness/proc";
import { testPlan } from "../../test/host/support/steps";
import type { HostPlan } from "../../src/plan/host-plan";
import { handConfigure, handInstall, handVerify } from "../hand-written";
import { median, ratio, timed } from "../stats";
import { HOST_STEPS, benchHostArgs, hostsProgram, msByResource, newModel, sessions, timedUp } from "./engine-host";
import { handInputFor } from "./host-steps";
import { changedFiles, dockerdState, fileSnapshot, restartDockerd } from "./probes";

export interface HostTimeResult {
  rounds: number;
  /** Median ms per resource that ran (lifecycle, bundle, steps), fresh host → verified. */
  coldMs: Record<string, number>;
  /** Median wall time of the first `pulumi up` (through the engine model). */
  coldTotalMs: number;
  /** An unchanged `pulumi up`: its wall time and the most SSH sessions it opened over rounds (target 0). */
  noopUpMs: number;
  noopSessions: number;
  /** Median ms per step, every step forced to run again (`--replace`) on the same plan. */
  warmMs: Record<string, number>;
  /** Median wall time of that forced `pulumi up`. */
  warmTotalMs: number;
  warmSlowestStepMs: number;
  /** Worst over rounds: files the warm re-run created, removed or changed; dockerd reloads and restarts it caused. */
  warmFilesRewritten: number;
  warmReloads: number;
  warmDockerdRestarts: number;
  /** The hand-written routine: install+configure session, `systemctl restart docker`, verify session. */
  hand: { sessionMs: number; restartMs: number; verifyMs: number; totalMs: number };
  /** Download+checksum+extract (of the archive the package picks) in one session, one reload, one sandboxed container start. */
  floor: { archive: string; fetchChecksumExtractMs: number; reloadMs: number; containerStartMs: number; totalMs: number };
  coldVsFloor: number;
  coldVsHand: number;
}

async function withHost<T>(fn: (host: TestHost) => Promise<T>): Promise<T> {
  const host = await startTestHost();
  try {
    return await fn(host);
  } finally {
    await host.stop();
  }
}

async function packageRun(host: TestHost, mirror: Mirror) {
  const model = newModel();
  const program = hostsProgram([benchHostArgs(mirror, host)]);
  const [coldTotalMs, cold] = await timedUp(model, program);
  const files = await fileSnapshot(host);
  const daemon = await dockerdState(host);
  const [noopUpMs, noop] = await timedUp(model, program);
  const [warmTotalMs, warm] = await timedUp(model, program, { replace: HOST_STEPS.map((s) => `h0-${s}`) });
  const after = await dockerdState(host);
  return {
    cold: msByResource(cold),
    coldTotalMs,
    noopUpMs,
    noopSessions: sessions(noop).length,
    warm: msByResource(warm),
    warmTotalMs,
    rewritten: changedFiles(files, await fileSnapshot(host)),
    reloads: after.reloads - daemon.reloads,
    restarts: after.pid === daemon.pid ? 0 : 1,
  };
}

async function handRun(host: TestHost, mirror: Mirror, plan: HostPlan) {
  const input = handInputFor(mirror, plan);
  const [sessionMs, r] = await timed(() => host.run(`${handInstall(input)}\n${handConfigure(input)}`));
  if (r.code !== 0) throw new Error(`hand-written install failed: ${r.stderr}`);
  const [restartMs] = await timed(() => restartDockerd(host));
  const [verifyMs, v] = await timed(() => host.run(handVerify(input)));
  if (v.code !== 0 || v.stdout.trim() !== "4.4.0") throw new Error(`hand-written verify failed: ${v.stdout}${v.stderr}`);
  return { sessionMs, restartMs, verifyMs, totalMs: sessionMs + restartMs + verifyMs };
}

/** The archive the package's install step picks on this host: zstd when the release has it and `zstd` exists, else bz2. */
async function floorArchive(host: TestHost, plan: HostPlan): Promise<"gvisor.tar.zstd" | "gvisor.tar.bz2"> {
  const hasZstd = (await host.sh("command -v zstd >/dev/null")).code === 0;
  return plan.release.archives.includes("gvisor.tar.zstd") && hasZstd ? "gvisor.tar.zstd" : "gvisor.tar.bz2";
}

async function floorRun(host: TestHost, mirror: Mirror, plan: HostPlan) {
  const entry = JSON.stringify({ runtimes: { runsc: plan.docker.runtimeEntry } });
  const archive = await floorArchive(host, plan);
  const script = [
    "set -e",
    `URL=${shQuote(mirror.releaseUrl(plan.release.version))}/$(uname -m)`,
    `A=${shQuote(archive)}`,
    'cd "$(mktemp -d)"',
    'curl -fsSLO "$URL/$A" -O "$URL/$A.sha512"',
    'sha512sum -c "$A.sha512" >/dev/null',
    `tar ${archive.endsWith("zstd") ? "--zstd" : "-j"} -xf "$A" -C /usr/local/bin`,
    `mkdir -p /etc/docker && printf '%s' ${shQuote(entry)} > /etc/docker/daemon.json`,
  ].join("\n");
  const [fetchChecksumExtractMs, r] = await timed(() => host.run(script));
  if (r.code !== 0) throw new Error(`floor fetch/extract failed: ${r.stderr}`);
  const [reloadMs, reload] = await timed(() => host.docker.reload());
  if (!reload.ok) throw new Error(`floor reload failed: ${reload.log}`);
  const [containerStartMs, c] = await timed(() => host.docker.cli(["run", "--rm", "--network=none", "--runtime=runsc", plan.verify.image, "true"]));
  if (c.code !== 0) throw new Error(`floor container failed: ${c.stderr}`);
  return { archive, fetchChecksumExtractMs, reloadMs, containerStartMs, totalMs: fetchChecksumExtractMs + reloadMs + containerStartMs };
}

export async function hostTime(mirror: Mirror, rounds: number, log: (line: string) => void): Promise<HostTimeResult> {
  const plan = testPlan(mirror);
  const pkg: Awaited<ReturnType<typeof packageRun>>[] = [];
  const hand: Awaited<ReturnType<typeof handRun>>[] = [];
  const floor: Awaited<ReturnType<typeof floorRun>>[] = [];
  const methods = [
    () => withHost(async (h) => void pkg.push(await packageRun(h, mirror))),
    () => withHost(async (h) => void hand.push(await handRun(h, mirror, plan))),
    () => withHost(async (h) => void floor.push(await floorRun(h, mirror, plan))),
  ];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < methods.length; i++) await methods[(round + i) % methods.length]!();
    log(
      `host time round ${round + 1}/${rounds}: cold ${pkg[round]!.coldTotalMs.toFixed(0)} ms, hand ${hand[round]!.totalMs.toFixed(0)} ms, floor ${floor[round]!.totalMs.toFixed(0)} ms`,
    );
  }
  const perResource = (pick: (r: (typeof pkg)[number]) => Record<string, number>) => {
    const names = [...new Set(pkg.flatMap((r) => Object.keys(pick(r))))];
    return Object.fromEntries(names.map((n) => [n, median(pkg.map((r) => pick(r)[n]).filter((v): v is number => v !== undefined))]));
  };
  const coldMs = perResource((r) => r.cold);
  const warmMs = perResource((r) => r.warm);
  const coldTotalMs = median(pkg.map((r) => r.coldTotalMs));
  const handMed = {
    sessionMs: median(hand.map((h) => h.sessionMs)),
    restartMs: median(hand.map((h) => h.restartMs)),
    verifyMs: median(hand.map((h) => h.verifyMs)),
    totalMs: median(hand.map((h) => h.totalMs)),
  };
  const floorMed = {
    archive: floor[0]!.archive,
    fetchChecksumExtractMs: median(floor.map((f) => f.fetchChecksumExtractMs)),
    reloadMs: median(floor.map((f) => f.reloadMs)),
    containerStartMs: median(floor.map((f) => f.containerStartMs)),
    totalMs: median(floor.map((f) => f.totalMs)),
  };
  const rewritten = pkg.flatMap((r) => r.rewritten);
  if (rewritten.length) log(`warm re-run rewrote: ${[...new Set(rewritten)].join(", ")}`);
  return {
    rounds,
    coldMs,
    coldTotalMs,
    noopUpMs: median(pkg.map((r) => r.noopUpMs)),
    noopSessions: Math.max(...pkg.map((r) => r.noopSessions)),
    warmMs,
    warmTotalMs: median(pkg.map((r) => r.warmTotalMs)),
    warmSlowestStepMs: Math.max(...Object.values(warmMs)),
    warmFilesRewritten: Math.max(...pkg.map((r) => r.rewritten.length)),
    warmReloads: Math.max(...pkg.map((r) => r.reloads)),
    warmDockerdRestarts: Math.max(...pkg.map((r) => r.restarts)),
    hand: handMed,
    floor: floorMed,
    coldVsFloor: ratio(coldTotalMs, floorMed.totalMs),
    coldVsHand: ratio(coldTotalMs, handMed.totalMs),
  };
}

export interface ExtractionResult {
  rounds: number;
  /** Where the zstd archive came from: the mirror's, or built here from the same payload. */
  zstdSource: "mirror" | "built by the bench";
  bz2: { bytes: number; checksumMs: number; extractMs: number };
  zstd: { bytes: number; checksumMs: number; extractMs: number };
  /** zstd / bz2. */
  extractRatio: number;
  sizeRatio: number;
}

/** Checksum and extraction of the mirror's gvisor.tar.bz2 vs a zstd archive of the same content, interleaved, on this machine. */
export async function extraction(mirror: Mirror, rounds: number): Promise<ExtractionResult> {
  const dir = path.join(mirror.fixtures.root, "release", mirror.versions.archive, "x86_64");
  const bz2 = path.join(dir, "gvisor.tar.bz2");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gvisor-bench-"));
  try {
    let zst = path.join(dir, "gvisor.tar.zstd");
    let zstdSource: ExtractionResult["zstdSource"] = "mirror";
    if (!fs.existsSync(zst)) {
      zstdSource = "built by the bench";
      zst = await builtZstd(bz2, work);
    }
    const one = async (archive: string, flag: string) => {
      const out = fs.mkdtempSync(path.join(work, "x-"));
      const [checksumMs] = await timed(() => runChecked(["sha512sum", archive]));
      const [extractMs] = await timed(() => runChecked(["tar", flag, "-xf", archive, "-C", out], { timeoutMs: 120_000 }));
      fs.rmSync(out, { recursive: true, force: true });
      return { checksumMs, extractMs };
    };
    const b: { checksumMs: number; extractMs: number }[] = [];
    const z: { checksumMs: number; extractMs: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        b.push(await one(bz2, "--bzip2"));
        z.push(await one(zst, "--zstd"));
      } else {
        z.push(await one(zst, "--zstd"));
        b.push(await one(bz2, "--bzip2"));
      }
    }
    const med = (xs: typeof b, file: string) => ({
      bytes: fs.statSync(file).size,
      checksumMs: median(xs.map((x) => x.checksumMs)),
      extractMs: median(xs.map((x) => x.extractMs)),
    });
    const bz = med(b, bz2);
    const zs = med(z, zst);
    return { rounds, zstdSource, bz2: bz, zstd: zs, extractRatio: ratio(zs.extractMs, bz.extractMs), sizeRatio: ratio(zs.bytes, bz.bytes) };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A zstd archive of the same content as `bz2` (level 19, as a download is
 * built), cached beside the harness's own cache by the bz2's checksum: it
 * takes ~15 s to build on 2 cores.
 */
async function builtZstd(bz2: string, work: string): Promise<string> {
  const cacheDir = path.join(os.tmpdir(), "pulumi-gvisor-bench-cache");
  const file = path.join(cacheDir, `gvisor-${sha512(fs.readFileSync(bz2)).slice(0, 16)}.tar.zstd`);
  if (fs.existsSync(file)) return file;
  const payload = path.join(work, "payload");
  fs.mkdirSync(payload);
  fs.mkdirSync(cacheDir, { recursive: true });
  await runChecked(["tar", "-xjf", bz2, "-C", payload], { timeoutMs: 120_000 });
  const tmp = `${file}.tmp-${process.pid}`;
  await runChecked(["sh", "-c", `tar --numeric-owner --owner=0 --group=0 -C ${shQuote(payload)} -cf - . | zstd -q -19 -T0 -o ${shQuote(tmp)}`], {
    timeoutMs: 300_000,
  });
  fs.renameSync(tmp, file);
  return file;
}
