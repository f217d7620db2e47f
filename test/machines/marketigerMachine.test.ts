import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Actor,
  type ActorOptions,
  type AnyStateNode,
  type AnyTransitionDefinition,
  createActor,
  fromPromise,
  type InspectionEvent,
} from 'xstate';
import type { SharedSession } from '../../src/coordination/types.js';
import { AuthError } from '../../src/errors.js';
import { type MarketigerInput, marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { MAX_TIMER_MS } from '../../src/services/http.js';
import { marketigerActors } from '../../src/services/marketigerActors.js';
import type { MarketigerApi, TokenSet } from '../../src/services/types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2030, 0, 1, 8, 0, 0);
const PASSWORD = 'canary-password-7f3a';

// ---------------------------------------------------------------------------------------------
// Stub actors: each call is recorded with its input and signal, and answered by the test (or by
// `answer`, when given). These are the only stubs: pure machine tests, no HTTP.

interface Call<I, O> {
  input: I;
  signal: AbortSignal;
  resolve(output: O): void;
  reject(error: unknown): void;
}

function stubActor<O, I>(answer?: (input: I, call: number) => O | Promise<O>) {
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

function tokens(n: number, overrides: Partial<TokenSet> = {}): TokenSet {
  return {
    accessToken: `access-${n}`,
    refreshToken: `refresh-${n}`,
    accessTokenExpiresAt: Date.now() + HOUR,
    clockSkewMs: 0,
    ...overrides,
  };
}

interface StubAnswers {
  login?: (input: { email: string; password: string }, call: number) => TokenSet | Promise<TokenSet>;
  refreshTokens?: (input: { refreshToken: string }, call: number) => TokenSet | Promise<TokenSet>;
  checkProjectAccess?: (input: { accessToken: string; projectId: string }) => void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Transition coverage, computed rather than claimed: every transition any subject takes is recorded
// from XState's own microstep inspection, and the last test compares that with the machine's graph.

type Machine = typeof marketigerMachine;
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

function record(event: InspectionEvent) {
  if (event.type === '@xstate.microstep') for (const t of event._transitions) taken.add(transitionKey(t));
}

/** The machine with stub actors, and the stubs' call records. */
function arrange(answers: StubAnswers = {}) {
  const login = stubActor(answers.login);
  const refreshTokens = stubActor(answers.refreshTokens);
  const checkProjectAccess = stubActor<void, { accessToken: string; projectId: string }>(
    answers.checkProjectAccess,
  );
  const machine = marketigerMachine.provide({
    actors: {
      login: login.logic,
      refreshTokens: refreshTokens.logic,
      checkProjectAccess: checkProjectAccess.logic,
    },
  });
  return { machine, login, refreshTokens, checkProjectAccess };
}

function start(machine: Machine, options: ActorOptions<Machine> = {}): Actor<Machine> {
  const subject = createActor(machine, { ...options, inspect: record } as ActorOptions<Machine>);
  subject.start();
  return subject;
}

/** Lets promise answers land without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

/** Starts a subject, signs in with the stubs' answers, and returns it signed in. */
async function signedIn(input: MarketigerInput = {}, answers: StubAnswers = {}) {
  const stubs = arrange({ login: () => tokens(1), ...answers });
  const subject = start(stubs.machine, { input: { refreshJitterMs: 0, ...input } });
  subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
  await settle();
  return { subject, ...stubs };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------

describe('marketigerMachine: the contract', () => {
  it('starts signed out without any input, with empty tokens and the documented defaults', () => {
    // arrange / act
    const subject = createActor(marketigerMachine);

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('signedOut');
    expect(context).toEqual({
      accessToken: null,
      refreshToken: null,
      accessTokenExpiresAt: null,
      refreshTokenExpiresAt: null,
      refreshAt: null,
      clockSkewMs: 0,
      refreshAttempts: 0,
      error: null,
      projectId: null,
      refreshLeewayMs: 60_000,
      refreshTokenTtlMs: 12 * HOUR,
      accessTokenTtlMs: HOUR,
      refreshJitterMs: 60_000,
    });
  });

  it('takes its configuration from input and ignores values that are not usable numbers', () => {
    // arrange / act
    const subject = createActor(marketigerMachine, {
      input: {
        projectId: 'p-42',
        refreshLeewayMs: -5,
        refreshTokenTtlMs: 0,
        accessTokenTtlMs: Number.NaN,
        refreshJitterMs: 0,
      },
    });

    // assert
    expect(subject.getSnapshot().context).toMatchObject({
      projectId: 'p-42',
      refreshLeewayMs: 60_000,
      refreshTokenTtlMs: 12 * HOUR,
      accessTokenTtlMs: HOUR,
      refreshJitterMs: 0,
    });
  });

  it('has the documented id, states and events', () => {
    // arrange
    const root = marketigerMachine.root;
    const eventsOf = (node: AnyStateNode) =>
      [...node.transitions.keys()].filter((t) => t.startsWith('auth.'));

    // assert
    expect(marketigerMachine.id).toBe('marketiger');
    expect(Object.keys(root.states)).toEqual([
      'signedOut',
      'signingIn',
      'checkingProject',
      'signedIn',
      'sessionExpired',
    ]);
    expect(Object.keys(root.states.signedIn!.states)).toEqual([
      'active',
      // Transient: one rule (refresh token still valid?) on every way into `refreshing`; never a resting value.
      'checkingRefreshToken',
      'refreshing',
      'backingOff',
    ]);
    expect(eventsOf(root.states.signedOut!)).toEqual(['auth.login']);
    expect(eventsOf(root.states.sessionExpired!).sort()).toEqual(['auth.login', 'auth.logout']);
    expect(eventsOf(root.states.signingIn!)).toEqual(['auth.logout']);
    expect(eventsOf(root.states.checkingProject!)).toEqual(['auth.logout']);
    expect(eventsOf(root.states.signedIn!).sort()).toEqual(['auth.logout', 'auth.resume']);
    expect(eventsOf(root.states.signedIn!.states.active!).sort()).toEqual([
      'auth.refresh',
      'auth.tokenRejected',
    ]);
  });

  it('rejects with a clear message when used without its actors', async () => {
    // arrange
    const subject = start(marketigerMachine);

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();

    // assert
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.error).not.toBeNull();
  });
});

describe('marketigerMachine: signing in', () => {
  it('signs in with the email and password of the auth.login event and keeps the tokens', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine, { input: { refreshJitterMs: 0 } });

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // assert: busy while the call is out
    expect(subject.getSnapshot().value).toBe('signingIn');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(login.calls[0]?.input).toMatchObject({ email: 'ada@example.com', password: PASSWORD });

    // act
    login.calls[0]!.resolve(tokens(1, { clockSkewMs: 4_000 }));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toEqual({ signedIn: 'active' });
    expect(context).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      accessTokenExpiresAt: T0 + HOUR,
      refreshTokenExpiresAt: T0 + 12 * HOUR,
      refreshAt: T0 + HOUR - MINUTE,
      clockSkewMs: 4_000,
      error: null,
    });
  });

  it('returns to signedOut with the error of a failed sign-in, and keeps nothing else', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: 'wrong' });

    // act
    login.calls[0]!.reject(new AuthError('invalid_credentials', { status: 400 }));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('signedOut');
    expect(context.error).toEqual({
      kind: 'invalid_credentials',
      status: 400,
      message: new AuthError('invalid_credentials').message,
    });
    expect(context.accessToken).toBeNull();
    expect(context.refreshToken).toBeNull();
  });

  it('clears the last error when a new sign-in starts', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: 'wrong' });
    login.calls[0]!.reject(new AuthError('invalid_credentials'));
    await settle();

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // assert
    expect(subject.getSnapshot().value).toBe('signingIn');
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('ignores a second auth.login while the first is still out', () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // act
    subject.send({ type: 'auth.login', email: 'eve@example.com', password: 'other' });

    // assert
    expect(login.calls).toHaveLength(1);
  });

  it('aborts the sign-in on auth.logout, and a late answer changes nothing', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // act
    subject.send({ type: 'auth.logout' });
    login.calls[0]!.resolve(tokens(1));
    await settle();

    // assert
    expect(login.calls[0]!.signal.aborted).toBe(true);
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it('never puts the password in context or in a persisted snapshot, even mid-sign-in', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    const during = JSON.stringify(subject.getPersistedSnapshot());
    login.calls[0]!.resolve(tokens(1));
    await settle();
    const after = JSON.stringify(subject.getPersistedSnapshot());

    // assert
    expect(during).toContain('ada@example.com');
    expect(during).not.toContain(PASSWORD);
    expect(after).not.toContain(PASSWORD);
    expect(JSON.stringify(subject.getSnapshot().context)).not.toContain(PASSWORD);
  });
});

