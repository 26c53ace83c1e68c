#!/bin/sh
# pulumi-gvisor: functions shared by the host step scripts.
#
# The renderer (src/scripts/render.ts) sends every host this text:
#   set -eu
#   GV_...='...'          (shell-quoted assignments, see src/scripts/variables.ts)
#   <this file>
#   <the step body>
# and runs it with sh (dash on Debian/Ubuntu, bash on Amazon Linux). A step run
# by hand sources this file from its own directory instead.
#
# Rules every step follows through these functions:
# - stdout carries exactly one JSON object. gv_init points fd 1 at stderr and
#   keeps the real stdout on fd 3; only gv_emit (and verify's document) write
#   there. Progress goes to stderr.
# - A failure ends with one line on stderr,
#     pulumi-gvisor <step>: error: <what failed>; <what to do>
#   printed last, after the step's rollback (function gv_step_rollback, when
#   the step defines one) has put the host back as it was.
# - Values reach python only through the environment of that one python call
#   (gv_py NAME=value ...), never by pasting them into code.
# - No eval anywhere; $GV_RUNSC_FLAGS is split on spaces with globbing off.
#
# POSIX sh only: no arrays and no `local`, so function-private variables carry
# a gv__<function> prefix instead.

# ---------------------------------------------------------------------------
# Start, logging, failure, cleanup

# gv_init STEP: set up fds, traps, PATH and a private temp dir ($gv_run).
gv_init() {
  GV_STEP=${GV_STEP:-$1}
  gv__died=''
  gv__phase='starting'
  gv__cleanup=''
  exec 3>&1 1>&2
  umask 022
  LC_ALL=C
  export LC_ALL
  # sudo's secure_path and minimal SSH sessions can lack the sbin directories.
  PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  export PATH
  trap 'gv__on_exit' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM
  # A temp dir that takes writes (a full /tmp may still create directories);
  # /var/tmp when ${TMPDIR:-/tmp} does not.
  gv_run=''
  for gv__t in "${TMPDIR:-/tmp}" /var/tmp; do
    gv__sweep_tmp "$gv__t"
    gv__d=$(mktemp -d "$gv__t/pulumi-gvisor.$$.XXXXXX" 2>/dev/null) || continue
    if printf '%4096s' '' >"$gv__d/.probe" 2>/dev/null; then
      gv_run=$gv__d
      break
    fi
    rm -rf -- "$gv__d"
  done
  [ -n "$gv_run" ] ||
    gv_die "could not write a temporary directory in ${TMPDIR:-/tmp} or /var/tmp" "free space there (are they full or read-only?) and re-run; nothing was changed"
  gv_cleanup_add "$gv_run"
}

# gv__sweep_tmp DIR: remove the temp dirs of steps that were killed (their
# pid, in the name, is gone), so a kill leaves nothing behind for long.
gv__sweep_tmp() {
  for gv__d in "$1"/pulumi-gvisor.*.*; do
    [ -d "$gv__d" ] || continue
    gv__p=${gv__d##*/pulumi-gvisor.}
    gv__p=${gv__p%%.*}
    case $gv__p in '' | *[!0-9]*) continue ;; esac
    kill -0 "$gv__p" 2>/dev/null || rm -rf -- "$gv__d"
  done
}

# gv_sweep_beside PATH: remove the staged siblings of PATH (and of its
# symlink's target) a killed run may have left: .NAME.pulumi-gvisor-new/-probe.
gv_sweep_beside() {
  for gv__s in "$1" "$(readlink -f -- "$1" 2>/dev/null || true)"; do
    [ -n "$gv__s" ] || continue
    rm -f -- "$(dirname "$gv__s")/.$(basename "$gv__s").pulumi-gvisor-new" "$(dirname "$gv__s")/.$(basename "$gv__s").pulumi-gvisor-probe"
  done
}

# gv_tmpdir: print the step's private temp directory (removed on exit).
gv_tmpdir() {
  printf '%s\n' "$gv_run"
}

# gv_log MESSAGE: progress line on stderr (also remembered for error reports).
gv_log() {
  gv__phase=$1
  printf 'pulumi-gvisor %s: %s\n' "$GV_STEP" "$1" >&2
}

# gv_warn MESSAGE: a warning line on stderr.
gv_warn() {
  printf 'pulumi-gvisor %s: warning: %s\n' "$GV_STEP" "$1" >&2
}

# gv_die WHAT TODO: fail with the one-line error (printed after rollback).
# Safe inside $(...): the message goes through a file in $gv_run.
gv_die() {
  gv__died="pulumi-gvisor $GV_STEP: error: $1; $2"
  # On a full disk the file cannot take the line: print it now rather than lose it.
  if [ -n "${gv_run:-}" ] && [ -d "$gv_run" ] && printf '%s\n' "$gv__died" >"$gv_run/.error" 2>/dev/null; then
    :
  else
    printf '%s\n' "$gv__died" >&2
    gv__died=printed
  fi
  exit 1
}

# gv_cleanup_add PATH: remove PATH (file or directory) when the step exits.
gv_cleanup_add() {
  gv__cleanup="$gv__cleanup$1
"
}

gv__on_exit() {
  gv__rc=$?
  set +e
  trap - EXIT
  # Finish the rollback and cleanup even if stderr is gone (SSH cut, closed pipe).
  trap '' HUP INT PIPE TERM
  if [ "$gv__rc" -ne 0 ]; then
    if command -v gv_step_rollback >/dev/null 2>&1; then
      gv_step_rollback
    fi
    if [ -n "${gv_run:-}" ] && [ -s "$gv_run/.error" ]; then
      cat "$gv_run/.error" >&2
    elif [ -n "$gv__died" ] && [ "$gv__died" != printed ]; then
      # The message could not go through the temp dir (full?): it is still here.
      printf '%s\n' "$gv__died" >&2
    elif [ "$gv__died" != printed ]; then
      printf 'pulumi-gvisor %s: error: failed (exit %s) during: %s; see the messages above, fix the cause and re-run the step\n' \
        "$GV_STEP" "$gv__rc" "$gv__phase" >&2
    fi
  fi
  while IFS= read -r gv__p; do
    [ -n "$gv__p" ] && rm -rf -- "$gv__p"
  done <<GV_EOF
$gv__cleanup
GV_EOF
  exit "$gv__rc"
}

