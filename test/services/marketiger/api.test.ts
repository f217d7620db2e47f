import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, type AuthErrorKind, isAuthError } from '../../../src/errors.js';
import { createMarketigerApi, type MarketigerApiOptions } from '../../../src/services/marketiger/api.js';
import type { MarketigerApi } from '../../../src/services/types.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MarketigerSimulatorOptions,
  startMarketigerSimulator,
} from '../../../src/testing/marketigerSimulator.js';
import type { SimFault } from '../../../src/testing/simServer.js';

const LOGIN = 'POST /v2/Auth/Login';
const REFRESH = 'POST /v2/Auth/RefreshToken';
const PROJECTS = 'GET /v2/Project/GetProjects';
const ACCESS = 'GET /v2/Project/HasAccesToProject';
const HOUR_MS = 60 * 60 * 1000;

// Canaries: values that must never show up in anything an error exposes.
const CANARY_PASSWORD = 'canary-password-7Qx2';
const CANARY_REFRESH = 'canary-refresh-token-9Zk4';
const CANARY_ACCESS = 'eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJhY2Nlc3MifQ.canary-access-sig';

const demo = { email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password };
const started: MarketigerSimulator[] = [];

async function setup(
  simOptions?: MarketigerSimulatorOptions,
  apiOptions?: MarketigerApiOptions,
): Promise<{ sim: MarketigerSimulator; subject: MarketigerApi }> {
  const sim = await startMarketigerSimulator(simOptions);
  started.push(sim);
  return { sim, subject: createMarketigerApi({ baseURL: sim.baseURL, timeoutMs: 5_000, ...apiOptions }) };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

/** Awaits a promise that must reject, and hands back the rejection as an `AuthError`. */
async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the call should have rejected').toBeDefined();
  expect(caught).toBeInstanceOf(AuthError);
  return caught as AuthError;
}

