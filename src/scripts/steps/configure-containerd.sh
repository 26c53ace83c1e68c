#!/bin/sh
# pulumi-gvisor step: configure-containerd
#
# Writes $GV_RUNSC_TOML_PATH and puts the runtime tables for
# $GV_CONTAINERD_RUNTIME into $GV_CONTAINERD_CONFIG as a managed block:
#   # BEGIN pulumi-gvisor runtime <name>
#   ...GV_CONTAINERD_BLOCK_V2 (config version 2) or _V3 (version 3 and 4)...
#   # END pulumi-gvisor runtime <name>
# appended at the end of the file the first time, replaced in place later.
# A missing config.toml is created from `containerd config default` first.
# The candidate file must pass `containerd --config <candidate> config dump`
# AND the dump must hold the runtime with runtime_type io.containerd.runsc.v1
# (containerd silently drops misspelled keys) before it is renamed into place.
# The dump must also keep the CRI plugin's default runtime (default_runtime_name,
# runc). containerd 1.x takes the runtimes a version 2 file names instead of
# its built-in ones, so a file that names none (Debian's packaged config.toml)
# would lose runc to our table and the CRI plugin would not load: the block
# then repeats the default runtime's table, its runtime_type as `config dump`
# showed it without the block and nothing else ("defaultRuntimeAdded"; never
# its .options, which the admin may define outside the block), and it goes
# with the block. It stays while the file had the default runtime only
# through that copy (an admin's table beside it hides runc from the dump).
#
# Refused, with the file untouched:
# - config version 1 (migrate first), or an unknown version;
# - the runtime defined outside our block (in the file or a file it imports);
# - the CRI plugin disabled (disabled_plugins holds "cri", as the config.toml
#   of Docker's containerd.io package does). We refuse rather than edit
#   disabled_plugins: enabling a plugin the admin switched off is a decision
#   for the admin, and this step only ever edits its own block.
#
# containerd is restarted only when config.toml's bytes changed, and only
# where there is a service manager to do it (systemd, with containerd.service
# active); after the restart its CRI plugin must be loaded (`ctr plugins ls`)
# if it was before, else the previous files are put back. Without systemd there is no generic way to restart it: if a
# containerd reading this config runs, the step says so and reports
# "restartRequired": true instead of killing it. runsc.toml is read by the
# shim for each new container, so changing it needs no restart.
#
# stdout: {"step":"configure-containerd","changed":true|false,"runtime":...,"config":...,
#          "configVersion":N,"runscToml":...,"restarted":true|false,"restartRequired":true|false,
#          "defaultRuntimeAdded":"runc"|null}
#         or {"step":"configure-containerd","changed":true|false,"skipped":true,"undone":[...],
#             "restartRequired":...} when containerd is off.
#
# Records (lib.sh, "Records of managed files") are written before either file
# is touched; records of another config.toml, runtime name or runsc.toml path
# (the plan changed), or all of them when containerd is off, are undone once
# the new candidate has passed its checks (containerd restarted and its CRI
# plugin checked for another config.toml). A failed CRI check after a restart
# onto a file that was already as planned takes our block out again from its
# record, so the next run tries the plan anew instead of reporting success.
set -eu
if ! command -v gv_init >/dev/null 2>&1; then
  # Run by hand: the renderer prepends lib.sh itself.
  # shellcheck disable=SC1091
  . "$(dirname "$0")/lib.sh"
fi

: "${GV_CONTAINERD_ENABLED:?is not set (true or false)}"
: "${GV_INSTALL_DIR:?is not set (e.g. /usr/local/bin)}"
: "${GV_STATE_DIR:?is not set (e.g. /var/lib/pulumi-gvisor)}"
: "${GV_CONTAINERD_CONFIG:?is not set (e.g. /etc/containerd/config.toml)}"
: "${GV_CONTAINERD_RUNTIME:?is not set (e.g. runsc)}"
: "${GV_CONTAINERD_BLOCK_V2:?is not set (runtime tables for config version 2)}"
: "${GV_CONTAINERD_BLOCK_V3:?is not set (runtime tables for config version 3)}"
: "${GV_RUNSC_TOML_PATH:?is not set (e.g. /etc/containerd/runsc.toml)}"
: "${GV_RUNSC_TOML?is not set (content of runsc.toml)}"
: "${GV_RUNSC_FLAGS?is not set (space-separated --name=value words, may be empty)}"
: "${GV_RUNSC_PLATFORM?is not set (platform name, may be empty)}"