# gv_nothing_changed: say so in words.
gv_nothing_changed() {
  gv_log "${1:-everything is already in place}; nothing changed"
}

# ---------------------------------------------------------------------------
# Tools

# gv_need_cmd COMMAND HINT: fail unless COMMAND is on PATH.
gv_need_cmd() {
  command -v "$1" >/dev/null 2>&1 ||
    gv_die "'$1' is not installed on this host" "$2"
}

# gv_require_python: find python3 (used for JSON and config editing).
gv_require_python() {
  gv_python=$(command -v python3 2>/dev/null) ||
    gv_die "python3 is not installed on this host (needed to edit JSON and TOML safely)" \
      "install it (apt-get install -y python3 / dnf install -y python3) and re-run"
}

# gv_timeout SECONDS COMMAND...: bound COMMAND when timeout(1) exists.
gv_timeout() {
  if command -v timeout >/dev/null 2>&1; then
    timeout "$@"
  else
    shift
    "$@"
  fi
}

# gv_under_cloud_init: true when this step is itself part of cloud-init's run
# (user data on a booting node): waiting for cloud-init would then wait for
# ourselves until the time limit.
gv_under_cloud_init() {
  gv__pid=$PPID
  while [ "${gv__pid:-0}" -gt 1 ]; do
    # cloud-init runs as "python3 /usr/bin/cloud-init modules ...": look at the
    # program and its script, not at arguments that merely mention it.
    for gv__arg in $(tr '\0' '\n' <"/proc/$gv__pid/cmdline" 2>/dev/null | head -n 2 | sed 's|.*/||; s/[^A-Za-z0-9._-]//g'); do
      [ "$gv__arg" = cloud-init ] && return 0
    done
    gv__pid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$gv__pid/status" 2>/dev/null) || return 1
  done
  return 1
}

# gv_wait_for_cloud_init LIMIT: on a fresh instance cloud-init may still be
# installing packages or writing configs; wait for it, at most LIMIT seconds.
gv_wait_for_cloud_init() {
  command -v cloud-init >/dev/null 2>&1 || return 0
  if gv_under_cloud_init; then
    gv_log "running inside cloud-init: not waiting for it"
    return 0
  fi
  gv__ci=$(cloud-init status 2>/dev/null | sed -n 's/^status:[[:space:]]*//p' | head -n 1) || gv__ci=''
  case $gv__ci in
    running) ;;
    'not started' | '')
      # Early in boot cloud-init has not started yet; elsewhere it never will.
      gv_has_systemd && systemctl is-system-running 2>/dev/null | grep -Eq '^(initializing|starting)$' || return 0
      ;;
    *) return 0 ;;
  esac
  gv_log "waiting for cloud-init to finish (status: ${gv__ci:-not started}; at most ${1}s)"
  gv__rc=0
  gv_timeout "$1" cloud-init status --wait >/dev/null 2>&1 || gv__rc=$?
  case $gv__rc in
    0) gv_log "cloud-init has finished" ;;
    124) gv_warn "cloud-init is still running after ${1}s; continuing without it" ;;
    *) gv_warn "cloud-init finished with status $gv__rc (errors or warnings in its own run); continuing" ;;
  esac
}

# gv_has_systemd: true when systemd is PID 1 and systemctl is usable.
gv_has_systemd() {
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# gv_sha512 FILE: print the lowercase hex sha512 of FILE.
gv_sha512() {
  if command -v sha512sum >/dev/null 2>&1; then
    gv__sum=$(sha512sum <"$1") || return 1
    printf '%s\n' "${gv__sum%% *}"
  else
    gv_py sha512 "GVP_FILE=$1"
  fi
}

# gv_tree_digest DIR: one sha512 over every path, type, mode and content under DIR.
gv_tree_digest() {
  gv_py tree-digest "GVP_DIR=$1"
}

# gv_sum_from_file FILE: the hex digest from a `<hex>  <name>` checksum file.
gv_sum_from_file() {
  gv__hex=$(sed -n '1{s/^[[:space:]]*//;s/[[:space:]].*$//;p;}' "$1" | tr 'A-F' 'a-f') || return 1
  case $gv__hex in
    *[!0-9a-f]* | '') return 1 ;;
  esac
  [ "${#gv__hex}" -eq 128 ] || return 1
  printf '%s\n' "$gv__hex"
}

# gv_record_get FILE KEY: print KEY's value from a key=value record ('' if absent).
gv_record_get() {
  [ -f "$1" ] || return 0
  sed -n "s/^$2=//p" "$1" | head -n 1
}

# gv_same_bytes A B: true when both files exist and are byte-identical.
gv_same_bytes() {
  [ -f "$1" ] && [ -f "$2" ] && cmp -s "$1" "$2"
}

# gv_mkstate DIR: create a state directory readable by root only.
gv_mkstate() {
  mkdir -p "$1" || return 1
  chmod 0700 "$GV_STATE_DIR" "$1" 2>/dev/null || true
}

# gv_replace_file SRC DST [MODE]: atomically replace DST with SRC's bytes.
# The temp file sits next to DST (same filesystem, so mv is a rename). An
# existing DST keeps its mode and owner; a new one gets MODE (default 0644).
# A symlinked DST is written through: the link stays, its target changes.
gv_replace_file() {
  gv__dst=$2
  if [ -L "$gv__dst" ]; then
    gv__dst=$(readlink -f -- "$2") || return 1
  fi
  gv__dst_dir=$(dirname "$gv__dst") || return 1
  gv__tmpf="$gv__dst_dir/.$(basename "$gv__dst").pulumi-gvisor-new"
  gv_cleanup_add "$gv__tmpf"
  rm -f -- "$gv__tmpf" || return 1
  if [ -f "$gv__dst" ]; then
    cp -p -- "$gv__dst" "$gv__tmpf" || return 1
    cat -- "$1" >"$gv__tmpf" || return 1
  else
    cp -- "$1" "$gv__tmpf" || return 1
    chmod "${3:-0644}" "$gv__tmpf" || return 1
  fi
  mv -f -- "$gv__tmpf" "$gv__dst"
}

