/**
 * CRI-level proof, through the real CRI API of a real containerd (gRPC on its
 * socket, the CRI proto from Debian's golang-github-kubernetes-cri-api-dev):
 * the handler the RuntimeClass names resolves to `io.containerd.runsc.v1`
 * with the package's ConfigPath, and a RunPodSandbox for that handler reaches
 * the shim binary.
 *
 * The shim is a recording placeholder (no containerd-shim-runsc-v1 is
 * packaged for Debian): it writes down how containerd started it and exits 1,
 * so the sandbox itself fails after the shim was reached.
 *
 * Two containerds, each with the config form it reads, each on the test host
 * flavor whose own package it is (so each case runs once, in its flavor's
 * host project; vitest.config.mts runs this file on those flavors only):
 *   - containerd 1.6 on the bookworm host (config v2, Kubernetes < 1.33),
 *     started by the harness (no systemd);
 *   - containerd 2.1 on the sid host (config v3, Kubernetes 1.33+): Debian
 *     sid's containerd.service, under systemd as PID 1.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";
import { buildEksNodeGroupPlan } from "../../src/plan/eks";
import { TestHost } from "./harness";
import { CRI_FLAVOR_CONTAINERDS, type CriContainerd } from "./harness/cri-flavors";
import { sidPackages } from "./support/debian-sid";
import { useHostSuite } from "./support/suite";

const suite = useHostSuite();

const CRI_DEB = "golang-github-kubernetes-cri-api-dev";
const GOGO_DEB = "golang-github-gogo-protobuf-dev";
const CRI_PROTO = "k8s.io/cri-api/pkg/apis/runtime/v1/api.proto";
const GOCODE = "usr/share/gocode/src";

/**
 * Include roots for the CRI proto and the gogo.proto it imports: the installed
 * Debian packages when present, else the same packages from Debian sid
 * (bookworm has no cri-api package).
 */
async function criProtoRoots(): Promise<string[]> {
  const installed = path.join("/", GOCODE);
  if (fs.existsSync(path.join(installed, CRI_PROTO)) && fs.existsSync(path.join(installed, "github.com/gogo/protobuf/gogoproto/gogo.proto"))) {
    return [installed];
  }
  return [path.join(await sidPackages([CRI_DEB, GOGO_DEB]), GOCODE)];
}

type Unary = (request: object, callback: (err: grpc.ServiceError | null, response: any) => void) => void;

/** A CRI RuntimeService client on the host's containerd socket, reached through /proc/<pid>/root. */
async function criClient(host: TestHost): Promise<{ call: (method: string, request: object) => Promise<any>; close: () => void }> {
  const roots = await criProtoRoots();
  const definition = protoLoader.loadSync(path.join(roots[0], CRI_PROTO), { includeDirs: roots, keepCase: true, longs: String, enums: String, defaults: true });
  const proto = grpc.loadPackageDefinition(definition) as any;
  const socket = host
    .processes()
    .map((pid) => `/proc/${pid}/root/run/containerd/containerd.sock`)
    .find((p) => fs.existsSync(p));
  if (!socket) throw new Error("no process of the host sees /run/containerd/containerd.sock");
  const client = new proto.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  return {
    call: (method, request) =>
      new Promise((resolve, reject) => (client[method] as Unary).call(client, request, (err, res) => (err ? reject(err) : resolve(res)))),
    close: () => client.close(),
  };
}

/** Stands in for containerd-shim-runsc-v1: records how containerd started it (argv, cwd, the bundle, stdin), then fails. */
const RECORDING_SHIM = `#!/bin/sh
rec=/run/gv-shim-calls/$$
mkdir -p "$rec"
printf '%s\\n' "$0" "$@" >"$rec/argv"
pwd >"$rec/cwd"
ls -A >"$rec/bundle"
[ ! -f config.json ] || cp config.json "$rec/config.json"
[ ! -f options.json ] || cp options.json "$rec/options.json"
timeout 2 cat >"$rec/stdin" 2>/dev/null || true
echo "containerd-shim-runsc-v1: recording placeholder (pulumi-gvisor CRI test), not a real shim" >&2
exit 1
`;

