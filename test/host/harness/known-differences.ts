/**
 * Host scenarios that do not hold on a flavor because the engines there
 * behave differently (not because of the harness), each with the exact
 * failure seen. flavor-setup.ts skips them with this reason; the README's
 * "Host matrix" section lists them. Remove an entry once the step handles
 * the difference: the case then runs (and must pass) on that flavor.
 */
import type { FlavorName } from "./flavors";

export interface KnownDifference {
  flavors: readonly FlavorName[];
  /** Test file name relative to the repo, e.g. test/host/steps.test.ts. */
  file: string;
  /** Matched against "describe > … > test name". */
  test: RegExp;
  reason: string;
}

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    flavors: ["trixie", "sid"],
    file: "test/host/steps.test.ts",
    test: /^containerd > gets a config the real containerd parses/,
    reason:
      "asserts bookworm's containerd flow (config version 2 in the 1.x table, restartRequired because there is no systemd); " +
      "on trixie the step restarts containerd.service itself (restartRequired false), on sid it writes version 3: " +
      "both are proven by test/host/matrix-containerd.test.ts",
  },
];

export function knownDifference(flavor: FlavorName, file: string, _name: string, fullName: string): string | undefined {
  const hit = KNOWN_DIFFERENCES.find((d) => d.flavors.includes(flavor) && file.endsWith(d.file) && d.test.test(fullName));
  return hit?.reason;
}
