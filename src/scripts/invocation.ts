/**
 * Short step commands: what a Host's remote.Commands carry. Each is the
 * step's shell-quoted assignments plus a call, by sha256, of the step body in
 * the bundle the host already holds (see bundle.ts). The full text of every
 * step stays inspectable: renderStepScript() gives it, and `sh bundle.sh DIR`
 * writes exactly the files these commands source.
 */
import { HostPlan } from "../plan/host-plan";
import { shellAssignment } from "./quote";
import { StepName, stepAssignments } from "./render";

/** The fixed heredoc delimiter; a line equal to it is refused when rendering. */
const DELIMITER = "PULUMI_GVISOR_STEP";

/** What every step command needs to find its bundle on the host. */
export interface BundleRef {
  /** sha256 (hex) of the bundle file. */
  id: string;
  /** Where the login user uploaded it (bundleUploadPath). */
  uploadPath: string;
  /** The Pulumi resource that uploads it, named in repair hints. */
  resourceName: string;
}

/** The Host resource that owns the gVisor setup on a machine. */
export interface OwnerRef {
  /** A digest of the Host's URN: one line, JSON-safe. */
  id: string;
  /** The Host's URN, for people reading the command. */
  urn: string;
}

// Where the upload is: a relative path is under the login's home, where SSH
// commands (and sudo) start, or else the home the password database gives the
// login. Sets gv_up (the file) and gv_updir (its directory).
const UPLOAD_LOCATION = String.raw`case $GV_BUNDLE_UPLOAD in
/*) gv_up=$GV_BUNDLE_UPLOAD ;;
*)
  gv_up="$PWD/$GV_BUNDLE_UPLOAD"
  if [ ! -f "$gv_up" ] && command -v getent >/dev/null 2>&1; then
    gv_home=$(getent passwd "${"$"}{SUDO_USER:-$(id -un)}" | cut -d: -f6) || gv_home=''
    if [ -n "$gv_home" ] && [ -f "$gv_home/$GV_BUNDLE_UPLOAD" ]; then gv_up="$gv_home/$GV_BUNDLE_UPLOAD"; fi
  fi
  ;;
esac
gv_updir=${"$"}{gv_up%/*}`;

// Unpacks the bundle (once per bundle id) into root's state dir. The upload
// is writable by the login user, so root copies it first and checks the copy.
const BOOTSTRAP = String.raw`gv_fail() { printf 'pulumi-gvisor %s: error: %s\n' "$GV_STEP" "$1" >&2; exit 1; }
gv_store="$GV_STATE_DIR/bundles/$GV_BUNDLE_ID"
gv_resend="send it again: pulumi up --replace the ${"$"}{GV_BUNDLE_RESOURCE:-<Host name>-bundle} resource (or --target it after a 'pulumi state delete' of it)"
${UPLOAD_LOCATION}
if [ ! -f "$gv_store/.complete" ]; then
  { [ -f "$gv_up" ] && [ ! -L "$gv_up" ]; } ||
    gv_fail "the step bundle $GV_BUNDLE_ID is not on this host ($gv_up is missing or not a plain file; SFTP writes it under the login's home, unless sshd_config's ChrootDirectory or 'internal-sftp -d' moves that); $gv_resend"
  { mkdir -p "$GV_STATE_DIR/bundles" && chmod 0700 "$GV_STATE_DIR"; } ||
    gv_fail "could not create $GV_STATE_DIR/bundles; check that the file system is writable and not full"
  gv_new=$(mktemp -d "$GV_STATE_DIR/bundles/.new.XXXXXX") ||
    gv_fail "could not create a directory under $GV_STATE_DIR/bundles; check that the file system is writable and not full"
  if ! cp "$gv_up" "$gv_new/bundle.sh"; then
    rm -rf "$gv_new"
    gv_fail "could not copy $gv_up into $GV_STATE_DIR; check that the disk is not full"
  fi
  gv_sum=$(sha256sum <"$gv_new/bundle.sh") || gv_sum=''
  gv_sum=${"$"}{gv_sum%% *}
  if [ "$gv_sum" != "$GV_BUNDLE_ID" ]; then
    rm -rf "$gv_new"
    gv_fail "$gv_up is not the step bundle this program sent (sha256 ${"$"}{gv_sum:-unreadable}, expected $GV_BUNDLE_ID), so nothing ran; $gv_resend"
  fi
  if ! sh "$gv_new/bundle.sh" "$gv_new" || ! : >"$gv_new/.complete"; then
    rm -rf "$gv_new"
    gv_fail "could not unpack the step bundle into $GV_STATE_DIR/bundles; check that the disk is not full"
  fi
  # Two steps may unpack at once; a rename onto an existing bundle fails and the copy is dropped.
  mv -T "$gv_new" "$gv_store" 2>/dev/null || rm -rf "$gv_new"
  [ -f "$gv_store/.complete" ] || gv_fail "could not put the step bundle in place at $gv_store"
  # Earlier bundles' uploads are done with once this machine has unpacked them
  # (a home shared between machines may hold uploads others still need).
  for gv_f in "$gv_updir"/.pulumi-gvisor-bundle-*.sh; do
    gv_i=${"$"}{gv_f##*-}
    gv_i=${"$"}{gv_i%.sh}
    case $gv_i in '' | *[!0-9a-f]*) continue ;; esac
    for gv_c in "$GV_STATE_DIR"/bundles/"$gv_i"*/.complete; do
      if [ "$gv_f" != "$gv_up" ] && [ -f "$gv_c" ]; then rm -f -- "$gv_f"; fi
      break
    done
  done
fi`;