gv_init configure-containerd
tmp=$(gv_tmpdir)
gv_require_python

cfg=$GV_CONTAINERD_CONFIG
name=$GV_CONTAINERD_RUNTIME
toml=$GV_RUNSC_TOML_PATH
gv_restart_required=false
gv_undo_action=''
gv_rec=''
gv_sweep_beside "$cfg"
gv_sweep_beside "$toml"

# undo_earlier: undo what an earlier plan did elsewhere (another config.toml,
# runtime name or runsc.toml path), or everything when containerd is now off.
# It runs after the new plan's own checks (flags, runsc.toml, and the
# candidate config.toml built and dumped without the old block), so a plan
# that cannot be applied leaves the old one in place. $cfg itself is not
# restarted here: writing the new block into it restarts containerd next.
undone=''
undo_earlier() {
  undone_cfgs=''
  records=$(gv_records configure-containerd)
  while IFS= read -r rec; do
    [ -n "$rec" ] || continue
    rpath=$(gv_record_get "$rec/record" path)
    rkind=$(gv_record_get "$rec/record" kind)
    if [ "$GV_CONTAINERD_ENABLED" = true ]; then
      if [ "$rkind" = block ] && [ "$rpath" = "$cfg" ] && [ "$(gv_record_get "$rec/record" runtime)" = "$name" ]; then continue; fi
      if [ "$rkind" = plain ] && [ "$rpath" = "$toml" ]; then continue; fi
    fi
    undone="$undone $rpath"
    gv_containerd_undo "$rec"
    case $gv_undo_action in none | keep) ;; *) [ "$rkind" != block ] || undone_cfgs="$undone_cfgs $rpath" ;; esac
  done <<EOF
$records
EOF
  for c in $undone_cfgs; do
    [ "$GV_CONTAINERD_ENABLED" != true ] || [ "$c" != "$cfg" ] || continue
    gv_containerd_reload_after_undo "$c" die
  done
}

if [ "$GV_CONTAINERD_ENABLED" != true ]; then
  undo_earlier
  if [ -n "$undone" ]; then
    gv_log "containerd is not enabled in the plan: removed what pulumi-gvisor had configured in$undone"
  else
    gv_nothing_changed "containerd is not enabled in the plan; skipping"
  fi
  changed=false
  [ -z "$undone" ] || changed=true
  gv_emit step=configure-containerd "changed:b=$changed" skipped:b=true "undone:l=$undone" \
    "restartRequired:b=$gv_restart_required"
  exit 0
fi
gv_need_cmd containerd "install containerd first, or turn the containerd part of the plan off"

runsc="$GV_INSTALL_DIR/runsc"
shim="$GV_INSTALL_DIR/containerd-shim-runsc-v1"

# -- prerequisites: installed binaries, and flags the installed runsc knows
[ -x "$runsc" ] || gv_die "runsc is not installed at $runsc" "run the install step first"
[ -x "$shim" ] || gv_die "containerd-shim-runsc-v1 is not installed at $shim" "run the install step first"
gv_log "checking the runsc flags against $runsc"
gv_check_runsc_flags "$runsc"
usual_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
case ":$usual_path:" in
  *":$GV_INSTALL_DIR:"*) ;;
  *) gv_warn "$GV_INSTALL_DIR is not on the usual PATH; containerd finds containerd-shim-runsc-v1 only on its own PATH" ;;
esac

# -- runsc.toml candidate (exactly one trailing newline)
toml_text=$(printf '%s' "$GV_RUNSC_TOML")
printf '%s\n' "$toml_text" >"$tmp/runsc.toml"
toml_check=$(gv_py runsc-toml-check "GVP_TOML=$toml_text" 2>"$tmp/toml.err") ||
  gv_die "$(head -n 1 "$tmp/toml.err")" "fix the plan's runsc options; nothing was written"
