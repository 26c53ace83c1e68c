import { describe, expect, it } from "vitest";
import {
  DEFAULT_GVISOR_VERSION,
  DEFAULT_RELEASE_MIRROR,
  KERNEL_FLOOR,
  LAST_LOOSE_RELEASE,
  parseSha512Pins,
  parseVersion,
  redactUrl,
  releaseDownloads,
  releaseTraits,
  resolveRelease,
} from "../../src/plan/release";
import { PlanValidationError } from "../../src/plan/errors";

const paths = { version: "version", mirror: "mirror" };
const resolve = (version?: unknown, mirror?: unknown) => resolveRelease({ version, mirror }, paths);

describe("release resolution", () => {
  it("pins a dated release by default, newer than the last loose-file release", () => {
    const r = resolve();
    expect(r.version).toBe(DEFAULT_GVISOR_VERSION);
    expect(r.channelPath).toBe(`release/${DEFAULT_GVISOR_VERSION}`);
    expect(r.layout).toBe("archive");
    expect(r.baseUrl).toBe(`${DEFAULT_RELEASE_MIRROR}/release/${DEFAULT_GVISOR_VERSION}`);
  });

  it("the default is a dated release on the archive layout with public evidence (not 20261020.0, which has none)", () => {
    expect(DEFAULT_GVISOR_VERSION).toMatch(/^\d{8}\.\d+$/);
    expect(DEFAULT_GVISOR_VERSION).not.toBe("20261020.0");
    const parsed = parseVersion(DEFAULT_GVISOR_VERSION, "version");
    expect(parsed.channelPath).toBe(`release/${DEFAULT_GVISOR_VERSION}`);
    expect(parsed.layout).toBe("archive");
    expect(Number(DEFAULT_GVISOR_VERSION.slice(0, 8))).toBeGreaterThan(LAST_LOOSE_RELEASE.date);
    // gVisor releases are weekly and nearly always dated a Monday.
    const d = DEFAULT_GVISOR_VERSION;
    expect(new Date(Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8))).getUTCDay()).toBe(1);
  });

  it.each([
    // version, archives (preferred first), kernel floor
    ["20260601.0", [], ""],
    ["20260817.0", [], ""],
    ["20260817.1", ["gvisor.tar.bz2"], ""],
    ["20260818", ["gvisor.tar.bz2"], ""],
    ["20260824.0", ["gvisor.tar.bz2"], KERNEL_FLOOR],
    ["20260830.1", ["gvisor.tar.bz2"], KERNEL_FLOOR],
    ["20260831.0", ["gvisor.tar.zstd", "gvisor.tar.bz2"], KERNEL_FLOOR],
    ["20261005.0", ["gvisor.tar.zstd", "gvisor.tar.bz2"], KERNEL_FLOOR],
    ["latest", ["gvisor.tar.zstd", "gvisor.tar.bz2"], KERNEL_FLOOR],
    ["nightly", ["gvisor.tar.zstd", "gvisor.tar.bz2"], KERNEL_FLOOR],
    ["nightly/2026-08-25", ["gvisor.tar.bz2"], KERNEL_FLOOR],
    ["nightly/2026-09-01", ["gvisor.tar.zstd", "gvisor.tar.bz2"], KERNEL_FLOOR],
  ] as const)("%s ships %j and needs kernel %j", (version, archives, floor) => {
    const r = resolve(version);
    expect(r.archives).toEqual(archives);
    expect(r.kernelFloor).toBe(floor);
  });

  it("the kernel floor starts with releases dated after 2026-08-18", () => {
    expect(KERNEL_FLOOR).toBe("5.6");
    expect(releaseTraits(20260818, 0).kernelFloor).toBe("");
    expect(releaseTraits(20260818, 1).kernelFloor).toBe("");
    expect(releaseTraits(20260819, 0).kernelFloor).toBe("5.6");
  });

  it.each([
    ["20260817.0", "release/20260817.0", "loose"],
    ["20260817", "release/20260817", "loose"],
    ["20260622", "release/20260622", "loose"],
    ["20260817.1", "release/20260817.1", "archive"],
    ["20261020", "release/20261020", "archive"],
    ["release/20261020.0", "release/20261020.0", "archive"],
    ["latest", "release/latest", "archive"],
    ["release/latest", "release/latest", "archive"],
    ["nightly", "nightly/latest", "archive"],
    ["nightly/2026-11-01", "nightly/2026-11-01", "archive"],
    ["nightly/2026-05-01", "nightly/2026-05-01", "loose"],
  ])("%s → %s (%s layout)", (version, channelPath, layout) => {
    const r = resolve(version);
    expect(r.channelPath).toBe(channelPath);
    expect(r.layout).toBe(layout);
  });

  it("lists the archives and their checksums for new releases, zstd first, per gVisor arch directory", () => {
    const r = resolve("20261005.0");
    expect(releaseDownloads(r, "arm64")).toEqual([
      {
        fileName: "gvisor.tar.zstd",
        url: `${DEFAULT_RELEASE_MIRROR}/release/20261005.0/aarch64/gvisor.tar.zstd`,
        sha512Url: `${DEFAULT_RELEASE_MIRROR}/release/20261005.0/aarch64/gvisor.tar.zstd.sha512`,
      },
      {
        fileName: "gvisor.tar.bz2",
        url: `${DEFAULT_RELEASE_MIRROR}/release/20261005.0/aarch64/gvisor.tar.bz2`,
        sha512Url: `${DEFAULT_RELEASE_MIRROR}/release/20261005.0/aarch64/gvisor.tar.bz2.sha512`,
      },
    ]);
    expect(releaseDownloads(resolve("20260824.0"), "x86_64").map((d) => d.fileName)).toEqual(["gvisor.tar.bz2"]);
  });

  it("lists runsc and the shim with their checksums for old releases", () => {
    const r = resolve("20260601.0", "https://mirror.internal/gvisor/");
    expect(releaseDownloads(r, "x86_64").map((d) => [d.url, d.sha512Url])).toEqual([
      ["https://mirror.internal/gvisor/release/20260601.0/x86_64/runsc", "https://mirror.internal/gvisor/release/20260601.0/x86_64/runsc.sha512"],
      [
        "https://mirror.internal/gvisor/release/20260601.0/x86_64/containerd-shim-runsc-v1",
        "https://mirror.internal/gvisor/release/20260601.0/x86_64/containerd-shim-runsc-v1.sha512",
      ],
    ]);
  });

  it("accepts an https mirror with a port and path (air-gapped artifact stores)", () => {
    expect(resolve(undefined, "https://10.0.0.5:8443/artifacts/gvisor").mirror).toBe("https://10.0.0.5:8443/artifacts/gvisor");
  });

  it("accepts plain http only for a mirror on the host's own loopback address", () => {
    for (const m of ["http://127.0.0.1:8080/gvisor", "http://localhost/gvisor", "http://[::1]:8080/gvisor"]) {
      expect(resolve(undefined, m).mirror).toBe(m);
    }
  });

  it.each([
    ["release-20261020.0", /git tag name.*"20261020.0"/],
    ["2026-10-20", /must be a dated release/],
    ["20261350", /not start with a real date/],
    ["20261020.0; rm -rf /", /must be a dated release/],
    ["$(reboot)", /must be a dated release/],
    ["nightly/2026-02-30", /not a real date/],
    ["v1.0", /must be a dated release/],
    ["", /must be a dated release/],
    [20261020, /must be a dated release.*got 20261020/],
  ])("refuses version %j", (version, message) => {
    expect(() => resolve(version)).toThrowError(/^version: /);
    expect(() => resolve(version)).toThrowError(message);
  });

  it.each([
    ["ftp://mirror/gvisor", /http\(s\) URL/],
    ["http://10.0.0.5:8080/artifacts/gvisor", /must use https.*could replace both/],
    ["http://mirror.internal/gvisor", /must use https/],
    ["not a url", /absolute http\(s\) URL/],
    ["https://user:secret@mirror/gvisor", /credentials/],
    ["https://mirror/gvisor?x=1", /query or fragment/],
    ["https://mirror/g'v\"isor", /characters that do not belong/],
    ["https://mirror/$(id)", /characters that do not belong/],
  ])("refuses mirror %j", (mirror, message) => {
    expect(() => resolve(undefined, mirror)).toThrowError(/^mirror: /);
    expect(() => resolve(undefined, mirror)).toThrowError(message);
  });

  it.each([
    "https://user:secret@mirror/gvisor",
    "http://user:secret@mirror.internal/gvisor",
    "ftp://user:secret@mirror/gvisor",
    "https://secret@mirror/gvisor",
    "https://user:secret@mirror/gvisor?x=1",
    "https://user:secret@mirror/$(id)",
  ])("refuses mirror %j for its credentials without showing them", (mirror) => {
    let error: unknown;
    try {
      resolve(undefined, mirror);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanValidationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^mirror: must not carry credentials \(user:password@\)/);
    expect(message).not.toContain("secret");
    expect(message).toContain("***@mirror");
  });

  it("redacts credentials from URLs shown in messages", () => {
    expect(redactUrl("https://u:p@host:8443/a@b")).toBe("https://***@host:8443/a@b");
    expect(redactUrl("https://host/a@b")).toBe("https://host/a@b");
    expect(redactUrl("not a url with user:pw@")).toBe("not a url with user:pw@");
  });
});

