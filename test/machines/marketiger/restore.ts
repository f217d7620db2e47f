/** Marketiger: a persisted session restored. Run by test/machines/marketiger.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { HOUR, MINUTE, settle } from '../harness.js';
import type { StubAnswers } from './fixtures.js';
import { arrange, signedIn, start, T0, tokens } from './fixtures.js';

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
