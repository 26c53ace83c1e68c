/**
 * The host-side python helper (src/scripts/steps/helper.py) on plain files, no
 * root: each row is an input file and settings, and the expected output file,
 * exit status and message. Merge, unmerge and the reload transition of Docker's
 * daemon.json; containerd's marked block for config versions 2, 3 and 4, and
 * what a `containerd config dump` says (the runtime, the default runtime that
 * must survive the block, the address) and the default runtime's tables the
 * block repeats; the one undo decision for a managed file; refusals.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stepSource } from "../../src/scripts/render";

const work = mkdtempSync(join(tmpdir(), "gv-helper-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** GVP_OUT's content, or undefined when the helper wrote none. */
  out?: string;
}

/** Runs one helper subcommand with GVP_* settings; `files` become paths in a fresh dir, named by the setting. */
function helper(command: string, settings: Record<string, string>, files: Record<string, string | undefined> = {}): Run {
  const dir = join(work, String(++n));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", GVP_OUT: join(dir, "out") };
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    if (content !== undefined) writeFileSync(path, content);
    env[name] = path;
  }
  Object.assign(env, settings);
  const r = spawnSync("python3", ["-I", "-c", stepSource("helper"), command], { env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, out: existsSync(env.GVP_OUT) ? readFileSync(env.GVP_OUT, "utf8") : undefined };
}

const ENTRY = { path: "/usr/local/bin/runsc", runtimeArgs: ["--network=none"] };
const FOREIGN = { path: "/opt/other/runsc" };
const json = (o: unknown, indent = 2) => `${JSON.stringify(o, null, indent)}\n`;