# gv_phase NAME: mark a point after which the step changes host state (one
# line on stderr). Every such point is crash-safe: the host test suite kills
# steps at each mark and checks that the next run converges.
gv_phase() {
  printf 'pulumi-gvisor %s: phase %s\n' "$GV_STEP" "$1" >&2
}

# gv_sync PATH...: flush PATH to disk (so a record is durable before the
# change it describes); the whole file system when sync(1) takes no files.
gv_sync() {
  sync -- "$@" 2>/dev/null || sync
}

# ---------------------------------------------------------------------------
# Records of managed files (daemon.json, config.toml, runsc.toml)
#
# $GV_STATE_DIR/files/<key>/ per file: `record` (path, kind, owner, runtime,
# set_default, original=present|absent), `original` (its bytes before us,
# copied and verified) and `written` (the sha512 of every version we wrote).
# The record is written and synced BEFORE the file is changed and a version's
# digest is added to `written` before that version is written, so whatever
# instant a step dies at, the file is either its original or one of ours and
# the next run (or uninstall) can tell which. A directory without `record` is
# a start that changed nothing: it is removed.

# gv_rec_dir PATH: print the record directory of managed file PATH.
gv_rec_dir() {
  printf '%s' "$1" >"$gv_run/rec.key"
  gv__key=$(gv_sha512 "$gv_run/rec.key") || return 1
  printf '%s/files/%.32s\n' "$GV_STATE_DIR" "$gv__key"
}

# gv_rec_put DIR KEY=VALUE...: rewrite DIR/record with KEYs set (synced, renamed).
gv_rec_put() {
  gv__rd=$1
  shift
  { [ ! -f "$gv__rd/record" ] || cat -- "$gv__rd/record"; } >"$gv__rd/record.tmp" || return 1
  for gv__kv in "$@"; do
    grep -v "^${gv__kv%%=*}=" "$gv__rd/record.tmp" >"$gv__rd/record.tmp2"
    printf '%s\n' "$gv__kv" >>"$gv__rd/record.tmp2" || return 1
    mv -f -- "$gv__rd/record.tmp2" "$gv__rd/record.tmp" || return 1
  done
  gv_sync "$gv__rd/record.tmp" && mv -f -- "$gv__rd/record.tmp" "$gv__rd/record" && gv_sync "$gv__rd"
}

# gv_rec_open PATH KIND OWNER RUNTIME: make sure PATH has a record; the first
# time, copy its original bytes and check the copy (size and sha512) before
# anything is changed. Sets gv_rec (the directory) and gv_rec_new (true when
# created now). A failed copy (full disk) removes the partial one and fails
# with the host untouched.
gv_rec_open() {
  gv_rec=$(gv_rec_dir "$1") || gv_die "could not compute the record name for $1" "re-run the step"
  gv_rec_new=false
  [ ! -f "$gv_rec/record" ] || return 0
  # shellcheck disable=SC2034 # read by the steps
  gv_rec_new=true
  rm -rf -- "$gv_rec"
  { gv_mkstate "$GV_STATE_DIR/files" && gv_mkstate "$gv_rec"; } ||
    gv_die "could not create the record directory $gv_rec" "check that $GV_STATE_DIR is writable and not full, then re-run; nothing was changed"
  gv__o=absent gv__osum='' gv__osize='' gv__omode='' gv__olink=''
  if [ -e "$1" ]; then
    gv__o=present
    [ ! -L "$1" ] || gv__olink=$(readlink -- "$1")
    if ! { gv__osum=$(gv_sha512 "$1") && gv__osize=$(wc -c <"$1") && gv__omode=$(stat -L -c %a -- "$1") &&
      cp -p -- "$1" "$gv_rec/original.tmp" 2>"$gv_run/copy.err" &&
      [ "$(wc -c <"$gv_rec/original.tmp")" = "$gv__osize" ] &&
      [ "$(gv_sha512 "$gv_rec/original.tmp")" = "$gv__osum" ] &&
      gv_sync "$gv_rec/original.tmp" && mv -f -- "$gv_rec/original.tmp" "$gv_rec/original"; }; then
      rm -rf -- "$gv_rec"
      gv_die "could not keep a verified copy of the original $1 in $GV_STATE_DIR ($(head -n 1 "$gv_run/copy.err" 2>/dev/null || true))" \
        "free space on the file system of $GV_STATE_DIR (is it full?) and re-run; nothing was changed"
    fi
  fi
  gv_rec_put "$gv_rec" "path=$1" "kind=$2" "owner=$3" "runtime=$4" "set_default=0" "original=$gv__o" \
    "original_sha512=$gv__osum" "original_size=$gv__osize" "original_mode=$gv__omode" "link=$gv__olink" || {
    rm -rf -- "$gv_rec"
    gv_die "could not write the record for $1 in $GV_STATE_DIR" "free space on the file system of $GV_STATE_DIR (is it full?) and re-run; nothing was changed"
  }
}

# gv_rec_intend DIR FILE: note FILE's digest in DIR/written before FILE's
# bytes are written to the managed path (the intent).
gv_rec_intend() {
  { gv__sum=$(gv_sha512 "$2") && printf '%s\n' "$gv__sum" >>"$1/written" && gv_sync "$1/written"; } ||
    gv_die "could not write to the record in $1" "free space on the file system of $GV_STATE_DIR (is it full?) and re-run; nothing was changed"
}

# gv__legacy_rec PATH KIND OWNER RUNTIME ORIGINAL WRITTEN: a per-file record
# from the first layout's copies (ORIGINAL: the original bytes, if it exists;
# WRITTEN: the bytes last written).
gv__legacy_rec() {
  gv_rec=$(gv_rec_dir "$1") || return 1
  rm -rf -- "$gv_rec"
  { gv_mkstate "$GV_STATE_DIR/files" && gv_mkstate "$gv_rec"; } || return 1
  gv__o=absent gv__omode=''
  if [ -f "$5" ]; then
    gv__o=present
    gv__omode=$(stat -c %a -- "$5")
    cp -p -- "$5" "$gv_rec/original" || return 1
  fi
  if [ -f "$6" ]; then gv_sha512 "$6" >"$gv_rec/written" || return 1; fi
  gv_rec_put "$gv_rec" "path=$1" "kind=$2" "owner=$3" "runtime=$4" "set_default=${7:-0}" "original=$gv__o" "original_mode=$gv__omode"
}

