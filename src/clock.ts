/**
 * Timers for XState's `clock` option that do not keep a Node process alive.
 *
 * A script that signs in, does its work and returns should exit, even though the session's refresh
 * timer is still pending (supabase auth-js #599 is the bug this avoids). In browsers `unref` does
 * not exist and this clock behaves like the default one.
 */
import { clampDelay, unrefTimer } from './time.js';

/** The timer interface XState's `clock` option takes (structurally XState's own `Clock`). */
export interface TimerClock {
  setTimeout(fn: (...args: any[]) => void, ms: number): any;
  clearTimeout(id: any): void;
}

/**
 * A clock whose timers are `unref`'d in Node and clamped to 2^31-1 ms (Node fires longer delays after 1 ms).
 *
 * @example
 * ```ts
 * const actor = createActor(machine, { clock: createUnrefClock() }).start();
 * ```
 */
export function createUnrefClock(): TimerClock {
  return {
    setTimeout(fn, ms) {
      return unrefTimer(setTimeout(fn, clampDelay(ms)));
    },
    clearTimeout(id) {
      clearTimeout(id);
    },
  };
}
