/**
 * The install step's download, verify and extract part on real test hosts:
 * which archive a host takes (zstd or bz2), digests pinned in the program, the
 * kernel floor, redirects, size caps and a full /tmp, with curl and with a
 * host that has only wget; and the release built from the newer runsc
 * 20240729 (the default on trixie and sid).
 */
import { describe, expect, it } from "vitest";
import { HostPlan } from "../../src/plan/host-plan";
import { FIXTURE_ARCH, TestHost } from "./harness";
import { useHostSuite } from "./support/suite";
import { lastLine, mustRun, runStep, testPlan } from "./support/steps";

const suite = useHostSuite();

/** Takes a command away from the host (its /usr is a copy-on-write overlay of the machine's). */
async function without(host: TestHost, ...commands: string[]): Promise<void> {
  for (const c of commands) {
    const r = await host.sh('for d in /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do rm -f "$d/$1"; done; ! command -v "$1"', [c]);
    expect(r.code, `${c} is still on the host: ${r.stdout}${r.stderr}`).toBe(0);
  }
}

/** The files (names only) the host fetched from the mirror since the last clearRequests. */
const fetched = () =>
  suite
    .mirror()
    .requests.filter((r) => r.method === "GET")
    .map((r) => r.path.split("/").pop());

async function expectNothingInstalled(host: TestHost): Promise<void> {
  expect((await host.exec(["ls", "-A", "/usr/local/bin"])).stdout).toBe("");
  expect((await host.sh("ls -A /tmp | grep -c pulumi-gvisor || true")).stdout.trim()).toBe("0");
}

async function expectRefused(host: TestHost, plan: HostPlan, message: RegExp): Promise<string> {
  const r = await runStep(host, plan, "install");
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stdout).toBe("");
  const line = lastLine(r.stderr);
  expect(line).toMatch(/^pulumi-gvisor install: error: /);
  expect(line).toMatch(message);
  await expectNothingInstalled(host);
  return line;
}

describe("archive format, chosen on the host", () => {
  it("takes gvisor.tar.zstd when the host has zstd, and says so", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    expect(plan.release.archives).toEqual(["gvisor.tar.zstd", "gvisor.tar.bz2"]);
    suite.mirror().clearRequests();
    const r = await mustRun(host, plan, "install");
    const runscVersion = suite.mirror().runscVersion();
    expect(r.json).toMatchObject({ step: "install", changed: true, archive: "gvisor.tar.zstd", runscVersion, gvisorBin: true });
    expect(fetched()).toEqual(["gvisor.tar.zstd.sha512", "gvisor.tar.zstd"]);
    expect((await host.exec(["/usr/local/bin/runsc", "--version"])).stdout).toContain(`runsc version ${runscVersion}\n`);
  });

  it("takes gvisor.tar.bz2 when the host has no zstd", async () => {
    const host = await suite.freshHost();
    await without(host, "zstd");
    suite.mirror().clearRequests();
    const r = await mustRun(host, testPlan(suite.mirror()), "install");
    expect(r.json).toMatchObject({ changed: true, archive: "gvisor.tar.bz2", runscVersion: suite.mirror().runscVersion() });
    expect(fetched()).toEqual(["gvisor.tar.bz2.sha512", "gvisor.tar.bz2"]);
  });

  it("takes gvisor.tar.bz2 for releases before zstd was published, and when a mirror lacks zstd", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror(), { version: suite.mirror().versions.archiveBz2Only });
    expect(plan.release.archives).toEqual(["gvisor.tar.bz2"]);
    suite.mirror().clearRequests();
    expect((await mustRun(host, plan, "install")).json).toMatchObject({ changed: true, archive: "gvisor.tar.bz2" });
    expect(fetched()).toEqual(["gvisor.tar.bz2.sha512", "gvisor.tar.bz2"]);

    // A mirror that copied only the bz2 files of a release that has both.
    const other = await suite.freshHost();
    const bz2Mirror: HostPlan = { ...plan, release: { ...plan.release, archives: ["gvisor.tar.zstd", "gvisor.tar.bz2"] } };
    suite.mirror().clearRequests();
    const r = await mustRun(other, bz2Mirror, "install");
    expect(r.json).toMatchObject({ changed: true, archive: "gvisor.tar.bz2" });
    expect(r.stderr).toContain("the mirror has no gvisor.tar.zstd for this release; using gvisor.tar.bz2");
  });
});

