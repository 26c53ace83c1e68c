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

/**
 * Several independent bad inputs, reported together so one preview shows them
 * all. Each entry is one PlanValidationError; the message has one line each.
 */
export class PlanValidationErrors extends Error {
  constructor(readonly errors: readonly PlanValidationError[]) {
    super(invalidInputsMessage(errors.map((e) => e.message)));
    this.name = "PlanValidationErrors";
  }
}

/** `3 invalid inputs:` and one indented `path: reason` line per error. */
export function invalidInputsMessage(lines: readonly string[]): string {
  return `${lines.length} invalid inputs:\n${lines.map((l) => `  ${l}`).join("\n")}`;
}

/** The PlanValidationErrors inside `err` (one, several, or none when it is another kind of error). */
export function validationErrorsOf(err: unknown): PlanValidationError[] {
  if (err instanceof PlanValidationError) return [err];
  if (err instanceof PlanValidationErrors) return [...err.errors];
  return [];
}

/** Throws the errors as one: nothing for none, the error itself for one, PlanValidationErrors for more. */
export function throwAll(errors: readonly PlanValidationError[]): void {
  const seen = new Set<string>();
  const unique = errors.filter((e) => !seen.has(e.message) && seen.add(e.message));
  if (unique.length === 1) throw unique[0];
  if (unique.length > 1) throw new PlanValidationErrors(unique);
}

/**
 * A check read an input whose value is not known yet (at preview, an Output of
 * a resource not created yet). Not a bad input: the check cannot decide now,
 * and runs again once the value is known. The component layer raises it from
 * reads of such values; plan functions only let it pass.
 */
export class UnknownInputError extends Error {
  constructor(readonly property: string) {
    super(`${property} is not known yet`);
    this.name = "UnknownInputError";
  }
}

/**
 * Runs independent checks and reports every bad input among them at once.
 * Returns each check's result in order. Checks that depend on another's result
 * belong after the `collect` that produces it: they run once it passed.
 * A check that reads a value not known yet is skipped: the others still
 * report their bad inputs, and with none, the UnknownInputError goes on.
 * Any other error is thrown as it is.
 */
export function collect<T extends readonly unknown[]>(...checks: { [K in keyof T]: () => T[K] }): T {
  const errors: PlanValidationError[] = [];
  let unknown: UnknownInputError | undefined;
  const results = checks.map((run) => {
    try {
      return run();
    } catch (err) {
      if (err instanceof UnknownInputError) {
        unknown ??= err;
        return undefined;
      }
      const found = validationErrorsOf(err);
      if (found.length === 0) throw err;
      errors.push(...found);
      return undefined;
    }
  });
  throwAll(errors);
  if (unknown !== undefined) throw unknown;
  return results as unknown as T;
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
