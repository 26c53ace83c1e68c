#!/bin/sh
# pulumi-gvisor step: engine
#
# Makes sure the container engines the plan enables are installed and running
# on a machine that may be a fresh cloud image: Docker ($GV_DOCKER_ENABLED)
# and/or containerd ($GV_CONTAINERD_ENABLED), plus python3, which the later
# steps use to edit JSON and TOML. Uses the OS package manager (apt-get on
# Debian/Ubuntu: docker.io, containerd; dnf on Amazon Linux 2023 and other RPM
# systems: docker, containerd), after cloud-init has finished and while no
# other package manager run holds the locks. Installs only what is missing;
# enables and starts the services with systemd when the host has it. On a host
# where everything is present and running it changes nothing and says so.
#
# stdout: {"step":"engine","changed":true|false,"installed":[...],"started":[...]}
set -eu
if ! command -v gv_init >/dev/null 2>&1; then
  # Run by hand: the renderer prepends lib.sh itself.
  # shellcheck disable=SC1091
  . "$(dirname "$0")/lib.sh"
fi

: "${GV_STATE_DIR:?is not set (e.g. /var/lib/pulumi-gvisor)}"
: "${GV_DOCKER_ENABLED:?is not set (true or false)}"
: "${GV_CONTAINERD_ENABLED:?is not set (true or false)}"

gv_init engine

# Bounds, in seconds.
cloud_init_limit=900
lock_limit=600
install_limit=1200

case $GV_DOCKER_ENABLED in true | false) ;; *) gv_die "GV_DOCKER_ENABLED is '$GV_DOCKER_ENABLED'" "use true or false" ;; esac
case $GV_CONTAINERD_ENABLED in true | false) ;; *) gv_die "GV_CONTAINERD_ENABLED is '$GV_CONTAINERD_ENABLED'" "use true or false" ;; esac
[ "$(id -u)" -eq 0 ] ||
  gv_die "the engine step must run as root (it installs packages)" "connect as root or as a user with passwordless sudo"

have() { command -v "$1" >/dev/null 2>&1; }

# -- what is missing -----------------------------------------------------------
# Components by role: docker needs dockerd and the docker CLI (verify runs
# `docker run`), containerd needs the daemon, python3 is needed by every step.
needs=''
[ "$GV_DOCKER_ENABLED" = false ] || needs="$needs docker"
[ "$GV_CONTAINERD_ENABLED" = false ] || needs="$needs containerd"
needs="${needs# } python3"
missing=''
if [ "$GV_DOCKER_ENABLED" = true ] && { ! have dockerd || ! have docker; }; then missing="$missing docker"; fi
if [ "$GV_CONTAINERD_ENABLED" = true ] && ! have containerd; then missing="$missing containerd"; fi
if ! have python3; then missing="$missing python3"; fi
missing=${missing# }

# -- package manager -----------------------------------------------------------
if have apt-get; then
  pm=apt
elif have dnf; then
  pm=dnf
elif have yum; then
  pm=yum
else
  pm=''
fi

# package_for ROLE: the package that provides ROLE with this package manager.
package_for() {
  case $pm:$1 in
    apt:docker) echo docker.io ;;
    *:docker) echo docker ;;
    *:containerd) echo containerd ;;
    *:python3) echo python3 ;;
  esac
}

# How long we have waited for package locks so far (shared by all waits).
lock_waited=0

# wait_for_apt_locks: wait while another apt/dpkg run (unattended-upgrades on
# first boot, cloud-init's package module) holds apt's or dpkg's locks.
wait_for_apt_locks() {
  if ! have fuser; then
    gv_log "fuser is not installed; relying on apt's own lock timeout (${lock_limit}s)"
    return 0
  fi
  while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock >/dev/null 2>&1; do
    if [ "$lock_waited" -ge "$lock_limit" ]; then
      gv_die "another apt or dpkg run still holds the package locks after ${lock_limit}s" \
        "wait for it to finish (on a fresh instance usually unattended-upgrades) and re-run"
    fi
    if [ $((lock_waited % 30)) -eq 0 ]; then
      gv_log "waiting for another apt/dpkg run to release the package locks (waited ${lock_waited}s of at most ${lock_limit}s)"
    fi
    sleep 5
    lock_waited=$((lock_waited + 5))
  done
}

# rpm_busy: true while a dnf, yum or rpm process runs.
rpm_busy() {
  for comm_file in /proc/[0-9]*/comm; do
    case $(cat "$comm_file" 2>/dev/null || true) in
      dnf | dnf-3 | dnf-automatic | yum | rpm) return 0 ;;
    esac
  done
  return 1
}

wait_for_rpm_locks() {
  while rpm_busy; do
    if [ "$lock_waited" -ge "$lock_limit" ]; then
      gv_die "another dnf, yum or rpm run is still going after ${lock_limit}s" "wait for it to finish and re-run"
    fi
    if [ $((lock_waited % 30)) -eq 0 ]; then
      gv_log "waiting for another dnf/yum/rpm run to finish (waited ${lock_waited}s of at most ${lock_limit}s)"
    fi
    sleep 5
    lock_waited=$((lock_waited + 5))
  done
}

# Non-interactive apt: keep existing config files, never prompt, and let
# needrestart (Ubuntu) list rather than ask about restarting services.
apt_env='DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l NEEDRESTART_SUSPEND=1'
apt_opts="-q -y -o DPkg::Lock::Timeout=$lock_limit -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

