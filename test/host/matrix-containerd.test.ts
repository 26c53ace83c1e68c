/**
 * configure-containerd against the real containerd of each systemd flavor:
 * 1.7 (trixie, config version 2) and 2.1 (sid, version 3), restarted by
 * systemd. Proves the table this package writes is the one the running
 * containerd loads, and that the old (v2) form is rewritten (a version 2
 * file is migrated by containerd 2.1) or refused (a v2-style table in a
 * version 3 file, which containerd 2.1 ignores with only a warning), never
 * silently ignored.
 */
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import type { HostPlan } from "../../src/plan/host-plan";
import type { TestHost } from "./harness";
import { useHostSuite } from "./support/suite";
import { lastLine, mustRun, runStep, testPlan } from "./support/steps";

const suite = useHostSuite();
const { flavor } = suite;
const CRI_V1 = "io.containerd.grpc.v1.cri";
const CRI_V2 = "io.containerd.cri.v1.runtime";

/** Debian's own /etc/containerd/config.toml (trixie and sid ship this, version 2). */
const DEBIAN_PACKAGED_CONFIG = `version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
`;

const containerdPlan = () => testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true } });

/** `plan` with a runtime table that passes `config dump` (valid, runsc in it) but fails the CRI plugin's own validation. */
function criRefusedPlan(plan: HostPlan): HostPlan {
  const refused = (block: string) =>
    block.replace(/runtime_type = "io\.containerd\.runsc\.v1"/, "$&\n  privileged_without_host_devices_all_devices_allowed = true");
  return { ...plan, containerd: { ...plan.containerd, blockV2: refused(plan.containerd.blockV2), blockV3: refused(plan.containerd.blockV3) } };
}

async function mainPid(host: TestHost): Promise<number> {
  return Number((await host.systemctl(["show", "--property=MainPID", "--value", "containerd.service"])).stdout.trim());
}

/** The runsc entry of a `containerd config dump`, wherever this containerd keeps CRI runtimes. */
async function dumpedRuntime(host: TestHost): Promise<Record<string, any> | undefined> {
  const dump = await host.containerd.configDump();
  expect(dump.code, dump.stderr).toBe(0);
  const plugins = (parseToml(dump.stdout) as any).plugins;
  const cri = plugins[CRI_V2] ?? plugins[CRI_V1];
  return cri?.containerd?.runtimes?.runsc;
}

/**
 * What the running daemon (not a dump) loaded: the CRI config it logs on
 * start, since `logFrom` (2.1: `starting cri plugin` config=…, 1.7: `Start cri
 * plugin with config …`), unescaped; and whether `ctr plugins ls` shows CRI ok.
 */
