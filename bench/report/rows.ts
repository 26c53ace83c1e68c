/**
 * The one table `npm run bench` prints: each measure with the package's
 * figure, the alternative's, their ratio and the target.
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
}

const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
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
      target: big ? "≤ 1.00x" : "",
      met: big ? s.ratio.wall <= 1 : undefined,
    });
    if (big)
      rows.push({ part, measure: "construct", value: ms(s.package.wallMs), alternative: "", ratio: "", target: "< 60 s", met: s.package.wallMs < 60_000 });
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
      target: big ? "≤ 1.10x" : "",
      met: big ? s.ratio.peakRss <= 1.1 : undefined,
    });
    rows.push({
      part,
      measure: "state per host",
      value: kb(s.package.stateBytesPerHost),
      alternative: kb(s.baseline.stateBytesPerHost),
      ratio: x(s.ratio.state),
      target: "≤ 64 KB",
      met: s.package.stateBytesPerHost <= 64 * 1024,
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
      target: "< 1.00x",
      met: h.coldVsHand < 1,
    });
    rows.push({
      part,
      measure: "cold vs floor",
      value: ms(h.coldTotalMs),
      alternative: ms(h.floor.totalMs),
      ratio: x(h.coldVsFloor),
      target: "≤ 1.50x",
      met: h.coldVsFloor <= 1.5,
    });
    for (const [step, t] of Object.entries(h.warmMs))
      rows.push({
        part,
        measure: `warm ${step}`,
        value: ms(t),
        alternative: ms(h.coldMs[step]!),
        ratio: x(t / h.coldMs[step]!),
        target: "< 1 s",
        met: t < 1000,
      });
    rows.push({
      part,
      measure: "warm files rewritten",
      value: String(h.warmFilesRewritten),
      alternative: "",
      ratio: "",
      target: "0",
      met: h.warmFilesRewritten === 0,
    });
    rows.push({
      part,
      measure: "warm daemon reloads+restarts",
      value: String(h.warmReloads + h.warmDockerdRestarts),
      alternative: "",
      ratio: "",
      target: "0",
      met: h.warmReloads + h.warmDockerdRestarts === 0,
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
        part: `fleet (${f.runner})`,
        measure: `${s.hosts} hosts all verified`,
        value: ms(s.allVerifiedMs),
        alternative: s.hosts === f.sizes[0]!.hosts ? "" : ms(f.sizes[0]!.allVerifiedMs),
        ratio: x(s.vsOneHost),
        target: last ? "≤ 2.00x" : "",
        met: last ? s.vsOneHost <= 2 : undefined,
      });
    }
  }
  const d = r.disruption;
  if (d) {
    d.package.forEach((p, i) => {
      const hw = d.handWritten[i]!;
      rows.push({
        part: "disruption",
        measure: `${p.phase}: containers hit / dockerd restarts`,
        value: `${p.disrupted}/${p.runningBefore} · ${p.dockerdRestarts}`,
        alternative: `${hw.disrupted}/${hw.runningBefore} · ${hw.dockerdRestarts}`,
        ratio: "",
        target: "0 · 0",
        met: p.disrupted === 0 && p.dockerdRestarts === 0,
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
        measure: `${c.change}: steps re-run`,
        value: `${steps} (${c.sessions} sessions)`,
        alternative: "",
        ratio: "",
        target: c.change === "no-op update" ? "0" : "",
        met: c.change === "no-op update" ? steps === 0 : undefined,
      });
    }
  }
  return rows;
}

export function renderTable(rows: Row[]): string {
  const head: Row = { part: "part", measure: "measure", value: "package", alternative: "alternative", ratio: "ratio", target: "target" };
  const cols = ["part", "measure", "value", "alternative", "ratio", "target"] as const;
  const cell = (row: Row, c: (typeof cols)[number]) => row[c];
  const width = (c: (typeof cols)[number]) => Math.max(...[head, ...rows].map((row) => cell(row, c).length));
  const line = (row: Row, mark: string) => `${cols.map((c) => cell(row, c).padEnd(width(c))).join("  ")}  ${mark}`.trimEnd();
  return [line(head, "met"), ...rows.map((row) => line(row, row.met === undefined ? "" : row.met ? "yes" : "NO"))].join("\n");
}