/**
 * The node as the user data makes it: the node group's NodeConfig containerd
 * part merged into a base config (what nodeadm does), a local sandbox image
 * (no registry is reachable), the native snapshotter (the host's /var is an
 * overlay), and the recording shim on containerd's PATH.
 */
async function nodeHost(ctd: CriContainerd) {
  const plan = buildEksNodeGroupPlan({ kubernetesVersion: ctd.kubernetesVersion });
  const v3 = plan.containerdConfigVersion === 3;
  const cri = v3 ? "plugins.'io.containerd.cri.v1.runtime'" : 'plugins."io.containerd.grpc.v1.cri"';
  const image = "docker.io/local/pause:latest";
  const base = v3
    ? [
        "version = 3",
        "[plugins.'io.containerd.cri.v1.images']",
        '  snapshotter = "native"',
        "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
        `  sandbox = "${image}"`,
      ]
    : ["version = 2", `[${cri}]`, `  sandbox_image = "${image}"`, `[${cri}.containerd]`, '  snapshotter = "native"'];
  const containerdConfig = [...base, `[${cri}.containerd.runtimes.runc]`, '  runtime_type = "io.containerd.runc.v2"', "", plan.containerdConfig].join("\n");
  const host = await suite.freshHost({ containerdConfig });
  // The containerd under test is the one promised: the flavor's own package, run the flavor's way.
  expect(host.flavor.name).toBe(ctd.flavor);
  expect((await host.exec(["containerd", "--version"])).stdout, ctd.name).toMatch(ctd.version);
  await host.writeFile("/usr/local/bin/containerd-shim-runsc-v1", RECORDING_SHIM, 0o755);
  await host.containerd.start();
  if (host.flavor.systemd) {
    expect((await host.systemctl(["is-active", "containerd.service"])).stdout.trim()).toBe("active");
    // The unit's main process is the packaged binary (the harness's drop-in only starts it in a network namespace).
    expect((await host.sh('readlink "/proc/$(systemctl show --property=MainPID --value containerd.service)/exe"')).stdout.trim()).toBe("/usr/bin/containerd");
  }
  // The sandbox (pause) image: the host's busybox with an entrypoint, from Docker into containerd's k8s.io namespace.
  const imported = await host.sh(
    `c=$(docker create local/busybox:latest true) && docker commit --change 'ENTRYPOINT ["/bin/sleep", "3600"]' "$c" local/pause:latest >/dev/null && docker save local/pause:latest | ctr -n k8s.io images import ${v3 ? "--local " : ""}--snapshotter native -`,
  );
  if (imported.code !== 0) throw new Error(`importing the sandbox image: ${imported.stderr}`);
  return { host, plan };
}

