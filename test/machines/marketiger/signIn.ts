/** Marketiger: signing in, and the optional project check. Run by test/machines/marketiger.test.ts. */
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { HOUR, MINUTE, PASSWORD, settle } from '../harness.js';
import { arrange, start, T0, tokens } from './fixtures.js';

describe('marketigerMachine: signing in', () => {
  it('signs in with the email and password of the auth.login event and keeps the tokens', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine, { input: { refreshJitterMs: 0 } });

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // assert: busy while the call is out
    expect(subject.getSnapshot().value).toBe('signingIn');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(login.calls[0]?.input).toMatchObject({ email: 'ada@example.com', password: PASSWORD });

    // act
    login.calls[0]!.resolve(tokens(1, { clockSkewMs: 4_000 }));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toEqual({ signedIn: 'active' });
    expect(context).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      accessTokenExpiresAt: T0 + HOUR,
      refreshTokenExpiresAt: T0 + 12 * HOUR,
      refreshAt: T0 + HOUR - MINUTE,
      clockSkewMs: 4_000,
      error: null,
    });
  });

  it('returns to signedOut with the error of a failed sign-in, and keeps nothing else', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: 'wrong' });

    // act
    login.calls[0]!.reject(new AuthError('invalid_credentials', { status: 400 }));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('signedOut');
    expect(context.error).toEqual({
      kind: 'invalid_credentials',
      status: 400,
      message: new AuthError('invalid_credentials').message,
    });
    expect(context.accessToken).toBeNull();
    expect(context.refreshToken).toBeNull();
  });

  it('clears the last error when a new sign-in starts', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: 'wrong' });
    login.calls[0]!.reject(new AuthError('invalid_credentials'));
    await settle();

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // assert
    expect(subject.getSnapshot().value).toBe('signingIn');
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('ignores a second auth.login while the first is still out', () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // act
    subject.send({ type: 'auth.login', email: 'eve@example.com', password: 'other' });

    // assert
    expect(login.calls).toHaveLength(1);
  });

  it('aborts the sign-in on auth.logout, and a late answer changes nothing', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // act
    subject.send({ type: 'auth.logout' });
    login.calls[0]!.resolve(tokens(1));
    await settle();

    // assert
    expect(login.calls[0]!.signal.aborted).toBe(true);
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it('never puts the password in context or in a persisted snapshot, even mid-sign-in', async () => {
    // arrange
    const { machine, login } = arrange();
    const subject = start(machine);

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    const during = JSON.stringify(subject.getPersistedSnapshot());
    login.calls[0]!.resolve(tokens(1));
    await settle();
    const after = JSON.stringify(subject.getPersistedSnapshot());

    // assert
    expect(during).toContain('ada@example.com');
    expect(during).not.toContain(PASSWORD);
    expect(after).not.toContain(PASSWORD);
    expect(JSON.stringify(subject.getSnapshot().context)).not.toContain(PASSWORD);
  });
});

describe('marketigerMachine: project access', () => {
  it('checks the project with the new access token before reaching signedIn', async () => {
    // arrange
    const { machine, login, checkProjectAccess } = arrange();
    const subject = start(machine, { input: { projectId: 'p-42' } });
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });

    // act
    login.calls[0]!.resolve(tokens(1));
    await settle();

    // assert
    expect(subject.getSnapshot().value).toBe('checkingProject');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(checkProjectAccess.calls[0]?.input).toEqual({ accessToken: 'access-1', projectId: 'p-42' });

    // act
    checkProjectAccess.calls[0]!.resolve();
    await settle();

    // assert
    expect(subject.getSnapshot().value).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context.accessToken).toBe('access-1');
  });

  it('signs out with no_project_access and forgets the tokens when the project is refused', async () => {
    // arrange
    const { machine, checkProjectAccess } = arrange({ login: () => tokens(1) });
    const subject = start(machine, { input: { projectId: 'p-42' } });
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();

    // act
    checkProjectAccess.calls[0]!.reject(new AuthError('no_project_access', { status: 403 }));
    await settle();

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('signedOut');
    expect(context.error?.kind).toBe('no_project_access');
    expect(context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      accessTokenExpiresAt: null,
      refreshTokenExpiresAt: null,
    });
  });

  it('aborts the project check on auth.logout', async () => {
    // arrange
    const { machine, checkProjectAccess } = arrange({ login: () => tokens(1) });
    const subject = start(machine, { input: { projectId: 'p-42' } });
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();

    // act
    subject.send({ type: 'auth.logout' });

    // assert
    expect(checkProjectAccess.calls[0]!.signal.aborted).toBe(true);
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });
});
