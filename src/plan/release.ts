import { check, joinPath, show } from "./errors";
import { Arch, GvisorArch, gvisorArch } from "./arch";

/**
 * The gVisor release installed when the user does not pick one. Pinned,
 * because `release/latest` has lagged behind for weeks before; bump it here
 * and nowhere else, and only to a release with public evidence that it exists
 * (releases are weekly, nearly always dated a Monday).
 */
export const DEFAULT_GVISOR_VERSION = "20261005.0";

/** Where gVisor publishes releases. */
export const DEFAULT_RELEASE_MIRROR = "https://storage.googleapis.com/gvisor/releases";

/**
 * The last release shipped as loose files (runsc + runsc.sha512, …). Every
 * later release ships one archive, gvisor.tar.bz2 + gvisor.tar.bz2.sha512.
 */
export const LAST_LOOSE_RELEASE = { date: 20260817, patch: 0 } as const;

/** The first release that also ships `gvisor.tar.zstd` (+ `.sha512`): smaller and much faster to extract. */
export const FIRST_ZSTD_RELEASE = { date: 20260831, patch: 0 } as const;

/** Releases dated after this day refuse host kernels older than {@link KERNEL_FLOOR}. */
export const KERNEL_FLOOR_SINCE = 20260818;
/** The oldest host kernel (major.minor) that releases after {@link KERNEL_FLOOR_SINCE} run on. */
export const KERNEL_FLOOR = "5.6";

/** The archive file names a release can ship, in the order a host prefers them. */
export const ARCHIVE_FILES = { zstd: "gvisor.tar.zstd", bz2: "gvisor.tar.bz2" } as const;

/** How the files of a release are laid out in the bucket. */
export type ReleaseLayout = "archive" | "loose";

/** A release resolved to bucket paths; pure data, no I/O. */
export interface ResolvedRelease {
  /** The version as the user wrote it, normalised (`20261020.0`, `latest`, `nightly/2026-11-01`). */
  version: string;
  /** Bucket path below the mirror, e.g. `release/20261020.0`. */
  channelPath: string;
  /** Mirror base URL without trailing slash. */
  mirror: string;
  /** `${mirror}/${channelPath}`: add `/<arch>/<file>` to reach a file. */
  baseUrl: string;
  layout: ReleaseLayout;
  /**
   * Archive files the release ships, preferred first (`gvisor.tar.zstd`, then
   * `gvisor.tar.bz2`); empty for the loose layout. The host takes the first
   * it can extract (zstd only when the `zstd` command exists).
   */
  archives: string[];
  /** Oldest host kernel (`5.6`) the release runs on, or `""` when no floor is known for it. */
  kernelFloor: string;
}

/** The files to download for one arch, each with the checksum file that covers it. */
export interface ReleaseDownload {
  url: string;
  sha512Url: string;
  fileName: string;
}

const DATED = /^(\d{8})(?:\.(\d{1,3}))?$/;
const NIGHTLY_DATED = /^nightly\/(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return (
    y >= 2018 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
  );
}

const after = (date: number, patch: number, than: { date: number; patch: number }) =>
  date > than.date || (date === than.date && patch > than.patch);

type ReleaseTraits = Pick<ResolvedRelease, "layout" | "archives" | "kernelFloor">;

/** What a release of this date ships and needs (moving channels: what current releases do). */
export function releaseTraits(date: number, patch: number): ReleaseTraits {
  const layout: ReleaseLayout = after(date, patch, LAST_LOOSE_RELEASE) ? "archive" : "loose";
  const zstd = !after(FIRST_ZSTD_RELEASE.date, FIRST_ZSTD_RELEASE.patch, { date, patch });
  const archives = layout === "loose" ? [] : zstd ? [ARCHIVE_FILES.zstd, ARCHIVE_FILES.bz2] : [ARCHIVE_FILES.bz2];
  return { layout, archives, kernelFloor: date > KERNEL_FLOOR_SINCE ? KERNEL_FLOOR : "" };
}

/** Moving channels follow the newest releases. */
const CURRENT: ReleaseTraits = releaseTraits(99991231, 0);

