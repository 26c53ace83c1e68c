/**
 * Fixture releases laid out exactly like gVisor's release bucket
 * (`release/<version>/<arch>/…`), built once from the real runsc on this
 * machine and cached on disk (bzip2 of a 24 MB binary takes seconds).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { cached, fileStamp } from "../cache";
import { runChecked } from "../proc";

/** The runsc every fixture release carries: Debian's, the only one that exists here. */
export const FIXTURE_RUNSC_SOURCE = "/usr/bin/runsc";
export const FIXTURE_ARCH = "x86_64";

/** Release versions the mirror serves, by what a test uses them for. */
export const FIXTURE_VERSIONS = {
  /** New layout (after 20260817.0): gvisor.tar.bz2 + gvisor.tar.bz2.sha512. */
  archive: "20261020",
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

/** Channel aliases the mirror resolves, as the bucket's `release/latest` does. */
export const FIXTURE_ALIASES: Readonly<Record<string, string>> = {
  "release/latest": `release/${FIXTURE_VERSIONS.archive}`,
};

/** Bucket paths (no leading slash) the server sends only half of before dropping the connection. */
export const TRUNCATED_PATHS: ReadonlySet<string> = new Set([
  `release/${FIXTURE_VERSIONS.archiveTruncated}/${FIXTURE_ARCH}/gvisor.tar.bz2`,
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
  sha512: { runsc: string; shim: string; sidecar: string; archive: string };
}

export const sha512 = (data: Buffer | string) => createHash("sha512").update(data).digest("hex");

/** `sha512sum` output for one file: `<hex>  <name>\n`. */
const sumLine = (hex: string, name: string) => `${hex}  ${name}\n`;

export async function buildFixtures(): Promise<MirrorFixtures> {
  const runsc = fs.readFileSync(FIXTURE_RUNSC_SOURCE);
  const root = await cached(`mirror-v1-${fileStamp(FIXTURE_RUNSC_SOURCE)}`, (tmp) => writeTree(tmp));
  const archive = fs.readFileSync(path.join(root, "release", FIXTURE_VERSIONS.archive, FIXTURE_ARCH, "gvisor.tar.bz2"));
  return {
    root,
    sha512: { runsc: sha512(runsc), shim: sha512(PLACEHOLDER_SHIM), sidecar: sha512(PLACEHOLDER_SIDECAR), archive: sha512(archive) },
  };
}

async function writeTree(root: string): Promise<void> {
  const dir = (v: string) => {
    const d = path.join(root, "release", v, FIXTURE_ARCH);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const runscHex = sha512(fs.readFileSync(FIXTURE_RUNSC_SOURCE));
  const shimHex = sha512(PLACEHOLDER_SHIM);
  const wrongHex = sha512("these are not the bytes you are looking for");

  // What goes into the archive, at its top level.
  const payload = path.join(root, ".payload");
  fs.mkdirSync(path.join(payload, "gvisor-bin"), { recursive: true });
  fs.copyFileSync(FIXTURE_RUNSC_SOURCE, path.join(payload, "runsc"));
  fs.writeFileSync(path.join(payload, "containerd-shim-runsc-v1"), PLACEHOLDER_SHIM);
  fs.writeFileSync(path.join(payload, "gvisor-bin", SIDECAR_NAME), PLACEHOLDER_SIDECAR);
  for (const f of ["runsc", "containerd-shim-runsc-v1", `gvisor-bin/${SIDECAR_NAME}`]) fs.chmodSync(path.join(payload, f), 0o755);

  // New layout.
  const good = dir(FIXTURE_VERSIONS.archive);
  const archive = path.join(good, "gvisor.tar.bz2");
  await runChecked(
    ["tar", "--numeric-owner", "--owner=0", "--group=0", "-C", payload, "-cjf", archive, "runsc", "containerd-shim-runsc-v1", "gvisor-bin"],
    { timeoutMs: 300_000 },
  );
  const archiveHex = sha512(fs.readFileSync(archive));
  fs.writeFileSync(`${archive}.sha512`, sumLine(archiveHex, "gvisor.tar.bz2"));

  const bad = dir(FIXTURE_VERSIONS.archiveBadChecksum);
  fs.linkSync(archive, path.join(bad, "gvisor.tar.bz2"));
  fs.writeFileSync(path.join(bad, "gvisor.tar.bz2.sha512"), sumLine(wrongHex, "gvisor.tar.bz2"));

  const cut = dir(FIXTURE_VERSIONS.archiveTruncated);
  fs.linkSync(archive, path.join(cut, "gvisor.tar.bz2"));
  fs.writeFileSync(path.join(cut, "gvisor.tar.bz2.sha512"), sumLine(archiveHex, "gvisor.tar.bz2"));

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
