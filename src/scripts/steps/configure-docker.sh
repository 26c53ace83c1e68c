#!/bin/sh
# pulumi-gvisor step: configure-docker
#
# Checks the plan's runsc flags (and platform) against the runsc installed in
# $GV_INSTALL_DIR, then merges the runtime $GV_DOCKER_RUNTIME into
# $GV_DOCKER_CONFIG (daemon.json) keeping every other key and runtime, sets or
# clears "default-runtime", and reloads dockerd (SIGHUP / systemctl reload:
# containers keep running). `docker info` must then list the runtime, or the
# previous daemon.json is put back. Records the original daemon.json (or its
# absence) and the bytes written in $GV_STATE_DIR/docker/ for uninstall.
#
# stdout: {"step":"configure-docker","changed":true|false,"runtime":...,"config":...,
#          "defaultRuntime":true|false,"dockerRunning":true|false,"reloaded":true|false}
#         or {"step":"configure-docker","changed":false,"skipped":true} when Docker is off.
set -eu
if ! command -v gv_init >/dev/null 2>&1; then
  # Run by hand: the renderer prepends lib.sh itself.
  # shellcheck disable=SC1091
  . "$(dirname "$0")/lib.sh"
fi

: "${GV_DOCKER_ENABLED:?is not set (true or false)}"
: "${GV_INSTALL_DIR:?is not set (e.g. /usr/local/bin)}"
: "${GV_STATE_DIR:?is not set (e.g. /var/lib/pulumi-gvisor)}"
: "${GV_DOCKER_CONFIG:?is not set (e.g. /etc/docker/daemon.json)}"
: "${GV_DOCKER_RUNTIME:?is not set (e.g. runsc)}"
: "${GV_DOCKER_RUNTIME_ENTRY:?is not set (JSON object with path and runtimeArgs)}"
: "${GV_DOCKER_DEFAULT_RUNTIME:?is not set (true or false)}"
: "${GV_RUNSC_FLAGS?is not set (space-separated --name=value words, may be empty)}"
: "${GV_RUNSC_PLATFORM?is not set (platform name, may be empty)}"

gv_init configure-docker
tmp=$(gv_tmpdir)

if [ "$GV_DOCKER_ENABLED" != true ]; then
  gv_nothing_changed "Docker is not enabled in the plan; skipping"
  gv_require_python
  gv_emit step=configure-docker changed:b=false skipped:b=true
  exit 0
fi
gv_require_python

cfg=$GV_DOCKER_CONFIG
name=$GV_DOCKER_RUNTIME
entry=$GV_DOCKER_RUNTIME_ENTRY
state="$GV_STATE_DIR/docker"
runsc="$GV_INSTALL_DIR/runsc"

# -- the runtime entry and its flags must work with the installed runsc
[ -x "$runsc" ] || gv_die "runsc is not installed at $runsc" "run the install step first"
words=$(gv_py entry-words "GVP_ENTRY=$entry") ||
  gv_die "the plan's Docker runtime entry is not usable (see above)" "fix the plan; nothing was written"
