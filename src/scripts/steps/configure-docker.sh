#!/bin/sh
# pulumi-gvisor step: configure-docker
#
# Checks the plan's runsc flags (and platform) against the runsc installed in
# $GV_INSTALL_DIR, then merges the runtime $GV_DOCKER_RUNTIME into
# $GV_DOCKER_CONFIG (daemon.json) keeping every other key and runtime, sets or
# clears "default-runtime", and reloads dockerd (SIGHUP / systemctl reload:
# containers keep running). `docker info` must then list the runtime, or the
# previous daemon.json is put back. "default-runtime" is set only when the plan
# asks for it and removed only when our record says we set it (its earlier
# value comes back); a default runtime we did not set is never replaced.
#
# Records (lib.sh, "Records of managed files") are written before daemon.json
# is touched. A record for another file or runtime name (the plan changed), or
# every record when Docker is off, is undone first. An unchanged daemon.json
# is still checked against `docker info` (an earlier run may have died before
# the reload) and dockerd reloaded if it has not loaded it.
#
# stdout: {"step":"configure-docker","changed":true|false,"runtime":...,"config":...,
#          "defaultRuntime":true|false,"dockerRunning":true|false,"reloaded":true|false}
#         or {"step":"configure-docker","changed":true|false,"skipped":true,"undone":[...]} when Docker is off.
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
gv_require_python

cfg=$GV_DOCKER_CONFIG
name=$GV_DOCKER_RUNTIME
entry=$GV_DOCKER_RUNTIME_ENTRY
runsc="$GV_INSTALL_DIR/runsc"
gv_sweep_beside "$cfg"

# undo_earlier: undo what an earlier plan did elsewhere (another file or
# runtime name), or everything when Docker is now off. It runs after the new
# plan's checks, so a plan that cannot be applied leaves the old one in place.
undone=''
undo_earlier() {
  records=$(gv_records configure-docker)
  while IFS= read -r rec; do
    [ -n "$rec" ] || continue
    if [ "$GV_DOCKER_ENABLED" = true ] && [ "$(gv_record_get "$rec/record" path)" = "$cfg" ] &&
      [ "$(gv_record_get "$rec/record" runtime)" = "$name" ]; then
      continue
    fi
    undone="$undone $(gv_record_get "$rec/record" path)"
    gv_docker_undo "$rec"
  done <<EOF
$records
EOF
}

if [ "$GV_DOCKER_ENABLED" != true ]; then
  undo_earlier
  if [ -n "$undone" ]; then
    gv_log "Docker is not enabled in the plan: removed what pulumi-gvisor had configured in$undone"
  else
    gv_nothing_changed "Docker is not enabled in the plan; skipping"
  fi
  changed=false
  [ -z "$undone" ] || changed=true
  gv_emit step=configure-docker "changed:b=$changed" skipped:b=true "undone:l=$undone"
  exit 0
fi

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
undo_earlier

# -- merge (against our record of this file, when there is one)
rec=$(gv_rec_dir "$cfg")
orig='' ours=0 set_default=0
if [ -f "$rec/record" ]; then
  ours=1
  [ ! -f "$rec/original" ] || orig="$rec/original"
  set_default=$(gv_record_get "$rec/record" set_default)
fi
mkdir -p "$(dirname "$cfg")"
cand="$tmp/daemon.json"
merge_rc=0
merged=$(gv_py docker-merge "GVP_CONFIG=$cfg" "GVP_RUNTIME=$name" "GVP_ENTRY=$entry" "GVP_ORIG=$orig" \
  "GVP_OURS=$ours" "GVP_SET_DEFAULT=$set_default" "GVP_DEFAULT=$GV_DOCKER_DEFAULT_RUNTIME" \
  "GVP_OUT=$cand" 2>"$tmp/merge.err") || merge_rc=$?
new_default=$(printf '%s\n' "$merged" | sed -n 's/^set_default=//p')
running=false
if gv_docker_running; then
  running=true
fi
case $merge_rc in
  0) ;;
  3)
    # The bytes are as planned; dockerd may still not have them (a run that
    # died before its reload).
    reloaded=false
    changed=false
    if ! gv_docker_loaded "$cfg" "$name"; then
      gv_log "$cfg is as planned but dockerd has not loaded it (an earlier run was interrupted?); reloading"
      gv_phase reload
      gv_docker_reload ||
        gv_die "reloading dockerd failed" "check dockerd (systemctl status docker, or its log) and re-run"
      gv_docker_confirm "$cfg" "$name" ||
        gv_die "dockerd did not take $cfg ($(head -n 1 "$tmp/confirm.err" 2>/dev/null))" \
          "see dockerd's log (journalctl -u docker, or its log file) and re-run"
      reloaded=true
      changed=true
    else
      gv_nothing_changed "$cfg already has runtime $name as planned"
    fi
    gv_emit step=configure-docker "changed:b=$changed" "runtime=$name" "config=$cfg" \
      "defaultRuntime:b=$GV_DOCKER_DEFAULT_RUNTIME" "dockerRunning:b=$running" "reloaded:b=$reloaded"
    exit 0
    ;;
  4) gv_die "$(head -n 1 "$tmp/merge.err")" "fix $cfg by hand (it was not touched) and re-run" ;;
  5) gv_die "$(head -n 1 "$tmp/merge.err")" "change the plan or $cfg; $cfg was not touched" ;;
  *) gv_die "could not merge the runtime into $cfg: $(head -n 1 "$tmp/merge.err")" "re-run; $cfg was not touched" ;;
esac

# -- the record first (original copied and checked; the intent), then the file
gv_phase record
gv_rec_open "$cfg" json configure-docker "$name"
# A default-runtime we may set is claimed before the write, released after.
[ "$new_default" != 1 ] || gv_rec_put "$rec" set_default=1 ||
  gv_die "could not write the record in $rec" "free space on the file system of $GV_STATE_DIR and re-run; nothing was changed"
gv_rec_intend "$rec" "$cand"
previous=''
if [ -e "$cfg" ]; then
  previous="$tmp/previous"
  cp -p "$cfg" "$previous"
fi

touched=false
gv_step_rollback() {
  if [ "$touched" = true ]; then
    if gv_docker_apply "$previous" "$cfg" "$name" >/dev/null 2>&1; then
      gv_warn "put back the previous $cfg"
    else
      gv_warn "could not confirm that dockerd took the previous $cfg back; the next run of this step (or uninstall) finishes the job from the record"
    fi
  fi
}

gv_log "writing runtime $name into $cfg"
touched=true
gv_phase write
apply_rc=0
gv_docker_apply "$cand" "$cfg" "$name" "$rec" || apply_rc=$?
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
    gv_die "dockerd did not take the new $cfg ($(head -n 1 "$tmp/confirm.err" 2>/dev/null))" \
      "dockerd refused the config: see its log (journalctl -u docker, or its log file), e.g. for a dockerd command-line flag that repeats a daemon.json key"
    ;;
  4) gv_die "could not write $cfg" "check the file system (read-only, full?) and re-run" ;;
  *) gv_die "reloading dockerd failed" "check dockerd (systemctl status docker, or its log) and re-run" ;;
esac
touched=false

# -- commit: what we now own of default-runtime
gv_phase commit
gv_rec_put "$rec" "set_default=$new_default" ||
  gv_warn "could not update the record in $rec (default-runtime stays marked as ours)"

gv_emit step=configure-docker changed:b=true "runtime=$name" "config=$cfg" \
  "defaultRuntime:b=$GV_DOCKER_DEFAULT_RUNTIME" "dockerRunning:b=$running" "reloaded:b=$reloaded"
