import { defineConfig } from "vitest/config";

// Two suites: `unit` is fast, pure and needs no root; `host` drives a real
// sshd, dockerd, containerd and runsc and must run as root on Debian.
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
      {
        test: {
          name: "host",
          include: ["test/host/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          // The Pulumi SDK reports a failed resource the way a real language
          // host sees it: as unhandled rejections. The end-to-end test makes
          // one on purpose (resources named "expected-failure-…") and asserts
          // on it itself; every other unhandled error still fails the run.
          onUnhandledError: (error: Error) => !/^failed to register new resource expected-failure-/.test(String(error?.message)),
        },
      },
    ],
  },
});
