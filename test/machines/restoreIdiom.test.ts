/**
 * XState's own restore idiom, `createActor(machine, { snapshot })`, with no `restoreActor` and no
 * `auth.resume`: every timer of both machines must be re-armed from the absolute times in context
 * (the proactive refresh, the session's end, the refresh backoff, the resend cooldown). The root
 * actor `resumeTimers` is what does it; these tests would fail without it, since XState persists no
 * pending timer. First with fake timers and stub actors, then live against the simulators.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Actor,
  type AnyActorLogic,
  type AnyMachineSnapshot,
  createActor,
  fromPromise,
  waitFor,
} from 'xstate';
import { AuthError } from '../../src/errors.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { restoreActor } from '../../src/restore.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import type { MrkterIdentity, TokenSet } from '../../src/services/types.js';
import { MARKETIGER_DEMO_USER, startMarketigerSimulator } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, mrkterRoutes, startMrkterSimulator } from '../../src/testing/mrkterSimulator.js';
import { SAFETY_NET_MS } from '../reliability/helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2030, 0, 1, 8, 0, 0);

function tokens(n: number, ttlMs = HOUR): TokenSet {
  return {
    accessToken: `access-${n}`,
    refreshToken: `refresh-${n}`,
    accessTokenExpiresAt: Date.now() + ttlMs,
    clockSkewMs: 0,
  };
}

/** A stub actor that counts its calls and answers with `answer()` (its input to the test). */
function counted<TOutput>(answer: () => TOutput | Promise<TOutput>) {
  const calls: unknown[] = [];
  const logic = fromPromise<TOutput, unknown>(async ({ input }) => {
    calls.push(input);
    return answer();
  });
  return { logic, calls };
}

/** Persists an actor's snapshot as an app would: through JSON. */
function persist(actor: { getPersistedSnapshot(): unknown; stop(): void }): unknown {
  const saved = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
  actor.stop();
  return saved;
}

const settle = () => vi.advanceTimersByTimeAsync(0);

/** The wall-clock time at which the actor first enters `signedIn.refreshing` (subscribe before start). */
function whenRefreshStarts(actor: Actor<AnyActorLogic>): Promise<number> {
  return new Promise((resolve) => {
    const subscription = actor.subscribe((snapshot) => {
      if ((snapshot as AnyMachineSnapshot).matches({ signedIn: 'refreshing' })) {
        subscription.unsubscribe();
        resolve(Date.now());
      }
    });
  });
}

