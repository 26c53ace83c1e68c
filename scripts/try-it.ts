/**
 * `sudo npm run try-it`: gVisor installed by the Host component, without a
 * cloud. Starts a throwaway local test host (its own namespaces, a real sshd,
 * dockerd and Debian's runsc; see test/host/harness/README.md) and a local
 * release mirror, deploys `Host` onto it through the Pulumi SDK, prints the
 * verification, then destroys and stops everything. Root on Debian/Ubuntu.
 */
import { Host } from "../src";
import { ensureHostPackages, startMirror, startTestHost } from "../test/host/harness";
import { parseVerification } from "../src/plan/verification";
import { EngineModel } from "../test/host/support/engine-model";

const started = Date.now();
const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const say = (line: string) => console.log(`[${at()}] ${line}`);

const REAL_AND_MODELLED = `
What is real here: the test host's sshd (every step runs over real SSH, host key pinned),
its dockerd, Debian's runsc binary and a real sandboxed container; the step scripts are
exactly the ones Host renders for a real machine.
What is modelled: the Pulumi engine and the command provider (test/host/support/engine-model.ts,
written from their source: diff, update or replace, delete order, state between runs), and
the release mirror (a local server laying out Debian's runsc like gVisor's bucket, under
a fixture version name; the containerd shim in it is a placeholder).`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root (sudo npm run try-it): the test host needs namespaces, mounts and its own dockerd");
  say("checking the host packages (apt-get installs what is missing: runsc docker.io containerd openssh-server …)");
  await ensureHostPackages();
  say("starting the release mirror and a throwaway test host");
  const [mirror, host] = await Promise.all([startMirror(), startTestHost()]);
  try {
    say(`test host up: sshd on 127.0.0.1:${host.ssh.port}, dockerd running, /usr/local/bin empty`);
    const engine = new EngineModel({ project: "try-it", stack: "local" });
    const program = () => {
      new Host("try-it", {
        connection: host.connection("root"),
        version: mirror.versions.archive,
        mirror: mirror.baseUrl,
        // Debian's runsc 20221219 refuses a sandbox network in a root network namespace.
        runsc: { network: "none" },
        verify: { image: "local/busybox:latest" },
      });
    };
    say("pulumi preview");
    const preview = await engine.up(program, { preview: true });
    say(`preview: ${preview.steps.filter((s) => s.op === "create").length} resources to create`);
    say("pulumi up");
    const up = await engine.up(program);
    for (const s of up.steps) if (s.ran) say(`  ${s.op} ${s.urn.split("::").pop()} (${s.ran} over SSH)`);
    if (up.error) throw new Error(up.error);
    const verification = parseVerification(engine.resource("try-it-verify").outputs.stdout);
    console.log(`\nverification (the verify step's report, as the Host's outputs carry it):\n${JSON.stringify(verification, null, 2)}\n`);
    console.log(`isolated: ${verification.isolated}`);
    const docker = await host.run("docker run --rm --runtime=runsc local/busybox:latest uname -r");
    console.log(`docker run --runtime=runsc … uname -r  →  ${docker.stdout.trim()} (host kernel ${verification.hostKernel})`);
    say("pulumi up again: nothing to do");
    const again = await engine.up(program);
    say(`second up: ${again.steps.filter((s) => s.ran).length} commands ran`);
    say("pulumi destroy: the lifecycle's delete uninstalls over SSH");
    const destroyed = await engine.destroy();
    if (destroyed.error) throw new Error(destroyed.error);
    const left = (await host.run("ls -A /usr/local/bin")).stdout.trim();
    say(`destroyed: /usr/local/bin is ${left === "" ? "empty again" : `not empty: ${left}`}`);
    console.log(REAL_AND_MODELLED);
    if (!verification.isolated) process.exitCode = 1;
  } finally {
    await Promise.all([host.stop(), mirror.stop()]);
    say("test host and mirror stopped");
  }
}

main().catch((err) => {
  console.error(`try-it: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
