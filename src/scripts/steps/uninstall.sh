#!/bin/sh
# pulumi-gvisor step: uninstall
#
# Undoes what the other steps recorded in $GV_STATE_DIR, and nothing else
# (records: lib.sh, "Records of managed files"; each is forgotten only once
# its undo is done, so an interrupted uninstall finishes on the next run):
# - Docker: if daemon.json still holds exactly the bytes configure-docker wrote,
#   the original bytes come back (or the file is removed if there was none);
#   otherwise only our runtime entry is taken out (or set back to the original
#   entry of that name), plus "default-runtime" if it names our runtime.
#   A running dockerd is reloaded (never restarted).
# - containerd: config.toml likewise (original bytes, or our marked block
#   removed); runsc.toml removed (or its original put back) if unchanged since
#   written. containerd is restarted only with systemd and only if config.toml
#   changed; without systemd "restartRequired" says a restart is due.
# - Binaries: runsc, containerd-shim-runsc-v1 and gvisor-bin/ are removed from
#   the directory they were installed in only if their sha512 still matches
#   one of the builds recorded (a copy of what was there before us is put back).
# - Last, once all of that succeeded: the ownership marks the Host component
#   keeps ($GV_STATE_DIR/owner, $GV_STATE_DIR/bundles/, the uploads
#   .pulumi-gvisor-bundle-*.sh in the login's home ($gv_updir, set by the Host's
#   delete; else the directory the step runs in),
#   and older releases' /var/tmp/pulumi-gvisor-bundle-*), then the state dir
#   if it is empty.
# Paths and names come from the records, so a changed plan cannot make this
# step touch files it did not write. Without records it does nothing.
#
# stdout: {"step":"uninstall","changed":true|false,"docker":"<action>","containerd":"<action>",
#          "runscToml":"<action>","removed":[...],"kept":[...],"restartRequired":true|false}
# <action> is one of none, restore-original, remove-file, removed-entry,
# removed-block, keep (changed since we wrote it: left as it is).
set -eu
if ! command -v gv_init >/dev/null 2>&1; then
  # Run by hand: the renderer prepends lib.sh itself.
  # shellcheck disable=SC1091
  . "$(dirname "$0")/lib.sh"
fi

: "${GV_STATE_DIR:?is not set (e.g. /var/lib/pulumi-gvisor)}"
: "${GV_INSTALL_DIR:?is not set (e.g. /usr/local/bin)}"

gv_init uninstall
gv_require_python
gv_bin_removed=''
gv_bin_kept=''

changed=false
gv_restart_required=false
gv_undo_action=''
docker_action=none
ctd_action=none
toml_action=none

# -- Refuse while sandboxes run: once runsc is gone, dockerd can no longer
# stop, kill or remove them.
docker_records=$(gv_records configure-docker)
if [ -n "$docker_records" ] && command -v docker >/dev/null 2>&1 && gv_docker_running; then
  while IFS= read -r rec; do
    rt=$(gv_record_get "$rec/record" runtime)
    busy=$(docker ps -q | while read -r id; do docker inspect -f '{{.HostConfig.Runtime}}' "$id"; done | grep -cx -- "$rt" || true)
    if [ "$busy" -gt 0 ]; then
      gv_die "$busy running container(s) use the $rt runtime; removing gVisor now would leave them impossible to stop" \
        "stop them first (docker ps, then docker stop), then re-run uninstall; nothing was changed"
    fi
  done <<EOF
$docker_records
EOF
fi

# -- Docker
while IFS= read -r rec; do
  [ -n "$rec" ] || continue
  gv_docker_undo "$rec"
  docker_action=$gv_undo_action
  [ "$gv_undo_action" = none ] || changed=true
done <<EOF
$docker_records
EOF

# -- containerd (config.toml blocks, then runsc.toml)
undone_cfgs=''
records=$(gv_records configure-containerd)
while IFS= read -r rec; do
  [ -n "$rec" ] || continue
  kind=$(gv_record_get "$rec/record" kind)
  path=$(gv_record_get "$rec/record" path)
  gv_containerd_undo "$rec"
  if [ "$kind" = block ]; then
    ctd_action=$gv_undo_action
    case $gv_undo_action in none | keep) ;; *) undone_cfgs="$undone_cfgs $path" ;; esac
  else
    toml_action=$gv_undo_action
  fi
  case $gv_undo_action in none | keep) ;; *) changed=true ;; esac
done <<EOF
$records
EOF
for c in $undone_cfgs; do
  gv_containerd_reload_after_undo "$c" warn
done

# -- binaries (record, or only the intent of a run that died before its record)
st="$GV_STATE_DIR/install"
removed=''
kept=''
if [ -d "$st" ]; then
  dir=$(cat "$st/dir" 2>/dev/null || gv_record_get "$st/record" install_dir)
  [ -n "$dir" ] || dir=$GV_INSTALL_DIR
  gv_undo_binaries "$st" "$dir"
  removed=$gv_bin_removed
  kept=$gv_bin_kept
  [ -z "$removed" ] || changed=true
  gv_phase forget-install
  rm -rf -- "$st"
fi

# -- ownership marks of the Host component, only now that everything else is undone
gv_phase forget-owner
rm -rf -- "$GV_STATE_DIR/owner" "$GV_STATE_DIR/bundles"
for f in "${gv_updir:-.}"/.pulumi-gvisor-bundle-*.sh /var/tmp/pulumi-gvisor-bundle-*; do
  if [ -e "$f" ] || [ -L "$f" ]; then rm -rf -- "$f"; fi
done
rmdir -- "$GV_STATE_DIR/files" 2>/dev/null || true
rmdir -- "$GV_STATE_DIR" 2>/dev/null || true

restart_required=$gv_restart_required
if [ "$changed" = false ]; then
  gv_nothing_changed "no pulumi-gvisor records in $GV_STATE_DIR (or nothing of ours left): nothing to do"
fi
gv_emit step=uninstall "changed:b=$changed" "docker=$docker_action" "containerd=$ctd_action" \
  "runscToml=$toml_action" "removed:l=$removed" "kept:l=$kept" "restartRequired:b=$restart_required"
