/**
 * Smoke test of the real-host harness itself: every promise the other host
 * tests rely on (SSH as root and gvtest, host-key pinning, a fresh and
 * isolated file system, a working dockerd with runc and runsc, the release
 * mirror, containerd on demand, clean teardown) is checked here for real.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { parse as parseToml } from "smol-toml";
import { utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUSYBOX_IMAGE,
  FIXTURE_ARCH,
  FIXTURE_VERSIONS,
  currentFlavor,
  ensureHostPackages,
  sshRun,
  startMirror,
  startTestHost,
  type Mirror,
  type TestHost,
} from "./harness";
import { flavorRuntimeArgs } from "./support/steps";

/** runsc's args for Docker here: --network=none (see below), plus what the flavor needs (flavors.ts). */
const runscArgs = () => ["--network=none", ...flavorRuntimeArgs()];
const realLinks = () => execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).replace(/\s+/g, " ");
const realFile = (p: string) => (fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined);

let host: TestHost;
let mirror: Mirror;
const before = {
  links: "",
  localBin: [] as string[],
  daemonJson: undefined as string | undefined,
  containerdConfig: undefined as string | undefined,
  stateDir: false,
};

beforeAll(async () => {
  await ensureHostPackages([currentFlavor()]);
  before.links = realLinks();
  before.localBin = fs.readdirSync("/usr/local/bin").sort();
  before.daemonJson = realFile("/etc/docker/daemon.json");
  before.containerdConfig = realFile("/etc/containerd/config.toml");
  before.stateDir = fs.existsSync("/var/lib/pulumi-gvisor");
  mirror = await startMirror();
  host = await startTestHost();
  console.log(`test host ${host.id} started in ${(host.startupMs / 1000).toFixed(2)} s (ssh port ${host.ssh.port})`);
});

afterAll(async () => {
  await host?.stop();
  await mirror?.stop();
});