describe("sha512 pinned in the program", () => {
  it("refuses a mirror that serves a bad archive with a matching checksum file", async () => {
    const mirror = suite.mirror();
    // Without a pin the mirror's own checksum is all there is: the tampered runsc gets installed.
    const unpinned = await suite.freshHost();
    const fooled = await mustRun(unpinned, testPlan(mirror, { version: mirror.versions.archiveTampered }), "install");
    expect(fooled.json?.runscVersion).toBe("0.0~tampered-by-the-mirror");

    const host = await suite.freshHost();
    const plan = testPlan(mirror, { version: mirror.versions.archiveTampered, sha512: { [FIXTURE_ARCH]: mirror.fixtures.sha512.archive } });
    mirror.clearRequests();
    const line = await expectRefused(
      host,
      plan,
      /the mirror's checksum for gvisor\.tar\.bz2 \([0-9a-f]{16}\.\.\.\) is not the sha512 pinned in the program for x86_64/,
    );
    expect(line).toMatch(/check the mirror, or update the pin/);
    // Refused on the checksum file alone: the archive was never downloaded.
    expect(fetched()).toEqual(["gvisor.tar.bz2.sha512"]);
  });

  it("installs when archive, checksum file and pin agree; a pinned host takes the pinned bz2 even with zstd", async () => {
    const mirror = suite.mirror();
    const host = await suite.freshHost();
    const plan = testPlan(mirror, { version: mirror.versions.archive, sha512: { x86_64: mirror.fixtures.sha512.archive.toUpperCase() } });
    expect(plan.sha512Pins.x86_64).toBe(mirror.fixtures.sha512.archive);
    mirror.clearRequests();
    const r = await mustRun(host, plan, "install");
    expect(r.json).toMatchObject({ changed: true, archive: "gvisor.tar.bz2", runscVersion: "0.0~20221219.0" });
    expect(fetched()).toEqual(["gvisor.tar.bz2.sha512", "gvisor.tar.bz2"]);
  });

  it("a pin for the other arch only leaves this host on the mirror's checksum", async () => {
    const mirror = suite.mirror();
    const host = await suite.freshHost();
    const plan = testPlan(mirror, { sha512: { aarch64: "0".repeat(128) } });
    expect((await mustRun(host, plan, "install")).json).toMatchObject({ changed: true, archive: "gvisor.tar.zstd" });
  });
});