entry_path=$(printf '%s\n' "$words" | head -n 1)
case $entry_path in
  /*) ;;
  *) gv_die "the runtime path '$entry_path' is not absolute" "use an absolute path; nothing was written" ;;
esac
[ -x "$entry_path" ] || gv_die "the runtime path $entry_path does not exist or is not executable" \
  "run the install step first (or fix the plan's install directory); nothing was written"

# Positional parameters = the entry's runtimeArgs, checked together with
# $GV_RUNSC_FLAGS (one word per line; the validator forbids whitespace in them).
set --
while IFS= read -r w; do
  if [ -n "$w" ]; then set -- "$@" "$w"; fi
done <<EOF
$(printf '%s\n' "$words" | sed 1d)
EOF
gv_log "checking the runsc flags against $entry_path"
gv_check_runsc_flags "$entry_path" "$@"
if [ "$entry_path" != "$runsc" ]; then
  gv_check_runsc_flags "$runsc"
fi

# -- merge
cfg_dir=$(dirname "$cfg")
mkdir -p "$cfg_dir"
cand="$tmp/daemon.json"
merge_rc=0
gv_py docker-merge "GVP_CONFIG=$cfg" "GVP_RUNTIME=$name" "GVP_ENTRY=$entry" \
  "GVP_DEFAULT=$GV_DOCKER_DEFAULT_RUNTIME" "GVP_OUT=$cand" 2>"$tmp/merge.err" || merge_rc=$?
running=false
if gv_docker_running; then
  running=true
fi
case $merge_rc in
  0) ;;
  3)
    gv_nothing_changed "$cfg already has runtime $name as planned"
    gv_emit step=configure-docker changed:b=false "runtime=$name" "config=$cfg" \
      "defaultRuntime:b=$GV_DOCKER_DEFAULT_RUNTIME" "dockerRunning:b=$running" reloaded:b=false
    exit 0
    ;;
  4) gv_die "$(head -n 1 "$tmp/merge.err")" "fix $cfg by hand (it was not touched) and re-run" ;;
  5) gv_die "$(head -n 1 "$tmp/merge.err")" "fix the plan; nothing was written" ;;
  *) gv_die "could not merge the runtime into $cfg: $(head -n 1 "$tmp/merge.err")" "re-run; $cfg was not touched" ;;
esac

# -- record the original (first time only), keep the previous bytes, write
gv_mkstate "$state"
new_records=''
if [ ! -e "$state/original" ] && [ ! -e "$state/original.absent" ]; then
  if [ -e "$cfg" ]; then
    cp -p "$cfg" "$state/original"
    new_records="$state/original"
  else
    : >"$state/original.absent"
    new_records="$state/original.absent"
  fi
fi
previous=''
if [ -e "$cfg" ]; then
  previous="$tmp/previous"
  cp -p "$cfg" "$previous"
fi

touched=false
gv_step_rollback() {
  if [ "$touched" = true ]; then
    gv_docker_apply "$previous" "$cfg" "$name" >/dev/null 2>&1
    if [ -n "$previous" ]; then
      gv_warn "restored the previous $cfg"
    else
      gv_warn "removed $cfg again (it did not exist before)"
    fi
  fi
  for f in $new_records; do rm -f "$f"; done
  rmdir "$state" "$GV_STATE_DIR" 2>/dev/null
}

gv_log "writing runtime $name into $cfg"
touched=true
apply_rc=0
gv_docker_apply "$cand" "$cfg" "$name" || apply_rc=$?
reloaded=false
case $apply_rc in
  0)
    reloaded=true
    gv_log "dockerd reloaded; docker info shows runtime $name as written"
    ;;
  2)
    gv_log "dockerd is not running, so nothing was reloaded; it reads $cfg when it starts"
    ;;
  3)
    gv_die "dockerd did not take the new $cfg ($(head -n 1 "$tmp/confirm.err" 2>/dev/null)); the previous file was put back" \
      "dockerd refused the config: see its log (journalctl -u docker, or its log file), e.g. for a dockerd command-line flag that repeats a daemon.json key"
    ;;
  4) gv_die "could not write $cfg" "check the file system (read-only, full?) and re-run; the previous file was put back" ;;
  *) gv_die "reloading dockerd failed" "check dockerd (systemctl status docker, or its log) and re-run; the previous $cfg was put back" ;;
esac

# -- remember what we wrote (uninstall restores the original only if these bytes are still there)
cp "$cfg" "$tmp/written"
gv_replace_file "$tmp/written" "$state/written" 0600
printf 'config=%s\nruntime=%s\n' "$cfg" "$name" >"$tmp/record"
gv_replace_file "$tmp/record" "$state/record" 0600
touched=false
new_records=''

gv_emit step=configure-docker changed:b=true "runtime=$name" "config=$cfg" \
  "defaultRuntime:b=$GV_DOCKER_DEFAULT_RUNTIME" "dockerRunning:b=$running" "reloaded:b=$reloaded"
