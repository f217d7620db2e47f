import { STATUS_CODES } from 'node:http';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultMrkterUsers,
  type MrkterSimulator,
  type MrkterSimulatorOptions,
  mrkterRoutes,
  startMrkterSimulator,
} from '../../src/testing/mrkterSimulator.js';

const CLIENT_ID = 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi';
const AUDIENCE = 'https://dev-mrkter.io';
const DEMO = { username: 'demo@mrkter.test', password: 'demo-password' };
const DEMO_PHONE = '+972531112233';
const DEMO_PHONE_2 = '+972531112244';
/** A clock that stands still, for exact timestamps. */
const FIXED_NOW = Date.parse('2030-01-01T00:00:00Z');

/** The guide's password grant, parameter by parameter. */
const seedPasswordGrant = {
  grant_type: 'password',
  username: DEMO.username,
  password: DEMO.password,
  audience: AUDIENCE,
  client_id: CLIENT_ID,
  connection: 'Username-Password-Authentication',
  scope: 'offline_access',
};

/** Distinct, predictable SMS codes: 100001, 100002, ... */
function counter() {
  let n = 100_000;
  return () => String(++n);
}

let subject: MrkterSimulator | undefined;
afterEach(async () => {
  await subject?.close();
  subject = undefined;
});

async function start(options: MrkterSimulatorOptions = {}): Promise<MrkterSimulator> {
  subject = await startMrkterSimulator(options);
  return subject;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function send(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    form?: Record<string, string>;
    json?: unknown;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const token = (sim: MrkterSimulator, form: Record<string, string>) =>
  send(`${sim.authUrl}/oauth/token`, { form });

async function signIn(sim: MrkterSimulator, user = DEMO) {
  const answer = await token(sim, { ...seedPasswordGrant, ...user });
  expect(answer.status).toBe(200);
  return answer.json as { access_token: string; refresh_token?: string };
}

const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });

async function requestSms(sim: MrkterSimulator, accessToken: string, phoneNumber = DEMO_PHONE) {
  return send(`${sim.apiUrl}/verification/sms`, { json: { phoneNumber }, headers: bearer(accessToken) });
}

async function authenticate(sim: MrkterSimulator, accessToken: string, accountId: string, code: unknown) {
  return send(`${sim.apiUrl}/auth/mfa/phone-number/authenticate`, {
    json: { code },
    headers: { ...bearer(accessToken), 'x-account-id': accountId },
  });
}

/** Signs in and validates a code for account 123: the whole flow of the Mrkter authorization guide. */
async function signInWithSession(sim: MrkterSimulator) {
  const { access_token, refresh_token } = await signIn(sim);
  await requestSms(sim, access_token);
  const answer = await authenticate(sim, access_token, '123', sim.lastCode(DEMO_PHONE));
  expect(answer.status).toBe(201);
  return { accessToken: access_token, refreshToken: refresh_token!, sessionId: answer.text };
}

