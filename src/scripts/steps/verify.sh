#!/bin/sh
# pulumi-gvisor step: verify
#
# Gathers evidence that containers on this host really run under gVisor:
# - Docker (when enabled): `docker run --runtime=$GV_DOCKER_RUNTIME` of
#   $GV_VERIFY_IMAGE printing its kernel version and whether /proc/kallsyms is
#   readable. Under gVisor the kernel is gVisor's (4.4.0), not the host's, and
#   kallsyms is hidden. An image can print anything, so the host checks too:
#   dockerd's runtime of that name runs $GV_INSTALL_DIR/runsc (`docker info`),
#   and while the probe runs, a process whose /proc/PID/exe is that runsc (or
#   one of its gvisor-bin/ sidecars) serves the probe container.
# - containerd (when enabled): `containerd config dump` of $GV_CONTAINERD_CONFIG
#   has the runtime with runtime_type io.containerd.runsc.v1, $GV_RUNSC_TOML_PATH
#   exists, the shim is installed, and a running containerd that reads the
#   file started after it was last written (else it has not loaded the runtime:
#   "runtimeConfigured" is false until containerd is restarted).
# Changes nothing on the host (apart from the probe container, removed after).
#
# stdout: exactly one JSON document:
#   {"schemaVersion":2,"runscVersion":...,"arch":...,"hostKernel":...,
#    "runtimes":[{"engine":"docker","name":...,"ran":...,"sandboxKernel":...,
#                 "kallsymsHidden":...,"runtimePath":...,"sandboxProcess":...,
#                 "error":...}],
#    "containerd":{"enabled":true,"configVersion":N,"runtimeConfigured":...}|null,
#    "isolated":true|false,"failures":["<engine>/<runtime>: <sentence>", ...]}
# Exit 0, unless GV_VERIFY_ENFORCE=true and the host is not isolated (exit 1,
# the document still printed, and a one-line reason on stderr).
set -eu
if ! command -v gv_init >/dev/null 2>&1; then
  # Run by hand: the renderer prepends lib.sh itself.
  # shellcheck disable=SC1091
  . "$(dirname "$0")/lib.sh"
fi

: "${GV_INSTALL_DIR:?is not set (e.g. /usr/local/bin)}"
: "${GV_DOCKER_ENABLED:?is not set (true or false)}"
: "${GV_DOCKER_RUNTIME:?is not set (e.g. runsc)}"
: "${GV_VERIFY_IMAGE:?is not set (an image with sh, uname and head)}"
: "${GV_VERIFY_ENFORCE:?is not set (true or false)}"
: "${GV_CONTAINERD_ENABLED:?is not set (true or false)}"
: "${GV_CONTAINERD_CONFIG:?is not set (e.g. /etc/containerd/config.toml)}"
: "${GV_CONTAINERD_RUNTIME:?is not set (e.g. runsc)}"
: "${GV_RUNSC_TOML_PATH:?is not set (e.g. /etc/containerd/runsc.toml)}"

gv_init verify
tmp=$(gv_tmpdir)
gv_require_python

runsc="$GV_INSTALL_DIR/runsc"
runsc_version=''
if [ -x "$runsc" ]; then
  runsc_version=$(gv_runsc_version "$runsc") || runsc_version=''
fi
arch=$(uname -m)
host_kernel=$(uname -r)
gv_log "runsc ${runsc_version:-missing}, $arch, host kernel $host_kernel"

# -- Docker: run the probe container under the runtime, and check from the
# host that the installed runsc ran it: what the image prints can be faked.
docker_pre_error=''
docker_rc=''
runtime_path=''
sandbox_pid=''
info=''
: >"$tmp/docker.out"
: >"$tmp/docker.err"
if [ "$GV_DOCKER_ENABLED" = true ]; then
  if ! command -v docker >/dev/null 2>&1; then
    docker_pre_error='the docker CLI is not installed'
  elif ! gv_docker_running; then
    docker_pre_error='dockerd is not running'
  else
    # What dockerd really runs for the name (daemon.json may not be what it loaded).
    info=$(gv_timeout 20 docker info --format '{{json .Runtimes}}' 2>/dev/null) || info=''
    if [ -n "$info" ] && words=$(gv_py docker-runtime-words "GVP_INFO=$info" "GVP_RUNTIME=$GV_DOCKER_RUNTIME"); then
      runtime_path=$(printf '%s\n' "$words" | head -n 1)
    fi
    gv_log "running $GV_VERIFY_IMAGE under --runtime=$GV_DOCKER_RUNTIME"
    probe="pulumi-gvisor-verify-${tmp##*.}"
    docker_rc=0
    # Detached, so the host can look at its processes while it runs; it
    # prints, then waits at most 30 s (--rm removes it even if we die).
    # The probe's $(...) must reach the container's shell unexpanded.
    # shellcheck disable=SC2016
    gv_timeout 180 docker run -d --rm --name "$probe" --network=none --runtime="$GV_DOCKER_RUNTIME" "$GV_VERIFY_IMAGE" \
      sh -c 'uname -r; if head -c1 /proc/kallsyms >/dev/null 2>&1 && [ -n "$(head -c1 /proc/kallsyms 2>/dev/null)" ]; then echo kallsyms=visible; else echo kallsyms=hidden; fi; echo probe-end; sleep 30' \
      >"$tmp/docker.cid" 2>"$tmp/docker.err" </dev/null || docker_rc=$?
    if [ "$docker_rc" = 0 ]; then
      cid=$(head -n 1 "$tmp/docker.cid")
      sandbox_pid=$(gv_py runsc-process "GVP_CID=$cid" "GVP_RUNSC_PATH=$runsc" "GVP_DIR=$GV_INSTALL_DIR") || sandbox_pid=''
      n=0
      while [ "$n" -lt 20 ]; do
        gv_timeout 20 docker logs "$cid" >"$tmp/docker.out" 2>>"$tmp/docker.err" </dev/null || true
        ! grep -q '^probe-end$' "$tmp/docker.out" || break
        n=$((n + 1))
        sleep 1
      done
    fi
    gv_timeout 30 docker rm -f "$probe" >/dev/null 2>&1 </dev/null || true
  fi