describe("the release built from runsc 20240729", () => {
  const NEWER = "0.0~20240729.0";

  it(`is what ${suite.flavor.name} hosts install when a test names no release`, () => {
    const mirror = suite.mirror();
    // bookworm keeps Debian 12's own runsc; trixie and sid get the runsc of their own Debian.
    const want = suite.flavor.name === "bookworm" ? mirror.versions.archive : mirror.versions.archiveRunsc20240729;
    expect(mirror.defaultVersion).toBe(want);
    expect(testPlan(mirror).release.version).toBe(want);
    expect(mirror.runscVersion()).toBe(suite.flavor.name === "bookworm" ? "0.0~20221219.0" : NEWER);
    expect(mirror.runscVersion(mirror.versions.archiveRunsc20240729)).toBe(NEWER);
  });

  it.each([
    ["with zstd", "gvisor.tar.zstd", "zstd"],
    ["without zstd", "gvisor.tar.bz2", "bz2"],
    ["pinned (the pin covers bz2), with zstd", "gvisor.tar.bz2", "pin"],
  ] as const)("installs and verifies %s: %s", async (_, archive, how) => {
    const mirror = suite.mirror();
    const host = await suite.freshHost();
    if (how === "bz2") await without(host, "zstd");
    else expect((await host.sh("command -v zstd")).code).toBe(0);
    const plan = testPlan(mirror, {
      version: mirror.versions.archiveRunsc20240729,
      ...(how === "pin" ? { sha512: { [FIXTURE_ARCH]: mirror.fixtures.sha512.archiveRunsc20240729 } } : {}),
    });
    expect(plan.release.archives).toEqual(["gvisor.tar.zstd", "gvisor.tar.bz2"]);
    mirror.clearRequests();
    const install = await mustRun(host, plan, "install");
    expect(install.json).toMatchObject({
      step: "install",
      changed: true,
      version: mirror.versions.archiveRunsc20240729,
      archive,
      runscVersion: NEWER,
      gvisorBin: true,
    });
    expect(fetched()).toEqual([`${archive}.sha512`, archive]);
    // The installed binary is Debian 13's runsc, byte for byte.
    expect((await host.sh("sha512sum /usr/local/bin/runsc")).stdout.split(" ")[0]).toBe(mirror.fixtures.sha512.runsc20240729);

    await mustRun(host, plan, "configure-docker");
    const verify = await mustRun(host, plan, "verify");
    expect(verify.json).toMatchObject({
      runscVersion: NEWER,
      isolated: true,
      failures: [],
      runtimes: [{ name: "runsc", ran: true, sandboxKernel: "4.4.0", runtimePath: "/usr/local/bin/runsc", sandboxProcess: true }],
    });
  });

  it.each(["with zstd", "without zstd"] as const)(
    "refuses a checksum file that does not match its archive, %s, and keeps the runsc installed before",
    async (how) => {
      const mirror = suite.mirror();
      const host = await suite.freshHost();
      if (how === "without zstd") await without(host, "zstd");
      const archive = how === "with zstd" ? "gvisor.tar.zstd" : "gvisor.tar.bz2";
      const bad = testPlan(mirror, { version: mirror.versions.archiveRunsc20240729BadChecksum });
      const line = await expectRefused(
        host,
        bad,
        new RegExp(
          `checksum mismatch for http://127\\.0\\.0\\.1:\\d+/release/${bad.release.version}/x86_64/${archive.replace(/\./g, "\\.")} \\(sha512 expected [0-9a-f]{16}\\.\\.\\., got ${mirror.fixtures.sha512[how === "with zstd" ? "archiveRunsc20240729Zstd" : "archiveRunsc20240729"].slice(0, 16)}\\.\\.\\.\\)`,
        ),
      );
      expect(line).toContain("nothing was installed");

      // An upgrade from runsc 20221219 to the bad release leaves the old runsc in place; the good one replaces it.
      const old = testPlan(mirror, { version: mirror.versions.archive });
      expect((await mustRun(host, old, "install")).json).toMatchObject({ changed: true, runscVersion: "0.0~20221219.0" });
      const refused = await runStep(host, bad, "install");
      expect(refused.code).not.toBe(0);
      expect(lastLine(refused.stderr)).toMatch(/^pulumi-gvisor install: error: checksum mismatch for /);
      expect((await host.exec(["/usr/local/bin/runsc", "--version"])).stdout).toMatch(/^runsc version 0\.0~20221219\.0\n/);
      const upgraded = await mustRun(host, testPlan(mirror, { version: mirror.versions.archiveRunsc20240729 }), "install");
      expect(upgraded.json).toMatchObject({ changed: true, archive, runscVersion: NEWER });
      expect((await host.exec(["/usr/local/bin/runsc", "--version"])).stdout).toMatch(/^runsc version 0\.0~20240729\.0\n/);
    },
  );
});

describe("kernel floor", () => {
  it("refuses a host kernel older than the release needs, before any download", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror());
    expect(plan.release.kernelFloor).toBe("5.6");
    // This machine's kernel is above every real floor: raise the floor in the plan data instead.
    const future: HostPlan = { ...plan, release: { ...plan.release, kernelFloor: "999.0" } };
    const kernel = (await host.exec(["uname", "-r"])).stdout.trim();
    suite.mirror().clearRequests();
    const line = await expectRefused(
      host,
      future,
      new RegExp(
        `gVisor ${plan.release.version} needs Linux 999\\.0 or newer, but this host runs ${kernel.replace(/[.+]/g, "\\$&")}; upgrade the host's kernel`,
      ),
    );
    expect(line).toContain("nothing was installed");
    expect(fetched()).toEqual([]);
  });
});

