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
# - sandbox cost (only when GV_VERIFY_OVERHEAD_ROUNDS is set, N >= 1): N rounds
#   of one container under runc and one under the runtime, in alternating
#   order, each timed from the host: start (docker run to the container's first
#   line), a syscall-heavy part (dd of 1-byte blocks, /dev/zero to /dev/null)
#   and a file-heavy part (create, list, read and remove small files in the
#   container's root file system). Medians in ms, and runsc/runc ratios, go in
#   "overhead" beside the platform the sandbox ran on. A failure to measure is
#   reported there and never fails the step. containerd is checked at config
#   level only, so it gets no figures.
# Changes nothing on the host (apart from the probe container, removed after).
#
# stdout: exactly one JSON document:
#   {"schemaVersion":2,"runscVersion":...,"arch":...,"hostKernel":...,
#    "runtimes":[{"engine":"docker","name":...,"ran":...,"sandboxKernel":...,
#                 "kallsymsHidden":...,"runtimePath":...,"sandboxProcess":...,
#                 "error":...}],
#    "containerd":{"enabled":true,"configVersion":N,"runtimeConfigured":...}|null,
#    "isolated":true|false,"failures":["<engine>/<runtime>: <sentence>", ...]}
#   With the sandbox cost measured, schemaVersion is 3 and the document ends
#   with "overhead":[{"engine":"docker","runtime":...,"baseline":"runc",
#     "platform":...,"rounds":N,"sandboxed":{"startMs":...,"syscallMs":...,
#     "fileMs":...}|null,"native":{...}|null,"ratios":{"start":...,
#     "syscall":...,"file":...}|null,"error":...|null}, ...]
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
# Unset (the default): the sandbox cost is not measured.
overhead_rounds=${GV_VERIFY_OVERHEAD_ROUNDS:-}
case $overhead_rounds in
  '' | [1-9] | [1-9][0-9]) ;;
  *) gv_die "GV_VERIFY_OVERHEAD_ROUNDS must be a number of rounds from 1 to 99, got '$overhead_rounds'" "fix the plan's verify.overheadRounds" ;;
esac
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

# -- Sandbox cost (opt-in): the same short workload under runc and under the
# runtime, timed from the host, so users see what gVisor costs on this host.
# The container prints a line as each part ends; the host stamps the lines.
# The workload's $... must reach the container's shell unexpanded.
# shellcheck disable=SC2016
overhead_workload='echo gv-started
dd if=/dev/zero of=/dev/null bs=1 count=20000 2>/dev/null || exit 71
echo gv-syscalls
d=/.gv-overhead.$$
mkdir "$d" && cd "$d" || exit 72
for i in $(seq 1 200); do echo x >"f$i" || exit 73; done
ls -l >/dev/null && cat ./f* >/dev/null && rm -f ./f* || exit 74
echo gv-files'

# overhead_now: nanoseconds on the host clock.
overhead_now() {
  date +%s%N
}

# overhead_run RUNTIME: one timed run; sets overhead_start, overhead_syscall
# and overhead_file (microseconds), or returns 1 with overhead_error set.
overhead_run() {
  name="pulumi-gvisor-overhead-${tmp##*.}"
  t0=$(overhead_now)
  {
    rc=0
    gv_timeout 120 docker run --rm --name "$name" --network=none --runtime="$1" "$GV_VERIFY_IMAGE" sh -c "$overhead_workload" \
      2>"$tmp/overhead.err" </dev/null || rc=$?
    echo "gv-exit $rc"
  } | while IFS= read -r line; do
    printf '%s %s\n' "$(overhead_now)" "$line"
  done >"$tmp/overhead.stamps"
  rc=$(sed -n 's/^[0-9]* gv-exit //p' "$tmp/overhead.stamps")
  if [ "$rc" != 0 ]; then
    # A timed-out CLI leaves its container running.
    gv_timeout 30 docker rm -f "$name" >/dev/null 2>&1 </dev/null || true
    overhead_error="the workload container under --runtime=$1 failed (exit ${rc:-unknown}): $(head -n 1 "$tmp/overhead.err")"
    return 1
  fi
  t1=$(sed -n 's/ gv-started$//p' "$tmp/overhead.stamps")
  t2=$(sed -n 's/ gv-syscalls$//p' "$tmp/overhead.stamps")
  t3=$(sed -n 's/ gv-files$//p' "$tmp/overhead.stamps")
  case "$t1 $t2 $t3" in
    *[!0-9\ ]* | ' '* | *'  '* | *' ')
      overhead_error="the workload container under --runtime=$1 did not print its progress lines"
      return 1
      ;;
  esac
  overhead_start=$(((t1 - t0) / 1000))
  overhead_syscall=$(((t2 - t1) / 1000))
  overhead_file=$(((t3 - t2) / 1000))
}

