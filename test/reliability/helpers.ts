/**
 * Shared arrangements of the reliability catalogue (RELIABILITY.md): real services, machines and the
 * authorized client against the simulators on loopback. Nothing here fakes HTTP; the only stand-ins
 * are XState clocks (`SimulatedClock`) where a test must step the machine's own timers.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { type Actor, type AnyActorLogic, createActor, type SimulatedClock, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { AuthError, isAuthError } from '../../src/errors.js';
import { type MarketigerInput, marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { type MrkterInput, mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { marketigerActors } from '../../src/services/marketigerActors.js';
import { createMarketigerApi, type MarketigerApiOptions } from '../../src/services/marketigerApi.js';
import { mrkterActors } from '../../src/services/mrkterActors.js';
import { createMrkterApi, type MrkterApiOptions } from '../../src/services/mrkterApi.js';
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

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
export async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
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
  const actor = marketigerActor(api, options.input, options.clock);
  actor.send({ type: 'auth.login', ...demo });
  await waitFor(actor, (s) => s.matches({ signedIn: 'active' }), { timeout: 5_000 });
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
  await waitFor(actor, (s) => s.matches('awaitingCode'), { timeout: 5_000 });
  actor.send({ type: 'code.submit', code: sim.lastCode()! });
  await waitFor(actor, (s) => s.matches({ signedIn: 'active' }), { timeout: 5_000 });
  const http = createAuthorizedAxios(actor, { baseURL: sim.apiUrl });
  return { sim, api, actor, http };
}

/** Waits for a snapshot that matches, at most `timeout` ms (default 3 s). */
export function settle<T extends AnyActorLogic>(
  actor: Actor<T>,
  predicate: (snapshot: ReturnType<Actor<T>['getSnapshot']>) => boolean,
  timeout = 3_000,
) {
  return waitFor(actor, predicate, { timeout });
}

/** Refresh-grant requests the Mrkter simulator received, in order. */
export function mrkterRefreshes(sim: { tokenRequests: readonly { params: Record<string, string> }[] }) {
  return sim.tokenRequests.filter((request) => request.params['grant_type'] === 'refresh_token');
}
