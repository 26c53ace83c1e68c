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
  gv_run=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-gvisor.XXXXXX") ||
    gv_die "could not create a temporary directory" "check that ${TMPDIR:-/tmp} is writable and not full"
  gv_cleanup_add "$gv_run"
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
gv_replace_file() {
  gv__dst_dir=$(dirname "$2") || return 1
  gv__tmpf="$gv__dst_dir/.$(basename "$2").pulumi-gvisor-new"
  gv_cleanup_add "$gv__tmpf"
  rm -f -- "$gv__tmpf" || return 1
  if [ -f "$2" ]; then
    cp -p -- "$2" "$gv__tmpf" || return 1
    cat -- "$1" >"$gv__tmpf" || return 1
  else
    cp -- "$1" "$gv__tmpf" || return 1
    chmod "${3:-0644}" "$gv__tmpf" || return 1
  fi
  mv -f -- "$gv__tmpf" "$2"
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

# gv_docker_confirm CFG RUNTIME: poll `docker info` (up to 15s) until dockerd
# shows what CFG says about RUNTIME (present with CFG's path and args, or
# absent) and CFG's default-runtime when CFG sets one. Returns 1 on timeout
# with the last mismatch in $gv_run/confirm.err.
gv_docker_confirm() {
  if ! command -v docker >/dev/null 2>&1; then
    gv_warn "the docker CLI is not installed, so the reload cannot be confirmed"
    return 0
  fi
  gv__i=0
  while [ "$gv__i" -lt 15 ]; do
    gv__info=$(gv_timeout 10 docker info --format '{"runtimes":{{json .Runtimes}},"default":{{json .DefaultRuntime}}}' 2>"$gv_run/confirm.err") || gv__info=''
    if [ -n "$gv__info" ] &&
      gv_py docker-info-check "GVP_INFO=$gv__info" "GVP_RUNTIME=$2" "GVP_FILE=$1" 2>"$gv_run/confirm.err"; then
      return 0
    fi
    gv__i=$((gv__i + 1))
    sleep 1
  done
  return 1
}

# gv_docker_apply NEW CFG RUNTIME: put NEW's bytes at CFG (NEW empty: remove
# CFG) and have a running dockerd take them. dockerd's reload never drops a
# key that disappeared from daemon.json (default-runtime, runtimes), so when
# one disappears CFG first passes through a version that states it explicitly
# ("default-runtime": "runc", "runtimes": {}), is reloaded, then gets NEW.
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

# gv_containerd_restart_required CONFIG: true when a containerd process that
# reads CONFIG started before CONFIG was last written.
gv_containerd_restart_required() {
  gv_py containerd-stale "GVP_CONFIG=$1"
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

gv__pysrc() {
  cat <<'GV_PY'
import hashlib, json, os, re, stat, sys

def die(msg, code=4):
    sys.stderr.write(msg.rstrip("\n") + "\n")
    sys.exit(code)

def env(name, default=None):
    v = os.environ.get(name)
    if v is None:
        if default is None:
            die("internal error: %s is not set" % name, 70)
        return default
    return v

def read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        die("%s is not UTF-8 text" % path)

def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)

# -- emit -----------------------------------------------------------------
def cmd_emit():
    out = {}
    for i in range(1, int(env("GVE_COUNT")) + 1):
        spec = env("GVE_%d" % i)
        key, _, val = spec.partition("=")
        name, _, typ = key.partition(":")
        if typ == "":
            out[name] = val
        elif typ == "b":
            out[name] = (val == "true")
        elif typ == "i":
            out[name] = int(val) if val != "" else None
        elif typ == "j":
            out[name] = json.loads(val)
        elif typ == "n":
            out[name] = None
        elif typ == "s?":
            out[name] = val if val != "" else None
        elif typ == "l":
            out[name] = val.split()
        else:
            die("internal error: bad field type " + typ, 70)
    sys.stdout.write(json.dumps(out, separators=(",", ":"), ensure_ascii=False) + "\n")

# -- hashing --------------------------------------------------------------
def cmd_sha512():
    h = hashlib.sha512()
    with open(env("GVP_FILE"), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    print(h.hexdigest())

def cmd_tree_digest():
    root = env("GVP_DIR")
    h = hashlib.sha512()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            h.update(("%s\0%o\0" % (rel, st.st_mode)).encode("utf-8", "surrogateescape"))
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(p).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            h.update(b"\0")
    print(h.hexdigest())

def cmd_untar():
    # Fallback when bzip2(1) is missing: extract regular files and directories only.
    import tarfile
    dest = env("GVP_DEST")
    with tarfile.open(env("GVP_ARCHIVE"), "r:bz2") as tf:
        for m in tf.getmembers():
            name = os.path.normpath(m.name)
            if name.startswith("/") or name == ".." or name.startswith("../"):
                die("archive member %r escapes the extraction directory" % m.name)
            target = os.path.join(dest, name)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
            elif m.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                src = tf.extractfile(m)
                with open(target, "wb") as f:
                    f.write(src.read())
                os.chmod(target, m.mode & 0o755)

# -- Docker daemon.json -----------------------------------------------------
def load_daemon_json(path, what):
    if not os.path.exists(path):
        return None, ""
    text = read_text(path)
    if text.strip() == "":
        return {}, text
    try:
        obj = json.loads(text)
    except ValueError as e:
        die("%s is not valid JSON (%s)" % (what, e))
    if not isinstance(obj, dict):
        die("%s does not hold a JSON object" % what)
    if "runtimes" in obj and not isinstance(obj["runtimes"], dict):
        die('%s has a "runtimes" value that is not an object' % what)
    return obj, text

def json_indent(text):
    for line in text.splitlines():
        m = re.match(r'^([ \t]+)"', line)
        if m:
            ws = m.group(1)
            return "\t" if ws.startswith("\t") else len(ws)
    return 2

def dump_daemon_json(obj, old_text):
    return json.dumps(obj, indent=json_indent(old_text), ensure_ascii=False) + "\n"

def parse_entry():
    try:
        entry = json.loads(env("GVP_ENTRY"))
    except ValueError as e:
        die("the runtime entry is not valid JSON (%s)" % e, 5)
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or entry["path"] == "":
        die('the runtime entry must be a JSON object with a "path" string', 5)
    args = entry.get("runtimeArgs", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        die('the runtime entry\'s "runtimeArgs" must be a list of strings', 5)
    return entry

def cmd_entry_words():
    # Line 1: the runtime path; then one runtimeArg per line.
    entry = parse_entry()
    for w in [entry["path"]] + list(entry.get("runtimeArgs", [])):
        if "\n" in w:
            die("a runtime argument contains a newline", 5)
        print(w)

def cmd_docker_runtime_words():
    # Path and runtimeArgs (one per line) of GVP_RUNTIME in `docker info` JSON; exit 3 if absent.
    got = (json.loads(env("GVP_INFO")) or {}).get(env("GVP_RUNTIME"))
    if not isinstance(got, dict) or not isinstance(got.get("path"), str):
        sys.exit(3)
    for w in [got["path"]] + [str(a) for a in (got.get("runtimeArgs") or [])]:
        print(w.replace("\n", " "))

def cmd_docker_merge():
    # exit 0: wrote GVP_OUT; exit 3: no change; exit 4: bad daemon.json; exit 5: bad entry.
    path, name = env("GVP_CONFIG"), env("GVP_RUNTIME")
    entry = parse_entry()
    obj, text = load_daemon_json(path, path)
    new = json.loads(json.dumps(obj if obj is not None else {}))
    runtimes = new.get("runtimes", {})
    runtimes[name] = entry
    new["runtimes"] = runtimes
    if env("GVP_DEFAULT") == "true":
        new["default-runtime"] = name
    elif new.get("default-runtime") == name:
        del new["default-runtime"]
    if obj is not None and new == obj:
        sys.exit(3)
    write_text(env("GVP_OUT"), dump_daemon_json(new, text))

def cmd_docker_unmerge():
    # exit 0: wrote GVP_OUT; 3: nothing of ours left; 4: bad daemon.json; 6: delete the file.
    path, name = env("GVP_CONFIG"), env("GVP_RUNTIME")
    cur, text = load_daemon_json(path, path)
    if cur is None:
        sys.exit(3)
    orig_path = env("GVP_ORIG", "")
    orig = {}
    if orig_path:
        o, _ = load_daemon_json(orig_path, "the recorded original daemon.json")
        orig = o or {}
    orig_rt = orig.get("runtimes") if isinstance(orig.get("runtimes"), dict) else {}
    new = json.loads(json.dumps(cur))
    rt = new.get("runtimes")
    if isinstance(rt, dict) and name in rt:
        if name in orig_rt:
            rt[name] = orig_rt[name]
        else:
            del rt[name]
        if not rt and "runtimes" not in orig:
            del new["runtimes"]
    if new.get("default-runtime") == name and orig.get("default-runtime") != name:
        if "default-runtime" in orig:
            new["default-runtime"] = orig["default-runtime"]
        else:
            del new["default-runtime"]
    if new == cur:
        sys.exit(3)
    if new == {} and not orig_path:
        sys.exit(6)
    write_text(env("GVP_OUT"), dump_daemon_json(new, text))

def cmd_docker_info_check():
    # exit 0 when dockerd (GVP_INFO) shows what GVP_FILE says about GVP_RUNTIME.
    info = json.loads(env("GVP_INFO"))
    name = env("GVP_RUNTIME")
    want, _ = load_daemon_json(env("GVP_FILE"), env("GVP_FILE"))
    want = want or {}
    have_rt = info.get("runtimes") or {}
    if "runtimes" in want:
        exp = want["runtimes"].get(name)
        got = have_rt.get(name)
        if exp is None and got is not None:
            die("dockerd still lists runtime %s" % name, 1)
        if exp is not None:
            if not isinstance(got, dict):
                die("docker info does not list runtime %s" % name, 1)
            if (got.get("path") != exp.get("path")
                    or list(got.get("runtimeArgs") or []) != list(exp.get("runtimeArgs") or [])):
                die("docker info lists runtime %s as %s" % (name, json.dumps(got)), 1)
    if "default-runtime" in want and info.get("default") != want["default-runtime"]:
        die("docker info shows default runtime %s, not %s" % (info.get("default"), want["default-runtime"]), 1)

def cmd_docker_transition():
    # exit 0: wrote GVP_OUT, the intermediate daemon.json; exit 3: none needed.
    cur, _ = load_daemon_json(env("GVP_CURRENT"), env("GVP_CURRENT"))
    final_path = env("GVP_FINAL", "")
    fin, text = load_daemon_json(final_path, final_path) if final_path else ({}, "")
    cur, fin = cur or {}, fin or {}
    mid = json.loads(json.dumps(fin))
    if "default-runtime" in cur and "default-runtime" not in fin:
        mid["default-runtime"] = "runc"
    if "runtimes" in cur and "runtimes" not in fin:
        mid["runtimes"] = {}
    if mid == fin:
        sys.exit(3)
    write_text(env("GVP_OUT"), dump_daemon_json(mid, text))

# -- TOML (containerd config, runsc.toml) ------------------------------------
HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
KEYVAL = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$""")

def split_key(s):
    parts, i = [], 0
    while i < len(s):
        c = s[i]
        if c in " \t.":
            i += 1
        elif c == '"':
            j, buf = i + 1, ""
            while j < len(s) and s[j] != '"':
                if s[j] == "\\" and j + 1 < len(s):
                    buf += s[j + 1]
                    j += 2
                    continue
                buf += s[j]
                j += 1
            parts.append(buf)
            i = j + 1
        elif c == "'":
            j = s.find("'", i + 1)
            j = len(s) if j < 0 else j
            parts.append(s[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < len(s) and s[j] not in ". \t":
                j += 1
            parts.append(s[i:j])
            i = j
    return parts

def toml_string(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return None

def top_level_lines(text):
    for line in text.splitlines():
        if HEADER.match(line) or line.lstrip().startswith("[["):
            return
        yield line

def cmd_containerd_inspect():
    # version=N|none, content=0|1, cri_disabled=<plugin>|'' for the top of the file.
    text = read_text(env("GVP_CONFIG"))
    version, content, top = "none", 0, []
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            content = 1
    for line in top_level_lines(text):
        m = re.match(r"^\s*version\s*=\s*(\d+)\s*(#.*)?$", line)
        if m:
            version = m.group(1)
        top.append(line)
    disabled = ""
    m = re.search(r"(?ms)^\s*disabled_plugins\s*=\s*\[(.*?)\]", "\n".join(top))
    if m:
        names = re.findall(r"""["']([^"']*)["']""", m.group(1))
        for n in names:
            if n in ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"):
                disabled = n
    print("version=%s" % version)
    print("content=%d" % content)
    print("cri_disabled=%s" % disabled)

def block_bounds(lines, name):
    begin, end = "# BEGIN pulumi-gvisor runtime " + name, "# END pulumi-gvisor runtime " + name
    b = [i for i, l in enumerate(lines) if l.rstrip("\r\n") == begin]
    e = [i for i, l in enumerate(lines) if l.rstrip("\r\n") == end]
    if not b and not e:
        return None
    if len(b) != 1 or len(e) != 1 or e[0] < b[0]:
        die("the pulumi-gvisor block for runtime %s is damaged (its BEGIN/END marker lines are missing, "
            "repeated or out of order)" % name)
    return b[0], e[0]

def cmd_containerd_block():
    # GVP_MODE=put|remove. exit 0: wrote GVP_OUT; exit 3: result equals the input.
    src, name, mode = env("GVP_CONFIG"), env("GVP_RUNTIME"), env("GVP_MODE")
    text = read_text(src) if os.path.exists(src) else ""
    lines = text.splitlines(True)
    bounds = block_bounds(lines, name)
    if mode == "remove":
        if bounds is None:
            sys.exit(3)
        before, after = lines[:bounds[0]], lines[bounds[1] + 1:]
        if not after and before and before[-1].strip() == "":
            before = before[:-1]
        new = "".join(before + after)
    else:
        body = env("GVP_BLOCK").strip("\n")
        block = ["# BEGIN pulumi-gvisor runtime %s\n" % name,
                 "# Managed by pulumi-gvisor: edits inside this block are replaced on the next run.\n"]
        if env("GVP_VERSION_LINE", ""):
            block.append("version = %s\n" % env("GVP_VERSION_LINE"))
        block += [l + "\n" for l in body.split("\n")]
        block.append("# END pulumi-gvisor runtime %s\n" % name)
        if bounds is not None:
            new = "".join(lines[:bounds[0]] + block + lines[bounds[1] + 1:])
        else:
            head = text
            if head and not head.endswith("\n"):
                head += "\n"
            if head.strip() and not head.endswith("\n\n"):
                head += "\n"
            new = head + "".join(block)
    if new == text and os.path.exists(src):
        sys.exit(3)
    write_text(env("GVP_OUT"), new)

def cmd_containerd_dump_check():
    # Find runtime GVP_RUNTIME in a `containerd config dump`.
    name = env("GVP_RUNTIME")
    section, found, rtype, cpath = None, 0, "", ""
    for line in read_text(env("GVP_DUMP")).splitlines():
        m = HEADER.match(line)
        if m:
            section = split_key(m.group(1))
            continue
        m = KEYVAL.match(line)
        if not m or section is None:
            continue
        key = split_key(m.group(1))[0]
        p = section
        is_rt = (len(p) >= 5 and p[0] == "plugins" and p[2:4] == ["containerd", "runtimes"] and p[4] == name
                 and p[1] in ("io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"))
        if not is_rt:
            continue
        if len(p) == 5:
            found = 1
            if key == "runtime_type":
                rtype = toml_string(m.group(2)) or ""
        elif len(p) == 6 and p[5] == "options" and key == "ConfigPath":
            cpath = toml_string(m.group(2)) or ""
    print("found=%d" % found)
    print("runtime_type=%s" % rtype)
    print("config_path=%s" % cpath)

def cmd_runsc_toml_check():
    # exit 0 valid (or cannot check); 4 invalid. Prints "checked" or "unchecked".
    try:
        import tomllib
    except ImportError:
        print("unchecked")
        return
    try:
        doc = tomllib.loads(env("GVP_TOML"))
    except tomllib.TOMLDecodeError as e:
        die("the plan's runsc.toml is not valid TOML (%s)" % e)
    rc = doc.get("runsc_config", {})
    if not isinstance(rc, dict):
        die("runsc.toml: [runsc_config] is not a table")
    for k, v in rc.items():
        if not isinstance(v, str):
            die('runsc.toml: runsc_config.%s must be a quoted string (e.g. %s = "%s"); the shim rejects other types'
                % (k, k, str(v).lower()))
    print("checked")

def containerd_pids(config):
    want = os.path.realpath(config)
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != "containerd":
                    continue
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        cfg = "/etc/containerd/config.toml"
        for i, a in enumerate(argv):
            if a in ("--config", "-c") and i + 1 < len(argv):
                cfg = argv[i + 1]
            elif a.startswith("--config="):
                cfg = a.split("=", 1)[1]
        if os.path.realpath(cfg) == want:
            pids.append(int(pid))
    return pids

def cmd_containerd_running():
    # exit 0 when a containerd process reads GVP_CONFIG.
    sys.exit(0 if containerd_pids(env("GVP_CONFIG")) else 1)

def cmd_containerd_stale():
    # exit 0 when a containerd reading GVP_CONFIG started before its last write.
    config = env("GVP_CONFIG")
    try:
        mtime = os.stat(config).st_mtime
        with open("/proc/stat") as f:
            btime = int([l.split()[1] for l in f if l.startswith("btime ")][0])
    except (OSError, IndexError):
        sys.exit(1)
    hz = os.sysconf("SC_CLK_TCK")
    for pid in containerd_pids(config):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        started = btime + int(fields[19]) / float(hz)
        if started < mtime - 1:
            sys.exit(0)
    sys.exit(1)

# -- verify -------------------------------------------------------------------
def docker_error(stderr, rc):
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    for l in lines:
        m = re.search(r"flag provided but not defined: -+[^\s:;,\"']+", l)
        if m:
            return m.group(0)
    for l in lines:
        if l.startswith("docker: "):
            l = l[len("docker: "):]
            return l if len(l) <= 300 else l[:297] + "..."
    if rc == "124":
        return "timed out"
    if lines:
        return lines[-1][:300]
    return "docker exited with status %s" % rc

def cmd_verify_doc():
    # Prints the verification document; exit 0 isolated, 1 not isolated.
    host_kernel = env("GVP_HOST_KERNEL")
    failures = []
    # Types follow src/plan/verification.ts: strings and booleans are never
    # null ("" and false when unknown); only "error" and "containerd" may be.
    runsc_version = env("GVP_RUNSC_VERSION", "")
    if not runsc_version:
        failures.append("runsc: not installed or does not run at %s" % env("GVP_RUNSC_PATH"))
    runtimes = []
    if env("GVP_DOCKER_ENABLED") == "true":
        name = env("GVP_DOCKER_RUNTIME")
        label = "docker/" + name
        runsc = env("GVP_RUNSC_PATH")
        path = env("GVP_DOCKER_RUNTIME_PATH", "")
        r = {"engine": "docker", "name": name, "ran": False, "sandboxKernel": "",
             "kallsymsHidden": False, "runtimePath": path,
             "sandboxProcess": env("GVP_DOCKER_SANDBOX_PID", "") != "", "error": None}
        kallsyms = None
        pre = env("GVP_DOCKER_PRE_ERROR", "")
        if pre:
            r["error"] = pre
        else:
            rc = env("GVP_DOCKER_RC")
            out = read_text(env("GVP_DOCKER_OUT")).splitlines()
            err = read_text(env("GVP_DOCKER_ERR"))
            diag = env("GVP_DOCKER_DIAG", "")
            if rc != "0":
                r["error"] = "container did not start: " + (diag or docker_error(err, rc))
            else:
                r["ran"] = True
                kern = out[0].strip() if out else ""
                r["sandboxKernel"] = kern
                ks = [l.strip() for l in out if l.startswith("kallsyms=")]
                if ks:
                    kallsyms = (ks[0] == "kallsyms=hidden")
                    r["kallsymsHidden"] = kallsyms
                if not path or os.path.realpath(path) != os.path.realpath(runsc):
                    r["error"] = ("dockerd's runtime %s runs %s, not the installed %s"
                                  % (name, path or "nothing it reports", runsc))
                elif not r["sandboxProcess"]:
                    r["error"] = ("no process of the installed %s served the probe container, "
                                  "so it did not run under gVisor" % runsc)
                elif not kern:
                    r["error"] = "the container printed no kernel version"
                elif kern == host_kernel:
                    r["error"] = ("the container reports the host kernel %s, so it is not running under gVisor"
                                  % kern)
                elif kallsyms is None:
                    r["error"] = "the container did not report whether /proc/kallsyms is readable"
                elif not kallsyms:
                    r["error"] = "/proc/kallsyms is readable in the container, so it is not running under gVisor"
        if r["error"]:
            failures.append("%s: %s" % (label, r["error"]))
        runtimes.append(r)
    ctd = None
    if env("GVP_CTD_ENABLED") == "true":
        v = env("GVP_CTD_VERSION", "")
        ctd = {"enabled": True, "configVersion": int(v) if v.isdigit() else 0,
               "runtimeConfigured": env("GVP_CTD_ERROR", "") == ""}
        if not ctd["runtimeConfigured"]:
            failures.append("containerd/%s: %s" % (env("GVP_CTD_RUNTIME"), env("GVP_CTD_ERROR")))
    if env("GVP_DOCKER_ENABLED") != "true" and env("GVP_CTD_ENABLED") != "true":
        failures.append("no engine is enabled (Docker and containerd are both off), so isolation was not checked")
    doc = {"schemaVersion": 2, "runscVersion": runsc_version, "arch": env("GVP_ARCH"),
           "hostKernel": host_kernel, "runtimes": runtimes, "containerd": ctd,
           "isolated": not failures, "failures": failures}
    sys.stdout.write(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.exit(0 if not failures else 1)

def cmd_runsc_process():
    # Prints the pid of a process whose executable is the installed runsc (or
    # a gvisor-bin/ sidecar next to it) and whose arguments name container
    # GVP_CID; exit 3 when there is none.
    cid = env("GVP_CID")
    runsc = os.path.realpath(env("GVP_RUNSC_PATH"))
    sidecars = os.path.realpath(os.path.join(env("GVP_DIR"), "gvisor-bin")) + "/"
    if len(cid) < 12:
        sys.exit(3)
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if (exe == runsc or exe.startswith(sidecars)) and any(cid in a for a in args):
            print(pid)
            return
    sys.exit(3)

def cmd_first_failure():
    with open(env("GVP_FILE"), encoding="utf-8") as f:
        failures = json.load(f).get("failures") or [""]
    print(failures[0])

# Subcommand "x-y" runs cmd_x_y. Looked up by name (no table of them) so
# the renderer can drop the ones a step never runs.
if __name__ == "__main__":
    command = globals().get("cmd_" + sys.argv[1].replace("-", "_"))
    if command is None:
        die("pulumi-gvisor: the python helper has no command %r" % sys.argv[1])
    command()
GV_PY
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