# overhead_median US...: the median of microsecond figures.
overhead_median() {
  n=$#
  sorted=$(printf '%s\n' "$@" | sort -n)
  a=$(printf '%s\n' "$sorted" | sed -n "$(((n + 1) / 2))p")
  b=$(printf '%s\n' "$sorted" | sed -n "$((n / 2 + 1))p")
  echo $(((a + b) / 2))
}

# overhead_ms US: microseconds as milliseconds with one decimal (a JSON number).
overhead_ms() {
  printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

# overhead_ratio SANDBOXED NATIVE: SANDBOXED / NATIVE (NATIVE > 0) to two decimals (a JSON number).
overhead_ratio() {
  r=$((($1 * 100 + $2 / 2) / $2))
  printf '%d.%02d' $((r / 100)) $((r % 100))
}

# overhead_platform: the runsc platform the runtime uses: --platform in
# dockerd's runtime args, else runsc's default. (The sandbox's own command
# line names only flags that differ from the defaults, so it tells no more.)
overhead_platform() {
  p=$(printf '%s\n' "${words:-}" | sed -n 's/^--*platform=//p' | tail -n 1)
  if [ -n "$p" ]; then
    gv_log "runsc platform $p (from dockerd's runtime args)"
  elif [ -x "$runsc" ]; then
    p=$("$runsc" flags 2>&1 | sed -n '/^[[:space:]]*-platform[[:space:]]/{n;s/^.*(default "\([a-z0-9]*\)").*$/\1/p;}' | head -n 1) || p=''
    gv_log "runsc platform ${p:-unknown} (runsc's default)"
  fi
  echo "$p"
}

overhead_docker() {
  overhead_error=''
  overhead_times=''
  if [ -n "$docker_pre_error" ] || [ "$docker_rc" != 0 ] || [ -z "$sandbox_pid" ]; then
    overhead_error='not measured: the runtime did not run the probe container under gVisor'
    return 0
  fi
  case $(overhead_now) in
    *[!0-9]* | '')
      overhead_error="not measured: this host's date(1) does not print nanoseconds (date +%N); install GNU coreutils"
      return 0
      ;;
  esac
  gv_log "measuring the sandbox cost: $overhead_rounds rounds under runc and --runtime=$GV_DOCKER_RUNTIME"
  s_start='' s_sys='' s_file='' n_start='' n_sys='' n_file=''
  i=0
  while [ "$i" -lt "$overhead_rounds" ]; do
    # Alternate which runtime goes first, so load that drifts hits both.
    if [ $((i % 2)) = 0 ]; then order="runc $GV_DOCKER_RUNTIME"; else order="$GV_DOCKER_RUNTIME runc"; fi
    for rt in $order; do
      overhead_run "$rt" || return 0
      if [ "$rt" = runc ]; then
        n_start="$n_start $overhead_start" n_sys="$n_sys $overhead_syscall" n_file="$n_file $overhead_file"
      else
        s_start="$s_start $overhead_start" s_sys="$s_sys $overhead_syscall" s_file="$s_file $overhead_file"
      fi
    done
    i=$((i + 1))
  done
  # The lists are space-separated numbers: splitting them is the point.
  # shellcheck disable=SC2086
  {
    ss=$(overhead_median $s_start) sy=$(overhead_median $s_sys) sf=$(overhead_median $s_file)
    ns=$(overhead_median $n_start) ny=$(overhead_median $n_sys) nf=$(overhead_median $n_file)
  }
  if [ "$ns" -le 0 ] || [ "$ny" -le 0 ] || [ "$nf" -le 0 ]; then
    overhead_error="not measured: a part took no measurable time under runc (start ${ns}us, syscalls ${ny}us, files ${nf}us)"
    return 0
  fi
  overhead_times="$ss $sy $sf $ns $ny $nf"
  gv_log "sandbox cost: start $(overhead_ratio "$ss" "$ns")x, syscalls $(overhead_ratio "$sy" "$ny")x, files $(overhead_ratio "$sf" "$nf")x of runc"
}

