import { RunscFlag, flagWords } from "./runsc-options";
import { tomlString } from "./toml";

/** The runtime entry Docker's daemon.json gets under `runtimes.<name>`. */
export interface DockerRuntimeEntry {
  path: string;
  runtimeArgs: string[];
}

export function dockerRuntimeEntry(runscPath: string, flags: readonly RunscFlag[]): DockerRuntimeEntry {
  return { path: runscPath, runtimeArgs: flagWords(flags) };
}

/** containerd config schema versions and where each keeps CRI runtimes. */
const RUNTIMES_TABLE = {
  // containerd 1.x
  2: 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes',
  // containerd 2.x (version 3, and 4 from 2.3)
  3: 'plugins."io.containerd.cri.v1.runtime".containerd.runtimes',
} as const;

export type ContainerdConfigVersion = keyof typeof RUNTIMES_TABLE;

/**
 * The runtime tables for one containerd config version. A v2 stanza in a v3
 * file is silently ignored by containerd 2, so the caller must pick the form
 * that matches the file (the configure-containerd step does, on the host).
 * `handler` is a DNS label (validated), so it is a valid bare TOML key.
 */
export function containerdRuntimeBlock(
  version: ContainerdConfigVersion,
  handler: string,
  runscTomlPath: string,
): string {
  const table = `${RUNTIMES_TABLE[version]}.${handler}`;
  return [
    `[${table}]`,
    `  runtime_type = "io.containerd.runsc.v1"`,
    `[${table}.options]`,
    `  TypeUrl = "io.containerd.runsc.v1.options"`,
    `  ConfigPath = ${tomlString(runscTomlPath)}`,
    "",
  ].join("\n");
}

/**
 * runsc.toml for the containerd shim. Every `[runsc_config]` value is a
 * quoted string: the shim reads a string map, and a bare bool or int there
 * breaks container creation.
 */
export function runscToml(runscPath: string, flags: readonly RunscFlag[]): string {
  const lines = [
    "# Written by pulumi-gvisor: options of the containerd runsc shim.",
    `binary_name = ${tomlString(runscPath)}`,
    "",
    "[runsc_config]",
    // Flag names are [a-z0-9_-] (validated): valid bare TOML keys.
    ...flags.map((f) => `  ${f.name} = ${tomlString(f.value)}`),
    "",
  ];
  return lines.join("\n");
}
