import * as pulumi from "@pulumi/pulumi";
import { UnknownInputError, joinPath } from "../plan/errors";

// How args with Outputs among them are validated before the Outputs resolve:
// each Output becomes a marker (or its value, once known), and plan inputs are
// read through a view that turns a read of a marker into UnknownInputError.

/** True when `value` holds no Output or Promise anywhere, so it can be validated right now. */
export function isKnownNow(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isKnownNow);
  if (typeof value === "object" && value !== null) return Object.values(value).every(isKnownNow);
  return true;
}

// Values not known yet. While args are validated with some inputs still
// Outputs, each such input is a marker that refuses every use: copying it
// along is fine, looking into it raises UnknownInputError, which skips the
// checks that need it (collect) and keeps every other check running.
const markers = new WeakMap<object, string>();

/** A stand-in for the input at `path`, not known yet. */
export function unknownMarker(path: string): object {
  const refuse = (): never => {
    throw new UnknownInputError(path);
  };
  const marker = new Proxy(Object.create(null) as object, {
    get: refuse,
    has: refuse,
    ownKeys: refuse,
    getOwnPropertyDescriptor: refuse,
    getPrototypeOf: refuse,
    set: refuse,
    defineProperty: refuse,
    deleteProperty: refuse,
  });
  markers.set(marker, path);
  return marker;
}

/** True for a value standing in for an input not known yet (see {@link ifKnown}). */
export function isUnknownMarker(value: unknown): boolean {
  return typeof value === "object" && value !== null && markers.has(value);
}

/** `f(value)`, or the not-yet-known marker itself: for plan-input builders that look into a value. */
export function ifKnown<T, R>(value: T, f: (known: T) => R): R {
  return isUnknownMarker(value) ? (value as unknown as R) : f(value);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/**
 * A copy of `value` with each Output or Promise in it replaced by
 * `leaf(path, it)`. Plain objects and arrays are walked; any other object
 * that holds an Output is one leaf as a whole.
 */
export function mapLeaves(value: unknown, path: string, leaf: (path: string, input: unknown) => unknown): unknown {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return leaf(path, value);
  if (Array.isArray(value)) return value.map((v, i) => mapLeaves(v, `${path}[${i}]`, leaf));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapLeaves(v, joinPath(path, k), leaf)]));
  if (typeof value === "object" && value !== null && !isKnownNow(value)) return leaf(path, value);
  return value;
}

// A read-only view of a plan input in which reading a not-yet-known value
// raises UnknownInputError, so a plain `input.subnetId` cannot hand a marker
// to a check that would then judge it.
const views = new WeakMap<object, object>();

/** `value` as a read-only view whose reads of a not-yet-known value raise UnknownInputError. */
export function view<T>(value: T): T {
  if (typeof value !== "object" || value === null || isUnknownMarker(value)) return value;
  const cached = views.get(value);
  if (cached !== undefined) return cached as T;
  const proxy = new Proxy(value, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (isUnknownMarker(v)) throw new UnknownInputError(markers.get(v as object) ?? String(key));
      const own = Reflect.getOwnPropertyDescriptor(target, key);
      // A frozen property must read as itself (a Proxy invariant).
      if (own !== undefined && !own.configurable && !own.writable) return v;
      return view(v);
    },
  });
  views.set(value, proxy);
  return proxy;
}