overhead_doc=''
if [ -n "$overhead_rounds" ]; then
  entries=''
  if [ "$GV_DOCKER_ENABLED" = true ]; then
    overhead_docker
    sandboxed=null native=null ratios=null
    if [ -n "$overhead_times" ]; then
      # Six numbers, space-separated: splitting them is the point.
      # shellcheck disable=SC2086
      set -- $overhead_times
      sandboxed="{\"startMs\":$(overhead_ms "$1"),\"syscallMs\":$(overhead_ms "$2"),\"fileMs\":$(overhead_ms "$3")}"
      native="{\"startMs\":$(overhead_ms "$4"),\"syscallMs\":$(overhead_ms "$5"),\"fileMs\":$(overhead_ms "$6")}"
      ratios="{\"start\":$(overhead_ratio "$1" "$4"),\"syscall\":$(overhead_ratio "$2" "$5"),\"file\":$(overhead_ratio "$3" "$6")}"
    fi
    entries=$(gv_py emit GVE_COUNT=9 GVE_1=engine=docker "GVE_2=runtime=$GV_DOCKER_RUNTIME" GVE_3=baseline=runc \
      "GVE_4=platform=$(overhead_platform)" "GVE_5=rounds:i=$overhead_rounds" "GVE_6=sandboxed:j=$sandboxed" \
      "GVE_7=native:j=$native" "GVE_8=ratios:j=$ratios" "GVE_9=error:s?=$overhead_error")
  fi
  if [ "$GV_CONTAINERD_ENABLED" = true ]; then
    e=$(gv_py emit GVE_COUNT=9 GVE_1=engine=containerd "GVE_2=runtime=$GV_CONTAINERD_RUNTIME" GVE_3=baseline=runc \
      GVE_4=platform= "GVE_5=rounds:i=$overhead_rounds" GVE_6=sandboxed:n= GVE_7=native:n= GVE_8=ratios:n= \
      "GVE_9=error=not measured: verify checks containerd at config level and runs no container through it")
    entries="${entries:+$entries,}$e"
  fi
  overhead_doc="[$entries]"
fi

doc_rc=0
gv_py verify-doc \
  "GVP_RUNSC_VERSION=$runsc_version" "GVP_RUNSC_PATH=$runsc" "GVP_ARCH=$arch" "GVP_HOST_KERNEL=$host_kernel" \
  "GVP_DOCKER_ENABLED=$GV_DOCKER_ENABLED" "GVP_DOCKER_RUNTIME=$GV_DOCKER_RUNTIME" \
  "GVP_DOCKER_PRE_ERROR=$docker_pre_error" "GVP_DOCKER_RC=$docker_rc" \
  "GVP_DOCKER_OUT=$tmp/docker.out" "GVP_DOCKER_ERR=$tmp/docker.err" "GVP_DOCKER_DIAG=$docker_diag" \
  "GVP_DOCKER_RUNTIME_PATH=$runtime_path" "GVP_DOCKER_SANDBOX_PID=$sandbox_pid" \
  "GVP_CTD_ENABLED=$GV_CONTAINERD_ENABLED" "GVP_CTD_RUNTIME=$GV_CONTAINERD_RUNTIME" \
  "GVP_CTD_VERSION=$ctd_version" "GVP_CTD_ERROR=$ctd_error" "GVP_OVERHEAD=$overhead_doc" \
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
