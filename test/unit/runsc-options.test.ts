import { describe, expect, it } from "vitest";
import { MAX_RUNSC_FLAGS_BYTES, flagWords, runscFlags } from "../../src/plan/runsc-options";
import { buildHostPlan } from "../../src/plan/host-plan";

describe("runsc options", () => {
  it("renders nothing when nothing is set, so runsc keeps its own defaults", () => {
    expect(runscFlags(undefined)).toEqual([]);
    expect(runscFlags({})).toEqual([]);
  });

  it("renders typed options in a fixed order, then extra flags sorted by name", () => {
    const flags = runscFlags({
      extraFlags: { "watchdog-action": "panic", "net-raw": "false" },
      nvproxy: true,
      debugLog: "/var/log/runsc/%ID%/",
      platform: "kvm",
      network: "none",
      fileAccess: "shared",
      overlay2: "root:memory",
      hostUds: "open",
      directfs: false,
      debug: true,
      strace: false,
    });
    expect(flagWords(flags)).toEqual([
      "--platform=kvm",
      "--network=none",
      "--file-access=shared",
      "--overlay2=root:memory",
      "--host-uds=open",
      "--directfs=false",
      "--debug=true",
      "--debug-log=/var/log/runsc/%ID%/",
      "--strace=false",
      "--nvproxy=true",
      "--net-raw=false",
      "--watchdog-action=panic",
    ]);
  });

  it("accepts numbers and booleans as extra flag values", () => {
    expect(flagWords(runscFlags({ extraFlags: { "num-network-channels": 4 as unknown as string, cgroupfs: true as unknown as string } }))).toEqual([
      "--cgroupfs=true",
      "--num-network-channels=4",
    ]);
  });

  it.each([
    [{ vfs2: true }, "runsc.vfs2", /deprecated no-op/],
    [{ overlay: "true" }, "runsc.overlay", /use runsc.overlay2/],
    [{ fsgoferHostUds: true }, "runsc.fsgoferHostUds", /hostUds = "all"/],
    [{ extraFlags: { vfs2: "true" } }, 'runsc.extraFlags["vfs2"]', /deprecated no-op/],
    [{ extraFlags: { "fsgofer-host-uds": "true" } }, 'runsc.extraFlags["fsgofer-host-uds"]', /host-uds=all/],
    [{ extraFlags: { overlay: "false" } }, 'runsc.extraFlags["overlay"]', /overlay2/],
    [{ platform: "systrapp" }, "runsc.platform", /one of "systrap", "ptrace", "kvm"/],
    [{ network: "bridge" }, "runsc.network", /one of "sandbox", "host", "none"/],
    [{ fileAccess: "rw" }, "runsc.fileAccess", /"exclusive", "shared"/],
    [{ hostUds: true }, "runsc.hostUds", /"none", "open", "create", "all"/],
    [{ overlay2: "root" }, "runsc.overlay2", /<root\|all>:<memory\|self/],
    [{ overlay2: "root:memory;reboot" }, "runsc.overlay2", /<root\|all>/],
    [{ directfs: "false" }, "runsc.directfs", /true or false/],
    [{ debugLog: "relative/path" }, "runsc.debugLog", /absolute path/],
    [{ debugLog: "/var/log/my runsc/" }, "runsc.debugLog", /whitespace/],
    [{ extraFlags: { "--debug": "true" } }, 'runsc.extraFlags["--debug"]', /without leading dashes/],
    [{ extraFlags: { "Bad Flag": "1" } }, 'runsc.extraFlags["Bad Flag"]', /not a valid runsc flag name/],
    [{ extraFlags: { "TESTONLY-unsafe-nonroot": "true" } }, 'runsc.extraFlags["TESTONLY-unsafe-nonroot"]', /not a valid runsc flag name/],
    [{ extraFlags: { "a;b": "1" } }, 'runsc.extraFlags["a;b"]', /not a valid runsc flag name/],
    [{ extraFlags: { platform: "kvm" } }, 'runsc.extraFlags["platform"]', /typed option runsc.platform/],
    [{ extraFlags: { root: "/tmp" } }, 'runsc.extraFlags["root"]', /state directory/],
    [{ extraFlags: { strace: "" } }, 'runsc.extraFlags["strace"]', /typed option/],
    [{ extraFlags: { "watchdog-action": "" } }, 'runsc.extraFlags["watchdog-action"]', /must not be empty/],
    [{ extraFlags: { "watchdog-action": "panic now" } }, 'runsc.extraFlags["watchdog-action"]', /whitespace/],
    [{ extraFlags: { "watchdog-action": "a\nb" } }, 'runsc.extraFlags["watchdog-action"]', /control characters/],
    [{ extraFlags: ["debug"] }, "runsc.extraFlags", /map of flag name/],
    [{ plattform: "kvm" }, "runsc.plattform", /not a runsc option/],
  ])("refuses %j at %s", (options, path, message) => {
    const run = () => runscFlags(options as never);
    expect(run).toThrowError(new RegExp(`^${path.replace(/[[\]."]/g, "\\$&")}: `));
    expect(run).toThrowError(message);
  });

  it("keeps shell metacharacters in values as data (they are quoted when rendered)", () => {
    expect(flagWords(runscFlags({ extraFlags: { "debug-command": "!boot,$(id);`x`" } }))).toEqual(["--debug-command=!boot,$(id);`x`"]);
  });

  it('caps the total size of the flags at preview (14 x 4 KiB fails on the host with "Argument list too long")', () => {
    const big = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`flag-${i}`, "x".repeat(4096)]));
    const run = () => buildHostPlan({ runsc: { extraFlags: big } }, "args");
    expect(run).toThrowError(
      /^args\.runsc: the runsc flags add up to \d+ bytes, more than the 8192 that fit: .*Argument list too long.*the longest is --flag-0, 4096 bytes/,
    );
  });

  it("accepts flags up to the cap, and refuses one byte more", () => {
    // Each "--flag-x=" is 9 bytes plus the space after it: fill three flags to exactly the cap.
    const flags = (last: number) => ({ extraFlags: { "flag-a": "v".repeat(3000), "flag-b": "v".repeat(3000), "flag-c": "v".repeat(last) } });
    const fits = MAX_RUNSC_FLAGS_BYTES - 3 * 10 - 6000;
    expect(flagWords(runscFlags(flags(fits))).join(" ")).toHaveLength(MAX_RUNSC_FLAGS_BYTES - 1);
    expect(() => runscFlags(flags(fits + 1), "args.runsc")).toThrowError(/^args\.runsc: the runsc flags add up to 8193 bytes/);
  });
});
