/**
 * Shared arrangements of the reliability catalogue (docs/reliability.md): real services, machines and the
 * authorized client against the simulators on loopback. Nothing here fakes HTTP; the only stand-ins
 * are XState clocks (`SimulatedClock`) where a test must step the machine's own timers.
 *
 * Time in these tests (issue 19): a test waits for an observable event (a request reaching the
 * simulator, an answer in its log, a state), never for a real delay that hopes to be long enough.
 * Real-time bounds (`SAFETY_NET_MS`) are only safety nets, generous for two busy cores. A check that
 * nothing more happens asserts that nothing can happen (`expectIdle`) instead of watching for a while.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import {
  type Actor,
  type AnyActorLogic,
  type AnyActorRef,
  createActor,
  type SimulatedClock,
  waitFor,
} from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { AuthError, isAuthError } from '../../src/errors.js';
import { type MarketigerInput, marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { type MrkterInput, mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi, type MarketigerApiOptions } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi, type MrkterApiOptions } from '../../src/services/mrkter/api.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulatorOptions,
  marketigerRoutes,
  startMarketigerSimulator,
} from '../../src/testing/marketigerSimulator.js';
import {
  defaultMrkterUsers,
  type MrkterSimulatorOptions,
  mrkterRoutes,
  startMrkterSimulator,
} from '../../src/testing/mrkterSimulator.js';
import type { SimLogEntry } from '../../src/testing/simServer.js';

export const HOUR = 60 * 60 * 1000;
export const demo = { email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password };
export const single = defaultMrkterUsers.find((user) => user.identities.length === 1)!;
/** `GET /Project/GetProjects` relative to the Marketiger base URL (what the authorized client asks for). */
export const projectsPath = marketigerRoutes.getProjects.replace(/^GET \/v2/, '');
/** `GET /accounts/current` relative to the Mrkter API origin. */
export const currentAccountPath = mrkterRoutes.currentAccount.replace(/^GET /, '');

const cleanups: (() => unknown)[] = [];
/** Registers something to undo after the current test (actors stopped before simulators close). */
export function defer(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}
/** For `afterEach`: runs the cleanups in reverse order. */
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/**
 * The real-time bound of every wait for an event that must come: a safety net (on two busy cores a
 * sign-in can take seconds), never what a test relies on. Within vitest's testTimeout of 20 s.
 */
export const SAFETY_NET_MS = 10_000;

/** The real `setTimeout`, even when a test fakes the global one. */
const realSetTimeout = globalThis.setTimeout;

/**
 * Waits until `check()` holds, polling every few ms on the real timers; fails naming `what` after
 * `timeout` (a safety net). Polling in the process that runs the simulators sees an event (a request
 * arriving) within one poll, before any timer the event itself starts (a latency fault of 100 ms
 * or more): the next poll is due before that timer is.
 */
export async function until(check: () => boolean, what: string, timeout = SAFETY_NET_MS): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => realSetTimeout(resolve, 2));
  }
}

/**
 * Waits until the simulator has received `n` requests on `route`. A request is counted when it
 * arrives, before any fault (latency, hang) and before it is answered: "the request is in flight".
 */
export function untilRequests(
  sim: { requestCount(route: string): number },
  route: string,
  n = 1,
  timeout = SAFETY_NET_MS,
) {
  return until(
    () => sim.requestCount(route) >= n,
    `${n} request(s) on ${route} (${sim.requestCount(route)} so far)`,
    timeout,
  );
}

/**
 * Waits until the simulator has answered `n` requests on `route` with `status` (its log records a
 * request when it is answered, dropped or left hanging): e.g. "the server finished the rotation",
 * even when the client stopped listening.
 */
export function untilAnswered(
  sim: { readonly log: readonly SimLogEntry[] },
  route: string,
  status: SimLogEntry['status'],
  n = 1,
) {
  const answered = () => sim.log.filter((entry) => entry.route === route && entry.status === status).length;
  return until(() => answered() >= n, `${n} answer(s) ${status} on ${route} (${answered()} so far)`);
}

