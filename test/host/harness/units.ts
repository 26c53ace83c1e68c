/**
 * What a nspawn host gets on top of its Debian root filesystem before it
 * boots: systemd drop-ins that keep Debian's own units (docker.service,
 * docker.socket, containerd.service, ssh.service) but point their logs at
 * files the harness reads, put dockerd and containerd in a network namespace
 * of the host's own, and give sshd the harness's config and port.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { shQuote } from "./proc";
import { SSHD_DIR } from "./sshd";

/** Inside the host: the machine's `<dir>/logs`, bind-mounted. */
export const HOST_LOG_DIR = "/var/log/gvtest";
/** The daemons' network namespace, made at boot by gvtest-netns.service. */
const DAEMON_NETNS = "/run/netns/gvtest-daemons";

/**
 * `nsenter --net` rather than PrivateNetwork=/NetworkNamespacePath=: those
 * give each unit its own mount namespace too, and containerd then cannot see
 * the rootfs mounts dockerd makes (every container fails with "executable
 * file not found"). nsenter execs, so MAINPID is still dockerd.
 */
const inDaemonNetns = `/usr/bin/nsenter --net=${DAEMON_NETNS} --`;

const logTo = (name: string) => [`StandardOutput=append:${HOST_LOG_DIR}/${name}.log`, `StandardError=append:${HOST_LOG_DIR}/${name}.log`];

const NETNS_UNIT = `[Unit]
Description=Network namespace of the test host's daemons (they must not touch the machine's network)
DefaultDependencies=no
Before=containerd.service docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'ip netns add ${path.basename(DAEMON_NETNS)} && ip -n ${path.basename(DAEMON_NETNS)} link set lo up'
ExecStop=/usr/sbin/ip netns delete ${path.basename(DAEMON_NETNS)}
`;

const needsNetns = ["[Unit]", "Requires=gvtest-netns.service", "After=gvtest-netns.service"];

/**
 * Debian's ExecStart plus what a test host needs: no bridge, no iptables, no
 * ip_forward (/proc/sys is read-only under nspawn; dockerd 26 refuses to start
 * when it cannot write it).
 */
const DOCKER_DROPIN = [
  ...needsNetns,
  "",
  "[Service]",
  "ExecStart=",
  `ExecStart=${inDaemonNetns} /usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --bridge=none --iptables=false --ip6tables=false --ip-forward=false $DOCKER_OPTS`,
  ...logTo("dockerd"),
  "",
].join("\n");

const CONTAINERD_DROPIN = [...needsNetns, "", "[Service]", "ExecStart=", `ExecStart=${inDaemonNetns} /usr/bin/containerd`, ...logTo("containerd"), ""].join(
  "\n",
);

const sshDropin = (port: number) =>
  [
    "[Service]",
    "ExecStartPre=",
    `ExecStartPre=/usr/sbin/sshd -t -f ${SSHD_DIR}/sshd_config`,
    "ExecStart=",
    `ExecStart=/usr/sbin/sshd -D -e -f ${SSHD_DIR}/sshd_config -o ListenAddress=127.0.0.1 -o Port=${port}`,
    "ExecReload=",
    "ExecReload=/bin/kill -HUP $MAINPID",
    ...logTo("sshd"),
    "",
  ].join("\n");

/** Units that only slow a short-lived host down or fail under nspawn (no kernel modules to load). */
const MASKED = [
  "systemd-modules-load.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "dpkg-db-backup.timer",
  "fstrim.timer",
  "e2scrub_all.timer",
  "getty@tty1.service",
];

export interface UnitSeed {
  sshPort: number;
  docker: boolean;
  containerd: boolean;
  hostname: string;
}

/** Writes the files copied over the host's root before it boots (`seedRoot` mirrors /). */
export function writeUnitSeed(seedRoot: string, s: UnitSeed): void {
  const unitDir = path.join(seedRoot, "etc/systemd/system");
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(unitDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(unitDir, rel), text);
  };
  write("gvtest-netns.service", NETNS_UNIT);
  write("docker.service.d/gvtest.conf", DOCKER_DROPIN);
  write("containerd.service.d/gvtest.conf", CONTAINERD_DROPIN);
  write("ssh.service.d/gvtest.conf", sshDropin(s.sshPort));
  for (const u of MASKED) fs.symlinkSync("/dev/null", path.join(unitDir, u));
  fs.writeFileSync(path.join(seedRoot, "etc/hostname"), `${s.hostname}\n`);
  // sudo looks its own host name up: without this line it warns on stderr.
  fs.writeFileSync(path.join(seedRoot, "etc/hosts"), `127.0.0.1\tlocalhost\n127.0.1.1\t${s.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
}

/**
 * Runs on the machine after the overlay is mounted, before nspawn ($1 host
 * dir, $2 the host's root). The same "fresh machine" promises as the
 * bookworm host's LAYOUT_SCRIPT: empty /etc/docker and /etc/containerd (the
 * packaged config.toml removed), no state of ours, seeds copied in.
 */
export function prepareScript(s: UnitSeed, sshdAndUsers: string): string {
  const disable = [
    ...(s.docker ? [] : ["multi-user.target.wants/docker.service", "sockets.target.wants/docker.socket"]),
    ...(s.docker || s.containerd ? [] : ["multi-user.target.wants/containerd.service"]),
  ];
  return String.raw`
H=$1 R=$2
cp -a "$H/seed/root/." "$R/"
${disable.map((l) => `rm -f "$R/etc/systemd/system/${l}"`).join("\n")}
rm -rf "$R/etc/docker" "$R/etc/containerd" "$R/var/lib/pulumi-gvisor" "$R/root"
# A stock root account: Debian's dotfiles (base-files) only.
mkdir -m 0700 "$R/root"
for f in bashrc profile; do cp "$R/usr/share/base-files/dot.$f" "$R/root/.$f"; done
mkdir -p "$R/etc/docker" "$R/etc/containerd" "$R/var/lib/docker" "$R/var/lib/containerd" "$R${HOST_LOG_DIR}"
if [ -f "$H/seed/daemon.json" ]; then cp "$H/seed/daemon.json" "$R/etc/docker/daemon.json"; fi
if [ -f "$H/seed/containerd-config.toml" ]; then cp "$H/seed/containerd-config.toml" "$R/etc/containerd/config.toml"; fi
# sshd's files and the users, made with the host's own tools.
mkdir -p "$R/.gvtest"
cp -a "$H/seed" "$R/.gvtest/seed"
chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin H=/.gvtest sh -euc ${shQuote(sshdAndUsers)}
rm -rf "$R/.gvtest"
`;
}