describe("docker-merge", () => {
  const base = { GVP_RUNTIME: "runsc", GVP_ENTRY: JSON.stringify(ENTRY), GVP_DEFAULT: "false" };
  it.each<[string, string | undefined, Record<string, string>, string | undefined, number, string, object | undefined]>([
    ["into no file", undefined, {}, undefined, 0, "set_default=0", { runtimes: { runsc: ENTRY } }],
    ["into an empty file", "", {}, undefined, 0, "set_default=0", { runtimes: { runsc: ENTRY } }],
    [
      "into no file, as default runtime",
      undefined,
      { GVP_DEFAULT: "true" },
      undefined,
      0,
      "set_default=1",
      { runtimes: { runsc: ENTRY }, "default-runtime": "runsc" },
    ],
    [
      "keeping other keys and runtimes",
      json({ debug: true, runtimes: { kata: FOREIGN } }),
      {},
      undefined,
      0,
      "set_default=0",
      { debug: true, runtimes: { kata: FOREIGN, runsc: ENTRY } },
    ],
    ["already as planned", json({ runtimes: { runsc: ENTRY } }), {}, undefined, 3, "set_default=0", undefined],
    // Finding 1: a sandbox-by-default the package did not set survives a default plan.
    [
      "keeping a default-runtime runsc it did not set",
      json({ "default-runtime": "runsc", runtimes: { runsc: FOREIGN } }),
      {},
      undefined,
      0,
      "set_default=0",
      { "default-runtime": "runsc", runtimes: { runsc: ENTRY } },
    ],
    [
      "replacing a foreign runtime of that name (clobber)",
      json({ runtimes: { runsc: FOREIGN } }),
      { GVP_CLOBBER: "true" },
      undefined,
      0,
      "set_default=0",
      { runtimes: { runsc: ENTRY } },
    ],
    [
      "replacing its own older entry even without clobber",
      json({ runtimes: { runsc: FOREIGN } }),
      { GVP_CLOBBER: "false", GVP_OURS: "1" },
      undefined,
      0,
      "set_default=0",
      { runtimes: { runsc: ENTRY } },
    ],
    [
      "giving back a default it set: the original's value",
      json({ "default-runtime": "runsc", runtimes: { runsc: ENTRY } }),
      { GVP_SET_DEFAULT: "1" },
      json({ "default-runtime": "runc" }),
      0,
      "set_default=0",
      { "default-runtime": "runc", runtimes: { runsc: ENTRY } },
    ],
    [
      "giving back a default it set: none in the original",
      json({ "default-runtime": "runsc", runtimes: { runsc: ENTRY } }),
      { GVP_SET_DEFAULT: "1" },
      json({}),
      0,
      "set_default=0",
      { runtimes: { runsc: ENTRY } },
    ],
    [
      "keeping a default the admin changed since",
      json({ "default-runtime": "kata", runtimes: { runsc: ENTRY } }),
      { GVP_SET_DEFAULT: "1" },
      json({}),
      3,
      "set_default=0",
      undefined,
    ],
    [
      "replacing runc as the default",
      json({ "default-runtime": "runc" }),
      { GVP_DEFAULT: "true" },
      undefined,
      0,
      "set_default=1",
      { "default-runtime": "runsc", runtimes: { runsc: ENTRY } },
    ],
  ])("%s", (_name, config, settings, orig, status, stdout, expected) => {
    const r = helper(
      "docker-merge",
      { ...base, ...settings, ...(orig === undefined ? { GVP_ORIG: "" } : {}) },
      { GVP_CONFIG: config, ...(orig !== undefined ? { GVP_ORIG: orig } : {}) },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(status);
    expect(r.stdout.trim()).toBe(stdout);
    expect(r.out === undefined ? undefined : JSON.parse(r.out)).toEqual(expected);
  });

  it("keeps the file's indentation", () => {
    const r = helper("docker-merge", { ...base, GVP_ORIG: "" }, { GVP_CONFIG: json({ debug: true }, 4) });
    expect(r.out).toBe(json({ debug: true, runtimes: { runsc: ENTRY } }, 4));
  });

  it.each<[string, string, Record<string, string>, number, RegExp]>([
    ["bad JSON", "{ nope", {}, 4, /GVP_CONFIG is not valid JSON/],
    ["not an object", "[1]", {}, 4, /does not hold a JSON object/],
    ["runtimes not an object", json({ runtimes: [] }), {}, 4, /"runtimes" value that is not an object/],
    ["a bad entry", "{}", { GVP_ENTRY: '{"runtimeArgs": []}' }, 5, /"path" string/],
    [
      "a foreign runtime of that name without clobber",
      json({ runtimes: { runsc: FOREIGN } }),
      { GVP_CLOBBER: "false" },
      5,
      /already has a Docker runtime named runsc that pulumi-gvisor did not write/,
    ],
    [
      "replacing a default runtime it did not set",
      json({ "default-runtime": "kata" }),
      { GVP_DEFAULT: "true" },
      5,
      /makes kata the default runtime, which pulumi-gvisor did not set and does not replace/,
    ],
  ])("refuses %s with one line and writes nothing", (_name, config, settings, status, message) => {
    const r = helper("docker-merge", { ...base, GVP_ORIG: "", ...settings }, { GVP_CONFIG: config });
    expect(r.status).toBe(status);
    expect(r.stderr.replace(/\/\S+\/GVP_CONFIG/, "GVP_CONFIG")).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.out).toBeUndefined();
  });
});

