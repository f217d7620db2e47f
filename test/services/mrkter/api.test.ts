import { inspect } from 'node:util';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { type AuthError, isAuthError } from '../../../src/errors.js';
import { createMrkterApi, type MrkterApiOptions } from '../../../src/services/mrkter/api.js';
import type { MrkterApi } from '../../../src/services/types.js';
import {
  defaultMrkterUsers,
  type MrkterSimulator,
  type MrkterSimulatorOptions,
  mrkterRoutes,
  startMrkterSimulator,
} from '../../../src/testing/mrkterSimulator.js';
import type { SimFault } from '../../../src/testing/simServer.js';
import { MAX_TIMER_MS } from '../../../src/time.js';

const DEMO = { username: 'demo@mrkter.test', password: 'demo-password' };
const DEMO_PHONE = '+972531112233';

let sim: MrkterSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Starts a simulator and the service under test pointed at it. */
async function setup(simOptions: MrkterSimulatorOptions = {}, apiOptions: MrkterApiOptions = {}) {
  sim = await startMrkterSimulator(simOptions);
  const subject = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl, ...apiOptions });
  return { sim, subject };
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    if (!isAuthError(error)) throw error;
    return error;
  }
  throw new Error('expected a rejection');
}

/** A fault answering `body` with `status` (default 200) and a content type (default JSON). */
const answer = (body: string, status = 200, contentType = 'application/json; charset=utf-8'): SimFault => ({
  kind: 'malformed',
  body,
  status,
  contentType,
});

async function signedIn(subject: MrkterApi) {
  return subject.login(DEMO);
}

/** Signs in and asks for a code for account 123: what verifyCode needs. */
async function awaitingCode(subject: MrkterApi) {
  const { accessToken } = await signedIn(subject);
  await subject.requestCode({ accessToken, phoneNumber: DEMO_PHONE });
  return accessToken;
}