describe('Auth0 password grant (POST /oauth/token)', () => {
  it('accepts the seed form body, records every parameter and answers the seed token shape', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await token(sim, seedPasswordGrant);
    // assert
    expect(sim.tokenRequests).toEqual([{ encoding: 'form', params: seedPasswordGrant }]);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(answer.json)).toEqual([
      'access_token',
      'refresh_token',
      'scope',
      'expires_in',
      'token_type',
    ]);
    expect(answer.json).toMatchObject({ scope: 'offline_access', expires_in: 82800, token_type: 'Bearer' });
    expect(answer.json.refresh_token).toMatch(/^v1\.[\w-]{40,}$/);
    const claims = decodeJwt(answer.json.access_token);
    expect(claims).toMatchObject({
      'http://type': 'user',
      'http://email': DEMO.username,
      iss: `${sim.authUrl}/`,
      aud: AUDIENCE,
      scope: 'offline_access',
      gty: 'password',
      azp: CLIENT_ID,
    });
    expect(claims.sub).toMatch(/^auth0\|[0-9a-f]+$/);
    expect(claims.exp! - claims.iat!).toBe(82800);
  });

  it('accepts the same grant as a JSON body', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await send(`${sim.authUrl}/oauth/token`, { json: seedPasswordGrant });
    // assert
    expect(answer.status).toBe(200);
    expect(sim.tokenRequests[0]).toEqual({ encoding: 'json', params: seedPasswordGrant });
  });

  it('issues no refresh token without the offline_access scope', async () => {
    // arrange
    const sim = await start();
    const { scope: _scope, ...withoutScope } = seedPasswordGrant;
    // act
    const answer = await token(sim, withoutScope);
    // assert
    expect(answer.status).toBe(200);
    expect(answer.json.refresh_token).toBeUndefined();
    expect(answer.json.scope).toBeUndefined();
  });

  it('uses the lifetime and clock it is given for expires_in, iat and exp', async () => {
    // arrange
    const at = Date.parse('2030-01-01T00:00:00Z');
    const sim = await start({ accessTokenTtlSeconds: 600, now: () => at });
    // act
    const answer = await token(sim, seedPasswordGrant);
    // assert
    expect(answer.json.expires_in).toBe(600);
    expect(decodeJwt(answer.json.access_token)).toMatchObject({ iat: at / 1000, exp: at / 1000 + 600 });
    expect(answer.headers.get('date')).toBe(new Date(at).toUTCString());
  });

  it.each([
    ['a wrong password', { password: 'nope' }],
    ['an unknown user', { username: 'nobody@mrkter.test' }],
  ])('refuses %s with 403 invalid_grant "Wrong email or password."', async (_name, change) => {
    // arrange
    const sim = await start();
    // act
    const answer = await token(sim, { ...seedPasswordGrant, ...change });
    // assert
    expect(answer.status).toBe(403);
    expect(answer.json).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
  });

  it('locks a user after too many failed attempts, even with the right password, until reset', async () => {
    // arrange
    const sim = await start({ maxFailedLogins: 3 });
    for (let i = 0; i < 3; i++) await token(sim, { ...seedPasswordGrant, password: 'nope' });
    // act
    const locked = await token(sim, seedPasswordGrant);
    sim.resetFailedLogins(DEMO.username);
    const unlocked = await token(sim, seedPasswordGrant);
    // assert
    expect(locked.status).toBe(429);
    expect(locked.json.error).toBe('too_many_attempts');
    expect(typeof locked.json.error_description).toBe('string');
    expect(unlocked.status).toBe(200);
  });

  it('refuses a blocked user with 401 unauthorized "user is blocked"', async () => {
    // arrange
    const sim = await start({ users: [{ ...defaultMrkterUsers[0]!, blocked: true }] });
    // act
    const answer = await token(sim, seedPasswordGrant);
    // assert
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ error: 'unauthorized', error_description: 'user is blocked' });
  });

  it('answers 403 mfa_required with an mfa_token for a user under Auth0 MFA', async () => {
    // arrange
    const sim = await start({ users: [{ ...defaultMrkterUsers[0]!, mfaRequired: true }] });
    // act
    const answer = await token(sim, seedPasswordGrant);
    // assert
    expect(answer.status).toBe(403);
    expect(answer.json.error).toBe('mfa_required');
    expect(typeof answer.json.mfa_token).toBe('string');
  });

  it('refuses an unknown client with 401 access_denied (Auth0: "Unauthorized") and an unknown audience with 403 access_denied', async () => {
    // arrange
    const sim = await start();
    // act
    const client = await token(sim, { ...seedPasswordGrant, client_id: 'other' });
    const audience = await token(sim, { ...seedPasswordGrant, audience: 'https://other.example' });
    // assert
    expect(client.status).toBe(401);
    expect(client.json).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    expect(client.headers.get('cache-control')).toBe('no-store');
    expect(audience.status).toBe(403);
    expect(audience.json.error).toBe('access_denied');
  });

  it('refuses a request without grant_type or with an unsupported one', async () => {
    // arrange
    const sim = await start();
    // act
    const missing = await token(sim, { client_id: CLIENT_ID });
    const unsupported = await token(sim, { client_id: CLIENT_ID, grant_type: 'client_credentials' });
    // assert
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_request');
    expect(unsupported.json.error).toBe('unsupported_grant_type');
  });
});

