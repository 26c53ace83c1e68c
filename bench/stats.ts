/** Small numeric helpers the bench parts share. */
import { performance } from "node:perf_hooks";

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** a / b, or NaN when b is zero (a ratio that cannot be formed is shown as "n/a"). */
export const ratio = (a: number, b: number) => (b === 0 ? NaN : a / b);

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

export const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Rounds for display and JSON: ms to whole numbers, ratios to 2 places. */
export const round = (x: number, places = 0) => (Number.isFinite(x) ? Number(x.toFixed(places)) : null);