describe('marketigerMachine: project access', () => {
  it('checks the project with the new access token before reaching signedIn', async () => {
    // arrange
    const { machine, login, checkProjectAccess } = arrange();
    const subject = start(machine, { input: { projectId: 'p-42' } });
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // act
    login.calls[0]!.resolve(tokens(1));
    await settle();

    // assert
    expect(subject.getSnapshot().value).toBe('checkingProject');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(checkProjectAccess.calls[0]?.input).toEqual({ accessToken: 'access-1', projectId: 'p-42' });

    // act
    checkProjectAccess.calls[0]!.resolve();
    await settle();

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context.accessToken).toBe('access-1');
  });

  it('signs out with no_project_access and forgets the tokens when the project is refused', async () => {
    // arrange
    const { machine, checkProjectAccess } = arrange({ login: () => tokens(1) });
    const subject = start(machine, { input: { projectId: 'p-42' } });
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();

    // act
    checkProjectAccess.calls[0]!.reject(new AuthError('no_project_access', { status: 403 }));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('signedOut');
    expect(context.error?.kind).toBe('no_project_access');
    expect(context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      accessTokenExpiresAt: null,
      refreshTokenExpiresAt: null,
    });
  });

  it('aborts the project check on auth.logout', async () => {
    // arrange
    const { machine, checkProjectAccess } = arrange({ login: () => tokens(1) });
    const subject = start(machine, { input: { projectId: 'p-42' } });
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();

    // act
    subject.send({ type: 'auth.logout' });

    // assert
    expect(checkProjectAccess.calls[0]!.signal.aborted).toBe(true);
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });
});

