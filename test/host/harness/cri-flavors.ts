/**
 * The containerds the CRI test (test/host/cri-runtime-class.test.ts) proves,
 * each on the test host flavor whose own package it is. vitest.config.mts
 * reads this too: the file runs only in those flavors' host projects, so
 * each case runs once.
 */
import type { FlavorName } from "./flavors";

export interface CriContainerd {
  name: string;
  /** The flavor whose host runs it (its own package, started its own way). */
  flavor: FlavorName;
  /** The Kubernetes version whose config form it reads: v3 (1.33+) for containerd 2, v2 before. */
  kubernetesVersion: string;
  /** What `containerd --version` must say. */
  version: RegExp;
}

export const CRI_FLAVOR_CONTAINERDS: readonly CriContainerd[] = [
  { name: "containerd 1.6 (bookworm host)", flavor: "bookworm", kubernetesVersion: "1.32", version: / v?1\.6\./ },
  { name: "containerd 2.1 (sid host, containerd.service under systemd)", flavor: "sid", kubernetesVersion: "1.33", version: / v?2\.1\./ },
];

/** Whether the CRI test has a case for `flavor`. */
export const hasCriCase = (flavor: FlavorName): boolean => CRI_FLAVOR_CONTAINERDS.some((c) => c.flavor === flavor);
