/**
 * A deliberately small stand-in for the Pulumi engine and the command
 * provider, for `npm run try-it` only: each remote.Command's `create` text is
 * run over real SSH with the connection the component sent, its stdout
 * becomes the resource's output, and `destroy()` runs the `delete` texts
 * newest first, as `pulumi destroy` does for a dependency chain. No state, no
 * diffs, no previews: replace it with test/host/support/engine-model.ts once
 * that lands.
 */
import * as pulumi from "@pulumi/pulumi";
import { sshRun } from "../test/host/harness";

// The SDK sends secrets to the engine wrapped with this signature.
const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const unwrap = (v: unknown): unknown => {
  const w = v as { [SECRET_KEY]?: string; value?: unknown } | undefined;
  return w?.[SECRET_KEY] === SECRET_SIG ? w.value : v;
};

interface Connection {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKey: string;
}

/** One command as the mock engine ran it. */
export interface RanCommand {
  name: string;
  seconds: number;
  deleteText?: string;
  connection: Connection;
}

const run = async (c: Connection, text: string, what: string) => {
  const r = await sshRun({ host: c.host, port: c.port, user: c.user, privateKey: c.privateKey, hostPublicKey: c.hostKey }, text);
  if (r.code !== 0) {
    const line = r.stderr.trim().split("\n").pop() ?? "";
    throw new Error(`${what}: exit ${r.code}: ${line}`);
  }
  return r;
};

/** Installs the mock engine; `onCommand` sees each command after it ran. */
export function sshCommandEngine(onCommand: (ran: RanCommand) => void = () => {}) {
  const ran: RanCommand[] = [];
  pulumi.runtime.setMocks(
    {
      async newResource(args) {
        if (args.type !== "command:remote:Command") return { id: `${args.name}-id`, state: args.inputs };
        const connection = unwrap(args.inputs.connection) as Connection;
        if (!connection.hostKey) throw new Error(`${args.name}: no hostKey: try-it only connects to a pinned host key`);
        const started = Date.now();
        const r = await run(connection, args.inputs.create, args.name);
        const entry = { name: args.name, seconds: (Date.now() - started) / 1000, deleteText: args.inputs.delete || undefined, connection };
        ran.push(entry);
        onCommand(entry);
        return { id: `${args.name}-id`, state: { ...args.inputs, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr.replace(/\n$/, "") } };
      },
      call: (args) => args.inputs,
    },
    "try-it",
    "local",
    false,
  );
  return {
    ran,
    /** Runs the delete texts newest first. */
    async destroy(): Promise<void> {
      for (const r of [...ran].reverse()) if (r.deleteText) await run(r.connection, r.deleteText, `delete ${r.name}`);
    },
  };
}
