#!/bin/sh
# pulumi-gvisor step: install
#
# Downloads the gVisor release at $GV_RELEASE_URL/<arch>/ ($GV_LAYOUT "archive":
# gvisor.tar.zstd or .bz2 + .sha512; "loose": runsc and containerd-shim-runsc-v1,
# each with a .sha512), verifies sha512 (and $GV_SHA512_PINS) before anything is extracted or moved,
# checks that runsc runs here, and installs runsc, containerd-shim-runsc-v1 and
# gvisor-bin/ into $GV_INSTALL_DIR with renames. Records what it installed in
# $GV_STATE_DIR/install/ so that a re-run with the same plan downloads nothing
# and uninstall removes only what this step put there.
#
# stdout: {"step":"install","changed":true|false,"version":...,"runscVersion":...,
#          "arch":...,"layout":...,"archive":"gvisor.tar.zstd"|"gvisor.tar.bz2"|null,
#          "installDir":...,"gvisorBin":true|false}
set -eu
if ! command -v gv_init >/dev/null 2>&1; then
  # Run by hand: the renderer prepends lib.sh itself.
  # shellcheck disable=SC1091
  . "$(dirname "$0")/lib.sh"
fi

: "${GV_VERSION:?is not set (release label, e.g. 20261020)}"
: "${GV_RELEASE_URL:?is not set (release base URL without arch)}"
: "${GV_LAYOUT:?is not set (archive or loose)}"
: "${GV_ARCHIVES?is not set}" "${GV_SHA512_PINS?is not set}" "${GV_KERNEL_FLOOR?is not set}"
: "${GV_DOWNLOAD_MAX_BYTES:?is not set (bytes)}"
: "${GV_ARCH?is not set (expected uname -m, or empty for any)}"
: "${GV_INSTALL_DIR:?is not set (e.g. /usr/local/bin)}"
: "${GV_STATE_DIR:?is not set (e.g. /var/lib/pulumi-gvisor)}"

gv_init install
tmp=$(gv_tmpdir)
gv_require_python

# -- wait for cloud-init (it may still be installing Docker or writing configs)
gv_wait_for_cloud_init 600

# -- architecture
arch=$(uname -m)
case $arch in
  x86_64 | aarch64) ;;
  *) gv_die "this host's architecture is $arch; gVisor publishes x86_64 and aarch64 builds only" \
    "run this on an x86_64 or aarch64 host" ;;
esac
if [ -n "$GV_ARCH" ] && [ "$GV_ARCH" != "$arch" ]; then
  gv_die "this host is $arch but the plan asks for $GV_ARCH" \
    "set the plan's arch to $arch (or leave it empty) or target an $GV_ARCH host"
fi
case $GV_LAYOUT in
  archive | loose) ;;
  *) gv_die "unknown release layout '$GV_LAYOUT'" "use archive or loose" ;;
esac

# -- gVisor releases after 2026-08-18 need Linux 5.6
if [ -n "$GV_KERNEL_FLOOR" ] && ! gv_kernel_at_least "$GV_KERNEL_FLOOR"; then
  gv_die "gVisor $GV_VERSION needs Linux $GV_KERNEL_FLOOR or newer, but this host runs $(uname -r)" \
    "upgrade the host's kernel, or pin a gVisor release dated 20260818 or earlier (nothing was installed)"
fi

