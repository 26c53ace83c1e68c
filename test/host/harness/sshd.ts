/**
 * The host's sshd: a real OpenSSH server on a free loopback port with its
 * own host key, configured like a hardened stock server (keys only, no
 * AcceptEnv), so commands reach it exactly as they reach a real machine.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SSH_USERS } from "./constants";
import type { HostMachine, HostNamespace } from "./namespace";
import { freePort, greets } from "./ports";
import { waitFor } from "./wait";

/** Where sshd's files live inside the host (copy-on-write /etc). */
export const SSHD_DIR = "/etc/ssh/gvtest";

export interface SshKeys {
  /** OpenSSH public key line of the host key (`ssh-ed25519 AAAA… comment`). */
  hostPublicKey: string;
  hostPrivateKey: string;
  /** OpenSSH private key the client logs in with (any user). */
  clientPrivateKey: string;
  clientPublicKey: string;
}

export function generateKeys(id: string): SshKeys {
  const host = keygen(`gvtest-host-${id}`);
  const client = keygen(`gvtest-client-${id}`);
  return {
    hostPublicKey: host.public,
    hostPrivateKey: host.private,
    clientPrivateKey: client.private,
    clientPublicKey: client.public,
  };
}

/**
 * An ed25519 key pair from OpenSSH's own ssh-keygen. (ssh2's generator now
 * and then writes a private key OpenSSH's sshd refuses to load: "error in
 * libcrypto", seen on about one host in ten.)
 */
function keygen(comment: string): { public: string; private: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gvtest-key-"));
  try {
    const file = path.join(dir, "key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" });
    return { private: fs.readFileSync(file, "utf8"), public: fs.readFileSync(`${file}.pub`, "utf8").trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** No Port/ListenAddress here: given on the command line so a port clash can be retried. */
function sshdConfig(): string {
  return [
    `HostKey ${SSHD_DIR}/ssh_host_ed25519_key`,
    "PidFile /run/sshd.pid",
    `AuthorizedKeysFile ${SSHD_DIR}/authorized_keys/%u`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    `AllowUsers ${SSH_USERS.join(" ")}`,
    // No PAM: nothing here to authenticate against, and pam_systemd/loginuid
    // have nothing to talk to. No AcceptEnv: like a stock sshd, SSH
    // environment requests are refused.
    "UsePAM no",
    "UseDNS no",
    "PrintMotd no",
    "PrintLastLog no",
    "MaxStartups 100:30:200",
    "MaxSessions 50",
    "LogLevel VERBOSE",
    "Subsystem sftp internal-sftp",
    "",
  ].join("\n");
}

/** Writes sshd's files into the seed dir; SEED_SSHD_SCRIPT copies them into the host. */
export function writeSshdSeed(seedDir: string, keys: SshKeys): void {
  const d = path.join(seedDir, "ssh");
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, "sshd_config"), sshdConfig());
  fs.writeFileSync(path.join(d, "ssh_host_ed25519_key"), keys.hostPrivateKey, { mode: 0o600 });
  fs.writeFileSync(path.join(d, "ssh_host_ed25519_key.pub"), keys.hostPublicKey + "\n");
  fs.writeFileSync(path.join(d, "authorized_keys"), keys.clientPublicKey + "\n");
}

/** Runs inside the host during setup ($1 = host working dir). StrictModes wants root-owned, 0644 key files. */
export const SEED_SSHD_SCRIPT = String.raw`
mkdir -p ${SSHD_DIR}/authorized_keys
cp "$H/seed/ssh/sshd_config" "$H/seed/ssh/ssh_host_ed25519_key" "$H/seed/ssh/ssh_host_ed25519_key.pub" ${SSHD_DIR}/
chmod 0600 ${SSHD_DIR}/ssh_host_ed25519_key
for u in ${SSH_USERS.join(" ")}; do
  cp "$H/seed/ssh/authorized_keys" "${SSHD_DIR}/authorized_keys/$u"
  chmod 0644 "${SSHD_DIR}/authorized_keys/$u"
done
`;

/** Starts sshd inside the host and resolves with its port once it greets. */
export async function startSshd(ns: HostNamespace, logPath: string): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = ns.spawnDaemon(
      ["/usr/sbin/sshd", "-D", "-e", "-f", `${SSHD_DIR}/sshd_config`, "-o", "ListenAddress=127.0.0.1", "-o", `Port=${port}`],
      logPath,
    );
    try {
      await waitFor(
        `sshd on 127.0.0.1:${port}`,
        async () => {
          if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}; see ${logPath}`);
          return (await greets(port, "SSH-2.0-")) ? true : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      return port;
    } catch (e) {
      // Most likely someone took the port between freePort() and bind(): try another.
      lastError = e;
      child.kill("SIGKILL");
    }
  }
  throw new Error(`sshd did not start: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

/**
 * Waits for the systemd flavors' ssh.service (units.ts gives it `port`) to
 * greet. Should someone have taken the port since freePort(), sshd fails to
 * bind: the unit is pointed at another port and restarted.
 */
export async function waitSshdUnit(m: HostMachine, port: number, logPath: string): Promise<number> {
  const dropin = "/etc/systemd/system/ssh.service.d/gvtest.conf";
  for (let attempt = 0; ; attempt++) {
    try {
      await waitFor(`sshd (ssh.service) on 127.0.0.1:${port}`, async () => ((await greets(port, "SSH-2.0-")) ? true : undefined), {
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      return port;
    } catch (e) {
      if (attempt >= 3) throw new Error(`${(e as Error).message}\n${fs.existsSync(logPath) ? fs.readFileSync(logPath, "utf8").slice(-2000) : ""}`);
      const next = await freePort();
      const r = await m.exec([
        "sh",
        "-c",
        'sed -i "s/-o Port=[0-9]*/-o Port=$1/" "$2" && systemctl daemon-reload && systemctl reset-failed ssh.service; systemctl restart ssh.service',
        "sh",
        String(next),
        dropin,
      ]);
      if (r.code !== 0) throw new Error(`could not move sshd to port ${next}: ${r.stderr}`);
      port = next;
    }
  }
}
