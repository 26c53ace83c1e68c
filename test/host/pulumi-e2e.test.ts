/**
 * End to end through the Pulumi SDK: a program using `Host` against a real
 * test host. The mock engine stands in for the Pulumi CLI and does what the
 * command provider does: it runs each remote.Command's `create` text over real
 * SSH and returns its stdout; on "destroy" it runs the `delete` texts in
 * reverse dependency order.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Host } from "../../src/components/host";
import { HostArgs } from "../../src/components/host-args";
import { SshUser, TestHost } from "./harness";
import { useHostSuite } from "./support/suite";
import { flavorRunscOptions, lastLine } from "./support/steps";

interface Ran {
  name: string;
  deleteText?: string;
}

/** The SDK sends secrets to the engine wrapped with a signature key; unwrap one. */
function unwrapSecret(value: any): { secret: boolean; value: any } {
  const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
  const sigKey = "4dabf18193072939515e22adb298388d";
  return value?.[sigKey] === SECRET_SIG ? { secret: true, value: value.value } : { secret: false, value };
}

/** Installs a mock engine that executes remote commands on `host` as `user`. */
function engineOn(host: TestHost, user: SshUser) {
  const created: Ran[] = [];
  pulumi.runtime.setMocks(
    {
      async newResource(args) {
        if (args.type !== "command:remote:Command") return { id: `${args.name}-id`, state: args.inputs };
        // The connection reaches the provider as a secret, with the pinned host key.
        const conn = unwrapSecret(args.inputs.connection);
        if (!conn.secret) throw new Error("connection was not sent as a secret");
        const expected = { host: "127.0.0.1", port: host.ssh.port, user, hostKey: host.ssh.hostPublicKey };
        for (const [k, v] of Object.entries(expected)) {
          if (conn.value[k] !== v) throw new Error(`connection.${k} is ${conn.value[k]}, expected ${v}`);
        }
        const r = await host.run(args.inputs.create, { user });
        if (r.code !== 0) throw new Error(`${args.name}: ${lastLine(r.stderr)}`);
        created.push({ name: args.name, deleteText: args.inputs.delete || undefined });
        return { id: `${args.name}-id`, state: { ...args.inputs, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr.replace(/\n$/, "") } };
      },
      call: (args) => args.inputs,
    },
    "pulumi-gvisor-e2e",
    "e2e",
    false,
  );
  return {
    created,
    /** Runs delete texts newest first, as `pulumi destroy` does for a dependency chain. */
    async destroy() {
      for (const r of [...created].reverse()) {
        if (!r.deleteText) continue;
        const out = await host.run(r.deleteText, { user });
        if (out.code !== 0) throw new Error(`delete ${r.name}: ${lastLine(out.stderr)}`);
      }
    },
  };
}

const outputValue = <T>(o: pulumi.Output<T>): Promise<T> => (o as any).promise() as Promise<T>;

const suite = useHostSuite();

const args = (host: TestHost, user: SshUser, extra: Partial<HostArgs> = {}): HostArgs => ({
  connection: host.connection(user),
  version: suite.mirror().versions.archive,
  mirror: suite.mirror().baseUrl,
  runsc: { network: "none", ...flavorRunscOptions() },
  verify: { image: "local/busybox:latest" },
  ...extra,
});

describe("Host through the Pulumi SDK on a real host", () => {
  it("deploys, reports isolated: true from its own outputs, and destroys back to the original host", async () => {
    const original = '{\n  "log-driver": "json-file"\n}\n';
    const host = await suite.freshHost({ daemonJson: original });
    const engine = engineOn(host, "gvtest");

    const gv = new Host("e2e", args(host, "gvtest"));
    const verification = await outputValue(gv.verification);
    const hostKernel = (await host.exec(["uname", "-r"])).stdout.trim();
    expect(await outputValue(gv.isolated)).toBe(true);
    expect(await outputValue(gv.runscVersion)).toBe("0.0~20221219.0");
    expect(verification.hostKernel).toBe(hostKernel);
    expect(verification.runtimes).toEqual([
      { engine: "docker", name: "runsc", ran: true, sandboxKernel: "4.4.0", kallsymsHidden: true, runtimePath: "/usr/local/bin/runsc", sandboxProcess: true },
    ]);
    expect(verification.runtimes[0].sandboxKernel).not.toBe(hostKernel);
    // install first, the two configure steps in parallel, verify last
    const order = engine.created.map((c) => c.name);
    expect(order[0]).toBe("e2e-install");
    expect(order.slice(1, 3).sort()).toEqual(["e2e-configure-containerd", "e2e-configure-docker"]);
    expect(order[3]).toBe("e2e-verify");
    expect(Object.keys(await host.docker.runtimes())).toContain("runsc");

    await engine.destroy();
    expect(await host.readFile("/etc/docker/daemon.json")).toBe(original);
    expect(Object.keys(await host.docker.runtimes())).not.toContain("runsc");
    expect(await host.stat("/usr/local/bin/runsc")).toBeUndefined();
    expect(await host.stat("/usr/local/bin/containerd-shim-runsc-v1")).toBeUndefined();
  });

  it("surfaces a failed step as a failed resource carrying the step's error line", async () => {
    const host = await suite.freshHost();
    const engine = engineOn(host, "root");
    // A real language host learns of a failed resource through rejections
    // nobody awaits; listen the same way.
    const failures: string[] = [];
    const listener = (reason: unknown) => failures.push(String((reason as Error)?.message ?? reason));
    process.on("unhandledRejection", listener);
    try {
      new Host("expected-failure", args(host, "root", { version: suite.mirror().versions.archiveBadChecksum }));
      for (let i = 0; i < 100 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off("unhandledRejection", listener);
    }
    expect(failures[0]).toMatch(
      /^failed to register new resource expected-failure-install \[command:remote:Command\]: expected-failure-install: pulumi-gvisor install: error: checksum mismatch/,
    );
    expect(engine.created).toEqual([]);
    expect((await host.exec(["ls", "-A", "/usr/local/bin"])).stdout).toBe("");
    expect(await host.readFile("/etc/docker/daemon.json")).toBeUndefined();
  });
});