describe("ssh", () => {
  it("logs in as root", async () => {
    const r = await host.run("id -u; echo $0");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.split("\n")[0]).toBe("0");
  });

  it("logs in as gvtest, who has passwordless sudo", async () => {
    const r = await host.run("id -un; sudo -n id -u", { user: "gvtest" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("gvtest\n0\n");
    expect(r.code).toBe(0);
  });

  it("reports exit codes and both streams like remote.Command sees them", async () => {
    const r = await host.run("echo out; echo err >&2; exit 7");
    expect(r).toEqual({ code: 7, stdout: "out\n", stderr: "err\n" });
  });

  it("passes stdin through", async () => {
    const r = await host.run("tr a-z A-Z", { stdin: "hello\n" });
    expect(r.stdout).toBe("HELLO\n");
  });

  it("drops SSH environment variables, as a stock sshd does", async () => {
    const r = await host.run('echo "[${GV_PROBE-unset}]"', { env: { GV_PROBE: "sent" } });
    expect(r.stdout).toBe("[unset]\n");
  });

  it("refuses a host whose key is not the pinned one", async () => {
    const other = utils.generateKeyPairSync("ed25519", { comment: "impostor" }).public;
    const target = { host: "127.0.0.1", port: host.ssh.port, user: "root", privateKey: host.ssh.clientPrivateKey };
    await expect(sshRun({ ...target, hostPublicKey: other }, "true")).rejects.toThrow(/verification failed|denied/i);
    await expect(sshRun({ ...target, hostPublicKey: host.ssh.hostPublicKey }, "true")).resolves.toMatchObject({ code: 0 });
  });

  it("refuses a client key it does not know", async () => {
    const stranger = utils.generateKeyPairSync("ed25519").private;
    await expect(
      sshRun({ host: "127.0.0.1", port: host.ssh.port, user: "root", privateKey: stranger, hostPublicKey: host.ssh.hostPublicKey }, "true"),
    ).rejects.toThrow(/authentication/i);
  });
});

describe("a fresh, isolated machine", () => {
  it("starts with empty /usr/local/bin, no daemon.json, no containerd config, no state", async () => {
    const r = await host.run(
      "ls -A /usr/local/bin | wc -l; ls -A /etc/containerd | wc -l; test -e /etc/docker/daemon.json || echo no-daemon-json; " +
        "test -e /var/lib/pulumi-gvisor && echo state || echo nostate; command -v docker; ls -A /etc/docker",
    );
    // dockerd 20.10 creates /etc/docker/key.json on start, as on any machine running it; 26 and 28 no longer do.
    const keyJson = host.flavor.name === "bookworm" ? "key.json\n" : "";
    expect(r.stdout).toBe(`0\n0\nno-daemon-json\nnostate\n/usr/bin/docker\n${keyJson}`);
  });

  it("has a stock root account: Debian's dotfiles and PATH, not this machine's", async () => {
    const r = await host.run('ls -A /root; echo "$PATH"');
    // systemd's tmpfiles (provision.conf) makes /root/.ssh at every boot.
    const ssh = host.flavor.systemd ? ".ssh\n" : "";
    expect(r.stdout).toBe(`.bashrc\n.profile\n${ssh}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n`);
  });

  it("keeps every write inside the host", async () => {
    const w = await host.run(
      "set -e; echo '{}' > /etc/docker/daemon.json; printf '#!/bin/sh\\n' > /usr/local/bin/runsc; chmod +x /usr/local/bin/runsc; " +
        "mkdir -p /var/lib/pulumi-gvisor; touch /var/lib/pulumi-gvisor/x; rm -rf /var/lib/pulumi-gvisor; " +
        "printf 'version = 2\\n' > /etc/containerd/config.toml",
    );
    expect(w.code).toBe(0);
    expect(await host.readFile("/etc/docker/daemon.json")).toBe("{}\n");
    expect(fs.readdirSync("/usr/local/bin").sort()).toEqual(before.localBin);
    expect(realFile("/etc/docker/daemon.json")).toBe(before.daemonJson);
    expect(realFile("/etc/containerd/config.toml")).toBe(before.containerdConfig);
    expect(fs.existsSync("/var/lib/pulumi-gvisor")).toBe(before.stateDir);
    await host.run("rm -f /etc/docker/daemon.json /usr/local/bin/runsc /etc/containerd/config.toml");
    expect(await host.readFile("/etc/docker/daemon.json")).toBeUndefined();
  });

  it("has its own processes: the host's PID 1 is its init and dockerd's pid file is local", async () => {
    const r = await host.run("cat /proc/1/comm; kill -0 \"$(cat /var/run/docker.pid)\" && cat /proc/$(cat /var/run/docker.pid)/comm");
    expect(r.stdout).toBe(`${host.flavor.systemd ? "systemd" : "tini"}\ndockerd\n`);
  });

  it("has a private /dev of fresh device nodes, not the machine's", async () => {
    const r = await host.run("stat -c '%a %U %t,%T' /dev/null /dev/zero /dev/urandom; echo ok >/dev/null && echo writable", { user: "gvtest" });
    expect(r.stdout).toBe("666 root 1,3\n666 root 1,5\n666 root 1,9\nwritable\n");
    const hostDev = (await host.exec(["stat", "-c", "%d", "/dev"])).stdout.trim();
    expect(hostDev).not.toBe(String(fs.statSync("/dev").dev));
  });

  it("leaves the real machine's network alone", () => {
    expect(realLinks()).toBe(before.links);
  });
});

describe("docker inside the host", () => {
  it("runs the busybox image with runc, seeing the real kernel", async () => {
    const r = await host.run(`docker run --rm --network=none ${BUSYBOX_IMAGE} uname -r`);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(os.release());
  });

  it("runs it under gVisor once daemon.json registers runsc and dockerd gets SIGHUP", async () => {
    const pid = await host.docker.pid();
    // runsc 20221219 decides "am I in the root network namespace?" from
    // /proc/sys/net/core/rmem_default, which newer kernels have in every
    // namespace: with its default --network=sandbox every container fails
    // here. --network=none skips that check.
    const daemonJson = JSON.stringify({ runtimes: { runsc: { path: "/usr/bin/runsc", runtimeArgs: runscArgs() } } });
    const r = await host.run(
      `sudo -n sh -c 'printf "%s\\n" "$1" > /etc/docker/daemon.json && kill -HUP "$(cat /var/run/docker.pid)"' sh '${daemonJson}'`,
      { user: "gvtest" },
    );
    expect(r).toMatchObject({ code: 0, stderr: "" });
    await expect.poll(async () => Object.keys(await host.docker.runtimes()), { timeout: 10_000 }).toContain("runsc");

    const run = await host.run(`sudo -n docker run --rm --runtime=runsc --network=none ${BUSYBOX_IMAGE} uname -r`, { user: "gvtest" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("4.4.0\n");
    const kallsyms = await host.run(`docker run --rm --runtime=runsc --network=none ${BUSYBOX_IMAGE} test -e /proc/kallsyms`);
    expect(kallsyms.code).not.toBe(0);
    expect(await host.docker.pid()).toBe(pid);
  });

  it("tells a failed reload from a good one, and dockerd keeps its old config", async () => {
    await host.writeFile("/etc/docker/daemon.json", "{ not json");
    const bad = await host.docker.reload();
    expect(bad.ok).toBe(false);
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");
    // dockerd 20.10 replaces runtimes on reload only when daemon.json has a
    // "runtimes" key: a file without one leaves runsc registered.
    await host.writeFile("/etc/docker/daemon.json", "{}\n");
    expect((await host.docker.reload()).ok).toBe(true);
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");
    await host.writeFile("/etc/docker/daemon.json", '{"runtimes": {}}\n');
    expect((await host.docker.reload()).ok).toBe(true);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
  });
});

describe("release mirror", () => {
  const fetchInHost = (urlPath: string, extra = "") =>
    host.run(`cd "$(mktemp -d)" && curl -fsS ${extra} -O '${mirror.baseUrl}${urlPath}' && ls`);

  it("serves the archive layout with a checksum sha512sum -c accepts", async () => {
    const base = `${mirror.releaseUrl(FIXTURE_VERSIONS.archive)}/${FIXTURE_ARCH}`;
    const r = await host.run(
      `set -e; cd "$(mktemp -d)"; curl -fsSO ${base}/gvisor.tar.bz2; curl -fsSO ${base}/gvisor.tar.bz2.sha512; ` +
        `sha512sum -c gvisor.tar.bz2.sha512; tar -tjf gvisor.tar.bz2 | sort`,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("gvisor.tar.bz2: OK");
    expect(r.stdout).toMatch(/^runsc$/m);
    expect(r.stdout).toMatch(/^containerd-shim-runsc-v1$/m);
    expect(r.stdout).toMatch(/^gvisor-bin\/.+$/m);
  });

  it("serves the loose layout, whose runsc is the real one and whose shim is a placeholder", async () => {
    const base = `${mirror.releaseUrl(FIXTURE_VERSIONS.loose)}/${FIXTURE_ARCH}`;
    const r = await host.run(
      `set -e; cd "$(mktemp -d)"; for f in runsc containerd-shim-runsc-v1; do curl -fsSO ${base}/$f; curl -fsSO ${base}/$f.sha512; done; ` +
        `sha512sum -c runsc.sha512 containerd-shim-runsc-v1.sha512; chmod +x runsc containerd-shim-runsc-v1; ./runsc --version | head -1; ./containerd-shim-runsc-v1 || echo "shim exit $?"`,
    );
    expect(r.stdout).toContain("runsc: OK\ncontainerd-shim-runsc-v1: OK\n");
    expect(r.stdout).toContain("runsc version 0.0~20221219.0");
    expect(r.stdout).toContain("shim exit 1");
    expect(r.stderr).toContain("placeholder");
  });

  it("serves the faults: wrong checksum, cut-off download, missing release", async () => {
    const badSum = await host.run(
      `set -e; cd "$(mktemp -d)"; b=${mirror.releaseUrl(FIXTURE_VERSIONS.archiveBadChecksum)}/${FIXTURE_ARCH}; ` +
        `curl -fsSO $b/gvisor.tar.bz2; curl -fsSO $b/gvisor.tar.bz2.sha512; sha512sum -c gvisor.tar.bz2.sha512`,
    );
    expect(badSum.code).not.toBe(0);
    expect(badSum.stdout).toContain("FAILED");

    const cut = await fetchInHost(`/release/${FIXTURE_VERSIONS.archiveTruncated}/${FIXTURE_ARCH}/gvisor.tar.bz2`);
    expect(cut.code).toBe(18); // curl: partial file

    const missing = await fetchInHost(`/release/${FIXTURE_VERSIONS.missing}/${FIXTURE_ARCH}/gvisor.tar.bz2`);
    expect(missing.code).toBe(22); // curl -f: HTTP error
    const body = await host.run(`curl -s '${mirror.baseUrl}/release/${FIXTURE_VERSIONS.missing}/${FIXTURE_ARCH}/runsc'`);
    expect(body.stdout).toContain("NoSuchKey");
  });

  it("resolves release/latest and records every request", async () => {
    mirror.clearRequests();
    const r = await fetchInHost(`/release/latest/${FIXTURE_ARCH}/gvisor.tar.bz2.sha512`);
    expect(r.code).toBe(0);
    expect(mirror.requests).toHaveLength(1);
    expect(mirror.downloads()[0]).toMatchObject({ method: "GET", status: 200, path: `/release/latest/${FIXTURE_ARCH}/gvisor.tar.bz2.sha512` });
    expect(mirror.downloads()[0]?.userAgent).toMatch(/^curl\//);
  });
});

describe("containerd inside the host", () => {
  it("starts on demand from /etc/containerd/config.toml and dumps a config", async () => {
    await host.writeFile(
      "/etc/containerd/config.toml",
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n  runtime_type = "io.containerd.runsc.v1"\n',
    );
    const dump = await host.containerd.configDump();
    expect(dump.code).toBe(0);
    // containerd 2.x migrates the v2 file on load and dumps it as version 3.
    const plugins = (parseToml(dump.stdout) as any).plugins;
    const runtimes = host.flavor.name === "sid" ? plugins["io.containerd.cri.v1.runtime"].containerd.runtimes : plugins["io.containerd.grpc.v1.cri"].containerd.runtimes;
    expect(runtimes.runsc.runtime_type).toBe("io.containerd.runsc.v1");
    await host.containerd.start();
    const ver = await host.run("ctr version | grep -c Version");
    expect(ver.stdout).toBe("2\n");
    await host.containerd.restart();
    await host.containerd.stop();
    expect((await host.run("test -S /run/containerd/containerd.sock && echo up || echo down")).stdout).toBe("down\n");
  });
});

describe("stop()", () => {
  it("leaves no process, cgroup, mount or directory behind, and can be called twice", async () => {
    const h = await startTestHost({ daemonJson: JSON.stringify({ runtimes: { runsc: { path: "/usr/bin/runsc", runtimeArgs: runscArgs() } } }) });
    console.log(`second test host started in ${(h.startupMs / 1000).toFixed(2)} s`);
    // A running sandbox at stop time is the hardest case to clean up.
    const bg = await h.run(`docker run -d --runtime=runsc --network=none ${BUSYBOX_IMAGE} sleep 600`);
    expect(bg.code).toBe(0);
    expect(h.processes().length).toBeGreaterThan(3);
    const cgroups = fs.readdirSync("/sys/fs/cgroup").some((c) => fs.existsSync(`/sys/fs/cgroup/${c}${h.cgroupParent}`));
    expect(cgroups).toBe(true);

    await h.stop();
    await h.stop();
    expect(h.processes()).toEqual([]);
    expect(fs.existsSync(h.dir)).toBe(false);
    expect(fs.readdirSync("/sys/fs/cgroup").filter((c) => fs.existsSync(`/sys/fs/cgroup/${c}${h.cgroupParent}`))).toEqual([]);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(h.id);
    await expect(h.run("true")).rejects.toThrow();
    expect(realLinks()).toBe(before.links);
  });
});