# gv__migrate_v1: records of the first layout ($GV_STATE_DIR/docker and
# /containerd, one record per step) become per-file records; the old
# directory goes only once the new records are written.
gv__migrate_v1() {
  gv__m="$GV_STATE_DIR/docker"
  if [ -f "$gv__m/record" ]; then
    gv__p=$(gv_record_get "$gv__m/record" config)
    gv__r=$(gv_record_get "$gv__m/record" runtime)
    # That layout owned default-runtime whenever it named the runtime and the original did not.
    gv__sd=$(gv_py docker-default-guess "GVP_CONFIG=$gv__p" "GVP_ORIG=$gv__m/original" "GVP_RUNTIME=$gv__r" 2>/dev/null) || gv__sd=0
    { gv__legacy_rec "$gv__p" json configure-docker "$gv__r" "$gv__m/original" "$gv__m/written" "$gv__sd" &&
      rm -rf -- "$gv__m"; } || gv_die "could not convert the records in $gv__m" "check that $GV_STATE_DIR is writable and not full, then re-run"
  fi
  gv__m="$GV_STATE_DIR/containerd"
  if [ -f "$gv__m/record" ]; then
    gv__r=$(gv_record_get "$gv__m/record" runtime)
    { gv__legacy_rec "$(gv_record_get "$gv__m/record" config)" block configure-containerd "$gv__r" \
      "$gv__m/config.original" "$gv__m/config.written" &&
      gv__legacy_rec "$(gv_record_get "$gv__m/record" runsc_toml)" plain configure-containerd "$gv__r" \
        "$gv__m/runsc.toml.original" "$gv__m/runsc.toml.written" &&
      rm -rf -- "$gv__m"; } || gv_die "could not convert the records in $gv__m" "check that $GV_STATE_DIR is writable and not full, then re-run"
  fi
}

