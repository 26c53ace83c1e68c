/**
 * The hand-written routine from the usual guides (seed-gvisor-guide.txt):
 * download the release and its .sha512, `sha512sum -c`, put the binaries in
 * /usr/local/bin, add runsc to daemon.json with a JSON tool, restart Docker,
 * run one sandboxed container. Updated to today's archive layout (the loose
 * `runsc` files the guide fetches are 404 for current releases), and run
 * from the same mirror as the package, so both do the same work.
 */
import { shQuote } from "../test/host/harness/proc";

export interface HandWrittenInput {
  /** `${mirror}/release/<version>`: the release URL without the arch. */
  releaseUrl: string;
  /** `archive` (gvisor.tar.bz2, releases after 20260817.0) or `loose` (runsc and the shim as files, the guide's own). */
  layout: "archive" | "loose";
  /** runtimeArgs the guide puts in daemon.json. */
  runtimeArgs: readonly string[];
  image: string;
}

/** Download, check, unpack and move into place (the guide's step 1). */
export function handInstall(input: HandWrittenInput): string {
  const fetch =
    input.layout === "archive"
      ? [
          'curl -fsSLO "$URL/gvisor.tar.bz2" -O "$URL/gvisor.tar.bz2.sha512"',
          "sha512sum -c gvisor.tar.bz2.sha512 >/dev/null",
          "tar -xjf gvisor.tar.bz2",
          "rm -rf /usr/local/bin/gvisor-bin && mv gvisor-bin /usr/local/bin/",
        ]
      : [
          'curl -fsSLO "$URL/runsc" -O "$URL/runsc.sha512" -O "$URL/containerd-shim-runsc-v1" -O "$URL/containerd-shim-runsc-v1.sha512"',
          "sha512sum -c runsc.sha512 containerd-shim-runsc-v1.sha512 >/dev/null",
        ];
  return [
    "set -e",
    `URL=${shQuote(input.releaseUrl)}/$(uname -m)`,
    'work=$(mktemp -d) && cd "$work"',
    ...fetch,
    "chmod a+rx runsc containerd-shim-runsc-v1",
    "mv runsc containerd-shim-runsc-v1 /usr/local/bin/",
    'cd / && rm -rf "$work"',
  ].join("\n");
}

/** Register runsc in daemon.json with jq (the guide's step 2, before its restart). */
export function handConfigure(input: HandWrittenInput): string {
  const entry = JSON.stringify({ path: "/usr/local/bin/runsc", runtimeArgs: input.runtimeArgs });
  return [
    "set -e",
    "f=/etc/docker/daemon.json",
    'mkdir -p /etc/docker && { [ -s "$f" ] || echo "{}" > "$f"; }',
    `jq --argjson e ${shQuote(entry)} '.runtimes.runsc = $e' "$f" > "$f.tmp" && mv "$f.tmp" "$f"`,
  ].join("\n");
}

/** Undo step 2 (what a guide's uninstall does before restarting Docker). */
export function handUnconfigure(): string {
  return [
    "set -e",
    "f=/etc/docker/daemon.json",
    `jq 'del(.runtimes.runsc)' "$f" > "$f.tmp" && mv "$f.tmp" "$f"`,
    "rm -rf /usr/local/bin/runsc /usr/local/bin/containerd-shim-runsc-v1 /usr/local/bin/gvisor-bin",
  ].join("\n");
}

/** The guide's restart, as a systemd host runs it (the bench restarts the test host's dockerd itself). */
export const HAND_RESTART = "systemctl restart docker";

/** The guide's check: one sandboxed container that prints its kernel. */
export function handVerify(input: HandWrittenInput): string {
  return `docker run --rm --network=none --runtime=runsc ${shQuote(input.image)} uname -r`;
}

/** Register runsc with containerd 1.x (config v2) and restart it, as the guides do. */
export function handConfigureContainerd(): string {
  return [
    "set -e",
    "f=/etc/containerd/config.toml",
    "grep -q 'runtimes.runsc]' \"$f\" 2>/dev/null || cat >> \"$f\" <<'EOF'",
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]',
    '  runtime_type = "io.containerd.runsc.v1"',
    "EOF",
    "systemctl restart containerd",
  ].join("\n");
}

/**
 * The routine as one script a user uploads once and calls by section (`sh
 * gvisor-setup.sh install`): what the program-scale baseline copies to each
 * host, so it has the package's shape (one upload, short commands).
 */
export function handScript(input: HandWrittenInput): string {
  const section = (name: string, body: string) => [`${name})`, body, ";;"].join("\n");
  return [
    "#!/bin/sh",
    "set -e",
    'case "$1" in',
    section("engine", "apt-get update && apt-get install -y docker.io jq curl"),
    section("install", handInstall(input)),
    section("configure-docker", `${handConfigure(input)}\n${HAND_RESTART}`),
    section("configure-containerd", handConfigureContainerd()),
    section("verify", handVerify(input)),
    section("uninstall", `${handUnconfigure()}\n${HAND_RESTART}`),
    '*) echo "usage: gvisor-setup.sh engine|install|configure-docker|configure-containerd|verify|uninstall" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}
