import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { stepSource } from "../../src/scripts/render";

/** The python program every rendered step embeds (steps/helper.py). */
const embeddedPython = () => stepSource("helper");

describe("the python helper (helper.py)", () => {
  // Amazon Linux 2023 ships python 3.9: the oldest interpreter the steps meet.
  it("is valid Python 3.9 syntax", () => {
    const check = "import ast,sys; ast.parse(sys.stdin.read(), feature_version=(3, 9)); print('ok')";
    expect(execFileSync("python3", ["-c", check], { input: embeddedPython(), encoding: "utf8" }).trim()).toBe("ok");
  });

  it("imports only the standard library modules every python 3.9 has", () => {
    const imports = [...embeddedPython().matchAll(/^\s*(?:import|from)\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)/gm)]
      .flatMap((m) => m[1].split(/\s*,\s*/))
      .map((m) => m.split(".")[0]);
    const allowed = new Set(["hashlib", "json", "os", "re", "stat", "sys", "tarfile", "tomllib", "io", "shutil", "subprocess", "errno", "tempfile"]);
    expect(imports.filter((m) => !allowed.has(m))).toEqual([]);
    // tomllib is 3.11+: it must only ever be imported inside a guard.
    expect(embeddedPython()).not.toMatch(/^import tomllib/m);
  });

  it("refuses an unknown subcommand instead of doing something else", () => {
    let failed = false;
    try {
      execFileSync("python3", ["-I", "-c", embeddedPython(), "no-such-command"], { stdio: "pipe" });
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
  });
});