describe('marketigerMachine: refreshing', () => {
  it('refreshes refreshLeewayMs before the access token expires, with the refresh token', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();

    // act
    await vi.advanceTimersByTimeAsync(HOUR - MINUTE - 1);

    // assert: not a moment early
    expect(refreshTokens.calls).toHaveLength(0);

    // act
    await vi.advanceTimersByTimeAsync(1);

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'refreshing' });
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(refreshTokens.calls[0]?.input).toEqual({ refreshToken: 'refresh-1' });
  });

  it('refreshes a little earlier, by at most refreshJitterMs, so sessions do not refresh together', async () => {
    // arrange
    vi.spyOn(Math, 'random').mockReturnValue(0.999);

    // act
    const { subject } = await signedIn({ refreshJitterMs: 30_000 });

    // assert
    const { refreshAt } = subject.getSnapshot().context;
    expect(refreshAt).toBeLessThan(T0 + HOUR - MINUTE - 29_000);
    expect(refreshAt).toBeGreaterThanOrEqual(T0 + HOUR - MINUTE - 30_000);
  });

  it('uses the rotated refresh token at once, and gives it a lifetime of its own', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    await vi.advanceTimersByTimeAsync(HOUR - MINUTE);

    // act
    refreshTokens.calls[0]!.resolve(tokens(2));
    await settle();

    // assert
    const refreshedAt = T0 + HOUR - MINUTE;
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-2',
      refreshToken: 'refresh-2',
      accessTokenExpiresAt: refreshedAt + HOUR,
      refreshTokenExpiresAt: refreshedAt + 12 * HOUR,
      refreshAt: refreshedAt + HOUR - MINUTE,
    });

    // act: the next refresh
    await vi.advanceTimersByTimeAsync(HOUR - MINUTE);

    // assert
    expect(refreshTokens.calls[1]?.input).toEqual({ refreshToken: 'refresh-2' });
  });

  it('keeps the old refresh token and its old expiry when a refresh answer brings none', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    await vi.advanceTimersByTimeAsync(HOUR - MINUTE);

    // act
    refreshTokens.calls[0]!.resolve(tokens(2, { refreshToken: null }));
    await settle();

    // assert
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-2',
      refreshToken: 'refresh-1',
      refreshTokenExpiresAt: T0 + 12 * HOUR,
    });
  });

  it('ends the session when the refresh token expires, without a server call', async () => {
    // arrange: a server that never rotates the refresh token
    const { subject, refreshTokens } = await signedIn(
      {},
      { refreshTokens: () => tokens(2, { refreshToken: null }) },
    );

    // act
    await vi.advanceTimersByTimeAsync(12 * HOUR - 1);

    // assert: refreshed about hourly, still signed in
    expect(subject.getSnapshot().matches('signedIn')).toBe(true);
    const callsBefore = refreshTokens.calls.length;
    expect(callsBefore).toBeGreaterThanOrEqual(11);
    expect(callsBefore).toBeLessThanOrEqual(12);

    // act
    await vi.advanceTimersByTimeAsync(1);

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('sessionExpired');
    expect(context.error?.kind).toBe('session_expired');
    expect(context.accessToken).toBeNull();
    expect(context.refreshToken).toBeNull();
    expect(refreshTokens.calls).toHaveLength(callsBefore);
  });

  it('keeps a rotating session for 24 hours with one refresh per access token and no growing timers', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn({}, { refreshTokens: (_, n) => tokens(n + 1) });
    const timers = vi.getTimerCount();

    // act
    await vi.advanceTimersByTimeAsync(24 * HOUR);

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(refreshTokens.calls.length).toBeGreaterThanOrEqual(24);
    expect(refreshTokens.calls.length).toBeLessThanOrEqual(25);
    expect(vi.getTimerCount()).toBe(timers);
  });

  it('assumes accessTokenTtlMs for an access token that carries no expiry', async () => {
    // arrange / act
    const { subject } = await signedIn(
      { accessTokenTtlMs: 10 * MINUTE },
      { login: () => tokens(1, { accessTokenExpiresAt: null }) },
    );

    // assert
    expect(subject.getSnapshot().context.accessTokenExpiresAt).toBe(T0 + 10 * MINUTE);
    expect(subject.getSnapshot().context.refreshAt).toBe(T0 + 9 * MINUTE);
  });

  it('refreshes a token shorter than the leeway at half its lifetime, not as soon as it arrives', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn(
      {},
      { login: () => tokens(1, { accessTokenExpiresAt: Date.now() + 30 * SECOND }) },
    );

    // act
    await vi.advanceTimersByTimeAsync(15 * SECOND - 1);

    // assert
    expect(refreshTokens.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'refreshing' });
  });

  it('clamps its timers: a token valid for 40 days neither refreshes at once nor sets a delay above 2^31-1 ms', async () => {
    // arrange
    const delays: number[] = [];
    const clock = {
      setTimeout: (fn: () => void, ms: number) => {
        delays.push(ms);
        return setTimeout(fn, ms);
      },
      clearTimeout: (id: ReturnType<typeof setTimeout>) => clearTimeout(id),
    };
    const { machine, refreshTokens } = arrange({
      login: () => tokens(1, { accessTokenExpiresAt: Date.now() + 40 * 24 * HOUR }),
    });
    const subject = start(machine, {
      clock,
      input: { refreshTokenTtlMs: 60 * 24 * HOUR, refreshJitterMs: 0 },
    });

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();
    await vi.advanceTimersByTimeAsync(MINUTE);

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(refreshTokens.calls).toHaveLength(0);
    expect(delays.length).toBeGreaterThan(0);
    expect(Math.max(...delays)).toBe(MAX_TIMER_MS);
  });

  it('refreshes at once on auth.refresh', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();

    // act
    subject.send({ type: 'auth.refresh' });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'refreshing' });
    expect(refreshTokens.calls).toHaveLength(1);
  });

  it('refreshes at once when the current access token is rejected, and once only for many rejections', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();

    // act: three requests meet the same 401
    for (let i = 0; i < 3; i++) subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'refreshing' });
    expect(refreshTokens.calls).toHaveLength(1);
  });

  it('ignores a rejection of a token that was already replaced', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });
    refreshTokens.calls[0]!.resolve(tokens(2));
    await settle();

    // act: a late 401 for the old token
    subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(refreshTokens.calls).toHaveLength(1);
  });

  it('ends the session with session_expired when the refresh is refused, and accepts a new sign-in', async () => {
    // arrange
    const { subject, refreshTokens, login } = await signedIn();
    subject.send({ type: 'auth.refresh' });

    // act
    refreshTokens.calls[0]!.reject(new AuthError('session_expired', { status: 401 }));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('sessionExpired');
    expect(context.error).toMatchObject({ kind: 'session_expired', status: 401 });
    expect(context).toMatchObject({ accessToken: null, refreshToken: null, refreshAt: null });

    // act
    await vi.advanceTimersByTimeAsync(HOUR);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // assert: no retry happened; a new sign-in starts with the error cleared
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().value).toBe('signingIn');
    expect(subject.getSnapshot().context.error).toBeNull();
    expect(login.calls).toHaveLength(2);
  });

  it('ends the session as session_expired on a refresh failure that retrying cannot mend', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });

    // act
    refreshTokens.calls[0]!.reject(new AuthError('bad_response', { status: 404 }));
    await settle();

    // assert
    expect(subject.getSnapshot().value).toBe('sessionExpired');
    expect(subject.getSnapshot().context.error).toMatchObject({ kind: 'session_expired', status: 404 });
    expect(subject.getSnapshot().context.error?.message).toContain('bad_response');
  });

  it('gives up after one refresh when the server hands out access tokens that are already expired', async () => {
    // arrange: a login token already past its expiry (a clock far off), and a refresh that is no better
    const { subject, refreshTokens } = await signedIn(
      {},
      {
        login: () => tokens(1, { accessTokenExpiresAt: Date.now() - MINUTE }),
        refreshTokens: () => tokens(2, { accessTokenExpiresAt: Date.now() - MINUTE }),
      },
    );

    // act
    await vi.advanceTimersByTimeAsync(MINUTE);

    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().value).toBe('sessionExpired');
    expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
  });

  it('signs out on auth.logout, forgetting tokens and error', async () => {
    // arrange
    const { subject } = await signedIn();

    // act
    subject.send({ type: 'auth.logout' });

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('signedOut');
    expect(context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      refreshTokenExpiresAt: null,
      error: null,
    });
  });

  it('aborts a refresh on auth.logout, and its late answer changes nothing', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });

    // act
    subject.send({ type: 'auth.logout' });
    refreshTokens.calls[0]!.resolve(tokens(2));
    await settle();

    // assert
    expect(refreshTokens.calls[0]!.signal.aborted).toBe(true);
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it('leaves sessionExpired for signedOut on auth.logout', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });
    refreshTokens.calls[0]!.reject(new AuthError('session_expired', { status: 401 }));
    await settle();

    // act
    subject.send({ type: 'auth.logout' });

    // assert
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toBeNull();
  });
});

