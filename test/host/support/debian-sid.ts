/**
 * Parts from Debian sid for tests on today's bookworm machine: bookworm has no
 * cri-api package and only containerd 1.6.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cached } from "../harness/cache";

/**
 * Debian sid packages, fetched with apt into a private state dir (the
 * machine's sources and lists are left alone) and unpacked with dpkg-deb,
 * never installed. Cached on disk; returns the unpacked root.
 */
export function sidPackages(packages: readonly string[]): Promise<string> {
  return cached(`sid-debs-${packages.join("+")}`, async (tmp) => {
    const apt = path.join(tmp, "apt");
    for (const d of ["lists/partial", "cache/archives/partial", "etc"]) fs.mkdirSync(path.join(apt, d), { recursive: true });
    fs.writeFileSync(
      path.join(apt, "etc/sources.list"),
      "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main\n",
    );
    const o = [
      `-o=Dir::Etc::sourcelist=${apt}/etc/sources.list`,
      "-o=Dir::Etc::sourceparts=-",
      `-o=Dir::State::Lists=${apt}/lists`,
      `-o=Dir::Cache=${apt}/cache`,
      "-o=Acquire::Check-Valid-Until=false",
      "-o=APT::Sandbox::User=root",
    ];
    execFileSync("apt-get", [...o, "update"], { stdio: "pipe", timeout: 300_000 });
    execFileSync("apt-get", [...o, "download", ...packages], { cwd: tmp, stdio: "pipe", timeout: 300_000 });
    for (const deb of fs.readdirSync(tmp).filter((f) => f.endsWith(".deb"))) {
      execFileSync("dpkg-deb", ["-x", path.join(tmp, deb), path.join(tmp, "root")]);
      fs.rmSync(path.join(tmp, deb));
    }
    fs.rmSync(apt, { recursive: true, force: true });
  }).then((dir) => path.join(dir, "root"));
}

/** Puts the /usr/bin programs of sid `packages` into a test host's /usr/local/bin, first on its PATH. */
export async function installSidBinaries(
  host: { writeFile(file: string, content: Buffer, mode?: number): Promise<void> },
  packages: readonly string[],
): Promise<void> {
  const root = await sidPackages(packages);
  for (const bin of fs.readdirSync(path.join(root, "usr/bin"))) {
    await host.writeFile(`/usr/local/bin/${bin}`, fs.readFileSync(path.join(root, "usr/bin", bin)), 0o755);
  }
}
