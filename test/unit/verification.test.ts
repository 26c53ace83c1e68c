import { describe, expect, it } from "vitest";
import { READABLE_SCHEMA_VERSIONS, VERIFICATION_SCHEMA_VERSION, parseVerification } from "../../src/plan/verification";

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

/** A schema 3 document, as the step prints it with the sandbox cost measured (Docker measured, containerd not). */
const measured = {
  ...good,
  schemaVersion: 3,
  overhead: [
    {
      engine: "docker",
      runtime: "runsc",
      baseline: "runc",
      platform: "systrap",
      rounds: 3,
      sandboxed: { startMs: 291.9, syscallMs: 94.3, fileMs: 477.4 },
      native: { startMs: 180.8, syscallMs: 8.3, fileMs: 63.2 },
      ratios: { start: 1.61, syscall: 11.36, file: 7.55 },
      error: null,
    },
    {
      engine: "containerd",
      runtime: "runsc",
      baseline: "runc",
      platform: "",
      rounds: 3,
      sandboxed: null,
      native: null,
      ratios: null,
      error: "not measured: verify checks containerd at config level and runs no container through it",
    },
  ],
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

  it("reads the sandbox cost of a schema 3 document: medians, ratios, platform, and why an engine was not measured", () => {
    const v = parseVerification(JSON.stringify(measured));
    expect(v.overhead).toEqual([
      {
        engine: "docker",
        runtime: "runsc",
        baseline: "runc",
        platform: "systrap",
        rounds: 3,
        sandboxed: { startMs: 291.9, syscallMs: 94.3, fileMs: 477.4 },
        native: { startMs: 180.8, syscallMs: 8.3, fileMs: 63.2 },
        ratios: { start: 1.61, syscall: 11.36, file: 7.55 },
      },
      {
        engine: "containerd",
        runtime: "runsc",
        baseline: "runc",
        platform: "",
        rounds: 3,
        error: "not measured: verify checks containerd at config level and runs no container through it",
      },
    ]);
    expect(v.isolated).toBe(true);
  });

  it("keeps reading schema 2 reports (no sandbox cost), and schema 3 ones that did not measure it", () => {
    expect(parseVerification(JSON.stringify(good)).overhead).toBeUndefined();
    expect(parseVerification(JSON.stringify({ ...good, schemaVersion: 3 })).overhead).toBeUndefined();
    expect(parseVerification(JSON.stringify({ ...good, schemaVersion: 3, overhead: null })).overhead).toBeUndefined();
    // Schema 2 has no such field: whatever is there is not read.
    expect(parseVerification(JSON.stringify({ ...good, overhead: "junk" })).overhead).toBeUndefined();
    expect(READABLE_SCHEMA_VERSIONS).toEqual([2, VERIFICATION_SCHEMA_VERSION]);
    expect(VERIFICATION_SCHEMA_VERSION).toBe(3);
  });

  const entry = measured.overhead[0];
  it.each([
    [{ ...measured, overhead: {} }, /overhead must be an array, got \{\}/],
    [{ ...measured, overhead: [1] }, /overhead\[0\] must be a JSON object/],
    [{ ...measured, overhead: [{ ...entry, platform: null }] }, /overhead\[0\]\.platform must be a string, got null/],
    [{ ...measured, overhead: [{ ...entry, rounds: "3" }] }, /overhead\[0\]\.rounds must be a number, got "3"/],
    [
      { ...measured, overhead: [{ ...entry, sandboxed: { ...entry.sandboxed, fileMs: undefined } }] },
      /overhead\[0\]\.sandboxed\.fileMs must be a number, got nothing/,
    ],
    [{ ...measured, overhead: [{ ...entry, native: [] }] }, /overhead\[0\]\.native must be a JSON object/],
    [{ ...measured, overhead: [{ ...entry, ratios: { ...entry.ratios, syscall: "11x" } }] }, /overhead\[0\]\.ratios\.syscall must be a number, got "11x"/],
    [{ ...measured, overhead: [{ ...entry, error: 7 }] }, /overhead\[0\]\.error must be a string, got 7/],
  ])("refuses a bad sandbox cost entry: %j", (doc, message) => {
    expect(() => parseVerification(JSON.stringify(doc))).toThrowError(message);
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
    [JSON.stringify({ ...good, schemaVersion: 1 }), /schemaVersion must be 2 or 3 \(the verify step of this package version\), got 1/],
    [JSON.stringify({ ...good, schemaVersion: 4 }), /schemaVersion must be 2 or 3 .*got 4/],
    [JSON.stringify({ ...good, schemaVersion: "3" }), /schemaVersion must be 2 or 3 .*got "3"/],
    [JSON.stringify({ ...good, schemaVersion: undefined }), /schemaVersion must be 2 or 3 .*got nothing/],
    [JSON.stringify({ ...good, runtimes: [{ ...good.runtimes[0], runtimePath: undefined }] }), /runtimes\[0\]\.runtimePath must be a string, got nothing/],
    [JSON.stringify({ ...good, runtimes: [{ ...good.runtimes[0], sandboxProcess: "yes" }] }), /runtimes\[0\]\.sandboxProcess must be a boolean, got "yes"/],
  ])("refuses %s", (stdout, message) => {
    expect(() => parseVerification(stdout)).toThrowError(message);
  });
});