# gv_records OWNER: print the record directories OWNER made, one a line
# (removing starts that never got a record).
gv_records() {
  gv__migrate_v1
  for gv__rd in "$GV_STATE_DIR"/files/*; do
    [ -d "$gv__rd" ] || continue
    if [ ! -f "$gv__rd/record" ]; then
      rm -rf -- "$gv__rd"
      continue
    fi
    [ "$(gv_record_get "$gv__rd/record" owner)" != "$1" ] || printf '%s\n' "$gv__rd"
  done
}

# gv_rec_action DIR MERGED: print what undoing DIR's file means:
# none | restore-original | remove-file | unmerge | keep (see helper.py undo_action).
gv_rec_action() {
  gv__orig=''
  [ ! -f "$1/original" ] || gv__orig="$1/original"
  gv_py undo-plan "GVP_PATH=$(gv_record_get "$1/record" path)" "GVP_WRITTEN=$1/written" \
    "GVP_ORIGINAL=$gv__orig" "GVP_MERGED=$2"
}

# gv_rec_restore DIR: put the original back at the record's path, exact bytes
# and mode (through a symlink, which stays a link); '' original = remove.
gv_rec_restore() {
  gv__p=$(gv_record_get "$1/record" path)
  if [ -f "$1/original" ]; then
    gv_replace_file "$1/original" "$gv__p" || return 1
    chmod "$(gv_record_get "$1/record" original_mode)" -- "$gv__p"
  else
    rm -f -- "$gv__p"
  fi
}

# gv_rec_close DIR: the undo of DIR is complete: forget it.
gv_rec_close() {
  gv_sweep_beside "$(gv_record_get "$1/record" path)"
  rm -rf -- "$1"
  rmdir -- "$GV_STATE_DIR/files" 2>/dev/null || true
  gv_sync "$GV_STATE_DIR" 2>/dev/null || true
}

# gv_emit FIELD...: print the step's one-line JSON object on the real stdout.
# FIELD is name=value (string), name:b=true|false, name:i=N, name:j=JSON,
# name:n= (null), name:s?=value (null when empty), name:l=w1 w2 (string list).
gv_emit() {
  gv__n=0
  for gv__a in "$@"; do
    gv__n=$((gv__n + 1))
    set -- "$@" "GVE_$gv__n=$gv__a"
  done
  shift "$gv__n"
  gv_py emit "GVE_COUNT=$gv__n" "$@" >&3
}

# gv_runsc_version RUNSC: print the version from `RUNSC --version`
# ("runsc version 0.0~20221219.0" -> "0.0~20221219.0").
gv_runsc_version() {
  gv__v=$("$1" --version 2>&1) || {
    printf '%s\n' "$gv__v" | head -n 1 >&2
    return 1
  }
  printf '%s\n' "$gv__v" | sed -n '1{s/^runsc version //;p;}'
}

# ---------------------------------------------------------------------------
# Installed binaries ($GV_STATE_DIR/install: record, written.<name> with the
# digest of every build we put in, orig/<name> a copy of what was there first)

# gv_undo_binaries STATE DIR: take our runsc, containerd-shim-runsc-v1 and
# gvisor-bin/ out of DIR (a copy of what was there before us goes back; one
# changed since is kept). Sets gv_bin_removed and gv_bin_kept (name lists).
gv_undo_binaries() {
  gv_bin_removed=''
  gv_bin_kept=''
  for gv__n in runsc containerd-shim-runsc-v1 gvisor-bin; do
    # Records from before written.<name> existed name one digest each.
    case $gv__n in
      runsc) gv__k=runsc_sha512 ;;
      containerd-shim-runsc-v1) gv__k=shim_sha512 ;;
      *) gv__k=gvisor_bin_sha512 ;;
    esac
    gv__s=$(gv_record_get "$1/record" "$gv__k")
    [ -z "$gv__s" ] || printf '%s\n' "$gv__s" >>"$1/written.$gv__n"
    gv__t="$2/$gv__n"
    gv__orig=''
    [ ! -e "$1/orig/$gv__n" ] || gv__orig="$1/orig/$gv__n"
    gv__a=$(gv_py undo-plan "GVP_PATH=$gv__t" "GVP_WRITTEN=$1/written.$gv__n" "GVP_ORIGINAL=$gv__orig" GVP_MERGED=0) ||
      gv_die "could not check $gv__t against the install record" "re-run"
    case $gv__a in
      restore-original)
        gv_log "putting back the $gv__t that was there before pulumi-gvisor"
        gv_phase binary-undo
        rm -rf -- "$2/.$gv__n.pulumi-gvisor-new"
        gv_cleanup_add "$2/.$gv__n.pulumi-gvisor-new"
        { cp -pR -- "$gv__orig" "$2/.$gv__n.pulumi-gvisor-new" &&
          { [ ! -d "$gv__t" ] || rm -rf -- "$gv__t"; } &&
          mv -f -- "$2/.$gv__n.pulumi-gvisor-new" "$gv__t"; } ||
          gv_die "could not put back the earlier $gv__t" "check $2 (read-only, full?) and re-run; the install record is kept"
        gv_bin_removed="$gv_bin_removed $gv__n"
        ;;
      remove-file)
        gv_log "removing $gv__t"
        gv_phase binary-undo
        rm -rf -- "$gv__t" || gv_die "could not remove $gv__t" "check $2 and re-run; the install record is kept"
        gv_bin_removed="$gv_bin_removed $gv__n"
        ;;
      keep | unmerge)
        gv_warn "$gv__t is not one pulumi-gvisor installed (checksum differs); leaving it in place"
        gv_bin_kept="$gv_bin_kept $gv__n"
        ;;
    esac
  done
}

# ---------------------------------------------------------------------------
# runsc flag checks (before any config that uses the flags is written)

# gv_check_runsc_flags RUNSC [WORD...]: refuse flags or a platform the installed
# runsc does not know. Checks $GV_RUNSC_FLAGS, then the extra WORDs (the
# runtimeArgs of Docker's entry), and $GV_RUNSC_PLATFORM.
gv_check_runsc_flags() {
  gv__runsc=$1
  shift
  gv__ver=$(gv_runsc_version "$gv__runsc") ||
    gv_die "runsc at $gv__runsc does not run" "re-run the install step"
  gv__plat=${GV_RUNSC_PLATFORM:-}
  gv__words=$(
    set -f
    IFS=' '
    # Word splitting on spaces is the point here: one word per flag.
    # shellcheck disable=SC2086
    for gv__w in $GV_RUNSC_FLAGS; do printf '%s\n' "$gv__w"; done
    for gv__w in "$@"; do printf '%s\n' "$gv__w"; done
  )
  while IFS= read -r gv__w; do
    [ -n "$gv__w" ] || continue
    case $gv__w in
      --platform=* | -platform=*) gv__plat=${gv__w#*=} ;;
      -?*) ;;
      *) gv_die "runsc flag '$gv__w' is not of the form --name=value" "fix the plan's runsc flags; nothing was written" ;;
    esac
  done <<GV_EOF
$gv__words
GV_EOF
  gv__rc=0
  gv__out=$(
    set -f
    IFS=' '
    # shellcheck disable=SC2086
    "$gv__runsc" $GV_RUNSC_FLAGS "$@" --version 2>&1
  ) || gv__rc=$?
  if [ "$gv__rc" -ne 0 ]; then
    gv__bad=$(printf '%s\n' "$gv__out" | sed -n 's/^.*flag provided but not defined: -*\([^[:space:]]*\).*$/\1/p' | head -n 1)
    if [ -n "$gv__bad" ]; then
      gv_die "runsc $gv__ver at $gv__runsc does not know the flag --$gv__bad (from the plan's runsc flags)" \
        "remove that flag or install a gVisor release that has it; nothing was written"
    fi
    gv_die "runsc $gv__ver at $gv__runsc rejected the plan's runsc flags: $(printf '%s\n' "$gv__out" | head -n 1)" \
      "fix the flag values; nothing was written"
  fi
  [ -n "$gv__plat" ] || return 0
  gv__plats=$("$gv__runsc" flags 2>&1 | awk '
    /^[[:space:]]*-platform[[:space:]]/ { getline; print; exit }' |
    sed -n 's/^.*platform to use:[[:space:]]*\([^.]*\)\..*$/\1/p' |
    sed 's/[[:space:]]*(default)//g; s/[[:space:]]//g') || gv__plats=''
  if [ -z "$gv__plats" ]; then
    gv_warn "could not read the platform list from 'runsc flags' (runsc $gv__ver); not checking platform '$gv__plat'"
    return 0
  fi
  case ",$gv__plats," in
    *",$gv__plat,"*) ;;
    *) gv_die "runsc $gv__ver at $gv__runsc does not support platform '$gv__plat' (it supports: $(printf '%s' "$gv__plats" | sed 's/,/, /g'))" \
      "choose one of those platforms or install a gVisor release that has '$gv__plat'; nothing was written" ;;
  esac
}

# ---------------------------------------------------------------------------
# Docker

# gv_dockerd_pid: print the pid of a running dockerd from /var/run/docker.pid.
gv_dockerd_pid() {
  [ -r /var/run/docker.pid ] || return 1
  gv__pid=$(head -n 1 /var/run/docker.pid 2>/dev/null) || return 1
  case $gv__pid in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$gv__pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$gv__pid/comm" 2>/dev/null)" = dockerd ] || return 1
  printf '%s\n' "$gv__pid"
}

# gv_docker_running: true when dockerd runs (systemd unit active, or pid file).
gv_docker_running() {
  if gv_has_systemd && systemctl is-active --quiet docker.service 2>/dev/null; then
    return 0
  fi
  gv_dockerd_pid >/dev/null
}

# gv_docker_reload: make a running dockerd re-read daemon.json without a
# restart (running containers survive). Returns 0 reloaded, 1 reload failed,
# 2 dockerd is not running.
gv_docker_reload() {
  if gv_has_systemd && systemctl is-active --quiet docker.service 2>/dev/null; then
    gv_log "reloading dockerd (systemctl reload docker; containers keep running)"
    systemctl reload docker.service || return 1
    return 0
  fi
  if gv__dpid=$(gv_dockerd_pid); then
    gv_log "reloading dockerd (SIGHUP to pid $gv__dpid; containers keep running)"
    kill -HUP "$gv__dpid" || return 1
    return 0
  fi
  return 2
}

# gv_docker_confirm CFG RUNTIME: poll `docker info` (for at most 20s, each
# call at most 5s: a hung dockerd must not hold the step for minutes) until
# dockerd shows what CFG says about RUNTIME (present with CFG's path and args,
# or absent) and CFG's default-runtime when CFG sets one. Returns 1 on timeout
# with the last mismatch in $gv_run/confirm.err.
gv_docker_confirm() {
  if ! command -v docker >/dev/null 2>&1; then
    gv_warn "the docker CLI is not installed, so the reload cannot be confirmed"
    return 0
  fi
  gv__until=$(($(date +%s) + 20))
  while :; do
    gv__info=$(gv_timeout 5 docker info --format '{"runtimes":{{json .Runtimes}},"default":{{json .DefaultRuntime}}}' 2>"$gv_run/confirm.err") || gv__info=''
    if [ -n "$gv__info" ] &&
      gv_py docker-info-check "GVP_INFO=$gv__info" "GVP_RUNTIME=$2" "GVP_FILE=$1" 2>"$gv_run/confirm.err"; then
      return 0
    fi
    [ -s "$gv_run/confirm.err" ] || echo "docker info did not answer (dockerd hung?)" >"$gv_run/confirm.err"
    [ "$(date +%s)" -lt "$gv__until" ] || return 1
    sleep 1
  done
}

# gv_docker_apply NEW CFG RUNTIME [RECORD]: put NEW's bytes at CFG (NEW empty: remove
# CFG) and have a running dockerd take them. dockerd's reload never drops a
# key that disappeared from daemon.json (default-runtime, runtimes), so when
# one disappears CFG first passes through a version that states it explicitly
# ("default-runtime": "runc", "runtimes": {}), is reloaded, then gets NEW.
# The intermediate's digest goes into RECORD's intents before it is written.
# Returns 0 applied and confirmed, 2 dockerd is not running (file written),
# 1 reload failed, 3 dockerd did not take it, 4 write failed.
gv_docker_apply() {
  if ! gv_docker_running; then
    gv__docker_put "$1" "$2" || return 4
    return 2
  fi
  if [ -f "$2" ] &&
    gv_py docker-transition "GVP_CURRENT=$2" "GVP_FINAL=$1" "GVP_OUT=$gv_run/transition.json" 2>/dev/null; then
    gv_log "dockerd keeps removed keys on reload, so first reloading with them stated explicitly"
    [ -z "${4:-}" ] || gv_rec_intend "$4" "$gv_run/transition.json"
    gv__t_rc=0
    gv__docker_put_reload "$gv_run/transition.json" "$2" "$3" || gv__t_rc=$?
    if [ "$gv__t_rc" -ne 0 ]; then
      # Never leave the intermediate file behind: NEW goes in place regardless.
      gv__docker_put "$1" "$2" || return 4
      gv_docker_reload >/dev/null 2>&1 || true
      return "$gv__t_rc"
    fi
  fi
  gv__docker_put_reload "$1" "$2" "$3"
}

gv__docker_put() {
  if [ -n "$1" ]; then
    gv_replace_file "$1" "$2" 0644
  else
    rm -f -- "$2"
  fi
}

gv__docker_put_reload() {
  gv__docker_put "$1" "$2" || return 4
  gv__rl=0
  gv_docker_reload || gv__rl=$?
  [ "$gv__rl" -eq 0 ] || return 1
  gv_docker_confirm "$2" "$3" || return 3
}

# gv_docker_loaded CFG RUNTIME: true when dockerd is not running, or when
# `docker info` already shows what CFG says about RUNTIME (one look, no wait).
gv_docker_loaded() {
  gv_docker_running || return 0
  command -v docker >/dev/null 2>&1 || return 0
  gv__info=$(gv_timeout 5 docker info --format '{"runtimes":{{json .Runtimes}},"default":{{json .DefaultRuntime}}}' 2>/dev/null) &&
    gv_py docker-info-check "GVP_INFO=$gv__info" "GVP_RUNTIME=$2" "GVP_FILE=$1" 2>/dev/null
}

# gv_docker_undo DIR: undo configure-docker's record DIR: daemon.json back to
# its original bytes if it still holds one of ours, else only our runtime
# (and a default-runtime we set) taken out; dockerd reloaded and confirmed.
# Sets gv_undo_action; forgets the record only once that is done.
gv_docker_undo() {
  gv__u=$1
  gv__ucfg=$(gv_record_get "$gv__u/record" path)
  gv__uname=$(gv_record_get "$gv__u/record" runtime)
  gv_undo_action=$(gv_rec_action "$gv__u" 1) || gv_die "could not read the record in $gv__u" "re-run"
  gv__unew=''
  case $gv_undo_action in
    restore-original) gv__unew="$gv__u/original" ;;
    unmerge)
      gv__orig=''
      [ ! -f "$gv__u/original" ] || gv__orig="$gv__u/original"
      gv__urc=0
      gv_py docker-unmerge "GVP_CONFIG=$gv__ucfg" "GVP_RUNTIME=$gv__uname" "GVP_ORIG=$gv__orig" \
        "GVP_SET_DEFAULT=$(gv_record_get "$gv__u/record" set_default)" "GVP_OUT=$gv_run/unmerged.json" \
        2>"$gv_run/unmerge.err" || gv__urc=$?
      case $gv__urc in
        0) gv__unew="$gv_run/unmerged.json" gv_undo_action='removed-entry' ;;
        3) gv_undo_action=none ;;
        6) gv_undo_action=remove-file ;;
        *) gv_die "$(head -n 1 "$gv_run/unmerge.err")" "fix $gv__ucfg by hand and re-run; it was not changed" ;;
      esac
      ;;
  esac
  if [ "$gv_undo_action" = none ]; then
    gv_log "$gv__ucfg holds nothing of pulumi-gvisor's runtime $gv__uname"
  else
    gv_log "undoing runtime $gv__uname in $gv__ucfg ($gv_undo_action)"
    gv_phase docker-undo
    gv__arc=0
    gv_docker_apply "$gv__unew" "$gv__ucfg" "$gv__uname" "$gv__u" || gv__arc=$?
    case $gv__arc in
      0 | 2)
        if [ "$gv_undo_action" = restore-original ]; then
          chmod "$(gv_record_get "$gv__u/record" original_mode)" -- "$gv__ucfg" || true
        fi
        ;;
      3) gv_die "dockerd did not take $gv__ucfg without runtime $gv__uname ($(head -n 1 "$gv_run/confirm.err" 2>/dev/null))" \
        "see dockerd's log (journalctl -u docker, or its log file) and re-run; the record is kept, so the next run tries again" ;;
      *) gv_die "could not write $gv__ucfg or reload dockerd while removing runtime $gv__uname" \
        "check dockerd and the file system, then re-run; the record is kept, so the next run tries again" ;;
    esac
  fi
  gv_rec_close "$gv__u"
}

# ---------------------------------------------------------------------------
# containerd

# gv_containerd_major: print containerd's major version (1, 2, ...).
gv_containerd_major() {
  containerd --version 2>/dev/null | awk '{ v = $3; sub(/^v/, "", v); split(v, p, "."); print p[1]; exit }'
}

# gv_containerd_dump CONFIG OUT: `containerd --config CONFIG config dump` into
# OUT; on failure print containerd's first error line and return 1.
gv_containerd_dump() {
  if gv_timeout 60 containerd --config "$1" config dump >"$2" 2>"$2.err"; then
    return 0
  fi
  grep -v 'level=warning' "$2.err" | head -n 1 >&2
  return 1
}

# gv_containerd_cri ADDRESS: the state of containerd's CRI plugin (type
# io.containerd.grpc.v1, id cri: the same on 1.6, 1.7 and 2.x) in the daemon
# serving on ADDRESS, from `ctr plugins ls`: ok, skip, absent, error:
# <containerd's message>, or unknown: <why> (no ctr, no answer).
gv_containerd_cri() {
  command -v ctr >/dev/null 2>&1 || {
    echo 'unknown: ctr is not installed'
    return 0
  }
  gv__cf=type==io.containerd.grpc.v1,id==cri
  if ! gv_timeout 30 ctr --address "$1" plugins ls "$gv__cf" >"$gv_run/cri.ls" 2>&1; then
    printf 'unknown: %s\n' "$(grep . "$gv_run/cri.ls" | tail -n 1)"
    return 0
  fi
  gv__cs=$(awk 'NR > 1 && NF { print $NF; exit }' "$gv_run/cri.ls")
  case $gv__cs in
    ok | skip) echo "$gv__cs" ;;
    '') echo absent ;;
    *) printf 'error: %s\n' "$(gv_timeout 30 ctr --address "$1" plugins ls -d "$gv__cf" 2>/dev/null |
      sed -n 's/^[[:space:]]*Message:[[:space:]]*//p' | head -n 1)" ;;
  esac
}