describe("docker-unmerge", () => {
  it.each<[string, string, Record<string, string>, string | undefined, number, object | undefined]>([
    ["only our runtime, no original file: delete the file", json({ runtimes: { runsc: ENTRY } }), {}, undefined, 6, undefined],
    ["our runtime beside the admin's keys", json({ debug: true, runtimes: { runsc: ENTRY } }), {}, undefined, 0, { debug: true }],
    [
      "the original's entry of that name comes back",
      json({ runtimes: { runsc: ENTRY } }),
      {},
      json({ runtimes: { runsc: FOREIGN } }),
      0,
      { runtimes: { runsc: FOREIGN } },
    ],
    [
      "a default it set goes back to the original's",
      json({ "default-runtime": "runsc", runtimes: { runsc: ENTRY } }),
      { GVP_SET_DEFAULT: "1" },
      json({ "default-runtime": "runc" }),
      0,
      { "default-runtime": "runc" },
    ],
    [
      "a default it did not set, with the original's runtime back",
      json({ "default-runtime": "runsc", runtimes: { runsc: ENTRY } }),
      {},
      json({ "default-runtime": "runsc", runtimes: { runsc: FOREIGN } }),
      0,
      { "default-runtime": "runsc", runtimes: { runsc: FOREIGN } },
    ],
    ["nothing of ours left", json({ debug: true }), {}, json({}), 3, undefined],
  ])("%s", (_name, config, settings, orig, status, expected) => {
    const r = helper(
      "docker-unmerge",
      { GVP_RUNTIME: "runsc", ...settings, ...(orig === undefined ? { GVP_ORIG: "" } : {}) },
      { GVP_CONFIG: config, ...(orig !== undefined ? { GVP_ORIG: orig } : {}) },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(status);
    expect(r.out === undefined ? undefined : JSON.parse(r.out)).toEqual(expected);
  });

  it("refuses to leave dockerd with a default runtime it would remove", () => {
    const r = helper(
      "docker-unmerge",
      { GVP_RUNTIME: "runsc", GVP_ORIG: "" },
      { GVP_CONFIG: json({ "default-runtime": "runsc", runtimes: { runsc: ENTRY } }) },
    );
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/makes runsc the default runtime, which pulumi-gvisor did not set; removing that runtime would leave dockerd without its default/);
    expect(r.out).toBeUndefined();
  });

  it("refuses a damaged daemon.json", () => {
    const r = helper("docker-unmerge", { GVP_RUNTIME: "runsc", GVP_ORIG: "" }, { GVP_CONFIG: '{"runtimes": ' });
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/is not valid JSON/);
  });
});

describe("docker-default-guess (records of the first layout)", () => {
  it.each<[string, object, object | undefined, string]>([
    ["set by the first layout", { "default-runtime": "runsc" }, {}, "1"],
    ["already in the original", { "default-runtime": "runsc" }, { "default-runtime": "runsc" }, "0"],
    ["another default", { "default-runtime": "kata" }, undefined, "0"],
  ])("%s", (_name, current, orig, expected) => {
    const r = helper(
      "docker-default-guess",
      { GVP_RUNTIME: "runsc", ...(orig === undefined ? { GVP_ORIG: join(work, "none") } : {}) },
      { GVP_CONFIG: json(current), ...(orig !== undefined ? { GVP_ORIG: json(orig) } : {}) },
    );
    expect(r.stdout.trim()).toBe(expected);
  });
});

describe("docker-transition (dockerd keeps keys that disappear on reload)", () => {
  it.each<[string, object, object, number, object | undefined]>([
    [
      "default-runtime disappears: stated as runc first",
      { "default-runtime": "runsc", runtimes: { runsc: ENTRY } },
      { runtimes: { runsc: ENTRY } },
      0,
      { "default-runtime": "runc", runtimes: { runsc: ENTRY } },
    ],
    ["runtimes disappears: stated empty first", { debug: true, runtimes: { runsc: ENTRY } }, { debug: true }, 0, { debug: true, runtimes: {} }],
    ["nothing disappears", { runtimes: { runsc: ENTRY } }, { runtimes: { runsc: ENTRY, kata: FOREIGN } }, 3, undefined],
  ])("%s", (_name, current, final, status, expected) => {
    const r = helper("docker-transition", {}, { GVP_CURRENT: json(current), GVP_FINAL: json(final) });
    expect(r.status).toBe(status);
    expect(r.out === undefined ? undefined : JSON.parse(r.out)).toEqual(expected);
  });

  it("to no file at all: both keys stated", () => {
    const r = helper("docker-transition", { GVP_FINAL: "" }, { GVP_CURRENT: json({ "default-runtime": "runsc", runtimes: { runsc: ENTRY } }) });
    expect(JSON.parse(r.out!)).toEqual({ "default-runtime": "runc", runtimes: {} });
  });
});

