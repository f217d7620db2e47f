/**
 * The signed-in session both machines share, tested once and run for each provider (each provider's
 * test file calls {@link describeSignedInSession}, so its coverage check sees these transitions too):
 * refreshing on time, on demand and on a rejected token, backing off, and how a session ends.
 */
import { describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import type { TokenSet } from '../../../src/services/types.js';
import { deferred, settle as flush, HOUR, tokenSet } from '../harness.js';
import type { SessionApi, SessionProvider, SessionSubject } from './providers.js';

/** Registers the shared session's tests for one provider. */
export function describeSignedInSession(provider: SessionProvider): void {
  const { exact, start, stubApi, toSignedIn } = provider;
  const NOW = provider.now;
  const stateOf = (subject: SessionSubject) => subject.getSnapshot().value;

  describe(`${provider.machineName}: signed in`, () => {
    it('refreshes refreshLeewayMs before the access token expires, and not earlier', async () => {
      // Arrange
      const api = stubApi();
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      await vi.advanceTimersByTimeAsync(HOUR - 60_000 - 1);
      const before = api.refreshTokens.mock.calls.length;
      await vi.advanceTimersByTimeAsync(1);

      // Assert
      expect(before).toBe(0);
      expect(api.refreshTokens).toHaveBeenCalledTimes(1);
      expect(api.refreshTokens.mock.calls[0]?.[0]).toEqual({ refreshToken: 'refresh-1' });
      expect(stateOf(subject)).toEqual({ signedIn: 'active' });
      expect(subject.getSnapshot().context).toMatchObject({
        accessToken: 'access-2',
        refreshToken: 'refresh-2',
      });
    });

    it('spreads refreshes with a random advance of at most min(refreshJitterMs, lifetime / 10)', async () => {
      // Arrange
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const subject = start(stubApi(), {});

      // Act
      await toSignedIn(subject);

      // Assert
      expect(subject.getSnapshot().context.refreshAt).toBe(NOW.getTime() + HOUR - 60_000 - 30_000);
    });

    it('assumes accessTokenTtlMs when the token answer carries no expiry', async () => {
      // Arrange
      const api = stubApi();
      api.login.mockResolvedValue(tokenSet('access-1', 'refresh-1', null));
      const subject = start(api, { ...exact, accessTokenTtlMs: 10 * 60_000 });

      // Act
      await toSignedIn(subject);

      // Assert
      expect(subject.getSnapshot().context.accessTokenExpiresAt).toBe(NOW.getTime() + 10 * 60_000);
      expect(subject.getSnapshot().context.refreshAt).toBe(NOW.getTime() + 9 * 60_000);
    });

    it('refreshes a token that lives shorter than the leeway at half its lifetime, not at once', async () => {
      // Arrange
      const api = stubApi();
      api.login.mockResolvedValue(tokenSet('access-1', 'refresh-1', 30_000));
      const subject = start(api);

      // Act
      await toSignedIn(subject);

      // Assert
      expect(subject.getSnapshot().context.refreshAt).toBe(NOW.getTime() + 15_000);
      expect(api.refreshTokens).not.toHaveBeenCalled();
    });

    it('refreshes at once on auth.refresh', async () => {
      // Arrange
      const api = stubApi();
      const refresh = deferred<TokenSet>();
      api.refreshTokens.mockReturnValue(refresh.promise);
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      subject.send({ type: 'auth.refresh' });

      // Assert
      expect(stateOf(subject)).toEqual({ signedIn: 'refreshing' });
      expect(subject.getSnapshot().hasTag('busy')).toBe(true);
      expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    });

    it('refreshes on auth.tokenRejected for the current token only', async () => {
      // Arrange
      const api = stubApi();
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      subject.send({ type: 'auth.tokenRejected', accessToken: 'an-older-token' });
      const afterStale = stateOf(subject);
      subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });
      const afterCurrent = stateOf(subject);
      await flush();

      // Assert
      expect(afterStale).toEqual({ signedIn: 'active' });
      expect(afterCurrent).toEqual({ signedIn: 'refreshing' });
      expect(api.refreshTokens).toHaveBeenCalledTimes(1);
      expect(subject.getSnapshot().context.accessToken).toBe('access-2');
    });

    it('runs one refresh at a time, ignoring auth.refresh, auth.tokenRejected and auth.resume meanwhile', async () => {
      // Arrange
      const api = stubApi();
      const refresh = deferred<TokenSet>();
      api.refreshTokens.mockReturnValue(refresh.promise);
      const subject = start(api);
      await toSignedIn(subject);
      subject.send({ type: 'auth.refresh' });

      // Act
      subject.send({ type: 'auth.refresh' });
      subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });
      subject.send({ type: 'auth.resume' });
      refresh.resolve(tokenSet('access-2', 'refresh-2'));
      await flush();

      // Assert
      expect(api.refreshTokens).toHaveBeenCalledTimes(1);
      expect(api.refreshTokens.mock.calls[0]?.[1].aborted).toBe(false);
      expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    });

    it('uses only the rotated refresh token afterwards, and keeps the old one when none comes back', async () => {
      // Arrange
      const api = stubApi();
      api.refreshTokens
        .mockResolvedValueOnce(tokenSet('access-2', 'refresh-2'))
        .mockResolvedValueOnce(tokenSet('access-3', null))
        .mockResolvedValueOnce(tokenSet('access-4', null));
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      for (let i = 0; i < 3; i++) {
        subject.send({ type: 'auth.refresh' });
        await flush();
      }

      // Assert
      expect(api.refreshTokens.mock.calls.map(([input]) => input.refreshToken)).toEqual([
        'refresh-1',
        'refresh-2',
        'refresh-2',
      ]);
      expect(subject.getSnapshot().context).toMatchObject({
        accessToken: 'access-4',
        refreshToken: 'refresh-2',
      });
    });

    it('backs off after a retryable refresh failure and retries by itself', async () => {
      // Arrange
      vi.spyOn(Math, 'random').mockReturnValue(1);
      const api = stubApi();
      api.refreshTokens
        .mockRejectedValueOnce(new AuthError('network'))
        .mockRejectedValueOnce(new AuthError('server', { status: 503 }))
        .mockResolvedValueOnce(tokenSet('access-2', 'refresh-2'));
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      subject.send({ type: 'auth.refresh' });
      await flush();
      const first = { state: stateOf(subject), context: subject.getSnapshot().context };
      await vi.advanceTimersByTimeAsync(999);
      const callsBeforeFirstRetry = api.refreshTokens.mock.calls.length;
      await vi.advanceTimersByTimeAsync(1);
      const second = { state: stateOf(subject), context: subject.getSnapshot().context };
      await vi.advanceTimersByTimeAsync(1999);
      const callsBeforeSecondRetry = api.refreshTokens.mock.calls.length;
      await vi.advanceTimersByTimeAsync(1);

      // Assert
      expect(first.state).toEqual({ signedIn: 'backingOff' });
      expect(first.context).toMatchObject({
        refreshAttempts: 1,
        error: { kind: 'network' },
        accessToken: 'access-1',
      });
      expect(callsBeforeFirstRetry).toBe(1);
      expect(second.state).toEqual({ signedIn: 'backingOff' });
      expect(second.context).toMatchObject({ refreshAttempts: 2, error: { kind: 'server', status: 503 } });
      expect(callsBeforeSecondRetry).toBe(2);
      expect(api.refreshTokens).toHaveBeenCalledTimes(3);
      expect(stateOf(subject)).toEqual({ signedIn: 'active' });
      expect(subject.getSnapshot().context).toMatchObject({
        refreshAttempts: 0,
        error: null,
        accessToken: 'access-2',
      });
    });

    it('caps the backoff at 30 s and waits at least the Retry-After the server sent', async () => {
      // Arrange
      vi.spyOn(Math, 'random').mockReturnValue(1);
      const api = stubApi();
      api.refreshTokens.mockRejectedValue(new AuthError('network'));
      const subject = start(api);
      await toSignedIn(subject);
      subject.send({ type: 'auth.refresh' });
      await flush();
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      // Measured right after a failure, when the retry has just been planned.
      subject.send({ type: 'auth.refresh' });
      await flush();
      const cappedAt = subject.getSnapshot().context.refreshAt! - Date.now();
      api.refreshTokens.mockRejectedValue(
        new AuthError('rate_limited', { status: 429, retryAfterMs: 90_000 }),
      );

      // Act
      subject.send({ type: 'auth.refresh' });
      await flush();

      // Assert
      expect(cappedAt).toBe(30_000);
      expect(subject.getSnapshot().context.refreshAt! - Date.now()).toBe(90_000);
      const calls = api.refreshTokens.mock.calls.length;
      await vi.advanceTimersByTimeAsync(89_999);
      expect(api.refreshTokens.mock.calls.length).toBe(calls);
    });

    it('retries at once on auth.refresh while backing off', async () => {
      // Arrange
      const api = stubApi();
      api.refreshTokens.mockRejectedValueOnce(new AuthError('timeout'));
      const subject = start(api);
      await toSignedIn(subject);
      subject.send({ type: 'auth.refresh' });
      await flush();

      // Act
      subject.send({ type: 'auth.refresh' });
      await flush();

      // Assert
      expect(api.refreshTokens).toHaveBeenCalledTimes(2);
      expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    });

    it('ends in sessionExpired with the tokens cleared when the refresh is refused', async () => {
      // Arrange
      const api = stubApi();
      api.refreshTokens.mockRejectedValue(new AuthError('session_expired', { status: 403 }));
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      subject.send({ type: 'auth.refresh' });
      await vi.advanceTimersByTimeAsync(HOUR);

      // Assert
      expect(stateOf(subject)).toBe('sessionExpired');
      expect(subject.getSnapshot().context).toMatchObject({
        accessToken: null,
        refreshToken: null,
        ...provider.cleared,
        error: { kind: 'session_expired', status: 403 },
      });
      expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    });

    it('reports any other non-retryable refresh failure as session_expired', async () => {
      // Arrange
      const api = stubApi();
      api.refreshTokens.mockRejectedValue(new AuthError('bad_response'));
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      subject.send({ type: 'auth.refresh' });
      await flush();

      // Assert
      expect(stateOf(subject)).toBe('sessionExpired');
      expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
    });

    it('ends the session instead of looping when a refresh returns an already expired token', async () => {
      // Arrange
      const api = stubApi();
      api.refreshTokens.mockResolvedValue(tokenSet('access-2', 'refresh-2', -1000));
      const subject = start(api);
      await toSignedIn(subject);

      // Act
      subject.send({ type: 'auth.refresh' });
      await vi.advanceTimersByTimeAsync(60_000);

      // Assert
      expect(stateOf(subject)).toBe('sessionExpired');
      expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
      expect(subject.getSnapshot().context.accessToken).toBeNull();
      expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    });

    it('aborts an in-flight refresh on auth.logout and ignores its late answer', async () => {
      // Arrange
      const api = stubApi();
      const refresh = deferred<TokenSet>();
      api.refreshTokens.mockReturnValue(refresh.promise);
      const subject = start(api);
      await toSignedIn(subject);
      subject.send({ type: 'auth.refresh' });

      // Act
      subject.send({ type: 'auth.logout' });
      refresh.resolve(tokenSet('late-access', 'late-refresh'));
      await vi.advanceTimersByTimeAsync(2 * HOUR);

      // Assert
      expect(api.refreshTokens.mock.calls[0]?.[1].aborted).toBe(true);
      expect(stateOf(subject)).toBe('signedOut');
      expect(subject.getSnapshot().context).toMatchObject({
        accessToken: null,
        refreshToken: null,
        ...provider.cleared,
        error: null,
      });
      expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    });

    it.each(['active', 'backingOff'] as const)('signs out on auth.logout from %s', async (child) => {
      // Arrange
      const api = stubApi();
      api.refreshTokens.mockRejectedValue(new AuthError('network'));
      const subject = start(api);
      await toSignedIn(subject);
      if (child === 'backingOff') {
        subject.send({ type: 'auth.refresh' });
        await flush();
      }
      const from = stateOf(subject);

      // Act
      subject.send({ type: 'auth.logout' });
      await vi.advanceTimersByTimeAsync(2 * HOUR);

      // Assert
      expect(from).toEqual({ signedIn: child });
      expect(stateOf(subject)).toBe('signedOut');
      expect(subject.getSnapshot().context.accessToken).toBeNull();
    });
  });

  describe(`${provider.machineName}: after the session expired`, () => {
    async function toSessionExpired(api: SessionApi) {
      api.refreshTokens.mockRejectedValueOnce(new AuthError('session_expired'));
      const subject = start(api);
      await toSignedIn(subject);
      subject.send({ type: 'auth.refresh' });
      await flush();
      return subject;
    }

    it('signs in again with auth.login', async () => {
      // Arrange
      const api = stubApi();
      const subject = await toSessionExpired(api);

      // Act
      await toSignedIn(subject);

      // Assert
      expect(stateOf(subject)).toEqual({ signedIn: 'active' });
      expect(api.login).toHaveBeenCalledTimes(2);
      expect(subject.getSnapshot().context.error).toBeNull();
    });

    it('goes to signedOut with no error on auth.logout', async () => {
      // Arrange
      const subject = await toSessionExpired(stubApi());

      // Act
      subject.send({ type: 'auth.logout' });

      // Assert
      expect(stateOf(subject)).toBe('signedOut');
      expect(subject.getSnapshot().context.error).toBeNull();
    });
  });
}