describe('marketigerMachine: backing off', () => {
  it('retries a refresh that met a network failure with a growing backoff, keeping the tokens', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });

    // act
    refreshTokens.calls[0]!.reject(new AuthError('network'));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toEqual({ signedIn: 'backingOff' });
    expect(context).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1', refreshAttempts: 1 });
    expect(context.error?.kind).toBe('network');

    // act: the first retry comes within 1 s
    await vi.advanceTimersByTimeAsync(SECOND);

    // assert
    expect(refreshTokens.calls).toHaveLength(2);

    // act: the second waits between 1 and 2 s
    refreshTokens.calls[1]!.reject(new AuthError('timeout'));
    await vi.advanceTimersByTimeAsync(SECOND - 1);
    expect(refreshTokens.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(SECOND);

    // assert
    expect(refreshTokens.calls).toHaveLength(3);

    // act: success resets the count and the error
    refreshTokens.calls[2]!.resolve(tokens(2));
    await settle();

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-2',
      refreshAttempts: 0,
      error: null,
    });
  });

  it('never retries sooner than 30 s apart, however many failures', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn(
      {},
      { refreshTokens: () => Promise.reject(new AuthError('server', { status: 503 })) },
    );
    subject.send({ type: 'auth.refresh' });

    // act
    await vi.advanceTimersByTimeAsync(10 * MINUTE);

    // assert: 1, 2, 4, 8, 16 s (at least half each), then every 15–30 s
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'backingOff' });
    expect(refreshTokens.calls.length).toBeGreaterThanOrEqual(20);
    expect(refreshTokens.calls.length).toBeLessThanOrEqual(45);
  });

  it('sends nothing before the wait a rate-limited answer asked for', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });

    // act
    refreshTokens.calls[0]!.reject(new AuthError('rate_limited', { status: 429, retryAfterMs: 5 * MINUTE }));
    await vi.advanceTimersByTimeAsync(5 * MINUTE - 1);

    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().context.error).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 5 * MINUTE,
    });
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshTokens.calls).toHaveLength(2);
  });

  it('retries at once on auth.refresh while backing off', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });
    refreshTokens.calls[0]!.reject(new AuthError('network'));
    await settle();

    // act
    subject.send({ type: 'auth.refresh' });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'refreshing' });
    expect(refreshTokens.calls).toHaveLength(2);
  });

  it('ignores auth.tokenRejected while backing off: the retry is already planned', async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });
    refreshTokens.calls[0]!.reject(new AuthError('network'));
    await settle();

    // act
    subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'backingOff' });
    expect(refreshTokens.calls).toHaveLength(1);
  });

  it('ends the session at the refresh token expiry while backing off', async () => {
    // arrange: a network that stays down
    const { subject, refreshTokens } = await signedIn(
      {},
      { refreshTokens: () => Promise.reject(new AuthError('network')) },
    );

    // act
    await vi.advanceTimersByTimeAsync(12 * HOUR);

    // assert
    const calls = refreshTokens.calls.length;
    expect(subject.getSnapshot().value).toBe('sessionExpired');
    expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(refreshTokens.calls).toHaveLength(calls);
  });
});