// Steps after install find the bundle install unpacked; repairing starts at install.
const LOADER = String.raw`gv_store="$GV_STATE_DIR/bundles/$GV_BUNDLE_ID"
if [ ! -f "$gv_store/.complete" ]; then
  printf 'pulumi-gvisor %s: error: the step bundle %s is not unpacked on this host; run the install step again (set a new repair value on the Host and pulumi up)\n' "$GV_STEP" "$GV_BUNDLE_ID" >&2
  exit 1
fi`;

/** The steps that run first after the upload, and so unpack it. */
const UNPACKING_STEPS: readonly StepName[] = ["engine", "install"];

function header(title: string, notes: readonly string[]): string[] {
  return [`# pulumi-gvisor ${title}`, ...notes.map((n) => `# ${n}`)];
}

function refuseDelimiter(step: string, lines: readonly string[]): void {
  for (const line of lines.join("\n").split("\n")) {
    if (line === DELIMITER) throw new Error(`step ${step}: a value renders as the line ${DELIMITER}, which ends the command text`);
  }
}

/** Wraps root shell text for an SSH session: as root, or through `sudo -n`. */
function asRoot(step: string, lines: readonly string[]): string {
  refuseDelimiter(step, lines);
  return [
    `gv_script=$(cat <<'${DELIMITER}'`,
    "# shellcheck disable=SC1091,SC2034 # the values are read by the step body sourced at the end",
    ...lines,
    DELIMITER,
    ")",
    'if [ "$(id -u)" -eq 0 ]; then sh -c "$gv_script"',
    'elif command -v sudo >/dev/null 2>&1; then sudo -n sh -c "$gv_script"',
    `else echo "pulumi-gvisor ${step}: error: not root and sudo is missing; connect as root or as a user with passwordless sudo" >&2; exit 1; fi`,
    "",
  ].join("\n");
}

/** The bundle's id and upload path; with `named`, the uploading resource's name too (it changes on a rename). */
function bundleAssignments(bundle: BundleRef, named = true): string[] {
  return [
    shellAssignment("GV_BUNDLE_ID", bundle.id),
    shellAssignment("GV_BUNDLE_UPLOAD", bundle.uploadPath),
    ...(named ? [shellAssignment("GV_BUNDLE_RESOURCE", bundle.resourceName)] : []),
  ];
}

/**
 * The one-line command of every step: it reads the step's root script from
 * stdin (whole, before anything runs, so no command inside can eat it) and
 * runs it as root, or through `sudo -n`. A failed step's error then starts
 * with this short line instead of the script (the provider quotes the whole
 * command text into its error).
 */