# gv_containerd_restart_required CONFIG: true when a containerd process that
# reads CONFIG started before CONFIG was last written.
gv_containerd_restart_required() {
  gv_py containerd-stale "GVP_CONFIG=$1"
}

# gv_containerd_undo DIR: undo configure-containerd's record DIR: config.toml
# (kind block) back to its original bytes if it still holds one of ours, else
# our marked block taken out (checked with `containerd config dump`);
# runsc.toml (kind plain) restored or removed unless edited since. Sets
# gv_undo_action; the caller restarts containerd when a block file changed.
gv_containerd_undo() {
  gv__u=$1
  gv__up=$(gv_record_get "$gv__u/record" path)
  gv__uname=$(gv_record_get "$gv__u/record" runtime)
  gv__merged=0
  [ "$(gv_record_get "$gv__u/record" kind)" != block ] || gv__merged=1
  gv_undo_action=$(gv_rec_action "$gv__u" "$gv__merged") || gv_die "could not read the record in $gv__u" "re-run"
  if [ "$gv_undo_action" = unmerge ]; then
    gv__urc=0
    gv_py containerd-block "GVP_MODE=remove" "GVP_CONFIG=$gv__up" "GVP_RUNTIME=$gv__uname" \
      "GVP_OUT=$gv_run/unblocked.toml" 2>"$gv_run/block.err" || gv__urc=$?
    case $gv__urc in
      0) gv_undo_action='removed-block' ;;
      3) gv_undo_action=none ;;
      *) gv_die "$gv__up: $(head -n 1 "$gv_run/block.err")" "remove the block by hand and re-run; $gv__up was not changed" ;;
    esac
    if [ "$gv_undo_action" = removed-block ] && command -v containerd >/dev/null 2>&1; then
      gv__real=$(readlink -f -- "$gv__up")
      gv__staged="$(dirname "$gv__real")/.$(basename "$gv__real").pulumi-gvisor-probe"
      gv_cleanup_add "$gv__staged"
      cp "$gv_run/unblocked.toml" "$gv__staged"
      gv_containerd_dump "$gv__staged" "$gv_run/undo.dump" 2>"$gv_run/dump.msg" ||
        gv_die "containerd cannot load $gv__up once pulumi-gvisor's block is removed: $(head -n 1 "$gv_run/dump.msg")" \
          "fix the rest of $gv__up by hand and re-run; $gv__up was not changed"
      rm -f -- "$gv__staged"
    fi
  fi
  gv_phase containerd-undo
  case $gv_undo_action in
    restore-original) gv_log "restoring the original $gv__up"; gv_rec_restore "$gv__u" ;;
    remove-file) gv_log "removing $gv__up (it did not exist before pulumi-gvisor)"; rm -f -- "$gv__up" ;;
    removed-block)
      gv__ukept=$(gv_record_get "$gv__u/record" default_runtime)
      gv_log "removing runtime $gv__uname${gv__ukept:+ (and the copy of default runtime $gv__ukept its block carried)} from $gv__up"
      gv_replace_file "$gv_run/unblocked.toml" "$gv__up"
      ;;
    keep) gv_warn "$gv__up changed since pulumi-gvisor wrote it; leaving it in place" ;;
    *) ;;
  esac || gv_die "could not write $gv__up" "check the file system (read-only, full?) and re-run; the record is kept, so the next run tries again"
  gv_rec_close "$gv__u"
}