const jwtKey = new TextEncoder().encode('test-key-of-at-least-32-bytes-long!!');
/** A JWT with the given `exp` (epoch seconds; none when undefined), as readJwtExpiry reads it. */
async function jwt(exp?: number) {
  const builder = new SignJWT({ scope: 'offline_access' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' });
  if (exp !== undefined) builder.setExpirationTime(exp);
  return builder.sign(jwtKey);
}

describe('createMrkterApi', () => {
  it('defaults to the seed origins', () => {
    // act
    const subject = createMrkterApi();
    // assert
    expect(subject.authBaseURL).toBe('https://login.dev.mrkter.io');
    expect(subject.apiBaseURL).toBe('https://api.dev.mrkter.io');
  });

  it.each([
    { authBaseURL: 'http://login.dev.mrkter.io' },
    { apiBaseURL: 'http://api.dev.mrkter.io' },
    { apiBaseURL: 'http://localhost.evil.com' },
  ])('refuses a non-https origin %o as insecure_url', (options) => {
    // act
    const act = () => createMrkterApi(options);
    // assert
    expect(act).toThrowError(expect.objectContaining({ kind: 'insecure_url' }));
  });
});

describe('login (Auth0 password grant)', () => {
  it('sends every parameter of the seed as form data and resolves with the token set', async () => {
    // arrange
    const { sim, subject } = await setup();
    const before = Date.now();
    // act
    const tokens = await subject.login(DEMO);
    // assert
    expect(sim.tokenRequests).toEqual([
      {
        encoding: 'form',
        params: {
          grant_type: 'password',
          username: DEMO.username,
          password: DEMO.password,
          audience: 'https://dev-mrkter.io',
          client_id: 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi',
          connection: 'Username-Password-Authentication',
          scope: 'offline_access',
        },
      },
    ]);
    expect(tokens.accessToken.split('.')).toHaveLength(3);
    expect(tokens.refreshToken).toMatch(/^v1\./);
    expect(tokens.clockSkewMs).toBe(0);
    expect(tokens.accessTokenExpiresAt).toBeGreaterThanOrEqual(before + 82_800_000);
    expect(tokens.accessTokenExpiresAt).toBeLessThanOrEqual(Date.now() + 82_800_000);
  });

  it('sends the configured client id, audience, connection and scope', async () => {
    // arrange
    const { sim, subject } = await setup(
      { clientId: 'my-client', audience: 'https://my-api' },
      {
        clientId: 'my-client',
        audience: 'https://my-api',
        connection: 'corp',
        scope: 'offline_access openid',
      },
    );
    // act
    await subject.login(DEMO);
    // assert
    expect(sim.tokenRequests[0]!.params).toMatchObject({
      client_id: 'my-client',
      audience: 'https://my-api',
      connection: 'corp',
      scope: 'offline_access openid',
    });
  });

  it('resolves with refreshToken null when the scope asks for no refresh token', async () => {
    // arrange
    const { sim, subject } = await setup({}, { scope: '' });
    // act
    const tokens = await subject.login(DEMO);
    // assert
    expect(sim.tokenRequests[0]!.params['scope']).toBeUndefined();
    expect(tokens.refreshToken).toBeNull();
  });

  it('rejects a wrong password with invalid_credentials, not retryable', async () => {
    // arrange
    const { subject } = await setup();
    // act
    const error = await rejection(subject.login({ ...DEMO, password: 'wrong' }));
    // assert
    expect(error).toMatchObject({ kind: 'invalid_credentials', status: 403, retryable: false });
    expect(error.cause).toEqual({ name: 'HttpStatus', code: '403', serverError: 'invalid_grant' });
  });

  it('rejects a locked user with too_many_attempts, not retryable, and sends the login once', async () => {
    // arrange
    const { sim, subject } = await setup({ maxFailedLogins: 1 });
    await rejection(subject.login({ ...DEMO, password: 'wrong' }));
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'too_many_attempts', status: 429, retryable: false });
    expect(sim.requestCount(mrkterRoutes.token)).toBe(2);
  });

  it('rejects any other 429 with rate_limited and the Retry-After wait', async () => {
    // arrange
    const { subject } = await setup({
      authFaults: { [mrkterRoutes.token]: { kind: 'rateLimit', retryAfter: '7' } },
    });
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 7000, retryable: true });
  });

  it('rejects a blocked user with no_permission, not retryable', async () => {
    // arrange
    const { subject } = await setup({ users: [{ ...defaultMrkterUsers[0]!, blocked: true }] });
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'no_permission', status: 401, retryable: false });
  });

  it('rejects mfa_required with no_permission and a message that says so', async () => {
    // arrange
    const { subject } = await setup({ users: [{ ...defaultMrkterUsers[0]!, mfaRequired: true }] });
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'no_permission', status: 403, retryable: false });
    expect(error.message).toMatch(/multi-factor/);
  });

  it.each([
    ['an unknown client id', { clientId: 'other-client' }],
    ['an unknown audience', { audience: 'https://other-api' }],
  ])(
    'rejects %s with no_permission (the application, not the password, was refused)',
    async (_name, options) => {
      // arrange
      const { subject } = await setup({}, options);
      // act
      const error = await rejection(subject.login(DEMO));
      // assert
      expect(error.kind).toBe('no_permission');
    },
  );

  it.each([
    [400, '{"error":"invalid_request"}'],
    [401, ''],
    [403, '<html>Forbidden</html>'],
  ])('reads an unknown %i refusal of a login as invalid_credentials', async (status, body) => {
    // arrange
    const { subject } = await setup({ authFaults: { [mrkterRoutes.token]: answer(body, status) } });
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'invalid_credentials', status });
  });

  it('rejects an HTML 5xx page with server, retryable', async () => {
    // arrange
    const { subject } = await setup({
      authFaults: { [mrkterRoutes.token]: { kind: 'status', status: 502 } },
    });
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'server', status: 502, retryable: true });
  });

  it('rejects a request the server never answers with timeout', async () => {
    // arrange
    const { subject } = await setup(
      { authFaults: { [mrkterRoutes.token]: { kind: 'hang' } } },
      { timeoutMs: 200 },
    );
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('rejects with aborted when the caller aborts', async () => {
    // arrange
    const { subject } = await setup({ authFaults: { [mrkterRoutes.token]: { kind: 'hang' } } });
    const controller = new AbortController();
    // act
    const pending = rejection(subject.login(DEMO, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const error = await pending;
    // assert
    expect(error.kind).toBe('aborted');
  });
});

describe('token answers (parsed the same for both grants)', () => {
  const withToken = (fields: Record<string, unknown>) =>
    answer(
      JSON.stringify({ access_token: 'opaque-token', token_type: 'Bearer', expires_in: 3600, ...fields }),
    );

  it.each([
    ['an HTML page', answer('<html>ok</html>', 200, 'text/html')],
    ['an empty body', answer('')],
    ['null', answer('null')],
    ['a JSON string', answer('""')],
    ['an array', answer('[]')],
    ['no access_token', withToken({ access_token: undefined })],
    ['an empty access_token', withToken({ access_token: '' })],
    ['an access_token with a space', withToken({ access_token: 'a b' })],
    ['a numeric access_token', withToken({ access_token: 42 })],
    ['no token_type', withToken({ token_type: undefined })],
    ['token_type mac', withToken({ token_type: 'mac' })],
    ['a refresh_token that is a number', withToken({ refresh_token: 123 })],
    ['an opaque token whose expires_in is 0', withToken({ expires_in: 0 })],
    ['an opaque token without expires_in', withToken({ expires_in: undefined })],
  ])('rejects %s with bad_response', async (_name, fault) => {
    // arrange
    const { subject } = await setup({ authFaults: { [mrkterRoutes.token]: fault } });
    // act
    const error = await rejection(subject.login(DEMO));
    // assert
    expect(error).toMatchObject({ kind: 'bad_response', status: 200, retryable: false });
  });

  it('accepts token_type Bearer in any case and an opaque token with a valid expires_in', async () => {
    // arrange
    const { subject } = await setup({
      authFaults: { [mrkterRoutes.token]: withToken({ token_type: 'bEaReR' }) },
    });
    const before = Date.now();
    // act
    const tokens = await subject.login(DEMO);
    // assert
    expect(tokens.accessToken).toBe('opaque-token');
    expect(tokens.refreshToken).toBeNull();
    expect(tokens.accessTokenExpiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
  });

  it('reads expires_in given as a numeric string', async () => {
    // arrange
    const { subject } = await setup({
      authFaults: { [mrkterRoutes.token]: withToken({ expires_in: '3600' }) },
    });
    const before = Date.now();
    // act
    const tokens = await subject.login(DEMO);
    // assert
    expect(tokens.accessTokenExpiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(tokens.accessTokenExpiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it('clamps an absurd expires_in so that the delay stays below 2^31-1 ms', async () => {
    // arrange
    const { subject } = await setup({
      authFaults: { [mrkterRoutes.token]: withToken({ expires_in: 1e12 }) },
    });
    // act
    const tokens = await subject.login(DEMO);
    // assert
    expect(tokens.accessTokenExpiresAt! - Date.now()).toBeLessThan(MAX_TIMER_MS);
    expect(tokens.accessTokenExpiresAt! - Date.now()).toBeGreaterThan(MAX_TIMER_MS - 60_000);
  });

  it.each([0, -1, 'NaN', 'soon', null, undefined])(
    'falls back to the JWT exp, corrected for the server clock, when expires_in is %s',
    async (expiresIn) => {
      // arrange: the server clock runs 5 minutes ahead; its token expires an hour after its own now
      const skew = 5 * 60_000;
      const serverNow = Date.now() + skew;
      const accessToken = await jwt(Math.floor(serverNow / 1000) + 3600);
      const body = JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn });
      const { subject } = await setup({
        now: () => Date.now() + skew,
        authFaults: { [mrkterRoutes.token]: answer(body) },
      });
      // act
      const tokens = await subject.login(DEMO);
      // assert
      expect(Math.abs(tokens.clockSkewMs - skew)).toBeLessThan(2000);
      expect(Math.abs(tokens.accessTokenExpiresAt! - (Date.now() + 3_600_000))).toBeLessThan(3000);
    },
  );

  it('resolves with accessTokenExpiresAt null for a JWT without exp and without expires_in', async () => {
    // arrange
    const body = JSON.stringify({ access_token: await jwt(), token_type: 'Bearer' });
    const { subject } = await setup({ authFaults: { [mrkterRoutes.token]: answer(body) } });
    // act
    const tokens = await subject.login(DEMO);
    // assert
    expect(tokens.accessTokenExpiresAt).toBeNull();
  });
});

describe('refreshTokens (Auth0 refresh_token grant)', () => {
  it('sends only grant_type, client_id and refresh_token, and resolves with the rotated refresh token', async () => {
    // arrange
    const { sim, subject } = await setup();
    const first = await subject.login(DEMO);
    // act
    const next = await subject.refreshTokens({ refreshToken: first.refreshToken! });
    // assert
    expect(sim.tokenRequests[1]).toEqual({
      encoding: 'form',
      params: {
        grant_type: 'refresh_token',
        client_id: 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi',
        refresh_token: first.refreshToken,
      },
    });
    expect(next.refreshToken).toMatch(/^v1\./);
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(next.accessToken).not.toBe(first.accessToken);
  });

  it('rejects a spent (rotated) refresh token with session_expired, not retryable', async () => {
    // arrange
    const { subject } = await setup();
    const first = await subject.login(DEMO);
    await subject.refreshTokens({ refreshToken: first.refreshToken! });
    // act
    const error = await rejection(subject.refreshTokens({ refreshToken: first.refreshToken! }));
    // assert
    expect(error).toMatchObject({ kind: 'session_expired', status: 403, retryable: false });
    expect(error.cause?.serverError).toBe('invalid_grant');
  });

  it('rejects a revoked refresh token with session_expired', async () => {
    // arrange
    const { sim, subject } = await setup();
    const first = await subject.login(DEMO);
    sim.revokeRefreshTokens();
    // act
    const error = await rejection(subject.refreshTokens({ refreshToken: first.refreshToken! }));
    // assert
    expect(error.kind).toBe('session_expired');
  });

  it('resolves with refreshToken null when Auth0 does not rotate (the old one is kept)', async () => {
    // arrange
    const { subject } = await setup({ rotateRefreshTokens: false });
    const first = await subject.login(DEMO);
    // act
    const next = await subject.refreshTokens({ refreshToken: first.refreshToken! });
    const again = await subject.refreshTokens({ refreshToken: first.refreshToken! });
    // assert
    expect(next.refreshToken).toBeNull();
    expect(again.accessToken).not.toBe(first.accessToken);
  });

  it('rejects the refresh of a blocked user with no_permission, not retryable', async () => {
    // arrange
    const { sim, subject } = await setup();
    const first = await subject.login(DEMO);
    sim.setUserBlocked(DEMO.username, true);
    // act
    const error = await rejection(subject.refreshTokens({ refreshToken: first.refreshToken! }));
    // assert
    expect(error).toMatchObject({ kind: 'no_permission', retryable: false });
  });

  it.each([
    [400, '{"error":"invalid_request"}'],
    [401, '{"error":"invalid_client"}'],
  ])('reads any other %i refusal of a refresh as session_expired', async (status, body) => {
    // arrange
    const { subject } = await setup({ authFaults: { [mrkterRoutes.token]: answer(body, status) } });
    // act
    const error = await rejection(subject.refreshTokens({ refreshToken: 'v1.x' }));
    // assert
    expect(error).toMatchObject({ kind: 'session_expired', status });
  });

  it('rejects an HTML 503 with server and a dropped connection with network, both retryable', async () => {
    // arrange
    const { sim, subject } = await setup();
    const { refreshToken } = await subject.login(DEMO);
    sim.injectFault(mrkterRoutes.token, { kind: 'status', status: 503, times: 1 });
    sim.injectFault(mrkterRoutes.token, { kind: 'drop', times: 1 });
    // act
    const server = await rejection(subject.refreshTokens({ refreshToken: refreshToken! }));
    const network = await rejection(subject.refreshTokens({ refreshToken: refreshToken! }));
    // assert
    expect(server).toMatchObject({ kind: 'server', status: 503, retryable: true });
    expect(network).toMatchObject({ kind: 'network', retryable: true });
  });

  it('sends the refresh token only to the Auth0 origin and the access token only to the API origin', async () => {
    // arrange
    const { sim, subject } = await setup();
    const first = await subject.login(DEMO);
    const next = await subject.refreshTokens({ refreshToken: first.refreshToken! });
    // act
    await subject.loadIdentities({ accessToken: next.accessToken });
    // assert
    expect(sim.auth.log.map((entry) => entry.route)).toEqual([mrkterRoutes.token, mrkterRoutes.token]);
    expect(sim.auth.log.every((entry) => entry.headers.authorization === undefined)).toBe(true);
    expect(sim.api.log).toHaveLength(1);
    expect(sim.api.log[0]!.headers.authorization).toBe(`Bearer ${next.accessToken}`);
    expect(JSON.stringify(sim.api.log)).not.toContain(first.refreshToken);
  });
});

describe('loadIdentities (GET /user-identity/me/users)', () => {
  it('resolves with the identities exactly as the server sent them', async () => {
    // arrange
    const { subject } = await setup();
    const { accessToken } = await signedIn(subject);
    // act
    const identities = await subject.loadIdentities({ accessToken });
    // assert
    expect(identities).toEqual(defaultMrkterUsers[0]!.identities);
  });

  it('keeps identities without a phone and not ACTIVE', async () => {
    // arrange
    const { subject } = await setup();
    const { accessToken } = await subject.login({
      username: 'nophone@mrkter.test',
      password: 'nophone-password',
    });
    // act
    const identities = await subject.loadIdentities({ accessToken });
    // assert
    expect(identities.map((i) => [i.accountId, i.status, i.verifiedPhoneNumber])).toEqual([
      [1001, 'ACTIVE', null],
      [1002, 'INACTIVE', '+972531112277'],
      [1003, 'ACTIVE', '+972531112288'],
    ]);
  });

  it('keeps every field, unknown ones included, and accepts a string accountId', async () => {
    // arrange
    const body =
      '[{"accountId":"acc-7","verifiedPhoneNumber":null,"custom":{"nested":[1,2]},"totpEnabled":true}]';
    const { subject } = await setup({ apiFaults: { [mrkterRoutes.identities]: answer(body) } });
    // act
    const identities = await subject.loadIdentities({ accessToken: 'any' });
    // assert
    expect(identities).toEqual(JSON.parse(body));
  });

  it('keeps a "__proto__" key as a plain field without polluting Object.prototype', async () => {
    // arrange
    const body =
      '[{"accountId":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}]';
    const { subject } = await setup({ apiFaults: { [mrkterRoutes.identities]: answer(body) } });
    // act
    const identities = await subject.loadIdentities({ accessToken: 'any' });
    // assert
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.hasOwn(identities[0]!, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(identities[0])).toBe(Object.prototype);
  });

  it('rejects an empty list with no_identities', async () => {
    // arrange
    const { subject } = await setup({ apiFaults: { [mrkterRoutes.identities]: answer('[]') } });
    // act
    const error = await rejection(subject.loadIdentities({ accessToken: 'any' }));
    // assert
    expect(error).toMatchObject({ kind: 'no_identities', retryable: false });
  });

  it.each([
    ['an object', '{"accountId":1}'],
    ['null', 'null'],
    ['an empty body', ''],
    ['an HTML page', '<html></html>'],
    ['an item that is not an object', '[1]'],
    ['an item that is null', '[null]'],
    ['an item without accountId', '[{"id":1}]'],
    ['an empty string accountId', '[{"accountId":""}]'],
    ['an accountId that is an object', '[{"accountId":{"id":1}}]'],
    ['an infinite accountId', '[{"accountId":1e999}]'],
    ['duplicate accountIds', '[{"accountId":1},{"accountId":1}]'],
    ['the same accountId as number and string', '[{"accountId":1},{"accountId":"1"}]'],
    ['a numeric verifiedPhoneNumber', '[{"accountId":1,"verifiedPhoneNumber":972}]'],
    ['a status that is not a string', '[{"accountId":1,"status":true}]'],
  ])('rejects %s with bad_response', async (_name, body) => {
    // arrange
    const { subject } = await setup({ apiFaults: { [mrkterRoutes.identities]: answer(body) } });
    // act
    const error = await rejection(subject.loadIdentities({ accessToken: 'any' }));
    // assert
    expect(error).toMatchObject({ kind: 'bad_response', status: 200 });
  });

  it('rejects a refused access token with session_expired', async () => {
    // arrange
    const { sim, subject } = await setup();
    const { accessToken } = await signedIn(subject);
    sim.expireAccessTokens();
    // act
    const error = await rejection(subject.loadIdentities({ accessToken }));
    // assert
    expect(error).toMatchObject({ kind: 'session_expired', status: 401, retryable: false });
  });

  it('rejects a dropped connection with network and an HTML 500 with server', async () => {
    // arrange
    const { sim, subject } = await setup();
    sim.injectFault(mrkterRoutes.identities, { kind: 'drop', times: 1 });
    sim.injectFault(mrkterRoutes.identities, { kind: 'status', status: 500, times: 1 });
    // act
    const network = await rejection(subject.loadIdentities({ accessToken: 'any' }));
    const server = await rejection(subject.loadIdentities({ accessToken: 'any' }));
    // assert
    expect(network.kind).toBe('network');
    expect(server).toMatchObject({ kind: 'server', status: 500 });
  });
});

describe('requestCode (POST /verification/sms)', () => {
  it('sends the phone number with the bearer token and resolves', async () => {
    // arrange
    const { sim, subject } = await setup();
    const { accessToken } = await signedIn(subject);
    // act
    const result = await subject.requestCode({ accessToken, phoneNumber: DEMO_PHONE });
    // assert
    expect(result).toBeUndefined();
    expect(sim.sentCodes.map((c) => c.phoneNumber)).toEqual([DEMO_PHONE]);
  });

  it('rejects a resend inside the server cooldown with rate_limited and the wait', async () => {
    // arrange
    const { subject } = await setup({ smsCooldownMs: 20_000 });
    const accessToken = await awaitingCode(subject);
    // act
    const error = await rejection(subject.requestCode({ accessToken, phoneNumber: DEMO_PHONE }));
    // assert
    expect(error).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 20_000 });
  });

  it('rejects a refused access token with session_expired', async () => {
    // arrange
    const { sim, subject } = await setup();
    const { accessToken } = await signedIn(subject);
    sim.expireAccessTokens();
    // act
    const error = await rejection(subject.requestCode({ accessToken, phoneNumber: DEMO_PHONE }));
    // assert
    expect(error).toMatchObject({ kind: 'session_expired', status: 401 });
  });

  it('refuses an empty number (no_phone_number) and one with CR/LF (bad_response) before sending', async () => {
    // arrange
    const { sim, subject } = await setup();
    // act
    const empty = await rejection(subject.requestCode({ accessToken: 'any', phoneNumber: '' }));
    const injected = await rejection(
      subject.requestCode({ accessToken: 'any', phoneNumber: '+972\r\nX: y' }),
    );
    // assert
    expect(empty.kind).toBe('no_phone_number');
    expect(injected.kind).toBe('bad_response');
    expect(sim.requestCount(mrkterRoutes.sms)).toBe(0);
  });
});

describe('verifyCode (POST /auth/mfa/phone-number/authenticate)', () => {
  it('sends Authorization and x-account-id and resolves with the plain-text session id', async () => {
    // arrange
    const { sim, subject } = await setup();
    const accessToken = await awaitingCode(subject);
    // act
    const result = await subject.verifyCode({ accessToken, accountId: 123, code: sim.lastCode()! });
    // assert
    expect(result).toEqual({ sessionId: sim.sessions[0]!.sessionId });
    const sent = sim.api.log.find((entry) => entry.route === mrkterRoutes.authenticate)!;
    expect(sent.headers['x-account-id']).toBe('123');
    expect(sent.headers.authorization).toBe(`Bearer ${accessToken}`);
  });

  it('unwraps a session id sent as a JSON string', async () => {
    // arrange
    const { sim, subject } = await setup({ sessionIdFormat: 'json' });
    const accessToken = await awaitingCode(subject);
    // act
    const result = await subject.verifyCode({ accessToken, accountId: '123', code: sim.lastCode()! });
    // assert
    expect(result.sessionId).toBe(sim.sessions[0]!.sessionId);
    expect(result.sessionId).not.toContain('"');
  });

  it('accepts a plain-text session id made of digits', async () => {
    // arrange
    const { subject } = await setup({
      apiFaults: { [mrkterRoutes.authenticate]: answer('12345678', 201, 'text/plain') },
    });
    // act
    const result = await subject.verifyCode({ accessToken: 'any', accountId: 1, code: '1' });
    // assert
    expect(result.sessionId).toBe('12345678');
  });

  it.each([400, 403, 422] as const)(
    'rejects a wrong code answered with %i as invalid_code',
    async (status) => {
      // arrange
      const { subject } = await setup({ invalidCodeStatus: status });
      const accessToken = await awaitingCode(subject);
      // act
      const error = await rejection(subject.verifyCode({ accessToken, accountId: 123, code: 'wrong' }));
      // assert
      expect(error).toMatchObject({ kind: 'invalid_code', status, retryable: false });
    },
  );

  it('rejects a wrong code answered with 401 as session_expired', async () => {
    // arrange
    const { subject } = await setup({ invalidCodeStatus: 401 });
    const accessToken = await awaitingCode(subject);
    // act
    const error = await rejection(subject.verifyCode({ accessToken, accountId: 123, code: 'wrong' }));
    // assert
    expect(error).toMatchObject({ kind: 'session_expired', status: 401 });
  });

  it('rejects a 429 with rate_limited and the wait', async () => {
    // arrange
    const { subject } = await setup({
      apiFaults: { [mrkterRoutes.authenticate]: { kind: 'rateLimit', retryAfter: '30' } },
    });
    // act
    const error = await rejection(subject.verifyCode({ accessToken: 'any', accountId: 1, code: '1' }));
    // assert
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 30_000 });
  });

  it.each([
    ['an empty body', answer('', 201, 'text/plain')],
    ['an empty JSON string', answer('""', 201)],
    ['spaces', answer('   ', 201, 'text/plain')],
    ['a JSON string of spaces', answer('"  "', 201)],
    ['an id with a space', answer('abc def', 201, 'text/plain')],
    ['an id with CR/LF', answer('abc\r\nX-Evil: 1', 201, 'text/plain')],
    ['a JSON string with CR/LF', answer('"abc\\r\\nX-Evil: 1"', 201)],
    ['an id with a trailing newline', answer('abc\n', 201, 'text/plain')],
    ['an id with a NUL', answer('abc\u0000def', 201, 'text/plain')],
    ['513 characters', answer('x'.repeat(513), 201, 'text/plain')],
    ['a 10 KB JSON string', answer(`"${'x'.repeat(10_240)}"`, 201)],
    ['a JSON number', answer('12345', 201)],
    ['a JSON object', answer('{"sessionId":"abc"}', 201)],
    ['JSON null', answer('null', 201)],
    ['an HTML page', answer('<html><body>ok</body></html>', 200, 'text/html')],
  ])('rejects a session id that is %s with bad_response', async (_name, fault) => {
    // arrange
    const { subject } = await setup({ apiFaults: { [mrkterRoutes.authenticate]: fault } });
    // act
    const error = await rejection(subject.verifyCode({ accessToken: 'any', accountId: 1, code: '1' }));
    // assert
    expect(error.kind).toBe('bad_response');
  });

  it('accepts a session id of 512 characters', async () => {
    // arrange
    const id = 'x'.repeat(512);
    const { subject } = await setup({
      apiFaults: { [mrkterRoutes.authenticate]: answer(id, 201, 'text/plain') },
    });
    // act
    const result = await subject.verifyCode({ accessToken: 'any', accountId: 1, code: '1' });
    // assert
    expect(result.sessionId).toBe(id);
  });

  it('refuses an account id with CR/LF before sending', async () => {
    // arrange
    const { sim, subject } = await setup();
    // act
    const error = await rejection(
      subject.verifyCode({ accessToken: 'any', accountId: '1\r\nX: y', code: '1' }),
    );
    // assert
    expect(error.kind).toBe('bad_response');
    expect(sim.requestCount(mrkterRoutes.authenticate)).toBe(0);
  });

  it('rejects with timeout when the server hangs and with aborted when the caller aborts', async () => {
    // arrange
    const { subject } = await setup(
      { apiFaults: { [mrkterRoutes.authenticate]: { kind: 'hang' } } },
      { timeoutMs: 300 },
    );
    const controller = new AbortController();
    // act
    const timeout = await rejection(subject.verifyCode({ accessToken: 'any', accountId: 1, code: '1' }));
    const pending = rejection(
      subject.verifyCode({ accessToken: 'any', accountId: 1, code: '1' }, { signal: controller.signal }),
    );
    controller.abort();
    const aborted = await pending;
    // assert
    expect(timeout.kind).toBe('timeout');
    expect(aborted.kind).toBe('aborted');
  });
});

describe('no secret in any error', () => {
  const CANARY = {
    password: 'canary-password-9f3b',
    code: 'canary-code-71c2',
    accessToken: 'canary-access-token-5d1e',
    refreshToken: 'v1.canary-refresh-token-8a4f',
    sessionId: 'canary-session-id-2b6c',
    mfaToken: 'canary-mfa-token-4e9d',
  };

  /** Every way an error can be read: message, stack, JSON, inspect with hidden fields (the cause). */
  function everyView(error: AuthError): string {
    return [
      error.message,
      error.stack ?? '',
      JSON.stringify(error),
      inspect(error, { showHidden: true, depth: 10 }),
      JSON.stringify(error.cause ?? null),
    ].join('\n');
  }

  it('keeps passwords, codes, tokens, session ids and the mfa_token out of every error the service throws', async () => {
    // arrange
    const { sim, subject } = await setup({ smsCooldownMs: 0, maxFailedLogins: 2 });
    const errors: AuthError[] = [];
    const collect = async (promise: Promise<unknown>) => errors.push(await rejection(promise));
    // act
    await collect(subject.login({ username: DEMO.username, password: CANARY.password }));
    await collect(subject.login({ username: DEMO.username, password: CANARY.password }));
    await collect(subject.login({ username: DEMO.username, password: CANARY.password })); // locked
    await collect(subject.refreshTokens({ refreshToken: CANARY.refreshToken }));
    await collect(subject.loadIdentities({ accessToken: CANARY.accessToken }));
    await collect(subject.requestCode({ accessToken: CANARY.accessToken, phoneNumber: DEMO_PHONE }));
    await collect(subject.verifyCode({ accessToken: CANARY.accessToken, accountId: 123, code: CANARY.code }));
    sim.resetFailedLogins();
    const accessToken = await awaitingCode(subject);
    await collect(subject.verifyCode({ accessToken, accountId: 123, code: CANARY.code }));
    await collect(
      subject.verifyCode({ accessToken, accountId: `1\r\n${CANARY.sessionId}`, code: CANARY.code }),
    );
    await collect(
      subject.verifyCode({ accessToken: `${CANARY.accessToken}\r\n`, accountId: 123, code: CANARY.code }),
    );
    sim.injectFault(mrkterRoutes.authenticate, answer(`${CANARY.sessionId} x`, 201, 'text/plain'));
    await collect(subject.verifyCode({ accessToken, accountId: 123, code: CANARY.code }));
    sim.clearFaults();
    sim.injectFault(mrkterRoutes.authenticate, { kind: 'drop', times: 1 });
    await collect(subject.verifyCode({ accessToken: CANARY.accessToken, accountId: 123, code: CANARY.code }));
    sim.injectFault(mrkterRoutes.token, {
      kind: 'malformed',
      times: 1,
      status: 403,
      body: JSON.stringify({
        error: 'mfa_required',
        error_description: CANARY.mfaToken,
        mfa_token: CANARY.mfaToken,
      }),
    });
    await collect(subject.login({ username: DEMO.username, password: CANARY.password }));
    sim.injectFault(mrkterRoutes.token, {
      kind: 'malformed',
      times: 1,
      status: 403,
      body: JSON.stringify({ error: CANARY.refreshToken, error_description: CANARY.password }),
    });
    await collect(subject.refreshTokens({ refreshToken: CANARY.refreshToken }));
    // assert
    expect(errors.map((e) => e.kind)).toEqual([
      'invalid_credentials',
      'invalid_credentials',
      'too_many_attempts',
      'session_expired',
      'session_expired',
      'session_expired',
      'session_expired',
      'invalid_code',
      'bad_response',
      'bad_response',
      'bad_response',
      'network',
      'no_permission',
      'session_expired',
    ]);
    for (const error of errors) {
      const text = everyView(error);
      for (const canary of [...Object.values(CANARY), accessToken]) expect(text).not.toContain(canary);
    }
  });
});
