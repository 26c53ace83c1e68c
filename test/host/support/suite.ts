/**
 * The lifecycle every host test file shares: one release mirror per file, and
 * fresh test hosts that are stopped after each test, pass or fail. Hosts are
 * of the file's flavor (GV_TEST_FLAVOR, set per host project in
 * vitest.config.mts) unless a test asks for another with `{ flavor }`.
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import { Flavor, Mirror, TestHost, TestHostOptions, currentFlavor, ensureHostPackages, startMirror, startTestHost } from "../harness";

export interface HostSuite {
  mirror: () => Mirror;
  freshHost: (opts?: TestHostOptions) => Promise<TestHost>;
  /** The flavor this file's hosts are, by default. */
  flavor: Flavor;
}

export function useHostSuite(): HostSuite {
  const flavor = currentFlavor();
  let mirror: Mirror | undefined;
  const hosts: TestHost[] = [];
  beforeAll(async () => {
    await ensureHostPackages([flavor]);
    mirror = await startMirror();
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });
  afterAll(async () => {
    await mirror?.stop();
  });
  return {
    flavor,
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
