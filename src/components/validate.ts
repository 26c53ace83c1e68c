import * as pulumi from "@pulumi/pulumi";
import { PlanValidationError } from "../plan/errors";

/** True when `value` holds no Output or Promise anywhere, so it can be validated right now. */
export function isKnownNow(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isKnownNow);
  if (typeof value === "object" && value !== null) return Object.values(value).every(isKnownNow);
  return true;
}

/**
 * Runs a pure plan function, turning its PlanValidationError into Pulumi's
 * InputPropertyError, which the engine prints with the property path.
 */
export function asInputError<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof PlanValidationError) {
      throw new pulumi.InputPropertyError({ propertyPath: err.property, reason: err.reason });
    }
    throw err;
  }
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