# -- zstd when the host has it, unless a pin (of gvisor.tar.bz2) is set
pin=''
for w in $GV_SHA512_PINS; do
  case $w in "$arch="*) pin=${w#*=} ;; esac
done
archive=''
for a in $GV_ARCHIVES; do
  if [ "$a" = gvisor.tar.bz2 ] || { [ -z "$pin" ] && command -v zstd >/dev/null 2>&1; }; then
    archive=$a
    break
  fi
done

base="$GV_RELEASE_URL/$arch"
dir=$GV_INSTALL_DIR
state="$GV_STATE_DIR/install"
record="$state/record"
runsc_dst="$dir/runsc"
shim_dst="$dir/containerd-shim-runsc-v1"
bin_dst="$dir/gvisor-bin"

# Staged and rollback copies a killed run left beside the targets (fixed names).
for n in runsc containerd-shim-runsc-v1 gvisor-bin; do
  rm -rf -- "$dir/.$n.pulumi-gvisor-new" "$dir/.$n.pulumi-gvisor-old" "$dir/$n.pulumi-gvisor-undo"
done

# -- already installed? (no download at all when the record still matches)
if [ -f "$record" ] &&
  [ "$(gv_record_get "$record" version)" = "$GV_VERSION" ] &&
  [ "$(gv_record_get "$record" release_url)" = "$GV_RELEASE_URL" ] &&
  [ "$(gv_record_get "$record" layout)" = "$GV_LAYOUT" ] &&
  [ "$(gv_record_get "$record" arch)" = "$arch" ] &&
  [ "$(gv_record_get "$record" install_dir)" = "$dir" ] &&
  [ -f "$runsc_dst" ] && [ -f "$shim_dst" ] &&
  [ "$(gv_sha512 "$runsc_dst")" = "$(gv_record_get "$record" runsc_sha512)" ] &&
  [ "$(gv_sha512 "$shim_dst")" = "$(gv_record_get "$record" shim_sha512)" ]; then
  rec_bin=$(gv_record_get "$record" gvisor_bin_sha512)
  if [ -z "$rec_bin" ] || { [ -d "$bin_dst" ] && [ "$(gv_tree_digest "$bin_dst")" = "$rec_bin" ]; }; then
    version=$(gv_runsc_version "$runsc_dst") ||
      gv_die "the installed $runsc_dst no longer runs" "remove $record and re-run the install step"
    gv_nothing_changed "gVisor $GV_VERSION ($version) is already installed in $dir and its checksums match the record"
    has_bin=false
    [ -z "$rec_bin" ] || has_bin=true
    gv_emit step=install changed:b=false "version=$GV_VERSION" "runscVersion=$version" "arch=$arch" \
      "layout=$GV_LAYOUT" "archive:s?=$archive" "installDir=$dir" "gvisorBin:b=$has_bin"
    exit 0
  fi
fi

# -- download and verify
if command -v curl >/dev/null 2>&1; then
  downloader=curl
elif command -v wget >/dev/null 2>&1; then
  downloader=wget
else
  gv_die "neither curl nor wget is installed" "install curl and re-run"
fi

# download URL DEST MAX_BYTES [may404]: https stays https through redirects;
# plain http and wget follow none (wget's --https-only is for -r only).
download() {
  dl_url=$1
  dl_dest=$2
  dl_max=$3
  dl_may404=${4:-}
  dl_shown=$(gv_url_for_humans "$1")
  gv_log "downloading $dl_shown"
  dl_rc=0
  dl_copy_rc=0
  dl_location=''
  if [ "$downloader" = curl ]; then
    case $dl_url in
      https://*) set -- -L --proto =https --proto-redir =https --max-redirs 5 ;;
      *) set -- --proto =http ;;
    esac
    dl_meta=$(curl -sS "$@" --retry 3 --retry-delay 2 --connect-timeout 30 --max-time 1200 \
      --max-filesize "$dl_max" -o "$dl_dest" -w '%{http_code} %{redirect_url}' "$dl_url") || dl_rc=$?
    dl_code=${dl_meta%% *}
    dl_location=${dl_meta#"$dl_code"}
    [ "$dl_rc" -ne 23 ] || dl_copy_rc=23
    [ "$dl_rc" -ne 63 ] || dl_copy_rc=63
  else
    { wget -q -S -T 30 -t 3 --max-redirect=0 -O - "$dl_url" 2>"$dl_dest.hdr"; echo "$?" >"$dl_dest.rc"; } |
      head -c "$((dl_max + 1))" >"$dl_dest" || dl_copy_rc=$?
    dl_rc=$(cat "$dl_dest.rc" 2>/dev/null) || dl_rc=1
    dl_code=$(sed -n 's/^ *HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$dl_dest.hdr" 2>/dev/null | tail -n 1)
    dl_location=$(sed -n 's/^ *[Ll]ocation: *//p' "$dl_dest.hdr" 2>/dev/null | tail -n 1)
  fi
  dl_size=$(wc -c <"$dl_dest" 2>/dev/null) || dl_size=0
  if [ "$dl_size" -gt "$dl_max" ] || [ "$dl_copy_rc" = 63 ]; then
    gv_die "$dl_shown is larger than the $dl_max bytes a gVisor release file may have" \
      "check the mirror (nothing was installed)"
  fi
  if [ "$dl_copy_rc" != 0 ] || [ "$downloader$dl_rc" = wget3 ]; then
    gv_die "could not write the download of $dl_shown to ${dl_dest%/*}: $(gv_space_report "${dl_dest%/*}")" \
      "free space on that filesystem and re-run (nothing was installed)"
  fi
  dl_to=$(gv_url_for_humans "$dl_location" | tr -d ' \r')
  case $downloader:$dl_code:$dl_url in
    wget:3??:*) dl_why="wget cannot be held to https across redirects, so this host follows none; install curl on the host, or" ;;
    curl:3??:https:*) dl_why="the new address is not https; fix the redirect, or" ;;
    curl:3??:*) dl_why="a plain-http mirror (loopback only) may not redirect at all;" ;;
    *) dl_why='' ;;
  esac
  [ -z "$dl_why" ] || gv_die "$dl_shown redirects to ${dl_to:-another address}" "$dl_why set the mirror to the final address"
  case $downloader:$dl_code:$dl_url in
    curl:2??:* | wget:2??:*) [ "$dl_rc" -ne 0 ] || return 0 ;;
    curl:404:* | wget:404:*) [ "$dl_may404" != may404 ] || return 0 ;;
  esac
  case $dl_code in
    [1-9]??) gv_die "download of $dl_shown failed with HTTP $dl_code" \
      "check that gVisor release '$GV_VERSION' exists for $arch with the '$GV_LAYOUT' layout at that address (or that your mirror serves it)" ;;
  esac
  gv_die "download of $dl_shown failed ($downloader exit $dl_rc)" \
    "check this host's network access to that address (DNS, proxy, firewall) and re-run"
}

# fetch_verified NAME [PIN]: download NAME and NAME.sha512, check both digests.
fetch_verified() {
  [ -s "$dl/$1.sha512" ] || download "$base/$1.sha512" "$dl/$1.sha512" 65536
  want=$(gv_sum_from_file "$dl/$1.sha512") ||
    gv_die "$(gv_url_for_humans "$base/$1.sha512") is not a sha512 checksum file" \
      "check that the release URL points at a gVisor release (or mirror) and re-run"
  if [ -n "${2:-}" ] && [ "$want" != "$2" ]; then
    gv_die "the mirror's checksum for $1 ($(printf '%.16s' "$want")...) is not the sha512 pinned in the program for $arch ($(printf '%.16s' "$2")...)" \
      "check the mirror, or update the pin if the release really changed (nothing was installed)"
  fi
  download "$base/$1" "$dl/$1" "$GV_DOWNLOAD_MAX_BYTES"
  got=$(gv_sha512 "$dl/$1")
  if [ "$got" != "$want" ]; then
    gv_die "checksum mismatch for $(gv_url_for_humans "$base/$1") (sha512 expected $(printf '%.16s' "$want")..., got $(printf '%.16s' "$got")...)" \
      "the download is corrupt or not what the release published; re-run, and check the mirror if it persists (nothing was installed)"
  fi
}

dl="$tmp/download"
mkdir -p "$dl"
if [ "$GV_LAYOUT" = archive ]; then
  if [ "$archive" = gvisor.tar.zstd ]; then
    download "$base/$archive.sha512" "$dl/$archive.sha512" 65536 may404
    if [ "$dl_code" = 404 ]; then
      rm -f -- "$dl/$archive.sha512"
      archive=gvisor.tar.bz2
      gv_log "the mirror has no gvisor.tar.zstd for this release; using gvisor.tar.bz2"
    fi
  fi
  fetch_verified "$archive" "$pin"
  source_sum=$want
  x="$tmp/extract"
  mkdir -p "$x"
  gv_log "sha512 verified; extracting $archive"
  a="$dl/$archive"
  if [ "$archive" = gvisor.tar.zstd ]; then
    zstd -q -d -c -- "$a" >"$tmp/gvisor.tar" && rm -f -- "$a" && a="$tmp/gvisor.tar" && tar -xf "$a" -C "$x"
  elif command -v bzip2 >/dev/null 2>&1; then
    tar -xjf "$a" -C "$x"
  else
    gv_py untar "GVP_ARCHIVE=$a" "GVP_DEST=$x"
  fi 2>"$tmp/extract.err" ||
    gv_die "could not extract $archive: $(head -n 1 "$tmp/extract.err") ($(gv_space_report "$tmp"))" \
      "the archive is damaged or the disk is full; re-run, and check the mirror if it persists (nothing was installed)"
  src="$archive from $(gv_url_for_humans "$base")"
  # runsc sits at the top of the archive or in its one top-level directory.
  root=''
  if [ -f "$x/runsc" ]; then
    root=$x
  else
    for d in "$x"/*/; do
      if [ -f "${d}runsc" ]; then
        [ -z "$root" ] || gv_die "$src holds more than one runsc" "check the release URL"
        root=${d%/}
      fi
    done
  fi
  [ -n "$root" ] || gv_die "$src does not contain runsc" "check the release URL and layout (nothing was installed)"
  if [ ! -f "$root/containerd-shim-runsc-v1" ] || [ -L "$root/containerd-shim-runsc-v1" ]; then
    gv_die "$src does not contain containerd-shim-runsc-v1" "check the release URL and layout (nothing was installed)"
  fi
  [ ! -L "$root/runsc" ] || gv_die "runsc in $src is a symbolic link" "check the release URL (nothing was installed)"
  has_bin=false
  if [ -d "$root/gvisor-bin" ] && [ ! -L "$root/gvisor-bin" ]; then
    has_bin=true
  fi
else
  fetch_verified runsc
  runsc_src_sum=$want
  fetch_verified containerd-shim-runsc-v1
  source_sum="runsc:$runsc_src_sum,containerd-shim-runsc-v1:$want"
  root=$dl
  has_bin=false
fi

chmod 0755 "$root/runsc" "$root/containerd-shim-runsc-v1"
version=$(gv_runsc_version "$root/runsc" 2>"$tmp/runsc.err") ||
  gv_die "the downloaded runsc does not run on this $arch host: $(head -n 1 "$tmp/runsc.err")" \
    "check that the release has a $arch build (nothing was installed)"
gv_log "downloaded runsc $version"

# -- install (stage next to the targets, then rename over them)
mkdir -p "$dir"
gv_mkstate "$state"

runsc_sum=$(gv_sha512 "$root/runsc")
shim_sum=$(gv_sha512 "$root/containerd-shim-runsc-v1")
bin_sum=''
if [ "$has_bin" = true ]; then
  bin_sum=$(gv_tree_digest "$root/gvisor-bin")
fi

# $state/dir names the directory orig/ and our binaries belong to; it is
# written before anything there is backed up or renamed. When the plan moved
# the install directory, ours come out of the old one first (what was there
# before us goes back), then the new one starts with no backups.
prev_dir=$(cat "$state/dir" 2>/dev/null || gv_record_get "$record" install_dir)
if [ -n "$prev_dir" ] && [ "$prev_dir" != "$dir" ]; then
  gv_log "the install directory moved from $prev_dir to $dir: removing pulumi-gvisor's binaries from $prev_dir"
  gv_undo_binaries "$state" "$prev_dir"
  gv_phase forget-old-dir
  rm -rf -- "${state:?}/orig"
  rm -f -- "$record"
fi
if [ "$prev_dir" != "$dir" ]; then
  { printf '%s\n' "$dir" >"$state/dir.tmp" && gv_sync "$state/dir.tmp" && mv -f "$state/dir.tmp" "$state/dir"; } ||
    gv_die "could not write the install record in $state" "free space on the file system of $GV_STATE_DIR (is it full?) and re-run; nothing was installed"
fi

# Keep a copy of any runsc/shim/gvisor-bin we did not install ourselves, once,
# so uninstall can put it back. Ours are those whose digest is in written.<name>
# (noted before each rename, so a run killed after renaming still knows them).
old_bin_rec=$(gv_record_get "$record" gvisor_bin_sha512)
new_backups=''
is_ours() { # NAME TARGET
  [ -f "$state/written.$1" ] || return 1
  if [ -d "$2" ]; then
    grep -qx -- "$(gv_tree_digest "$2")" "$state/written.$1"
  else
    grep -qx -- "$(gv_sha512 "$2")" "$state/written.$1"
  fi
}
backup_foreign() { # NAME TARGET
  [ -e "$2" ] || return 0
  [ ! -e "$state/orig/$1" ] || return 0
  ! is_ours "$1" "$2" || return 0
  gv_log "keeping a copy of the existing $2 (not installed by pulumi-gvisor) for uninstall"
  gv_phase backup
  mkdir -p "$state/orig"
  rm -rf -- "$state/orig/.$1.tmp"
  if [ -d "$2" ]; then want=$(gv_tree_digest "$2"); else want=$(gv_sha512 "$2"); fi
  if ! cp -pR -- "$2" "$state/orig/.$1.tmp" 2>"$tmp/copy.err" ||
    { if [ -d "$2" ]; then got=$(gv_tree_digest "$state/orig/.$1.tmp"); else got=$(gv_sha512 "$state/orig/.$1.tmp"); fi; [ "$got" != "$want" ]; }; then
    rm -rf -- "$state/orig/.$1.tmp"
    gv_die "could not keep a verified copy of the existing $2 in $state ($(head -n 1 "$tmp/copy.err"))" \
      "free space on the file system of $GV_STATE_DIR (is it full?) and re-run; nothing was installed"
  fi
  gv_sync "$state/orig/.$1.tmp"
  mv "$state/orig/.$1.tmp" "$state/orig/$1"
  new_backups="$new_backups $1"
}
# Legacy records name one digest each: count those as ours too.
for n in runsc:runsc_sha512 containerd-shim-runsc-v1:shim_sha512 gvisor-bin:gvisor_bin_sha512; do
  s=$(gv_record_get "$record" "${n#*:}")
  [ -z "$s" ] || grep -qx -- "$s" "$state/written.${n%%:*}" 2>/dev/null || printf '%s\n' "$s" >>"$state/written.${n%%:*}"
done
backup_foreign runsc "$runsc_dst"
backup_foreign containerd-shim-runsc-v1 "$shim_dst"
if [ "$has_bin" = true ] || [ -n "$old_bin_rec" ]; then
  backup_foreign gvisor-bin "$bin_dst"
fi

# Staged copies and rollback copies use fixed names, so a killed run leaves
# nothing that a later run does not overwrite.
stage_file() { # SRC NAME
  rm -rf "$dir/.$2.pulumi-gvisor-new"
  gv_cleanup_add "$dir/.$2.pulumi-gvisor-new"
  cp "$1" "$dir/.$2.pulumi-gvisor-new"
  chmod 0755 "$dir/.$2.pulumi-gvisor-new"
}
stage_file "$root/runsc" runsc
stage_file "$root/containerd-shim-runsc-v1" containerd-shim-runsc-v1
if [ "$has_bin" = true ]; then
  rm -rf "$dir/.gvisor-bin.pulumi-gvisor-new"
  gv_cleanup_add "$dir/.gvisor-bin.pulumi-gvisor-new"
  cp -R "$root/gvisor-bin" "$dir/.gvisor-bin.pulumi-gvisor-new"
  chmod -R u+rwX,go+rX,go-w "$dir/.gvisor-bin.pulumi-gvisor-new"
fi

# Rollback: put the previous files back (the .pulumi-gvisor-old copies) or
# remove what did not exist before.
committed=''
gv_step_rollback() {
  for n in $committed; do
    if [ -e "$dir/.$n.pulumi-gvisor-old" ]; then
      rm -rf "${dir:?}/$n.pulumi-gvisor-undo"
      { [ ! -e "$dir/$n" ] || mv "$dir/$n" "$dir/$n.pulumi-gvisor-undo"; } &&
        mv "$dir/.$n.pulumi-gvisor-old" "$dir/$n" && rm -rf "${dir:?}/$n.pulumi-gvisor-undo"
    else
      rm -rf "${dir:?}/$n"
    fi
    gv_warn "rolled back $dir/$n"
  done
  for n in $new_backups; do
    rm -rf "${state:?}/orig/$n"
  done
}

keep_old() { # NAME: keep the current target aside for rollback
  rm -rf "$dir/.$1.pulumi-gvisor-old"
  gv_cleanup_add "$dir/.$1.pulumi-gvisor-old"
  if [ -d "$dir/$1" ] && [ ! -L "$dir/$1" ]; then
    mv "$dir/$1" "$dir/.$1.pulumi-gvisor-old"
  elif [ -e "$dir/$1" ] || [ -L "$dir/$1" ]; then
    ln "$dir/$1" "$dir/.$1.pulumi-gvisor-old" 2>/dev/null || cp -p "$dir/$1" "$dir/.$1.pulumi-gvisor-old"
  fi
}

# The intent: the digests of what is about to be renamed in, synced first.
gv_phase record
{
  printf '%s\n' "$runsc_sum" >>"$state/written.runsc" &&
    printf '%s\n' "$shim_sum" >>"$state/written.containerd-shim-runsc-v1" &&
    { [ -z "$bin_sum" ] || printf '%s\n' "$bin_sum" >>"$state/written.gvisor-bin"; } &&
    gv_sync "$state"/written.*
} || gv_die "could not write the install record in $state" "free space on the file system of $GV_STATE_DIR (is it full?) and re-run; nothing was installed"

gv_log "installing runsc $version into $dir"
gv_phase rename
for n in runsc containerd-shim-runsc-v1; do
  keep_old "$n"
  committed="$committed $n"
  mv -f "$dir/.$n.pulumi-gvisor-new" "$dir/$n"
done
if [ "$has_bin" = true ]; then
  keep_old gvisor-bin
  committed="$committed gvisor-bin"
  mv "$dir/.gvisor-bin.pulumi-gvisor-new" "$bin_dst"
elif [ -n "$old_bin_rec" ] && [ -d "$bin_dst" ] && [ "$(gv_tree_digest "$bin_dst")" = "$old_bin_rec" ]; then
  # This release has no sidecars: drop the ones our previous install put there.
  keep_old gvisor-bin
  committed="$committed gvisor-bin"
fi

# The installed bytes must be the verified ones.
if [ "$(gv_sha512 "$runsc_dst")" != "$runsc_sum" ] || [ "$(gv_sha512 "$shim_dst")" != "$shim_sum" ]; then
  gv_die "the files in $dir do not match what was verified after the move" "check the disk and re-run"
fi
gv_runsc_version "$runsc_dst" >/dev/null ||
  gv_die "the installed $runsc_dst does not run" "check $dir (mounted noexec?) and re-run"

cat >"$tmp/record" <<EOF
version=$GV_VERSION
release_url=$GV_RELEASE_URL
layout=$GV_LAYOUT
arch=$arch
install_dir=$dir
source_sha512=$source_sum
runsc_sha512=$runsc_sum
shim_sha512=$shim_sum
gvisor_bin_sha512=$bin_sum
runsc_version=$version
EOF
gv_phase commit
gv_replace_file "$tmp/record" "$record" 0600
gv_sync "$record"
committed=''

gv_log "installed runsc $version, containerd-shim-runsc-v1$([ "$has_bin" = true ] && printf ' and gvisor-bin/') in $dir"
gv_emit step=install changed:b=true "version=$GV_VERSION" "runscVersion=$version" "arch=$arch" \
  "layout=$GV_LAYOUT" "archive:s?=$archive" "installDir=$dir" "gvisorBin:b=$has_bin"
