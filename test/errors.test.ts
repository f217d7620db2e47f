import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AuthError, authErrorKinds, isAuthError, toAuthError } from '../src/errors.js';

describe('AuthError', () => {
  it('carries kind, message, retryable and status, and serialises to plain data', () => {
    // arrange / act
    const subject = new AuthError('rate_limited', { status: 429, retryAfterMs: 2000 });

    // assert
    expect(subject).toBeInstanceOf(Error);
    expect(subject.name).toBe('AuthError');
    expect(subject.retryable).toBe(true);
    expect(subject.toData()).toEqual({
      kind: 'rate_limited',
      message: subject.message,
      status: 429,
      retryAfterMs: 2000,
    });
    expect(JSON.parse(JSON.stringify(subject))).toEqual({
      name: 'AuthError',
      ...subject.toData(),
      retryable: true,
    });
  });

  it('marks only network weather as retryable', () => {
    const retryable = authErrorKinds.filter((kind) => new AuthError(kind).retryable);
    expect(retryable.sort()).toEqual(['network', 'rate_limited', 'server', 'timeout']);
  });

  it('is recognised across realms by name and kind, and not for look-alikes', () => {
    expect(isAuthError({ name: 'AuthError', kind: 'timeout', message: 'x' })).toBe(true);
    expect(isAuthError({ name: 'AuthError', kind: 'nonsense' })).toBe(false);
    expect(isAuthError(new Error('AuthError'))).toBe(false);
  });
});

describe('toAuthError', () => {
  it.each([
    [{ name: 'AbortError' }, 'aborted'],
    [{ name: 'CanceledError', code: 'ERR_CANCELED' }, 'aborted'],
    [{ name: 'AxiosError', code: 'ECONNABORTED' }, 'timeout'],
    [{ name: 'Error', code: 'ECONNREFUSED' }, 'network'],
    [{ name: 'Error', code: 'ECONNRESET' }, 'network'],
    [{ name: 'AxiosError', code: 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' }, 'bad_response'],
    [new SyntaxError('Unexpected token <'), 'bad_response'],
    ['a string', 'network'],
    [undefined, 'network'],
  ])('turns %o into %s', (thrown, kind) => {
    expect(toAuthError(thrown).kind).toBe(kind);
  });

  it('keeps an AuthError as it is', () => {
    const original = new AuthError('invalid_code');
    expect(toAuthError(original)).toBe(original);
  });

  it('never copies the message, headers or config of what it wraps', () => {
    // arrange: an axios-like error whose message and config hold secrets
    const canary = 'CANARY-secret-token-9f8e7d';
    const thrown = Object.assign(new Error(`Request failed for https://x/?t=${canary}`), {
      name: 'AxiosError',
      code: 'ECONNRESET',
      config: { headers: { Authorization: `Bearer ${canary}` } },
    });

    // act
    const subject = toAuthError(thrown);

    // assert
    for (const text of [
      subject.message,
      subject.stack ?? '',
      JSON.stringify(subject),
      inspect(subject, { depth: 10 }),
    ]) {
      expect(text).not.toContain(canary);
    }
    expect(subject.cause).toEqual({ name: 'AxiosError', code: 'ECONNRESET' });
  });
});
