import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MarketigerSimulatorOptions,
  startMarketigerSimulator,
} from '../../src/testing/marketigerSimulator.js';

const HOUR_MS = 60 * 60 * 1000;
const started: MarketigerSimulator[] = [];

async function start(options?: MarketigerSimulatorOptions): Promise<MarketigerSimulator> {
  const sim = await startMarketigerSimulator(options);
  started.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function post(sim: MarketigerSimulator, path: string, body: unknown) {
  const res = await fetch(`${sim.baseURL}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: parse(await res.text()) };
}

/** The body as JSON, or `undefined` when empty (JwtBearer's 401 has none). */
const parse = (text: string): any => (text === '' ? undefined : JSON.parse(text));

async function get(sim: MarketigerSimulator, path: string, accessToken?: string, authorization?: string) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (accessToken !== undefined) headers['Authorization'] = `Bearer ${accessToken}`;
  if (authorization !== undefined) headers['Authorization'] = authorization;
  const res = await fetch(`${sim.baseURL}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: parse(await res.text()) };
}

async function login(
  sim: MarketigerSimulator,
  email = MARKETIGER_DEMO_USER.email,
  password = MARKETIGER_DEMO_USER.password,
) {
  const res = await post(sim, '/Auth/Login', { email, password });
  return res.body.data as { accessToken: string; refreshToken: string };
}

const authenticationFailed = {
  success: false,
  error: { type: 'AUTHENTICATION', message: 'Authentication failed' },
};

describe('startMarketigerSimulator', () => {
  describe('POST /v2/Auth/Login', () => {
    it('answers the demo user with the documented success envelope of two tokens', async () => {
      // arrange
      const subject = await start();
      // act
      const res = await post(subject, '/Auth/Login', {
        email: MARKETIGER_DEMO_USER.email,
        password: MARKETIGER_DEMO_USER.password,
      });
      // assert
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        success: true,
        data: { accessToken: expect.any(String), refreshToken: expect.any(String) },
      });
      expect(Object.keys(res.body.data).sort()).toEqual(['accessToken', 'refreshToken']);
      expect(subject.requestCount('POST /v2/Auth/Login')).toBe(1);
    });

    it('issues an HS256 JWT with sub, email, iat, exp and jti that lives accessTokenTtlMs', async () => {
      // arrange
      const t0 = Date.UTC(2030, 0, 1, 12, 0, 0);
      const subject = await start({ now: () => t0, accessTokenTtlMs: 10 * 60 * 1000 });
      // act
      const { accessToken } = await login(subject);
      // assert
      expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: 'HS256', typ: 'JWT' });
      const claims = decodeJwt(accessToken);
      expect(claims).toMatchObject({
        email: MARKETIGER_DEMO_USER.email,
        iat: t0 / 1000,
        exp: t0 / 1000 + 600,
      });
      expect(claims.sub).toEqual(expect.any(String));
      expect(claims.jti).toEqual(expect.any(String));
    });

    it('answers wrong credentials with the documented 400 AUTHENTICATION body', async () => {
      // arrange
      const subject = await start();
      // act
      const wrongPassword = await post(subject, '/Auth/Login', {
        email: MARKETIGER_DEMO_USER.email,
        password: 'nope',
      });
      const unknownUser = await post(subject, '/Auth/Login', {
        email: 'who@x.test',
        password: 'demo-password',
      });
      // assert
      for (const res of [wrongPassword, unknownUser]) {
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          success: false,
          error: { type: 'AUTHENTICATION', message: 'Username or Password are incorrect.' },
        });
      }
    });

    it('signs in the users it was given instead of the demo user', async () => {
      // arrange
      const subject = await start({ users: [{ email: 'ann@x.test', password: 'pw-ann' }] });
      // act
      const ann = await post(subject, '/Auth/Login', { email: 'ann@x.test', password: 'pw-ann' });
      const demo = await post(subject, '/Auth/Login', {
        email: MARKETIGER_DEMO_USER.email,
        password: MARKETIGER_DEMO_USER.password,
      });
      // assert
      expect(ann.status).toBe(200);
      expect(demo.status).toBe(400);
    });

    it("refuses missing fields with [ApiController]'s 400 problem+json, one error per field", async () => {
      // arrange
      const subject = await start();
      // act
      const res = await post(subject, '/Auth/Login', { email: '' });
      // assert
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toMatchObject({
        title: 'One or more validation errors occurred.',
        status: 400,
        errors: { Email: ['The Email field is required.'], Password: ['The Password field is required.'] },
      });
    });

    it('refuses a login body that is not JSON with 415', async () => {
      // arrange
      const subject = await start();
      // act
      const res = await fetch(`${subject.baseURL}/Auth/Login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          email: MARKETIGER_DEMO_USER.email,
          password: MARKETIGER_DEMO_USER.password,
        }),
      });
      // assert
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    });
  });

  describe('POST /v2/Auth/RefreshToken', () => {
    it('answers a valid refresh token with a new token pair in the documented envelope', async () => {
      // arrange
      const subject = await start();
      const first = await login(subject);
      // act
      const res = await post(subject, '/Auth/RefreshToken', { refreshToken: first.refreshToken });
      // assert
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: true,
        data: { accessToken: expect.any(String), refreshToken: expect.any(String) },
      });
      expect(res.body.data.refreshToken).not.toBe(first.refreshToken);
      expect(res.body.data.accessToken).not.toBe(first.accessToken);
      expect(subject.refreshCount).toBe(1);
    });

    it('refuses a spent refresh token with 401 AUTHENTICATION after rotation, and accepts the new one', async () => {
      // arrange
      const subject = await start();
      const first = await login(subject);
      const rotated = await post(subject, '/Auth/RefreshToken', { refreshToken: first.refreshToken });
      // act
      const reused = await post(subject, '/Auth/RefreshToken', { refreshToken: first.refreshToken });
      const next = await post(subject, '/Auth/RefreshToken', {
        refreshToken: rotated.body.data.refreshToken,
      });
      // assert
      expect(reused.status).toBe(401);
      expect(reused.body).toEqual(authenticationFailed);
      expect(next.status).toBe(200);
    });

    it('refuses an unknown token with 401 AUTHENTICATION and a missing field with a 400 problem', async () => {
      // arrange
      const subject = await start();
      // act
      const unknown = await post(subject, '/Auth/RefreshToken', { refreshToken: 'rt_never_issued' });
      const missing = await post(subject, '/Auth/RefreshToken', {});
      // assert
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(authenticationFailed);
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toEqual({ RefreshToken: ['The RefreshToken field is required.'] });
    });

    it('refuses a refresh token 12 hours after its issue, and accepts it just before', async () => {
      // arrange
      const subject = await start();
      const early = await login(subject);
      const late = await login(subject);
      // act
      subject.advanceClock(12 * HOUR_MS - 1000);
      const justBefore = await post(subject, '/Auth/RefreshToken', { refreshToken: early.refreshToken });
      subject.advanceClock(1000);
      const atExpiry = await post(subject, '/Auth/RefreshToken', { refreshToken: late.refreshToken });
      // assert
      expect(justBefore.status).toBe(200);
      expect(atExpiry.status).toBe(401);
      expect(atExpiry.body).toEqual(authenticationFailed);
    });

    it('gives each rotated refresh token its own 12 hours from its issue', async () => {
      // arrange
      const subject = await start({ refreshTokenTtlMs: HOUR_MS });
      const first = await login(subject);
      subject.advanceClock(HOUR_MS - 1000);
      const rotated = await post(subject, '/Auth/RefreshToken', { refreshToken: first.refreshToken });
      // act
      subject.advanceClock(HOUR_MS - 1000);
      const res = await post(subject, '/Auth/RefreshToken', { refreshToken: rotated.body.data.refreshToken });
      // assert
      expect(res.status).toBe(200);
    });

    it('refuses every refresh token issued before revokeRefreshTokens', async () => {
      // arrange
      const subject = await start();
      const before = await login(subject);
      // act
      subject.revokeRefreshTokens();
      const after = await login(subject);
      const old = await post(subject, '/Auth/RefreshToken', { refreshToken: before.refreshToken });
      const fresh = await post(subject, '/Auth/RefreshToken', { refreshToken: after.refreshToken });
      // assert
      expect(old.status).toBe(401);
      expect(fresh.status).toBe(200);
    });
  });

  describe('GET /v2/Project/GetProjects', () => {
    it('answers the signed-in user with the list of their projects', async () => {
      // arrange
      const subject = await start({
        users: [{ email: 'ann@x.test', password: 'pw', projects: ['p-1', 'p-2'] }],
      });
      const { accessToken } = await login(subject, 'ann@x.test', 'pw');
      // act
      const res = await get(subject, '/Project/GetProjects', accessToken);
      // assert
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: true,
        data: [
          { id: 'p-1', name: 'p-1' },
          { id: 'p-2', name: 'p-2' },
        ],
      });
    });

    it("answers no Authorization header, a bad scheme and a forged token with JwtBearer's empty 401", async () => {
      // arrange
      const subject = await start();
      const other = await start({ jwtSecret: 'another-secret' });
      const forged = (await login(other)).accessToken;
      // act
      const none = await get(subject, '/Project/GetProjects');
      const basic = await get(subject, '/Project/GetProjects', undefined, 'Basic abc');
      const foreign = await get(subject, '/Project/GetProjects', forged);
      const garbage = await get(subject, '/Project/GetProjects', 'not-a-jwt');
      // assert
      for (const res of [none, basic, foreign, garbage]) {
        expect(res.status).toBe(401);
        expect(res.body).toBeUndefined();
      }
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect(basic.headers.get('www-authenticate')).toBe('Bearer');
      expect(foreign.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(garbage.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });

    it("answers the same with the guide's 401 AUTHENTICATION body under unauthorizedStyle 'envelope'", async () => {
      // arrange
      const subject = await start({ unauthorizedStyle: 'envelope' });
      const other = await start({ jwtSecret: 'another-secret' });
      const forged = (await login(other)).accessToken;
      // act
      const none = await get(subject, '/Project/GetProjects');
      const basic = await fetch(`${subject.baseURL}/Project/GetProjects`, {
        headers: { Authorization: 'Basic abc' },
      });
      const foreign = await get(subject, '/Project/GetProjects', forged);
      const garbage = await get(subject, '/Project/GetProjects', 'not-a-jwt');
      // assert
      for (const res of [none, foreign, garbage]) {
        expect(res.status).toBe(401);
        expect(res.body).toEqual(authenticationFailed);
      }
      expect(basic.status).toBe(401);
    });

    it('refuses an access token once the simulator clock passes its expiry, saying when it expired', async () => {
      // arrange
      const t0 = Date.UTC(2030, 0, 2, 3, 4, 5);
      const subject = await start({ accessTokenTtlMs: 60_000, now: () => t0 });
      const { accessToken } = await login(subject);
      const fresh = await get(subject, '/Project/GetProjects', accessToken);
      // act
      subject.advanceClock(60_000);
      const expired = await get(subject, '/Project/GetProjects', accessToken);
      // assert
      expect(fresh.status).toBe(200);
      expect(expired.status).toBe(401);
      expect(expired.body).toBeUndefined();
      expect(expired.headers.get('www-authenticate')).toBe(
        `Bearer error="invalid_token", error_description="The token expired at '01/02/2030 03:05:05'"`,
      );
    });

    it('refuses every access token issued before expireAccessTokens, but not later ones', async () => {
      // arrange
      const subject = await start();
      const before = await login(subject);
      // act
      subject.expireAccessTokens();
      const after = await login(subject);
      const old = await get(subject, '/Project/GetProjects', before.accessToken);
      const fresh = await get(subject, '/Project/GetProjects', after.accessToken);
      // assert
      expect(old.status).toBe(401);
      expect(old.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(fresh.status).toBe(200);
    });
  });

  describe('GET /v2/Project/HasAccesToProject', () => {
    it('answers a bare true for an assigned project and false for another, by default (an action returning bool)', async () => {
      // arrange
      const subject = await start();
      const { accessToken } = await login(subject);
      // act
      const yes = await get(subject, '/Project/HasAccesToProject?projectId=demo-project', accessToken);
      const no = await get(subject, '/Project/HasAccesToProject?projectId=other', accessToken);
      const missing = await get(subject, '/Project/HasAccesToProject', accessToken);
      // assert
      expect(yes).toMatchObject({ status: 200, body: true });
      expect(no).toMatchObject({ status: 200, body: false });
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toEqual({ projectId: ['The projectId field is required.'] });
      expect(subject.requestCount('GET /v2/Project/HasAccesToProject')).toBe(3);
    });

    it.each(['envelope', 'boolean'] as const)(
      "answers the envelope with true or false in the '%s' style",
      async (projectAccessStyle) => {
        // arrange
        const subject = await start({ projectAccessStyle });
        const { accessToken } = await login(subject);
        // act
        const yes = await get(subject, '/Project/HasAccesToProject?projectId=demo-project', accessToken);
        const no = await get(subject, '/Project/HasAccesToProject?projectId=other', accessToken);
        // assert
        expect(yes).toMatchObject({ status: 200, body: { success: true, data: true } });
        expect(no).toMatchObject({ status: 200, body: { success: true, data: false } });
      },
    );

    it("answers the documented 403 NO_PERMISSION for a project the user lacks in the 'forbidden' style", async () => {
      // arrange
      const subject = await start({ projectAccessStyle: 'forbidden' });
      const { accessToken } = await login(subject);
      // act
      const yes = await get(subject, '/Project/HasAccesToProject?projectId=demo-project', accessToken);
      const no = await get(subject, '/Project/HasAccesToProject?projectId=other', accessToken);
      // assert
      expect(yes).toMatchObject({ status: 200, body: { success: true, data: true } });
      expect(no.status).toBe(403);
      expect(no.body).toEqual({
        success: false,
        error: { type: 'NO_PERMISSION', message: 'User has no permission for this project' },
      });
    });

    it("answers a request without a token with JwtBearer's 401", async () => {
      // arrange
      const subject = await start();
      // act
      const res = await get(subject, '/Project/HasAccesToProject?projectId=demo-project');
      // assert
      expect(res.status).toBe(401);
      expect(res.body).toBeUndefined();
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });
  });

  describe('clock, faults and browsers', () => {
    it('sends its own clock, advances included, in the Date header', async () => {
      // arrange
      const t0 = Date.UTC(2030, 0, 1, 12, 0, 0);
      const subject = await start({ now: () => t0 });
      // act
      subject.advanceClock(90_000);
      const res = await post(subject, '/Auth/Login', {});
      // assert
      expect(subject.now()).toBe(t0 + 90_000);
      expect(Date.parse(res.headers.get('date') ?? '')).toBe(t0 + 90_000);
    });

    it('applies an injected fault the given number of times, then answers normally', async () => {
      // arrange
      const subject = await start();
      subject.injectFault('POST /v2/Auth/Login', { kind: 'status', status: 503, times: 1 });
      const credentials = { email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password };
      // act
      const first = await fetch(`${subject.baseURL}/Auth/Login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(credentials),
      });
      const second = await post(subject, '/Auth/Login', credentials);
      // assert
      expect(first.status).toBe(503);
      expect(first.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await first.text()).toMatch(/<html>/);
      expect(second.status).toBe(200);
      expect(subject.requestCount('POST /v2/Auth/Login')).toBe(2);
    });

    it('takes faults as an option and drops the connection', async () => {
      // arrange
      const subject = await start({ faults: { 'POST /v2/Auth/RefreshToken': { kind: 'drop' } } });
      // act
      const attempt = post(subject, '/Auth/RefreshToken', { refreshToken: 'x' });
      // assert
      await expect(attempt).rejects.toThrow();
      subject.clearFaults();
      expect((await post(subject, '/Auth/RefreshToken', { refreshToken: 'x' })).status).toBe(401);
    });

    it('answers a CORS preflight so browser pages can call it', async () => {
      // arrange
      const subject = await start();
      // act
      const res = await fetch(`${subject.baseURL}/Project/GetProjects`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://localhost:5173',
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'authorization',
        },
      });
      // assert
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    });

    it('answers a real request with CORS headers too', async () => {
      // arrange
      const subject = await start();
      // act
      const res = await post(subject, '/Auth/Login', {});
      // assert
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    });

    it('counts requests per route and resets the counts', async () => {
      // arrange
      const subject = await start();
      await login(subject);
      await post(subject, '/Auth/RefreshToken', {});
      // act
      const before = { ...subject.counts };
      subject.resetCounts();
      // assert
      expect(before).toEqual({ 'POST /v2/Auth/Login': 1, 'POST /v2/Auth/RefreshToken': 1 });
      expect(subject.requestCount('POST /v2/Auth/Login')).toBe(0);
      expect(subject.log).toHaveLength(0);
    });

    it('listens on 127.0.0.1 and gives clients a base URL ending in /v2', async () => {
      // arrange / act
      const subject = await start();
      // assert
      expect(subject.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(subject.baseURL).toBe(`${subject.url}/v2`);
    });
  });
});
