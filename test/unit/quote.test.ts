import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shellAssignment, shellQuote } from "../../src/scripts/quote";

/** Runs `X=<quoted>; printf %s "$X"` in a real shell and returns what it printed. */
function roundTrip(shell: string, value: string): string {
  return execFileSync(shell, ["-c", `${shellAssignment("X", value)}\nprintf '%s' "$X"`], { encoding: "utf8" });
}

// Strings made to hurt a shell: quotes, expansions, separators, newlines, unicode.
const nasty = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.array(
    fc.constantFrom("'", '"', "\\", "$", "$(reboot)", "`id`", ";", "&&", "|", "\n", "\t", " ", "*", "?", "~", "#", "!", "${X:-y}", "%ID%", "é", "🐧", "\u2028", "-n", "--"),
    { maxLength: 12 },
  ).map((parts) => parts.join("")),
).map((s) => s.split("\u0000").join("")); // argv strings cannot carry NUL

describe("shellQuote", () => {
  it("quotes the empty string and plain words predictably", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("runsc")).toBe("'runsc'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  for (const shell of ["sh", "bash"]) {
    it(`round-trips arbitrary strings exactly through ${shell}`, () => {
      fc.assert(
        fc.property(nasty, (value) => {
          expect(roundTrip(shell, value)).toBe(value);
        }),
        { numRuns: 150 },
      );
    });
  }

  it("refuses a variable name that is not a shell identifier", () => {
    expect(() => shellAssignment("X; reboot", "v")).toThrowError(/not a shell variable name/);
  });
});
