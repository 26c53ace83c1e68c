/**
 * A line diff of two texts, as the Pulumi CLI shows a changed multi-line
 * string in `pulumi preview --diff` (pulumi PR 9376): lines only in the old
 * text are removed (-), lines only in the new one added (+), the rest kept.
 */
export interface LineDiff {
  removed: string[];
  added: string[];
}

/** Longest-common-subsequence line diff (texts here are a few hundred lines). */
export function lineDiff(before: string, after: string): LineDiff {
  const a = before.split("\n");
  const b = after.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      removed.push(a[i++]!);
    } else {
      added.push(b[j++]!);
    }
  }
  removed.push(...a.slice(i));
  added.push(...b.slice(j));
  return { removed, added };
}

/** How many lines a reviewer reads as changed: removed plus added. */
export const changedLines = (d: LineDiff) => d.removed.length + d.added.length;