fi

# dockerd rarely passes on why a runtime failed to start: when the container
# did not start, run the runtime as dockerd has it with --version, which names
# a flag it does not know ("flag provided but not defined: -bogus").
docker_diag=''
if [ -n "$docker_rc" ] && [ "$docker_rc" != 0 ]; then
  if [ -n "$info" ] && words=$(gv_py docker-runtime-words "GVP_INFO=$info" "GVP_RUNTIME=$GV_DOCKER_RUNTIME"); then
    set --
    while IFS= read -r w; do
      if [ -n "$w" ]; then set -- "$@" "$w"; fi
    done <<EOF
$words
EOF
    case $1 in
      /*)
        if [ -x "$1" ]; then
          if ! out=$(gv_timeout 20 "$@" --version 2>&1 </dev/null); then
            docker_diag=$(printf '%s\n' "$out" | head -n 1)
          fi
        else
          docker_diag="the runtime binary $1 does not exist or is not executable"
        fi
        ;;
    esac
  fi
fi

# -- containerd: the runtime must be in the effective config
ctd_version=''
ctd_error=''
if [ "$GV_CONTAINERD_ENABLED" = true ]; then
  cfg=$GV_CONTAINERD_CONFIG
  if ! command -v containerd >/dev/null 2>&1; then
    ctd_error='containerd is not installed'
  elif [ ! -f "$cfg" ]; then
    ctd_error="$cfg does not exist"
  else
    ctd_version=$(gv_py containerd-inspect "GVP_CONFIG=$cfg" | sed -n 's/^version=//p')
    [ "$ctd_version" != none ] || ctd_version=''
    if ! gv_containerd_dump "$cfg" "$tmp/dump.toml" 2>"$tmp/dump.msg"; then
      ctd_error="$cfg does not load: $(head -n 1 "$tmp/dump.msg")"
    else
      check=$(gv_py containerd-dump-check "GVP_DUMP=$tmp/dump.toml" "GVP_RUNTIME=$GV_CONTAINERD_RUNTIME")
      rtype=$(printf '%s\n' "$check" | sed -n 's/^runtime_type=//p')
      if [ "$(printf '%s\n' "$check" | sed -n 's/^found=//p')" != 1 ]; then
        ctd_error="runtime $GV_CONTAINERD_RUNTIME is not in the config containerd loads from $cfg"
      elif [ "$rtype" != io.containerd.runsc.v1 ]; then
        ctd_error="runtime $GV_CONTAINERD_RUNTIME has runtime_type '${rtype}', not io.containerd.runsc.v1"
      elif [ ! -f "$GV_RUNSC_TOML_PATH" ]; then
        ctd_error="$GV_RUNSC_TOML_PATH does not exist"
      elif [ ! -x "$GV_INSTALL_DIR/containerd-shim-runsc-v1" ]; then
        ctd_error="containerd-shim-runsc-v1 is not installed in $GV_INSTALL_DIR"
      fi
    fi
    # A containerd started before the file was written has not loaded the runtime.
    if [ -z "$ctd_error" ] && gv_containerd_restart_required "$cfg"; then
      ctd_error="the running containerd started before $cfg was last written, so it has not loaded the runtime; restart containerd"
    fi
  fi
fi

doc_rc=0
gv_py verify-doc \
  "GVP_RUNSC_VERSION=$runsc_version" "GVP_RUNSC_PATH=$runsc" "GVP_ARCH=$arch" "GVP_HOST_KERNEL=$host_kernel" \
  "GVP_DOCKER_ENABLED=$GV_DOCKER_ENABLED" "GVP_DOCKER_RUNTIME=$GV_DOCKER_RUNTIME" \
  "GVP_DOCKER_PRE_ERROR=$docker_pre_error" "GVP_DOCKER_RC=$docker_rc" \
  "GVP_DOCKER_OUT=$tmp/docker.out" "GVP_DOCKER_ERR=$tmp/docker.err" "GVP_DOCKER_DIAG=$docker_diag" \
  "GVP_DOCKER_RUNTIME_PATH=$runtime_path" "GVP_DOCKER_SANDBOX_PID=$sandbox_pid" \
  "GVP_CTD_ENABLED=$GV_CONTAINERD_ENABLED" "GVP_CTD_RUNTIME=$GV_CONTAINERD_RUNTIME" \
  "GVP_CTD_VERSION=$ctd_version" "GVP_CTD_ERROR=$ctd_error" \
  >"$tmp/doc.json" || doc_rc=$?
case $doc_rc in
  0 | 1) ;;
  *) gv_die "could not build the verification document" "see the python error above and re-run" ;;
esac
cat "$tmp/doc.json" >&3

if [ "$doc_rc" -eq 0 ]; then
  gv_log "isolated: every enabled check passed"
  exit 0
fi
first=$(gv_py first-failure "GVP_FILE=$tmp/doc.json")
if [ "$GV_VERIFY_ENFORCE" = true ]; then
  gv_die "this host is not isolated: $first" "fix that and re-run (or set verify enforcement off to only report)"
fi
gv_warn "not isolated: $first"
