#!/bin/sh
# pulumi-gvisor step: uninstall
#
# Undoes what the other steps recorded in $GV_STATE_DIR, and nothing else:
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
#   the record (a copy of what was there before us is put back).
# Paths and names come from the records, so a changed plan cannot make this
# step touch files it did not write. Without records it does nothing.
#
# stdout: {"step":"uninstall","changed":true|false,"docker":"<action>","containerd":"<action>",
#          "runscToml":"<action>","removed":[...],"kept":[...],"restartRequired":true|false}
# <action> is one of none, restored-original, removed-file, removed-entry,
# removed-block, unchanged.
set -eu
if ! command -v gv_init >/dev/null 2>&1; then
  # Run by hand: the renderer prepends lib.sh itself.
  # shellcheck disable=SC1091
  . "$(dirname "$0")/lib.sh"
fi

: "${GV_STATE_DIR:?is not set (e.g. /var/lib/pulumi-gvisor)}"
: "${GV_INSTALL_DIR:?is not set (e.g. /usr/local/bin)}"

gv_init uninstall
tmp=$(gv_tmpdir)
gv_require_python

changed=false
restart_required=false
docker_action=none
ctd_action=none
toml_action=none
removed=''
kept=''

# A failed Docker change puts daemon.json back as it was. (The containerd and
# binary parts below are single renames/removals each; a failure there leaves
# their records in place, so re-running uninstall finishes the job.)
docker_undo=false
gv_step_rollback() {
  if [ "$docker_undo" = true ] && [ -f "$tmp/daemon.previous" ]; then
    gv_docker_apply "$tmp/daemon.previous" "$cfg" "$name" >/dev/null 2>&1
    gv_warn "put back $cfg as it was"
  fi
}

# -- Refuse while sandboxes run: once runsc is gone, dockerd can no longer
# stop, kill or remove them.
if [ -f "$GV_STATE_DIR/docker/record" ] && command -v docker >/dev/null 2>&1 && gv_docker_running; then
  rt=$(gv_record_get "$GV_STATE_DIR/docker/record" runtime)
  busy=$(docker ps -q | while read -r id; do docker inspect -f '{{.HostConfig.Runtime}}' "$id"; done | grep -cx -- "$rt" || true)
  if [ "$busy" -gt 0 ]; then
    gv_die "$busy running container(s) use the $rt runtime; removing gVisor now would leave them impossible to stop" \
      "stop them first (docker ps, then docker stop), then re-run uninstall; nothing was changed"
  fi
fi

# -- Docker
st="$GV_STATE_DIR/docker"
if [ -f "$st/record" ]; then
  cfg=$(gv_record_get "$st/record" config)
  name=$(gv_record_get "$st/record" runtime)
  new=''
  action=unchanged
  if [ ! -e "$cfg" ]; then
    gv_log "$cfg no longer exists; nothing to undo for Docker"
  elif gv_same_bytes "$cfg" "$st/written"; then
    if [ -f "$st/original" ]; then
      new="$st/original"
      action='restored-original'
    elif [ -e "$st/original.absent" ]; then
      action='removed-file'
    fi
  else
    orig=''
    [ ! -f "$st/original" ] || orig="$st/original"
    un_rc=0
    gv_py docker-unmerge "GVP_CONFIG=$cfg" "GVP_RUNTIME=$name" "GVP_ORIG=$orig" "GVP_OUT=$tmp/daemon.json" \
      2>"$tmp/unmerge.err" || un_rc=$?
    case $un_rc in
      0) new="$tmp/daemon.json" action='removed-entry' ;;
      3) gv_log "$cfg no longer has runtime $name; leaving it as it is" ;;
      6) action='removed-file' ;;
      *) gv_die "$(head -n 1 "$tmp/unmerge.err")" "fix $cfg by hand and re-run uninstall (nothing was changed)" ;;
    esac
  fi
  if [ "$action" != unchanged ]; then
    if [ -e "$cfg" ]; then
      cp -p "$cfg" "$tmp/daemon.previous"
    fi
    docker_undo=true
    case $action in
      removed-file) gv_log "removing $cfg (it did not exist before pulumi-gvisor)" ;;
      restored-original) gv_log "restoring the original $cfg" ;;
      *) gv_log "removing runtime $name from $cfg" ;;
    esac
    apply_rc=0
    gv_docker_apply "$new" "$cfg" "$name" || apply_rc=$?
    case $apply_rc in
      0) gv_log "dockerd reloaded; docker info matches the restored $cfg" ;;
      2) gv_log "dockerd is not running; nothing to reload" ;;
      3) gv_die "dockerd did not take the restored $cfg ($(head -n 1 "$tmp/confirm.err" 2>/dev/null)); it was put back as it was" \
        "see dockerd's log (journalctl -u docker, or its log file) and re-run uninstall" ;;
      *) gv_die "could not write $cfg or reload dockerd" "check dockerd and the file system, then re-run uninstall; $cfg was put back as it was" ;;
    esac
    docker_undo=false
    changed=true
  fi
  docker_action=$action
  rm -rf "$st"
fi

