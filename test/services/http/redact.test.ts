import { describe, expect, it } from 'vitest';
import {
  isSecretName,
  REDACTED,
  redact,
  redactHeaders,
  redactString,
  redactUrl,
  summarizeBody,
} from '../../../src/services/http/redact.js';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXZhbHVlLTEyMzQ';
const REFRESH = 'rt_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg';

describe('redact', () => {
  it('replaces every secret-named field, whatever its spelling, and keeps the rest', () => {
    // arrange
    const subject = {
      email: 'a@b.test',
      password: 'hunter2',
      code: '123456',
      refreshToken: 'short',
      refresh_token: 'short',
      access_token: 'short',
      accessToken: 'short',
      mfa_token: 'short',
      'X-Session-Id': 'short',
      nested: { list: [{ password: 'p' }], ok: 3 },
    };

    // act
    const out = redact(subject) as Record<string, unknown>;

    // assert
    expect(out).toEqual({
      email: 'a@b.test',
      password: REDACTED,
      code: REDACTED,
      refreshToken: REDACTED,
      refresh_token: REDACTED,
      access_token: REDACTED,
      accessToken: REDACTED,
      mfa_token: REDACTED,
      'X-Session-Id': REDACTED,
      nested: { list: [{ password: REDACTED }], ok: 3 },
    });
    expect(subject.password).toBe('hunter2');
  });

  it('replaces token-looking values under any name and inside longer text', () => {
    const out = redact({ data: { whatever: JWT, note: `use ${REFRESH} next` } });

    expect(JSON.stringify(out)).not.toContain(JWT);
    expect(JSON.stringify(out)).not.toContain(REFRESH);
    expect(out).toEqual({ data: { whatever: REDACTED, note: `use ${REDACTED} next` } });
  });

  it('keeps words, emails, phone numbers and the Auth0 connection name readable', () => {
    const text = 'Username-Password-Authentication demo@mrkter.test +972531112233 Wrong email or password.';

    expect(redactString(text)).toBe(text);
  });

  it('redacts a bare string body whole (the Mrkter session id answer), short sentences not', () => {
    expect(redact('sess-abc')).toBe(REDACTED);
    expect(redact('"x"')).toBe('"x"');
    expect(redact('Not found')).toBe('Not found');
  });

  it('copies __proto__ keys as data and survives cycles', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;

    const out = redact(parsed) as Record<string, unknown>;

    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(redact(cyclic)).toEqual({ a: 1, self: '[circular]' });
  });
});

describe('redactHeaders', () => {
  it('redacts credential headers and cookies whole and lower-cases names', () => {
    const out = redactHeaders({
      Authorization: `Bearer ${JWT}`,
      'x-session-id': 'abc',
      Cookie: 'sid=1',
      'set-cookie': ['a=1', 'b=2'],
      'x-account-id': '123',
      'Content-Type': 'application/json',
    });

    expect(out).toEqual({
      authorization: REDACTED,
      'x-session-id': REDACTED,
      cookie: REDACTED,
      'set-cookie': REDACTED,
      'x-account-id': '123',
      'content-type': 'application/json',
    });
  });
});

describe('summarizeBody', () => {
  it('redacts JSON text, form text and objects; gives only the size of other text', () => {
    expect(summarizeBody(JSON.stringify({ email: 'e', password: 'pw' }), 'application/json')).toBe(
      `{"email":"e","password":"${REDACTED}"}`,
    );
    expect(
      summarizeBody(
        'grant_type=refresh_token&client_id=abc&refresh_token=v1.x',
        'application/x-www-form-urlencoded',
      ),
    ).toBe(`grant_type=refresh_token&client_id=abc&refresh_token=${REDACTED}`);
    expect(summarizeBody({ code: '123456' })).toBe(`{"code":"${REDACTED}"}`);
    expect(summarizeBody('session-id-value-1', 'text/plain')).toBe('[18 bytes of text/plain]');
    expect(summarizeBody(JSON.stringify('json-quoted-session'), 'application/json')).toBe(`"${REDACTED}"`);
    expect(summarizeBody('', 'text/plain')).toBeUndefined();
  });

  it('bounds a large body', () => {
    const out = summarizeBody(JSON.stringify({ list: Array.from({ length: 5000 }, (_, i) => i) }));

    expect(out?.length).toBeLessThan(2100);
    expect(out).toMatch(/truncated]$/);
  });
});

describe('redactUrl', () => {
  it('keeps the origin and path, redacts secret parameters and token-looking runs', () => {
    expect(redactUrl(`https://api3.example.com/v2/x?projectId=demo&access_token=${JWT}&q=${REFRESH}`)).toBe(
      `https://api3.example.com/v2/x?projectId=demo&access_token=${REDACTED}&q=${REDACTED}`,
    );
  });

  it('keeps ordinary paths readable, however long, and redacts a token that is a path segment', () => {
    // arrange: paths of both providers, each longer than a token run once the slashes count
    const paths = [
      'http://127.0.0.1:44281/v2/Auth/RefreshToken',
      '/v2/Project/HasAccesToProject',
      '/auth/mfa/phone-number/authenticate',
      '/user-identity/me/users',
      'https://login.dev.mrkter.io/oauth/token',
    ];

    // act
    const subject = paths.map(redactUrl);

    // assert
    expect(subject).toEqual(paths);
    expect(redactUrl(`http://127.0.0.1:1/v2/sessions/${REFRESH}/items`)).toBe(
      `http://127.0.0.1:1/v2/sessions/${REDACTED}/items`,
    );
    expect(redactUrl(`/v2/x/${JWT}`)).toBe(`/v2/x/${REDACTED}`);
  });
});

describe('isSecretName', () => {
  it('matches names without case, dashes or underscores', () => {
    expect(['Refresh-Token', 'REFRESH_TOKEN', 'mfaToken', 'set-cookie'].every(isSecretName)).toBe(true);
    expect(['email', 'statusCode', 'x-account-id'].some(isSecretName)).toBe(false);
  });
});