describe.each(CRI_FLAVOR_CONTAINERDS.filter((c) => c.flavor === suite.flavor.name))("CRI: the RuntimeClass's handler on a real $name", (ctd) => {
  it("resolves to io.containerd.runsc.v1 with the package's ConfigPath, and RunPodSandbox for it reaches the shim", async () => {
    const { host, plan } = await nodeHost(ctd);
    const handler = plan.runtimeClass.manifest.handler;
    expect(handler).toBe("runsc");
    const cri = await criClient(host);
    try {
      const version = await cri.call("Version", { version: "v1" });
      expect(version.runtime_name).toBe("containerd");

      // What the CRI plugin really loaded (Status, verbose: its config as JSON).
      const status = await cri.call("Status", { verbose: true });
      const config = JSON.parse(status.info.config);
      const runtimes = config.containerd.runtimes;
      expect(Object.keys(runtimes).sort()).toEqual(["runc", handler]);
      expect(runtimes[handler].runtimeType).toBe("io.containerd.runsc.v1");
      expect(runtimes[handler].options).toMatchObject({ TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: plan.host.containerd.runscConfigPath });
      // containerd 2 also lists the handlers it serves.
      if (plan.containerdConfigVersion === 3) expect(status.runtime_handlers.map((h: { name: string }) => h.name)).toContain(handler);

      // A pod sandbox for the handler, as kubelet asks for a pod of the RuntimeClass (host network: no CNI here).
      const sandbox = {
        metadata: { name: "gvisor-cri-proof", uid: "4f1c2a3b-0000-4000-8000-000000000001", namespace: "default", attempt: 0 },
        hostname: "gvisor-cri-proof",
        log_directory: "/var/log/pods/gvisor-cri-proof",
        linux: { security_context: { namespace_options: { network: "NODE", pid: "POD", ipc: "POD" } } },
      };
      const run = cri.call("RunPodSandbox", { config: sandbox, runtime_handler: handler });
      await expect(run).rejects.toMatchObject({ details: expect.stringMatching(/containerd-shim-runsc-v1|shim/) });

      const calls = (await host.sh("ls /run/gv-shim-calls 2>/dev/null || true")).stdout.split("\n").filter(Boolean);
      expect(calls.length, "containerd never started containerd-shim-runsc-v1").toBeGreaterThan(0);
      const rec = `/run/gv-shim-calls/${calls[0]}`;
      const argv = (await host.readFile(`${rec}/argv`))!.trim().split("\n");
      // Started from containerd's PATH, for the k8s.io namespace, with the shim `start` verb.
      expect(argv[0]).toBe("/usr/local/bin/containerd-shim-runsc-v1");
      expect(argv).toEqual(expect.arrayContaining(["-namespace", "k8s.io", "-id", "start"]));
      const cwd = (await host.readFile(`${rec}/cwd`))!.trim();
      expect(cwd).toMatch(/\/io\.containerd\.runtime\.v2\.task\/k8s\.io\/[0-9a-f]{64}$/);
      expect(argv[argv.indexOf("-id") + 1]).toBe(path.basename(cwd));
      // The bundle is the pod sandbox's: its OCI spec names it a CRI sandbox for this pod.
      const spec = JSON.parse((await host.readFile(`${rec}/config.json`))!);
      expect(spec.annotations).toMatchObject({
        "io.kubernetes.cri.container-type": "sandbox",
        "io.kubernetes.cri.sandbox-name": "gvisor-cri-proof",
        "io.kubernetes.cri.sandbox-id": path.basename(cwd),
      });

      // The shim's runtime options, on its stdin (a protobuf runtimeoptions.v1.Options): the type and the
      // package's ConfigPath, which a real shim reads runsc.toml from.
      const stdin = (await host.readFile(`${rec}/stdin`)) ?? "";
      expect(stdin).toContain("io.containerd.runsc.v1.options");
      expect(stdin).toContain(plan.host.containerd.runscConfigPath);

      // The failed sandbox is reported as not ready, under the handler.
      const listed = await cri.call("ListPodSandbox", {});
      for (const item of listed.items) expect(item.state).not.toBe("SANDBOX_READY");
    } finally {
      cri.close();
    }
  });

  it("the default runc handler does not reach the runsc shim (the handler, not chance, picks it)", async () => {
    const { host } = await nodeHost(ctd);
    const cri = await criClient(host);
    try {
      const sandbox = {
        metadata: { name: "plain-runc", uid: "4f1c2a3b-0000-4000-8000-000000000002", namespace: "default", attempt: 0 },
        linux: { security_context: { namespace_options: { network: "NODE", pid: "POD", ipc: "POD" } } },
      };
      // runc may or may not start a sandbox here; it is asked, and the runsc shim is not.
      const outcome: string = await cri.call("RunPodSandbox", { config: sandbox, runtime_handler: "" }).then(
        () => "started",
        (e: grpc.ServiceError) => e.details,
      );
      expect(outcome).toMatch(/^started$|runc/);
      expect((await host.sh("ls /run/gv-shim-calls 2>/dev/null || true")).stdout.trim()).toBe("");
    } finally {
      cri.close();
    }
  });
});
