import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { containerdRuntimeBlock, dockerRuntimeEntry, runscToml } from "../../src/plan/engines";
import { runscFlags } from "../../src/plan/runsc-options";

const flags = runscFlags({ platform: "ptrace", network: "none", debug: true, debugLog: "/var/log/runsc/%ID%/", extraFlags: { "debug-command": 'say"hi"\\' } });

describe("engine configuration", () => {
  it("gives Docker the runsc path and the flags as runtimeArgs", () => {
    expect(dockerRuntimeEntry("/usr/local/bin/runsc", flags)).toEqual({
      path: "/usr/local/bin/runsc",
      runtimeArgs: ["--platform=ptrace", "--network=none", "--debug=true", "--debug-log=/var/log/runsc/%ID%/", '--debug-command=say"hi"\\'],
    });
  });

  it("writes runsc.toml with every runsc_config value a TOML string", () => {
    const doc = parse(runscToml("/usr/local/bin/runsc", flags)) as Record<string, unknown>;
    expect(doc.binary_name).toBe("/usr/local/bin/runsc");
    expect(doc.runsc_config).toEqual({
      platform: "ptrace",
      network: "none",
      debug: "true",
      "debug-log": "/var/log/runsc/%ID%/",
      "debug-command": 'say"hi"\\',
    });
    for (const value of Object.values(doc.runsc_config as object)) expect(typeof value).toBe("string");
  });

  it("writes an empty runsc_config table when no option is set", () => {
    expect(parse(runscToml("/opt/gvisor/runsc", []))).toEqual({ binary_name: "/opt/gvisor/runsc", runsc_config: {} });
  });

  it("puts the v2 runtime under the containerd 1.x CRI plugin", () => {
    const doc = parse(containerdRuntimeBlock(2, "gvisor", "/etc/containerd/runsc.toml")) as any;
    expect(doc.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.gvisor).toEqual({
      runtime_type: "io.containerd.runsc.v1",
      options: { TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: "/etc/containerd/runsc.toml" },
    });
    expect(doc.plugins["io.containerd.cri.v1.runtime"]).toBeUndefined();
  });

  it("puts the v3 runtime under the containerd 2.x CRI runtime plugin", () => {
    const doc = parse(containerdRuntimeBlock(3, "runsc", "/etc/containerd/runsc.toml")) as any;
    expect(doc.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes.runsc).toEqual({
      runtime_type: "io.containerd.runsc.v1",
      options: { TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: "/etc/containerd/runsc.toml" },
    });
    expect(doc.plugins["io.containerd.grpc.v1.cri"]).toBeUndefined();
  });
});
