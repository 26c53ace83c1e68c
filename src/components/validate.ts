import * as pulumi from "@pulumi/pulumi";
import { PlanValidationError, invalidInputsMessage, throwAll, validationErrorsOf } from "../plan/errors";
import { isKnownNow, isUnknownMarker, mapLeaves, unknownMarker, view } from "./unknown-values";

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
 * Runs `build(toInput(args))` with each input in `args` that is an Output or a
 * Promise replaced by its value when `known` has it, else by a marker; raises
 * the bad inputs the checks that needed no unknown value found. Anything else
 * (a check that needed an unknown value, or any other error) is left to the
 * run with every value known.
 */
function checkKnownPart<A, I>(args: A, known: ReadonlyMap<string, unknown>, toInput: (resolved: pulumi.Unwrap<A>) => I, build: (input: I) => unknown): void {
  let found: PlanValidationError[] = [];
  try {
    const resolved = mapLeaves(args, "args", (path) => (known.has(path) ? known.get(path) : unknownMarker(path))) as pulumi.Unwrap<A>;
    build(view(toInput(resolved)));
  } catch (err) {
    found = validationErrorsOf(err);
  }
  if (found.length > 0) asInputError(() => throwAll(found));
}

/**
 * Validates at construction every check of `build(toInput(args))` whose
 * values are plain now (an Output among the args holds back only the checks
 * that need it), raising the bad inputs found; see {@link planOutput}.
 */
export function checkKnownNow<A, I>(args: A, toInput: (resolved: pulumi.Unwrap<A>) => I, build: (input: I) => unknown): void {
  checkKnownPart(args, new Map(), toInput, build);
}

/**
 * The plan of a component's args, validated as early as each value allows:
 * - at construction (before `super()`), every check whose values are plain;
 * - as each Output among the args resolves (in a preview too, for Outputs
 *   known there), every check whose values are known by then;
 * - once all resolve, the whole plan.
 * A bad value is refused with the same message at whichever point first
 * sees it, so an unknown input (a subnet made in the same program) never
 * hides a bad one elsewhere. `toInput` turns resolved args into the plan's
 * input; it may copy a not-yet-known value along, but must not look into it
 * (see {@link ifKnown}).
 */
export function planOutput<A, I, P>(args: A, toInput: (resolved: pulumi.Unwrap<A>) => I, build: (input: I) => P): pulumi.Output<P> {
  const whole = (resolved: pulumi.Unwrap<A>) => asInputError(() => build(toInput(resolved)));
  if (isKnownNow(args)) return pulumi.output(whole(args as pulumi.Unwrap<A>) as pulumi.Input<P>) as unknown as pulumi.Output<P>;
  const known = new Map<string, unknown>();
  checkKnownPart(args, known, toInput, build);
  const leaves: [string, unknown][] = [];
  mapLeaves(args, "args", (path, input) => leaves.push([path, input]));
  const partial = leaves.map(([path, input]) =>
    (pulumi.output(input) as pulumi.Output<unknown>).apply((value) => {
      known.set(path, value);
      checkKnownPart(args, known, toInput, build);
      return true;
    }),
  );
  const full = pulumi.output(args).apply((resolved) => whole(resolved as pulumi.Unwrap<A>) as pulumi.Input<P>);
  return pulumi.all([full as pulumi.Output<unknown>, ...partial]).apply(([plan]) => plan) as unknown as pulumi.Output<P>;
}

/** Drops keys whose value is undefined, so "not set" and "absent" mean the same. */
export function compact<T extends object>(value: T): T {
  if (isUnknownMarker(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
