import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildHostPlan } from "../../src/plan/host-plan";
import { STEP_INPUTS, renderStepCommand, renderStepScript, stepSource } from "../../src/scripts/render";

// The engine step runs for real here, inside a throwaway chroot made of
// busybox-static plus small stand-ins for the package manager, systemd,
// cloud-init and fuser that record how they were called. Nothing on this
// machine is installed or started.

const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
const DASH = ["/bin/dash", "/usr/bin/dash"].find((p) => existsSync(p));
/** The shared libraries dash loads, as absolute paths (from ldd). */
const dashLibraries = DASH
  ? [...(spawnSync("ldd", [DASH], { encoding: "utf8" }).stdout ?? "").matchAll(/(\/\S+) \(0x/g)].map((m) => m[1])
  : [];
const which = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim() || undefined;
/** How to enter a chroot here: directly as root, or in a user namespace; undefined when neither works. */
const chrootCommand = (() => {
  const chroot = which("chroot");
  const unshare = which("unshare");
  if (!BUSYBOX || !DASH || dashLibraries.length === 0 || !chroot) return undefined;
  const probe = mkdtempSync(join(tmpdir(), "gv-engine-probe-"));
  try {
    mkdirSync(join(probe, "bin"));
    execFileSync("cp", [BUSYBOX, join(probe, "bin/busybox")]);
    const candidates = [[chroot], ...(unshare ? [[unshare, "-r", chroot]] : [])];
    return candidates.find((c) => spawnSync(c[0], [...c.slice(1), probe, "/bin/busybox", "true"]).status === 0);
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

const APT_GET = `#!/bin/sh
echo "apt-get DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >>/log
for a in "$@"; do
  [ "$a" != update ] || { [ -f /etc/stub/apt-update-rc ] && exit "$(cat /etc/stub/apt-update-rc)"; exit 0; }
done
for a in "$@"; do
  case $a in
    docker.io) printf '#!/bin/sh\\n' >/usr/sbin/dockerd; printf '#!/bin/sh\\n' >/usr/bin/docker; printf '#!/bin/sh\\n' >/usr/bin/containerd
      chmod +x /usr/sbin/dockerd /usr/bin/docker /usr/bin/containerd; : >/etc/units/docker; : >/etc/units/containerd ;;
    containerd) printf '#!/bin/sh\\n' >/usr/bin/containerd; chmod +x /usr/bin/containerd; : >/etc/units/containerd ;;
    python3) printf '#!/bin/sh\\n' >/usr/bin/python3; chmod +x /usr/bin/python3 ;;
  esac
done
[ -f /etc/stub/apt-install-rc ] && exit "$(cat /etc/stub/apt-install-rc)"
exit 0
`;

const DNF = `#!/bin/sh
echo "dnf $*" >>/log
for a in "$@"; do
  case $a in
    docker) printf '#!/bin/sh\\n' >/usr/bin/dockerd; printf '#!/bin/sh\\n' >/usr/bin/docker; printf '#!/bin/sh\\n' >/usr/bin/containerd
      chmod +x /usr/bin/dockerd /usr/bin/docker /usr/bin/containerd; : >/etc/units/docker; : >/etc/units/containerd ;;
    containerd) printf '#!/bin/sh\\n' >/usr/bin/containerd; chmod +x /usr/bin/containerd; : >/etc/units/containerd ;;
  esac
done
exit 0
`;

// systemctl: units exist when /etc/units/<unit> does; state lives in /state.
const SYSTEMCTL = `#!/bin/sh
echo "systemctl $*" >>/log
unit=""
for a in "$@"; do case $a in *.service) unit=\${a%.service} ;; esac; done
case $1 in
  cat) [ -f "/etc/units/$unit" ] ;;
  is-enabled) [ -f "/state/enabled-$unit" ] ;;
  is-active) [ -f "/state/active-$unit" ] ;;
  enable) : >"/state/enabled-$unit" ;;
  start) : >"/state/active-$unit" ;;
  is-system-running) echo running ;;
  *) exit 0 ;;
esac
`;

// cloud-init: "running" until waited for.
const CLOUD_INIT = `#!/bin/sh
echo "cloud-init $*" >>/log
if [ "$2" = "--wait" ]; then : >/state/cloud-init-done; echo "status: done"; exit 0; fi
if [ -f /state/cloud-init-done ]; then echo "status: done"; else echo "status: running"; fi
`;

// fuser: "busy" for the first N calls (N in /etc/stub/fuser-busy).
const FUSER = `#!/bin/sh
n=$(cat /state/fuser-calls 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >/state/fuser-calls
echo "fuser $*" >>/log
[ "$n" -le "$(cat /etc/stub/fuser-busy 2>/dev/null || echo 0)" ]
`;

// sleep: recorded, not slept, so waits are instant.
const SLEEP = `#!/bin/sh
echo "sleep $*" >>/log
`;

interface World {
  root: string;
  run(script: string): { status: number; stdout: string; stderr: string };
  log(): string[];
  file(path: string): string;
}

const worlds: string[] = [];
afterEach(() => {
  for (const w of worlds.splice(0)) rmSync(w, { recursive: true, force: true });
});

function world(opts: { pm: "apt" | "dnf" | "none"; systemd: boolean; cloudInit?: boolean; fuserBusy?: number; present?: string[]; stub?: Record<string, string> }): World {
  const root = mkdtempSync(join(tmpdir(), "gv-engine-"));
  worlds.push(root);
  for (const d of ["bin", "usr/bin", "usr/sbin", "tmp", "state", "etc/units", "etc/stub", "var/lib"]) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  // A regular file serves as /dev/null (no device nodes needed).
  mkdirSync(join(root, "dev"));
  writeFileSync(join(root, "dev/null"), "");
  chmodSync(join(root, "dev/null"), 0o666);
  // The shell is dash (Ubuntu's and Debian's /bin/sh) with its libraries;
  // busybox supplies the tools as separate programs, so stubs earlier on PATH
  // win (busybox's own shell would run its applets as builtins instead).
  execFileSync("cp", [BUSYBOX!, join(root, "bin/busybox")]);
  const applets = execFileSync(BUSYBOX!, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const a of applets) if (!["busybox", "sleep", "sh"].includes(a)) symlinkSync("busybox", join(root, "bin", a));
  for (const file of [DASH!, ...dashLibraries]) {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    execFileSync("cp", ["-L", file, join(root, file)]);
  }
  symlinkSync(DASH!, join(root, "bin/sh"));
  const put = (path: string, text: string) => {
    writeFileSync(join(root, path), text);
    chmodSync(join(root, path), 0o755);
  };
  put("usr/bin/sleep", SLEEP);
  put("usr/bin/fuser", FUSER);
  if (opts.pm === "apt") put("usr/bin/apt-get", APT_GET);
  if (opts.pm === "dnf") put("usr/bin/dnf", DNF);
  if (opts.cloudInit) put("usr/bin/cloud-init", CLOUD_INIT);
  if (opts.systemd) {
    put("usr/bin/systemctl", SYSTEMCTL);
    mkdirSync(join(root, "run/systemd/system"), { recursive: true });
  }
  writeFileSync(join(root, "etc/stub/fuser-busy"), String(opts.fuserBusy ?? 0));
  for (const cmd of opts.present ?? []) put(`usr/bin/${cmd}`, "#!/bin/sh\n");
  for (const [name, value] of Object.entries(opts.stub ?? {})) writeFileSync(join(root, "etc/stub", name), value);
  writeFileSync(join(root, "log"), "");
  return {
    root,
    run(script) {
      const [cmd, ...pre] = chrootCommand!;
      const r = spawnSync(cmd, [...pre, root, "/bin/sh"], {
        input: script,
        encoding: "utf8",
        env: { PATH: "/usr/bin:/bin", HOME: "/" },
      });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    log: () => readFileSync(join(root, "log"), "utf8").split("\n").filter(Boolean),
    file: (path) => readFileSync(join(root, path), "utf8"),
  };
}

const plan = (docker: boolean, containerd: boolean) => buildHostPlan({ docker: { enabled: docker }, containerd: { enabled: containerd } });
const json = (stdout: string) => {
  const lines = stdout.split("\n").filter(Boolean);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
};

describe("engine step: contract", () => {
  it("carries exactly the variables its body reads", () => {
    const body = stepSource("engine").replace(/^\s*#.*$/gm, "");
    const read = new Set([...body.matchAll(/\bGV_[A-Z0-9_]+\b/g)].map((m) => m[0]));
    read.add("GV_STEP"); // set by gv_init
    expect([...read].sort()).toEqual([...STEP_INPUTS.engine].sort());
    const script = renderStepScript(plan(true, true), "engine");
    expect(script).toMatch(/^#!\/bin\/sh\n# pulumi-gvisor step: engine\nset -eu\nGV_STEP='engine'\nGV_STATE_DIR='\/var\/lib\/pulumi-gvisor'\nGV_DOCKER_ENABLED='true'\nGV_CONTAINERD_ENABLED='true'\n/);
    expect(script).not.toMatch(/GV_VERSION=|GV_RUNSC_FLAGS=/);
  });

  it.skipIf(spawnSync("shellcheck", ["--version"]).status !== 0)("is shellcheck clean as POSIX sh", () => {
    const r = spawnSync("shellcheck", ["-s", "sh", join(__dirname, "../../src/scripts/steps/engine.sh")], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe.skipIf(chrootCommand === undefined)("engine step: run in a throwaway chroot", () => {
  it("on a fresh apt host: waits for cloud-init and the dpkg lock, installs docker.io and python3, enables and starts Docker", () => {
    const w = world({ pm: "apt", systemd: true, cloudInit: true, fuserBusy: 2 });
    const r = w.run(renderStepCommand(plan(true, false), "engine"));
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(json(r.stdout)).toEqual({ step: "engine", changed: true, installed: ["docker.io", "python3"], started: ["docker"] });

    const log = w.log();
    const at = (re: RegExp) => log.findIndex((l) => re.test(l));
    expect(at(/^cloud-init status --wait/)).toBeGreaterThanOrEqual(0);
    expect(at(/^cloud-init status --wait/)).toBeLessThan(at(/^apt-get .* update$/));
    expect(at(/^apt-get .* update$/)).toBeLessThan(at(/ install /));
    expect(log.filter((l) => l.startsWith("fuser ")).length).toBeGreaterThanOrEqual(3);
    expect(log.filter((l) => l.startsWith("sleep 5")).length).toBe(2);
    const install = log.find((l) => / install /.test(l))!;
    expect(install).toMatch(/^apt-get DEBIAN_FRONTEND=noninteractive -q -y -o DPkg::Lock::Timeout=600 .* install --no-install-recommends docker\.io python3$/);
    expect(at(/^systemctl enable docker\.service/)).toBeGreaterThan(at(/ install /));
    expect(at(/^systemctl start docker\.service/)).toBeGreaterThan(at(/ install /));
    expect(r.stderr).toMatch(/pulumi-gvisor engine: waiting for cloud-init/);
    expect(r.stderr).toMatch(/pulumi-gvisor engine: waiting for another apt\/dpkg run/);
    expect(w.file("var/lib/pulumi-gvisor/engine/record")).toBe("installed=docker.io python3\n");
  });

  it("changes nothing on a second run and says so", () => {
    const w = world({ pm: "apt", systemd: true, cloudInit: true });
    const script = renderStepCommand(plan(true, true), "engine");
    const first = w.run(script);
    expect(json(first.stdout)).toEqual({ step: "engine", changed: true, installed: ["docker.io", "containerd", "python3"], started: ["containerd", "docker"] });
    const before = w.log().length;
    const second = w.run(script);
    expect(second.status).toBe(0);
    expect(json(second.stdout)).toEqual({ step: "engine", changed: false, installed: [], started: [] });
    expect(second.stderr).toMatch(/pulumi-gvisor engine: everything the plan needs is installed \(docker, containerd, python3\); nothing changed/);
    const rerun = w.log().slice(before);
    expect(rerun.filter((l) => /^(apt-get|cloud-init status --wait)/.test(l))).toEqual([]);
    expect(rerun.filter((l) => /^systemctl (enable|start)/.test(l))).toEqual([]);
  });

  it("on an RPM host (Amazon Linux 2023): installs docker and containerd with dnf and starts containerd before Docker", () => {
    const w = world({ pm: "dnf", systemd: true, present: ["python3"] });
    const r = w.run(renderStepCommand(plan(true, true), "engine"));
    expect(r.status).toBe(0);
    expect(json(r.stdout)).toEqual({ step: "engine", changed: true, installed: ["docker", "containerd"], started: ["containerd", "docker"] });
    const log = w.log();
    expect(log).toContain("dnf -q -y --setopt=install_weak_deps=False install docker containerd");
    expect(log.findIndex((l) => l === "systemctl start containerd.service")).toBeLessThan(log.findIndex((l) => l === "systemctl start docker.service"));
  });

  it("only starts a service that is installed but stopped", () => {
    const w = world({ pm: "apt", systemd: true, present: ["dockerd", "docker", "python3"] });
    writeFileSync(join(w.root, "etc/units/docker"), "");
    writeFileSync(join(w.root, "state/enabled-docker"), "");
    const r = w.run(renderStepCommand(plan(true, false), "engine"));
    expect(json(r.stdout)).toEqual({ step: "engine", changed: true, installed: [], started: ["docker"] });
    expect(w.log().filter((l) => l.startsWith("apt-get"))).toEqual([]);
    expect(w.log()).toContain("systemctl start docker.service");
  });

  it("without systemd: installs nothing when all is present, and warns about a daemon that is not running", () => {
    const w = world({ pm: "apt", systemd: false, present: ["dockerd", "docker", "python3"] });
    const r = w.run(renderStepCommand(plan(true, false), "engine"));
    expect(r.status).toBe(0);
    expect(json(r.stdout)).toEqual({ step: "engine", changed: false, installed: [], started: [] });
    expect(r.stderr).toMatch(/warning: dockerd is not running and this host has no systemd/);
    expect(w.log()).toEqual([]);
  });

  it("fails with one clear error line when the package manager fails, and prints no result", () => {
    const w = world({ pm: "apt", systemd: true, stub: { "apt-install-rc": "100" } });
    const r = w.run(renderStepCommand(plan(true, false), "engine"));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    const last = r.stderr.trimEnd().split("\n").pop();
    expect(last).toMatch(/^pulumi-gvisor engine: error: apt install docker\.io python3 failed \(exit 100\); .*package mirror.*re-run$/);
    expect(r.stderr.match(/: error: /g)).toHaveLength(1);
  });

  it("retries apt-get update, then fails naming the cause", () => {
    const w = world({ pm: "apt", systemd: true, stub: { "apt-update-rc": "100" } });
    const r = w.run(renderStepCommand(plan(true, false), "engine"));
    expect(r.status).not.toBe(0);
    expect(w.log().filter((l) => / update$/.test(l))).toHaveLength(3);
    expect(r.stderr.trimEnd().split("\n").pop()).toMatch(/^pulumi-gvisor engine: error: apt-get update failed 3 times; check that the machine reaches its package mirror/);
  });

  it("refuses a host without apt-get, dnf or yum, saying what is missing", () => {
    const w = world({ pm: "none", systemd: false });
    const r = w.run(renderStepCommand(plan(false, true), "engine"));
    expect(r.status).not.toBe(0);
    expect(r.stderr.trimEnd().split("\n").pop()).toBe(
      "pulumi-gvisor engine: error: missing: containerd python3, and this host has neither apt-get nor dnf nor yum; install containerd, python3 with this OS's package manager, or use Ubuntu 24.04 or Amazon Linux 2023",
    );
  });

  it("refuses to run as a non-root user", () => {
    const w = world({ pm: "apt", systemd: false });
    rmSync(join(w.root, "bin/id"));
    writeFileSync(join(w.root, "usr/bin/id"), "#!/bin/sh\necho 1000\n");
    chmodSync(join(w.root, "usr/bin/id"), 0o755);
    const r = w.run(renderStepScript(plan(true, false), "engine"));
    expect(r.status).not.toBe(0);
    expect(r.stderr.trimEnd().split("\n").pop()).toMatch(/^pulumi-gvisor engine: error: the engine step must run as root \(it installs packages\); connect as root/);
    expect(w.log()).toEqual([]);
  });
});
