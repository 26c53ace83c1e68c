/**
 * Fixture releases laid out exactly like gVisor's release bucket
 * (`release/<version>/<arch>/…`), built once from real runsc binaries and
 * cached on disk (bzip2 of a 24–30 MB binary takes seconds): this machine's
 * runsc 20221219 (Debian 12) and Debian 13's runsc 20240729 (debian-runsc.ts).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { cached, fileStamp } from "../cache";
import type { FlavorName } from "../flavors";
import { runChecked } from "../proc";
import { RUNSC_BUILDS, runscFiles, type RunscBuild, type RunscFiles } from "./debian-runsc";

export const FIXTURE_ARCH = "x86_64";

/**
 * Release versions the mirror serves, by what a test uses them for. Every one
 * carries runsc 20221219 except the `archiveRunsc20240729*` ones.
 */
export const FIXTURE_VERSIONS = {
  /** New layout (after 20260831.0): gvisor.tar.zstd and gvisor.tar.bz2, each with its .sha512. */
  archive: "20261020",
  /** `archive`'s layout (zstd + bz2, each with its .sha512) built from the newer runsc 20240729. */
  archiveRunsc20240729: "20261102",
  /** `archiveRunsc20240729`'s archives with checksum files that do not match them. */
  archiveRunsc20240729BadChecksum: "20261103",
  /** New layout before zstd (20260818–20260830): gvisor.tar.bz2 + .sha512 only. */
  archiveBz2Only: "20260824.0",
  /**
   * New layout whose archives hold a runsc that is not the real one, each with a
   * matching checksum file: what a compromised mirror serves. Only a digest
   * pinned in the program can tell.
   */
  archiveTampered: "20261026",
  /** Every object under it answers 302 to the same object under `archive` (same server). */
  archiveRedirecting: "20261027",
  /** `archive`'s files, but each .sha512 has the right first line followed by 100 KiB of padding. */
  archiveOversizedChecksum: "20261028",
  /** Old layout: loose runsc, containerd-shim-runsc-v1 and their .sha512 files. */
  loose: "20260601.0",
  /** New layout whose gvisor.tar.bz2.sha512 does not match the archive. */
  archiveBadChecksum: "20261021",
  /** Old layout whose runsc.sha512 does not match runsc. */
  looseBadChecksum: "20260602.0",
  /** New layout, correct checksum, but the server cuts gvisor.tar.bz2 off halfway (connection dropped). */
  archiveTruncated: "20261022",
  /** Never published: every path under it is 404. */
  missing: "20261023",
} as const;

/** Which runsc each fixture version carries (the rest: runsc20221219). */
const RUNSC_OF_VERSION: Readonly<Record<string, RunscBuild>> = {
  [FIXTURE_VERSIONS.archiveRunsc20240729]: "runsc20240729",
  [FIXTURE_VERSIONS.archiveRunsc20240729BadChecksum]: "runsc20240729",
};

/** `runsc --version`'s version of the runsc a fixture release carries, e.g. `0.0~20221219.0`. */
export function fixtureRunscVersion(version: string): string {
  return RUNSC_BUILDS[RUNSC_OF_VERSION[version] ?? "runsc20221219"].version;
}

/**
 * The release a host of each flavor installs when a test names none
 * (`mirror.defaultVersion`, which testPlan() takes): the runsc of the
 * flavor's own Debian. bookworm keeps runsc 20221219 (what Debian 12 hosts
 * ship; runsc 20240729 runs there too, install-download.test.ts proves it);
 * trixie and sid get runsc 20240729, with systrap, directfs, overlay2 and
 * host-uds.
 */
export const FLAVOR_DEFAULT_FIXTURE: Readonly<Record<FlavorName, keyof typeof FIXTURE_VERSIONS>> = {
  bookworm: "archive",
  trixie: "archiveRunsc20240729",
  sid: "archiveRunsc20240729",
};

/** Channel aliases the mirror resolves, as the bucket's `release/latest` does. */
export const FIXTURE_ALIASES: Readonly<Record<string, string>> = {
  "release/latest": `release/${FIXTURE_VERSIONS.archive}`,
};

/** Bucket path prefixes (no leading slash) the server answers with a 302 to the same object under the target prefix. */
export const REDIRECTS: Readonly<Record<string, string>> = {
  [`release/${FIXTURE_VERSIONS.archiveRedirecting}/`]: `release/${FIXTURE_VERSIONS.archive}/`,
};