describe('marketigerMachine: restoring a persisted session', () => {
  /** A snapshot signed in at T0, persisted, restored `laterMs` afterwards and resumed. */
  async function restoredAfter(laterMs: number, answers: StubAnswers = {}) {
    vi.setSystemTime(T0);
    const first = await signedIn();
    const persisted = JSON.parse(JSON.stringify(first.subject.getPersistedSnapshot()));
    first.subject.stop();
    vi.setSystemTime(T0 + laterMs);
    const stubs = arrange(answers);
    const subject = start(stubs.machine, { snapshot: persisted });
    return { subject, ...stubs };
  }

  it('re-arms the refresh timer on auth.resume from the absolute time in context', async () => {
    // arrange
    const { subject, refreshTokens } = await restoredAfter(10 * MINUTE);

    // act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(49 * MINUTE - 1);

    // assert
    expect(refreshTokens.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'refreshing' });
  });

  it('refreshes exactly once when the access token expired while stored and the refresh token is valid', async () => {
    // arrange
    const { subject, refreshTokens } = await restoredAfter(2 * HOUR, { refreshTokens: () => tokens(2) });

    // act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(MINUTE);

    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    expect(refreshTokens.calls[0]?.input).toEqual({ refreshToken: 'refresh-1' });
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context.accessToken).toBe('access-2');
  });

  it('ends the session without a refresh call when both tokens expired while stored', async () => {
    // arrange
    const { subject, refreshTokens } = await restoredAfter(13 * HOUR);

    // act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(MINUTE);

    // assert
    expect(refreshTokens.calls).toHaveLength(0);
    expect(subject.getSnapshot().value).toBe('sessionExpired');
    expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it('ends the session without a refresh call whichever of its zero-delay timers fires first', async () => {
    // arrange: a clock that fires the newest timer first, so the refresh timer beats the session's end
    const pending = new Map<number, () => void>();
    let nextId = 0;
    const clock = {
      setTimeout: (fn: () => void) => {
        pending.set(++nextId, fn);
        return nextId;
      },
      clearTimeout: (id: number) => void pending.delete(id),
    };
    vi.setSystemTime(T0);
    const first = await signedIn();
    const persisted = JSON.parse(JSON.stringify(first.subject.getPersistedSnapshot()));
    first.subject.stop();
    vi.setSystemTime(T0 + 13 * HOUR);
    const { machine, refreshTokens } = arrange();
    const subject = start(machine, { snapshot: persisted, clock });

    // act
    subject.send({ type: 'auth.resume' });
    expect(pending.size).toBe(2);
    for (const [id, fire] of [...pending].reverse()) if (pending.delete(id)) fire();

    // assert
    expect(refreshTokens.calls).toHaveLength(0);
    expect(subject.getSnapshot().value).toBe('sessionExpired');
  });

  it('sends no expired refresh token on auth.refresh or auth.tokenRejected sent right after a restore', async () => {
    // arrange + act: restored after the refresh token expired; the event comes before any timer fires
    const byRefresh = await restoredAfter(13 * HOUR);
    byRefresh.subject.send({ type: 'auth.refresh' });
    const byRejection = await restoredAfter(13 * HOUR);
    byRejection.subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });

    // assert
    for (const { subject, refreshTokens } of [byRefresh, byRejection]) {
      expect(refreshTokens.calls).toHaveLength(0);
      expect(subject.getSnapshot().value).toBe('sessionExpired');
    }
  });

  it('keeps to the planned retry time when restored while backing off', async () => {
    // arrange
    const first = await signedIn();
    first.subject.send({ type: 'auth.refresh' });
    first.refreshTokens.calls[0]!.reject(
      new AuthError('rate_limited', { status: 429, retryAfterMs: 10 * MINUTE }),
    );
    await settle();
    const persisted = JSON.parse(JSON.stringify(first.subject.getPersistedSnapshot()));
    first.subject.stop();
    vi.setSystemTime(T0 + 4 * MINUTE);
    const { machine, refreshTokens } = arrange();
    const subject = start(machine, { snapshot: persisted });

    // act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(6 * MINUTE - 1);

    // assert
    expect(refreshTokens.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshTokens.calls).toHaveLength(1);
  });

  it('ends the session without a call when restored backing off after the refresh token expired', async () => {
    // arrange: persisted in backingOff, restored (plain createActor) after the refresh token expired
    const first = await signedIn();
    first.subject.send({ type: 'auth.refresh' });
    first.refreshTokens.calls[0]!.reject(new AuthError('network'));
    await settle();
    const persisted = JSON.parse(JSON.stringify(first.subject.getPersistedSnapshot()));
    first.subject.stop();
    vi.setSystemTime(T0 + 13 * HOUR);
    const { machine, refreshTokens } = arrange();

    // act
    const subject = start(machine, { snapshot: persisted });
    await settle();

    // assert
    expect(refreshTokens.calls).toHaveLength(0);
    expect(subject.getSnapshot().value).toBe('sessionExpired');
  });

  it('ends the session without a call on auth.refresh while backing off once the refresh token has expired', async () => {
    // arrange: backing off; the clock passes the refresh token's end before any timer fires
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });
    refreshTokens.calls[0]!.reject(new AuthError('network'));
    await settle();
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'backingOff' });
    vi.setSystemTime(T0 + 13 * HOUR);

    // act
    subject.send({ type: 'auth.refresh' });

    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().value).toBe('sessionExpired');
  });

  it('lets a refresh that was in flight run once after restore; auth.resume does not start another', async () => {
    // arrange
    const first = await signedIn();
    first.subject.send({ type: 'auth.refresh' });
    const persisted = JSON.parse(JSON.stringify(first.subject.getPersistedSnapshot()));
    first.subject.stop();
    const { machine, refreshTokens } = arrange();
    const subject = start(machine, { snapshot: persisted });

    // act
    subject.send({ type: 'auth.resume' });

    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    expect(refreshTokens.calls[0]!.signal.aborted).toBe(false);

    // act: its answer re-arms the session's timers
    refreshTokens.calls[0]!.resolve(tokens(2, { refreshToken: null }));
    await settle();
    await vi.advanceTimersByTimeAsync(12 * HOUR);

    // assert: the session still ends with the refresh token it started with
    expect(subject.getSnapshot().value).toBe('sessionExpired');
  });

  it('does not retry with a refresh token that expired while a restored refresh was backing off', async () => {
    // arrange: persisted mid-refresh, restored just before the refresh token expires
    const first = await signedIn();
    first.subject.send({ type: 'auth.refresh' });
    const persisted = JSON.parse(JSON.stringify(first.subject.getPersistedSnapshot()));
    first.subject.stop();
    vi.setSystemTime(T0 + 12 * HOUR - 100);
    const { machine, refreshTokens } = arrange();
    const subject = start(machine, { snapshot: persisted });
    subject.send({ type: 'auth.resume' });

    // act: the refresh that ran again meets a network failure; the retry is due after the expiry
    refreshTokens.calls[0]!.reject(new AuthError('network'));
    await vi.advanceTimersByTimeAsync(MINUTE);

    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().value).toBe('sessionExpired');
  });

  it('answers auth.resume in states without timers by doing nothing', () => {
    // arrange
    const subject = start(arrange().machine);

    // act
    subject.send({ type: 'auth.resume' });

    // assert
    expect(subject.getSnapshot().value).toBe('signedOut');
  });
});

