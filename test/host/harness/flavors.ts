/**
 * Test host flavors: which Debian suite a host is built from and how it
 * boots. `bookworm` is the machine's own packages in private namespaces
 * (no systemd, init = tini); `trixie` and `sid` are root filesystems built
 * from Debian's archive, booted with systemd as PID 1 under systemd-nspawn
 * (docker, containerd and ssh run as systemd units).
 */

export const FLAVOR_NAMES = ["bookworm", "trixie", "sid"] as const;
export type FlavorName = (typeof FLAVOR_NAMES)[number];

export interface Flavor {
  readonly name: FlavorName;
  /** Debian suite the host's packages come from. */
  readonly suite: FlavorName;
  /** true: systemd is PID 1 and the daemons are its units; false: the harness starts them (init = tini). */
  readonly systemd: boolean;
  /**
   * Package versions this flavor was pinned against (dpkg version prefixes).
   * A rebuilt root filesystem that has other versions is drift: the build
   * says so, and matrix-flavors.test.ts fails until the pins are updated.
   */
  readonly pinned: Readonly<Record<"docker.io" | "containerd" | "runsc" | "systemd", string>>;
  /**
   * runsc flags every runtime on this flavor needs on this machine, for test
   * plans. Under nspawn the cgroup2 tree has no controllers (this machine
   * binds them all to cgroup v1, and sid's systemd refuses v1), so runsc
   * must be told not to configure cgroups: without it every sandbox fails
   * with 'mandatory cgroup controller "cpu" is missing'.
   */
  readonly testRunscFlags: Readonly<Record<string, string>>;
}

const NSPAWN_RUNSC_FLAGS = { "ignore-cgroups": "true" } as const;

export const FLAVORS: Readonly<Record<FlavorName, Flavor>> = {
  bookworm: {
    name: "bookworm",
    suite: "bookworm",
    systemd: false,
    pinned: { "docker.io": "20.10.", containerd: "1.6.", runsc: "0.0~20221219", systemd: "" },
    testRunscFlags: {},
  },
  trixie: {
    name: "trixie",
    suite: "trixie",
    systemd: true,
    pinned: { "docker.io": "26.1.5", containerd: "1.7.24", runsc: "0.0~20240729", systemd: "257." },
    testRunscFlags: NSPAWN_RUNSC_FLAGS,
  },
  sid: {
    name: "sid",
    suite: "sid",
    systemd: true,
    pinned: { "docker.io": "28.5.2", containerd: "2.1.9", runsc: "0.0~20240729", systemd: "262." },
    testRunscFlags: NSPAWN_RUNSC_FLAGS,
  },
};

export function flavorByName(name: string, where: string): Flavor {
  const f = (FLAVORS as Record<string, Flavor>)[name];
  if (!f) throw new Error(`${where}: unknown test host flavor "${name}" (known: ${FLAVOR_NAMES.join(", ")})`);
  return f;
}

/**
 * The flavors the host suite runs on: GV_TEST_FLAVORS (comma-separated),
 * all three by default.
 */
export function selectedFlavors(env: NodeJS.ProcessEnv = process.env): Flavor[] {
  const raw = env.GV_TEST_FLAVORS?.trim();
  if (!raw) return FLAVOR_NAMES.map((n) => FLAVORS[n]);
  return raw.split(",").map((s) => flavorByName(s.trim(), "GV_TEST_FLAVORS"));
}

/**
 * The flavor of the running test file: GV_TEST_FLAVOR, which each host
 * project in vitest.config.mts sets; bookworm when unset (a file run outside
 * the projects).
 */
export function currentFlavor(env: NodeJS.ProcessEnv = process.env): Flavor {
  return flavorByName(env.GV_TEST_FLAVOR?.trim() || "bookworm", "GV_TEST_FLAVOR");
}