/** Maps a version to its bucket path and layout. */
export function parseVersion(value: unknown, property: string): Omit<ResolvedRelease, "mirror" | "baseUrl"> {
  const hint =
    'a dated release ("20261005.0", "20260817"), "latest", "nightly" or "nightly/YYYY-MM-DD"';
  check(typeof value === "string", property, `must be ${hint}, got ${show(value)}`);
  const version = value.trim();

  if (version === "latest" || version === "release/latest") {
    return { version: "latest", channelPath: "release/latest", ...CURRENT };
  }
  if (version === "nightly" || version === "nightly/latest") {
    return { version: "nightly", channelPath: "nightly/latest", ...CURRENT };
  }
  const nightly = NIGHTLY_DATED.exec(version);
  if (nightly) {
    const [y, m, d] = nightly.slice(1).map(Number);
    check(isCalendarDate(y, m, d), property, `${show(version)} is not a real date`);
    const date = y * 10000 + m * 100 + d;
    return { version, channelPath: version, ...releaseTraits(date, 0) };
  }
  check(
    !version.startsWith("release-"),
    property,
    `${show(version)} is a git tag name; the release bucket uses the date alone ("${version.slice(8)}")`,
  );
  const dated = DATED.exec(version.replace(/^release\//, ""));
  check(dated !== null, property, `must be ${hint}, got ${show(value)}`);
  const date = Number(dated[1]);
  check(
    isCalendarDate(Math.floor(date / 10000), Math.floor(date / 100) % 100, date % 100),
    property,
    `${show(version)} does not start with a real date (YYYYMMDD)`,
  );
  const patch = dated[2] === undefined ? 0 : Number(dated[2]);
  const normalised = dated[2] === undefined ? dated[1] : `${dated[1]}.${patch}`;
  return { version: normalised, channelPath: `release/${normalised}`, ...releaseTraits(date, patch) };
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/**
 * A URL as it may appear in a message: any `user:password@` part replaced by
 * `***@`, so credentials never reach a preview, a log or an error line.
 */
export function redactUrl(raw: string): string {
  return raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
}

function finishMirror(url: URL, raw: string, property: string): string {
  const shown = show(redactUrl(raw));
  check(
    url.username === "" && url.password === "" && !/^[^/?#]*\/\/[^/?#]*@/.test(raw),
    property,
    `must not carry credentials (user:password@): they would show in previews, state and logs; give the host network access to the mirror instead (got ${shown})`,
  );
  check(url.protocol === "https:" || url.protocol === "http:", property, `must be an http(s) URL, got ${shown}`);
  // The sha512 comes from the same server as the binary: over plain http
  // anyone on the path could swap both. Only a mirror on the host itself
  // (loopback) may skip TLS.
  check(
    url.protocol === "https:" || LOOPBACK.test(url.hostname),
    property,
    `must use https (plain http is accepted only for a mirror on the host's loopback address): the checksum comes from the same server as the binary, so over http anyone on the path could replace both; got ${shown}`,
  );
  check(url.search === "" && url.hash === "", property, `must not have a query or fragment, got ${shown}`);
  check(/^[A-Za-z0-9._~:/%@+[\]-]+$/.test(raw.replace(/\/+$/, "")), property, `contains characters that do not belong in a base URL: ${shown}`);
  return raw.replace(/\/+$/, "");
}

/** Resolves `{ version, mirror }` to the bucket location of a release. */
export function resolveRelease(
  input: { version?: unknown; mirror?: unknown },
  path: { version: string; mirror: string },
): ResolvedRelease {
  const parsed = parseVersion(input.version ?? DEFAULT_GVISOR_VERSION, path.version);
  const mirror = input.mirror === undefined ? DEFAULT_RELEASE_MIRROR : parseMirror(input.mirror, path.mirror);
  return { ...parsed, mirror, baseUrl: `${mirror}/${parsed.channelPath}` };
}

/** Validates a mirror base URL and strips its trailing slash. */
export function parseMirror(value: unknown, property: string): string {
  check(typeof value === "string", property, `must be a URL string, got ${show(value)}`);
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  check(url !== undefined, property, `must be an absolute http(s) URL, got ${show(redactUrl(value))}`);
  return finishMirror(url, value, property);
}

/**
 * The largest archive or binary a host downloads, in bytes. A release archive
 * is about 30 MB; a server that sends more is not serving a gVisor release,
 * and a download without a bound could fill the disk.
 */
export const MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;

/** The files a host may download for `arch`, preferred first, with their checksum files. */
export function releaseDownloads(release: ResolvedRelease, arch: Arch | GvisorArch): ReleaseDownload[] {
  const dir = `${release.baseUrl}/${arch === "aarch64" ? arch : gvisorArch(arch)}`;
  const names = release.layout === "archive" ? release.archives : ["runsc", "containerd-shim-runsc-v1"];
  return names.map((fileName) => ({ fileName, url: `${dir}/${fileName}`, sha512Url: `${dir}/${fileName}.sha512` }));
}

/** sha512 digests of `gvisor.tar.bz2` pinned in the program, by `uname -m` arch. */
export interface Sha512Pins {
  x86_64?: string;
  aarch64?: string;
}

const SHA512_HEX = /^[0-9a-f]{128}$/;

/**
 * Validates per-arch sha512 pins (128 hex digits each, lowercased). A pin
 * covers `gvisor.tar.bz2`, the one file every archive release ships, so it
 * needs a release of the archive layout.
 */
export function parseSha512Pins(value: unknown, property: string, release: Pick<ResolvedRelease, "version" | "layout">): Sha512Pins {
  if (value === undefined) return {};
  check(typeof value === "object" && value !== null && !Array.isArray(value), property, `must be an object such as { x86_64: "<128 hex digits>", aarch64: "<128 hex digits>" }, got ${show(value)}`);
  const pins: Sha512Pins = {};
  for (const [key, raw] of Object.entries(value)) {
    const at = joinPath(property, key);
    check(key === "x86_64" || key === "aarch64", at, 'is not an arch gVisor publishes; use "x86_64" or "aarch64" (what uname -m prints)');
    if (raw === undefined) continue;
    const hex = typeof raw === "string" ? raw.trim().toLowerCase() : raw;
    check(
      typeof hex === "string" && SHA512_HEX.test(hex),
      at,
      `must be the 128 hex digits of gvisor.tar.bz2's sha512 (the first word of gvisor.tar.bz2.sha512), got ${show(raw)}`,
    );
    pins[key] = hex;
  }
  check(
    Object.keys(pins).length === 0 || release.layout === "archive",
    property,
    `pins gvisor.tar.bz2, which release ${show(release.version)} does not ship (releases up to 20260817.0 ship loose files); pin a later release or remove the pins`,
  );
  return pins;
}