describe("containerd-block", () => {
  const V2 = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n  runtime_type = "io.containerd.runsc.v1"';
  const V3 = "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runsc]\n  runtime_type = \"io.containerd.runsc.v1\"";
  const block = (body: string, version?: string) =>
    [
      "# BEGIN pulumi-gvisor runtime runsc",
      "# Managed by pulumi-gvisor: edits inside this block are replaced on the next run.",
      ...(version ? [`version = ${version}`] : []),
      body,
      "# END pulumi-gvisor runtime runsc",
      "",
    ].join("\n");
  const put = (config: string | undefined, body: string, extra: Record<string, string> = {}) =>
    helper("containerd-block", { GVP_MODE: "put", GVP_RUNTIME: "runsc", GVP_BLOCK: body, ...extra }, { GVP_CONFIG: config });

  it.each<[string, string | undefined, string, Record<string, string>, string]>([
    ["v2 into a version 2 file", "version = 2\n", V2, {}, `version = 2\n\n${block(V2)}`],
    ["v3 into a version 3 file", "version = 3\n", V3, {}, `version = 3\n\n${block(V3)}`],
    ["v3 tables into a version 4 file", "version = 4\n[plugins]\n", V3, {}, `version = 4\n[plugins]\n\n${block(V3)}`],
    ["into a file of comments only, stating the version", "# nothing yet\n", V3, { GVP_VERSION_LINE: "3" }, `# nothing yet\n\n${block(V3, "3")}`],
    ["into no file", undefined, V2, {}, block(V2)],
  ])("puts %s", (_name, config, body, extra, expected) => {
    const r = put(config, body, extra);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.out).toBe(expected);
  });

  it("replaces its block in place and leaves the rest alone", () => {
    const before = `version = 2\n\n${block(V2)}[metrics]\n  address = ""\n`;
    const r = put(before, V2.replace("runsc.v1", "runsc.v1\n  pod_annotations = []"));
    expect(r.out).toBe(`version = 2\n\n${block(V2.replace("runsc.v1", "runsc.v1\n  pod_annotations = []"))}[metrics]\n  address = ""\n`);
  });

  it("reports no change when the block is already as planned", () => {
    expect(put(`version = 2\n\n${block(V2)}`, V2).status).toBe(3);
  });

  it("removes its block, giving back the bytes from before", () => {
    const r = helper("containerd-block", { GVP_MODE: "remove", GVP_RUNTIME: "runsc" }, { GVP_CONFIG: `version = 2\n\n${block(V2)}` });
    expect(r.status).toBe(0);
    expect(r.out).toBe("version = 2\n");
    expect(helper("containerd-block", { GVP_MODE: "remove", GVP_RUNTIME: "runsc" }, { GVP_CONFIG: "version = 2\n" }).status).toBe(3);
  });

  it.each([
    ["a BEGIN without END", "version = 2\n# BEGIN pulumi-gvisor runtime runsc\n"],
    ["an END before BEGIN", "# END pulumi-gvisor runtime runsc\n# BEGIN pulumi-gvisor runtime runsc\n"],
    ["two blocks", `${block(V2)}${block(V2)}`],
  ])("refuses damaged markers (%s) with one line", (_name, config) => {
    for (const mode of ["put", "remove"]) {
      const r = helper("containerd-block", { GVP_MODE: mode, GVP_RUNTIME: "runsc", GVP_BLOCK: V2 }, { GVP_CONFIG: config });
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(/^the pulumi-gvisor block for runtime runsc is damaged/);
      expect(r.stderr).not.toMatch(/Traceback/);
      expect(r.out).toBeUndefined();
    }
  });

  it.each<[string, string, string]>([
    ["version = 2\n", "version=2", "cri_disabled="],
    ["version = 3\n", "version=3", "cri_disabled="],
    ["version = 4\n", "version=4", "cri_disabled="],
    ["# only comments\n", "version=none", "cri_disabled="],
    ['disabled_plugins = ["cri"]\n', "version=none", "cri_disabled=cri"],
  ])("reads the config version and a disabled CRI plugin: %j", (config, version, cri) => {
    const r = helper("containerd-inspect", {}, { GVP_CONFIG: config });
    expect(r.stdout.split("\n")).toEqual(expect.arrayContaining([version, cri]));
  });
});

/**
 * `containerd config dump` excerpts, laid out as containerd prints them: 1.x
 * (config version 2, double-quoted plugin keys) and 2.x (version 3, single-quoted).
 */
