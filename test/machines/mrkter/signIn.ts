/** Mrkter: signing in with the password. Run by test/machines/mrkter.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import type { MrkterIdentity, TokenSet } from '../../../src/services/types.js';
import { deferred, HOUR, PASSWORD } from '../harness.js';
import { CODE, flush, NOW, start, stateOf, stubApi, tokenSet } from './fixtures.js';

describe('mrkterMachine: signing in with the password', () => {
  it('sends the username and password from auth.login to the login actor and is busy meanwhile', async () => {
    // Arrange
    const api = stubApi();
    const login = deferred<TokenSet>();
    api.login.mockReturnValue(login.promise);
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });

    // Assert
    expect(stateOf(subject)).toBe('authenticating');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    const [input] = api.login.mock.calls[0] ?? [];
    expect(input?.username).toBe('alice');
    expect(input?.password).toBe(PASSWORD);
  });

  it('stores the tokens and loads the identities with the new access token after a successful login', async () => {
    // Arrange
    const api = stubApi();
    const identities = deferred<MrkterIdentity[]>();
    api.loadIdentities.mockReturnValue(identities.promise);
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('loadingIdentities');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      accessTokenExpiresAt: NOW.getTime() + HOUR,
      refreshAt: NOW.getTime() + HOUR - 60_000,
      error: null,
    });
    expect(api.loadIdentities.mock.calls[0]?.[0]).toEqual({ accessToken: 'access-1' });
  });

  it('returns to signedOut with the error when the password is wrong, and does not retry', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockRejectedValue(new AuthError('invalid_credentials', { status: 403 }));
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await vi.advanceTimersByTimeAsync(60_000);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toMatchObject({ kind: 'invalid_credentials', status: 403 });
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(api.login).toHaveBeenCalledTimes(1);
  });

  it('keeps too_many_attempts from Auth0 as the error and never logs in again by itself', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockRejectedValue(new AuthError('too_many_attempts', { status: 429 }));
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await vi.advanceTimersByTimeAsync(HOUR);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('too_many_attempts');
    expect(api.login).toHaveBeenCalledTimes(1);
  });

  it('clears the previous error when a new login starts', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockRejectedValueOnce(new AuthError('invalid_credentials'));
    const subject = start(api);
    subject.send({ type: 'auth.login', username: 'alice', password: 'wrong' });
    await flush();

    // Act
    api.login.mockReturnValue(new Promise(() => {}));
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });

    // Assert
    expect(stateOf(subject)).toBe('authenticating');
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('aborts the login on auth.logout and ignores its late answer', async () => {
    // Arrange
    const api = stubApi();
    const login = deferred<TokenSet>();
    api.login.mockReturnValue(login.promise);
    const subject = start(api);
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });

    // Act
    subject.send({ type: 'auth.logout' });
    login.resolve(tokenSet('late', 'late'));
    await flush();

    // Assert
    expect(api.login.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(api.loadIdentities).not.toHaveBeenCalled();
  });

  it('ignores every event but auth.login while signed out', () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    for (const event of [
      { type: 'auth.logout' },
      { type: 'auth.refresh' },
      { type: 'auth.tokenRejected', accessToken: 'x' },
      { type: 'auth.resume' },
      { type: 'identity.select', accountId: 123 },
      { type: 'identity.change' },
      { type: 'code.submit', code: CODE },
      { type: 'code.resend' },
    ] as const) {
      subject.send(event);
    }

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toBeNull();
  });
});
