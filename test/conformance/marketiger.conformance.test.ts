/**
 * The Marketiger simulator's ASP.NET Core personality, checked against what that stack sends by
 * default (no .NET here, so the list is written down rather than run): Kestrel's `Server` and `Date`
 * on every answer; camelCase JSON as `application/json; charset=utf-8`; JwtBearer's challenge, an
 * empty 401 with `WWW-Authenticate` (`Bearer`; `error="invalid_token"`; the expiry in
 * `DateTime.ToString(CultureInfo.InvariantCulture)` form); `[ApiController]`'s 400
 * `ValidationProblemDetails` and 415 `ProblemDetails` as `application/problem+json`; an action
 * returning `bool` as a bare `true`/`false`; routing's empty 404. Then the client, the machine and the
 * authorized axios run against the defaults and against each variant option.
 */
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MarketigerSimulatorOptions,
  marketigerRoutes,
  startMarketigerSimulator,
} from '../../src/testing/marketigerSimulator.js';

const started: MarketigerSimulator[] = [];
async function start(options?: MarketigerSimulatorOptions) {
  const sim = await startMarketigerSimulator(options);
  started.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function exchange(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Kestrel on every answer: `Server: Kestrel` and an HTTP date. */
function expectKestrel(answer: Answer) {
  expect(answer.headers.get('server')).toBe('Kestrel');
  expect(Number.isNaN(Date.parse(answer.headers.get('date') ?? ''))).toBe(false);
}

/** JwtBearer's challenge: 401, no body and no content type, this `WWW-Authenticate`. */
function expectChallenge(answer: Answer, wwwAuthenticate: string) {
  expect(answer.status).toBe(401);
  expect(answer.text).toBe('');
  expect(answer.headers.get('content-type')).toBeNull();
  expect(answer.headers.get('www-authenticate')).toBe(wwwAuthenticate);
  expectKestrel(answer);
}

/** A `ProblemDetails` answer: `application/problem+json; charset=utf-8`, type, title, status, traceId. */
function expectProblem(answer: Answer, status: number, title: string, type: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  expect(body).toMatchObject({ type, title, status });
  expect(body['traceId']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  expectKestrel(answer);
  return body;
}

const VALIDATION_TYPE = 'https://tools.ietf.org/html/rfc9110#section-15.5.1';
const VALIDATION_TITLE = 'One or more validation errors occurred.';

async function signIn(sim: MarketigerSimulator) {
  const answer = await exchange(
    `${sim.baseURL}/Auth/Login`,
    json({ email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password }),
  );
  return JSON.parse(answer.text).data as { accessToken: string; refreshToken: string };
}

describe('Marketiger simulator: ASP.NET Core defaults', () => {
  it('answers a login with camelCase JSON as application/json; charset=utf-8', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await exchange(
      `${sim.baseURL}/Auth/Login`,
      json({ email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password }),
    );
    // assert
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Object.keys(JSON.parse(answer.text).data)).toEqual(['accessToken', 'refreshToken']);
    expectKestrel(answer);
  });

  it.each([
    [marketigerRoutes.getProjects, '/Project/GetProjects'],
    [marketigerRoutes.hasAccessToProject, '/Project/HasAccesToProject?projectId=demo-project'],
  ])('%s: no token is an empty 401 with WWW-Authenticate: Bearer', async (_route, path) => {
    // arrange
    const sim = await start();
    // act
    const none = await exchange(`${sim.baseURL}${path}`);
    const basic = await exchange(`${sim.baseURL}${path}`, { headers: { authorization: 'Basic dTpw' } });
    // assert
    expectChallenge(none, 'Bearer');
    expectChallenge(basic, 'Bearer');
  });

  it('a token that does not validate is an empty 401 with error="invalid_token"', async () => {
    // arrange
    const sim = await start();
    const other = await start({ jwtSecret: 'another-key-another-key-another-key' });
    const forged = (await signIn(other)).accessToken;
    // act
    const answers = await Promise.all(
      [forged, 'not-a-jwt'].map((token) =>
        exchange(`${sim.baseURL}/Project/GetProjects`, { headers: { authorization: `Bearer ${token}` } }),
      ),
    );
    // assert
    for (const answer of answers) expectChallenge(answer, 'Bearer error="invalid_token"');
  });

  it("an expired token's 401 says when it expired, in .NET's invariant date form", async () => {
    // arrange
    const sim = await start({ accessTokenTtlMs: 60_000 });
    const { accessToken } = await signIn(sim);
    const exp = decodeJwt(accessToken).exp! * 1000;
    sim.advanceClock(61_000);
    // act
    const answer = await exchange(`${sim.baseURL}/Project/GetProjects`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    // assert
    const d = new Date(exp);
    const two = (n: number) => String(n).padStart(2, '0');
    const when = `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
    expectChallenge(
      answer,
      `Bearer error="invalid_token", error_description="The token expired at '${when}'"`,
    );
  });

  it('model validation on login is a 400 ValidationProblemDetails, one entry per C# property', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await exchange(`${sim.baseURL}/Auth/Login`, json({ email: MARKETIGER_DEMO_USER.email }));
    // assert
    const body = expectProblem(answer, 400, VALIDATION_TITLE, VALIDATION_TYPE);
    expect(body['errors']).toEqual({ Password: ['The Password field is required.'] });
  });

  it('a JSON value of the wrong type is a 400 problem naming its JSON path', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await exchange(`${sim.baseURL}/Auth/Login`, json({ email: 5, password: 'p' }));
    // assert
    const body = expectProblem(answer, 400, VALIDATION_TITLE, VALIDATION_TYPE);
    expect(Object.keys(body['errors'] as object)).toEqual(['$.email', 'request']);
  });

  it('a body that is not JSON at all is a 400 problem on "$"', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await exchange(`${sim.baseURL}/Auth/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    // assert
    const body = expectProblem(answer, 400, VALIDATION_TITLE, VALIDATION_TYPE);
    expect(Object.keys(body['errors'] as object)).toEqual(['$', 'request']);
  });

  it.each([
    ['form data', 'application/x-www-form-urlencoded', 'email=a&password=b'],
    ['plain text', 'text/plain', '{"email":"a","password":"b"}'],
  ])('%s on login or refresh is a 415 problem', async (_name, contentType, body) => {
    // arrange
    const sim = await start();
    // act
    const login = await exchange(`${sim.baseURL}/Auth/Login`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    const refresh = await exchange(`${sim.baseURL}/Auth/RefreshToken`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    // assert
    expectProblem(
      login,
      415,
      'Unsupported Media Type',
      'https://tools.ietf.org/html/rfc9110#section-15.5.16',
    );
    expectProblem(
      refresh,
      415,
      'Unsupported Media Type',
      'https://tools.ietf.org/html/rfc9110#section-15.5.16',
    );
  });

  it('HasAccesToProject (an action returning bool) answers a bare true or false', async () => {
    // arrange
    const sim = await start();
    const { accessToken } = await signIn(sim);
    const ask = (projectId: string) =>
      exchange(`${sim.baseURL}/Project/HasAccesToProject?projectId=${projectId}`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
    // act
    const yes = await ask('demo-project');
    const no = await ask('other');
    // assert
    for (const [answer, text] of [
      [yes, 'true'],
      [no, 'false'],
    ] as const) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(answer.text).toBe(text);
      expectKestrel(answer);
    }
  });

  it('an unknown route is an empty 404', async () => {
    // arrange
    const sim = await start();
    // act
    const answer = await exchange(`${sim.baseURL}/Nope`);
    // assert
    expect(answer.status).toBe(404);
    expect(answer.text).toBe('');
    expectKestrel(answer);
  });

  it('the guide-documented answers keep their envelopes (wrong password, refused refresh)', async () => {
    // arrange
    const sim = await start();
    // act
    const wrong = await exchange(
      `${sim.baseURL}/Auth/Login`,
      json({ email: MARKETIGER_DEMO_USER.email, password: 'nope' }),
    );
    const refused = await exchange(`${sim.baseURL}/Auth/RefreshToken`, json({ refreshToken: 'rt_unknown' }));
    // assert
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.text)).toEqual({
      success: false,
      error: { type: 'AUTHENTICATION', message: 'Username or Password are incorrect.' },
    });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toMatchObject({ success: false, error: { type: 'AUTHENTICATION' } });
    expectKestrel(wrong);
    expectKestrel(refused);
  });
});

describe.each([
  ['the defaults (JwtBearer 401, bare bool)', {}],
  ["the guide's JSON 401", { unauthorizedStyle: 'envelope' }],
  ['the envelope around the boolean', { projectAccessStyle: 'envelope' }],
] as [string, MarketigerSimulatorOptions][])('Marketiger client against %s', (_name, options) => {
  it('signs in with a project check, and a rejected token is refreshed once and the request retried', async () => {
    // arrange
    const sim = await start(options);
    const api = createMarketigerApi({ baseURL: sim.baseURL });
    const subject = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
      input: { projectId: 'demo-project' },
    }).start();
    subject.send({
      type: 'auth.login',
      email: MARKETIGER_DEMO_USER.email,
      password: MARKETIGER_DEMO_USER.password,
    });
    await waitFor(subject, (s) => s.matches('signedIn') || s.matches('signedOut'));
    const http = createAuthorizedAxios(subject, { baseURL: sim.baseURL });
    // act
    sim.expireAccessTokens();
    const projects = await http.get('/Project/GetProjects');
    // assert
    expect(subject.getSnapshot().matches('signedIn')).toBe(true);
    expect(projects.status).toBe(200);
    expect(sim.refreshCount).toBe(1);
    subject.stop();
  });

  it('refuses a project the account lacks with no_project_access', async () => {
    // arrange
    const sim = await start(options);
    const api = createMarketigerApi({ baseURL: sim.baseURL });
    const subject = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
      input: { projectId: 'someone-elses' },
    }).start();
    // act
    subject.send({
      type: 'auth.login',
      email: MARKETIGER_DEMO_USER.email,
      password: MARKETIGER_DEMO_USER.password,
    });
    const done = await waitFor(subject, (s) => s.matches('signedIn') || s.matches('signedOut'));
    // assert
    expect(done.value).toBe('signedOut');
    expect(done.context.error?.kind).toBe('no_project_access');
    subject.stop();
  });

  it('a login refused by model validation is invalid_credentials', async () => {
    // arrange
    const sim = await start(options);
    const api = createMarketigerApi({ baseURL: sim.baseURL });
    // act
    const error = await api.login({ email: '', password: 'p' }).catch((e: unknown) => e);
    // assert
    expect(error).toMatchObject({ kind: 'invalid_credentials', status: 400 });
  });
});