describe('Auth0 refresh_token grant', () => {
  const refresh = (sim: MrkterSimulator, refreshToken: string) =>
    token(sim, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshToken });

  it('rotates the refresh token and refuses the spent one with 403 invalid_grant', async () => {
    // arrange
    const sim = await start();
    const first = await signIn(sim);
    // act
    const rotated = await refresh(sim, first.refresh_token!);
    const reused = await refresh(sim, first.refresh_token!);
    // assert
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ scope: 'offline_access', expires_in: 82800, token_type: 'Bearer' });
    expect(rotated.json.refresh_token).toMatch(/^v1\./);
    expect(rotated.json.refresh_token).not.toBe(first.refresh_token);
    expect(rotated.json.access_token).not.toBe(first.access_token);
    expect(reused.status).toBe(403);
    expect(reused.json).toEqual({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
  });

  it('revokes the whole family when a spent refresh token is reused (reuse detection)', async () => {
    // arrange
    const sim = await start();
    const first = await signIn(sim);
    const rotated = await refresh(sim, first.refresh_token!);
    await refresh(sim, first.refresh_token!);
    // act
    const answer = await refresh(sim, rotated.json.refresh_token);
    // assert
    expect(answer.status).toBe(403);
  });

  it('answers without a refresh token and keeps the old one valid when rotation is off', async () => {
    // arrange
    const sim = await start({ rotateRefreshTokens: false });
    const first = await signIn(sim);
    // act
    const once = await refresh(sim, first.refresh_token!);
    const twice = await refresh(sim, first.refresh_token!);
    // assert
    expect(once.status).toBe(200);
    expect(once.json.refresh_token).toBeUndefined();
    expect(twice.status).toBe(200);
  });

  it('refuses every refresh token issued before revokeRefreshTokens', async () => {
    // arrange
    const sim = await start();
    const first = await signIn(sim);
    // act
    sim.revokeRefreshTokens();
    const answer = await refresh(sim, first.refresh_token!);
    // assert
    expect(answer.status).toBe(403);
    expect(answer.json.error).toBe('invalid_grant');
  });

  it('refuses the refresh of a user blocked meanwhile with 401 unauthorized', async () => {
    // arrange
    const sim = await start();
    const first = await signIn(sim);
    sim.setUserBlocked(DEMO.username, true);
    // act
    const answer = await refresh(sim, first.refresh_token!);
    // assert
    expect(answer.status).toBe(401);
    expect(answer.json.error).toBe('unauthorized');
  });
});

describe('Mrkter API: GET /user-identity/me/users', () => {
  it('answers the user identities in the seed full shape for a valid bearer token', async () => {
    // arrange
    const sim = await start();
    const { access_token } = await signIn(sim);
    // act
    const answer = await send(`${sim.apiUrl}/user-identity/me/users`, { headers: bearer(access_token) });
    // assert
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(defaultMrkterUsers[0]!.identities);
    expect(answer.json).toHaveLength(2);
    expect(Object.keys(answer.json[0])).toEqual(
      expect.arrayContaining([
        'id',
        'accountId',
        'status',
        'verifiedPhoneNumber',
        'systemRoles',
        'phoneNumberCode',
      ]),
    );
  });

  it.each([
    ['no Authorization header', {}],
    ['a token it never issued', { authorization: 'Bearer abc.def.ghi' }],
    ['another scheme', { authorization: 'Basic abc' }],
  ])('refuses %s with 401 {statusCode, message}', async (_name, headers) => {
    // arrange
    const sim = await start();
    // act
    const answer = await send(`${sim.apiUrl}/user-identity/me/users`, { headers });
    // assert
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ statusCode: 401, message: 'Unauthorized' });
  });

  it('refuses every access token issued before expireAccessTokens, and accepts new ones', async () => {
    // arrange
    const sim = await start();
    const old = await signIn(sim);
    // act
    sim.expireAccessTokens();
    const refused = await send(`${sim.apiUrl}/user-identity/me/users`, { headers: bearer(old.access_token) });
    const fresh = await signIn(sim);
    const accepted = await send(`${sim.apiUrl}/user-identity/me/users`, {
      headers: bearer(fresh.access_token),
    });
    // assert
    expect(refused.status).toBe(401);
    expect(accepted.status).toBe(200);
  });

  it('refuses an access token once advanceClock has moved past its exp, and moves the Date header', async () => {
    // arrange
    const sim = await start({ accessTokenTtlSeconds: 60 });
    const { access_token } = await signIn(sim);
    const before = Date.parse((await send(`${sim.apiUrl}/nowhere`)).headers.get('date')!);
    // act
    sim.advanceClock(61_000);
    const answer = await send(`${sim.apiUrl}/user-identity/me/users`, { headers: bearer(access_token) });
    // assert
    expect(answer.status).toBe(401);
    expect(Date.parse(answer.headers.get('date')!) - before).toBeGreaterThanOrEqual(60_000);
  });
});

