/**
 * One conformance suite, run twice: against a reference Mrkter API built on NestJS itself
 * (`nestMrkterApi.ts`) and against our simulator. Every expectation is the same for both targets:
 * status codes, content types, exact bodies and the headers Express and Nest add. Where the two
 * disagree, the simulator is wrong. The Auth0 half is our simulator in both targets (Auth0 is not
 * something to run here); the reference verifies the tokens it issues.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import { defaultMrkterUsers, startMrkterSimulator } from '../../src/testing/mrkterSimulator.js';
import { weakEtag } from '../../src/testing/simServer.js';
import { startNestMrkterApi } from './nestMrkterApi.js';

const CLIENT_ID = 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi';
const AUDIENCE = 'https://dev-mrkter.io';
const DEMO = defaultMrkterUsers[0]!;
const PHONE = '+972531112233'; // account 123
const OTHER_PHONE = '+972531112244'; // account 456
const COOLDOWN_MS = 20_000;

interface Target {
  authUrl: string;
  apiUrl: string;
  lastCode(phoneNumber: string): string | undefined;
  close(): Promise<void>;
}

const targets: [string, () => Promise<Target>][] = [
  [
    'the NestJS reference',
    async () => {
      const jwtSecret = 'conformance-key-of-at-least-32-bytes!';
      const sim = await startMrkterSimulator({ jwtSecret });
      try {
        const nest = await startNestMrkterApi({
          users: defaultMrkterUsers,
          jwtSecret,
          issuer: `${sim.authUrl}/`,
          audience: AUDIENCE,
          smsCooldownMs: COOLDOWN_MS,
        });
        return {
          authUrl: sim.authUrl,
          apiUrl: nest.url,
          lastCode: nest.lastCode,
          close: async () => {
            await nest.close();
            await sim.close();
          },
        };
      } catch (error) {
        await sim.close();
        throw error;
      }
    },
  ],
  [
    'the simulator',
    async () => {
      const sim = await startMrkterSimulator({ smsCooldownMs: COOLDOWN_MS });
      return {
        authUrl: sim.authUrl,
        apiUrl: sim.apiUrl,
        lastCode: (phoneNumber) => sim.lastCode(phoneNumber),
        close: () => sim.close(),
      };
    },
  ],
];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function exchange(
  url: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<Answer> {
  const headers = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(url, { method: init.method ?? 'GET', headers, ...(body ? { body } : {}) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** What Express adds to every answer: `X-Powered-By`, `Date`, and a weak ETag on every body. */
function expectExpress(answer: Answer) {
  expect(answer.headers.get('x-powered-by')).toBe('Express');
  expect(Number.isNaN(Date.parse(answer.headers.get('date') ?? ''))).toBe(false);
  if (answer.text === '') expect(answer.headers.get('etag')).toBeNull();
  else expect(answer.headers.get('etag')).toBe(weakEtag(answer.text));
}

/** A Nest JSON answer: status, `application/json; charset=utf-8`, and this exact body text. */
function expectNestJson(answer: Answer, status: number, body: unknown) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(answer.text).toBe(JSON.stringify(body));
  expectExpress(answer);
}

const UNAUTHORIZED = { message: 'Unauthorized', statusCode: 401 };
const FORBIDDEN = { message: 'Forbidden', statusCode: 403 };

