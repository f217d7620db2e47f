/** Marketiger: what its session adds to the shared one (refresh-token lifetime, clamped timers, backing off until the session's end). Run by test/machines/marketiger.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { MAX_TIMER_MS } from '../../../src/time.js';
import { HOUR, MINUTE, PASSWORD, settle } from '../harness.js';
import { arrange, signedIn, start, T0, tokens } from './fixtures.js';

describe('marketigerMachine: refreshing', () => {
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
});

describe('marketigerMachine: backing off', () => {
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