describe('Mrkter API: POST /verification/sms', () => {
  it('sends a 6-digit code to a verified number of the user and records it', async () => {
    // arrange
    const sim = await start({ now: () => FIXED_NOW });
    const { access_token } = await signIn(sim);
    // act
    const answer = await requestSms(sim, access_token);
    // assert
    expect(answer.status).toBe(201);
    expect(sim.sentCodes).toEqual([
      { phoneNumber: DEMO_PHONE, code: expect.stringMatching(/^\d{6}$/), at: FIXED_NOW, used: false },
    ]);
    expect(sim.lastCode()).toBe(sim.sentCodes[0]!.code);
    expect(sim.lastCode(DEMO_PHONE)).toBe(sim.sentCodes[0]!.code);
    expect(sim.lastCode(DEMO_PHONE_2)).toBeUndefined();
  });

  it('refuses a number that is not a verified number of the user, and a missing one, with 400', async () => {
    // arrange
    const sim = await start();
    const { access_token } = await signIn(sim);
    // act
    const foreign = await requestSms(sim, access_token, '+972531112255');
    const missing = await send(`${sim.apiUrl}/verification/sms`, { json: {}, headers: bearer(access_token) });
    // assert
    expect(foreign.status).toBe(400);
    expect(foreign.json).toMatchObject({ statusCode: 400 });
    expect(missing.status).toBe(400);
    expect(sim.sentCodes).toHaveLength(0);
  });

  it('requires a bearer token', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await send(`${sim.apiUrl}/verification/sms`, { json: { phoneNumber: DEMO_PHONE } });
    // assert
    expect(answer.status).toBe(401);
  });

  it("answers the throttler's 429 with Retry-After to a second request within the ttl, blocks for a whole ttl from it, then sends again", async () => {
    // arrange
    const sim = await start({ smsCooldownMs: 20_000 });
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token);
    // act
    sim.advanceClock(5_000);
    const throttled = await requestSms(sim, access_token);
    sim.advanceClock(15_000);
    const stillBlocked = await requestSms(sim, access_token);
    sim.advanceClock(5_000);
    const again = await requestSms(sim, access_token);
    // assert
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('20');
    expect(throttled.json).toEqual({ statusCode: 429, message: 'ThrottlerException: Too Many Requests' });
    expect(stillBlocked.status).toBe(429);
    expect(stillBlocked.headers.get('retry-after')).toBe('5');
    expect(again.status).toBe(201);
    expect(sim.sentCodes).toHaveLength(2);
  });
});

