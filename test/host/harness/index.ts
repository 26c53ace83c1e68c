/**
 * Real-host test harness: fresh, isolated, machine-like hosts reached over
 * real SSH, and a local gVisor release mirror. See README-style comments in
 * test-host.ts, layout.ts and namespace.ts.
 */
export { ensureHostPackages, HOST_PACKAGES } from "./packages";
export { startTestHost, TestHost, shellJoin } from "./test-host";
export { FLAVORS, FLAVOR_NAMES, currentFlavor, selectedFlavors, flavorByName } from "./flavors";
export type { Flavor, FlavorName } from "./flavors";
export { ensureRootfs, ROOTFS_CACHE, ROOTFS_PACKAGES } from "./rootfs";
export type { Rootfs } from "./rootfs";
export type { TestHostOptions, SshInfo, RemoteConnection, RunOptions, FileStat } from "./test-host";
export { sshRun, keyBlob } from "./ssh-client";
export type { SshTarget, SshRunOptions } from "./ssh-client";
export type { ReloadResult } from "./dockerd";
export { startMirror } from "./mirror/server";
export type { Mirror, MirrorRequest } from "./mirror/server";
export { FIXTURE_VERSIONS, FIXTURE_ARCH, FIXTURE_ALIASES, PLACEHOLDER_SHIM, SIDECAR_NAME, sha512 } from "./mirror/fixtures";
export type { MirrorFixtures } from "./mirror/fixtures";
export { BUSYBOX_IMAGE, SSH_USERS, TEST_USER, BASE_DIR } from "./constants";
export type { SshUser } from "./constants";
export type { CommandResult } from "./proc";
export { shQuote } from "./proc";