describe('plain createActor(machine, { snapshot }) re-arms every timer (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function marketiger(refreshAnswer: () => TokenSet | Promise<TokenSet> = () => tokens(2)) {
    const login = counted(() => tokens(1));
    const refreshTokens = counted(refreshAnswer);
    const machine = marketigerMachine.provide({
      actors: {
        login: login.logic as never,
        refreshTokens: refreshTokens.logic as never,
        checkProjectAccess: fromPromise<void, { accessToken: string; projectId: string }>(async () => {}),
      },
    });
    return { machine, refreshTokens };
  }

  async function signedInMarketiger() {
    const { machine } = marketiger();
    const first = createActor(machine, { input: { refreshJitterMs: 0 } }).start();
    first.send({ type: 'auth.login', email: 'ada@example.com', password: 'pw' });
    await settle();
    expect(first.getSnapshot().value).toEqual({ signedIn: 'active' });
    return persist(first);
  }

  it('Marketiger: refreshes before expiry, once, with no call after createActor', async () => {
    // arrange: signed in at T0 (token for 1 h, refresh at 59 min), restored 10 minutes later
    const saved = await signedInMarketiger();
    vi.setSystemTime(T0 + 10 * MINUTE);
    const { machine, refreshTokens } = marketiger();
    // act
    const subject = createActor(machine, { snapshot: saved as never }).start();
    await vi.advanceTimersByTimeAsync(49 * MINUTE - 1);
    const before = refreshTokens.calls.length;
    await vi.advanceTimersByTimeAsync(1);
    // assert
    expect(before).toBe(0);
    expect(refreshTokens.calls).toEqual([{ refreshToken: 'refresh-1' }]);
    expect(subject.getSnapshot().context.accessToken).toBe('access-2');
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    subject.stop();
  });

  it('Marketiger: refreshes at once, once, when the token passed its refresh time while stored', async () => {
    // arrange
    const saved = await signedInMarketiger();
    vi.setSystemTime(T0 + 2 * HOUR);
    const { machine, refreshTokens } = marketiger();
    // act
    const subject = createActor(machine, { snapshot: saved as never }).start();
    await vi.advanceTimersByTimeAsync(MINUTE);
    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    expect(subject.getSnapshot().context.accessToken).toBe('access-2');
    subject.stop();
  });

  it("Marketiger: ends the session at the refresh token's end while every refresh fails", async () => {
    // arrange: every refresh fails with a network error, so only the session's end can end it
    const saved = await signedInMarketiger();
    vi.setSystemTime(T0 + 11 * HOUR + 59 * MINUTE);
    const { machine } = marketiger(() => Promise.reject(new AuthError('network')));
    // act
    const subject = createActor(machine, { snapshot: saved as never }).start();
    await vi.advanceTimersByTimeAsync(MINUTE - 1);
    const before = subject.getSnapshot().value;
    await vi.advanceTimersByTimeAsync(1);
    // assert
    expect(before).not.toBe('sessionExpired');
    expect(subject.getSnapshot().value).toBe('sessionExpired');
    expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
    subject.stop();
  });

  it('Marketiger: a backoff restored keeps to its planned retry time', async () => {
    // arrange: a refresh refused with 429 and Retry-After 10 minutes, persisted while backing off
    const { machine: first } = marketiger(() =>
      Promise.reject(new AuthError('rate_limited', { retryAfterMs: 10 * MINUTE })),
    );
    const actor = createActor(first, { input: { refreshJitterMs: 0 } }).start();
    actor.send({ type: 'auth.login', email: 'ada@example.com', password: 'pw' });
    await settle();
    actor.send({ type: 'auth.refresh' });
    await settle();
    expect(actor.getSnapshot().value).toEqual({ signedIn: 'backingOff' });
    const saved = persist(actor);
    vi.setSystemTime(T0 + 4 * MINUTE);
    const { machine, refreshTokens } = marketiger();
    // act
    const subject = createActor(machine, { snapshot: saved as never }).start();
    await vi.advanceTimersByTimeAsync(6 * MINUTE - 1);
    const before = refreshTokens.calls.length;
    await vi.advanceTimersByTimeAsync(1);
    // assert
    expect(before).toBe(0);
    expect(refreshTokens.calls).toHaveLength(1);
    subject.stop();
  });

  const alice: MrkterIdentity = {
    id: 1,
    accountId: 123,
    status: 'ACTIVE',
    verifiedPhoneNumber: '+15550001111',
  };

  function mrkter() {
    const calls = { refreshTokens: 0, requestCode: 0 };
    const machine = mrkterMachine.provide({
      actors: {
        login: fromPromise(async () => tokens(1)),
        loadIdentities: fromPromise(async () => [alice]),
        requestCode: fromPromise(async () => {
          calls.requestCode++;
        }),
        verifyCode: fromPromise(async () => ({ sessionId: 'session-1' })),
        refreshTokens: fromPromise(async () => {
          calls.refreshTokens++;
          return tokens(2);
        }),
      },
    });
    return { machine, calls };
  }

  it('Mrkter: the resend cooldown restored at awaitingCode ends on time, with no new SMS', async () => {
    // arrange: the code was sent at T0 (cooldown 30 s); persisted and restored 10 s later
    const first = createActor(mrkter().machine).start();
    first.send({ type: 'auth.login', username: 'u', password: 'p' });
    await settle();
    expect(first.getSnapshot().value).toEqual({ awaitingCode: 'coolingDown' });
    const saved = persist(first);
    vi.setSystemTime(T0 + 10_000);
    const { machine, calls } = mrkter();
    // act
    const subject = createActor(machine, { snapshot: saved as never }).start();
    await vi.advanceTimersByTimeAsync(20_000 - 1);
    const before = subject.getSnapshot().value;
    await vi.advanceTimersByTimeAsync(1);
    // assert
    expect(before).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().value).toEqual({ awaitingCode: 'resendReady' });
    expect(calls.requestCode).toBe(0);
    subject.stop();
  });

  it('Mrkter: a signed-in session restored refreshes before expiry, once', async () => {
    // arrange
    const first = createActor(mrkter().machine, { input: { refreshJitterMs: 0 } }).start();
    first.send({ type: 'auth.login', username: 'u', password: 'p' });
    await settle();
    first.send({ type: 'code.submit', code: '123456' });
    await settle();
    expect(first.getSnapshot().value).toEqual({ signedIn: 'active' });
    const saved = persist(first);
    vi.setSystemTime(T0 + 30 * MINUTE);
    const { machine, calls } = mrkter();
    // act
    const subject = createActor(machine, { snapshot: saved as never }).start();
    await vi.advanceTimersByTimeAsync(29 * MINUTE - 1);
    const before = calls.refreshTokens;
    await vi.advanceTimersByTimeAsync(1);
    // assert
    expect(before).toBe(0);
    expect(calls.refreshTokens).toBe(1);
    expect(subject.getSnapshot().context.accessToken).toBe('access-2');
    subject.stop();
  });

  it.each([
    ['marketiger', () => marketiger().machine],
    ['mrkter', () => mrkter().machine],
  ] as [string, () => AnyActorLogic][])(
    '%s: a fresh start is untouched by it (signedOut, no error)',
    async (_name, make) => {
      // act
      const subject = createActor(make()).start();
      await settle();
      // assert
      expect(subject.getSnapshot().value).toBe('signedOut');
      expect(subject.getSnapshot().context.error).toBeNull();
      expect(subject.getSnapshot().children).toHaveProperty('resumeTimers');
      subject.stop();
    },
  );

  it('restoreActor, which also sends auth.resume, still makes exactly one refresh', async () => {
    // arrange
    const saved = await signedInMarketiger();
    vi.setSystemTime(T0 + 2 * HOUR);
    const { machine, refreshTokens } = marketiger();
    // act
    const subject = restoreActor(machine, saved);
    await vi.advanceTimersByTimeAsync(MINUTE);
    // assert
    expect(refreshTokens.calls).toHaveLength(1);
    subject.stop();
  });
});