async function served(host: TestHost, logFrom: number): Promise<{ criConfig: string; criOk: boolean }> {
  let criConfig = "";
  await expect
    .poll(
      () => {
        const line =
          host.containerd
            .log(logFrom)
            .split("\n")
            .find((l) => /starting cri plugin|Start cri plugin with config/.test(l)) ?? "";
        criConfig = line.replace(/\\"/g, '"');
        return criConfig;
      },
      { timeout: 20_000 },
    )
    .not.toBe("");
  const plugins = await host.exec(["ctr", "plugins", "ls"]);
  const criOk = plugins.stdout.split("\n").some((l) => /\bcri\b/.test(l) && /\bok\s*$/.test(l) && /grpc/.test(l));
  return { criConfig, criOk };
}

/** The CRI plugin's row in `ctr plugins ls` (the same type and id on 1.6, 1.7 and 2.1): its status column. */
async function criPluginStatus(host: TestHost): Promise<string> {
  const r = await host.exec(["ctr", "plugins", "ls", "type==io.containerd.grpc.v1,id==cri"]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").slice(1).join("\n").trim().split(/\s+/).pop() ?? "";
}

/** The names of the CRI runtimes in a `containerd config dump` (of containerd's defaults when there is no config.toml). */
async function dumpedRuntimeNames(host: TestHost): Promise<string[]> {
  let file = "/etc/containerd/config.toml";
  if ((await host.readFile(file)) === undefined) {
    file = "/tmp/defaults.toml";
    await host.writeFile(file, `version = ${flavor.name === "sid" ? 3 : 2}\n`);
  }
  const dump = await host.containerd.configDump(file);
  expect(dump.code, dump.stderr).toBe(0);
  const plugins = (parseToml(dump.stdout) as any).plugins;
  return Object.keys((plugins[CRI_V2] ?? plugins[CRI_V1]).containerd.runtimes).sort();
}

/** runsc in the logged CRI config: JSON on 2.1, Go's %+v on 1.7 (`runsc:{Type:io.containerd.runsc.v1 …`). */
const RUNSC_IN_CRI_CONFIG = /"runsc":\{[^}]*io\.containerd\.runsc\.v1|runsc:\{Type:io\.containerd\.runsc\.v1/;

const expectedVersion = flavor.name === "sid" ? 3 : 2;

describe.runIf(flavor.systemd)(`containerd.service on ${flavor.name}`, () => {
  it(`configure-containerd writes the version ${expectedVersion} table, systemd restarts containerd onto it, and the running containerd serves runsc`, async () => {
    const host = await suite.freshHost({ containerd: true });
    const plan = containerdPlan();
    const before = await mainPid(host);
    expect(before).toBeGreaterThan(0);
    await mustRun(host, plan, "install");
    const logFrom = host.containerd.log().length;

    const r = await mustRun(host, plan, "configure-containerd");
    expect(r.json).toMatchObject({ step: "configure-containerd", changed: true, configVersion: expectedVersion, restarted: true, restartRequired: false });
    const written = (await host.readFile("/etc/containerd/config.toml"))!;
    expect(written).toContain(expectedVersion === 3 ? `plugins."${CRI_V2}".containerd.runtimes.runsc` : `plugins."${CRI_V1}".containerd.runtimes.runsc`);

    expect(await dumpedRuntime(host)).toMatchObject({
      runtime_type: "io.containerd.runsc.v1",
      options: { TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: "/etc/containerd/runsc.toml" },
    });
    // Restarted by systemd: a new main process of the unit, which is active.
    const after = await mainPid(host);
    expect(after).not.toBe(before);
    expect((await host.systemctl(["is-active", "containerd.service"])).stdout.trim()).toBe("active");
    const { criConfig, criOk } = await served(host, logFrom);
    expect(criConfig).toMatch(RUNSC_IN_CRI_CONFIG);
    expect(criOk, `ctr plugins ls:\n${(await host.exec(["ctr", "plugins", "ls"])).stdout}`).toBe(true);

    const verify = await mustRun(host, plan, "verify");
    expect(verify.json?.containerd).toMatchObject({ configVersion: expectedVersion, runtimeConfigured: true });
    const again = await mustRun(host, plan, "configure-containerd");
    expect(again.json).toMatchObject({ changed: false, restarted: false });
    expect(await mainPid(host)).toBe(after);
  });

  it("on Debian's packaged config.toml (version 2) the runtime is added and loaded", async () => {
    const host = await suite.freshHost({ containerd: true, containerdConfig: DEBIAN_PACKAGED_CONFIG });
    const plan = containerdPlan();
    await mustRun(host, plan, "install");
    const logFrom = host.containerd.log().length;
    const r = await mustRun(host, plan, "configure-containerd");
    // The file says version 2, so the v2 table is written; containerd 2.1 migrates the file on load.
    expect(r.json).toMatchObject({ changed: true, configVersion: 2, restarted: true });
    expect(await dumpedRuntime(host)).toMatchObject({ runtime_type: "io.containerd.runsc.v1" });
    if (flavor.name === "sid") {
      const dump = (await host.containerd.configDump()).stdout;
      expect(dump).toMatch(/^version = 3$/m);
      expect((parseToml(dump) as any).plugins[CRI_V2].containerd.runtimes.runsc.runtime_type).toBe("io.containerd.runsc.v1");
    }
    const { criConfig, criOk } = await served(host, logFrom);
    expect(criConfig).toMatch(RUNSC_IN_CRI_CONFIG);
    expect(criOk).toBe(true);
  });
});

/**
 * Every flavor: the CRI plugin still loads once containerd runs on the
 * config the step wrote (restarted by the step under systemd, by the test on
 * bookworm, where the step only says a restart is due), whatever the file
 * held before. containerd 1.x replaces its built-in runtimes with the ones a
 * file names, so a file that names none gets the default runtime repeated in
 * the block; containerd 2.x merges, so there it gets none.
 */
describe(`the CRI plugin after configure-containerd on ${flavor.name}`, () => {
  const replacesBuiltIns = flavor.name !== "sid";
  it.each<[string, string | undefined, boolean]>([
    ["no config.toml (containerd config default)", undefined, false],
    ["Debian's packaged config.toml", DEBIAN_PACKAGED_CONFIG, replacesBuiltIns],
    ["a version 2 file with only a version line", "version = 2\n", replacesBuiltIns],
    ["a file that names runc itself", `version = 2\n\n[plugins."${CRI_V1}".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n`, false],
  ])("on %s: runc and runsc are both served, CRI is ok, and uninstall gives the file back", async (_name, config, addsDefault) => {
    const host = await suite.freshHost({ containerd: true, ...(config === undefined ? {} : { containerdConfig: config }) });
    const plan = containerdPlan();
    await mustRun(host, plan, "install");
    expect(await criPluginStatus(host)).toBe("ok");

    const r = await mustRun(host, plan, "configure-containerd");
    expect(r.json).toMatchObject({ changed: true, defaultRuntimeAdded: addsDefault ? "runc" : null });
    if (!flavor.systemd) {
      expect(r.json).toMatchObject({ restarted: false, restartRequired: true });
      await host.containerd.restart();
    }
    expect(await dumpedRuntimeNames(host)).toEqual(["runc", "runsc"]);
    expect(await criPluginStatus(host)).toBe("ok");
    const again = await mustRun(host, plan, "configure-containerd");
    expect(again.json).toMatchObject({ changed: false, defaultRuntimeAdded: addsDefault ? "runc" : null });

    await mustRun(host, plan, "uninstall");
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(config);
    if (!flavor.systemd) await host.containerd.restart();
    expect(await dumpedRuntimeNames(host)).toEqual(["runc"]);
    expect(await criPluginStatus(host)).toBe("ok");
  });
});

describe(`uninstall after an admin's edit on ${flavor.name}`, () => {
  it("takes out only the block (with the default runtime it repeated), keeps the edit, and CRI stays ok", async () => {
    const host = await suite.freshHost({ containerd: true, containerdConfig: DEBIAN_PACKAGED_CONFIG });
    const plan = containerdPlan();
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-containerd");
    const edit = "# the admin's own line\n";
    await host.writeFile("/etc/containerd/config.toml", `${(await host.readFile("/etc/containerd/config.toml"))!}${edit}`);

    const r = await mustRun(host, plan, "uninstall");
    const repeated = flavor.name !== "sid";
    expect(r.stderr).toMatch(
      repeated
        ? /removing runtime runsc \(and the copy of default runtime runc its block carried\) from/
        : /removing runtime runsc from \/etc\/containerd\/config\.toml/,
    );
    // The block's place was the end of the file; the blank line that set it off stays before the edit.
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(`${DEBIAN_PACKAGED_CONFIG}\n${edit}`);
    if (!flavor.systemd) await host.containerd.restart();
    expect(await dumpedRuntimeNames(host)).toEqual(["runc"]);
    expect(await criPluginStatus(host)).toBe("ok");
  });
});

describe.runIf(flavor.systemd)(`containerd.service on ${flavor.name}: a config the CRI plugin refuses`, () => {
  it("is rolled back after the restart: the previous file comes back, containerd serves it, and one error line says what failed", async () => {
    const original = DEBIAN_PACKAGED_CONFIG;
    const host = await suite.freshHost({ containerd: true, containerdConfig: original });
    const good = containerdPlan();
    const bad = criRefusedPlan(good);
    await mustRun(host, good, "install");
    const before = await mainPid(host);

    const r = await runStep(host, bad, "configure-containerd");
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(lastLine(r.stderr)).toMatch(
      /^pulumi-gvisor configure-containerd: error: containerd restarted with \/etc\/containerd\/config\.toml, but its CRI plugin did not load \(error: .*privileged_without_host_devices.*\); the previous \/etc\/containerd\/config\.toml is put back/,
    );
    expect(r.stderr).toMatch(/put back the previous \/etc\/containerd\/config\.toml/);
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(original);
    // Restarted twice (onto the bad file, then back), and serving the old file with CRI ok.
    expect(await mainPid(host)).not.toBe(before);
    expect((await host.systemctl(["is-active", "containerd.service"])).stdout.trim()).toBe("active");
    expect(await criPluginStatus(host)).toBe("ok");
    // The good plan then applies.
    expect((await mustRun(host, good, "configure-containerd")).json).toMatchObject({ changed: true, restarted: true });
    expect(await criPluginStatus(host)).toBe("ok");
  });
});

describe.runIf(flavor.name === "sid")("containerd 2.1 and the old (v2-style) table", () => {
  it("containerd itself only warns about a v2-style table in a version 3 file, and loads no runtime from it", async () => {
    const host = await suite.freshHost();
    const plan = containerdPlan();
    await host.writeFile("/tmp/old-form.toml", `version = 3\n\n${plan.containerd.blockV2}`);
    const dump = await host.containerd.configDump("/tmp/old-form.toml");
    expect(dump.code).toBe(0);
    expect(dump.stderr).toMatch(/Ignoring unknown key in TOML for plugin.*io\.containerd\.grpc\.v1\.cri/);
    const plugins = (parseToml(dump.stdout) as any).plugins;
    expect(plugins[CRI_V2].containerd.runtimes.runsc).toBeUndefined();
  });

  it("the step's dump check refuses a plan that would write the v2-style table into a version 3 file, touching nothing", async () => {
    const original = "version = 3\n";
    const host = await suite.freshHost({ containerd: true, containerdConfig: original });
    const good = containerdPlan();
    // The mistake the check exists for: the old table where version 3 is due.
    const stale: HostPlan = { ...good, containerd: { ...good.containerd, blockV3: good.containerd.blockV2 } };
    await mustRun(host, good, "install");
    const before = await mainPid(host);

    const r = await runStep(host, stale, "configure-containerd");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor configure-containerd: error: containerd loads .* but ignores runtime 'runsc'/);
    expect(r.stdout).toBe("");
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(original);
    expect(await mainPid(host)).toBe(before);
  });
});

describe.runIf(flavor.name === "trixie")("containerd 1.7 and version 3", () => {
  it("a version 3 file on containerd 1.7 is refused by the step, which names the version, touching nothing", async () => {
    const original = "version = 3\n";
    const host = await suite.freshHost({ containerd: false, docker: false, containerdConfig: original });
    const plan = containerdPlan();
    await mustRun(host, plan, "install");
    const r = await runStep(host, plan, "configure-containerd");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/config version 3, which needs containerd 2\.x, but this host runs containerd 1\.7\./);
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(original);
  });
});

/**
 * containerd 1.6 and 1.7 (config version 2): the copy of the default runtime
 * our block carries is `[…runtimes.runc]` with its runtime_type only, so the
 * admin's own tables for runc (its options: SystemdCgroup = true, the usual
 * Kubernetes step) or for another runtime sit beside the block, and the next
 * run keeps the copy (the file without the block no longer shows runc with a
 * type, but containerd still needs it).
 */
describe.runIf(flavor.name !== "sid")(`the default runtime's copy and the admin's tables on ${flavor.name}`, () => {
  const RUNTIMES = `plugins."${CRI_V1}".containerd.runtimes`;
  const restart = async (host: TestHost) => {
    if (flavor.systemd) expect((await host.systemctl(["restart", "containerd.service"])).code).toBe(0);
    else await host.containerd.restart();
  };
  const runtimesDumped = async (host: TestHost) => {
    const dump = await host.containerd.configDump();
    expect(dump.code, dump.stderr).toBe(0);
    return (parseToml(dump.stdout) as any).plugins[CRI_V1].containerd.runtimes;
  };

  it.each<[string, string, Record<string, unknown>]>([
    ["runc's options (SystemdCgroup = true)", `[${RUNTIMES}.runc.options]\n  SystemdCgroup = true\n`, { runc: { options: { SystemdCgroup: true } } }],
    ["another runtime (kata)", `[${RUNTIMES}.kata]\n  runtime_type = "io.containerd.kata.v2"\n`, { kata: { runtime_type: "io.containerd.kata.v2" } }],
  ])(
    "the block repeats runc's runtime_type only; the admin's table for %s outside it is accepted, and the next run keeps the copy",
    async (_name, adminTable, expected) => {
      const host = await suite.freshHost({ containerd: true, containerdConfig: DEBIAN_PACKAGED_CONFIG });
      const plan = containerdPlan();
      await mustRun(host, plan, "install");
      const r = await mustRun(host, plan, "configure-containerd");
      expect(r.json).toMatchObject({ changed: true, defaultRuntimeAdded: "runc" });
      const written = (await host.readFile("/etc/containerd/config.toml"))!;
      expect(written).toContain(`[${RUNTIMES}.runc]\n  runtime_type = "io.containerd.runc.v2"\n`);
      expect(written).not.toContain(`${RUNTIMES}.runc.options`);
      expect(written).not.toMatch(/runtime_engine|runtime_root|SystemdCgroup/);
      if (!flavor.systemd) await restart(host);
      expect(await criPluginStatus(host)).toBe("ok");

      // The admin's table, outside the block (after it, at the end of the file).
      await host.writeFile("/etc/containerd/config.toml", `${written}\n${adminTable}`);
      expect(await runtimesDumped(host)).toMatchObject({ runc: { runtime_type: "io.containerd.runc.v2" }, ...expected });
      await restart(host);
      expect(await criPluginStatus(host)).toBe("ok");

      const again = await mustRun(host, plan, "configure-containerd");
      expect(again.json).toMatchObject({ changed: false, defaultRuntimeAdded: "runc" });
      expect(await host.readFile("/etc/containerd/config.toml")).toBe(`${written}\n${adminTable}`);
      expect(await criPluginStatus(host)).toBe("ok");
      expect(Object.keys(await runtimesDumped(host)).sort()).toEqual(["runc", "runsc", ...Object.keys(expected).filter((k) => k !== "runc")].sort());
    },
  );
});

describe.runIf(flavor.systemd)(`containerd.service on ${flavor.name}: a file already as planned that containerd has not loaded`, () => {
  it("fails the CRI check after the restart: the block comes out as its record says, containerd restarts without it, and the next run fails too", async () => {
    const original = DEBIAN_PACKAGED_CONFIG;
    const host = await suite.freshHost({ containerd: true, containerdConfig: original });
    const good = containerdPlan();
    const bad = criRefusedPlan(good);
    await mustRun(host, good, "install");
    // The step writes the file while containerd.service is stopped (an earlier run that died before its restart, in effect) ...
    expect((await host.systemctl(["stop", "containerd.service"])).code).toBe(0);
    expect((await mustRun(host, bad, "configure-containerd")).json).toMatchObject({ changed: true, restarted: false });
    const planned = (await host.readFile("/etc/containerd/config.toml"))!;
    // ... and containerd started on the previous file, before that one was put back in place.
    await host.writeFile("/etc/containerd/config.toml", original);
    expect((await host.systemctl(["start", "containerd.service"])).code).toBe(0);
    await expect.poll(() => criPluginStatus(host), { timeout: 20_000 }).toBe("ok");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await host.writeFile("/etc/containerd/config.toml", planned);

    const r = await runStep(host, bad, "configure-containerd");
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(lastLine(r.stderr)).toMatch(
      /^pulumi-gvisor configure-containerd: error: containerd restarted with \/etc\/containerd\/config\.toml, but its CRI plugin did not load \(error: .*privileged_without_host_devices.*\); pulumi-gvisor's block is taken out of \/etc\/containerd\/config\.toml again/,
    );
    expect(
      r.stderr
        .trim()
        .split("\n")
        .filter((l) => / error: /.test(l)),
    ).toHaveLength(1);
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(original);
    expect((await host.systemctl(["is-active", "containerd.service"])).stdout.trim()).toBe("active");
    expect(await criPluginStatus(host)).toBe("ok");
    // Never "already as planned" while the plan breaks CRI.
    const next = await runStep(host, bad, "configure-containerd");
    expect(next.code).not.toBe(0);
    expect(lastLine(next.stderr)).toMatch(/its CRI plugin did not load/);
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(original);
    expect(await criPluginStatus(host)).toBe("ok");
  });
});

/**
 * Taking our block out restarts containerd and checks its CRI plugin as the
 * step's own restart does. On 1.x an admin's runtimes table beside the block
 * (kata) leaves the file without the default runtime once the block (and the
 * copy of runc it carried) is gone: uninstall takes the block out anyway (it
 * is what was asked, and putting gVisor's block back would undo the
 * uninstall) and warns; the step, undoing an earlier plan, fails.
 */
describe.runIf(flavor.systemd && flavor.name !== "sid")(`taking the block out on ${flavor.name} checks the CRI plugin`, () => {
  const kata = `\n[plugins."${CRI_V1}".containerd.runtimes.kata]\n  runtime_type = "io.containerd.kata.v2"\n`;
  it.each<[string, "uninstall" | "configure-containerd"]>([
    ["uninstall warns", "uninstall"],
    ["configure-containerd with containerd turned off fails", "configure-containerd"],
  ])("%s when the CRI plugin does not load without the block", async (_name, step) => {
    const host = await suite.freshHost({ containerd: true, containerdConfig: DEBIAN_PACKAGED_CONFIG });
    const plan = containerdPlan();
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-containerd");
    await host.writeFile("/etc/containerd/config.toml", `${(await host.readFile("/etc/containerd/config.toml"))!}${kata}`);
    expect((await host.systemctl(["restart", "containerd.service"])).code).toBe(0);
    await expect.poll(() => criPluginStatus(host), { timeout: 20_000 }).toBe("ok");

    const off: HostPlan = { ...plan, containerd: { ...plan.containerd, enabled: false } };
    const r = await runStep(host, step === "uninstall" ? plan : off, step);
    const lost =
      /containerd restarted after pulumi-gvisor's runtime was taken out of \/etc\/containerd\/config\.toml, but its CRI plugin did not load \(error: .*default_runtime_name.*\)[:;] .*fix \/etc\/containerd\/config\.toml by hand/;
    if (step === "uninstall") {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`warning: ${lost.source}`));
    } else {
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(lastLine(r.stderr)).toMatch(new RegExp(`^pulumi-gvisor configure-containerd: error: ${lost.source}`));
    }
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(`${DEBIAN_PACKAGED_CONFIG}\n${kata}`);
  });
});

