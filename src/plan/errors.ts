/**
 * A bad input found while building a plan. `property` is the path of the
 * offending input as the user wrote it (e.g. `runsc.extraFlags["vfs2"]`), so
 * the component layer can raise it as a Pulumi InputPropertyError.
 */
export class PlanValidationError extends Error {
  constructor(
    readonly property: string,
    readonly reason: string,
  ) {
    super(`${property}: ${reason}`);
    this.name = "PlanValidationError";
  }
}

/** Joins a property path: `join("runsc", "platform")` → `runsc.platform`. */
export function joinPath(parent: string, child: string): string {
  if (!parent) return child;
  return child.startsWith("[") ? `${parent}${child}` : `${parent}.${child}`;
}

/** Throws a PlanValidationError for `property` unless `ok`. */
export function check(ok: boolean, property: string, reason: string): asserts ok {
  if (!ok) throw new PlanValidationError(property, reason);
}

/** Shows a user value inside an error message without letting it break the line. */
export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
