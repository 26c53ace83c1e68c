/**
 * The runsc binaries the fixture releases carry. This machine's own (Debian
 * 12's runsc 20221219) is at /usr/bin/runsc; the newer one (runsc 20240729)
 * comes from Debian 13's `runsc` package, downloaded once with apt from
 * Debian's archive (signed index, hash-checked .deb) into a private apt state
 * and cached on disk, so a bookworm-only run needs no trixie root filesystem.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cached } from "../cache";
import { MINIMAL_ENV, runChecked } from "../proc";
import { DEBIAN_MIRROR } from "../rootfs";

/** A runsc build a fixture release can carry. */
export interface FixtureRunsc {
  /** What `runsc --version` prints after "runsc version ", checked when the binary is taken. */
  version: string;
  /** Where the binary comes from, for messages and the README. */
  origin: string;
}

export const RUNSC_BUILDS = {
  /** Debian 12's runsc (ptrace and kvm only, no systrap, no directfs): this machine's /usr/bin/runsc. */
  runsc20221219: { version: "0.0~20221219.0", origin: "/usr/bin/runsc (Debian bookworm's runsc package)" },
  /** Debian 13's runsc (systrap by default, directfs, overlay2, host-uds). */
  runsc20240729: { version: "0.0~20240729.0", origin: "Debian trixie's runsc package (amd64), from deb.debian.org" },
} as const satisfies Record<string, FixtureRunsc>;
export type RunscBuild = keyof typeof RUNSC_BUILDS;

/** The suite and package version (dpkg prefix) the newer runsc is taken from. */
const NEWER_RUNSC_PACKAGE = { suite: "trixie", name: "runsc", versionPrefix: "0.0~20240729", arch: "amd64" } as const;

/** The binaries of one runsc build: `shim` only when its package ships containerd-shim-runsc-v1 (Debian's does not). */
export interface RunscFiles {
  runsc: string;
  shim?: string;
}

/** Paths of a build's binaries, fetched and cached first when needed. */
export async function runscFiles(build: RunscBuild): Promise<RunscFiles> {
  const files = build === "runsc20221219" ? { runsc: "/usr/bin/runsc" } : await debianRunsc();
  await checkVersion(files.runsc, RUNSC_BUILDS[build]);
  return files;
}

const checkedVersions = new Map<string, Promise<void>>();

/** A fixture that claims runsc X must carry runsc X: a moved package fails here by name. */
function checkVersion(binary: string, want: FixtureRunsc): Promise<void> {
  let p = checkedVersions.get(binary);
  if (!p) {
    p = (async () => {
      const out = await runChecked([binary, "--version"]);
      const got = /^runsc version (\S+)/.exec(out)?.[1];
      if (got !== want.version) {
        throw new Error(
          `fixture runsc ${binary} (${want.origin}) reports version ${got ?? JSON.stringify(out.slice(0, 80))}, the fixtures expect ${want.version}`,
        );
      }
    })();
    checkedVersions.set(binary, p);
  }
  return p;
}

async function debianRunsc(): Promise<RunscFiles> {
  const pkg = NEWER_RUNSC_PACKAGE;
  const dir = await cached(`runsc-deb-${pkg.suite}-${pkg.versionPrefix.replace(/~/g, "_")}-${pkg.arch}-v1`, (tmp) => downloadDebianRunsc(tmp));
  const shim = path.join(dir, "containerd-shim-runsc-v1");
  return { runsc: path.join(dir, "runsc"), ...(fs.existsSync(shim) ? { shim } : {}) };
}

/** apt-get update + download in a private apt state (the machine's own apt setup is neither read nor changed). */
async function downloadDebianRunsc(out: string): Promise<void> {
  const pkg = NEWER_RUNSC_PACKAGE;
  const apt = path.join(out, ".apt");
  for (const d of ["lists/partial", "cache/archives/partial", "sources.d", "download"]) fs.mkdirSync(path.join(apt, d), { recursive: true });
  fs.writeFileSync(path.join(apt, "sources.list"), `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR} ${pkg.suite} main\n`);
  const opts = [
    `Dir::Etc::SourceList=${apt}/sources.list`,
    `Dir::Etc::SourceParts=${apt}/sources.d`,
    "Dir::Etc::Preferences=/dev/null",
    `Dir::Etc::PreferencesParts=${apt}/sources.d`,
    `Dir::State::Lists=${apt}/lists`,
    `Dir::Cache=${apt}/cache`,
    `APT::Architecture=${pkg.arch}`,
    `APT::Architectures=${pkg.arch}`,
    "Acquire::Languages=none",
    // The private dirs belong to root; apt's _apt sandbox user could not write them.
    "APT::Sandbox::User=root",
  ].flatMap((o) => ["-o", o]);
  const env = { ...MINIMAL_ENV, DEBIAN_FRONTEND: "noninteractive" };
  try {
    await runChecked(["apt-get", "-q", ...opts, "update"], { env, timeoutMs: 300_000 });
    await runChecked(
      ["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", path.join(apt, "download"), "apt-get", "-q", ...opts, "download", `${pkg.name}:${pkg.arch}`],
      {
        env,
        timeoutMs: 300_000,
      },
    );
  } catch (e) {
    throw new Error(`downloading Debian ${pkg.suite}'s ${pkg.name} package from ${DEBIAN_MIRROR} failed (is it reachable?): ${(e as Error).message}`);
  }
  const debs = fs.readdirSync(path.join(apt, "download")).filter((f) => f.endsWith(".deb"));
  if (debs.length !== 1) throw new Error(`apt-get download ${pkg.name} left ${debs.length} .deb files, expected 1: ${debs.join(", ")}`);
  const deb = path.join(apt, "download", debs[0]!);
  const version = (await runChecked(["dpkg-deb", "-f", deb, "Version"])).trim();
  if (!version.startsWith(pkg.versionPrefix)) {
    throw new Error(
      `Debian ${pkg.suite}'s ${pkg.name} is now ${version}, the fixtures are pinned on ${pkg.versionPrefix}: update NEWER_RUNSC_PACKAGE and RUNSC_BUILDS in harness/mirror/debian-runsc.ts`,
    );
  }
  const tree = path.join(apt, "tree");
  await runChecked(["dpkg-deb", "-x", deb, tree]);
  fs.copyFileSync(path.join(tree, "usr/bin/runsc"), path.join(out, "runsc"));
  fs.chmodSync(path.join(out, "runsc"), 0o755);
  const shim = path.join(tree, "usr/bin/containerd-shim-runsc-v1");
  if (fs.existsSync(shim)) {
    fs.copyFileSync(shim, path.join(out, "containerd-shim-runsc-v1"));
    fs.chmodSync(path.join(out, "containerd-shim-runsc-v1"), 0o755);
  }
  fs.writeFileSync(path.join(out, "package"), `${pkg.name} ${version} ${pkg.arch} ${pkg.suite}\n`);
  fs.rmSync(apt, { recursive: true, force: true });
}