describe('marketigerMachine with marketigerActors', () => {
  /** An in-memory MarketigerApi: the actors' contract with the service, without HTTP. */
  function fakeApi() {
    const seen: { method: string; input: unknown; signal: AbortSignal | undefined }[] = [];
    let pending: (() => void) | undefined;
    const api: MarketigerApi = {
      baseURL: 'https://api.test',
      async login(input, options) {
        seen.push({ method: 'login', input: { ...input }, signal: options?.signal });
        return tokens(1);
      },
      refreshTokens(input, options) {
        seen.push({ method: 'refreshTokens', input, signal: options?.signal });
        return new Promise((resolve) => {
          pending = () => resolve(tokens(2));
        });
      },
      async checkProjectAccess(input, options) {
        seen.push({ method: 'checkProjectAccess', input, signal: options?.signal });
      },
      async getProjects() {
        return [];
      },
    };
    return { api, seen, answerRefresh: () => pending?.() };
  }

  it('passes each input, password included, and an abort signal to the service', async () => {
    // arrange
    const { api, seen } = fakeApi();
    const subject = start(marketigerMachine.provide({ actors: marketigerActors(api) }), {
      input: { projectId: 'p-42' },
    });

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();
    subject.send({ type: 'auth.refresh' });
    subject.send({ type: 'auth.logout' });

    // assert
    expect(seen.map((s) => s.method)).toEqual(['login', 'checkProjectAccess', 'refreshTokens']);
    expect(seen[0]?.input).toEqual({ email: 'ada@example.com', password: PASSWORD });
    expect(seen[1]?.input).toEqual({ accessToken: 'access-1', projectId: 'p-42' });
    expect(seen[2]?.input).toEqual({ refreshToken: 'refresh-1' });
    expect(seen.every((s) => s.signal instanceof AbortSignal)).toBe(true);
    expect(seen[2]?.signal?.aborted).toBe(true);
  });

  it('does not resend a sign-in restored from JSON, whose password was never stored', async () => {
    // arrange
    const { api, seen } = fakeApi();
    const machine = marketigerMachine.provide({ actors: marketigerActors(api) });
    const first = createActor(machine);
    first.start();
    first.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    seen.length = 0;

    // act
    const subject = start(machine, { snapshot: persisted });
    await settle();

    // assert
    expect(seen).toHaveLength(0);
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('aborted');
  });
});

