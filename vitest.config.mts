import { defineConfig } from "vitest/config";
import { hasCriCase } from "./test/host/harness/cri-flavors";
import { selectedFlavors } from "./test/host/harness/flavors";

// The Pulumi SDK reports a failed resource the way a real language host sees
// it: as unhandled rejections. The end-to-end test makes one on purpose
// (resources named "expected-failure-…") and asserts on it itself; every
// other unhandled error still fails the run.
const onUnhandledError = (error: Error) => !/^failed to register new resource expected-failure-/.test(String(error?.message));

const hostTest = {
  testTimeout: 300_000,
  hookTimeout: 600_000,
  fileParallelism: false,
  onUnhandledError,
};

// Suites: `unit` is fast, pure and needs no root. The host suite drives a
// real sshd, dockerd, containerd and runsc, must run as root on Debian, and
// runs once per test host flavor (GV_TEST_FLAVORS, default all three):
// project `host` is bookworm (so `--project host` stays the quick run),
// `host:trixie` and `host:sid` boot systemd hosts; `npm run test:host` runs
// them all (`--project 'host*'`), one after another (2 cores). matrix-*
// files hold the cases that single out flavors (describe.runIf).
const flavors = selectedFlavors();
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      ...flavors.map((flavor, i) => ({
        test: {
          ...hostTest,
          name: flavor.name === "bookworm" ? "host" : `host:${flavor.name}`,
          include: ["test/host/**/*.test.ts"],
          // containerd-nodeconfig runs this machine's containerd 1.6
          // directly, no test host: once is enough. The CRI test runs each
          // containerd on the flavor that ships it (1.6 on bookworm, 2.1 on
          // sid; harness/cri-flavors.ts), so only in those projects.
          exclude: [
            ...(flavor.name === "bookworm" ? [] : ["test/host/containerd-nodeconfig.test.ts"]),
            ...(hasCriCase(flavor.name) ? [] : ["test/host/cri-runtime-class.test.ts"]),
          ],
          env: { GV_TEST_FLAVOR: flavor.name },
          setupFiles: ["test/host/harness/flavor-setup.ts"],
          sequence: { groupOrder: i + 1 },
        },
      })),
    ],
  },
});
