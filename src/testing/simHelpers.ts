/** Small pieces the simulators share: their options' defaults, a clock tests can move, ids, headers. */
import { randomBytes } from 'node:crypto';
import type { SimRequest } from './simServer.js';

/**
 * `options` with every field `defaults` names filled in where it is left out (`undefined` or `null`),
 * as `options.field ?? default` does field by field.
 */
export function withDefaults<TOptions extends object, K extends keyof TOptions>(
  options: TOptions,
  defaults: { readonly [P in K]-?: NonNullable<TOptions[P]> },
): TOptions & { [P in K]-?: NonNullable<TOptions[P]> } {
  const merged: Partial<Record<keyof TOptions, unknown>> = { ...options };
  for (const key of Object.keys(defaults) as K[]) merged[key] ??= defaults[key];
  return merged as TOptions & { [P in K]-?: NonNullable<TOptions[P]> };
}

/** A simulator's clock: its `now` plus every `advance`. */
export interface OffsetClock {
  now(): number;
  advance(ms: number): void;
}

/** A clock that runs with `base` (default `Date.now`, as it is when the simulator starts), moved forward by `advance`. */
export function offsetClock(base: () => number = Date.now): OffsetClock {
  let offsetMs = 0;
  return {
    now: () => base() + offsetMs,
    advance(ms) {
      offsetMs += ms;
    },
  };
}

/** `bytes` random bytes as base64url. */
export const randomId = (bytes: number) => randomBytes(bytes).toString('base64url');

/** A request header's value (the first, when repeated). */
export function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `Array.prototype.findLast`, which the ES2022 lib this project targets does not declare. */
export function lastOf<T>(items: readonly T[], predicate: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (predicate(item)) return item;
  }
  return undefined;
}