describe('marketigerMachine: a session shared with other holders', () => {
  const shared = (accessToken: string, extra: Partial<SharedSession> = {}): SharedSession => ({
    accessToken,
    refreshToken: `refresh-of-${accessToken}`,
    accessTokenExpiresAt: Date.now() + HOUR,
    refreshTokenExpiresAt: null,
    issuedAt: Date.now(),
    clockSkewMs: 0,
    ...extra,
  });

  it("starts signed in from another holder's session, its refresh token ending 12 h after it was issued", () => {
    // arrange
    const stubs = arrange();
    const subject = start(stubs.machine, { input: { refreshJitterMs: 0 } });

    // act
    subject.send({ type: 'session.updated', session: shared('access-shared', { issuedAt: T0 - HOUR }) });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-shared',
      refreshToken: 'refresh-of-access-shared',
      refreshTokenExpiresAt: T0 + 11 * HOUR,
      error: null,
    });
    expect(stubs.login.calls).toHaveLength(0);
  });

  it('refuses a shared session whose refresh token has ended', () => {
    // arrange
    const subject = start(arrange().machine);

    // act
    subject.send({
      type: 'session.updated',
      session: shared('access-shared', { refreshTokenExpiresAt: T0 - 1 }),
    });

    // assert
    expect(subject.getSnapshot().value).toBe('signedOut');
  });

  it("takes another holder's refreshed tokens while refreshing, and aborts its own refresh", async () => {
    // arrange
    const { subject, refreshTokens } = await signedIn();
    subject.send({ type: 'auth.refresh' });
    await settle();

    // act
    subject.send({
      type: 'session.updated',
      session: shared('access-other', { refreshTokenExpiresAt: T0 + HOUR }),
    });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-other',
      refreshTokenExpiresAt: T0 + HOUR,
    });
    expect(refreshTokens.calls[0]?.signal.aborted).toBe(true);
  });

  it('ignores a notice of the tokens it already has', async () => {
    // arrange
    const { subject } = await signedIn();
    const before = subject.getSnapshot().context;

    // act
    subject.send({ type: 'session.updated', session: shared('access-1') });

    // assert
    expect(subject.getSnapshot().context).toEqual(before);
  });

  it('signs out when another holder signs out, saying so in the error', async () => {
    // arrange
    const { subject } = await signedIn();

    // act
    subject.send({ type: 'session.ended' });

    // assert
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({ accessToken: null, refreshToken: null });
    expect(subject.getSnapshot().context.error?.kind).toBe('signed_out');
  });

  it('leaves sessionExpired for a session another holder still has', async () => {
    // arrange
    const { subject } = await signedIn(
      {},
      { refreshTokens: () => Promise.reject(new AuthError('session_expired')) },
    );
    subject.send({ type: 'auth.refresh' });
    await settle();
    expect(subject.getSnapshot().value).toBe('sessionExpired');

    // act
    subject.send({ type: 'session.updated', session: shared('access-other') });

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
  });
});

afterAll(() => {
  // Every transition of the statechart was taken by some test above.
  const missing = allTransitionKeys(marketigerMachine.root).filter((key) => !taken.has(key));
  expect(missing).toEqual([]);
});
