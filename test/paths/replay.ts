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

/**
 * Every state value the actor has been in, in order. A step is checked against the states reached
 * since the previous step, not only the current one: a chained request (sign-in done → project check)
 * may answer over loopback before the test looks, and the state it passed through is still a state
 * the step reached.
 */
export function recordStates(actor: AnyActorRef): { values: unknown[]; cursor: number } {
  const record = { values: [actor.getSnapshot().value] as unknown[], cursor: 1 };
  actor.subscribe((snapshot: { value: unknown }) => {
    record.values.push(snapshot.value);
  });
  return record;
}

function findFrom(record: { values: unknown[]; cursor: number }, expected: unknown): number {
  for (let i = record.cursor; i < record.values.length; i++)
    if (isDeepEqual(record.values[i], expected)) return i;
  return -1;
}

/**
 * Waits (in real time, for real I/O) until the actor has reached `expected` since the previous step;
 * fails with the states it went through instead. A step that changes nothing (an ignored event) may
 * emit no snapshot: then the current state must be `expected`.
 */
export async function waitForState(
  actor: AnyActorRef,
  record: { values: unknown[]; cursor: number },
  expected: unknown,
  label: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = findFrom(record, expected);
    if (found >= 0) {
      record.cursor = found + 1;
      return;
    }
    if (record.cursor >= record.values.length && isDeepEqual(actor.getSnapshot().value, expected)) return;
    if (performance.now() >= deadline) break;
    // Lets fake-timer microtasks and promise results land, then real I/O.
    await vi.advanceTimersByTimeAsync(0);
    if (findFrom(record, expected) < 0) await realDelay(2);
  }
  expect(record.values.slice(record.cursor), label).toContainEqual(expected);
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How a suite produces each kind of step. */
export interface StepDriver {
  /**
   * Arranges what the invoke that step `index` starts must answer (the next step), or that a request
   * it leaves unanswered does not answer. Called for a whole chain (see `chainOf`) before the step that
   * sets it off: for step `index` and for every answer after it, in order.
   */
  arrange?(path: GeneratedPath, index: number, actor: AnyActorRef): Promise<void> | void;
  /** Sends a user event (translated if the suite must, e.g. a live token). */
  send(step: PathStep, path: GeneratedPath, index: number, actor: AnyActorRef): void;
  /** Makes the invoked actor answer as the step says. */
  settle(step: PathStep, path: GeneratedPath, index: number, actor: AnyActorRef): Promise<void> | void;
}

/** An invoked actor's answer: it arrives by itself once its request has gone out, the test only waits. */
export const isAnswer = (step: PathStep) => {
  const kind = kindOf(step);
  return kind === 'done' || kind === 'error';
};

/**
 * The steps one step sets off: itself and every answer that follows it. Over real sockets an answer
 * chains into the next request by itself (sign-in done → identities loaded → one identity → the SMS
 * request goes out) while the test is still waiting for the first state, so whatever those requests
 * must meet has to be in place before the step that starts the chain, not before each answer.
 */
export function chainOf(path: GeneratedPath, index: number): number[] {
  const chain = [index];
  for (let next = index + 1; next < path.steps.length && isAnswer(path.steps[next]!); next++)
    chain.push(next);
  return chain;
}

/** Replays `path` on a started `actor`, asserting the state value after every step. */
export async function replay(
  path: GeneratedPath,
  actor: AnyActorRef,
  driver: StepDriver,
  options: { stepTimeoutMs?: number } = {},
): Promise<void> {
  expect(actor.getSnapshot().value).toEqual(path.initialState);
  const record = recordStates(actor);
  for (const [index, step] of path.steps.entries()) {
    const label = `step ${index + 1}: ${step.label}`;
    // An answer was arranged with the step that set off its chain.
    if (index === 0 || !isAnswer(step))
      for (const ahead of chainOf(path, index)) await driver.arrange?.(path, ahead, actor);
    if (step.sleepMs) vi.setSystemTime(Date.now() + step.sleepMs);
    const kind = kindOf(step);
    if (kind === 'send') driver.send(step, path, index, actor);
    else if (kind === 'after') await vi.advanceTimersToNextTimerAsync();
    else await driver.settle(step, path, index, actor);
    await waitForState(actor, record, step.state, label, options.stepTimeoutMs);
  }
}