# gv_restart_containerd: systemctl restart containerd.service. A unit that
# systemd stopped restarting (start-limit-hit: several restarts in a few
# seconds, as repeated runs or a crash loop cause) is reset once and retried.
gv_restart_containerd() {
  systemctl restart containerd.service && return 0
  [ "$(systemctl show -p Result --value containerd.service 2>/dev/null)" = start-limit-hit ] || return 1
  gv_warn "systemd had stopped restarting containerd (start limit hit); resetting the limit and trying once more"
  systemctl reset-failed containerd.service && systemctl restart containerd.service
}

# gv_containerd_address CONFIG: the gRPC address a containerd reading CONFIG
# serves on (from its `config dump`; containerd's default when that fails).
gv_containerd_address() {
  if gv_containerd_dump "$1" "$gv_run/address.dump" 2>/dev/null; then
    gv_py containerd-dump-check "GVP_DUMP=$gv_run/address.dump" GVP_RUNTIME=- | sed -n 's/^address=//p'
  else
    echo /run/containerd/containerd.sock
  fi
}

# gv_containerd_restart_cri ADDRESS: restart containerd.service and wait
# for the unit to be active and its CRI plugin to answer. Sets gv_cri_before
# and gv_cri (gv_containerd_cri's words, before and after). Returns 1 when the
# restart fails, 2 when the unit is not active again within 20 s.
gv_containerd_restart_cri() {
  gv_cri_before=$(gv_containerd_cri "$1")
  gv_log "restarting containerd (systemctl restart containerd; running containers keep running)"
  gv_restart_containerd || return 1
  gv__i=0
  until systemctl is-active --quiet containerd.service 2>/dev/null; do
    gv__i=$((gv__i + 1))
    [ "$gv__i" -lt 20 ] || return 2
    sleep 1
  done
  gv__i=0
  gv_cri=$(gv_containerd_cri "$1")
  while [ "${gv_cri%%:*}" = unknown ] && [ "${gv_cri_before%%:*}" != unknown ] && [ "$gv__i" -lt 10 ]; do
    gv__i=$((gv__i + 1))
    sleep 1
    gv_cri=$(gv_containerd_cri "$1")
  done
}