const V2_CRI = 'plugins."io.containerd.grpc.v1.cri"';
const V3_CRI = "plugins.'io.containerd.cri.v1.runtime'";
const dumpRuntime = (cri: string, name: string, type: string, options: string[] = []) => [
  `        [${cri}.containerd.runtimes.${name}]`,
  '          base_runtime_spec = ""',
  "          pod_annotations = []",
  `          runtime_type = "${type}"`,
  "",
  `          [${cri}.containerd.runtimes.${name}.options]`,
  ...options.map((o) => `            ${o}`),
  "",
];
const dump = (cri: string, runtimes: string[][], extra: { grpc?: string; defaultName?: string } = {}) =>
  [
    cri.startsWith("plugins.'") ? "version = 3" : "version = 2",
    "",
    ...(extra.grpc === undefined ? [] : ["[grpc]", `  address = "${extra.grpc}"`, "  gid = 0", ""]),
    "[plugins]",
    "",
    `  [${cri}]`,
    "    enable_cdi = true",
    "",
    `    [${cri}.containerd]`,
    `      default_runtime_name = "${extra.defaultName ?? "runc"}"`,
    '      snapshotter = "overlayfs"',
    "",
    `      [${cri}.containerd.runtimes]`,
    "",
    ...runtimes.flat(),
    `    [${cri}.cni]`,
    '      bin_dir = "/usr/lib/cni"',
    "",
  ].join("\n");
const RUNC_OPTIONS = ['BinaryName = ""', "SystemdCgroup = false"];
const RUNSC_OPTIONS = ['ConfigPath = "/etc/containerd/runsc.toml"', 'TypeUrl = "io.containerd.runsc.v1.options"'];