/** A JWT with the given payload; the signature is not checked by the client. */
function fakeJwt(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.c2lnbmF0dXJl`;
}

/**
 * Injects a fault for one request, makes the call, and hands back its rejection. One at a time:
 * the sim server spends every pending fault of a route on the same request, so queuing several
 * `times: 1` faults would not give one per request.
 */
async function once(
  sim: MarketigerSimulator,
  route: string,
  fault: SimFault,
  call: () => Promise<unknown>,
): Promise<AuthError> {
  sim.injectFault(route, { ...fault, times: 1 });
  return rejection(call());
}

function malformed(body: string, contentType?: string): SimFault {
  return { kind: 'malformed', body, ...(contentType ? { contentType } : {}) };
}

function jsonStatus(status: number, body: unknown): SimFault {
  return { kind: 'status', status, body: JSON.stringify(body), contentType: 'application/json' };
}

const authenticationFailed = {
  success: false,
  error: { type: 'AUTHENTICATION', message: 'Authentication failed' },
};
const noPermissionBody = {
  success: false,
  error: { type: 'NO_PERMISSION', message: 'User has no permission for this project' },
};

describe('createMarketigerApi', () => {
  describe('login', () => {
    it('resolves with the token pair and the access token expiry from its exp claim', async () => {
      // arrange
      const { sim, subject } = await setup({ accessTokenTtlMs: HOUR_MS });
      const before = Date.now();
      // act
      const tokens = await subject.login(demo);
      // assert
      expect(tokens.accessToken.split('.')).toHaveLength(3);
      expect(tokens.refreshToken).toMatch(/\S/);
      expect(tokens.clockSkewMs).toBe(0);
      expect(tokens.accessTokenExpiresAt).toBeGreaterThan(before + HOUR_MS - 2_000);
      expect(tokens.accessTokenExpiresAt).toBeLessThanOrEqual(Date.now() + HOUR_MS);
      expect(sim.requestCount(LOGIN)).toBe(1);
    });

    it('sends the documented JSON body to POST /Auth/Login', async () => {
      // arrange
      const { sim, subject } = await setup();
      // act
      await subject.login(demo);
      // assert
      const entry = sim.log.find((e) => e.route === LOGIN);
      expect(entry?.headers['content-type']).toMatch(/^application\/json/);
      expect(entry?.headers.authorization).toBeUndefined();
    });

    it('rejects wrong credentials with invalid_credentials, not retryable', async () => {
      // arrange
      const { subject } = await setup();
      // act
      const error = await rejection(subject.login({ email: demo.email, password: 'wrong' }));
      // assert
      expect(error).toMatchObject({ kind: 'invalid_credentials', status: 400, retryable: false });
      expect(error.cause).toEqual({ name: 'HttpStatus', code: '400', serverError: 'AUTHENTICATION' });
    });

    it('reads a 401 AUTHENTICATION and a 200 with success false and AUTHENTICATION as invalid_credentials', async () => {
      // arrange
      const { sim, subject } = await setup();
      // act
      const at401 = await once(sim, LOGIN, jsonStatus(401, authenticationFailed), () => subject.login(demo));
      const at200 = await once(sim, LOGIN, malformed(JSON.stringify(authenticationFailed)), () =>
        subject.login(demo),
      );
      // assert
      expect(at401).toMatchObject({ kind: 'invalid_credentials', status: 401 });
      expect(at200).toMatchObject({ kind: 'invalid_credentials', status: 200 });
    });

    it('rejects 403 NO_PERMISSION, and a 200 with success false and NO_PERMISSION, with no_permission', async () => {
      // arrange
      const { sim, subject } = await setup();
      // act
      const at403 = await once(sim, LOGIN, jsonStatus(403, noPermissionBody), () => subject.login(demo));
      const at200 = await once(sim, LOGIN, malformed(JSON.stringify(noPermissionBody)), () =>
        subject.login(demo),
      );
      // assert
      expect(at403).toMatchObject({ kind: 'no_permission', status: 403, retryable: false });
      expect(at200).toMatchObject({ kind: 'no_permission', status: 200 });
    });

    it('rejects a 429 with rate_limited and the wait from Retry-After', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(LOGIN, { kind: 'rateLimit', retryAfter: '7', times: 1 });
      // act
      const error = await rejection(subject.login(demo));
      // assert
      expect(error).toMatchObject({
        kind: 'rate_limited',
        status: 429,
        retryAfterMs: 7_000,
        retryable: true,
      });
    });

    it('rejects an HTML 5xx page with server, retryable', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(LOGIN, { kind: 'status', status: 502, times: 1 });
      // act
      const error = await rejection(subject.login(demo));
      // assert
      expect(error).toMatchObject({ kind: 'server', status: 502, retryable: true });
    });

    it('rejects a 4xx with an unknown error type or no body with a typed error carrying the status', async () => {
      // arrange
      const { sim, subject } = await setup();
      const teapot = jsonStatus(418, { success: false, error: { type: 'TEAPOT', message: 'x' } });
      const empty = (status: number): SimFault => ({
        kind: 'status',
        status,
        body: '',
        contentType: 'text/plain',
      });
      // act
      const unknownType = await once(sim, LOGIN, teapot, () => subject.login(demo));
      const noBody = await once(sim, LOGIN, empty(404), () => subject.login(demo));
      const bare400 = await once(sim, LOGIN, empty(400), () => subject.login(demo));
      // assert
      expect(unknownType).toMatchObject({ kind: 'bad_response', status: 418 });
      expect(unknownType.cause).toMatchObject({ serverError: 'TEAPOT' });
      expect(noBody).toMatchObject({ kind: 'bad_response', status: 404 });
      expect(bare400).toMatchObject({ kind: 'bad_response', status: 400 });
    });

    it.each([
      ['an HTML 200 page', '<!DOCTYPE html><html><body>Welcome</body></html>', 'text/html'],
      ['an empty body', '', undefined],
      ['a JSON null', 'null', undefined],
      ['a JSON empty string', '""', undefined],
      ['data null', '{"success":true,"data":null}', undefined],
      ['data {}', '{"success":true,"data":{}}', undefined],
      [
        'success "true"',
        JSON.stringify({ success: 'true', data: { accessToken: fakeJwt({ exp: 2e9 }), refreshToken: 'r' } }),
        undefined,
      ],
      [
        'no success field',
        JSON.stringify({ data: { accessToken: fakeJwt({ exp: 2e9 }), refreshToken: 'r' } }),
        undefined,
      ],
      [
        'an access token that is not a JWT',
        '{"success":true,"data":{"accessToken":"opaque-token","refreshToken":"r"}}',
        undefined,
      ],
      [
        'a JWT with bad base64',
        '{"success":true,"data":{"accessToken":"a.b.c","refreshToken":"r"}}',
        undefined,
      ],
      [
        'a JWT whose payload is not JSON',
        JSON.stringify({
          success: true,
          data: { accessToken: `e30.${Buffer.from('nope').toString('base64url')}.c2ln`, refreshToken: 'r' },
        }),
        undefined,
      ],
      ['a numeric access token', '{"success":true,"data":{"accessToken":42,"refreshToken":"r"}}', undefined],
      [
        'an empty refresh token',
        JSON.stringify({ success: true, data: { accessToken: fakeJwt({ exp: 2e9 }), refreshToken: '' } }),
        undefined,
      ],
      [
        'a missing refresh token',
        JSON.stringify({ success: true, data: { accessToken: fakeJwt({ exp: 2e9 }) } }),
        undefined,
      ],
      [
        'a 200 with success false and an unknown type',
        '{"success":false,"error":{"type":"SOMETHING","message":"x"}}',
        undefined,
      ],
      [
        'a __proto__ key',
        '{"success":true,"__proto__":{"polluted":true},"data":{"__proto__":{"accessToken":"x"}}}',
        undefined,
      ],
    ])('rejects %s with bad_response', async (_name, body, contentType) => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(LOGIN, { ...malformed(body, contentType), times: 1 });
      // act
      const error = await rejection(subject.login(demo));
      // assert
      expect(error).toMatchObject({ kind: 'bad_response', status: 200, retryable: false });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('accepts a JWT without exp and leaves its expiry to the machine (null)', async () => {
      // arrange
      const { sim, subject } = await setup();
      const accessToken = fakeJwt({ sub: 'u' });
      sim.injectFault(LOGIN, {
        ...malformed(JSON.stringify({ success: true, data: { accessToken, refreshToken: 'r1' } })),
        times: 1,
      });
      // act
      const tokens = await subject.login(demo);
      // assert
      expect(tokens).toEqual({ accessToken, refreshToken: 'r1', accessTokenExpiresAt: null, clockSkewMs: 0 });
    });

    it('corrects the expiry for a server clock 5 minutes ahead', async () => {
      // arrange
      const skewMs = 5 * 60 * 1000;
      const { subject } = await setup({ now: () => Date.now() + skewMs, accessTokenTtlMs: HOUR_MS });
      const before = Date.now();
      // act
      const tokens = await subject.login(demo);
      // assert
      expect(tokens.clockSkewMs).toBeGreaterThan(skewMs - 2_000);
      expect(tokens.clockSkewMs).toBeLessThan(skewMs + 2_000);
      // Local time of expiry: an hour from now, not an hour and five minutes.
      expect(tokens.accessTokenExpiresAt).toBeGreaterThan(before + HOUR_MS - 3_000);
      expect(tokens.accessTokenExpiresAt).toBeLessThan(Date.now() + HOUR_MS + 2_000);
    });
  });

  describe('refreshTokens', () => {
    it('resolves with the rotated pair, after which the spent refresh token is refused', async () => {
      // arrange
      const { sim, subject } = await setup();
      const first = await subject.login(demo);
      // act
      const second = await subject.refreshTokens({ refreshToken: first.refreshToken! });
      const reuse = await rejection(subject.refreshTokens({ refreshToken: first.refreshToken! }));
      // assert
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(reuse).toMatchObject({ kind: 'session_expired', status: 401, retryable: false });
      expect(sim.refreshCount).toBe(2);
    });

    it('rejects a refresh token past its 12 hours with session_expired', async () => {
      // arrange
      const { sim, subject } = await setup();
      const tokens = await subject.login(demo);
      sim.advanceClock(12 * HOUR_MS);
      // act
      const error = await rejection(subject.refreshTokens({ refreshToken: tokens.refreshToken! }));
      // assert
      expect(error).toMatchObject({ kind: 'session_expired', status: 401, retryable: false });
    });

    it.each([
      [400, { success: false, error: { type: 'VALIDATION', message: 'x' } }],
      [401, authenticationFailed],
      [403, noPermissionBody],
      [400, ''],
    ])(
      'rejects a %i from the refresh endpoint with session_expired, never retryable',
      async (status, body) => {
        // arrange
        const { sim, subject } = await setup();
        sim.injectFault(REFRESH, {
          kind: 'status',
          status,
          body: typeof body === 'string' ? body : JSON.stringify(body),
          contentType: 'application/json',
        });
        // act
        const error = await rejection(subject.refreshTokens({ refreshToken: 'rt' }));
        // assert
        expect(error).toMatchObject({ kind: 'session_expired', status, retryable: false });
      },
    );

    it('rejects a 200 with success false and AUTHENTICATION with session_expired', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(REFRESH, malformed(JSON.stringify(authenticationFailed)));
      // act
      const error = await rejection(subject.refreshTokens({ refreshToken: 'rt' }));
      // assert
      expect(error).toMatchObject({ kind: 'session_expired', status: 200 });
    });

    it('keeps 429, 5xx and dropped connections retryable', async () => {
      // arrange
      const { sim, subject } = await setup();
      const refresh = () => subject.refreshTokens({ refreshToken: 'rt' });
      // act
      const limited = await once(sim, REFRESH, { kind: 'rateLimit', retryAfter: '3' }, refresh);
      const failing = await once(sim, REFRESH, { kind: 'status', status: 503 }, refresh);
      const dropped = await once(sim, REFRESH, { kind: 'drop' }, refresh);
      // assert
      expect(limited).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3_000, retryable: true });
      expect(failing).toMatchObject({ kind: 'server', status: 503, retryable: true });
      expect(dropped).toMatchObject({ kind: 'network', retryable: true });
    });

    it('rejects a malformed refresh answer with bad_response', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(REFRESH, malformed('{"success":true,"data":{}}'));
      // act
      const error = await rejection(subject.refreshTokens({ refreshToken: 'rt' }));
      // assert
      expect(error).toMatchObject({ kind: 'bad_response', status: 200 });
    });
  });

  describe('checkProjectAccess', () => {
    it('resolves for an assigned project, sending the bearer token and projectId as a query parameter', async () => {
      // arrange
      const { sim, subject } = await setup();
      const { accessToken } = await subject.login(demo);
      // act
      const result = await subject.checkProjectAccess({ accessToken, projectId: 'demo-project' });
      // assert
      expect(result).toBeUndefined();
      const entry = sim.log.find((e) => e.route === ACCESS);
      expect(entry?.headers.authorization).toBe(`Bearer ${accessToken}`);
      expect(entry?.status).toBe(200);
    });

    it('rejects a project answered with data false with no_project_access', async () => {
      // arrange
      const { subject } = await setup({ projectAccessStyle: 'boolean' });
      const { accessToken } = await subject.login(demo);
      // act
      const error = await rejection(subject.checkProjectAccess({ accessToken, projectId: 'someone-elses' }));
      // assert
      expect(error).toMatchObject({ kind: 'no_project_access', status: 200, retryable: false });
    });

    it('rejects a project answered with 403 NO_PERMISSION with no_project_access', async () => {
      // arrange
      const { subject } = await setup({ projectAccessStyle: 'forbidden' });
      const { accessToken } = await subject.login(demo);
      // act
      const error = await rejection(subject.checkProjectAccess({ accessToken, projectId: 'someone-elses' }));
      // assert
      expect(error).toMatchObject({ kind: 'no_project_access', status: 403, retryable: false });
      expect(error.cause).toMatchObject({ serverError: 'NO_PERMISSION' });
    });

    it('rejects an expired or refused access token with session_expired', async () => {
      // arrange
      const { sim, subject } = await setup();
      const { accessToken } = await subject.login(demo);
      sim.expireAccessTokens();
      // act
      const error = await rejection(subject.checkProjectAccess({ accessToken, projectId: 'demo-project' }));
      // assert
      expect(error).toMatchObject({ kind: 'session_expired', status: 401 });
    });

    it('encodes a project id with reserved characters as one query value', async () => {
      // arrange
      const { subject } = await setup({ users: [{ ...demo, projects: ['a&b=c d'] }] });
      const { accessToken } = await subject.login(demo);
      // act
      const access = subject.checkProjectAccess({ accessToken, projectId: 'a&b=c d' });
      // assert
      await expect(access).resolves.toBeUndefined();
    });

    it('rejects an answer whose data is not a boolean with bad_response', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(ACCESS, malformed('{"success":true,"data":"true"}'));
      // act
      const error = await rejection(subject.checkProjectAccess({ accessToken: 'a.b.c', projectId: 'p' }));
      // assert
      expect(error).toMatchObject({ kind: 'bad_response', status: 200 });
    });

    it('refuses an access token with CR/LF before anything is sent', async () => {
      // arrange
      const { sim, subject } = await setup();
      // act
      const error = await rejection(
        subject.checkProjectAccess({ accessToken: 'a\r\nX-Evil: 1', projectId: 'p' }),
      );
      // assert
      expect(error.kind).toBe('bad_response');
      expect(sim.requestCount(ACCESS)).toBe(0);
    });
  });

  describe('getProjects', () => {
    it("resolves with the answer's data", async () => {
      // arrange
      const { subject } = await setup();
      const { accessToken } = await subject.login(demo);
      // act
      const projects = await subject.getProjects({ accessToken });
      // assert
      expect(projects).toEqual([{ id: 'demo-project', name: 'demo-project' }]);
    });

    it('rejects an access token past its expiry on the server clock with session_expired', async () => {
      // arrange
      const { sim, subject } = await setup({ accessTokenTtlMs: 60_000 });
      const { accessToken } = await subject.login(demo);
      sim.advanceClock(60_000);
      // act
      const error = await rejection(subject.getProjects({ accessToken }));
      // assert
      expect(error).toMatchObject({ kind: 'session_expired', status: 401 });
    });

    it('rejects 403 NO_PERMISSION with no_permission', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(PROJECTS, jsonStatus(403, noPermissionBody));
      // act
      const error = await rejection(subject.getProjects({ accessToken: 'a.b.c' }));
      // assert
      expect(error).toMatchObject({ kind: 'no_permission', status: 403 });
    });

    it('rejects an answer without data with bad_response', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(PROJECTS, malformed('{"success":true}'));
      // act
      const error = await rejection(subject.getProjects({ accessToken: 'a.b.c' }));
      // assert
      expect(error).toMatchObject({ kind: 'bad_response', status: 200 });
    });
  });

  describe('transport', () => {
    it('rejects a server that never answers with timeout at the configured limit', async () => {
      // arrange
      const { sim, subject } = await setup({}, { timeoutMs: 200 });
      sim.injectFault(LOGIN, { kind: 'hang' });
      const startedAt = Date.now();
      // act
      const error = await rejection(subject.login(demo));
      // assert
      expect(error).toMatchObject({ kind: 'timeout', retryable: true });
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    });

    it('rejects a body that trickles in past the limit with timeout', async () => {
      // arrange
      const { sim, subject } = await setup({}, { timeoutMs: 200 });
      sim.injectFault(LOGIN, { kind: 'trickle', intervalMs: 50 });
      // act
      const error = await rejection(subject.login(demo));
      // assert
      expect(error.kind).toBe('timeout');
    });

    it('rejects a dropped connection with network, retryable', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(LOGIN, { kind: 'drop' });
      // act
      const error = await rejection(subject.login(demo));
      // assert
      expect(error).toMatchObject({ kind: 'network', retryable: true });
    });

    it('rejects a closed port with network', async () => {
      // arrange
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const subject = createMarketigerApi({ baseURL: `http://127.0.0.1:${port}/v2` });
      // act
      const error = await rejection(subject.login(demo));
      // assert
      expect(error).toMatchObject({ kind: 'network', retryable: true });
    });

    it('rejects with aborted when the signal fires mid-request, and at once for an aborted signal', async () => {
      // arrange
      const { sim, subject } = await setup();
      sim.injectFault(PROJECTS, { kind: 'hang' });
      const controller = new AbortController();
      // act
      const pending = rejection(subject.getProjects({ accessToken: 'a.b.c' }, { signal: controller.signal }));
      setTimeout(() => controller.abort(), 50);
      const midRequest = await pending;
      const already = await rejection(subject.login(demo, { signal: AbortSignal.abort() }));
      // assert
      expect(midRequest).toMatchObject({ kind: 'aborted', retryable: false });
      expect(already.kind).toBe('aborted');
    });
  });

  describe('base URL', () => {
    it('defaults to the documented development API', () => {
      // arrange / act
      const subject = createMarketigerApi();
      // assert
      expect(subject.baseURL).toBe('https://devapi.marketiger3d.com/v2');
    });

    it.each(['http://example.com/v2', 'http://localhost.evil.com/v2', 'ftp://127.0.0.1/v2', 'not a url'])(
      'refuses %s at creation with insecure_url',
      (baseURL) => {
        // arrange / act
        const act = () => createMarketigerApi({ baseURL });
        // assert
        expect(act).toThrow(AuthError);
        try {
          act();
        } catch (error) {
          expect((error as AuthError).kind).toBe('insecure_url');
        }
      },
    );

    it.each([
      'http://127.0.0.1:8080/v2',
      'http://localhost:8080/v2',
      'http://[::1]:8080/v2',
      'https://api.example.com/v2',
    ])('allows %s', (baseURL) => {
      // arrange / act
      const subject = createMarketigerApi({ baseURL });
      // assert
      expect(subject.baseURL).toBe(baseURL);
    });

    it('signs in over plain http on 127.0.0.1', async () => {
      // arrange
      const { sim } = await setup();
      const subject = createMarketigerApi({ baseURL: sim.baseURL });
      // act
      const tokens = await subject.login(demo);
      // assert
      expect(tokens.accessToken).toBeTruthy();
    });
  });

  describe('secrets', () => {
    it('keeps passwords and tokens out of every error it throws', async () => {
      // arrange
      const { sim, subject } = await setup({}, { timeoutMs: 200 });
      const canaryLogin = { email: demo.email, password: CANARY_PASSWORD };
      const scenarios: [string, AuthErrorKind, () => Promise<unknown>][] = [
        ['wrong password', 'invalid_credentials', () => subject.login(canaryLogin)],
        ['refused refresh', 'session_expired', () => subject.refreshTokens({ refreshToken: CANARY_REFRESH })],
        [
          'refused access token',
          'session_expired',
          () => subject.getProjects({ accessToken: CANARY_ACCESS }),
        ],
        [
          'refused project check',
          'session_expired',
          () => subject.checkProjectAccess({ accessToken: CANARY_ACCESS, projectId: 'p' }),
        ],
        [
          'header injection',
          'bad_response',
          () => subject.checkProjectAccess({ accessToken: `${CANARY_ACCESS}\r\n`, projectId: 'p' }),
        ],
        [
          'dropped login',
          'network',
          () => {
            sim.injectFault(LOGIN, { kind: 'drop', times: 1 });
            return subject.login(canaryLogin);
          },
        ],
        [
          'hung refresh',
          'timeout',
          () => {
            sim.injectFault(REFRESH, { kind: 'hang', times: 1 });
            return subject.refreshTokens({ refreshToken: CANARY_REFRESH });
          },
        ],
        [
          'server page',
          'server',
          () => {
            sim.injectFault(PROJECTS, {
              kind: 'status',
              status: 500,
              body: `<p>${CANARY_ACCESS}</p>`,
              times: 1,
            });
            return subject.getProjects({ accessToken: CANARY_ACCESS });
          },
        ],
        [
          'body echoing the secret',
          'invalid_credentials',
          () => {
            const echo = {
              success: false,
              error: { type: 'AUTHENTICATION', message: `bad ${CANARY_PASSWORD}` },
            };
            sim.injectFault(LOGIN, { ...jsonStatus(400, echo), times: 1 });
            return subject.login(canaryLogin);
          },
        ],
        [
          'error type echoing the secret',
          'bad_response',
          () => {
            sim.injectFault(REFRESH, {
              ...jsonStatus(418, { success: false, error: { type: CANARY_REFRESH } }),
              times: 1,
            });
            return subject.refreshTokens({ refreshToken: CANARY_REFRESH });
          },
        ],
      ];
      for (const [name, kind, call] of scenarios) {
        // act
        const error = await rejection(call());
        // assert
        expect(error.kind, name).toBe(kind);
        expect(isAuthError(error)).toBe(true);
        const exposed = [
          error.message,
          error.stack ?? '',
          JSON.stringify(error),
          JSON.stringify(error.cause ?? null),
          inspect(error, { depth: 10, showHidden: true }),
          String(error),
        ].join('\n');
        for (const secret of [CANARY_PASSWORD, CANARY_REFRESH, CANARY_ACCESS, 'canary']) {
          expect(exposed, `${name} exposes a secret`).not.toContain(secret);
        }
      }
    });
  });
});
