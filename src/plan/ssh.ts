/**
 * Checks of the SSH connection settings that can be made before anything
 * dials: the provider compares a pinned host key byte for byte with what the
 * server presents, so a key in the wrong format never matches and every step
 * fails only at `pulumi up`.
 */
import { check, joinPath, show } from "./errors";
import { requireLine } from "./text";

/** OpenSSH public key types a server can present as its host key. */
export const HOST_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/**
 * Requires one OpenSSH public key line, `<type> <base64> [comment]`, whose
 * base64 blob names the same key type (as /etc/ssh/ssh_host_*_key.pub holds;
 * not a known_hosts line, which starts with the host name).
 */
export function requireHostKey(value: unknown, property: string): string {
  const line = requireLine(value, property).trim();
  const [type, blob] = line.split(/\s+/);
  const hint = 'use the server\'s public host key, e.g. the content of /etc/ssh/ssh_host_ed25519_key.pub ("ssh-ed25519 AAAAC3Nz…")';
  check(
    (HOST_KEY_TYPES as readonly string[]).includes(type ?? ""),
    property,
    `must start with an OpenSSH key type (${HOST_KEY_TYPES.slice(0, 3).join(", ")}, …), got ${show(line.slice(0, 40))}${line.length > 40 ? "…" : ""}; ${hint}`,
  );
  check(blob !== undefined && /^[A-Za-z0-9+/]+={0,3}$/.test(blob), property, `must have the base64 key after "${type}"; ${hint}`);
  const bytes = Buffer.from(blob, "base64");
  const nameLength = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  const inner = nameLength > 0 && bytes.length >= 4 + nameLength ? bytes.subarray(4, 4 + nameLength).toString("latin1") : "";
  check(inner === type, property, `is not a valid ${type} key (its base64 part does not encode a ${type} key); ${hint}`);
  return line;
}

/** The plain connection fields this package checks (credentials are left alone). */
export interface ConnectionFields {
  host?: unknown;
  port?: unknown;
  user?: unknown;
  hostKey?: unknown;
  dialErrorLimit?: unknown;
  perDialTimeout?: unknown;
  proxy?: unknown;
}

function optionalInteger(value: unknown, min: number, max: number, property: string): void {
  if (value === undefined) return;
  check(
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max,
    property,
    `must be a whole number from ${min} to ${max}, got ${show(value)}`,
  );
}

/**
 * Checks the fields of `conn` that are known (plain values); `isKnown`
 * tells which are, so an address made by another resource does not hold back
 * the check of a pinned key.
 */
export function checkConnectionFields(conn: ConnectionFields, root: string, isKnown: (v: unknown) => boolean = () => true): void {
  const at = (k: string) => joinPath(root, k);
  const known = (v: unknown) => v !== undefined && isKnown(v);
  if (known(conn.host)) requireLine(conn.host, at("host"));
  if (known(conn.port)) optionalInteger(conn.port, 1, 65535, at("port"));
  if (known(conn.user)) requireLine(conn.user, at("user"));
  if (known(conn.hostKey)) requireHostKey(conn.hostKey, at("hostKey"));
  if (known(conn.dialErrorLimit)) optionalInteger(conn.dialErrorLimit, 0, 1000, at("dialErrorLimit"));
  if (known(conn.perDialTimeout)) optionalInteger(conn.perDialTimeout, 1, 3600, at("perDialTimeout"));
  if (known(conn.proxy) && typeof conn.proxy === "object" && conn.proxy !== null) {
    checkConnectionFields(conn.proxy as ConnectionFields, at("proxy"), isKnown);
  }
}
