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
        },
      },
    ],
  },
});
