/**
 * The parsers against what the vendors' stacks send by default, byte for byte, over real loopback
 * HTTP: NestJS on Express for the Mrkter API, Auth0 for its login, ASP.NET Core with JwtBearer and
 * `[ApiController]` for Marketiger. Each answer is served by a one-route server, so a test names
 * exactly the status, content type and body it is about.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type AuthError, isAuthError } from '../../src/errors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import { type SimResponse, type SimServer, startSimServer } from '../../src/testing/simServer.js';

const servers: SimServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server that answers `route` with `response`, every time. */
async function serve(route: string, response: SimResponse): Promise<SimServer> {
  const server = await startSimServer({ routes: { [route]: () => response } });
  servers.push(server);
  return server;
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    if (isAuthError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const AUTHENTICATE = 'POST /auth/mfa/phone-number/authenticate';
const SESSION_ID = 'e2OyFXDwyyKH1iRyOsvb2x7qFrceUXq4';
const HTML = 'text/html; charset=utf-8';

async function verifyCodeAgainst(response: SimResponse) {
  const server = await serve(AUTHENTICATE, response);
  const subject = createMrkterApi({ authBaseURL: server.url, apiBaseURL: server.url });
  return subject.verifyCode({ accessToken: 'a.b.c', accountId: 123, code: '123456' });
}

describe('Mrkter code validation (NestJS on Express)', () => {
  it.each([
    ['text/html; charset=utf-8 (a returned string)', { text: SESSION_ID, contentType: HTML }],
    ['text/plain', { text: SESSION_ID, contentType: 'text/plain; charset=utf-8' }],
    ['a JSON string', { json: SESSION_ID }],
    ['a JSON string under text/html', { text: JSON.stringify(SESSION_ID), contentType: HTML }],
    ['no content type', { text: SESSION_ID, contentType: '' }],
  ])('reads the session id sent as %s', async (_name, body) => {
    // act
    const result = await verifyCodeAgainst({ status: 201, ...body });
    // assert
    expect(result).toEqual({ sessionId: SESSION_ID });
  });

  it.each([
    ['an HTML page', { text: '<!DOCTYPE html><html><body>Sign in</body></html>', contentType: HTML }],
    ['HTML without whitespace', { text: '<html><body>ok</body></html>', contentType: HTML }],
    ['an octet stream', { text: SESSION_ID, contentType: 'application/octet-stream' }],
    ['JSON true under text/html', { text: 'true', contentType: HTML }],
    ['a JSON object under text/html', { text: '{"sessionId":"abc"}', contentType: HTML }],
    ['a number under a JSON content type', { json: 12345678 }],
    ['an id with a space', { text: 'abc def', contentType: HTML }],
  ])('refuses %s as bad_response', async (_name, body) => {
    // act
    const error = await rejection(verifyCodeAgainst({ status: 201, ...body }));
    // assert
    expect(error.kind).toBe('bad_response');
    expect(error.message).not.toContain('abc');
  });

  it.each([
    [
      'ValidationPipe (message is an array)',
      { json: { message: ['code must be a string'], error: 'Bad Request', statusCode: 400 } },
    ],
    [
      'BadRequestException with a message',
      { json: { message: 'Invalid code', error: 'Bad Request', statusCode: 400 } },
    ],
    ['no body', {}],
  ])('reads a 400 from %s as invalid_code', async (_name, body) => {
    // act
    const error = await rejection(verifyCodeAgainst({ status: 400, ...body }));
    // assert
    expect(error).toMatchObject({ kind: 'invalid_code', status: 400, retryable: false });
    expect(error.message).not.toContain('code must be');
  });

  it.each([
    ['an HTML page', { text: '<html><body>Bad Request</body></html>', contentType: HTML }],
    ['a JSON shape Nest does not write', { json: { error: 'bad', detail: 'x' } }],
    ['a message array of non-strings', { json: { message: [{ code: 1 }], statusCode: 400 } }],
  ])('reads a 400 with %s as bad_response', async (_name, body) => {
    // act
    const error = await rejection(verifyCodeAgainst({ status: 400, ...body }));
    // assert
    expect(error).toMatchObject({ kind: 'bad_response', status: 400 });
  });

  it('reads the guard 401, with its body or with none, as session_expired', async () => {
    // act
    const withBody = await rejection(
      verifyCodeAgainst({ status: 401, json: { message: 'Unauthorized', statusCode: 401 } }),
    );
    const empty = await rejection(verifyCodeAgainst({ status: 401 }));
    // assert
    expect(withBody).toMatchObject({ kind: 'session_expired', status: 401 });
    expect(empty).toMatchObject({ kind: 'session_expired', status: 401 });
  });
});

describe('empty-body 401s anywhere', () => {
  it('Mrkter identities: session_expired', async () => {
    // arrange
    const server = await serve('GET /user-identity/me/users', { status: 401 });
    const subject = createMrkterApi({ authBaseURL: server.url, apiBaseURL: server.url });
    // act
    const error = await rejection(subject.loadIdentities({ accessToken: 'a.b.c' }));
    // assert
    expect(error).toMatchObject({ kind: 'session_expired', status: 401 });
  });

  it('Mrkter SMS request: session_expired', async () => {
    // arrange
    const server = await serve('POST /verification/sms', { status: 401 });
    const subject = createMrkterApi({ authBaseURL: server.url, apiBaseURL: server.url });
    // act
    const error = await rejection(subject.requestCode({ accessToken: 'a.b.c', phoneNumber: '+1' }));
    // assert
    expect(error).toMatchObject({ kind: 'session_expired', status: 401 });
  });

  it('Auth0 token endpoint: invalid_credentials on login, session_expired on refresh', async () => {
    // arrange
    const server = await serve('POST /oauth/token', { status: 401 });
    const subject = createMrkterApi({ authBaseURL: server.url, apiBaseURL: server.url });
    // act
    const login = await rejection(subject.login({ username: 'u', password: 'p' }));
    const refresh = await rejection(subject.refreshTokens({ refreshToken: 'r' }));
    // assert
    expect(login).toMatchObject({ kind: 'invalid_credentials', status: 401 });
    expect(refresh).toMatchObject({ kind: 'session_expired', status: 401 });
  });

  const jwtBearer401: SimResponse = {
    status: 401,
    headers: {
      'WWW-Authenticate':
        'Bearer error="invalid_token", error_description="The token expired at \'01/15/2026 10:30:00\'"',
    },
  };

  it('Marketiger API routes: session_expired', async () => {
    // arrange
    const projects = await serve('GET /v2/Project/GetProjects', jwtBearer401);
    const access = await serve('GET /v2/Project/HasAccesToProject', jwtBearer401);
    // act
    const a = await rejection(
      createMarketigerApi({ baseURL: `${projects.url}/v2` }).getProjects({ accessToken: 'a.b.c' }),
    );
    const b = await rejection(
      createMarketigerApi({ baseURL: `${access.url}/v2` }).checkProjectAccess({
        accessToken: 'a.b.c',
        projectId: 'p',
      }),
    );
    // assert
    expect(a).toMatchObject({ kind: 'session_expired', status: 401 });
    expect(b).toMatchObject({ kind: 'session_expired', status: 401 });
  });

  it('Marketiger login and refresh: invalid_credentials and session_expired', async () => {
    // arrange
    const login = await serve('POST /v2/Auth/Login', { status: 401 });
    const refresh = await serve('POST /v2/Auth/RefreshToken', { status: 401 });
    // act
    const a = await rejection(
      createMarketigerApi({ baseURL: `${login.url}/v2` }).login({ email: 'e@x.test', password: 'p' }),
    );
    const b = await rejection(
      createMarketigerApi({ baseURL: `${refresh.url}/v2` }).refreshTokens({ refreshToken: 'r' }),
    );
    // assert
    expect(a).toMatchObject({ kind: 'invalid_credentials', status: 401 });
    expect(b).toMatchObject({ kind: 'session_expired', status: 401 });
  });
});

describe('Marketiger login (ASP.NET Core [ApiController])', () => {
  const problem = {
    type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
    title: 'One or more validation errors occurred.',
    status: 400,
    errors: { Email: ['The Email field is not a valid e-mail address.'] },
    traceId: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
  };

  async function loginAgainst(response: SimResponse) {
    const server = await serve('POST /v2/Auth/Login', response);
    return createMarketigerApi({ baseURL: `${server.url}/v2` }).login({
      email: 'not-an-email',
      password: 'p',
    });
  }

  it('reads a problem+json 400 (model validation) as invalid_credentials, copying nothing from it', async () => {
    // act
    const error = await rejection(
      loginAgainst({
        status: 400,
        text: JSON.stringify(problem),
        contentType: 'application/problem+json; charset=utf-8',
      }),
    );
    // assert
    expect(error).toMatchObject({ kind: 'invalid_credentials', status: 400 });
    expect(error.message).not.toContain('e-mail');
  });

  it('reads the same problem labelled application/json as invalid_credentials', async () => {
    // act
    const error = await rejection(loginAgainst({ status: 400, json: problem }));
    // assert
    expect(error.kind).toBe('invalid_credentials');
  });

  it.each([
    ['a JSON object of unknown shape', { status: 400, json: { foo: 'bar' } }],
    ['an HTML page', { status: 400, text: '<html></html>', contentType: HTML }],
    [
      'a 415 problem (the client sent no JSON)',
      {
        status: 415,
        text: JSON.stringify({ title: 'Unsupported Media Type', status: 415 }),
        contentType: 'application/problem+json; charset=utf-8',
      },
    ],
  ] as [string, SimResponse][])('reads %s as bad_response', async (_name, response) => {
    // act
    const error = await rejection(loginAgainst(response));
    // assert
    expect(error.kind).toBe('bad_response');
  });
});

describe('Marketiger HasAccesToProject (an action returning bool, or the envelope)', () => {
  async function checkAgainst(response: SimResponse) {
    const server = await serve('GET /v2/Project/HasAccesToProject', response);
    return createMarketigerApi({ baseURL: `${server.url}/v2` }).checkProjectAccess({
      accessToken: 'a.b.c',
      projectId: 'p',
    });
  }

  it.each([
    ['a bare true', { status: 200, json: true }],
    ['the envelope with true', { status: 200, json: { success: true, data: true } }],
  ] as [string, SimResponse][])('grants access on %s', async (_name, response) => {
    // act + assert
    await expect(checkAgainst(response)).resolves.toBeUndefined();
  });

  it.each([
    ['a bare false', { status: 200, json: false }],
    ['the envelope with false', { status: 200, json: { success: true, data: false } }],
  ] as [string, SimResponse][])('refuses access on %s with no_project_access', async (_name, response) => {
    // act
    const error = await rejection(checkAgainst(response));
    // assert
    expect(error.kind).toBe('no_project_access');
  });

  it.each([
    ['a string "true"', { status: 200, json: 'true' }],
    ['an envelope whose data is "true"', { status: 200, json: { success: true, data: 'true' } }],
    ['null', { status: 200, json: null }],
    ['an object', { status: 200, json: { access: true } }],
  ] as [string, SimResponse][])('reads %s as bad_response', async (_name, response) => {
    // act
    const error = await rejection(checkAgainst(response));
    // assert
    expect(error.kind).toBe('bad_response');
  });
});