describe.each(targets)('Mrkter API conformance: %s', (_name, startTarget) => {
  let target: Target;
  let accessToken: string;
  const bearer = () => ({ authorization: `Bearer ${accessToken}` });

  beforeEach(async () => {
    target = await startTarget();
    const token = await exchange(`${target.authUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: DEMO.username,
        password: DEMO.password,
        audience: AUDIENCE,
        client_id: CLIENT_ID,
        scope: 'offline_access',
      }).toString(),
    });
    accessToken = (JSON.parse(token.text) as { access_token: string }).access_token;
  });
  afterEach(async () => {
    await target.close();
  });

  const sms = (phoneNumber: unknown, headers: Record<string, string> = bearer()) =>
    exchange(`${target.apiUrl}/verification/sms`, { method: 'POST', headers, json: { phoneNumber } });
  const authenticate = (code: unknown, accountId = '123', headers: Record<string, string> = bearer()) =>
    exchange(`${target.apiUrl}/auth/mfa/phone-number/authenticate`, {
      method: 'POST',
      headers: { ...headers, 'x-account-id': accountId },
      json: { code },
    });

  describe('GET /user-identity/me/users', () => {
    it('answers 200 with the identities as JSON', async () => {
      // act
      const answer = await exchange(`${target.apiUrl}/user-identity/me/users`, { headers: bearer() });
      // assert
      expectNestJson(answer, 200, DEMO.identities);
    });

    it.each([
      ['no Authorization header', {}],
      ['a token the tenant did not sign', { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln' }],
      ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ])('answers the guard 401 for %s', async (_case, headers) => {
      // act
      const answer = await exchange(`${target.apiUrl}/user-identity/me/users`, { headers });
      // assert
      expectNestJson(answer, 401, UNAUTHORIZED);
    });
  });

  describe('POST /verification/sms', () => {
    it('answers 201 with no body and the throttler headers', async () => {
      // act
      const answer = await sms(PHONE);
      // assert
      expect(answer.status).toBe(201);
      expect(answer.text).toBe('');
      expect(answer.headers.get('content-type')).toBeNull();
      expect(answer.headers.get('content-length')).toBe('0');
      expect(answer.headers.get('x-ratelimit-limit')).toBe('1');
      expect(answer.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(answer.headers.get('x-ratelimit-reset')).toBe(String(COOLDOWN_MS / 1000));
      expectExpress(answer);
      expect(target.lastCode(PHONE)).toMatch(/^\d{6}$/);
    });

    it("answers a second request within the ttl with the throttler's 429 and Retry-After", async () => {
      // arrange
      await sms(PHONE);
      // act
      const answer = await sms(PHONE);
      const otherNumber = await sms(OTHER_PHONE);
      // assert
      expectNestJson(answer, 429, { statusCode: 429, message: 'ThrottlerException: Too Many Requests' });
      expect(answer.headers.get('retry-after')).toBe(String(COOLDOWN_MS / 1000));
      expect(answer.headers.get('x-ratelimit-limit')).toBeNull();
      expect(otherNumber.status).toBe(201);
    });

    it.each([
      ['missing', undefined, ['phoneNumber should not be empty', 'phoneNumber must be a string']],
      ['empty', '', ['phoneNumber should not be empty']],
      ['a number', 972531112233, ['phoneNumber must be a string']],
    ])(
      'answers ValidationPipe 400 (message an array) for a phoneNumber %s',
      async (_case, phoneNumber, messages) => {
        // act
        const answer = await sms(phoneNumber);
        // assert
        expectNestJson(answer, 400, { message: messages, error: 'Bad Request', statusCode: 400 });
        expect(answer.headers.get('x-ratelimit-limit')).toBeNull();
      },
    );

    it('answers the same 400 to a body that is not JSON (Express reads none)', async () => {
      // act
      const answer = await exchange(`${target.apiUrl}/verification/sms`, {
        method: 'POST',
        headers: { ...bearer(), 'content-type': 'text/plain' },
        body: PHONE,
      });
      // assert
      expectNestJson(answer, 400, {
        message: ['phoneNumber should not be empty', 'phoneNumber must be a string'],
        error: 'Bad Request',
        statusCode: 400,
      });
    });

    it('answers BadRequestException for a number no identity has verified, throttler headers included', async () => {
      // act
      const answer = await sms('+15550000000');
      // assert
      expectNestJson(answer, 400, {
        message: 'Phone number is not verified',
        error: 'Bad Request',
        statusCode: 400,
      });
      expect(answer.headers.get('x-ratelimit-limit')).toBe('1');
    });

    it('answers the guard 401 without a token', async () => {
      // act
      const answer = await sms(PHONE, {});
      // assert
      expectNestJson(answer, 401, UNAUTHORIZED);
    });
  });

  describe('POST /auth/mfa/phone-number/authenticate', () => {
    it('answers 201 with the session id as text/html (a returned string)', async () => {
      // arrange
      await sms(PHONE);
      // act
      const answer = await authenticate(target.lastCode(PHONE));
      // assert
      expect(answer.status).toBe(201);
      expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(answer.text).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expectExpress(answer);
    });

    it('answers BadRequestException for a wrong code, and the code still works after', async () => {
      // arrange
      await sms(PHONE);
      const code = target.lastCode(PHONE)!;
      // act
      const wrong = await authenticate(code === '000000' ? '111111' : '000000');
      const right = await authenticate(code);
      // assert
      expectNestJson(wrong, 400, { message: 'Invalid code', error: 'Bad Request', statusCode: 400 });
      expect(right.status).toBe(201);
    });

    it('answers BadRequestException for a code already used', async () => {
      // arrange
      await sms(PHONE);
      const code = target.lastCode(PHONE)!;
      await authenticate(code);
      // act
      const again = await authenticate(code);
      // assert
      expectNestJson(again, 400, { message: 'Invalid code', error: 'Bad Request', statusCode: 400 });
    });

    it.each([
      ['missing', undefined, ['code should not be empty', 'code must be a string']],
      ['a number', 123456, ['code must be a string']],
      ['null', null, ['code should not be empty', 'code must be a string']],
    ])('answers ValidationPipe 400 for a code %s', async (_case, code, messages) => {
      // act
      const answer = await authenticate(code);
      // assert
      expectNestJson(answer, 400, { message: messages, error: 'Bad Request', statusCode: 400 });
    });

    it.each([
      ['an account of another user', '789'],
      ['an account that does not exist', '999999'],
    ])('answers ForbiddenException() for %s', async (_case, accountId) => {
      // act
      const answer = await authenticate('123456', accountId);
      // assert
      expectNestJson(answer, 403, FORBIDDEN);
    });

    it('answers ForbiddenException() without x-account-id', async () => {
      // act
      const answer = await exchange(`${target.apiUrl}/auth/mfa/phone-number/authenticate`, {
        method: 'POST',
        headers: bearer(),
        json: { code: '123456' },
      });
      // assert
      expectNestJson(answer, 403, FORBIDDEN);
    });

    it('answers the guard 401 without a token, before looking at the account', async () => {
      // act
      const answer = await authenticate('123456', '999999', {});
      // assert
      expectNestJson(answer, 401, UNAUTHORIZED);
    });
  });

  describe('GET /accounts/current (all three headers)', () => {
    async function session() {
      await sms(PHONE);
      return (await authenticate(target.lastCode(PHONE))).text;
    }

    it('answers the account as JSON with the session of that account', async () => {
      // arrange
      const sessionId = await session();
      // act
      const answer = await exchange(`${target.apiUrl}/accounts/current`, {
        headers: { ...bearer(), 'x-account-id': '123', 'x-session-id': sessionId },
      });
      // assert
      const identity = DEMO.identities[0]!;
      expectNestJson(answer, 200, {
        accountId: identity.accountId,
        companyName: identity.companyName,
        accountType: identity.accountType,
        currency: identity['currency'],
        status: identity.status,
      });
    });

    it.each([
      ['an unknown session id', '123', 'not-a-session'],
      ["another account's id", '456', undefined],
    ])('answers the guard 401 for %s', async (_case, accountId, sessionOverride) => {
      // arrange
      const sessionId = sessionOverride ?? (await session());
      // act
      const answer = await exchange(`${target.apiUrl}/accounts/current`, {
        headers: { ...bearer(), 'x-account-id': accountId, 'x-session-id': sessionId },
      });
      // assert
      expectNestJson(answer, 401, UNAUTHORIZED);
    });
  });

  it.each([
    ['GET', '/nope'],
    ['POST', '/user-identity/me/users'],
  ])("answers Nest's 404 for %s %s", async (method, path) => {
    // act
    const answer = await exchange(`${target.apiUrl}${path}`, { method, headers: bearer() });
    // assert
    expectNestJson(answer, 404, { message: `Cannot ${method} ${path}`, error: 'Not Found', statusCode: 404 });
  });

  it('signs in end to end with the machine, the services and the authorized client', async () => {
    // arrange
    const api = createMrkterApi({ authBaseURL: target.authUrl, apiBaseURL: target.apiUrl });
    const subject = createActor(mrkterMachine.provide({ actors: mrkterActors(api) })).start();
    // act
    subject.send({ type: 'auth.login', username: DEMO.username, password: DEMO.password });
    await waitFor(subject, (s) => s.matches('selectingIdentity'));
    subject.send({ type: 'identity.select', accountId: 456 });
    await waitFor(subject, (s) => s.matches('awaitingCode'));
    subject.send({ type: 'code.submit', code: target.lastCode(OTHER_PHONE)! });
    const signedIn = await waitFor(subject, (s) => s.matches('signedIn') || s.matches('signedOut'));
    const http = createAuthorizedAxios(subject, { baseURL: target.apiUrl });
    const account = await http.get('/accounts/current');
    // assert
    expect(signedIn.value).toEqual({ signedIn: 'active' });
    expect(signedIn.context.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(account.data).toMatchObject({ accountId: 456, companyName: 'Acme Media' });
    subject.stop();
  });

  it("the service reads ValidationPipe's array message and the wrong-code answer as invalid_code", async () => {
    // arrange
    const api = createMrkterApi({ authBaseURL: target.authUrl, apiBaseURL: target.apiUrl });
    await api.requestCode({ accessToken, phoneNumber: PHONE });
    const code = target.lastCode(PHONE)!;
    // act
    const empty = await api.verifyCode({ accessToken, accountId: 123, code: '' }).catch((e: unknown) => e);
    const wrong = await api
      .verifyCode({ accessToken, accountId: 123, code: code === '000000' ? '111111' : '000000' })
      .catch((e: unknown) => e);
    const right = await api.verifyCode({ accessToken, accountId: 123, code });
    // assert
    expect(empty).toMatchObject({ kind: 'invalid_code', status: 400 });
    expect(wrong).toMatchObject({ kind: 'invalid_code', status: 400 });
    expect(right.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('a wrong code in the machine is invalid_code, and the right one then signs in', async () => {
    // arrange
    const api = createMrkterApi({ authBaseURL: target.authUrl, apiBaseURL: target.apiUrl });
    const subject = createActor(mrkterMachine.provide({ actors: mrkterActors(api) })).start();
    subject.send({ type: 'auth.login', username: DEMO.username, password: DEMO.password });
    await waitFor(subject, (s) => s.matches('selectingIdentity'));
    subject.send({ type: 'identity.select', accountId: 123 });
    await waitFor(subject, (s) => s.matches('awaitingCode'));
    const code = target.lastCode(PHONE)!;
    // act
    subject.send({ type: 'code.submit', code: code === '000000' ? '111111' : '000000' });
    const wrong = await waitFor(subject, (s) => s.matches('awaitingCode') && s.context.error !== null);
    subject.send({ type: 'code.submit', code });
    const right = await waitFor(subject, (s) => s.matches('signedIn'));
    // assert
    expect(wrong.context.error).toMatchObject({ kind: 'invalid_code', status: 400 });
    expect(right.context.sessionId).not.toBeNull();
    subject.stop();
  });
});