/** What the tampered archives carry instead of runsc: it runs, and says what it is. */
export const TAMPERED_RUNSC = `#!/bin/sh
echo "runsc version 0.0~tampered-by-the-mirror"
`;

/** Bucket paths (no leading slash) the server sends only half of before dropping the connection. */
export const TRUNCATED_PATHS: ReadonlySet<string> = new Set([
  `release/${FIXTURE_VERSIONS.archiveTruncated}/${FIXTURE_ARCH}/gvisor.tar.bz2`,
  `release/${FIXTURE_VERSIONS.archiveTruncated}/${FIXTURE_ARCH}/gvisor.tar.zstd`,
]);

/** No containerd-shim-runsc-v1 exists on this machine: the fixture's shim says so and fails. */
export const PLACEHOLDER_SHIM = `#!/bin/sh
echo "containerd-shim-runsc-v1: placeholder from the pulumi-gvisor test mirror, not a real shim" >&2
exit 1
`;

/** Stands in for the sidecar binaries of the archive's gvisor-bin/ folder. */
export const PLACEHOLDER_SIDECAR = `#!/bin/sh
echo "gvisor-bin sidecar: placeholder from the pulumi-gvisor test mirror" >&2
exit 1
`;
export const SIDECAR_NAME = "gvisor-sidecar-placeholder";

export interface MirrorFixtures {
  /** Directory whose tree is served as the bucket root. */
  root: string;
  sha512: {
    runsc: string;
    shim: string;
    sidecar: string;
    archive: string;
    archiveZstd: string;
    archiveTampered: string;
    /** runsc 20240729 as the `archiveRunsc20240729` archives carry it. */
    runsc20240729: string;
    archiveRunsc20240729: string;
    archiveRunsc20240729Zstd: string;
  };
}

export const sha512 = (data: Buffer | string) => createHash("sha512").update(data).digest("hex");

/** `sha512sum` output for one file: `<hex>  <name>\n`. */
const sumLine = (hex: string, name: string) => `${hex}  ${name}\n`;

export async function buildFixtures(): Promise<MirrorFixtures> {
  const builds = { runsc20221219: await runscFiles("runsc20221219"), runsc20240729: await runscFiles("runsc20240729") };
  const stamps = Object.values(builds).flatMap((b) => [b.runsc, ...(b.shim ? [b.shim] : [])].map(fileStamp));
  const root = await cached(`mirror-v3-${stamps.join("-")}`, (tmp) => writeTree(tmp, builds));
  const file = (v: string, name: string) => fs.readFileSync(path.join(root, "release", v, FIXTURE_ARCH, name));
  return {
    root,
    sha512: {
      runsc: sha512(fs.readFileSync(builds.runsc20221219.runsc)),
      shim: sha512(PLACEHOLDER_SHIM),
      sidecar: sha512(PLACEHOLDER_SIDECAR),
      archive: sha512(file(FIXTURE_VERSIONS.archive, "gvisor.tar.bz2")),
      archiveZstd: sha512(file(FIXTURE_VERSIONS.archive, "gvisor.tar.zstd")),
      archiveTampered: sha512(file(FIXTURE_VERSIONS.archiveTampered, "gvisor.tar.bz2")),
      runsc20240729: sha512(fs.readFileSync(builds.runsc20240729.runsc)),
      archiveRunsc20240729: sha512(file(FIXTURE_VERSIONS.archiveRunsc20240729, "gvisor.tar.bz2")),
      archiveRunsc20240729Zstd: sha512(file(FIXTURE_VERSIONS.archiveRunsc20240729, "gvisor.tar.zstd")),
    },
  };
}

/** Writes what goes into an archive, at its top level: runsc, the shim (the build's own, else the placeholder) and gvisor-bin/. */
function writePayload(dir: string, files: RunscFiles): void {
  fs.mkdirSync(path.join(dir, "gvisor-bin"), { recursive: true });
  fs.copyFileSync(files.runsc, path.join(dir, "runsc"));
  if (files.shim) fs.copyFileSync(files.shim, path.join(dir, "containerd-shim-runsc-v1"));
  else fs.writeFileSync(path.join(dir, "containerd-shim-runsc-v1"), PLACEHOLDER_SHIM);
  fs.writeFileSync(path.join(dir, "gvisor-bin", SIDECAR_NAME), PLACEHOLDER_SIDECAR);
  for (const f of ["runsc", "containerd-shim-runsc-v1", `gvisor-bin/${SIDECAR_NAME}`]) fs.chmodSync(path.join(dir, f), 0o755);
}