/**
 * The actor system's pending delayed events (`after` timers, delayed sends): the event type and ms
 * until due on the wall clock (under a `SimulatedClock`, whose time `Date` does not follow, this is
 * the delay as armed).
 */
export function pendingTimers(actor: AnyActorRef): { event: string; dueInMs: number }[] {
  const scheduled = actor.system.getSnapshot()._scheduledEvents;
  return Object.values(scheduled).map(({ event, startedAt, delay }) => ({
    event: event.type,
    dueInMs: startedAt + delay - Date.now(),
  }));
}

/**
 * Asserts that the actor cannot send a request by itself (before `timersBeyondMs` from now): no
 * invoked or spawned child is running (no request of its own in flight) and no delayed event is due
 * before then (default: none pending at all). It replaces "wait a while, then check that nothing more
 * was sent": once nothing can send, what a simulator counted for the requests the test awaited is
 * final, and a negative check needs no waiting (nor can it pass only because the wait was short).
 */
export function expectIdle(actor: AnyActorRef, options: { timersBeyondMs?: number } = {}): void {
  const { timersBeyondMs = Number.POSITIVE_INFINITY } = options;
  const snapshot = actor.getSnapshot() as { children: Record<string, unknown>; value: unknown };
  const what = JSON.stringify(snapshot.value);
  // `resumeTimers` lives at each machine's root for the actor's whole life: it sends `auth.resume` once,
  // when the actor starts, and never a request.
  const working = Object.keys(snapshot.children).filter((id) => id !== 'resumeTimers');
  expect(working, `children still running in ${what}`).toEqual([]);
  expect(
    pendingTimers(actor).filter((timer) => timer.dueInMs < timersBeyondMs),
    `timers due within ${timersBeyondMs} ms in ${what}`,
  ).toEqual([]);
}

