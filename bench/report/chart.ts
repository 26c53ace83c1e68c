/**
 * One SVG image of the latest figures, written next to the JSON: program
 * wall time against fleet size (package vs hand-declared baseline, update
 * mode) and host wall times as bars. Plain SVG text, no chart library.
 */
import type { BenchResults } from "./results";

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
const text = (x: number, y: number, s: string, extra = "") => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(s)}</text>`;
const COLORS = { package: "#2b6cb0", baseline: "#c05621", other: "#718096" };

function scalePanel(r: BenchResults, x0: number, y0: number, w: number, h: number): string[] {
  const rows = (r.scale ?? []).filter((s) => s.mode === "update");
  const out = [text(x0, y0 - 12, "Program scale, update mode: wall time (s) by hosts", 'font-weight="bold"')];
  if (rows.length === 0) return [...out, text(x0, y0 + 20, "(not run)")];
  const maxS = Math.max(...rows.flatMap((s) => [s.package.wallMs, s.baseline.wallMs])) / 1000;
  const px = (i: number) => x0 + 40 + (rows.length === 1 ? 0 : (i * (w - 60)) / (rows.length - 1));
  const py = (s: number) => y0 + h - 30 - (s / (maxS || 1)) * (h - 50);
  out.push(`<line x1="${x0 + 30}" y1="${y0 + h - 30}" x2="${x0 + w}" y2="${y0 + h - 30}" stroke="#999"/>`);
  out.push(`<line x1="${x0 + 30}" y1="${y0 + 10}" x2="${x0 + 30}" y2="${y0 + h - 30}" stroke="#999"/>`);
  for (const f of [0, 0.5, 1]) out.push(text(x0, py(maxS * f) + 4, (maxS * f).toFixed(0), 'font-size="11"'));
  rows.forEach((s, i) => out.push(text(px(i) - 8, y0 + h - 12, String(s.hosts), 'font-size="11"')));
  for (const key of ["package", "baseline"] as const) {
    const pts = rows.map((s, i) => `${px(i).toFixed(1)},${py(s[key].wallMs / 1000).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${pts}" fill="none" stroke="${COLORS[key]}" stroke-width="2"/>`);
    rows.forEach((s, i) => out.push(`<circle cx="${px(i).toFixed(1)}" cy="${py(s[key].wallMs / 1000).toFixed(1)}" r="3" fill="${COLORS[key]}"/>`));
  }
  const last = rows[rows.length - 1]!;
  out.push(
    text(
      x0 + 40,
      y0 + 14,
      `this package (${last.ratio.wall.toFixed(2)}x time, ${last.ratio.peakRss.toFixed(2)}x RSS at ${last.hosts})`,
      `fill="${COLORS.package}" font-size="12"`,
    ),
  );
  out.push(text(x0 + 40, y0 + 30, "hand-declared baseline", `fill="${COLORS.baseline}" font-size="12"`));
  return out;
}

function barsPanel(r: BenchResults, x0: number, y0: number, w: number): string[] {
  const bars: { label: string; ms: number; color: string }[] = [];
  const h = r.hostTime;
  if (h) {
    bars.push({ label: "floor", ms: h.floor.totalMs, color: COLORS.other });
    bars.push({ label: "package cold", ms: h.coldTotalMs, color: COLORS.package });
    bars.push({ label: "hand-written", ms: h.hand.totalMs, color: COLORS.baseline });
    bars.push({ label: "steps forced", ms: h.warmTotalMs, color: COLORS.package });
  }
  for (const s of r.fleet?.sizes ?? []) bars.push({ label: `fleet of ${s.hosts}`, ms: s.allVerifiedMs, color: COLORS.package });
  const out = [text(x0, y0 - 12, "Host wall time (s): one host, and fleets deployed at once", 'font-weight="bold"')];
  if (bars.length === 0) return [...out, text(x0, y0 + 20, "(not run)")];
  const max = Math.max(...bars.map((b) => b.ms));
  bars.forEach((b, i) => {
    const y = y0 + i * 30;
    const len = ((w - 160) * b.ms) / (max || 1);
    out.push(text(x0, y + 15, b.label, 'font-size="12"'));
    out.push(`<rect x="${x0 + 100}" y="${y + 3}" width="${len.toFixed(1)}" height="18" fill="${b.color}"/>`);
    out.push(text(x0 + 105 + len, y + 16, (b.ms / 1000).toFixed(2), 'font-size="11"'));
  });
  return out;
}

export function renderChart(r: BenchResults): string {
  const W = 960;
  const H = 330;
  const m = r.machine;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...scalePanel(r, 20, 40, 440, 260),
    ...barsPanel(r, 500, 40, 440),
    text(
      20,
      H - 8,
      `npm run bench · ${r.startedAt.slice(0, 10)} · ${m.cores} × ${m.cpus} · Linux ${m.kernel} · Node ${m.node} · load ${m.loadAverage.start[0]?.toFixed(1)} · medians of interleaved runs`,
      'font-size="11" fill="#555"',
    ),
    "</svg>",
    "",
  ].join("\n");
}