describe("containerd-dump-check: the runtime, the default runtime and the address in a config dump", () => {
  const runc = (cri: string) => dumpRuntime(cri, "runc", "io.containerd.runc.v2", RUNC_OPTIONS);
  const runsc = (cri: string) => dumpRuntime(cri, "runsc", "io.containerd.runsc.v1", RUNSC_OPTIONS);
  it.each<[string, string, Record<string, string>]>([
    [
      "1.x: both runtimes",
      dump(V2_CRI, [runc(V2_CRI), runsc(V2_CRI)]),
      { found: "1", runtime_type: "io.containerd.runsc.v1", config_path: "/etc/containerd/runsc.toml", default_runtime: "runc", default_found: "1" },
    ],
    // What containerd 1.6/1.7 dump for Debian's packaged config.toml plus a runsc table: runc is gone.
    ["1.x: the runtimes table replaced the built-in runc", dump(V2_CRI, [runsc(V2_CRI)]), { found: "1", default_runtime: "runc", default_found: "0" }],
    ["2.x: both runtimes", dump(V3_CRI, [runc(V3_CRI), runsc(V3_CRI)]), { found: "1", runtime_type: "io.containerd.runsc.v1", default_found: "1" }],
    ["no runsc yet", dump(V2_CRI, [runc(V2_CRI)]), { found: "0", runtime_type: "", config_path: "", default_found: "1" }],
    [
      "another default runtime, defined",
      dump(V3_CRI, [dumpRuntime(V3_CRI, "crun", "io.containerd.runc.v2")], { defaultName: "crun" }),
      { found: "0", default_runtime: "crun", default_found: "1" },
    ],
    ["another default runtime, not defined", dump(V2_CRI, [runc(V2_CRI)], { defaultName: "crun" }), { default_runtime: "crun", default_found: "0" }],
    // containerd 1.x for a file whose only runc table is an admin's [...runc.options]: runc has no type.
    ["1.x: the default runtime with an empty runtime_type", dump(V2_CRI, [dumpRuntime(V2_CRI, "runc", "", RUNC_OPTIONS)]), { default_found: "0" }],
    ["the default socket when the dump has no [grpc]", dump(V2_CRI, [runc(V2_CRI)]), { address: "/run/containerd/containerd.sock" }],
    ["the [grpc] address", dump(V3_CRI, [runc(V3_CRI)], { grpc: "/run/k8s/containerd.sock" }), { address: "/run/k8s/containerd.sock" }],
  ])("%s", (_name, text, expected) => {
    const r = helper("containerd-dump-check", { GVP_RUNTIME: "runsc" }, { GVP_DUMP: text });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const got = Object.fromEntries(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(got).toMatchObject(expected);
  });
});

describe("containerd-runtime-tables: the default runtime's table, runtime_type only", () => {
  const tables = (text: string, runtime = "runc", plugin = "io.containerd.grpc.v1.cri") =>
    helper("containerd-runtime-tables", { GVP_RUNTIME: runtime, GVP_PLUGIN: plugin }, { GVP_DUMP: text });
  const both = dump(V2_CRI, [dumpRuntime(V2_CRI, "runc", "io.containerd.runc.v2", RUNC_OPTIONS), dumpRuntime(V2_CRI, "kata", "io.containerd.kata.v2")]);
  const RUNC_ONLY = `[${V2_CRI}.containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n`;
  /** What containerd 1.6 dumps for runc: keys 1.7 and 2.x no longer have. */
  const runc16 = [
    `        [${V2_CRI}.containerd.runtimes.runc]`,
    '          runtime_engine = ""',
    '          runtime_root = ""',
    '          runtime_type = "io.containerd.runc.v2"',
    "",
    `          [${V2_CRI}.containerd.runtimes.runc.options]`,
    "            SystemdCgroup = false",
    "",
  ];

  it.each<[string, string, string, string, number, string]>([
    // The .options sub-table stays out: an admin's own [...runc.options] (SystemdCgroup = true) would define it twice.
    ["runc's table with its runtime_type only, never its options", both, "runc", "io.containerd.grpc.v1.cri", 0, RUNC_ONLY],
    ["containerd 1.6's runtime_engine and runtime_root stay out", dump(V2_CRI, [runc16]), "runc", "io.containerd.grpc.v1.cri", 0, RUNC_ONLY],
    ["a runtime the dump does not have", both, "crun", "io.containerd.grpc.v1.cri", 3, ""],
    // containerd 2 dumps a version 2 file in the version 3 form: that is not a table a version 2 file can take.
    [
      "a dump in another config version's form",
      dump(V3_CRI, [dumpRuntime(V3_CRI, "runc", "io.containerd.runc.v2")]),
      "runc",
      "io.containerd.grpc.v1.cri",
      3,
      "",
    ],
    ["a runtime whose name only starts the same", both, "run", "io.containerd.grpc.v1.cri", 3, ""],
    // Only an admin's options table defines it: there is no type to repeat.
    ["a runtime dumped with an empty runtime_type", dump(V2_CRI, [dumpRuntime(V2_CRI, "runc", "", RUNC_OPTIONS)]), "runc", "io.containerd.grpc.v1.cri", 3, ""],
  ])("%s", (_name, text, runtime, plugin, status, expected) => {
    const r = tables(text, runtime, plugin);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(status);
    expect(r.stdout).toBe(expected);
  });

  it("prints TOML that defines no table but the runtime's own", () => {
    const r = tables(both);
    const parsed = spawnSync("python3", ["-c", "import sys, tomllib, json; print(json.dumps(tomllib.loads(sys.stdin.read())))"], {
      input: r.stdout,
      encoding: "utf8",
    });
    expect(parsed.status).toBe(0);
    expect(JSON.parse(parsed.stdout).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes).toEqual({ runc: { runtime_type: "io.containerd.runc.v2" } });
  });
});

const sha512 = (text: string) => createHash("sha512").update(text).digest("hex");

describe("undo-plan: the one decision for a managed file", () => {
  const ours = '{"runtimes": {"runsc": {}}}\n';
  const original = '{"debug": true}\n';
  const edited = '{"debug": false, "runtimes": {"runsc": {}}}\n';
  it.each<[string, string | undefined, string[], string | undefined, string, string]>([
    // [case, current bytes, digests we wrote, original bytes, merged, action]
    ["ours, with an original: put the original back", ours, [sha512(ours)], original, "1", "restore-original"],
    ["ours, no original: remove the file", ours, [sha512(ours)], undefined, "1", "remove-file"],
    ["an older version of ours (killed mid-update) is still ours", ours, [sha512("older"), sha512(ours)], original, "1", "restore-original"],
    ["still the original (killed before the write)", original, [sha512(ours)], original, "1", "none"],
    ["edited since, JSON or block: take only our part out", edited, [sha512(ours)], original, "1", "unmerge"],
    ["edited since, a plain file: keep it", edited, [sha512(ours)], original, "0", "keep"],
    ["gone: nothing to do", undefined, [sha512(ours)], original, "1", "none"],
    ["no intent at all, the file not the original: only our part out", edited, [], original, "1", "unmerge"],
  ])("%s", (_name, current, written, orig, merged, action) => {
    const r = helper(
      "undo-plan",
      { GVP_MERGED: merged, ...(orig === undefined ? { GVP_ORIGINAL: "" } : {}), ...(current === undefined ? { GVP_PATH: join(work, "no-such-file") } : {}) },
      {
        ...(current !== undefined ? { GVP_PATH: current } : {}),
        GVP_WRITTEN: written.map((d) => `${d}\n`).join(""),
        ...(orig !== undefined ? { GVP_ORIGINAL: orig } : {}),
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(action);
  });

  it("judges a symlinked file by its target's bytes", () => {
    const target = join(work, "target.json");
    const link = join(work, "link.json");
    writeFileSync(target, ours);
    symlinkSync(target, link);
    const r = helper("undo-plan", { GVP_PATH: link, GVP_ORIGINAL: "", GVP_MERGED: "1" }, { GVP_WRITTEN: `${sha512(ours)}\n` });
    expect(r.stdout.trim()).toBe("remove-file");
  });
});

describe("failures are one line, never a traceback", () => {
  it("a file it cannot write (full disk, missing directory)", () => {
    const r = helper(
      "docker-merge",
      { GVP_RUNTIME: "runsc", GVP_ENTRY: JSON.stringify(ENTRY), GVP_DEFAULT: "false", GVP_ORIG: "", GVP_OUT: join(work, "missing-dir", "out") },
      { GVP_CONFIG: "{}" },
    );
    expect(r.status).toBe(4);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/No such file or directory.*missing-dir/);
  });

  it("a setting it needs and did not get", () => {
    const r = helper("docker-merge", {});
    expect(r.status).toBe(70);
    expect(r.stderr.trim()).toBe("internal error: GVP_CONFIG is not set");
  });
});

describe("verify-doc: the verification document", () => {
  const base = {
    GVP_RUNSC_VERSION: "0.0~20240729.0",
    GVP_RUNSC_PATH: "/usr/local/bin/runsc",
    GVP_ARCH: "x86_64",
    GVP_HOST_KERNEL: "6.1.0",
    GVP_DOCKER_ENABLED: "false",
    GVP_CTD_ENABLED: "true",
    GVP_CTD_RUNTIME: "runsc",
    GVP_CTD_VERSION: "2",
    GVP_CTD_ERROR: "",
  };
  const figures = [{ engine: "docker", runtime: "runsc", baseline: "runc", platform: "systrap", rounds: 1, error: "not measured" }];

  it.each([
    { name: "without figures: schema 2, no overhead", overhead: "", schema: 2, expected: undefined, warning: "" },
    { name: "with figures: schema 3, the figures as given", overhead: JSON.stringify(figures), schema: 3, expected: figures, warning: "" },
    {
      name: "figures that do not parse: left out with a warning, verify still answers",
      overhead: "[{",
      schema: 2,
      expected: undefined,
      warning: "sandbox cost figures are left out",
    },
  ])("$name", ({ overhead, schema, expected, warning }) => {
    const r = helper("verify-doc", { ...base, GVP_OVERHEAD: overhead });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: schema, isolated: true, failures: [] });
    expect(doc.overhead).toEqual(expected);
    if (warning) expect(r.stderr).toContain(warning);
    else expect(r.stderr).toBe("");
  });
});
