import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";

/** Asserts that an input error's reason starts with its property path: a TypeScript program's CLI prints only the reason. */
export function expectReasonNamesPath(err: unknown): void {
  const e = err as pulumi.InputPropertyError;
  expect(e.reason?.startsWith(`${e.propertyPath}: `), `reason ${JSON.stringify(e.reason)} names ${e.propertyPath}`).toBe(true);
}
