import { describe, expect, it } from "vitest";
import { PlanValidationError, PlanValidationErrors, UnknownInputError, check, collect, throwAll, validationErrorsOf } from "../../src/plan/errors";

const bad = (path: string, reason: string) => () => check(false, path, reason);

describe("collect: independent checks, every bad input at once", () => {
  it("returns each check's result in order when all pass", () => {
    const [a, b] = collect(
      () => 1,
      () => "two",
    );
    expect([a, b]).toEqual([1, "two"]);
  });

  it("throws the single error itself when one check fails", () => {
    expect(() => collect(() => 1, bad("version", "is not a release"))).toThrow(PlanValidationError);
    expect(() => collect(() => 1, bad("version", "is not a release"))).toThrow("version: is not a release");
  });

  it("runs every check and reports all failures together, one line each, with their paths", () => {
    let ran = 0;
    let err: unknown;
    try {
      collect(bad("a", "is wrong"), () => ran++, bad("b", "is worse"), bad("c", "is worst"));
    } catch (e) {
      err = e;
    }
    expect(ran).toBe(1);
    expect(err).toBeInstanceOf(PlanValidationErrors);
    expect(validationErrorsOf(err).map((e) => e.property)).toEqual(["a", "b", "c"]);
    expect((err as Error).message).toBe("3 invalid inputs:\n  a: is wrong\n  b: is worse\n  c: is worst");
  });

  it("flattens nested collections and drops exact duplicates", () => {
    const inner = () => collect(bad("x", "no"), bad("y", "no"));
    expect(() => collect(inner, bad("x", "no"), bad("z", "no"))).toThrow("3 invalid inputs:\n  x: no\n  y: no\n  z: no");
  });

  it("lets any other error through at once: a bug is not an input problem", () => {
    const boom = () => {
      throw new TypeError("boom");
    };
    expect(() => collect(bad("a", "no"), boom)).toThrow(TypeError);
  });

  it("skips a check that reads a value not known yet, still reporting the others' bad inputs", () => {
    const unknown = () => {
      throw new UnknownInputError("args.subnetId");
    };
    let ran = 0;
    expect(() => collect(unknown, bad("installDir", "must be absolute"), () => ran++)).toThrow("installDir: must be absolute");
    expect(ran).toBe(1);
    // With no bad input, the unknown value goes on: the caller cannot finish the plan yet.
    expect(() => collect(unknown, () => 1)).toThrow(UnknownInputError);
    expect(() => collect(() => collect(unknown), bad("a", "x"))).toThrow("a: x");
  });

  it("throwAll throws nothing for no errors", () => {
    expect(() => throwAll([])).not.toThrow();
  });
});
