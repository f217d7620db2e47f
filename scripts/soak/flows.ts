/**
 * The soak's flow runner, shared by `npm run soak` (1 000 flows per provider) and the 100-flow
 * version in `npm test` (test/soak/soak.test.ts).
 *
 * Each flow is a complete session against a simulator that injects mixed faults on every route:
 * sign in (Marketiger: login and project check; Mrkter: password grant, identities, SMS, code), one
 * request through the authorized client, one refresh, logout, stop. A flow ends signed in, or with
 * a typed `AuthError` in `context.error`; anything else (an untyped error, a flow that does not
 * settle within the bound) is a violation the caller asserts on.
 */
import { isAxiosError } from 'axios';
import { type AnyActor, createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { isAuthError, isAuthErrorKind } from '../../src/errors.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import type { MrkterIdentity } from '../../src/services/types.js';
import { marketigerRoutes, startMarketigerSimulator } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, mrkterRoutes, startMrkterSimulator } from '../../src/testing/mrkterSimulator.js';
import { HTML_ERROR_PAGE, type SimFault } from '../../src/testing/simServer.js';

/** Options of a soak run. */
export interface SoakOptions {
  /** Complete flows to run. */
  flows: number;
  /** Flows running at once. Default 8. */
  concurrency?: number;
  /** Share of requests that meet a fault, split evenly over the five fault kinds. Default 0.1. */
  faultProbability?: number;
  /** The services' timeout; the delay fault waits longer than this. Default 300 ms. */
  timeoutMs?: number;
  /** A flow that has not settled after this long is a violation. Default 15 000 ms. */
  flowBoundMs?: number;
  /** Called after each finished flow with the number finished so far (e.g. to measure the heap after 100). */
  onFlowDone?: (done: number) => void | Promise<void>;
  /** Source of randomness for the faults. Default `Math.random`. */
  random?: () => number;
}

/** What a soak run found. */
export interface SoakResult {
  provider: 'marketiger' | 'mrkter';
  flows: number;
  signedIn: number;
  /** Flows that ended without signing in, by `AuthError` kind. */
  errorsByKind: Record<string, number>;
  /** Flows that ended with something other than an `AuthError` (described), or did not settle. */
  violations: string[];
  maxDurationMs: number;
}

const FAULT_KINDS = 5;

/** The mixed faults of one route: each kind with an equal share of `probability`. */
export function mixedFaults(probability: number, timeoutMs: number): SimFault[] {
  // Independent draws per kind: 1 - (1 - p/5)^5 ≈ p of requests meet at least one.
  const p = 1 - (1 - probability) ** (1 / FAULT_KINDS);
  return [
    { kind: 'status', status: 503, body: HTML_ERROR_PAGE, contentType: 'text/html', probability: p },
    { kind: 'drop', probability: p },
    { kind: 'latency', ms: timeoutMs + 150, probability: p },
    { kind: 'malformed', body: '{"success":true,"data":', status: 200, probability: p },
    { kind: 'rateLimit', retryAfter: '1', probability: p },
  ];
}

function faultsFor(routes: readonly string[], probability: number, timeoutMs: number) {
  return Object.fromEntries(routes.map((route) => [route, mixedFaults(probability, timeoutMs)]));
}

/** Runs `count` tasks with at most `concurrency` at once; `task(i, slot)` gets its index and a slot number. */
async function pool(
  count: number,
  concurrency: number,
  task: (index: number, slot: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async (_, slot) => {
      while (next < count) {
        const index = next++;
        await task(index, slot);
      }
    }),
  );
}

interface Tally {
  result: SoakResult;
  record(outcome: FlowOutcome, durationMs: number): void;
}

type FlowOutcome = { signedIn: true } | { signedIn: false; kind: string } | { violation: string };

