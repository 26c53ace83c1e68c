/**
 * Setup file of every per-flavor host project (vitest.config.mts): skips,
 * with their reason, the cases KNOWN_DIFFERENCES lists for the running
 * flavor, so a difference between engine versions is written down in one
 * place instead of being papered over in the test files.
 */
import { beforeEach } from "vitest";
import { currentFlavor } from "./flavors";
import { knownDifference } from "./known-differences";

const flavor = currentFlavor();

beforeEach((ctx) => {
  const file = ctx.task.file?.name ?? "";
  const reason = knownDifference(flavor.name, file, ctx.task.name, fullName(ctx.task));
  if (reason) ctx.skip(`${flavor.name}: ${reason}`);
});

function fullName(task: { name: string; suite?: { name: string; suite?: unknown } }): string {
  const parts = [task.name];
  let s = task.suite as { name: string; suite?: unknown } | undefined;
  while (s && s.name) {
    parts.unshift(s.name);
    s = s.suite as typeof s;
  }
  return parts.join(" > ");
}