# apt_update: refresh the package lists (empty on a fresh Ubuntu image), with retries.
apt_update() {
  tries=0
  while :; do
    wait_for_apt_locks
    # shellcheck disable=SC2086 # the option lists are single words
    gv_timeout 600 env $apt_env apt-get $apt_opts update && return 0
    tries=$((tries + 1))
    [ "$tries" -lt 3 ] ||
      gv_die "apt-get update failed $tries times" \
        "check that the machine reaches its package mirror (security group egress, a NAT or internet gateway, DNS) and re-run"
    gv_warn "apt-get update failed; retrying in 10s"
    sleep 10
  done
}

# -- install ---------------------------------------------------------------------
installed=''
if [ -n "$missing" ]; then
  [ -n "$pm" ] ||
    gv_die "missing: $missing, and this host has neither apt-get nor dnf nor yum" \
      "install $(echo "$missing" | sed 's/ /, /g') with this OS's package manager, or use Ubuntu 24.04 or Amazon Linux 2023"
  packages=''
  for role in $missing; do packages="$packages $(package_for "$role")"; done
  packages=${packages# }
  gv_wait_for_cloud_init "$cloud_init_limit"
  gv_log "installing $packages with $pm (missing: $missing)"
  install_rc=0
  case $pm in
    apt)
      apt_update
      wait_for_apt_locks
      # shellcheck disable=SC2086 # option lists and package names are single words
      gv_timeout "$install_limit" env $apt_env apt-get $apt_opts install --no-install-recommends $packages || install_rc=$?
      ;;
    *)
      wait_for_rpm_locks
      # shellcheck disable=SC2086 # package names are single words
      gv_timeout "$install_limit" "$pm" -q -y --setopt=install_weak_deps=False install $packages || install_rc=$?
      ;;
  esac
  if [ "$install_rc" -ne 0 ]; then
    what="$pm install $packages failed (exit $install_rc)"
    [ "$install_rc" -ne 124 ] || what="$pm install $packages did not finish within ${install_limit}s"
    gv_die "$what" \
      "see the package manager's output above; check that the machine reaches its package mirror (security group egress, a NAT or internet gateway, DNS) and re-run"
  fi
  # The packages must have brought the commands the later steps run.
  for role in $missing; do
    case $role in
      docker) commands='dockerd docker' ;;
      *) commands=$role ;;
    esac
    for c in $commands; do
      have "$c" || gv_die "$(package_for "$role") was installed but '$c' is still not on PATH" "check that package on this OS and re-run"
    done
  done
  installed=$packages
  # Remember what this project installed, for whoever cleans the machine up.
  gv_mkstate "$GV_STATE_DIR/engine" || gv_die "could not create $GV_STATE_DIR/engine" "check that $GV_STATE_DIR is writable"
  printf 'installed=%s\n' "$installed" >>"$GV_STATE_DIR/engine/record"
fi

# -- services ------------------------------------------------------------------
# With systemd: enabled (survives reboots) and running. Without it, daemons
# are someone else's business: say so when one the plan needs is not running.
started=''
ensure_service() {
  unit=$1
  if gv_has_systemd; then
    systemctl cat "$unit.service" >/dev/null 2>&1 ||
      gv_die "$unit is installed but systemd has no $unit.service unit" "start $unit yourself or reinstall its package, then re-run"
    if ! systemctl is-enabled --quiet "$unit.service" 2>/dev/null; then
      gv_log "enabling $unit.service"
      systemctl enable "$unit.service" >/dev/null 2>&1 ||
        gv_die "systemctl enable $unit.service failed" "see 'systemctl status $unit' and re-run"
      started="$started $unit"
    fi
    if ! systemctl is-active --quiet "$unit.service" 2>/dev/null; then
      gv_log "starting $unit.service"
      systemctl start "$unit.service" ||
        gv_die "$unit.service did not start" "see 'journalctl -u $unit' and re-run"
      case " $started " in *" $unit "*) ;; *) started="$started $unit" ;; esac
    fi
  else
    case $unit in
      docker) gv_dockerd_pid >/dev/null || gv_warn "dockerd is not running and this host has no systemd; start dockerd before the verify step" ;;
      containerd)
        for comm_file in /proc/[0-9]*/comm; do
          [ "$(cat "$comm_file" 2>/dev/null || true)" = containerd ] && return 0
        done
        gv_warn "containerd is not running and this host has no systemd; start it before the verify step"
        ;;
    esac
  fi
}
# containerd first: Docker's packages run dockerd on top of it.
if [ "$GV_CONTAINERD_ENABLED" = true ]; then ensure_service containerd; fi
if [ "$GV_DOCKER_ENABLED" = true ]; then ensure_service docker; fi
started=${started# }

# -- result ----------------------------------------------------------------------
if [ -z "$installed" ] && [ -z "$started" ]; then
  gv_nothing_changed "everything the plan needs is installed ($(echo "$needs" | sed 's/ /, /g'))"
  changed=false
else
  gv_log "done (installed: ${installed:-nothing}; enabled or started: ${started:-nothing})"
  changed=true
fi

# JSON by hand: the lists hold package and unit names only ([a-z0-9.+-]).
json_list() {
  printf '['
  sep=''
  for w in $1; do
    printf '%s"%s"' "$sep" "$w"
    sep=','
  done
  printf ']'
}
printf '{"step":"engine","changed":%s,"installed":%s,"started":%s}\n' \
  "$changed" "$(json_list "$installed")" "$(json_list "$started")" >&3
