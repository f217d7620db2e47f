/**
 * Two helpers `authcharts/testing` exported before the path engine used XState's pure `transition`
 * and `initialTransition`. Nothing in authcharts uses them any more; they stay so code that imports
 * them keeps working.
 */
import type { ActorScope, AnyStateMachine } from 'xstate';
import { unstartedActorScope } from './coverage.js';
import { atVirtualTime } from './virtualTime.js';

/**
 * Runs `fn` with `Date.now()` answering `at` (synchronously, restored afterwards).
 *
 * @deprecated The path engine computes transitions at virtual time itself; to run code at a given
 * time in a test, use your runner's fake clock (e.g. `vi.setSystemTime`). This replaces `Date.now`
 * globally while `fn` runs.
 */
export function atTime<T>(at: number, fn: () => T): T {
  return atVirtualTime(at, fn);
}

/**
 * The scope of an actor that is never started: XState computes snapshots with it (invoked children
 * are created, not run) and nothing is executed.
 *
 * @deprecated Use XState's `initialTransition(machine, input)` and `transition(machine, snapshot,
 * event)`, which compute snapshots without an actor scope of your own.
 */
export function idleScope(machine: AnyStateMachine, input?: unknown): ActorScope<any, any, any, any> {
  return unstartedActorScope(machine, input);
}
