/**
 * A session shared with other holders (tabs, processes), as both machines handle it: tested once and
 * run for each provider from its test file. What differs (Marketiger's refresh-token end, Mrkter's
 * account and session ids) stays in each provider's own sharedSession module.
 */
import { describe, expect, it } from 'vitest';
import type { SharedSession } from '../../../src/coordination/types.js';
import { AuthError } from '../../../src/errors.js';
import { sharedSession } from '../../sharedSession.js';
import { settle as flush } from '../harness.js';
import type { SessionProvider, SessionSubject } from './providers.js';

/** Registers the shared-session tests both providers pass, for one provider. */
export function describeSharedSession(provider: SessionProvider): void {
  const { start, stubApi, toSignedIn } = provider;
  const stateOf = (subject: SessionSubject) => subject.getSnapshot().value;
  const shared = (accessToken: string, extra: Partial<SharedSession> = {}) =>
    sharedSession(accessToken, { ...provider.sharedFields, ...extra });

  describe(`${provider.machineName}: a session shared with other holders, as both providers handle it`, () => {
    it('ignores a notice of the tokens it already has', async () => {
      // Arrange
      const subject = start(stubApi());
      await toSignedIn(subject);
      const before = subject.getSnapshot().context;

      // Act
      subject.send({ type: 'session.updated', session: shared('access-1') });

      // Assert
      expect(subject.getSnapshot().context).toEqual(before);
    });

    it('signs out when another holder signs out, saying so in the error', async () => {
      // Arrange
      const subject = start(stubApi());
      await toSignedIn(subject);

      // Act
      subject.send({ type: 'session.ended' });

      // Assert
      expect(stateOf(subject)).toBe('signedOut');
      expect(subject.getSnapshot().context).toMatchObject({
        accessToken: null,
        refreshToken: null,
        ...provider.cleared,
      });
      expect(subject.getSnapshot().context.error?.kind).toBe('signed_out');
    });

    it('leaves sessionExpired for a session another holder still has', async () => {
      // Arrange
      const api = stubApi();
      api.refreshTokens.mockRejectedValue(new AuthError('session_expired'));
      const subject = start(api);
      await toSignedIn(subject);
      subject.send({ type: 'auth.refresh' });
      await flush();
      expect(stateOf(subject)).toBe('sessionExpired');

      // Act
      subject.send({ type: 'session.updated', session: shared('access-other') });

      // Assert
      expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    });
  });
}