[ "$toml_check" = checked ] || gv_log "python3 has no tomllib here; runsc.toml is written as rendered, unchecked"
toml_changed=true
if gv_same_bytes "$tmp/runsc.toml" "$toml"; then
  toml_changed=false
fi

# -- config.toml: the source (existing file, or containerd's defaults)
cfg_existed=true
src=$cfg
if [ ! -e "$cfg" ]; then
  cfg_existed=false
  src="$tmp/default.toml"
  gv_log "$cfg does not exist; starting from 'containerd config default'"
  containerd config default >"$src" 2>"$tmp/default.err" ||
    gv_die "'containerd config default' failed: $(head -n 1 "$tmp/default.err")" "check the containerd installation"
fi

# An earlier plan's block for another runtime name in this file goes before
# the new one is planned: the candidate is built from the file without it.
for rec in $(gv_records configure-containerd); do
  if [ "$(gv_record_get "$rec/record" kind)" != block ] || [ "$(gv_record_get "$rec/record" path)" != "$cfg" ]; then continue; fi
  old_name=$(gv_record_get "$rec/record" runtime)
  [ "$old_name" != "$name" ] || continue
  old_rc=0
  gv_py containerd-block "GVP_MODE=remove" "GVP_CONFIG=$src" "GVP_RUNTIME=$old_name" "GVP_OUT=$tmp/src.toml" \
    2>"$tmp/block.err" || old_rc=$?
  case $old_rc in
    0) cp "$tmp/src.toml" "$tmp/src.next" && src="$tmp/src.next" ;;
    3) ;;
    *) gv_die "$cfg: $(head -n 1 "$tmp/block.err")" "repair or remove the marker lines by hand and re-run" ;;
  esac
done

# The file as it would be without our block: what the user (or package) owns.
without="$tmp/without.toml"
rm_rc=0
gv_py containerd-block "GVP_MODE=remove" "GVP_CONFIG=$src" "GVP_RUNTIME=$name" "GVP_OUT=$without" \
  2>"$tmp/block.err" || rm_rc=$?
case $rm_rc in
  0) ;;
  3) cp "$src" "$without" ;;
  *) gv_die "$cfg: $(head -n 1 "$tmp/block.err")" "repair or remove the marker lines by hand and re-run" ;;
esac
# Imports in the file are resolved relative to it: check beside the target
# (beside the link's target when config.toml is a symlink: that is written).
mkdir -p "$(dirname "$cfg")"
cfg_real=$cfg
[ ! -L "$cfg" ] || cfg_real=$(readlink -f -- "$cfg")
probe_dir=$(dirname "$cfg_real")

inspect=$(gv_py containerd-inspect "GVP_CONFIG=$without")
version=$(printf '%s\n' "$inspect" | sed -n 's/^version=//p')
has_content=$(printf '%s\n' "$inspect" | sed -n 's/^content=//p')
cri_off=$(printf '%s\n' "$inspect" | sed -n 's/^cri_disabled=//p')
if [ -n "$cri_off" ]; then
  gv_die "containerd's CRI plugin is disabled in $cfg (disabled_plugins lists \"$cri_off\", as Docker's containerd.io package ships it), so a CRI runtime there would never be used" \
    "remove \"$cri_off\" from disabled_plugins (or replace the file with 'containerd config default' output) and re-run, or turn the containerd part of the plan off (Docker alone does not need it); $cfg was not touched"
fi

version_line=''
versionless=false
major=$(gv_containerd_major)
if [ "$version" = none ]; then
  versionless=true
  case $major in
    1) version=2 ;;
    2) version=3 ;;
    *) gv_die "cannot tell the config version: $cfg has no 'version' line and 'containerd --version' gives major '$major'" \
      "add a 'version = N' line at the top of $cfg and re-run" ;;
  esac
  if [ "$has_content" = 0 ]; then
    # Nothing but comments: our block may state the version itself.
    version_line=$version
  else
    gv_warn "$cfg has no 'version' line; containerd reads such a file as version 1, so the runtime may not load (checked below)"
  fi