describe('Mrkter API: POST /auth/mfa/phone-number/authenticate', () => {
  it('answers the session id as text/html (a string returned by a Nest handler) for the right code with Authorization and x-account-id', async () => {
    // arrange
    const sim = await start({ now: () => FIXED_NOW });
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token);
    // act
    const answer = await authenticate(sim, access_token, '123', sim.lastCode());
    // assert
    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(answer.text).toMatch(/^[\w-]{32}$/);
    expect(sim.sessions).toEqual([
      { sessionId: answer.text, username: DEMO.username, accountId: 123, createdAt: FIXED_NOW },
    ]);
  });

  it('answers the session id as text/plain with sessionIdFormat text', async () => {
    // arrange
    const sim = await start({ sessionIdFormat: 'text' });
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token);
    // act
    const answer = await authenticate(sim, access_token, '123', sim.lastCode());
    // assert
    expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(answer.text).toBe(sim.sessions[0]!.sessionId);
  });

  it('answers the session id as a JSON string with sessionIdFormat json', async () => {
    // arrange
    const sim = await start({ sessionIdFormat: 'json' });
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token);
    // act
    const answer = await authenticate(sim, access_token, '123', sim.lastCode());
    // assert
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.text).toBe(JSON.stringify(sim.sessions[0]!.sessionId));
  });

  it('requires the bearer token (401) and an x-account-id of the user (403)', async () => {
    // arrange
    const sim = await start();
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token);
    const code = sim.lastCode();
    const url = `${sim.apiUrl}/auth/mfa/phone-number/authenticate`;
    // act
    const noBearer = await send(url, { json: { code }, headers: { 'x-account-id': '123' } });
    const noAccount = await send(url, { json: { code }, headers: bearer(access_token) });
    const foreignAccount = await authenticate(sim, access_token, '789', code);
    const valid = await authenticate(sim, access_token, '123', code);
    // assert
    expect(noBearer.status).toBe(401);
    expect(noAccount.status).toBe(403);
    expect(foreignAccount.status).toBe(403);
    expect(valid.status).toBe(201);
  });

  it("refuses a wrong code with BadRequestException('Invalid code')", async () => {
    // arrange
    const sim = await start();
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token);
    // act
    const answer = await authenticate(sim, access_token, '123', 'not-the-code');
    // assert
    expect(answer.status).toBe(400);
    expect(answer.text).toBe('{"message":"Invalid code","error":"Bad Request","statusCode":400}');
  });

  it.each([401, 403, 422] as const)(
    'answers a wrong code with %i under invalidCodeStatus',
    async (status) => {
      // arrange
      const sim = await start({ invalidCodeStatus: status });
      const { access_token } = await signIn(sim);
      await requestSms(sim, access_token);
      // act
      const answer = await authenticate(sim, access_token, '123', 'x');
      // assert
      expect(answer.status).toBe(status);
      expect(answer.json).toEqual({
        message: 'Invalid code',
        error: STATUS_CODES[status],
        statusCode: status,
      });
    },
  );

  it('refuses a code sent to another identity phone, a used code and an expired code', async () => {
    // arrange
    const sim = await start({ codeTtlMs: 60_000, smsCooldownMs: 0, generateCode: counter() });
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token, DEMO_PHONE_2);
    const otherPhoneCode = sim.lastCode(DEMO_PHONE_2);
    await requestSms(sim, access_token);
    const code = sim.lastCode(DEMO_PHONE);
    // act
    const otherPhone = await authenticate(sim, access_token, '123', otherPhoneCode);
    const first = await authenticate(sim, access_token, '123', code);
    const reused = await authenticate(sim, access_token, '123', code);
    await requestSms(sim, access_token);
    sim.advanceClock(60_000);
    const expired = await authenticate(sim, access_token, '123', sim.lastCode(DEMO_PHONE));
    // assert
    expect(otherPhone.status).toBe(400);
    expect(first.status).toBe(201);
    expect(reused.status).toBe(400);
    expect(expired.status).toBe(400);
  });

  it('accepts only the latest code sent to a number', async () => {
    // arrange
    const sim = await start({ smsCooldownMs: 0, generateCode: counter() });
    const { access_token } = await signIn(sim);
    await requestSms(sim, access_token);
    const older = sim.lastCode();
    await requestSms(sim, access_token);
    const latest = sim.lastCode();
    // act
    const olderAnswer = await authenticate(sim, access_token, '123', older);
    const latestAnswer = await authenticate(sim, access_token, '123', latest);
    // assert
    expect(olderAnswer.status).toBe(400);
    expect(latestAnswer.status).toBe(201);
  });
});