describe('plain createActor(machine, { snapshot }) live against the simulators', () => {
  it('Marketiger: the restored session refreshes before its access token expires, once, and keeps working', async () => {
    // arrange: 10 s access tokens; the machine refreshes 8.5 s before expiry, so about 1.5 s after
    // the sign-in (the wide margin is for busy cores: what is checked is when the refresh starts)
    const sim = await startMarketigerSimulator({ accessTokenTtlMs: 10_000 });
    try {
      const api = createMarketigerApi({ baseURL: sim.baseURL });
      const machine = marketigerMachine.provide({ actors: marketigerActors(api) });
      const first = createActor(machine, { input: { refreshLeewayMs: 8_500, refreshJitterMs: 0 } }).start();
      first.send({
        type: 'auth.login',
        email: MARKETIGER_DEMO_USER.email,
        password: MARKETIGER_DEMO_USER.password,
      });
      const signed = await waitFor(first, (s) => s.matches('signedIn'), { timeout: SAFETY_NET_MS });
      const { accessToken, accessTokenExpiresAt } = signed.context;
      const saved = persist(first);
      // act
      const subject = createActor(machine, { snapshot: saved as never });
      const refreshStartedAt = whenRefreshStarts(subject);
      subject.start();
      const refreshed = await waitFor(
        subject,
        (s) => s.matches({ signedIn: 'active' }) && s.context.accessToken !== accessToken,
        { timeout: SAFETY_NET_MS },
      );
      const projects = await api.getProjects({ accessToken: refreshed.context.accessToken! });
      // assert
      expect(sim.refreshCount).toBe(1);
      expect(await refreshStartedAt).toBeLessThan(accessTokenExpiresAt!);
      expect(projects).toEqual([{ id: 'demo-project', name: 'demo-project' }]);
      subject.stop();
    } finally {
      await sim.close();
    }
  });

  it('Mrkter: the restored session refreshes before its access token expires, once', async () => {
    // arrange: 10 s access tokens from the Auth0 simulator, refreshed about 1.5 s after the sign-in
    const sim = await startMrkterSimulator({ accessTokenTtlSeconds: 10 });
    try {
      const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl });
      const machine = mrkterMachine.provide({ actors: mrkterActors(api) });
      const user = defaultMrkterUsers[1]!; // one identity: the code is requested at once
      const first = createActor(machine, { input: { refreshLeewayMs: 8_500, refreshJitterMs: 0 } }).start();
      first.send({ type: 'auth.login', username: user.username, password: user.password });
      await waitFor(first, (s) => s.matches('awaitingCode'), { timeout: SAFETY_NET_MS });
      first.send({ type: 'code.submit', code: sim.lastCode()! });
      const signed = await waitFor(first, (s) => s.matches('signedIn'), { timeout: SAFETY_NET_MS });
      const { accessToken, accessTokenExpiresAt } = signed.context;
      const saved = persist(first);
      // act
      const subject = createActor(machine, { snapshot: saved as never });
      const refreshStartedAt = whenRefreshStarts(subject);
      subject.start();
      await waitFor(
        subject,
        (s) => s.matches({ signedIn: 'active' }) && s.context.accessToken !== accessToken,
        { timeout: SAFETY_NET_MS },
      );
      // assert
      expect(sim.tokenRequests.filter((r) => r.params['grant_type'] === 'refresh_token')).toHaveLength(1);
      expect(sim.requestCount(mrkterRoutes.token)).toBe(2);
      expect(await refreshStartedAt).toBeLessThan(accessTokenExpiresAt!);
      subject.stop();
    } finally {
      await sim.close();
    }
  });
});