fi
case $version in
  1) gv_die "$cfg uses config version 1, which pulumi-gvisor does not edit" \
    "migrate it ('containerd config migrate' on containerd 2, or rewrite it as version 2 from 'containerd config default') and re-run; $cfg was not touched" ;;
  2)
    block=$GV_CONTAINERD_BLOCK_V2
    cri_plugin=io.containerd.grpc.v1.cri
    ;;
  3 | 4)
    block=$GV_CONTAINERD_BLOCK_V3
    cri_plugin=io.containerd.cri.v1.runtime
    if [ "$major" = 1 ]; then
      gv_die "$cfg declares config version $version, which needs containerd 2.x, but this host runs containerd $(containerd --version 2>/dev/null | awk '{print $3}')" \
        "write the file for config version 2 or upgrade containerd; $cfg was not touched"
    fi
    ;;
  *) gv_die "$cfg declares config version $version, which pulumi-gvisor does not know" \
    "use config version 2 (containerd 1.x) or 3/4 (containerd 2.x); $cfg was not touched" ;;
esac

# dump_field TEXT KEY: KEY's value in the key=value lines of TEXT.
dump_field() {
  printf '%s\n' "$1" | sed -n "s/^$2=//p"
}

# -- the file without our block: containerd must load it, it must not
# define the runtime itself, and its default runtime must survive the block.
probe="$probe_dir/.$(basename "$cfg_real").pulumi-gvisor-probe"
gv_cleanup_add "$probe"
cp "$without" "$probe"
if ! gv_containerd_dump "$probe" "$tmp/without.dump" 2>"$tmp/dump.msg"; then
  gv_die "containerd cannot load $cfg as it is (without pulumi-gvisor's block): $(head -n 1 "$tmp/dump.msg")" \
    "fix $cfg by hand (it was not touched) and re-run"
fi
before=$(gv_py containerd-dump-check "GVP_DUMP=$tmp/without.dump" "GVP_RUNTIME=$name")
if [ "$(dump_field "$before" found)" = 1 ]; then
  gv_die "$cfg (or a file it imports) already defines containerd runtime '$name' outside pulumi-gvisor's block" \
    "remove that runtime table, or give the plan another containerd runtime name; $cfg was not touched"
fi
default_rt=$(dump_field "$before" default_runtime)

# candidate BLOCK: config.toml with BLOCK as our block, staged beside the
# target (imports resolve relative to the file) and dumped by containerd.
# Sets cfg_changed and check (what the dump says).
cand="$tmp/config.toml"
staged="$probe_dir/.$(basename "$cfg_real").pulumi-gvisor-new"
gv_cleanup_add "$staged"
stage_candidate() {
  cp "$cand" "$staged"
  if [ "$cfg_existed" = true ]; then
    chmod "$(stat -c %a "$cfg")" "$staged" 2>/dev/null || true
  fi
}
candidate() {
  put_rc=0
  gv_py containerd-block "GVP_MODE=put" "GVP_CONFIG=$src" "GVP_RUNTIME=$name" "GVP_BLOCK=$1" \
    "GVP_VERSION_LINE=$version_line" "GVP_OUT=$cand" 2>"$tmp/block.err" || put_rc=$?
  case $put_rc in
    0) cfg_changed=true ;;
    3)
      cfg_changed=false
      cp "$src" "$cand"
      ;;
    *) gv_die "$cfg: $(head -n 1 "$tmp/block.err")" "repair or remove the marker lines by hand and re-run" ;;
  esac
  # (src may be the file without an earlier plan's block: compare with the file.)
  [ "$cfg_existed" = false ] || gv_same_bytes "$cand" "$cfg" || cfg_changed=true
  stage_candidate
  if ! gv_containerd_dump "$staged" "$tmp/cand.dump" 2>"$tmp/dump.msg"; then
    gv_die "containerd rejects $cfg with the runtime block added: $(head -n 1 "$tmp/dump.msg")" \
      "check the plan's containerd runtime tables for config version $version; $cfg was not touched"
  fi
  check=$(gv_py containerd-dump-check "GVP_DUMP=$tmp/cand.dump" "GVP_RUNTIME=$name")
}
candidate "$block"