function tally(provider: SoakResult['provider']): Tally {
  const result: SoakResult = {
    provider,
    flows: 0,
    signedIn: 0,
    errorsByKind: {},
    violations: [],
    maxDurationMs: 0,
  };
  return {
    result,
    record(outcome, durationMs) {
      result.flows++;
      result.maxDurationMs = Math.max(result.maxDurationMs, Math.round(durationMs));
      if ('violation' in outcome) result.violations.push(outcome.violation);
      else if (outcome.signedIn) result.signedIn++;
      else result.errorsByKind[outcome.kind] = (result.errorsByKind[outcome.kind] ?? 0) + 1;
    },
  };
}

/** The error a machine keeps, checked to be a typed one; a violation when it is anything else. */
function endedWith(actor: AnyActor): FlowOutcome {
  const error = (actor.getSnapshot().context as { error: unknown }).error;
  const kind = (error as { kind?: unknown } | null)?.kind;
  if (isAuthErrorKind(kind)) return { signedIn: false, kind };
  return { violation: `ended without signing in and without a typed error: ${JSON.stringify(error)}` };
}

/** A client request's outcome: fine when it answered or failed with an AuthError or a scrubbed HTTP/transport error. */
async function request(
  http: { get(path: string): Promise<unknown> },
  path: string,
): Promise<string | undefined> {
  try {
    await http.get(path);
    return undefined;
  } catch (error) {
    if (isAuthError(error)) return undefined;
    // The client passes HTTP and transport failures of API calls on as axios errors (scrubbed): a 5xx
    // page, a dropped socket. Anything else (a TypeError from our code) is a violation.
    if (isAxiosError(error)) return undefined;
    return `client request failed with ${String((error as { name?: unknown }).name)}`;
  }
}

/** Drives an actor to a settled state and returns whether it settled in time. */
async function settle(actor: AnyActor, until: (s: any) => boolean, deadline: number): Promise<boolean> {
  try {
    await waitFor(actor, until, { timeout: Math.max(1, deadline - Date.now()) });
    return true;
  } catch {
    return false;
  }
}

/** The signed-in half of a flow, the same for both providers: one API request through the client, one refresh. */
async function runSignedInPhase(
  actor: AnyActor,
  baseURL: string,
  path: string,
  timeoutMs: number,
  deadline: number,
): Promise<FlowOutcome> {
  const http = createAuthorizedAxios(actor, { baseURL, timeout: timeoutMs });
  const clientViolation = await request(http, path);
  actor.send({ type: 'auth.refresh' });
  const refreshed = await settle(actor, (s) => !s.matches({ signedIn: 'refreshing' }), deadline);
  if (clientViolation) return { violation: clientViolation };
  return refreshed ? { signedIn: true } : { violation: 'refresh did not settle' };
}

/**
 * Soaks the Marketiger flow: login (and project check) → one API request → refresh → logout.
 *
 * @example
 * ```ts
 * const result = await soakMarketiger({ flows: 100 });
 * ```
 */
export async function soakMarketiger(options: SoakOptions): Promise<SoakResult> {
  const { timeoutMs = 300, faultProbability = 0.1, flowBoundMs = 15_000, concurrency = 8 } = options;
  const sim = await startMarketigerSimulator({
    ...(options.random ? { random: options.random } : {}),
    faults: faultsFor(Object.values(marketigerRoutes), faultProbability, timeoutMs),
  });
  const t = tally('marketiger');
  try {
    const api = createMarketigerApi({ baseURL: sim.baseURL, timeoutMs });
    const machine = marketigerMachine.provide({ actors: marketigerActors(api) });
    await pool(options.flows, concurrency, async () => {
      const started = performance.now();
      const deadline = Date.now() + flowBoundMs;
      const actor = createActor(machine, {
        input: { projectId: 'demo-project', refreshJitterMs: 0 },
        clock: createUnrefClock(),
      }).start();
      let outcome: FlowOutcome;
      try {
        actor.send({ type: 'auth.login', email: 'demo@marketiger.test', password: 'demo-password' });
        if (!(await settle(actor, (s) => !s.hasTag('busy'), deadline))) {
          outcome = { violation: `sign-in did not settle in ${flowBoundMs} ms` };
        } else if (!actor.getSnapshot().matches('signedIn')) {
          outcome = endedWith(actor);
        } else {
          outcome = await runSignedInPhase(actor, sim.baseURL, '/Project/GetProjects', timeoutMs, deadline);
        }
        actor.send({ type: 'auth.logout' });
      } finally {
        actor.stop();
      }
      t.record(outcome, performance.now() - started);
      await options.onFlowDone?.(t.result.flows);
    });
  } finally {
    await sim.close();
  }
  return t.result;
}

