/**
 * Replays generated paths against an actor, asserting the state after every step.
 *
 * Time: `vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })`, nothing more. XState's
 * default clock calls the global `setTimeout`/`clearTimeout` when it arms an `after` timer, and the
 * machines' guards read `Date.now()`, so those three are what a path needs to control. Faking
 * everything (vitest's default list includes `setImmediate`, `setInterval`, `queueMicrotask`'s
 * neighbours and `performance`) would also fake what Node's sockets and the simulators' servers run
 * on, and a live request would wait for a tick that never comes. The real `setTimeout` is kept here
 * (taken before any test fakes it) to wait for real I/O.
 *
 * A `sleepMs` step jumps the wall clock (`vi.setSystemTime`) without firing any timer, as a suspended
 * laptop does; an `after` step fires the next timer (`vi.advanceTimersToNextTimerAsync`), which the
 * generator guarantees is the one the step names.
 */
import { expect, vi } from 'vitest';
import type { AnyActorRef } from 'xstate';
import type { GeneratedPath, PathStep } from '../../src/testing/paths.js';

const realSetTimeout = globalThis.setTimeout;

/** Waits real time (the global `setTimeout` may be faked). */
export const realDelay = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** Only what XState and the guards use: see the module comment. */
export function fakeStepClock(startAt: number) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: startAt });
}

export type StepKind = 'send' | 'done' | 'error' | 'after';

export function kindOf(step: PathStep): StepKind {
  const { type } = step.event;
  if (type.startsWith('xstate.done.actor.')) return 'done';
  if (type.startsWith('xstate.error.actor.')) return 'error';
  if (type.startsWith('xstate.after.')) return 'after';
  return 'send';
}

/** The invoked actor a done/error step reports on. */
export function actorOf(step: PathStep): string {
  return step.event.type.replace(/^xstate\.(done|error)\.actor\./, '');
}

/** Waits (in real time, for real I/O) until the actor's state is `expected`; fails with what it is instead. */
export async function waitForState(actor: AnyActorRef, expected: unknown, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (isDeepEqual(actor.getSnapshot().value, expected)) return;
    // Lets fake-timer microtasks and promise results land, then real I/O.
    await vi.advanceTimersByTimeAsync(0);
    if (isDeepEqual(actor.getSnapshot().value, expected)) return;
    await realDelay(2);
  }
  expect(actor.getSnapshot().value).toEqual(expected);
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How a suite produces each kind of step. */
export interface StepDriver {
  /** Before step `index` runs: arrange what the invoke it starts must answer (the next step). */
  arrange?(path: GeneratedPath, index: number, actor: AnyActorRef): Promise<void> | void;
  /** Sends a user event (translated if the suite must, e.g. a live token). */
  send(step: PathStep, path: GeneratedPath, index: number, actor: AnyActorRef): void;
  /** Makes the invoked actor answer as the step says. */
  settle(step: PathStep, path: GeneratedPath, index: number, actor: AnyActorRef): Promise<void> | void;
}

/** Replays `path` on a started `actor`, asserting the state value after every step. */
export async function replay(path: GeneratedPath, actor: AnyActorRef, driver: StepDriver): Promise<void> {
  expect(actor.getSnapshot().value).toEqual(path.initialState);
  for (const [index, step] of path.steps.entries()) {
    await driver.arrange?.(path, index, actor);
    if (step.sleepMs) vi.setSystemTime(Date.now() + step.sleepMs);
    const kind = kindOf(step);
    if (kind === 'send') {
      driver.send(step, path, index, actor);
      expect(actor.getSnapshot().value, `after step ${index + 1}: ${step.label}`).toEqual(step.state);
      continue;
    }
    if (kind === 'after') {
      await vi.advanceTimersToNextTimerAsync();
      expect(actor.getSnapshot().value, `after step ${index + 1}: ${step.label}`).toEqual(step.state);
      continue;
    }
    await driver.settle(step, path, index, actor);
    await waitForState(actor, step.state);
  }
}