# our_block_record: the record of our block for runtime $name in $cfg (its
# directory), or nothing.
our_block_record() {
  gv_records configure-containerd | while IFS= read -r r; do
    [ -n "$r" ] && [ "$(gv_record_get "$r/record" kind)" = block ] && [ "$(gv_record_get "$r/record" path)" = "$cfg" ] &&
      [ "$(gv_record_get "$r/record" runtime)" = "$name" ] && printf '%s\n' "$r"
  done | head -n 1
}

# carried_copy: true when the file as it is (with our block) had the default
# runtime only through the copy our block carries (the record names it): an
# admin's table beside it (another runtime, or runc's options alone) leaves it
# out of the dump without our block, yet containerd still needs the copy.
carried_copy() {
  [ "$rm_rc" = 0 ] || return 1
  crec=$(our_block_record)
  [ -n "$crec" ] && [ "$(gv_record_get "$crec/record" default_runtime)" = "$default_rt" ] || return 1
  gv_containerd_dump "$cfg" "$tmp/current.dump" 2>/dev/null || return 1
  [ "$(dump_field "$(gv_py containerd-dump-check "GVP_DUMP=$tmp/current.dump" "GVP_RUNTIME=$name")" default_found)" = 1 ]
}

kept_default=''
copy_from=''
if [ "$(dump_field "$check" default_found)" != 1 ]; then
  if [ "$(dump_field "$before" default_found)" = 1 ]; then
    copy_from=$tmp/without.dump
  elif carried_copy; then
    copy_from=$tmp/current.dump
  fi
fi
if [ -n "$copy_from" ]; then
  # containerd 1.x takes the runtimes a file names INSTEAD of its built-in
  # ones: with only our table, its default runtime would vanish and the CRI
  # plugin would not load. Repeat that runtime's table in our block, with its
  # runtime_type only (the rest, .options included, is left to containerd's
  # defaults and to the admin, who may set them outside the block).
  tables=$(gv_py containerd-runtime-tables "GVP_DUMP=$copy_from" "GVP_RUNTIME=$default_rt" "GVP_PLUGIN=$cri_plugin") ||
    gv_die "the runtime block would make containerd drop its default runtime '$default_rt', and 'containerd config dump' does not show that runtime under $cri_plugin to repeat it" \
      "define the default runtime's table in $cfg yourself and re-run; $cfg was not touched"
  kept_default=$default_rt
  candidate "$block
# containerd's default runtime, its runtime_type as 'containerd config dump' showed it
# (a runtimes table in this file replaces containerd's built-in ones):
$tables"
fi
rtype=$(dump_field "$check" runtime_type)
if [ "$(dump_field "$check" found)" != 1 ] || [ "$rtype" != io.containerd.runsc.v1 ]; then
  hint="check that the plan's runtime tables match config version $version"
  if [ "$versionless" = true ] && [ -z "$version_line" ]; then
    hint="add 'version = $version' at the top of $cfg (containerd reads a file without it as version 1)"
  fi
  gv_die "containerd loads $cfg with the block added but ignores runtime '$name' (runtime_type '${rtype:-missing}' in 'config dump')" \
    "$hint; $cfg was not touched"
fi
if { [ "$(dump_field "$before" default_found)" = 1 ] || [ -n "$kept_default" ]; } && [ "$(dump_field "$check" default_found)" != 1 ]; then
  gv_die "containerd loads $cfg with the block added but loses its default runtime '$(dump_field "$check" default_runtime)' ('config dump' shows no such runtime), so its CRI plugin would not load" \
    "check the plan's containerd runtime tables; $cfg was not touched"