describe('Mrkter API: GET /accounts/current (needs all three headers)', () => {
  it('answers the account summary with Authorization, x-account-id and x-session-id', async () => {
    // arrange
    const sim = await start();
    const { accessToken, sessionId } = await signInWithSession(sim);
    // act
    const answer = await send(`${sim.apiUrl}/accounts/current`, {
      headers: { ...bearer(accessToken), 'x-account-id': '123', 'x-session-id': sessionId },
    });
    // assert
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      accountId: 123,
      companyName: 'Payouts',
      accountType: 'ADVERTISER',
      currency: 'USD',
      status: 'ACTIVE',
    });
  });

  it('answers 401 when any of the three headers is missing or does not match the session', async () => {
    // arrange
    const sim = await start();
    const { accessToken, sessionId } = await signInWithSession(sim);
    const url = `${sim.apiUrl}/accounts/current`;
    const all = { ...bearer(accessToken), 'x-account-id': '123', 'x-session-id': sessionId };
    const { authorization: _a, ...noBearer } = all;
    const { 'x-account-id': _b, ...noAccount } = all;
    const { 'x-session-id': _c, ...noSession } = all;
    // act
    const answers = await Promise.all([
      send(url, { headers: noBearer }),
      send(url, { headers: noAccount }),
      send(url, { headers: noSession }),
      send(url, { headers: { ...all, 'x-account-id': '456' } }),
      send(url, { headers: { ...all, 'x-session-id': 'unknown' } }),
    ]);
    // assert
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ statusCode: 401, message: 'Unauthorized' });
    }
  });

  it('keeps the session across a token refresh and refuses it after revokeSessions', async () => {
    // arrange
    const sim = await start();
    const { refreshToken, sessionId } = await signInWithSession(sim);
    const refreshed = await token(sim, {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: refreshToken,
    });
    const { access_token } = refreshed.json as { access_token: string };
    const headers = { ...bearer(access_token), 'x-account-id': '123', 'x-session-id': sessionId };
    // act
    const withNewToken = await send(`${sim.apiUrl}/accounts/current`, { headers });
    sim.revokeSessions();
    const revoked = await send(`${sim.apiUrl}/accounts/current`, { headers });
    // assert
    expect(withNewToken.status).toBe(200);
    expect(revoked.status).toBe(401);
  });
});

describe('simulator plumbing', () => {
  it('answers CORS preflights on both origins, allowing the three auth headers', async () => {
    // arrange
    const sim = await start();
    // act
    const answers = await Promise.all(
      [`${sim.authUrl}/oauth/token`, `${sim.apiUrl}/accounts/current`].map((url) =>
        fetch(url, {
          method: 'OPTIONS',
          headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' },
        }),
      ),
    );
    // assert
    for (const answer of answers) {
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('access-control-allow-headers')).toMatch(
        /authorization.*x-account-id.*x-session-id/i,
      );
    }
  });

  it('runs two origins, counts requests per route and injects a fault on the server that owns the route', async () => {
    // arrange
    const sim = await start();
    sim.injectFault(mrkterRoutes.identities, { kind: 'status', status: 503, times: 1 });
    const { access_token } = await signIn(sim);
    // act
    const faulted = await send(`${sim.apiUrl}/user-identity/me/users`, { headers: bearer(access_token) });
    const normal = await send(`${sim.apiUrl}/user-identity/me/users`, { headers: bearer(access_token) });
    // assert
    expect(sim.authUrl).not.toBe(sim.apiUrl);
    expect(sim.url).toBe(sim.apiUrl);
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('content-type')).toMatch(/text\/html/);
    expect(normal.status).toBe(200);
    expect(sim.requestCount(mrkterRoutes.token)).toBe(1);
    expect(sim.auth.requestCount(mrkterRoutes.token)).toBe(1);
    expect(sim.api.requestCount(mrkterRoutes.identities)).toBe(2);
    expect(sim.requestCount(mrkterRoutes.identities)).toBe(2);
    expect(sim.log.map((entry) => entry.route)).toEqual([
      mrkterRoutes.token,
      mrkterRoutes.identities,
      mrkterRoutes.identities,
    ]);
  });

  it('applies faults given at start to each server', async () => {
    // arrange
    const sim = await start({
      authFaults: { [mrkterRoutes.token]: { kind: 'rateLimit', retryAfter: '7' } },
      apiFaults: { [mrkterRoutes.sms]: { kind: 'status', status: 500 } },
    });
    // act
    const tokenAnswer = await token(sim, seedPasswordGrant);
    const smsAnswer = await requestSms(sim, 'whatever');
    // assert
    expect(tokenAnswer.status).toBe(429);
    expect(tokenAnswer.headers.get('retry-after')).toBe('7');
    expect(smsAnswer.status).toBe(500);
  });
});
