import { check, show } from "./errors";

// Values that reach a host are always shell-quoted, but control characters
// still have no business in versions, paths or flags: refusing them keeps
// previews readable and rendered scripts line-oriented.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Requires a non-empty single-line string without control characters. */
export function requireLine(value: unknown, property: string): string {
  check(typeof value === "string", property, `must be a string, got ${show(value)}`);
  check(value.length > 0, property, "must not be empty");
  check(!CONTROL.test(value), property, `must not contain control characters or newlines, got ${show(value)}`);
  check(value.length <= 4096, property, "must be at most 4096 characters");
  return value;
}

/** Requires a single-line string without any whitespace (it travels in a space-separated list). */
export function requireWord(value: unknown, property: string): string {
  const line = requireLine(value, property);
  check(!/\s/.test(line), property, `must not contain whitespace, got ${show(line)}`);
  return line;
}

const SAFE_PATH = /^\/[A-Za-z0-9._+@/-]*$/;

/** Requires an absolute, normalised filesystem path made of portable characters. */
export function requireAbsolutePath(value: unknown, property: string): string {
  const path = requireLine(value, property);
  check(path.startsWith("/"), property, `must be an absolute path, got ${show(path)}`);
  check(
    SAFE_PATH.test(path),
    property,
    `may contain only letters, digits and . _ + @ / -, got ${show(path)}`,
  );
  const segments = path.split("/").slice(1);
  check(
    !segments.some((s) => s === "." || s === ".."),
    property,
    `must not contain "." or ".." segments, got ${show(path)}`,
  );
  check(path === "/" || !path.endsWith("/"), property, `must not end with "/", got ${show(path)}`);
  check(!path.includes("//"), property, `must not contain "//", got ${show(path)}`);
  return path;
}

/** Requires a boolean (or leaves `undefined` for "not set"). */
export function optionalBoolean(value: unknown, property: string): boolean | undefined {
  if (value === undefined) return undefined;
  check(typeof value === "boolean", property, `must be true or false, got ${show(value)}`);
  return value;
}

/** Requires one of `allowed` (or leaves `undefined` for "not set"). */
export function optionalOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  property: string,
): T | undefined {
  if (value === undefined) return undefined;
  check(
    typeof value === "string" && (allowed as readonly string[]).includes(value),
    property,
    `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${show(value)}`,
  );
  return value as T;
}