fi
[ "$(dump_field "$before" default_found)" = 1 ] || [ -n "$kept_default" ] ||
  gv_warn "containerd's default runtime '$default_rt' is not defined by $cfg even without pulumi-gvisor's block, so containerd's CRI plugin does not load with it; that is left as it is"
cpath=$(dump_field "$check" config_path)
if [ "$cpath" != "$toml" ]; then
  gv_warn "the runtime's options.ConfigPath is '$cpath', not $toml"
fi
address=$(dump_field "$check" address)

# The new plan can be applied: now undo what an earlier one did elsewhere.
undo_earlier
# (closing a record sweeps the staged files beside its path: stage again.)
[ -z "$undone" ] || stage_candidate
restart_required=$gv_restart_required
restarted=false

# restart_and_check TODO: restart containerd.service onto $cfg and check that
# it serves it: the unit active again, and the CRI plugin loaded whenever it
# was loaded before (containerd keeps running without it, and every pod then
# fails). A failure exits with TODO (the rollback puts the previous files back).
# shellcheck disable=SC2154 # gv_cri, gv_cri_before: set by gv_containerd_restart_cri
restart_and_check() {
  restarted=true
  gv_phase restart
  rc=0
  gv_containerd_restart_cri "$address" || rc=$?
  [ "$rc" != 1 ] || gv_die "containerd did not restart with $cfg" "see 'journalctl -u containerd'; $1"
  [ "$rc" = 0 ] || gv_die "containerd is not active after the restart with $cfg" "see 'journalctl -u containerd'; $1"
  if [ "$gv_cri" = ok ]; then
    gv_log "containerd serves $cfg with its CRI plugin loaded"
  elif [ "$gv_cri_before" = ok ]; then
    gv_die "containerd restarted with $cfg, but its CRI plugin did not load (${gv_cri})" "$1"
  else
    gv_warn "containerd's CRI plugin is not loaded with $cfg (${gv_cri}), as it was not before the restart (${gv_cri_before})"
  fi
}

# undo_stale_block: the rollback of a failed restart onto a file that was
# already as planned: take our block out as its record $stale_rec says and
# restart containerd without it (gv_containerd_undo runs in a subshell: its
# own gv_die must not replace the step's error line).
undo_stale_block() {
  [ "$restarted" = true ] && [ -n "$stale_rec" ] || return 0
  [ ! -e "$tmp/.error" ] || cp "$tmp/.error" "$tmp/error.kept"
  if (
    gv_containerd_undo "$stale_rec"
    [ "$gv_undo_action" != keep ]
  ) 2>>"$tmp/undo.log"; then
    gv_warn "took pulumi-gvisor's block out of $cfg again (from its record)"
    gv_restart_containerd && gv_warn "restarted containerd without it"
  else
    gv_warn "could not take pulumi-gvisor's block out of $cfg ($(cat "$tmp/.error" "$tmp/undo.log" 2>/dev/null | tail -n 1)); run the uninstall step"
  fi
  [ ! -e "$tmp/error.kept" ] || cp "$tmp/error.kept" "$tmp/.error"
}

if [ "$cfg_changed" = false ] && [ "$toml_changed" = false ]; then
  if gv_containerd_restart_required "$cfg"; then
    # Our bytes are in place but containerd started before they were (an
    # earlier run may have died before its restart).
    if gv_has_systemd && systemctl is-active --quiet containerd.service 2>/dev/null; then
      gv_log "containerd started before $cfg was last written; restarting it to load runtime $name"
      # A failed check here has no previous file to put back: take our block
      # out as its record says (as uninstall would) and restart containerd
      # without it, so the next run tries the plan again instead of finding
      # the file "as planned" under a containerd without CRI.
      stale_rec=$(our_block_record)
      # shellcheck disable=SC2317 # run by lib.sh's exit trap
      gv_step_rollback() { undo_stale_block; }
      restart_and_check "pulumi-gvisor's block is taken out of $cfg again (from its record) and containerd restarted without it (see the lines above); check the plan's containerd runtime tables and 'journalctl -u containerd'"
    else
      restart_required=true
      gv_warn "a running containerd started before $cfg was last written; restart it to load runtime $name"
    fi
  fi
  [ "$restarted" = true ] || gv_nothing_changed "$cfg and $toml are already as planned"
  gv_emit step=configure-containerd "changed:b=$restarted" "runtime=$name" "config=$cfg" "configVersion:i=$version" \
    "runscToml=$toml" "restarted:b=$restarted" "restartRequired:b=$restart_required" "defaultRuntimeAdded:s?=$kept_default"
  exit 0
