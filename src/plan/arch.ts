import { check, show } from "./errors";

/** CPU architectures gVisor publishes, in the names users write. */
export const Arch = {
  /** Intel and AMD (EC2 t3, m7i, c7a, …). */
  X86_64: "x86_64",
  /** 64-bit ARM (EC2 Graviton: t4g, m7g, c8g, …). 4 KiB-page kernels only. */
  Arm64: "arm64",
} as const;
export type Arch = (typeof Arch)[keyof typeof Arch];

/** The directory name gVisor's release bucket uses for an arch: what `uname -m` prints. */
export type GvisorArch = "x86_64" | "aarch64";

const ALIASES: Record<string, Arch> = {
  x86_64: "x86_64",
  amd64: "x86_64",
  arm64: "arm64",
  aarch64: "arm64",
};

/** Parses an arch as users write it (`x86_64`, `amd64`, `arm64`, `aarch64`). */
export function parseArch(value: unknown, property: string): Arch {
  check(
    typeof value === "string" && value in ALIASES,
    property,
    `must be "x86_64" or "arm64" (aliases: "amd64", "aarch64"), got ${show(value)}`,
  );
  return ALIASES[value];
}

/** The bucket directory (= `uname -m`) for an arch. */
export function gvisorArch(arch: Arch): GvisorArch {
  return arch === "arm64" ? "aarch64" : "x86_64";
}
