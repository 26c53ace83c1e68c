import { describe, expect, it } from "vitest";
import { parseVerification } from "../../src/plan/verification";

const good = {
  schemaVersion: 2,
  runscVersion: "0.0~20221219.0",
  arch: "x86_64",
  hostKernel: "6.1.0-28-amd64",
  runtimes: [
    {
      engine: "docker",
      name: "runsc",
      ran: true,
      sandboxKernel: "4.4.0",
      kallsymsHidden: true,
      runtimePath: "/usr/local/bin/runsc",
      sandboxProcess: true,
      error: null,
    },
  ],
  containerd: null,
  isolated: true,
  failures: [],
};

describe("parseVerification", () => {
  it("parses the verify step's report, ignoring fields it does not know", () => {
    const v = parseVerification(`${JSON.stringify({ ...good, futureField: { x: 1 } })}\n`);
    expect(v).toEqual({
      runscVersion: "0.0~20221219.0",
      arch: "x86_64",
      hostKernel: "6.1.0-28-amd64",
      runtimes: [
        { engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: true },
      ],
      isolated: true,
      failures: [],
    });
  });

  it("keeps failure reasons and the containerd report", () => {
    const v = parseVerification(
      JSON.stringify({
        ...good,
        runtimes: [{ ...good.runtimes[0], ran: false, sandboxKernel: "", error: "flag provided but not defined: -bogus" }],
        containerd: { enabled: true, configVersion: 2, runtimeConfigured: true },
        isolated: false,
        failures: ["docker/runsc: container did not start: flag provided but not defined: -bogus"],
      }),
    );
    expect(v.isolated).toBe(false);
    expect(v.runtimes[0].error).toBe("flag provided but not defined: -bogus");
    expect(v.containerd).toEqual({ configVersion: 2, runtimeConfigured: true });
    expect(v.failures).toHaveLength(1);
  });

  it.each([
    ["not json at all", /expected one JSON object, got "not json at all"/],
    ["[]", /the document must be a JSON object/],
    [JSON.stringify({ ...good, isolated: "yes" }), /isolated must be a boolean, got "yes"/],
    [JSON.stringify({ ...good, runscVersion: undefined }), /runscVersion must be a string, got nothing/],
    [JSON.stringify({ ...good, runtimes: {} }), /runtimes must be an array/],
    [JSON.stringify({ ...good, failures: [1] }), /failures must be an array of strings/],
    [JSON.stringify({ ...good, runtimes: [{ engine: "docker" }] }), /runtimes\[0\]\.name must be a string/],
    [JSON.stringify({ ...good, containerd: { configVersion: "2" } }), /containerd\.configVersion must be a number/],
    [JSON.stringify({ ...good, schemaVersion: 1 }), /schemaVersion must be 2 \(the verify step of this package version\), got 1/],
    [JSON.stringify({ ...good, schemaVersion: undefined }), /schemaVersion must be 2 .*got nothing/],
    [JSON.stringify({ ...good, runtimes: [{ ...good.runtimes[0], runtimePath: undefined }] }), /runtimes\[0\]\.runtimePath must be a string, got nothing/],
    [JSON.stringify({ ...good, runtimes: [{ ...good.runtimes[0], sandboxProcess: "yes" }] }), /runtimes\[0\]\.sandboxProcess must be a boolean, got "yes"/],
  ])("refuses %s", (stdout, message) => {
    expect(() => parseVerification(stdout)).toThrowError(message);
  });
});