fi

# -- records first (originals copied and checked; the intents), then the files
gv_phase record
if [ "$cfg_changed" = true ]; then
  gv_rec_open "$cfg" block configure-containerd "$name"
  cfg_rec=$gv_rec
  # What the block adds besides the plan's runtime (it goes with the block).
  gv_rec_put "$cfg_rec" "default_runtime=$kept_default" ||
    gv_die "could not write the record in $cfg_rec" "free space on the file system of $GV_STATE_DIR (is it full?) and re-run; nothing was changed"
  gv_rec_intend "$cfg_rec" "$cand"
fi
if [ "$toml_changed" = true ]; then
  gv_rec_open "$toml" plain configure-containerd "$name"
  gv_rec_intend "$gv_rec" "$tmp/runsc.toml"
fi
prev_cfg=''
prev_toml=''
if [ -e "$cfg" ]; then
  prev_cfg="$tmp/config.previous"
  cp -p "$cfg" "$prev_cfg"
fi
if [ -e "$toml" ]; then
  prev_toml="$tmp/runsc.toml.previous"
  cp -p "$toml" "$prev_toml"
fi

wrote_cfg=false
wrote_toml=false
gv_step_rollback() {
  if [ "$wrote_toml" = true ]; then
    if { if [ -n "$prev_toml" ]; then gv_replace_file "$prev_toml" "$toml"; else rm -f "$toml"; fi; }; then
      gv_warn "put back the previous $toml"
    else
      gv_warn "could not put back the previous $toml; uninstall (or the next run) works from the record"
    fi
  fi
  if [ "$wrote_cfg" = true ]; then
    if { if [ -n "$prev_cfg" ]; then gv_replace_file "$prev_cfg" "$cfg"; else rm -f "$cfg"; fi; }; then
      gv_warn "put back the previous $cfg"
      if [ "$restarted" = true ]; then
        gv_restart_containerd && gv_warn "restarted containerd with the previous configuration"
      fi
    else
      gv_warn "could not put back the previous $cfg; uninstall (or the next run) works from the record"
    fi
  fi
}

gv_phase write
if [ "$toml_changed" = true ]; then
  gv_log "writing $toml"
  mkdir -p "$(dirname "$toml")"
  wrote_toml=true
  gv_replace_file "$tmp/runsc.toml" "$toml" 0644
fi
if [ "$cfg_changed" = true ]; then
  gv_log "writing runtime $name (config version $version) into $cfg"
  wrote_cfg=true
  mv -f "$staged" "$cfg_real"
fi

# -- restart containerd only if config.toml changed
if [ "$cfg_changed" = true ]; then
  if gv_has_systemd && systemctl is-active --quiet containerd.service 2>/dev/null; then
    restart_and_check "the previous $cfg is put back and containerd restarted on it (see the lines above); check the plan's containerd runtime tables and 'journalctl -u containerd'"
  elif gv_has_systemd; then
    gv_log "containerd.service is not active, so nothing was restarted; containerd reads $cfg when it starts"
  elif gv_containerd_restart_required "$cfg"; then
    restart_required=true
    gv_warn "containerd is running without systemd, and there is no generic way to restart it here: restart it yourself to load runtime $name (it was not killed)"
  else
    gv_log "no containerd reading $cfg is running; it reads $cfg when it starts"
  fi
fi

wrote_cfg=false
wrote_toml=false

gv_emit step=configure-containerd changed:b=true "runtime=$name" "config=$cfg" "configVersion:i=$version" \
  "runscToml=$toml" "restarted:b=$restarted" "restartRequired:b=$restart_required" "defaultRuntimeAdded:s?=$kept_default"