describe("redirects", () => {
  it("a plain-http (loopback) mirror may not redirect: refused with curl", async () => {
    const host = await suite.freshHost();
    const plan = testPlan(suite.mirror(), { version: suite.mirror().versions.archiveRedirecting });
    suite.mirror().clearRequests();
    await expectRefused(
      host,
      plan,
      /gvisor\.tar\.zstd\.sha512 redirects to http:\/\/127\.0\.0\.1:\d+\/release\/20261020\/x86_64\/gvisor\.tar\.zstd\.sha512; a plain-http mirror \(loopback only\) may not redirect at all; set the mirror to the final address/,
    );
    // The redirect was not followed.
    expect(suite.mirror().requests.map((r) => r.status)).toEqual([302]);
  });

  it("wget follows no redirect at all: refused with a hint to install curl", async () => {
    const host = await suite.freshHost();
    await without(host, "curl");
    const plan = testPlan(suite.mirror(), { version: suite.mirror().versions.archiveRedirecting });
    suite.mirror().clearRequests();
    await expectRefused(
      host,
      plan,
      /redirects to http:\/\/127\.0\.0\.1:\d+\/release\/20261020\/\S+; wget cannot be held to https across redirects, so this host follows none; install curl on the host, or set the mirror to the final address/,
    );
    expect(suite.mirror().requests.map((r) => [r.status, r.userAgent?.split("/")[0]])).toEqual([[302, "Wget"]]);
  });

  it("a wget-only host installs from a mirror that does not redirect", async () => {
    const host = await suite.freshHost();
    await without(host, "curl");
    suite.mirror().clearRequests();
    const r = await mustRun(host, testPlan(suite.mirror()), "install");
    expect(r.json).toMatchObject({ changed: true, archive: "gvisor.tar.zstd", runscVersion: suite.mirror().runscVersion() });
    expect(new Set(suite.mirror().requests.map((q) => q.userAgent?.split("/")[0]))).toEqual(new Set(["Wget"]));
  });
});

describe("size caps and a full /tmp", () => {
  it.each(["curl", "wget"] as const)("%s: a checksum file over 64 KiB is refused", async (tool) => {
    const host = await suite.freshHost();
    if (tool === "wget") await without(host, "curl");
    const plan = testPlan(suite.mirror(), { version: suite.mirror().versions.archiveOversizedChecksum });
    await expectRefused(host, plan, /gvisor\.tar\.zstd\.sha512 is larger than the 65536 bytes a gVisor release file may have/);
  });

  it.each(["curl", "wget"] as const)("%s: an archive over the download cap is refused", async (tool) => {
    const host = await suite.freshHost();
    if (tool === "wget") await without(host, "curl");
    const plan = testPlan(suite.mirror());
    expect(plan.downloadMaxBytes).toBe(512 * 1024 * 1024);
    // The fixture archive is far smaller than the real cap: lower the cap in the plan data.
    const capped: HostPlan = { ...plan, downloadMaxBytes: 1024 * 1024 };
    await expectRefused(host, capped, /gvisor\.tar\.zstd is larger than the 1048576 bytes a gVisor release file may have/);
  });

  it.each(["curl", "wget"] as const)("%s: a full /tmp gives the specific error, not a network hint", async (tool) => {
    const host = await suite.freshHost();
    if (tool === "wget") await without(host, "curl");
    expect((await host.exec(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", "/tmp"])).code).toBe(0);
    const line = await expectRefused(
      host,
      testPlan(suite.mirror()),
      /could not write the download of \S+gvisor\.tar\.zstd to \/tmp\/pulumi-gvisor\.[\w.]+\/download: no space left on device, \d+ KiB free; free space on that filesystem/,
    );
    expect(line).not.toMatch(/network/);
  });
});