/** Users for concurrent Mrkter flows: one per slot, each with its own phone, so codes of parallel flows never replace each other. */
function mrkterUsers(count: number) {
  const template = defaultMrkterUsers[1]!.identities[0]!;
  return Array.from({ length: count }, (_, i) => ({
    username: `soak${i}@mrkter.test`,
    password: `soak-password-${i}`,
    identities: [
      { ...template, accountId: 5000 + i, verifiedPhoneNumber: `+97250${String(i).padStart(7, '0')}` },
    ] as MrkterIdentity[],
  }));
}

/**
 * Soaks the Mrkter flow: password grant → identities (one: auto-selected) → SMS → code → one API
 * request → refresh → logout.
 */
export async function soakMrkter(options: SoakOptions): Promise<SoakResult> {
  const { timeoutMs = 300, faultProbability = 0.1, flowBoundMs = 15_000, concurrency = 8 } = options;
  const users = mrkterUsers(concurrency);
  const sim = await startMrkterSimulator({
    users,
    smsCooldownMs: 0,
    // A fault answers before the handler, so failed logins are never counted: keep the lock out of the way anyway.
    maxFailedLogins: Number.MAX_SAFE_INTEGER,
    ...(options.random ? { random: options.random } : {}),
    authFaults: faultsFor([mrkterRoutes.token], faultProbability, timeoutMs),
    apiFaults: faultsFor(
      [mrkterRoutes.identities, mrkterRoutes.sms, mrkterRoutes.authenticate, mrkterRoutes.currentAccount],
      faultProbability,
      timeoutMs,
    ),
  });
  const t = tally('mrkter');
  try {
    const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl, timeoutMs });
    const machine = mrkterMachine.provide({ actors: mrkterActors(api) });
    await pool(options.flows, concurrency, async (_, slot) => {
      const user = users[slot]!;
      const phone = user.identities[0]!.verifiedPhoneNumber as string;
      const started = performance.now();
      const deadline = Date.now() + flowBoundMs;
      const actor = createActor(machine, {
        input: { refreshJitterMs: 0 },
        clock: createUnrefClock(),
      }).start();
      let outcome: FlowOutcome;
      try {
        actor.send({ type: 'auth.login', username: user.username, password: user.password });
        if (!(await settle(actor, (s) => !s.hasTag('busy'), deadline))) {
          outcome = { violation: `sign-in did not settle in ${flowBoundMs} ms` };
        } else if (!actor.getSnapshot().matches('awaitingCode')) {
          outcome = endedWith(actor);
        } else {
          actor.send({ type: 'code.submit', code: sim.lastCode(phone) ?? '' });
          if (!(await settle(actor, (s) => !s.hasTag('busy'), deadline))) {
            outcome = { violation: `code validation did not settle in ${flowBoundMs} ms` };
          } else if (!actor.getSnapshot().matches('signedIn')) {
            outcome = endedWith(actor);
          } else {
            outcome = await runSignedInPhase(actor, sim.apiUrl, '/accounts/current', timeoutMs, deadline);
          }
        }
        actor.send({ type: 'auth.logout' });
      } finally {
        actor.stop();
      }
      t.record(outcome, performance.now() - started);
      await options.onFlowDone?.(t.result.flows);
    });
  } finally {
    await sim.close();
  }
  return t.result;
}

/** One summary line of a soak result. */
export function summaryLine(result: SoakResult, extra = ''): string {
  const kinds =
    Object.entries(result.errorsByKind)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ') || 'none';
  return (
    `${result.provider}: ${result.flows} flows, ${result.signedIn} signed in, typed errors: ${kinds}; ` +
    `violations ${result.violations.length}; max duration ${result.maxDurationMs} ms${extra}`
  );
}