describe("sha512 pins", () => {
  const hex = "ab".repeat(64);
  const archive = resolve("20261005.0");

  it("accepts 128 hex digits per arch, lowercased, and nothing when unset", () => {
    expect(parseSha512Pins(undefined, "args.sha512", archive)).toEqual({});
    expect(parseSha512Pins({ x86_64: hex.toUpperCase(), aarch64: ` ${hex} ` }, "args.sha512", archive)).toEqual({ x86_64: hex, aarch64: hex });
    expect(parseSha512Pins({ aarch64: hex, x86_64: undefined }, "args.sha512", archive)).toEqual({ aarch64: hex });
  });

  it.each([
    [{ x86_64: "abc" }, "args.sha512.x86_64", /must be the 128 hex digits of gvisor\.tar\.bz2's sha512.*got "abc"/],
    [{ x86_64: "g".repeat(128) }, "args.sha512.x86_64", /128 hex digits/],
    [{ aarch64: "a".repeat(127) }, "args.sha512.aarch64", /128 hex digits/],
    [{ aarch64: `${hex}  gvisor.tar.bz2` }, "args.sha512.aarch64", /first word of gvisor\.tar\.bz2\.sha512/],
    [{ aarch64: 42 }, "args.sha512.aarch64", /128 hex digits.*got 42/],
    [{ arm64: hex }, "args.sha512.arm64", /use "x86_64" or "aarch64" \(what uname -m prints\)/],
    [[hex], "args.sha512", /must be an object/],
    ["abc", "args.sha512", /must be an object/],
  ])("refuses %j at %s", (value, path, message) => {
    const run = () => parseSha512Pins(value, "args.sha512", archive);
    expect(run).toThrowError(new RegExp(`^${path.replace(/[.]/g, "\\.")}: `));
    expect(run).toThrowError(message);
  });

  it("refuses pins on a loose-layout release, which has no gvisor.tar.bz2", () => {
    expect(() => parseSha512Pins({ x86_64: hex }, "args.sha512", resolve("20260601.0"))).toThrowError(
      /^args\.sha512: pins gvisor\.tar\.bz2, which release "20260601\.0" does not ship/,
    );
  });
});
