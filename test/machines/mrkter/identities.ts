/** Mrkter: loading and selecting the identities. Run by test/machines/mrkter.test.ts. */
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import type { MrkterIdentity } from '../../../src/services/types.js';
import { deferred, PASSWORD } from '../harness.js';
import {
  alice,
  bob,
  exact,
  flush,
  invited,
  phoneless,
  start,
  stateOf,
  stubApi,
  toSelectingIdentity,
} from './fixtures.js';

describe('mrkterMachine: loading the identities', () => {
  it('offers every identity as the server returned it when there are several', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice, invited, phoneless, bob]);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().hasTag('busy')).toBe(false);
    expect(subject.getSnapshot().context.identities).toEqual([alice, invited, phoneless, bob]);
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('selects a single selectable identity by itself and requests its code', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice]);
    const sms = deferred<void>();
    api.requestCode.mockReturnValue(sms.promise);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('requestingCode');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(subject.getSnapshot().context).toMatchObject({
      identities: [alice],
      accountId: 123,
      phoneNumber: '+972531112233',
    });
    expect(api.requestCode.mock.calls[0]?.[0]).toEqual({
      accessToken: 'access-1',
      phoneNumber: '+972531112233',
    });
  });

  it('asks for the single identity when autoSelectSingleIdentity is false', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice]);
    const subject = start(api, { ...exact, autoSelectSingleIdentity: false });

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it.each([
    ['inactive', invited],
    ['without a phone number', phoneless],
  ])('does not select a single %s identity by itself', async (_, identity) => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([identity]);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context.identities).toEqual([identity]);
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('signs out with no_identities when the server returns an empty list', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([]);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('no_identities');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(subject.getSnapshot().context.refreshToken).toBeNull();
  });

  it('signs out with the error when loading the identities fails', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockRejectedValue(new AuthError('no_identities'));
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('no_identities');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it('aborts loading the identities on auth.logout', async () => {
    // Arrange
    const api = stubApi();
    const identities = deferred<MrkterIdentity[]>();
    api.loadIdentities.mockReturnValue(identities.promise);
    const subject = start(api);
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await flush();

    // Act
    subject.send({ type: 'auth.logout' });
    identities.resolve([alice]);
    await flush();

    // Assert
    expect(api.loadIdentities.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({ accessToken: null, identities: [], error: null });
  });
});

describe('mrkterMachine: selecting an identity', () => {
  it('selects the identity with the given accountId and sends the SMS to its verified phone number', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: 456 });

    // Assert
    expect(stateOf(subject)).toBe('requestingCode');
    expect(subject.getSnapshot().context).toMatchObject({ accountId: 456, phoneNumber: '+15550001111' });
    expect(api.requestCode.mock.calls[0]?.[0]).toEqual({
      accessToken: 'access-1',
      phoneNumber: '+15550001111',
    });
  });

  it('accepts the string form of a numeric accountId and keeps the server type', async () => {
    // Arrange
    const subject = start(stubApi());
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: '123' });

    // Assert
    expect(stateOf(subject)).toBe('requestingCode');
    expect(subject.getSnapshot().context.accountId).toBe(123);
  });

  it.each([
    ['an unknown accountId', 999, 'bad_response'],
    ['an accountId that is not a number or string', { id: 123 }, 'bad_response'],
    ['an identity without a verified phone number', 321, 'no_phone_number'],
    ['an identity that is not ACTIVE', 789, 'no_permission'],
  ])('refuses %s and stays in selectingIdentity', async (_, accountId, kind) => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice, bob, invited, phoneless]);
    const subject = start(api);
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: accountId as number });

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context.error?.kind).toBe(kind);
    expect(subject.getSnapshot().context.accountId).toBeNull();
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('never picks one of two identities that share an accountId', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice, { ...bob, accountId: 123 }]);
    const subject = start(api);
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: 123 });

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context.error?.kind).toBe('bad_response');
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('signs out on auth.logout, clearing the tokens and identities', async () => {
    // Arrange
    const subject = start(stubApi());
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'auth.logout' });

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      identities: [],
    });
  });
});