export const STEP_COMMAND =
  'gv_script=$(cat); if [ "$(id -u)" -eq 0 ]; then sh -c "$gv_script"; elif command -v sudo >/dev/null 2>&1; then sudo -n sh -c "$gv_script"; else echo "pulumi-gvisor: error: not root and sudo is missing; connect as root or as a user with passwordless sudo" >&2; exit 1; fi';

// Runs the step with its stderr kept aside, so that on failure the step's own
// error line comes first in what the provider reports, then the rest.
const RUNNER = String.raw`gv_err=$(mktemp "${"$"}{TMPDIR:-/tmp}/pulumi-gvisor-stderr.XXXXXX" 2>/dev/null) || gv_err=''
if [ -z "$gv_err" ]; then exec sh -c "$gv_body"; fi
trap 'rm -f "$gv_err"' EXIT
set +e
sh -c "$gv_body" 2>"$gv_err"
gv_rc=$?
set -e
if [ "$gv_rc" -ne 0 ]; then
  gv_line=$(grep '^pulumi-gvisor [A-Za-z-]*: error: ' "$gv_err" | tail -n 1)
  if [ -n "$gv_line" ]; then
    printf '%s
' "$gv_line" >&2
    grep -v -x -F -e "$gv_line" "$gv_err" >&2 || :
  else
    cat "$gv_err" >&2
  fi
else
  cat "$gv_err" >&2
fi
rm -f "$gv_err"
exit "$gv_rc"`;

/** A step as its remote.Command sends it: the one-line command, and the root script on stdin. */
export interface StepInvocation {
  create: string;
  stdin: string;
}

/**
 * A step's root script (sent on stdin): its assignments, then its body
 * sourced from the bundle. `extra` assignments (a repair token, a
 * drift-check stamp) change the text, and so re-run the step, without
 * changing what it does.
 */
export function renderStepInvocation(
  plan: HostPlan,
  step: StepName,
  bundle: BundleRef,
  opts: { notes?: readonly string[]; extra?: Readonly<Record<string, string>> } = {},
): StepInvocation {
  const extra = Object.entries(opts.extra ?? {}).map(([k, v]) => shellAssignment(k, v));
  const own = stepAssignments(plan, step);
  // The bootstrap finds the bundle under the state dir, which not every step reads itself.
  const stateDir = own.some((a) => a.startsWith("GV_STATE_DIR=")) ? [] : [shellAssignment("GV_STATE_DIR", plan.stateDir)];
  // Steps leave the resource name out: a rename with an alias must not re-run them.
  const load = UNPACKING_STEPS.includes(step) ? BOOTSTRAP : LOADER;
  const body = [...own, ...stateDir, ...extra, ...bundleAssignments(bundle, false), load, `. "$gv_store/${step}.sh"`];
  refuseDelimiter(step, body);
  const stdin = [
    ...header(`step ${step} (bundle ${bundle.id.slice(0, 12)}), run as root by: sh -c "$(cat)"`, opts.notes ?? []),
    "set -eu",
    `gv_body=$(cat <<'${DELIMITER}'`,
    "# shellcheck disable=SC1091,SC2034 # the values are read by the step body sourced at the end",
    "set -eu",
    ...body,
    DELIMITER,
    ")",
    RUNNER,
    "",
  ].join("\n");
  return { create: STEP_COMMAND, stdin };
}

/**
 * The Host's lifecycle create: record this Host as the machine's owner. A newer Host (a rename or re-parent without an alias runs
 * the new create before the old delete) takes over, so the old delete knows
 * it must leave the machine alone.
 */
