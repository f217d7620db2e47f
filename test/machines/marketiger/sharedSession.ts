/** Marketiger: a session shared with other holders. Run by test/machines/marketiger.test.ts. */
import { describe, expect, it } from 'vitest';
import { sharedSession as shared } from '../../sharedSession.js';
import { HOUR, settle } from '../harness.js';
import { arrange, signedIn, start, T0 } from './fixtures.js';

describe('marketigerMachine: a session shared with other holders', () => {
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
});