async function writeTree(root: string, builds: Record<RunscBuild, RunscFiles>): Promise<void> {
  const dir = (v: string) => {
    const d = path.join(root, "release", v, FIXTURE_ARCH);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const runscHex = sha512(fs.readFileSync(builds.runsc20221219.runsc));
  const shimHex = sha512(PLACEHOLDER_SHIM);
  const wrongHex = sha512("these are not the bytes you are looking for");

  const payload = path.join(root, ".payload");
  writePayload(payload, builds.runsc20221219);

  // New layout: bz2 and zstd of the same payload.
  const packArchives = async (from: string, to: string, formats: readonly ("bz2" | "zstd")[]) => {
    for (const format of formats) {
      const out = path.join(to, `gvisor.tar.${format}`);
      const tar = ["tar", "--numeric-owner", "--owner=0", "--group=0", "-C", from, format === "bz2" ? "--bzip2" : "--zstd", "-cf", out];
      await runChecked([...tar, "runsc", "containerd-shim-runsc-v1", "gvisor-bin"], { timeoutMs: 300_000 });
      fs.writeFileSync(`${out}.sha512`, sumLine(sha512(fs.readFileSync(out)), `gvisor.tar.${format}`));
    }
  };
  const good = dir(FIXTURE_VERSIONS.archive);
  await packArchives(payload, good, ["bz2", "zstd"]);
  const archive = path.join(good, "gvisor.tar.bz2");
  /** Release `v` with the archives of release dir `from` (hard links) and the checksum files `sums` gives. */
  const linkRelease = (v: string, sums: (format: string) => string, from = good) => {
    const d = dir(v);
    for (const format of ["bz2", "zstd"]) {
      fs.linkSync(path.join(from, `gvisor.tar.${format}`), path.join(d, `gvisor.tar.${format}`));
      fs.writeFileSync(path.join(d, `gvisor.tar.${format}.sha512`), sums(format));
    }
  };
  const bz2Only = dir(FIXTURE_VERSIONS.archiveBz2Only);
  fs.linkSync(archive, path.join(bz2Only, "gvisor.tar.bz2"));
  fs.linkSync(`${archive}.sha512`, path.join(bz2Only, "gvisor.tar.bz2.sha512"));

  linkRelease(FIXTURE_VERSIONS.archiveBadChecksum, (format) => sumLine(wrongHex, `gvisor.tar.${format}`));
  linkRelease(FIXTURE_VERSIONS.archiveTruncated, (format) => fs.readFileSync(path.join(good, `gvisor.tar.${format}.sha512`), "utf8"));
  linkRelease(FIXTURE_VERSIONS.archiveOversizedChecksum, (format) =>
    fs.readFileSync(path.join(good, `gvisor.tar.${format}.sha512`), "utf8") + `${" ".repeat(1023)}\n`.repeat(100),
  );

  // The newer runsc, in both archive forms; and the same archives under checksums that do not match.
  const newer = path.join(root, ".payload-runsc20240729");
  writePayload(newer, builds.runsc20240729);
  const newerDir = dir(FIXTURE_VERSIONS.archiveRunsc20240729);
  await packArchives(newer, newerDir, ["bz2", "zstd"]);
  linkRelease(FIXTURE_VERSIONS.archiveRunsc20240729BadChecksum, (format) => sumLine(wrongHex, `gvisor.tar.${format}`), newerDir);

  const tampered = path.join(root, ".payload-tampered");
  fs.cpSync(payload, tampered, { recursive: true });
  fs.writeFileSync(path.join(tampered, "runsc"), TAMPERED_RUNSC, { mode: 0o755 });
  await packArchives(tampered, dir(FIXTURE_VERSIONS.archiveTampered), ["bz2", "zstd"]);

  // Old layout.
  for (const [v, runscSum] of [
    [FIXTURE_VERSIONS.loose, runscHex],
    [FIXTURE_VERSIONS.looseBadChecksum, wrongHex],
  ] as const) {
    const d = dir(v);
    fs.linkSync(path.join(payload, "runsc"), path.join(d, "runsc"));
    fs.writeFileSync(path.join(d, "runsc.sha512"), sumLine(runscSum, "runsc"));
    fs.linkSync(path.join(payload, "containerd-shim-runsc-v1"), path.join(d, "containerd-shim-runsc-v1"));
    fs.writeFileSync(path.join(d, "containerd-shim-runsc-v1.sha512"), sumLine(shimHex, "containerd-shim-runsc-v1"));
  }
}