# -- containerd
st="$GV_STATE_DIR/containerd"
if [ -f "$st/record" ]; then
  cfg=$(gv_record_get "$st/record" config)
  name=$(gv_record_get "$st/record" runtime)
  toml=$(gv_record_get "$st/record" runsc_toml)
  action=unchanged
  new=''
  if [ ! -e "$cfg" ]; then
    gv_log "$cfg no longer exists; nothing to undo in it"
  elif gv_same_bytes "$cfg" "$st/config.written"; then
    if [ -f "$st/config.original" ]; then
      new="$st/config.original"
      action='restored-original'
    elif [ -e "$st/config.original.absent" ]; then
      action='removed-file'
    fi
  else
    rm_rc=0
    gv_py containerd-block "GVP_MODE=remove" "GVP_CONFIG=$cfg" "GVP_RUNTIME=$name" "GVP_OUT=$tmp/config.toml" \
      2>"$tmp/block.err" || rm_rc=$?
    case $rm_rc in
      0)
        new="$tmp/config.toml"
        action='removed-block'
        if command -v containerd >/dev/null 2>&1; then
          staged="$(dirname "$cfg")/.$(basename "$cfg").pulumi-gvisor-new"
          gv_cleanup_add "$staged"
          cp "$new" "$staged"
          gv_containerd_dump "$staged" "$tmp/dump.toml" 2>"$tmp/dump.msg" ||
            gv_die "containerd cannot load $cfg once pulumi-gvisor's block is removed: $(head -n 1 "$tmp/dump.msg")" \
              "fix the rest of $cfg by hand and re-run uninstall ($cfg was not changed)"
          rm -f "$staged"
        fi
        ;;
      3) gv_log "$cfg has no pulumi-gvisor block for runtime $name; leaving it as it is" ;;
      *) gv_die "$cfg: $(head -n 1 "$tmp/block.err")" "remove the block by hand and re-run uninstall (nothing was changed)" ;;
    esac
  fi
  if [ "$action" != unchanged ]; then
    if [ "$action" = removed-file ]; then
      gv_log "removing $cfg (it did not exist before pulumi-gvisor)"
      rm -f "$cfg"
    else
      if [ "$action" = restored-original ]; then
        gv_log "restoring the original $cfg"
      else
        gv_log "removing runtime $name from $cfg"
      fi
      gv_replace_file "$new" "$cfg"
    fi
    changed=true
    if gv_has_systemd && systemctl is-active --quiet containerd.service 2>/dev/null; then
      gv_log "restarting containerd (systemctl restart containerd; running containers keep running)"
      systemctl restart containerd.service ||
        gv_die "containerd did not restart after $cfg was restored" "see 'journalctl -u containerd' and fix $cfg"
    elif ! gv_has_systemd && gv_py containerd-running "GVP_CONFIG=$cfg"; then
      restart_required=true
      gv_warn "containerd is running without systemd and still has runtime $name loaded: restart it yourself (it was not killed)"
    fi
  fi
  ctd_action=$action
  if [ -n "$toml" ] && [ -e "$toml" ]; then
    if gv_same_bytes "$toml" "$st/runsc.toml.written"; then
      if [ -f "$st/runsc.toml.original" ]; then
        gv_log "restoring the original $toml"
        gv_replace_file "$st/runsc.toml.original" "$toml"
        toml_action='restored-original'
      else
        gv_log "removing $toml"
        rm -f "$toml"
        toml_action='removed-file'
      fi
      changed=true
    else
      gv_warn "$toml changed since pulumi-gvisor wrote it; leaving it in place"
      toml_action=unchanged
    fi
  fi
  rm -rf "$st"
fi

# -- binaries
st="$GV_STATE_DIR/install"
if [ -f "$st/record" ]; then
  dir=$(gv_record_get "$st/record" install_dir)
  [ -n "$dir" ] || dir=$GV_INSTALL_DIR
  for n in runsc containerd-shim-runsc-v1 gvisor-bin; do
    case $n in
      runsc) want=$(gv_record_get "$st/record" runsc_sha512) ;;
      containerd-shim-runsc-v1) want=$(gv_record_get "$st/record" shim_sha512) ;;
      gvisor-bin) want=$(gv_record_get "$st/record" gvisor_bin_sha512) ;;
    esac
    target="$dir/$n"
    [ -n "$want" ] || continue
    if [ ! -e "$target" ]; then
      continue
    fi
    if [ -d "$target" ]; then
      have=$(gv_tree_digest "$target")
    else
      have=$(gv_sha512 "$target")
    fi
    if [ "$have" != "$want" ]; then
      gv_warn "$target is not the one pulumi-gvisor installed (checksum differs); leaving it in place"
      kept="$kept $n"
      continue
    fi
    if [ -e "$st/orig/$n" ]; then
      gv_log "putting back the $target that was there before pulumi-gvisor"
      rm -rf "$dir/.$n.pulumi-gvisor-new"
      gv_cleanup_add "$dir/.$n.pulumi-gvisor-new"
      cp -pR "$st/orig/$n" "$dir/.$n.pulumi-gvisor-new"
      if [ -d "$target" ]; then
        rm -rf "$target"
      fi
      mv -f "$dir/.$n.pulumi-gvisor-new" "$target"
    else
      gv_log "removing $target"
      rm -rf "$target"
    fi
    removed="$removed $n"
    changed=true
  done
  rm -rf "$st"
fi

rmdir "$GV_STATE_DIR" 2>/dev/null || true

if [ "$changed" = false ]; then
  gv_nothing_changed "no pulumi-gvisor records in $GV_STATE_DIR (or nothing of ours left): nothing to do"
fi
gv_emit step=uninstall "changed:b=$changed" "docker=$docker_action" "containerd=$ctd_action" \
  "runscToml=$toml_action" "removed:l=$removed" "kept:l=$kept" "restartRequired:b=$restart_required"