export function renderAdoptInvocation(plan: HostPlan, owner: OwnerRef): string {
  const lines = [
    "set -eu",
    shellAssignment("GV_STEP", "adopt"),
    shellAssignment("GV_STATE_DIR", plan.stateDir),
    shellAssignment("GV_OWNER", owner.id),
    shellAssignment("GV_OWNER_URN", owner.urn),
    String.raw`gv_fail() { printf 'pulumi-gvisor %s: error: %s\n' "$GV_STEP" "$1" >&2; exit 1; }
{ mkdir -p "$GV_STATE_DIR" && chmod 0700 "$GV_STATE_DIR"; } || gv_fail "could not create $GV_STATE_DIR; check that the file system is writable and not full"
gv_prev=$(cat "$GV_STATE_DIR/owner" 2>/dev/null) || gv_prev=''
if [ "$gv_prev" != "$GV_OWNER" ]; then
  { printf '%s\n' "$GV_OWNER" >"$GV_STATE_DIR/.owner.new" && mv -f "$GV_STATE_DIR/.owner.new" "$GV_STATE_DIR/owner"; } ||
    gv_fail "could not write $GV_STATE_DIR/owner; check that the disk is not full"
  printf 'pulumi-gvisor adopt: this machine is now managed by %s\n' "$GV_OWNER_URN" >&2
fi
printf '{"step":"adopt","owner":"%s","previousOwner":"%s"}\n' "$GV_OWNER" "$gv_prev"`,
  ];
  return [...header("adopt: record this Host as the machine's owner", []), asRoot("adopt", lines)].join("\n");
}

/**
 * The Host's lifecycle delete: uninstall, unless another Host has adopted the
 * machine since (then leave it), or the machine holds no pulumi-gvisor state
 * (then there is nothing to do). Works from the host's records alone.
 */
export function renderReleaseInvocation(plan: HostPlan, bundle: BundleRef, owner: OwnerRef): string {
  const lines = [
    "set -eu",
    ...stepAssignments(plan, "uninstall"),
    shellAssignment("GV_OWNER", owner.id),
    ...bundleAssignments(bundle),
    // uninstall.sh removes the uploads it finds in gv_updir.
    UPLOAD_LOCATION,
    String.raw`if [ ! -d "$GV_STATE_DIR" ]; then
  printf 'pulumi-gvisor uninstall: %s does not exist: no pulumi-gvisor state on this machine, nothing to do\n' "$GV_STATE_DIR" >&2
  printf '{"step":"uninstall","changed":false,"skipped":true,"reason":"no-state"}\n'
  exit 0
fi
gv_owner=$(cat "$GV_STATE_DIR/owner" 2>/dev/null) || gv_owner=''
if [ -n "$gv_owner" ] && [ "$gv_owner" != "$GV_OWNER" ]; then
  printf 'pulumi-gvisor uninstall: another pulumi-gvisor Host (owner %s) manages this machine now; leaving gVisor installed\n' "$gv_owner" >&2
  printf '{"step":"uninstall","changed":false,"skipped":true,"reason":"other-owner"}\n'
  exit 0
fi
if [ ! -f "$GV_STATE_DIR/bundles/$GV_BUNDLE_ID/.complete" ]; then
  # Uninstall works from the host's records, so a complete bundle can run it:
  # the one unpacked last, the package version that last ran steps here.
  # (Bundle dirs are named by hex digests, so ls's output is safe to read.)
  gv_best=$(ls -1t "$GV_STATE_DIR"/bundles/*/.complete 2>/dev/null | head -n 1) || gv_best=''
  if [ -n "$gv_best" ]; then GV_BUNDLE_ID=$(basename "$(dirname "$gv_best")"); fi
  gv_other=''
  for gv_f in "$GV_STATE_DIR"/* "$GV_STATE_DIR"/.[!.]*; do
    case ${"$"}{gv_f##*/} in owner | bundles | '*' | '.[!.]*') ;; *) gv_other=$gv_f ;; esac
  done
  if [ ! -f "$GV_STATE_DIR/bundles/$GV_BUNDLE_ID/.complete" ] && [ -z "$gv_other" ]; then
    # Adopted, but no step ever ran here: only the owner record to remove.
    rm -rf "$GV_STATE_DIR/owner" "$GV_STATE_DIR/bundles"
    rmdir "$GV_STATE_DIR" 2>/dev/null || true
    printf '{"step":"uninstall","changed":false,"skipped":true,"reason":"nothing-installed"}\n'
    exit 0
  fi
fi`,
    LOADER,
    '. "$gv_store/uninstall.sh"',
  ];
  return [...header("uninstall (the Host's delete)", []), asRoot("uninstall", lines)].join("\n");
}
