/**
 * The step bundle: every step body in one content-addressed file, sent to a
 * host once (remote.CopyToRemote) and unpacked there by root into
 * `<stateDir>/bundles/<sha256>/<step>.sh`. Step commands then carry only their
 * shell-quoted assignments and a call by hash, so a Host's Pulumi state stays
 * small and a one-option change shows in `pulumi preview --diff` as the few
 * assignment lines it changes, not as a diff inside 30 KB scripts.
 *
 * The bundle is a POSIX sh script: `sh bundle.sh DIR` writes one file per
 * step. Each file is exactly renderStepBody(step), the same text that user
 * data embeds after its assignments: one source of truth for what runs.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StepName, renderStepBody } from "./render";

/** Every step a bundle carries (a Host runs a subset of them). */
export const BUNDLED_STEPS: readonly StepName[] = ["engine", "install", "configure-docker", "configure-containerd", "verify", "uninstall"];

const DELIMITER = "PULUMI_GVISOR_BUNDLE_EOF";

/** The bundle's text and its sha256 (hex), which names it on every host. */
export interface StepBundle {
  /** sha256 of `text`, lowercase hex: the bundle's name on hosts and in step commands. */
  id: string;
  text: string;
}

let memo: StepBundle | undefined;

/** The bundle of this package's step bodies (built once per process). */
export function stepBundle(): StepBundle {
  if (memo) return memo;
  const parts = [
    "#!/bin/sh",
    "# pulumi-gvisor step bundle: `sh bundle.sh DIR` writes one script per step into DIR.",
    "# Step commands check this file's sha256 before they unpack it (as root) and source a step.",
    "set -eu",
    "d=${1:?usage: sh bundle.sh DIR}",
  ];
  for (const step of BUNDLED_STEPS) {
    const body = renderStepBody(step);
    if (body.split("\n").includes(DELIMITER)) throw new Error(`step ${step} contains the bundle delimiter line ${DELIMITER}`);
    parts.push(`cat >"$d/${step}.sh" <<'${DELIMITER}'`, body.trimEnd(), DELIMITER);
  }
  const text = `${parts.join("\n")}\n`;
  memo = { id: createHash("sha256").update(text).digest("hex"), text };
  return memo;
}

/**
 * The bundle as a local file, for a FileAsset: the engine hashes it, state
 * keeps only that hash and the path. Written once per bundle id under the OS
 * temp dir, in a directory of this user's own (atomically, so concurrent
 * programs never see half a file).
 */
export function stepBundleFile(bundle: StepBundle = stepBundle(), dir = path.join(os.tmpdir(), `pulumi-gvisor-${os.userInfo().uid}`)): string {
  const file = path.join(dir, `bundle-${bundle.id}.sh`);
  try {
    if (fs.readFileSync(file, "utf8") === bundle.text) return file;
  } catch {
    // not written yet
  }
  // One directory per user: another user's files there are never read or replaced.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  // Ownership only means something where files have POSIX owners.
  const foreign = process.platform !== "win32" && st.uid !== os.userInfo().uid;
  if (!st.isDirectory() || foreign) throw new Error(`${dir} is not a directory of this user; remove it or set TMPDIR`);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, bundle.text, { mode: 0o644 });
  fs.renameSync(tmp, file);
  return file;
}

/**
 * Where the login user uploads the bundle: a path relative to that user's
 * home directory, where both SFTP and the step commands start. Only that
 * user (and root) can write there, so no other local user can plant or
 * pre-create the file, as they could in a shared /tmp or /var/tmp. What
 * lands there is still untrusted until root has checked its sha256. The
 * name carries the login, so a new login changes the path and the provider
 * copies the bundle into that login's home on the update.
 */
export function bundleUploadPath(bundleId: string, user: string): string {
  const safeUser = user.replace(/[^A-Za-z0-9._-]/g, "_");
  // The steps find older uploads by this prefix (uninstall.sh, invocation.ts's bootstrap).
  return `.pulumi-gvisor-bundle-${safeUser}-${bundleId.slice(0, 16)}.sh`;
}
