/**
 * The short step commands and the bundle they call, run for real on plain
 * files: the bootstrap's refusals, the owner record, and the delete's
 * decisions. No root needed: the state dir is a temp dir and the command's
 * inner script runs with sh directly.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildHostPlan } from "../../src/plan/host-plan";
import { BUNDLED_STEPS, bundleUploadPath, stepBundle } from "../../src/scripts/bundle";
import { BundleRef, OwnerRef, STEP_COMMAND, renderAdoptInvocation, renderReleaseInvocation, renderStepInvocation } from "../../src/scripts/invocation";
import { renderStepBody } from "../../src/scripts/render";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gv-invocation-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plan = () => ({ ...buildHostPlan({ version: "20261005.0" }), stateDir: join(dir, "state") });
const owner = (id = "a".repeat(32)): OwnerRef => ({ id, urn: "urn:pulumi:dev::proj::pulumi-gvisor:index:Host::sandbox" });

function upload(text = stepBundle().text): BundleRef {
  const uploadPath = join(dir, "upload.sh");
  writeFileSync(uploadPath, text);
  return { id: stepBundle().id, uploadPath, resourceName: "sandbox-bundle" };
}

/** The root script inside a heredoc-form command, or a step's body inside its stdin script. */
function inner(command: string): string {
  const m = /(?:gv_script|gv_body)=\$\(cat <<'PULUMI_GVISOR_STEP'\n([\s\S]*?)\nPULUMI_GVISOR_STEP\n\)/.exec(command);
  if (!m) throw new Error("no inner script");
  return m[1]!;
}

