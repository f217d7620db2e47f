/** Mrkter: the SMS code: requesting, awaiting, verifying. Run by test/machines/mrkter.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { deferred } from '../harness.js';
import {
  alice,
  CODE,
  exact,
  flush,
  NOW,
  start,
  stateOf,
  stubApi,
  toAwaitingCode,
  toSelectingIdentity,
  toSignedIn,
} from './fixtures.js';

describe('mrkterMachine: requesting the SMS code', () => {
  it('waits for the code once the SMS is sent, with the resend cooldown from now', async () => {
    // Arrange
    const subject = start(stubApi(), { ...exact, resendCooldownMs: 45_000 });

    // Act
    await toAwaitingCode(subject);

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().hasTag('busy')).toBe(false);
    expect(subject.getSnapshot().context.resendAvailableAt).toBe(NOW.getTime() + 45_000);
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('goes back to selectingIdentity with the error and keeps the tokens when the first SMS fails', async () => {
    // Arrange
    const api = stubApi();
    api.requestCode.mockRejectedValueOnce(new AuthError('server', { status: 503 }));
    const subject = start(api);

    // Act
    await toAwaitingCode(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      resendAvailableAt: null,
      error: { kind: 'server', status: 503 },
    });
    expect(api.login).toHaveBeenCalledTimes(1);
  });

  it('lets the user try again without the password after a failed SMS', async () => {
    // Arrange
    const api = stubApi();
    api.requestCode.mockRejectedValueOnce(new AuthError('network'));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: 123 });
    await flush();

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(api.requestCode).toHaveBeenCalledTimes(2);
    expect(api.login).toHaveBeenCalledTimes(1);
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('aborts the SMS request on auth.logout', async () => {
    // Arrange
    const api = stubApi();
    const sms = deferred<void>();
    api.requestCode.mockReturnValue(sms.promise);
    const subject = start(api);
    await toSelectingIdentity(subject);
    subject.send({ type: 'identity.select', accountId: 123 });

    // Act
    subject.send({ type: 'auth.logout' });
    sms.resolve();
    await flush();

    // Assert
    expect(api.requestCode.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      accountId: null,
      phoneNumber: null,
      accessToken: null,
    });
  });
});

describe('mrkterMachine: awaiting the code', () => {
  it('accepts code.resend only after the cooldown has passed', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.resend' });
    await vi.advanceTimersByTimeAsync(29_999);
    const early = stateOf(subject);
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(early).toEqual({ awaitingCode: 'coolingDown' });
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(api.requestCode).toHaveBeenCalledTimes(1);
  });

  it('sends a new SMS on code.resend once ready and restarts the cooldown', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(30_000);

    // Act
    subject.send({ type: 'code.resend' });
    const during = stateOf(subject);
    await flush();

    // Assert
    expect(during).toBe('requestingCode');
    expect(api.requestCode).toHaveBeenCalledTimes(2);
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.resendAvailableAt).toBe(NOW.getTime() + 60_000);
  });

  it('returns to awaitingCode with the error when a resend fails, and lets the sent code still be entered', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(30_000);
    api.requestCode.mockRejectedValueOnce(new AuthError('network'));

    // Act
    subject.send({ type: 'code.resend' });
    await flush();

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(subject.getSnapshot().context.error?.kind).toBe('network');
    expect(subject.getSnapshot().context.accountId).toBe(123);
  });

  it("counts down the server's wait after a 429 on resend", async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(30_000);
    api.requestCode.mockRejectedValueOnce(
      new AuthError('rate_limited', { status: 429, retryAfterMs: 120_000 }),
    );

    // Act
    subject.send({ type: 'code.resend' });
    await flush();
    const afterRefusal = stateOf(subject);
    await vi.advanceTimersByTimeAsync(119_999);
    const beforeWaitEnds = stateOf(subject);
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(subject.getSnapshot().context.error).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 120_000,
    });
    expect(subject.getSnapshot().context.resendAvailableAt).toBe(NOW.getTime() + 30_000 + 120_000);
    expect(afterRefusal).toEqual({ awaitingCode: 'coolingDown' });
    expect(beforeWaitEnds).toEqual({ awaitingCode: 'coolingDown' });
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
  });

  it('submits the code to verifyCode with the access token and accountId, and keeps it out of context', async () => {
    // Arrange
    const api = stubApi();
    const verify = deferred<{ sessionId: string }>();
    api.verifyCode.mockReturnValue(verify.promise);
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: CODE });

    // Assert
    expect(stateOf(subject)).toBe('verifyingCode');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    const [input] = api.verifyCode.mock.calls[0] ?? [];
    expect(input?.accessToken).toBe('access-1');
    expect(input?.accountId).toBe(123);
    expect(input?.code).toBe(CODE);
    expect(JSON.stringify(subject.getSnapshot().context)).not.toContain(CODE);
  });

  it('goes back to selectingIdentity on identity.change when there are several identities', async () => {
    // Arrange
    const subject = start(stubApi());
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'identity.change' });

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context).toMatchObject({
      accountId: null,
      phoneNumber: null,
      codeAttempts: 0,
      resendAvailableAt: null,
      accessToken: 'access-1',
    });
  });

  it('ignores identity.change when there is only one identity', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice]);
    const subject = start(api);
    await toSelectingIdentity(subject);
    await flush();

    // Act
    subject.send({ type: 'identity.change' });

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.accountId).toBe(123);
  });

  it('signs out on auth.logout, clearing everything session-related', async () => {
    // Arrange
    const subject = start(stubApi());
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'auth.logout' });
    await vi.advanceTimersByTimeAsync(60_000);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      identities: [],
      accountId: null,
      phoneNumber: null,
      resendAvailableAt: null,
      error: null,
    });
  });
});

describe('mrkterMachine: verifying the code', () => {
  it('signs in with the session id when the code is right', async () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    await toSignedIn(subject);

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      sessionId: 'session-1',
      accountId: 123,
      accessToken: 'access-1',
      codeAttempts: 0,
      error: null,
    });
  });

  it('returns to awaitingCode with invalid_code and counts the attempt, never resubmitting by itself', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code', { status: 400 }));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: '000000' });
    await vi.advanceTimersByTimeAsync(10_000);

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.error?.kind).toBe('invalid_code');
    expect(subject.getSnapshot().context.codeAttempts).toBe(1);
    expect(api.verifyCode).toHaveBeenCalledTimes(1);
  });

  it('returns straight to resendReady after a wrong code once the cooldown has passed', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code'));
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(31_000);

    // Act
    subject.send({ type: 'code.submit', code: '000000' });
    await flush();

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
  });

  it('ends the flow in signedOut with too_many_attempts at the maxCodeAttempts-th wrong code', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code'));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    for (const code of ['000001', '000002', '000003']) {
      subject.send({ type: 'code.submit', code });
      await flush();
    }
    subject.send({ type: 'code.submit', code: '000004' });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      error: { kind: 'too_many_attempts' },
      accessToken: null,
      refreshToken: null,
      identities: [],
      accountId: null,
      codeAttempts: 0,
      resendAvailableAt: null,
    });
    expect(api.verifyCode).toHaveBeenCalledTimes(3);
  });

  it('honours maxCodeAttempts from input', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code'));
    const subject = start(api, { ...exact, maxCodeAttempts: 1 });
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: '000000' });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('too_many_attempts');
  });

  it('signs out with session_expired when the server refuses the access token', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('session_expired', { status: 401 }));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: CODE });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toMatchObject({ kind: 'session_expired', status: 401 });
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it.each(['network', 'timeout', 'server', 'rate_limited'] as const)(
    'returns to awaitingCode with a %s error without counting the attempt',
    async (kind) => {
      // Arrange
      const api = stubApi();
      api.verifyCode.mockRejectedValue(new AuthError(kind));
      const subject = start(api);
      await toAwaitingCode(subject);

      // Act
      subject.send({ type: 'code.submit', code: CODE });
      await vi.advanceTimersByTimeAsync(5_000);

      // Assert
      expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
      expect(subject.getSnapshot().context.error?.kind).toBe(kind);
      expect(subject.getSnapshot().context.codeAttempts).toBe(0);
      expect(api.verifyCode).toHaveBeenCalledTimes(1);
    },
  );

  it('aborts the verification on auth.logout and ignores its late answer', async () => {
    // Arrange
    const api = stubApi();
    const verify = deferred<{ sessionId: string }>();
    api.verifyCode.mockReturnValue(verify.promise);
    const subject = start(api);
    await toAwaitingCode(subject);
    subject.send({ type: 'code.submit', code: CODE });

    // Act
    subject.send({ type: 'auth.logout' });
    verify.resolve({ sessionId: 'late' });
    await flush();

    // Assert
    expect(api.verifyCode.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.sessionId).toBeNull();
  });
});
