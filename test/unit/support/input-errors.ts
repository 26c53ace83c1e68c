import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";

/** Asserts that an input error's reason starts with its property path: a TypeScript program's CLI prints only the reason. */
export function expectReasonNamesPath(err: unknown): void {
  const e = err as pulumi.InputPropertyError;
  expect(e.reason?.startsWith(`${e.propertyPath}: `), `reason ${JSON.stringify(e.reason)} names ${e.propertyPath}`).toBe(true);
}

/** What `make` throws, or undefined when it returns: for checks that a program is refused, or not. */
export function raisedBy(make: () => unknown): any {
  try {
    make();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** What `make` throws; fails the test when it throws nothing. */
export function thrown(make: () => unknown): any {
  const err = raisedBy(make);
  if (err === undefined) throw new Error("expected an error, nothing was thrown");
  return err;
}