/** Runs a root script the way the command runs it (sh -c), as this user, from `cwd` (an SSH command starts in the login's home). */
function runScript(script: string, cwd = dir) {
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const run = (command: string) => runScript(inner(command));

describe("step bundle", () => {
  it("unpacks into exactly the step bodies that user data embeds", () => {
    const file = join(dir, "bundle.sh");
    writeFileSync(file, stepBundle().text);
    const out = join(dir, "out");
    execFileSync("mkdir", [out]);
    execFileSync("sh", [file, out]);
    expect(readdirSync(out).sort()).toEqual(BUNDLED_STEPS.map((s) => `${s}.sh`).sort());
    for (const step of BUNDLED_STEPS) expect(readFileSync(join(out, `${step}.sh`), "utf8")).toBe(renderStepBody(step).trimEnd() + "\n");
  });

  it("is named by the sha256 of its text", () => {
    const sum = execFileSync("sha256sum", { input: stepBundle().text, encoding: "utf8" }).split(" ")[0];
    expect(stepBundle().id).toBe(sum);
  });
});

describe("step commands", () => {
  it("are valid POSIX sh and shellcheck clean", () => {
    const step = renderStepInvocation(
      buildHostPlan({}),
      "configure-docker",
      { id: stepBundle().id, uploadPath: "/var/tmp/x.sh", resourceName: "h-bundle" },
      { notes: ["runs after: 0123456789ab"], extra: { GV_REPAIR: "it's $(reboot)" } },
    );
    expect(step.create).toBe(STEP_COMMAND);
    for (const script of [STEP_COMMAND, step.stdin, inner(step.stdin)]) {
      execFileSync("sh", ["-n"], { input: script });
      const r = spawnSync("shellcheck", ["-s", "sh", "-S", "warning", "-"], { input: script, encoding: "utf8" });
      expect(r.stdout).toBe("");
    }
    const texts = [
      renderAdoptInvocation(buildHostPlan({}), owner()),
      renderReleaseInvocation(buildHostPlan({}), { id: stepBundle().id, uploadPath: "/var/tmp/x.sh", resourceName: "h-bundle" }, owner()),
    ];
    for (const text of texts) {
      execFileSync("sh", ["-n"], { input: text });
      for (const script of [text, inner(text)]) {
        const r = spawnSync("shellcheck", ["-s", "sh", "-S", "warning", "-"], { input: script, encoding: "utf8" });
        expect(r.stdout).toBe("");
        expect(r.status).toBe(0);
      }
    }
  });

  it("carry a user value only as a quoted assignment", () => {
    const text = renderStepInvocation(
      buildHostPlan({}),
      "verify",
      { id: stepBundle().id, uploadPath: "/var/tmp/x.sh", resourceName: "h-bundle" },
      { extra: { GV_REPAIR: "x'; touch /tmp/pwned; '" } },
    ).stdin;
    expect(text).toContain("GV_REPAIR='x'\\''; touch /tmp/pwned; '\\'''");
  });

  it("refuse a value that would end the command's heredoc", () => {
    expect(() =>
      renderStepInvocation(buildHostPlan({}), "verify", { id: "0", uploadPath: "/x", resourceName: "r" }, { extra: { GV_REPAIR: "a\nPULUMI_GVISOR_STEP\nb" } }),
    ).toThrow(/renders as the line PULUMI_GVISOR_STEP/);
  });

  it("unpack the upload once, after checking its sha256; root keeps the copy", () => {
    const bundle = upload();
    const probe = (b: BundleRef) =>
      runScript(renderStepInvocation(plan(), "install", b).stdin.replace('. "$gv_store/install.sh"', 'echo "ran from $gv_store"'));
    const first = probe(bundle);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(`ran from ${join(dir, "state", "bundles", bundle.id)}`);
    expect(existsSync(join(dir, "state", "bundles", bundle.id, ".complete"))).toBe(true);
    // The bundle is kept by root: a later run needs no upload.
    rmSync(bundle.uploadPath);
    expect(probe(bundle).code).toBe(0);
  });

  it("find a relative upload in the directory the command starts in (the login's home), and drop older uploads there once unpacked", () => {
    const home = join(dir, "home");
    execFileSync("mkdir", [home]);
    const name = bundleUploadPath(stepBundle().id, "ubuntu");
    expect(name).toMatch(/^\.pulumi-gvisor-bundle-ubuntu-[0-9a-f]{16}\.sh$/);
    writeFileSync(join(home, name), stepBundle().text);
    // An earlier bundle this machine unpacked, and one only another machine sharing the home did.
    writeFileSync(join(home, ".pulumi-gvisor-bundle-ubuntu-0123456789abcdef.sh"), "# an earlier bundle's upload\n");
    execFileSync("mkdir", ["-p", join(dir, "state", "bundles", `0123456789abcdef${"0".repeat(48)}`)]);
    writeFileSync(join(dir, "state", "bundles", `0123456789abcdef${"0".repeat(48)}`, ".complete"), "");
    writeFileSync(join(home, ".pulumi-gvisor-bundle-ubuntu-fedcba9876543210.sh"), "# another machine's upload\n");
    writeFileSync(join(home, "notes.sh"), "keep\n");
    const bundle = { id: stepBundle().id, uploadPath: name, resourceName: "sandbox-bundle" };
    const r = runScript(renderStepInvocation(plan(), "install", bundle).stdin.replace('. "$gv_store/install.sh"', "echo unpacked"), home);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, "state", "bundles", bundle.id, ".complete"))).toBe(true);
    expect(readdirSync(home).sort()).toEqual([name, ".pulumi-gvisor-bundle-ubuntu-fedcba9876543210.sh", "notes.sh"].sort());
  });

  it("name the full path of a missing relative upload", () => {
    const bundle = { id: stepBundle().id, uploadPath: bundleUploadPath(stepBundle().id, "ubuntu"), resourceName: "sandbox-bundle" };
    const r = runScript(renderStepInvocation(plan(), "install", bundle).stdin);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`(${join(dir, bundle.uploadPath)} is missing or not a plain file; SFTP writes it under the login's home`);
  });

  it("refuse an upload that is a symlink, even to the right bytes", () => {
    const real = join(dir, "real.sh");
    writeFileSync(real, stepBundle().text);
    execFileSync("ln", ["-s", real, join(dir, "link.sh")]);
    const r = runScript(renderStepInvocation(plan(), "install", { id: stepBundle().id, uploadPath: "link.sh", resourceName: "sandbox-bundle" }).stdin);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/link\.sh is missing or not a plain file/);
    expect(existsSync(join(dir, "state", "bundles"))).toBe(false);
  });

  it("find a relative upload in the login's home from the password database when the command starts elsewhere", () => {
    const home = execFileSync("sh", ["-c", 'getent passwd "$(id -un)" | cut -d: -f6'], { encoding: "utf8" }).trim();
    const name = `.pulumi-gvisor-bundle-test-${process.pid}.sh`;
    writeFileSync(join(home, name), stepBundle().text);
    try {
      const elsewhere = join(dir, "elsewhere");
      execFileSync("mkdir", [elsewhere]);
      const bundle = { id: stepBundle().id, uploadPath: name, resourceName: "sandbox-bundle" };
      const r = runScript(renderStepInvocation(plan(), "install", bundle).stdin.replace('. "$gv_store/install.sh"', "echo unpacked"), elsewhere);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("unpacked");
    } finally {
      rmSync(join(home, name), { force: true });
    }
  });

  it("record the owner, and say who owned the machine before", () => {
    const first = run(renderAdoptInvocation(plan(), owner()));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ step: "adopt", owner: owner().id, previousOwner: "" });
    expect(readFileSync(join(dir, "state", "owner"), "utf8")).toBe(`${owner().id}\n`);
    const second = run(renderAdoptInvocation(plan(), owner("b".repeat(32))));
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).previousOwner).toBe(owner().id);
    expect(second.stderr).toContain("this machine is now managed by urn:pulumi:dev::proj::pulumi-gvisor:index:Host::sandbox");
  });

  it("refuse an upload whose sha256 is not the bundle's, and unpack nothing", () => {
    const bundle = upload(stepBundle().text.replace("set -eu", "set -eu; touch /tmp/pulumi-gvisor-tampered"));
    const r = runScript(renderStepInvocation(plan(), "install", bundle).stdin);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toMatch(
      /^pulumi-gvisor install: error: .*upload\.sh is not the step bundle this program sent \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\), so nothing ran; send it again: pulumi up --replace the <Host name>-bundle resource/,
    );
    expect(readdirSync(join(dir, "state", "bundles"))).toEqual([]);
  });

  it("fail with what to do when the bundle is on neither the upload path nor in the store", () => {
    const bundle = { id: stepBundle().id, uploadPath: join(dir, "missing.sh"), resourceName: "sandbox-bundle" };
    const r = runScript(renderStepInvocation(plan(), "install", bundle).stdin);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `pulumi-gvisor install: error: the step bundle ${bundle.id} is not on this host (${bundle.uploadPath} is missing or not a plain file; SFTP writes it under the login's home, unless sshd_config's ChrootDirectory or 'internal-sftp -d' moves that); send it again: pulumi up --replace the <Host name>-bundle resource (or --target it after a 'pulumi state delete' of it)`,
    );
  });
});

