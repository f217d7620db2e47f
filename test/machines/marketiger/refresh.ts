/** Marketiger: the signed-in session refreshing, backing off and ending. Run by test/machines/marketiger.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { MAX_TIMER_MS } from '../../../src/services/http.js';
import { HOUR, MINUTE, PASSWORD, SECOND, settle } from '../harness.js';
import { arrange, signedIn, start, T0, tokens } from './fixtures.js';

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
