import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { stripComments } from "../../src/scripts/minify";
import { BUNDLED_STEPS } from "../../src/scripts/bundle";
import { renderStepBody } from "../../src/scripts/render";

describe("stripComments", () => {
  it("drops full-line comments and blank lines of shell code, keeps the shebang and shellcheck directives", () => {
    const text = "#!/bin/sh\n# about this step\n\nset -eu  # trailing comments stay\n  # indented\n# shellcheck disable=SC2086\necho $x\n";
    expect(stripComments(text)).toBe("#!/bin/sh\nset -eu  # trailing comments stay\n# shellcheck disable=SC2086\necho $x");
  });

  it("keeps data heredocs byte for byte, and strips comments inside the python helper", () => {
    const text = [
      "cat >f <<EOF",
      "# a line of data",
      "",
      "EOF",
      "python3 - <<'GV_PY'",
      "# a python comment",
      "x = '#not a comment'",
      "",
      "GV_PY",
      "# gone",
    ].join("\n");
    expect(stripComments(text)).toBe(["cat >f <<EOF", "# a line of data", "", "EOF", "python3 - <<'GV_PY'", "x = '#not a comment'", "GV_PY"].join("\n"));
  });

  it("ends a plain heredoc only at its exact delimiter, and reads no heredoc into arithmetic", () => {
    const text = ["cat >f <<EOF", "\tEOF", "# still data", "EOF", "x=$((1 << n))", "# a comment"].join("\n");
    expect(stripComments(text)).toBe(["cat >f <<EOF", "\tEOF", "# still data", "EOF", "x=$((1 << n))"].join("\n"));
    expect(stripComments(["cat <<-EOF", "\t# data", "\tEOF", "# gone"].join("\n"))).toBe(["cat <<-EOF", "\t# data", "\tEOF"].join("\n"));
  });

  it("leaves every rendered step valid for sh and bash", () => {
    for (const step of BUNDLED_STEPS) {
      for (const shell of ["sh", "bash"]) execFileSync(shell, ["-n"], { input: renderStepBody(step) });
    }
  });
});
