/**
 * The one harness of the machine tests: stub actors (the only stubs: pure machine tests, no HTTP),
 * actors started with XState's inspection recording every transition taken, and the coverage check
 * that compares what the tests took with the machine's own graph.
 */
import { expect, vi } from 'vitest';
import {
  type Actor,
  type ActorOptions,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  createActor,
  fromPromise,
  type InspectionEvent,
} from 'xstate';
import type { TokenSet } from '../../src/services/types.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** What every test types as a password: a canary that must never show up in context or snapshots. */
export const PASSWORD = 'canary-password-7f3a';

/** One call of a stub actor: its input and abort signal, answered by the test unless `answer` did. */
export interface Call<I, O> {
  input: I;
  signal: AbortSignal;
  resolve(output: O): void;
  reject(error: unknown): void;
}

/**
 * A stub actor: every call is recorded with its input and signal, and answered by `answer` when given,
 * else by the test through the call's `resolve`/`reject`.
 */
export function stubActor<O, I>(answer?: (input: I, call: number) => O | Promise<O>) {
  const calls: Call<I, O>[] = [];
  const logic = fromPromise<O, I>(
    ({ input, signal }) =>
      new Promise<O>((resolve, reject) => {
        calls.push({ input, signal, resolve, reject });
        if (answer)
          Promise.resolve(calls.length)
            .then((n) => answer(input, n))
            .then(resolve, reject);
      }),
  );
  return { logic, calls };
}

/** Services a test re-stubs per case (`vi.fn`), each called with the actor's input and abort signal. */
export type StubServices = Record<string, (input: never, signal: AbortSignal) => Promise<unknown>>;

/** `machine` with each named actor calling the stub service of the same name. */
export function withServices<TMachine extends AnyStateMachine>(machine: TMachine, services: StubServices) {
  const actors = Object.fromEntries(
    Object.entries(services).map(([name, service]) => [
      name,
      fromPromise(({ input, signal }) => service(input as never, signal)),
    ]),
  );
  return machine.provide({ actors } as never) as TMachine;
}

/** A token answer whose access token lives `ttlMs` from now (`null`: the answer says nothing of its expiry). */
export function tokenSet(
  accessToken: string,
  refreshToken: string | null,
  ttlMs: number | null = HOUR,
): TokenSet {
  return {
    accessToken,
    refreshToken,
    accessTokenExpiresAt: ttlMs === null ? null : Date.now() + ttlMs,
    clockSkewMs: 0,
  };
}

/** A promise the test settles by hand, to hold an actor in a busy state. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets promise answers land without moving the clock. */
export const settle = () => vi.advanceTimersByTimeAsync(0);

// ---------------------------------------------------------------------------------------------
// Transition coverage, computed rather than claimed: every transition any subject takes is recorded
// from XState's own microstep inspection (keys start with the machine id), and each suite's last
// check compares that with its machine's graph.

const taken = new Set<string>();

function transitionKey(t: AnyTransitionDefinition): string {
  const candidates = t.eventType ? (t.source.transitions.get(t.eventType) ?? []) : (t.source.always ?? []);
  return `${t.source.id} ${t.eventType} #${candidates.indexOf(t)}`;
}

function allTransitionKeys(node: AnyStateNode): string[] {
  const keys: string[] = [];
  for (const list of node.transitions.values()) for (const t of list) keys.push(transitionKey(t));
  for (const t of node.always ?? []) keys.push(transitionKey(t));
  for (const child of Object.values(node.states)) keys.push(...allTransitionKeys(child));
  return keys;
}

/** The `inspect` option that records every transition taken. */
export function record(event: InspectionEvent): void {
  if (event.type === '@xstate.microstep') for (const t of event._transitions) taken.add(transitionKey(t));
}

/** Creates and starts an actor whose transitions are recorded for the coverage check. */
export function startRecorded<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: ActorOptions<TMachine> = {},
): Actor<TMachine> {
  const subject = createActor(machine, { ...options, inspect: record } as ActorOptions<TMachine>);
  subject.start();
  return subject;
}

/** How many transitions were recorded for `machine` (0 when a test filter ran nothing that records). */
export function recordedCount(machine: AnyStateMachine): number {
  return [...taken].filter((key) => key.startsWith(`${machine.id}.`)).length;
}

/** The keys of every transition of `machine`, each guarded branch on its own. */
export function transitionKeys(machine: AnyStateMachine): string[] {
  return allTransitionKeys(machine.root);
}

/** The keys of `machine`'s transitions that no test took. */
export function missingTransitions(machine: AnyStateMachine): string[] {
  return allTransitionKeys(machine.root).filter((key) => !taken.has(key));
}

/** Asserts that the tests took every transition of `machine`. */
export function expectEveryTransitionTaken(machine: AnyStateMachine): void {
  expect(missingTransitions(machine)).toEqual([]);
}
