import { describe, expect, it } from "vitest";
import {
  DEFAULT_GVISOR_VERSION,
  DEFAULT_RELEASE_MIRROR,
  releaseDownloads,
  resolveRelease,
} from "../../src/plan/release";

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

  it("lists the archive and its checksum for new releases, per gVisor arch directory", () => {
    const r = resolve("20261020.0");
    expect(releaseDownloads(r, "arm64")).toEqual([
      {
        fileName: "gvisor.tar.bz2",
        url: `${DEFAULT_RELEASE_MIRROR}/release/20261020.0/aarch64/gvisor.tar.bz2`,
        sha512Url: `${DEFAULT_RELEASE_MIRROR}/release/20261020.0/aarch64/gvisor.tar.bz2.sha512`,
      },
    ]);
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
});