describe("steps after install", () => {
  it("source the bundle install unpacked, and say what to do when it is not there", () => {
    const bundle = { id: stepBundle().id, uploadPath: join(dir, "missing.sh"), resourceName: "sandbox-bundle" };
    const r = runScript(renderStepInvocation(plan(), "configure-docker", bundle).stdin);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `pulumi-gvisor configure-docker: error: the step bundle ${bundle.id} is not unpacked on this host; run the install step again (set a new repair value on the Host and pulumi up)`,
    );
  });
});

describe("a failed step's output", () => {
  it("starts with the step's own error line, then the rest of what it printed", () => {
    const bundle = upload();
    const r = runScript(
      renderStepInvocation(plan(), "install", bundle).stdin.replace(
        '. "$gv_store/install.sh"',
        "echo progress one >&2; echo 'pulumi-gvisor install: error: it broke; fix it' >&2; echo progress two >&2; exit 1",
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toEqual(["pulumi-gvisor install: error: it broke; fix it", "progress one", "progress two", ""]);
  });

  it("keeps the step's exit status and leaves no stderr file behind, even when the error line is all it printed", () => {
    const bundle = upload();
    const tmp = join(dir, "tmp");
    execFileSync("mkdir", [tmp]);
    const script = renderStepInvocation(plan(), "install", bundle).stdin.replace(
      '. "$gv_store/install.sh"',
      "echo 'pulumi-gvisor install: error: only this; fix it' >&2; exit 3",
    );
    const r = spawnSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, TMPDIR: tmp } });
    expect(r.status).toBe(3);
    expect(r.stderr).toBe("pulumi-gvisor install: error: only this; fix it\n");
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("keeps its order when the step succeeds", () => {
    const bundle = upload();
    const r = runScript(
      renderStepInvocation(plan(), "install", bundle).stdin.replace('. "$gv_store/install.sh"', "echo a >&2; echo '{\"ok\":true}'; echo b >&2"),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("a\nb\n");
    expect(r.stdout).toBe('{"ok":true}\n');
  });
});

describe("the Host's delete", () => {
  it("only drops the owner record when no step ever ran on the machine", () => {
    expect(run(renderAdoptInvocation(plan(), owner())).code).toBe(0);
    const r = run(renderReleaseInvocation(plan(), { id: stepBundle().id, uploadPath: join(dir, "none.sh"), resourceName: "sandbox-bundle" }, owner()));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ step: "uninstall", changed: false, skipped: true, reason: "nothing-installed" });
    expect(existsSync(join(dir, "state"))).toBe(false);
  });

  it("runs the newest complete bundle on the machine when its own is not there", () => {
    const state = join(dir, "state");
    expect(run(renderAdoptInvocation(plan(), owner())).code).toBe(0);
    // Two older bundles, whose uninstall bodies say which one ran; the newer was completed last.
    for (const [id, when] of [
      ["1".repeat(64), "202601010000"],
      ["2".repeat(64), "202602010000"],
      ["3".repeat(64), "202512010000"],
    ]) {
      execFileSync("mkdir", ["-p", join(state, "bundles", id!)]);
      writeFileSync(join(state, "bundles", id!, "uninstall.sh"), `echo "{\\"ran\\":\\"${id!.slice(0, 1)}\\"}"\n`);
      execFileSync("touch", ["-t", when!, join(state, "bundles", id!, ".complete")]);
    }
    writeFileSync(join(state, "install-record"), "x\n");
    const r = run(renderReleaseInvocation(plan(), { id: "f".repeat(64), uploadPath: join(dir, "none.sh"), resourceName: "sandbox-bundle" }, owner()));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ran: "2" });
  });

  it("does nothing on a machine without pulumi-gvisor state", () => {
    const r = run(renderReleaseInvocation(plan(), upload(), owner()));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ step: "uninstall", changed: false, skipped: true, reason: "no-state" });
  });

  it("leaves the machine alone when another Host adopted it since", () => {
    const bundle = upload();
    expect(run(renderAdoptInvocation(plan(), owner("b".repeat(32)))).code).toBe(0);
    const r = run(renderReleaseInvocation(plan(), bundle, owner()));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ step: "uninstall", changed: false, skipped: true, reason: "other-owner" });
    expect(readFileSync(join(dir, "state", "owner"), "utf8")).toBe(`${"b".repeat(32)}\n`);
  });
});
