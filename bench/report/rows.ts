/**
 * The one table `npm run bench` prints: each measure with the package's
 * figure, the alternative's, their ratio and the issue's target.
 */
import type { BenchResults } from "./results";

export interface Row {
  part: string;
  measure: string;
  value: string;
  alternative: string;
  ratio: string;
  target: string;
  /** true met, false missed, undefined no target. */
  met?: boolean;
  /** When missed: by how much, e.g. `1.21x over` or `26.4 s over`. */
  missedBy?: string;
}

/** A target on a ratio: met when `r <= limit` (or `< limit` when strict); else missed by `r - limit`. */
function ratioTarget(r: number, limit: number, strict = false): Pick<Row, "target" | "met" | "missedBy"> {
  const met = strict ? r < limit : r <= limit;
  return {
    target: `${strict ? "<" : "≤"} ${limit.toFixed(2)}x`,
    met,
    missedBy: met ? undefined : `${(r - limit).toFixed(2)}x over (${((r / limit - 1) * 100).toFixed(0)}%)`,
  };
}

/** A target of zero (files rewritten, sessions, containers hit). */
function zeroTarget(n: number, what = ""): Pick<Row, "target" | "met" | "missedBy"> {
  return { target: "0", met: n === 0, missedBy: n === 0 ? undefined : `${n}${what ? ` ${what}` : ""}` };
}

/** A target on a size or time: met when `v < limit`; else missed by `v - limit`, shown with `show`. */
function limitTarget(v: number, limit: number, show: (x: number) => string, strict = true): Pick<Row, "target" | "met" | "missedBy"> {
  const met = strict ? v < limit : v <= limit;
  return { target: `${strict ? "<" : "≤"} ${show(limit)}`, met, missedBy: met ? undefined : `${show(v - limit)} over` };
}

