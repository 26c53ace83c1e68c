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
