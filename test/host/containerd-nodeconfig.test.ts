import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { AddressInfo } from "node:net";
import { createServer, Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load as loadYaml } from "js-yaml";
import { parse as parseToml } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EksNodeGroupInput, buildEksNodeGroupPlan } from "../../src/plan/eks";
import { SMOKE_TEST_SCRIPT } from "../../src/plan/kubernetes";
import { DEFAULT_GVISOR_VERSION } from "../../src/plan/release";
import { renderEksNodeUserData } from "../../src/scripts/node-user-data";
import { parseMultipart } from "../unit/support/mime";

// Real parts for what the unit suite can only parse: containerd 1.6 reading
// the NodeConfig's containerd config, the Debian runsc running the smoke-test
// script, and the node bootstrap part running as root against a local mirror
// (in a private mount namespace, so this machine's /usr/local/bin,
// /etc/containerd and /var/lib are left alone).

const work = mkdtempSync(join(tmpdir(), "gv-node-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function userDataFor(input: Partial<EksNodeGroupInput>) {
  const plan = buildEksNodeGroupPlan({ kubernetesVersion: "1.32", ...input });
  const doc = parseMultipart(renderEksNodeUserData({ plan: plan.host, kubernetesVersion: plan.kubernetesVersion.text }));
  const nodeConfig = loadYaml(doc.parts[0].body) as any;
  return { plan, containerdConfig: nodeConfig.spec.containerd.config as string, script: doc.parts[1].body };
}

/**
 * `containerd config dump`, parsed, of the part merged into a base config of
 * `version` (what nodeadm does with the node's own config).
 */
function dump(part: string, version = 2): any {
  const dir = mkdtempSync(join(work, "ctd-"));
  writeFileSync(join(dir, "config.toml"), `version = ${version}\n\n${part}`);
  const out = execFileSync("containerd", ["--config", join(dir, "config.toml"), "config", "dump"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return parseToml(out);
}

describe("containerd 1.6 reads the NodeConfig's containerd config", () => {
  it("registers runsc from the v2 form (Kubernetes < 1.33), with the shim type and runsc.toml path", () => {
    const { containerdConfig } = userDataFor({});
    const runtime = dump(containerdConfig).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runsc;
    expect(runtime.runtime_type).toBe("io.containerd.runsc.v1");
    expect(runtime.options).toEqual({ TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: "/etc/containerd/runsc.toml" });
  });

  it("registers a custom handler under its own name, pointing at its own runsc.toml", () => {
    const { containerdConfig } = userDataFor({ gvisor: { containerd: { runtimeName: "gvisor-sb", runscConfigPath: "/etc/containerd/gvisor-sb.toml" } } });
    const runtimes = dump(containerdConfig).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes;
    expect(runtimes["gvisor-sb"].options.ConfigPath).toBe("/etc/containerd/gvisor-sb.toml");
    expect(runtimes.runsc).toBeUndefined();
  });

  it("silently ignores the v3 form, which is why the form follows the Kubernetes version", () => {
    const { containerdConfig } = userDataFor({ kubernetesVersion: "1.33" });
    expect(containerdConfig).toContain("io.containerd.cri.v1.runtime");
    const runtimes = dump(containerdConfig).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes;
    expect(runtimes.runsc).toBeUndefined();
  });
});

describe("smoke-test script", () => {
  it("passes inside a real gVisor sandbox (Debian's runsc)", () => {
    const root = mkdtempSync(join(work, "runsc-root-"));
    const tmp = mkdtempSync(join(work, "runsc-tmp-"));
    // The sandbox's gofer opens TMPDIR as another user: mkdtemp's 0700 is too tight.
    chmodSync(work, 0o755);
    chmodSync(tmp, 0o755);
    const res = spawnSync("runsc", ["--root", root, "--network=none", "do", "sh", "-c", SMOKE_TEST_SCRIPT], {
      encoding: "utf8",
      env: { ...process.env, TMPDIR: tmp },
      timeout: 120_000,
    });
    expect(res.stderr).not.toMatch(/not running under gVisor/);
    expect(res.stdout).toContain("sandbox kernel: 4.4.0");
    expect(res.stdout).toContain("gVisor sandbox: ok");
    expect(res.status).toBe(0);
  });
});

describe("node bootstrap part, run as root against a local release mirror", () => {
  let server: Server;
  let mirror = "";
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    expect(process.getuid?.(), "the host suite runs as root").toBe(0);
    // A release in the archive layout: Debian's runsc and a stand-in shim.
    const release = mkdtempSync(join(work, "release-"));
    copyFileSync(execFileSync("sh", ["-c", "command -v runsc"], { encoding: "utf8" }).trim(), join(release, "runsc"));
    writeFileSync(join(release, "containerd-shim-runsc-v1"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    execFileSync("tar", ["-cjf", join(work, "gvisor.tar.bz2"), "-C", release, "runsc", "containerd-shim-runsc-v1"]);
    const archive = readFileSync(join(work, "gvisor.tar.bz2"));
    const sum = createHash("sha512").update(archive).digest("hex");
    files.set(`/good/release/${DEFAULT_GVISOR_VERSION}/x86_64/gvisor.tar.bz2`, archive);
    files.set(`/good/release/${DEFAULT_GVISOR_VERSION}/x86_64/gvisor.tar.bz2.sha512`, Buffer.from(`${sum}  gvisor.tar.bz2\n`));
    files.set(`/bad/release/${DEFAULT_GVISOR_VERSION}/x86_64/gvisor.tar.bz2`, archive);
    files.set(`/bad/release/${DEFAULT_GVISOR_VERSION}/x86_64/gvisor.tar.bz2.sha512`, Buffer.from(`${"0".repeat(128)}  gvisor.tar.bz2\n`));
    server = createServer((req, res) => {
      const body = files.get(req.url ?? "");
      res.writeHead(body ? 200 : 404);
      res.end(body ?? "not found");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Runs the shell part with private /usr/local/bin, /etc/containerd and /var/lib; reports what it left there. */
  async function boot(script: string) {
    const dir = mkdtempSync(join(work, "boot-"));
    const out = join(dir, "out");
    mkdirSync(out);
    writeFileSync(join(dir, "node.sh"), script);
    const wrapper = [
      "set -u",
      "for d in /usr/local/bin /etc/containerd /var/lib; do mount -t tmpfs tmpfs \"$d\" || exit 90; done",
      `sh ${dir}/node.sh; rc=$?`,
      `ls -A /usr/local/bin >${out}/installed`,
      `[ ! -f /etc/containerd/runsc.toml ] || cp /etc/containerd/runsc.toml ${out}/runsc.toml`,
      `[ ! -x /usr/local/bin/runsc ] || /usr/local/bin/runsc --version >${out}/version 2>&1`,
      "exit $rc",
    ].join("\n");
    // Asynchronously: the mirror is served by this very process.
    const child = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", wrapper], { stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const read = (f: string) => (existsSync(join(out, f)) ? readFileSync(join(out, f), "utf8") : undefined);
    return { status, stderr, stdout, installed: read("installed")?.split("\n").filter(Boolean) ?? [], runscToml: read("runsc.toml"), version: read("version") };
  }

  it("installs the verified release and writes runsc.toml, before anything else would start", async () => {
    const { plan, script } = userDataFor({ gvisor: { mirror: `${mirror}/good`, runsc: { network: "none" } } });
    const r = await boot(script);
    expect(r.stderr).toContain("pulumi-gvisor node: wrote /etc/containerd/runsc.toml");
    expect(r.status).toBe(0);
    expect(r.installed).toEqual(expect.arrayContaining(["runsc", "containerd-shim-runsc-v1"]));
    expect(r.version).toMatch(/^runsc version/);
    expect(r.runscToml).toBe(plan.host.containerd.runscToml);
    expect((parseToml(r.runscToml!) as any).runsc_config).toEqual({ network: "none" });
    // The install step reported in JSON on stdout, as on SSH hosts.
    expect(r.stdout).toMatch(/"step":"install"/);
  });

  it("installs nothing and writes no runsc.toml when the checksum does not match", async () => {
    const { script } = userDataFor({ gvisor: { mirror: `${mirror}/bad` } });
    const r = await boot(script);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/checksum mismatch/);
    expect(r.stderr).toMatch(/pulumi-gvisor node: error: the gVisor install step failed/);
    expect(r.installed).toEqual([]);
    expect(r.runscToml).toBeUndefined();
  });

  it("writes no runsc.toml when the installed runsc refuses an option (it would fail every pod)", async () => {
    const { script } = userDataFor({ gvisor: { mirror: `${mirror}/good`, runsc: { extraFlags: { "no-such-flag": "1" } } } });
    const r = await boot(script);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the installed runsc refuses the runsc options: .*flag provided but not defined: -no-such-flag/);
    expect(r.installed).toContain("runsc");
    expect(r.runscToml).toBeUndefined();
  });
});