# gv_containerd_reload_after_undo CONFIG ON_CRI_LOSS: a containerd that read
# CONFIG must drop the runtime: restart it under systemd and check that its
# CRI plugin, if it was loaded, still is (ON_CRI_LOSS warn: say so; die: fail
# the step); else say a restart is due (sets gv_restart_required=true).
gv_containerd_reload_after_undo() {
  if gv_has_systemd && systemctl is-active --quiet containerd.service 2>/dev/null; then
    gv__rc=0
    gv_containerd_restart_cri "$(gv_containerd_address "$1")" || gv__rc=$?
    [ "$gv__rc" != 1 ] || gv_die "containerd did not restart after pulumi-gvisor's runtime was taken out of $1" "see 'journalctl -u containerd' and fix $1"
    [ "$gv__rc" = 0 ] || gv_die "containerd is not active after the restart without pulumi-gvisor's runtime in $1" "see 'journalctl -u containerd' and fix $1"
    if [ "$gv_cri" = ok ] || [ "$gv_cri_before" != ok ]; then
      return 0
    fi
    gv__lost="containerd restarted after pulumi-gvisor's runtime was taken out of $1, but its CRI plugin did not load ($gv_cri)"
    gv__fix="$1 without pulumi-gvisor's block does not give containerd a working CRI config (on containerd 1.x a runtimes table there must include the default runtime, e.g. runc); fix $1 by hand and restart containerd"
    if [ "$2" = die ]; then
      gv_die "$gv__lost" "$gv__fix"
    fi
    gv_warn "$gv__lost: $gv__fix"
  elif ! gv_has_systemd && gv_py containerd-running "GVP_CONFIG=$1"; then
    # shellcheck disable=SC2034 # read by the steps
    gv_restart_required=true
    gv_warn "containerd is running without systemd and still has the runtime loaded: restart it yourself (it was not killed)"
  fi
}

# ---------------------------------------------------------------------------
# python helper (JSON, TOML blocks, config dumps). Values come from GVP_*
# environment variables set for the one call; the subcommand is argv[1].

# gv_py SUBCOMMAND [NAME=VALUE...]
gv_py() {
  gv__sub=$1
  shift
  env "$@" "${gv_python:-python3}" -I -c "$(gv__pysrc)" "$gv__sub"
}

# gv__pysrc: the python helper's program (helper.py beside this file). The
# renderer replaces this function with one that carries helper.py, pruned to
# the subcommands the step runs, in a heredoc, so a rendered step needs no
# other file; run by hand, a step reads helper.py from its own directory.
gv__pysrc() {
  cat -- "$(dirname "$0")/helper.py"
}

# ---------------------------------------------------------------------------
# Downloads and release checks (install step)

# gv_url_for_humans URL: URL for a message: no user:password@, no control characters.
gv_url_for_humans() {
  printf '%s\n' "$1" | head -n 1 | tr -d '\000-\037\177' |
    sed 's|^\([A-Za-z][A-Za-z0-9+.-]*://\)[^/?#]*@|\1***@|' | cut -c 1-300
}

# gv_space_report DIR: free space of DIR's filesystem, in words.
gv_space_report() {
  gv__free=$(df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }') || gv__free=''
  [ "${gv__free:-9999}" -ge 1024 ] || printf 'no space left on device, '
  printf '%s KiB free\n' "${gv__free:-?}"
}

# gv_kernel_at_least MAJOR.MINOR: true when uname -r is that or newer.
gv_kernel_at_least() {
  gv__have=$(uname -r | sed -n 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [ -n "$gv__have" ] || return 1
  [ "${gv__have% *}" -gt "${1%%.*}" ] ||
    { [ "${gv__have% *}" -eq "${1%%.*}" ] && [ "${gv__have#* }" -ge "${1#*.}" ]; }
}