const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`);
const kb = (x: number) => (x >= 1 << 20 ? `${(x / (1 << 20)).toFixed(1)} MB` : `${(x / 1024).toFixed(1)} KB`);
const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "n/a");

export function tableRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  for (const s of r.scale ?? []) {
    const big = s.hosts === Math.max(...(r.scale ?? []).map((t) => t.hosts));
    const part = `scale ${s.hosts} ${s.mode}`;
    const perHost = (m: typeof s.package) => `${ms(m.wallMs)} (${ms(m.msPerHost)}/host)`;
    rows.push({
      part,
      measure: "wall time",
      value: perHost(s.package),
      alternative: perHost(s.baseline),
      ratio: x(s.ratio.wall),
      ...(big ? ratioTarget(s.ratio.wall, 1) : { target: "" }),
    });
    if (big) rows.push({ part, measure: "construct", value: ms(s.package.wallMs), alternative: "", ratio: "", ...limitTarget(s.package.wallMs, 60_000, ms) });
    rows.push({
      part,
      measure: "resources per host",
      value: s.package.resourcesPerHost.toFixed(2),
      alternative: s.baseline.resourcesPerHost.toFixed(2),
      ratio: x(s.ratio.resources),
      target: "",
    });
    if (big)
      rows.push({
        part,
        measure: "lookups (invokes) per host",
        value: s.package.callsPerHost.toFixed(3),
        alternative: s.baseline.callsPerHost.toFixed(3),
        ratio: x(s.package.callsPerHost / s.baseline.callsPerHost),
        target: "",
      });
    rows.push({
      part,
      measure: "peak RSS",
      value: kb(s.package.peakRssBytes),
      alternative: kb(s.baseline.peakRssBytes),
      ratio: x(s.ratio.peakRss),
      ...(big ? ratioTarget(s.ratio.peakRss, 1.1) : { target: "" }),
    });
    rows.push({
      part,
      measure: "state per host",
      value: kb(s.package.stateBytesPerHost),
      alternative: kb(s.baseline.stateBytesPerHost),
      ratio: x(s.ratio.state),
      ...limitTarget(s.package.stateBytesPerHost, 64 * 1024, kb, false),
    });
  }
  const h = r.hostTime;
  if (h) {
    const part = "host time";
    for (const [step, t] of Object.entries(h.coldMs)) rows.push({ part, measure: `cold ${step}`, value: ms(t), alternative: "", ratio: "", target: "" });
    rows.push({
      part,
      measure: "cold vs hand-written",
      value: ms(h.coldTotalMs),
      alternative: ms(h.hand.totalMs),
      ratio: x(h.coldVsHand),
      ...ratioTarget(h.coldVsHand, 1, true),
    });
    rows.push({
      part,
      measure: "cold vs floor",
      value: ms(h.coldTotalMs),
      alternative: ms(h.floor.totalMs),
      ratio: x(h.coldVsFloor),
      ...ratioTarget(h.coldVsFloor, 1.5),
    });
    rows.push({
      part,
      measure: "warm: unchanged up, SSH sessions",
      value: `${h.noopSessions} (${ms(h.noopUpMs)})`,
      alternative: "",
      ratio: "",
      ...zeroTarget(h.noopSessions, "sessions"),
    });
    for (const [step, t] of Object.entries(h.warmMs))
      rows.push({
        part,
        measure: `warm ${step}`,
        value: ms(t),
        alternative: ms(h.coldMs[step]!),
        ratio: x(t / h.coldMs[step]!),
        ...limitTarget(t, 1000, ms),
      });
    rows.push({
      part,
      measure: "warm files rewritten",
      value: String(h.warmFilesRewritten),
      alternative: "",
      ratio: "",
      ...zeroTarget(h.warmFilesRewritten, "files"),
    });
    rows.push({
      part,
      measure: "warm daemon reloads+restarts",
      value: String(h.warmReloads + h.warmDockerdRestarts),
      alternative: "",
      ratio: "",
      ...zeroTarget(h.warmReloads + h.warmDockerdRestarts),
    });
  }
  const e = r.extraction;
  if (e)
    rows.push({
      part: "archive",
      measure: "extract zstd vs bz2",
      value: ms(e.zstd.extractMs),
      alternative: ms(e.bz2.extractMs),
      ratio: x(e.extractRatio),
      target: "",
    });
  if (e) rows.push({ part: "archive", measure: "size zstd vs bz2", value: kb(e.zstd.bytes), alternative: kb(e.bz2.bytes), ratio: x(e.sizeRatio), target: "" });
  const f = r.fleet;
  if (f) {
    for (const s of f.sizes) {
      const last = s.hosts === Math.max(...f.sizes.map((t) => t.hosts));
      rows.push({
        part: `fleet (${f.runner}, parallel ${f.parallelism})`,
        measure: `${s.hosts} hosts all verified`,
        value: ms(s.allVerifiedMs),
        alternative: s.hosts === f.sizes[0]!.hosts ? "" : ms(f.sizes[0]!.allVerifiedMs),
        ratio: x(s.vsOneHost),
        ...(last && s.hosts !== f.sizes[0]!.hosts ? ratioTarget(s.vsOneHost, 2) : { target: "" }),
      });
    }
  }
  const d = r.disruption;
  if (d) {
    d.package.forEach((p, i) => {
      const hw = d.handWritten[i]!;
      rows.push({
        part: "disruption",
        measure: `${p.phase}: containers hit / dockerd restarts (sessions)`,
        value: `${p.disrupted}/${p.runningBefore} · ${p.dockerdRestarts} (${p.sessions ?? "?"})`,
        alternative: `${hw.disrupted}/${hw.runningBefore} · ${hw.dockerdRestarts} (${hw.sessions ?? "?"})`,
        ratio: "",
        target: "0 · 0",
        met: p.disrupted === 0 && p.dockerdRestarts === 0,
        missedBy: p.disrupted === 0 && p.dockerdRestarts === 0 ? undefined : `${p.disrupted} hit, ${p.dockerdRestarts} restarts`,
      });
    });
  }
  const t = r.roundTrips;
  if (t) {
    rows.push({
      part: "round trips",
      measure: "SSH sessions per host (critical path)",
      value: `${t.sessionsPerHost} (${t.criticalPathSessions})`,
      alternative: "",
      ratio: "",
      target: "",
    });
    for (const c of t.changes) {
      const steps = c.updated.length + c.replaced.length;
      rows.push({
        part: "round trips",
        measure: `${c.change}: resources re-run`,
        value: `${steps} (${c.sessions} sessions)`,
        alternative: "",
        ratio: "",
        ...(c.change === "no-op update" ? zeroTarget(steps, "resources") : { target: "" }),
      });
    }
  }
  const sc = r.sandboxCost;
  if (sc)
    for (const m of sc.measures)
      rows.push({
        part: `sandbox cost (${sc.platform || "runsc default platform"})`,
        measure: m.name,
        value: ms(m.runscMs),
        alternative: `${ms(m.runcMs)} runc`,
        ratio: x(m.ratio),
        target: "",
      });
  return rows;
}

const mark = (row: Row) => (row.met === undefined ? "" : row.met ? "yes" : `NO, missed by ${row.missedBy ?? "?"}`);

export function renderTable(rows: Row[]): string {
  const head: Row = { part: "part", measure: "measure", value: "package", alternative: "alternative", ratio: "ratio", target: "target" };
  const cols = ["part", "measure", "value", "alternative", "ratio", "target"] as const;
  const cell = (row: Row, c: (typeof cols)[number]) => row[c];
  const width = (c: (typeof cols)[number]) => Math.max(...[head, ...rows].map((row) => cell(row, c).length));
  const line = (row: Row, m: string) => `${cols.map((c) => cell(row, c).padEnd(width(c))).join("  ")}  ${m}`.trimEnd();
  return [line(head, "met"), ...rows.map((row) => line(row, mark(row)))].join("\n");
}

/** Only the rows that carry one of the issue's targets: met, or missed by how much. */
export function renderTargets(rows: Row[]): string {
  const targeted = rows.filter((row) => row.met !== undefined);
  const met = targeted.filter((row) => row.met).length;
  return [
    `Targets: ${met} of ${targeted.length} met`,
    ...targeted.map(
      (row) =>
        `  ${row.met ? "met   " : "MISSED"}  ${row.part}: ${row.measure} = ${row.value}${row.ratio ? ` (${row.ratio})` : ""}, target ${row.target}${row.met ? "" : `; missed by ${row.missedBy ?? "?"}`}`,
    ),
  ].join("\n");
}
