import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { asInputError, bareReason, collectInputErrors, compact, inputPropertyError, planOutput } from "../../src/components/validate";
import { ifKnown, isUnknownMarker } from "../../src/components/unknown-values";
import { check, collect } from "../../src/plan/errors";
import { thrown } from "./support/input-errors";

describe("asInputError", () => {
  it("raises one bad input as an InputPropertyError whose reason (all a TypeScript program's CLI prints) starts with the path", () => {
    const e = thrown(() => asInputError(() => check(false, "args.installDir", 'must be an absolute path, got "bin"')));
    expect(pulumi.InputPropertyError.isInstance(e)).toBe(true);
    expect(e.propertyPath).toBe("args.installDir");
    expect(e.reason).toBe('args.installDir: must be an absolute path, got "bin"');
    expect(e.message).toBe('args.installDir: must be an absolute path, got "bin"');
  });

  it("never doubles the path, whoever raised the error first", () => {
    const once = inputPropertyError("args.a", "args.a: is bad");
    expect(once.reason).toBe("args.a: is bad");
    expect(bareReason(once)).toBe("is bad");
    const e = thrown(() =>
      collectInputErrors([
        () => {
          throw once;
        },
      ]),
    );
    expect(e.reason).toBe("args.a: is bad");
    expect(e.message).toBe("args.a: is bad");
  });

  it("raises several as one InputPropertiesError listing each path and reason", () => {
    const e = thrown(() =>
      asInputError(() =>
        collect(
          () => check(false, "args.version", "is not a release"),
          () => check(false, "args.mirror", "must use https"),
        ),
      ),
    );
    expect(pulumi.InputPropertiesError.isInstance(e)).toBe(true);
    expect(e.errors).toEqual([
      { propertyPath: "args.version", reason: "args.version: is not a release" },
      { propertyPath: "args.mirror", reason: "args.mirror: must use https" },
    ]);
    expect(e.message).toBe("2 invalid inputs:\n  args.version: is not a release\n  args.mirror: must use https");
  });

  it("lets other errors through unchanged", () => {
    const bug = new RangeError("bug");
    const e = thrown(() =>
      asInputError(() => {
        throw bug;
      }),
    );
    expect(e).toBe(bug);
  });
});

describe("collectInputErrors", () => {
  const refuse =
    (path: string, reason = "no") =>
    () => {
      throw new pulumi.InputPropertyError({ propertyPath: path, reason });
    };

  it("reports every failing check, after running all of them", () => {
    let ran = 0;
    const e = thrown(() => collectInputErrors([refuse("args.hosts[0].name"), () => void ran++, refuse("args.hosts[2].arch")]));
    expect(ran).toBe(1);
    expect(e.errors.map((x: any) => x.propertyPath)).toEqual(["args.hosts[0].name", "args.hosts[2].arch"]);
  });

  it("does nothing when every check passes, and keeps a lone error as it is", () => {
    expect(() => collectInputErrors([() => undefined])).not.toThrow();
    const e = thrown(() => collectInputErrors([refuse("args.a"), () => undefined]));
    expect(pulumi.InputPropertyError.isInstance(e)).toBe(true);
  });

  it("merges errors the caller calls the same problem", () => {
    const e = thrown(() => collectInputErrors([refuse("args.x", "for host 0"), refuse("args.x", "for host 1")], (err) => err.propertyPath));
    expect(pulumi.InputPropertyError.isInstance(e)).toBe(true);
    expect(e.reason).toBe("args.x: for host 0");
  });
});

describe("planOutput: every check as early as its values allow", () => {
  // A plan with one check per field and one across two fields, like the real plans.
  const build = (input: { a?: unknown; b?: unknown; c?: unknown }) => {
    const [a, b] = collect(
      () => check(input.a === undefined || input.a === "ok", "args.a", `must be "ok", got ${JSON.stringify(input.a)}`),
      () => check(input.b === undefined || input.b === "ok", "args.b", `must be "ok", got ${JSON.stringify(input.b)}`),
    );
    check(!(input.a === "ok" && input.c === "off"), "args.c", 'cannot be "off" with a');
    return { a, b };
  };
  // Not known at construction (and never in this test): what an unknown Output is to the checks.
  const never = () => new Promise<string>(() => undefined);
  const same = <T>(x: T) => x;

  it("refuses a bad plain field at once while another field is not known", () => {
    const e = thrown(() => planOutput({ a: never(), b: "bad" }, same, build));
    expect(pulumi.InputPropertyError.isInstance(e)).toBe(true);
    expect(e.propertyPath).toBe("args.b");
    expect(e.reason).toBe('args.b: must be "ok", got "bad"');
  });

  it("never refuses early what depends on a value not known yet", () => {
    expect(() => planOutput({ a: never(), c: "off" }, same, build)).not.toThrow();
    // A builder that looks into a value not known yet is skipped, not crashed.
    expect(() => planOutput({ a: never(), b: "ok" }, (r) => ({ a: (r.a as any).length, b: r.b }), build)).not.toThrow();
  });

  it("lets a builder carry an unknown value along (compact, ifKnown) without judging it", () => {
    let seen: unknown;
    planOutput(
      { a: never(), b: { x: never() } },
      (r) => {
        seen = ifKnown(r.a, (v) => `${v}!`);
        return { a: r.a, b: compact(r.b as object) };
      },
      (input) => input.b,
    );
    expect(isUnknownMarker(seen)).toBe(true);
  });
});

describe("planOutput: args of other shapes", () => {
  it("treats an object of a class that holds an Output as one value not known yet, never as a bad value", () => {
    class Settings {
      constructor(readonly b = new Promise<string>(() => undefined)) {}
    }
    const build = (input: { a?: unknown }) =>
      check(input.a === undefined || typeof (input.a as { b?: unknown }).b === "string", "args.a.b", "must be a string");
    expect(() => planOutput({ a: new Settings() }, (r) => r, build)).not.toThrow();
  });
});