/** Awaits a promise that must reject, and hands back the rejection (any value). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Awaits a promise that must reject with an `AuthError`, and hands it back. */
export async function authErrorOf(promise: Promise<unknown>): Promise<AuthError> {
  const error = await rejectionOf(promise);
  expect(isAuthError(error), `not an AuthError: ${String(error)}`).toBe(true);
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

/** Everything an error exposes to a log or a bug report. */
export function exposure(error: unknown): string {
  const e = error as { message?: unknown; stack?: unknown; cause?: unknown };
  return [
    String(e?.message ?? ''),
    String(e?.stack ?? ''),
    JSON.stringify(error) ?? '',
    JSON.stringify(e?.cause ?? null) ?? '',
    inspect(error, { depth: 8 }),
    String(error),
  ].join('\n');
}

/** Asserts that none of `secrets` (non-empty strings) appears in `text`. */
export function expectNoSecret(
  text: string,
  secrets: readonly (string | null | undefined)[],
  what = '',
): void {
  for (const secret of secrets) {
    if (!secret) continue;
    expect(text.includes(secret), `${what} exposes a secret (${secret.slice(0, 6)}…)`).toBe(false);
  }
}

/** A JWT with the given payload; clients never check the signature. */
export function fakeJwt(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.c2lnbmF0dXJl`;
}

/** Milliseconds a promise takes to settle, and how it settled. */
export async function timed<T>(start: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  // The clock starts before the call: a promise handed in would already be running, and its deadline
  // timer armed, by the time it could be read (on busy cores, milliseconds earlier).
  const started = performance.now();
  try {
    const value = await start();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

type ClockOption = ReturnType<typeof createUnrefClock> | SimulatedClock;

/** A Marketiger simulator and a service for it, closed after the test. */
export async function marketiger(
  simOptions: MarketigerSimulatorOptions = {},
  apiOptions: MarketigerApiOptions = {},
) {
  const sim = await startMarketigerSimulator(simOptions);
  defer(() => sim.close());
  const api = createMarketigerApi({ baseURL: sim.baseURL, timeoutMs: 2_000, ...apiOptions });
  return { sim, api };
}

/** A started Marketiger actor on the real service (not signed in). */
export function marketigerActor(
  api: ReturnType<typeof createMarketigerApi>,
  input: MarketigerInput = {},
  clock: ClockOption = createUnrefClock(),
) {
  const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
    input,
    clock,
  }).start();
  defer(() => actor.stop());
  return actor;
}

/** A Marketiger session signed in over loopback, with an authorized client on it. */
export async function signedInMarketiger(
  options: {
    sim?: MarketigerSimulatorOptions;
    api?: MarketigerApiOptions;
    input?: MarketigerInput;
    clock?: ClockOption;
    client?: { timeout?: number; refreshWaitMs?: number };
  } = {},
) {
  const { sim, api } = await marketiger(options.sim, options.api);
  // Signed in with a patient service: a test's short `timeoutMs` is for the fault it injects, and a
  // real sign-in on a busy machine may outlast it. The session then goes on, restored from its
  // snapshot, in an actor on the service the test asked for.
  const patient = createMarketigerApi({ baseURL: sim.baseURL, ...options.api, timeoutMs: SAFETY_NET_MS });
  const signingIn = createActor(marketigerMachine.provide({ actors: marketigerActors(patient) }), {
    input: options.input ?? {},
  }).start();
  signingIn.send({ type: 'auth.login', ...demo });
  await waitFor(signingIn, (s) => s.matches({ signedIn: 'active' }), { timeout: SAFETY_NET_MS });
  const snapshot = signingIn.getPersistedSnapshot();
  signingIn.stop();
  const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
    snapshot,
    clock: options.clock ?? createUnrefClock(),
  }).start();
  defer(() => actor.stop());
  const http = createAuthorizedAxios(actor, { baseURL: sim.baseURL, ...options.client });
  return { sim, api, actor, http };
}

/** A Mrkter simulator and a service for it, closed after the test. */
export async function mrkter(simOptions: MrkterSimulatorOptions = {}, apiOptions: MrkterApiOptions = {}) {
  const sim = await startMrkterSimulator(simOptions);
  defer(() => sim.close());
  const api = createMrkterApi({
    authBaseURL: sim.authUrl,
    apiBaseURL: sim.apiUrl,
    timeoutMs: 2_000,
    ...apiOptions,
  });
  return { sim, api };
}

/** A started Mrkter actor on the real service (not signed in). */
export function mrkterActor(
  api: ReturnType<typeof createMrkterApi>,
  input: MrkterInput = {},
  clock: ClockOption = createUnrefClock(),
) {
  const actor = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), { input, clock }).start();
  defer(() => actor.stop());
  return actor;
}

/** A Mrkter session (the single-identity user) signed in over loopback, with an authorized client. */
export async function signedInMrkter(
  options: {
    sim?: MrkterSimulatorOptions;
    api?: MrkterApiOptions;
    input?: MrkterInput;
    clock?: ClockOption;
  } = {},
) {
  const { sim, api } = await mrkter(options.sim, options.api);
  const actor = mrkterActor(api, options.input, options.clock);
  actor.send({ type: 'auth.login', username: single.username, password: single.password });
  await waitFor(actor, (s) => s.matches('awaitingCode'), { timeout: SAFETY_NET_MS });
  actor.send({ type: 'code.submit', code: sim.lastCode()! });
  await waitFor(actor, (s) => s.matches({ signedIn: 'active' }), { timeout: SAFETY_NET_MS });
  const http = createAuthorizedAxios(actor, { baseURL: sim.apiUrl });
  return { sim, api, actor, http };
}

/** Waits for a snapshot that matches, at most `timeout` ms (a safety net, default `SAFETY_NET_MS`). */
export function settle<T extends AnyActorLogic>(
  actor: Actor<T>,
  predicate: (snapshot: ReturnType<Actor<T>['getSnapshot']>) => boolean,
  timeout = SAFETY_NET_MS,
) {
  return waitFor(actor, predicate, { timeout });
}

/** Refresh-grant requests the Mrkter simulator received, in order. */
export function mrkterRefreshes(sim: { tokenRequests: readonly { params: Record<string, string> }[] }) {
  return sim.tokenRequests.filter((request) => request.params['grant_type'] === 'refresh_token');
}
