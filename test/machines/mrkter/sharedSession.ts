/** Mrkter: a session shared with other holders. Run by test/machines/mrkter.test.ts. */
import { describe, expect, it } from 'vitest';
import type { SharedSession } from '../../../src/coordination/types.js';
import type { TokenSet } from '../../../src/services/types.js';
import { sharedSession } from '../../sharedSession.js';
import { deferred } from '../harness.js';
import { start, stateOf, stubApi, toSignedIn } from './fixtures.js';

describe('mrkterMachine: a session shared with other holders', () => {
  const shared = (accessToken: string, extra: Partial<SharedSession> = {}) =>
    sharedSession(accessToken, { accountId: 456, sessionId: 'session-shared', ...extra });

  it("starts signed in from another holder's session, with its account and session ids, without a request", () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);

    // Act
    subject.send({ type: 'session.updated', session: shared('access-shared') });

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-shared',
      refreshToken: 'refresh-of-access-shared',
      accountId: 456,
      sessionId: 'session-shared',
      error: null,
    });
    expect(api.login).not.toHaveBeenCalled();
  });

  it('refuses a shared session without the account and session ids every request needs', () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    subject.send({ type: 'session.updated', session: shared('access-shared', { sessionId: null }) });
    subject.send({ type: 'session.updated', session: shared('access-shared', { accountId: null }) });

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
  });

  it("takes another holder's refreshed tokens while signed in, and aborts its own refresh", async () => {
    // Arrange
    const api = stubApi();
    const pending = deferred<TokenSet>();
    api.refreshTokens.mockImplementation(() => pending.promise);
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });
    const signal = api.refreshTokens.mock.calls[0]?.[1];

    // Act
    subject.send({ type: 'session.updated', session: shared('access-other') });

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context.accessToken).toBe('access-other');
    expect(signal?.aborted).toBe(true);
  });
});
