/**
 * The lifecycle every host test file shares: one release mirror per file, and
 * fresh test hosts that are stopped after each test, pass or fail.
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import { Mirror, TestHost, TestHostOptions, ensureHostPackages, startMirror, startTestHost } from "../harness";

export function useHostSuite(): { mirror: () => Mirror; freshHost: (opts?: TestHostOptions) => Promise<TestHost> } {
  let mirror: Mirror | undefined;
  const hosts: TestHost[] = [];
  beforeAll(async () => {
    await ensureHostPackages();
    mirror = await startMirror();
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });
  afterAll(async () => {
    await mirror?.stop();
  });
  return {
    mirror: () => {
      if (!mirror) throw new Error("the mirror starts in beforeAll; use it inside a test");
      return mirror;
    },
    freshHost: async (opts) => {
      const host = await startTestHost(opts);
      hosts.push(host);
      return host;
    },
  };
}
