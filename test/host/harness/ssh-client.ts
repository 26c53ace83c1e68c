/**
 * Running command text over a real SSH connection the way @pulumi/command's
 * remote.Command does: one connection, one `exec` of the whole string, no pty,
 * optional stdin, and the server's host key pinned.
 */
import { Client } from "ssh2";
import type { CommandResult } from "./proc";

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** OpenSSH private key text. */
  privateKey: string;
  /** The host key to accept, as an OpenSSH public key line; any other key fails the connection. */
  hostPublicKey: string;
}

export interface SshRunOptions {
  /** Sent on stdin, then stdin is closed (remote.Command's `stdin`). */
  stdin?: string;
  /**
   * Sent as SSH environment requests, as remote.Command's `environment` is.
   * A stock sshd (and the test host's) drops them: use to prove a step does
   * not rely on them.
   */
  env?: Record<string, string>;
  /** Give up (and close the connection) after this many ms. Default 10 min. */
  timeoutMs?: number;
}

/** The base64 key blob of an OpenSSH public key line, which is what the server presents. */
export function keyBlob(publicKeyLine: string): Buffer {
  const b64 = publicKeyLine.trim().split(/\s+/)[1];
  if (!b64) throw new Error(`not an OpenSSH public key: ${publicKeyLine}`);
  return Buffer.from(b64, "base64");
}

export function sshRun(target: SshTarget, command: string, opts: SshRunOptions = {}): Promise<CommandResult> {
  const expected = keyBlob(target.hostPublicKey);
  const timeoutMs = opts.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const conn = new Client();
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.end();
      reject(new Error(`ssh ${target.user}@${target.host}:${target.port}: ${e.message}`));
    };
    const timer = setTimeout(() => {
      fail(new Error(`timed out after ${timeoutMs} ms`));
      conn.destroy();
    }, timeoutMs);

    conn.on("error", fail);
    conn.on("ready", () => {
      conn.exec(command, opts.env ? { env: opts.env } : {}, (err, stream) => {
        if (err) return fail(err);
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        stream.on("data", (b: Buffer) => out.push(b));
        stream.stderr.on("data", (b: Buffer) => errOut.push(b));
        stream.on("exit", (c: number | null, sig?: string) => {
          code = c;
          signal = sig ?? undefined;
        });
        stream.on("close", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          conn.end();
          resolve({
            code,
            ...(signal ? { signal } : {}),
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errOut).toString("utf8"),
          });
        });
        if (opts.stdin !== undefined) stream.end(opts.stdin);
        else stream.end();
      });
    });
    conn.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      // Pinning: the raw key the server presents must be the generated one.
      hostVerifier: (key: Buffer) => key.equals(expected),
      readyTimeout: 30_000,
      tryKeyboard: false,
    });
  });
}
