/**
 * The file-system view of a test host: the shell script, run once inside the
 * fresh mount namespace, that makes it look like a machine of its own.
 *
 * Design: rather than masking a hand-picked list of paths, every system tree
 * a step could write to (/etc, /usr, /var) is a copy-on-write overlay whose
 * lower layer is the real tree. The host sees the real
 * machine's installed packages (sshd, dockerd, runsc, sudo, users) but every
 * write, including deletes, lands in a per-host upper dir, so nothing a step
 * does (even `rm -rf /var/lib/pulumi-gvisor` or editing /etc/sudoers) can reach
 * the real machine. On top of that, the paths this project's steps care about
 * start empty, as on a fresh machine.
 */

/** Trees overlaid copy-on-write. "/" itself stays shared (pivoting would need /proc and /sys rebuilt); /dev is private (below). */
export const COW_TREES = ["etc", "usr", "var"] as const;

/**
 * Trees that start empty, as on a fresh machine: the real /root's dotfiles
 * (pyenv, cargo, tokens) must not shape or leak into what a step sees.
 */
export const FRESH_TREES = ["root", "home", "opt"] as const;

/**
 * Positional parameters: $1 = the host's working dir on the real machine,
 * which holds `cow/`, `data/` and the files to seed in `seed/`.
 */
export const LAYOUT_SCRIPT = String.raw`
H=$1
for t in ${COW_TREES.join(" ")}; do
  [ -d "/$t" ] || continue
  mkdir -p "$H/cow/$t/upper" "$H/cow/$t/work"
  mount -t overlay "gvtest-$t" -o "lowerdir=/$t,upperdir=$H/cow/$t/upper,workdir=$H/cow/$t/work" "/$t"
done

for t in ${FRESH_TREES.join(" ")}; do
  mount -t tmpfs -o mode=0755 "gvtest-$t" "/$t"
done
chmod 0700 /root
# Debian's stock root dotfiles (base-files), not this machine's.
for f in bashrc profile; do
  if [ -f "/usr/share/base-files/dot.$f" ]; then cp "/usr/share/base-files/dot.$f" "/root/.$f"; fi
done

# A private /dev with fresh device nodes, never the machine's: sandboxes on
# a host that shared it were seen turning the machine's /dev/null into
# 0600 nobody. Its own devpts instance and shm too.
mount -t tmpfs -o mode=0755,nosuid gvtest-dev /dev
gv_node() { mknod -m "$4" "/dev/$1" c "$2" "$3"; }
gv_node null 1 3 666; gv_node zero 1 5 666; gv_node full 1 7 666
gv_node random 1 8 666; gv_node urandom 1 9 666; gv_node tty 5 0 666
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 gvtest-devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev gvtest-shm /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr

# /run (and /var/run, a symlink to it) starts empty, as after a boot.
mount -t tmpfs -o mode=0755,nosuid,nodev gvtest-run /run
mkdir -p /run/lock /run/sshd
chmod 1777 /run/lock

# No runsc, no docker 28 client: /usr/local/bin starts empty.
mount -t tmpfs -o mode=0755 gvtest-bin /usr/local/bin

# Daemon data dirs cannot live on overlayfs (docker's overlay2 and
# containerd's snapshotter refuse to nest on it): bind real per-host dirs.
# The mount points are created inside the /var overlay, not on the real disk.
for d in docker containerd; do
  mkdir -p "$H/data/$d" "/var/lib/$d"
  mount --bind "$H/data/$d" "/var/lib/$d"
done

# Start like a machine that has docker.io and containerd installed and was
# never configured: empty /etc/docker and /etc/containerd, no state of ours.
rm -rf /etc/docker /etc/containerd /var/lib/pulumi-gvisor
mkdir -p /etc/docker /etc/containerd
if [ -f "$H/seed/daemon.json" ]; then cp "$H/seed/daemon.json" /etc/docker/daemon.json; fi
if [ -f "$H/seed/containerd-config.toml" ]; then cp "$H/seed/containerd-config.toml" /etc/containerd/config.toml; fi
`;

/** Runs last: hides the real /tmp (and with it the seed files) behind a fresh one. */
export const PRIVATE_TMP_SCRIPT = String.raw`
mount -t tmpfs -o mode=1777,nosuid,nodev gvtest-tmp /tmp
`;
