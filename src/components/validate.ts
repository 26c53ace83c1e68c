import * as pulumi from "@pulumi/pulumi";
import { PlanValidationError, UnknownInputError, invalidInputsMessage, joinPath, validationErrorsOf } from "../plan/errors";

/** True when `value` holds no Output or Promise anywhere, so it can be validated right now. */
export function isKnownNow(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isKnownNow);
  if (typeof value === "object" && value !== null) return Object.values(value).every(isKnownNow);
  return true;
}

/**
 * One bad input as Pulumi reports it. The reason starts with the property path
 * (`args.installDir: must be an absolute path, got "bin"`): a TypeScript
 * program's CLI prints only the reason. The message is the same text.
 */
export function inputPropertyError(propertyPath: string, reason: string): pulumi.InputPropertyError {
  return new pulumi.InputPropertyError({ propertyPath, reason: `${propertyPath}: ${bareReason({ propertyPath, reason })}` });
}

/** The reason of an input error without its leading `path: `. */
export function bareReason(e: { propertyPath: string; reason: string }): string {
  const prefix = `${e.propertyPath}: `;
  return e.reason.startsWith(prefix) ? e.reason.slice(prefix.length) : e.reason;
}

/** The bad inputs inside `err`: a plan's validation errors or Pulumi's input errors; none for any other error. */
function inputErrorsOf(err: unknown): pulumi.InputPropertyError[] {
  if (pulumi.InputPropertyError.isInstance(err)) return [inputPropertyError(err.propertyPath, err.reason)];
  if (pulumi.InputPropertiesError.isInstance(err)) return err.errors.map((e) => inputPropertyError(e.propertyPath, e.reason));
  return validationErrorsOf(err).map((e) => inputPropertyError(e.property, e.reason));
}

const problemKey = (e: pulumi.InputPropertyError) => e.reason;

/**
 * Raises bad inputs the way Pulumi reports them: one as an InputPropertyError,
 * several (duplicates dropped) as one InputPropertiesError listing each
 * `path: reason`. Nothing happens for none. Errors with the same
 * `sameProblem` key are one problem (by default: same path and reason).
 */
export function throwInputErrors(errors: readonly pulumi.InputPropertyError[], sameProblem: (e: pulumi.InputPropertyError) => string = problemKey): void {
  const seen = new Set<string>();
  const unique = errors.map((e) => inputPropertyError(e.propertyPath, e.reason)).filter((e) => !seen.has(sameProblem(e)) && seen.add(sameProblem(e)));
  if (unique.length === 1) throw unique[0];
  if (unique.length > 1) {
    throw new pulumi.InputPropertiesError({
      message: invalidInputsMessage(unique.map((e) => e.reason)),
      errors: unique.map((e) => ({ propertyPath: e.propertyPath, reason: e.reason })),
    });
  }
}

/**
 * Runs a pure plan function, turning its PlanValidationError(s) into Pulumi's
 * InputPropertyError (or InputPropertiesError for several), which the engine
 * prints with the property paths.
 */
export function asInputError<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    const found = err instanceof PlanValidationError || validationErrorsOf(err).length > 0 ? inputErrorsOf(err) : [];
    if (found.length === 0) throw err;
    throwInputErrors(found);
    throw err;
  }
}

/**
 * Runs independent component-level checks and reports every bad input among
 * them in one error (e.g. each member of a fleet), instead of stopping at the
 * first. Any other error is thrown as it is. `sameProblem` as for
 * {@link throwInputErrors}.
 */
export function collectInputErrors(checks: readonly (() => void)[], sameProblem: (e: pulumi.InputPropertyError) => string = problemKey): void {
  const errors: pulumi.InputPropertyError[] = [];
  for (const run of checks) {
    try {
      run();
    } catch (err) {
      const found = inputErrorsOf(err);
      if (found.length === 0) throw err;
      errors.push(...found);
    }
  }
  throwInputErrors(errors, sameProblem);
}

/**
 * Validates plain args at construction (so `pulumi preview` fails fast with the
 * property path) and again once Outputs resolve: one plan, known or later.
 */
export function planOutput<A, P>(args: A, build: (resolved: pulumi.Unwrap<A>) => P): pulumi.Output<P> {
  if (isKnownNow(args)) {
    const plan = asInputError(() => build(args as pulumi.Unwrap<A>));
    return pulumi.output(plan as pulumi.Input<P>) as unknown as pulumi.Output<P>;
  }
  return pulumi.output(args).apply((resolved) => asInputError(() => build(resolved as pulumi.Unwrap<A>)) as pulumi.Input<P>) as unknown as pulumi.Output<P>;
}

/** Drops keys whose value is undefined, so "not set" and "absent" mean the same. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
