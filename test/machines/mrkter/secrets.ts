/** Mrkter: secrets and persisted snapshots. Run by test/machines/mrkter.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { AuthError } from '../../../src/errors.js';
import { mrkterMachine } from '../../../src/machines/mrkterMachine.js';
import { mrkterActors } from '../../../src/services/mrkter/actors.js';
import type { MrkterApi } from '../../../src/services/types.js';
import { HOUR, PASSWORD, record } from '../harness.js';
import {
  CODE,
  exact,
  flush,
  start,
  stateOf,
  stubApi,
  toAwaitingCode,
  toSelectingIdentity,
  toSignedIn,
} from './fixtures.js';

describe('mrkterMachine: secrets and persisted snapshots', () => {
  it('keeps the password and the SMS code out of context and persisted snapshots', async () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    await toSelectingIdentity(subject);
    const afterLogin = JSON.stringify(subject.getPersistedSnapshot());
    const contextAfterLogin = JSON.stringify(subject.getSnapshot().context);
    subject.send({ type: 'identity.select', accountId: 123 });
    await flush();
    subject.send({ type: 'code.submit', code: CODE });
    await flush();
    const afterMfa = JSON.stringify(subject.getPersistedSnapshot());

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    for (const text of [
      afterLogin,
      contextAfterLogin,
      afterMfa,
      JSON.stringify(subject.getSnapshot().context),
    ]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(CODE);
    }
  });

  it('keeps the password and the code out of snapshots taken while they are being sent', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockReturnValue(new Promise(() => {}));
    const signingIn = start(api);
    const verifyingApi = stubApi();
    verifyingApi.verifyCode.mockReturnValue(new Promise(() => {}));
    const verifying = start(verifyingApi);
    await toAwaitingCode(verifying);

    // Act
    signingIn.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    verifying.send({ type: 'code.submit', code: CODE });
    const snapshots = [signingIn, verifying].map((subject) => JSON.stringify(subject.getPersistedSnapshot()));

    // Assert
    expect(stateOf(signingIn)).toBe('authenticating');
    expect(stateOf(verifying)).toBe('verifyingCode');
    for (const text of snapshots) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(CODE);
    }
  });

  it('never resubmits a code when a snapshot taken during verification is restored', async () => {
    // Arrange
    const first = stubApi();
    first.verifyCode.mockReturnValue(new Promise(() => {}));
    const original = start(first);
    await toAwaitingCode(original);
    original.send({ type: 'code.submit', code: CODE });
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = {
      verifyCode: vi.fn(async () => ({ sessionId: 'session-x' })),
    } as unknown as MrkterApi;

    // Act
    const subject = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), {
      snapshot: stored,
      inspect: record,
    }).start();
    await flush();

    // Assert
    expect(api.verifyCode).not.toHaveBeenCalled();
    expect(subject.getSnapshot().value).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.error?.kind).toBe('aborted');
    expect(subject.getSnapshot().context.codeAttempts).toBe(0);
  });

  it('resumes at awaitingCode after a restore without a new SMS, with the cooldown re-armed', async () => {
    // Arrange
    const first = stubApi();
    const original = start(first);
    await toAwaitingCode(original);
    await vi.advanceTimersByTimeAsync(10_000);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(19_999);
    const beforeCooldownEnds = stateOf(subject);
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(api.requestCode).not.toHaveBeenCalled();
    expect(beforeCooldownEnds).toEqual({ awaitingCode: 'coolingDown' });
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(subject.getSnapshot().context).toMatchObject({ accountId: 123, accessToken: 'access-1' });
  });

  it('resumes straight at resendReady when the cooldown passed while the snapshot was stored', async () => {
    // Arrange
    const original = start(stubApi());
    await toAwaitingCode(original);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('resumes a signed-in session and refreshes it when refreshAt comes', async () => {
    // Arrange
    const original = start(stubApi());
    await toSignedIn(original);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(HOUR - 60_000 - 1);
    const before = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(before).toBe(0);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({ sessionId: 'session-1', accessToken: 'access-2' });
  });

  it('refreshes exactly once, at once, when a restored session is already past refreshAt', async () => {
    // Arrange
    const original = start(stubApi());
    await toSignedIn(original);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await flush();

    // Assert
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context.accessToken).toBe('access-2');
  });

  it('keeps the planned retry time when a session restored while backing off is resumed', async () => {
    // Arrange
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const first = stubApi();
    first.refreshTokens.mockRejectedValueOnce(new AuthError('network'));
    const original = start(first);
    await toSignedIn(original);
    original.send({ type: 'auth.refresh' });
    await flush();
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(999);
    const before = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(before).toBe(0);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['selectingIdentity', toSelectingIdentity],
    ['signedOut', async () => {}],
  ] as const)('does not answer auth.resume in %s', async (state, drive) => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await drive(subject);

    // Act
    subject.send({ type: 'auth.resume' });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe(state);
  });
});
