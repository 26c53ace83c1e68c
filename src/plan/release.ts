import { check, show } from "./errors";
import { Arch, GvisorArch, gvisorArch } from "./arch";

/**
 * The gVisor release installed when the user does not pick one. Pinned,
 * because `release/latest` has lagged behind for weeks before; bump it here
 * and nowhere else.
 */
export const DEFAULT_GVISOR_VERSION = "20261020.0";

/** Where gVisor publishes releases. */
export const DEFAULT_RELEASE_MIRROR = "https://storage.googleapis.com/gvisor/releases";

/**
 * The last release shipped as loose files (runsc + runsc.sha512, …). Every
 * later release ships one archive, gvisor.tar.bz2 + gvisor.tar.bz2.sha512.
 */
export const LAST_LOOSE_RELEASE = { date: 20260817, patch: 0 } as const;

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

function layoutForDate(date: number, patch: number): ReleaseLayout {
  const { date: lastDate, patch: lastPatch } = LAST_LOOSE_RELEASE;
  const newer = date > lastDate || (date === lastDate && patch > lastPatch);
  return newer ? "archive" : "loose";
}

/** Maps a version to its bucket path and layout. */
export function parseVersion(value: unknown, property: string): Omit<ResolvedRelease, "mirror" | "baseUrl"> {
  const hint =
    'a dated release ("20261020.0", "20260817"), "latest", "nightly" or "nightly/YYYY-MM-DD"';
  check(typeof value === "string", property, `must be ${hint}, got ${show(value)}`);
  const version = value.trim();

  if (version === "latest" || version === "release/latest") {
    return { version: "latest", channelPath: "release/latest", layout: "archive" };
  }
  if (version === "nightly" || version === "nightly/latest") {
    return { version: "nightly", channelPath: "nightly/latest", layout: "archive" };
  }
  const nightly = NIGHTLY_DATED.exec(version);
  if (nightly) {
    const [y, m, d] = nightly.slice(1).map(Number);
    check(isCalendarDate(y, m, d), property, `${show(version)} is not a real date`);
    const date = y * 10000 + m * 100 + d;
    return { version, channelPath: version, layout: layoutForDate(date, 0) };
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
  return { version: normalised, channelPath: `release/${normalised}`, layout: layoutForDate(date, patch) };
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

function finishMirror(url: URL, raw: string, property: string): string {
  check(url.protocol === "https:" || url.protocol === "http:", property, `must be an http(s) URL, got ${show(raw)}`);
  // The sha512 comes from the same server as the binary: over plain http
  // anyone on the path could swap both. Only a mirror on the host itself
  // (loopback) may skip TLS.
  check(
    url.protocol === "https:" || LOOPBACK.test(url.hostname),
    property,
    `must use https (plain http is accepted only for a mirror on the host's loopback address): the checksum comes from the same server as the binary, so over http anyone on the path could replace both; got ${show(raw)}`,
  );
  check(url.username === "" && url.password === "", property, "must not carry credentials: they would show in previews and logs; serve the mirror to the host's network instead");
  check(url.search === "" && url.hash === "", property, `must not have a query or fragment, got ${show(raw)}`);
  check(/^[A-Za-z0-9._~:/%@+[\]-]+$/.test(raw.replace(/\/+$/, "")), property, `contains characters that do not belong in a base URL: ${show(raw)}`);
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
  check(url !== undefined, property, `must be an absolute http(s) URL, got ${show(value)}`);
  return finishMirror(url, value, property);
}

/** The files a host downloads for `arch`, with their checksum files. */
export function releaseDownloads(release: ResolvedRelease, arch: Arch | GvisorArch): ReleaseDownload[] {
  const dir = `${release.baseUrl}/${arch === "aarch64" ? arch : gvisorArch(arch)}`;
  const names = release.layout === "archive" ? ["gvisor.tar.bz2"] : ["runsc", "containerd-shim-runsc-v1"];
  return names.map((fileName) => ({ fileName, url: `${dir}/${fileName}`, sha512Url: `${dir}/${fileName}.sha512` }));
}