describe(`a changed plan that cannot be applied on ${flavor.name}`, () => {
  it("leaves the earlier plan's block in place: the new candidate is built and checked before the old block comes out", async () => {
    const host = await suite.freshHost({ containerd: true, containerdConfig: DEBIAN_PACKAGED_CONFIG });
    const plan = containerdPlan();
    await mustRun(host, plan, "install");
    await mustRun(host, plan, "configure-containerd");
    const applied = (await host.readFile("/etc/containerd/config.toml"))!;
    // A new runtime name, with a key containerd drops silently: the dump check refuses it.
    const renamed = testPlan(suite.mirror(), { docker: { enabled: false }, containerd: { enabled: true, runtimeName: "gvisor" } });
    const typo = (block: string) => block.replace(/runtime_type = "io\.containerd\.runsc\.v1"/, 'runtime_typ = "io.containerd.runsc.v1"');
    const bad: HostPlan = {
      ...renamed,
      containerd: { ...renamed.containerd, blockV2: typo(renamed.containerd.blockV2), blockV3: typo(renamed.containerd.blockV3) },
    };

    const r = await runStep(host, bad, "configure-containerd");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^pulumi-gvisor configure-containerd: error: containerd loads .* but ignores runtime 'gvisor'/);
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(applied);
    expect(await dumpedRuntimeNames(host)).toEqual(["runc", "runsc"]);
    // The good new plan then replaces the old block, and uninstall gives the file back.
    expect((await mustRun(host, renamed, "configure-containerd")).json).toMatchObject({ changed: true, runtime: "gvisor" });
    if (!flavor.systemd) await host.containerd.restart();
    expect(await dumpedRuntimeNames(host)).toEqual(["gvisor", "runc"]);
    expect(await criPluginStatus(host)).toBe("ok");
    await mustRun(host, renamed, "uninstall");
    expect(await host.readFile("/etc/containerd/config.toml")).toBe(DEBIAN_PACKAGED_CONFIG);
  });
});
