/**
 * docs/reliability.md, Malformed responses (M1–M15): answers that are not what the providers document,
 * injected into the simulators and read by the real services and machines over loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { marketigerRoutes } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, type MrkterSimUser, mrkterRoutes } from '../../src/testing/mrkterSimulator.js';
import type { SimFault } from '../../src/testing/simServer.js';
import { MAX_TIMER_MS } from '../../src/time.js';
import {
  authErrorOf,
  demo,
  expectIdle,
  fakeJwt,
  HOUR,
  marketiger,
  marketigerActor,
  mrkter,
  mrkterActor,
  mrkterRefreshes,
  pendingTimers,
  runCleanups,
  settle,
  signedInMarketiger,
  signedInMrkter,
  single,
} from './helpers.js';

const {
  login: LOGIN,
  refreshToken: REFRESH,
  getProjects: PROJECTS,
  hasAccessToProject: ACCESS,
} = marketigerRoutes;
const { token: TOKEN, identities: IDENTITIES, authenticate: AUTHENTICATE, sms: SMS } = mrkterRoutes;

afterEach(runCleanups);

const once = (body: string, contentType?: string, status?: number): SimFault => ({
  kind: 'malformed',
  body,
  times: 1,
  ...(contentType ? { contentType } : {}),
  ...(status !== undefined ? { status } : {}),
});
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** A Marketiger token answer around `accessToken`. */
const marketigerTokens = (accessToken: string, refreshToken = 'rt-malformed') =>
  JSON.stringify({ success: true, data: { accessToken, refreshToken } });
/** An Auth0 token answer with the given fields. */
const auth0Tokens = (fields: Record<string, unknown>) => JSON.stringify(fields);
const mrkterPassword = { username: single.username, password: single.password };

describe('Malformed responses', () => {
  it('M1: a 200 text/html page is bad_response, on Marketiger sign-in and on Mrkter token and identities answers', async () => {
    // arrange
    const page = '<!DOCTYPE html><html><body>Welcome</body></html>';
    const { sim, api } = await marketiger();
    const { sim: msim, api: mapi } = await mrkter();
    const subject = marketigerActor(api);
    sim.injectFault(LOGIN, once(page, 'text/html'));
    msim.injectFault(TOKEN, once(page, 'text/html'));
    msim.injectFault(IDENTITIES, once(page, 'text/html'));
    const tokens = await (async () => {
      await authErrorOf(mapi.login(mrkterPassword)).then((e) => expect(e.kind).toBe('bad_response'));
      return mapi.login(mrkterPassword);
    })();

    // act
    subject.send({ type: 'auth.login', ...demo });
    const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);
    const identities = await authErrorOf(mapi.loadIdentities({ accessToken: tokens.accessToken }));

    // assert
    expect(out.context.error).toMatchObject({ kind: 'bad_response', status: 200 });
    expect(out.context.accessToken).toBeNull();
    expect(identities).toMatchObject({ kind: 'bad_response', status: 200 });
  });

  it('M2: an empty body, `null` or `""` is bad_response for login and refresh on both providers', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const { sim: msim, api: mapi } = await mrkter();
    const bodies = ['', 'null', '""'];

    for (const body of bodies) {
      // act
      sim.injectFault(LOGIN, once(body));
      const login = await authErrorOf(api.login(demo));
      sim.injectFault(REFRESH, once(body));
      const refresh = await authErrorOf(api.refreshTokens({ refreshToken: 'rt' }));
      msim.injectFault(TOKEN, once(body));
      const auth0Login = await authErrorOf(mapi.login(mrkterPassword));
      msim.injectFault(TOKEN, once(body));
      const auth0Refresh = await authErrorOf(mapi.refreshTokens({ refreshToken: 'rt' }));

      // assert
      for (const error of [login, refresh, auth0Login, auth0Refresh]) {
        expect(error, JSON.stringify(body)).toMatchObject({ kind: 'bad_response', status: 200 });
      }
    }
  });

  it('M3: Marketiger `data: {}`, `data: null` and `success: "true"` are bad_response, and the machine keeps nothing', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const subject = marketigerActor(api, { projectId: 'demo-project' });
    const before = subject.getSnapshot().context;
    const bodies = [
      '{"success":true,"data":{}}',
      '{"success":true,"data":null}',
      JSON.stringify({
        success: 'true',
        data: { accessToken: fakeJwt({ exp: nowSeconds() + 3600 }), refreshToken: 'rt' },
      }),
    ];

    for (const body of bodies) {
      // act
      sim.injectFault(LOGIN, once(body));
      subject.send({ type: 'auth.login', ...demo });
      const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);
      sim.injectFault(REFRESH, once(body));
      const refresh = await authErrorOf(api.refreshTokens({ refreshToken: 'rt' }));

      // assert: the same signed-out context as before, but for the error
      expect(out.context.error, body).toMatchObject({ kind: 'bad_response' });
      expect({ ...out.context, error: null }).toEqual(before);
      expect(refresh.kind, body).toBe('bad_response');
    }

    // and a project check answered `success: "true"` does not sign in
    sim.injectFault(ACCESS, once('{"success":"true","data":true}'));
    subject.send({ type: 'auth.login', ...demo });
    const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);
    expect(out.context.error?.kind).toBe('bad_response');
    expect(out.context.accessToken).toBeNull();
  });

  it('M4: a Marketiger 200 with `success: false` is mapped from error.type', async () => {
    // arrange
    const { sim, api, actor } = await signedInMarketiger();
    const failure = (type: string) => JSON.stringify({ success: false, error: { type, message: 'no' } });

    // act
    sim.injectFault(LOGIN, once(failure('AUTHENTICATION')));
    const wrong = await authErrorOf(api.login(demo));
    sim.injectFault(LOGIN, once(failure('NO_PERMISSION')));
    const forbidden = await authErrorOf(api.login(demo));
    sim.injectFault(LOGIN, once(failure('SOMETHING_NEW')));
    const unknown = await authErrorOf(api.login(demo));
    sim.injectFault(PROJECTS, once(failure('NO_PERMISSION')));
    const projects = await authErrorOf(
      api.getProjects({ accessToken: actor.getSnapshot().context.accessToken! }),
    );
    sim.injectFault(REFRESH, once(failure('AUTHENTICATION')));
    actor.send({ type: 'auth.refresh' });
    const expired = await settle(actor, (s) => s.matches('sessionExpired'));

    // assert
    expect(wrong).toMatchObject({ kind: 'invalid_credentials', status: 200, retryable: false });
    expect(forbidden).toMatchObject({ kind: 'no_permission', status: 200 });
    expect(unknown).toMatchObject({ kind: 'bad_response', status: 200 });
    expect(projects).toMatchObject({ kind: 'no_permission', status: 200 });
    expect(expired.context.error?.kind).toBe('session_expired');
    expect(expired.context.refreshToken).toBeNull();
  });

  it('M5: a 4xx with an unknown error.type or no body is a typed error with its status, never a TypeError', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const { sim: msim, api: mapi } = await mrkter();
    const cases: [string, () => void, () => Promise<unknown>, number][] = [
      [
        'login 418 unknown type',
        () => sim.injectFault(LOGIN, once('{"success":false,"error":{"type":"TEAPOT"}}', undefined, 418)),
        () => api.login(demo),
        418,
      ],
      [
        'login 400 no body',
        () => sim.injectFault(LOGIN, once('', undefined, 400)),
        () => api.login(demo),
        400,
      ],
      [
        'login 404 no body',
        () => sim.injectFault(LOGIN, once('', undefined, 404)),
        () => api.login(demo),
        404,
      ],
      [
        'login 422 html',
        () => sim.injectFault(LOGIN, once('<p>x</p>', 'text/html', 422)),
        () => api.login(demo),
        422,
      ],
      [
        'refresh 409 no body',
        () => sim.injectFault(REFRESH, once('', undefined, 409)),
        () => api.refreshTokens({ refreshToken: 'rt' }),
        409,
      ],
      [
        'refresh 400 error null',
        () => sim.injectFault(REFRESH, once('{"success":false,"error":null}', undefined, 400)),
        () => api.refreshTokens({ refreshToken: 'rt' }),
        400,
      ],
      [
        'projects 400 no body',
        () => sim.injectFault(PROJECTS, once('', undefined, 400)),
        () => api.getProjects({ accessToken: 'a.b.c' }),
        400,
      ],
      [
        'auth0 400 no body',
        () => msim.injectFault(TOKEN, once('', undefined, 400)),
        () => mapi.login(mrkterPassword),
        400,
      ],
      [
        'auth0 401 unknown error',
        () => msim.injectFault(TOKEN, once('{"error":42}', undefined, 401)),
        () => mapi.refreshTokens({ refreshToken: 'rt' }),
        401,
      ],
      [
        'identities 404 no body',
        () => msim.injectFault(IDENTITIES, once('', undefined, 404)),
        () => mapi.loadIdentities({ accessToken: 'a.b.c' }),
        404,
      ],
      [
        'sms 418 array',
        () => msim.injectFault(SMS, once('[]', undefined, 418)),
        () => mapi.requestCode({ accessToken: 'a.b.c', phoneNumber: '+1555' }),
        418,
      ],
      [
        'authenticate 409 null',
        () => msim.injectFault(AUTHENTICATE, once('null', undefined, 409)),
        () => mapi.verifyCode({ accessToken: 'a.b.c', accountId: 1, code: '1' }),
        409,
      ],
    ];

    for (const [name, inject, call, status] of cases) {
      // act
      inject();
      const error = await authErrorOf(call());
      // assert
      expect(error.status, name).toBe(status);
      expect(error.name, name).toBe('AuthError');
    }
  });

  it('M6: an access token that is not a JWT is refused by Marketiger (the guide says JWT) and accepted by Auth0 only with expires_in, never a crash', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const { sim: msim, api: mapi } = await mrkter();
    const notJwts = [
      'one-segment-token',
      'eyJhbGciOiJIUzI1NiJ9.@@@.sig',
      `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('not json').toString('base64url')}.sig`,
      `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('[1,2]').toString('base64url')}.sig`,
    ];

    for (const accessToken of notJwts) {
      // act + assert: Marketiger
      sim.injectFault(LOGIN, once(marketigerTokens(accessToken)));
      expect((await authErrorOf(api.login(demo))).kind, accessToken).toBe('bad_response');
    }
    // Auth0 may issue opaque tokens: only usable when the answer says how long they live
    msim.injectFault(TOKEN, once(auth0Tokens({ access_token: 'opaque-token', token_type: 'Bearer' })));
    const withoutExpiry = await authErrorOf(mapi.login(mrkterPassword));
    msim.injectFault(
      TOKEN,
      once(auth0Tokens({ access_token: 'opaque-token', token_type: 'Bearer', expires_in: 600 })),
    );
    const opaque = await mapi.login(mrkterPassword);
    expect(withoutExpiry.kind).toBe('bad_response');
    expect(opaque.accessToken).toBe('opaque-token');
    expect(opaque.accessTokenExpiresAt! - Date.now()).toBeGreaterThan(590_000);
    expect(opaque.accessTokenExpiresAt! - Date.now()).toBeLessThanOrEqual(600_000);
  });

  it('M7: a JWT without exp gets the default lifetime of one hour, never "no expiry"', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const subject = marketigerActor(api);
    sim.injectFault(LOGIN, once(marketigerTokens(fakeJwt({ sub: 'no-exp' }))));
    const { sim: msim, api: mapi } = await mrkter();
    const mrkterSubject = mrkterActor(mapi);
    msim.injectFault(
      TOKEN,
      once(auth0Tokens({ access_token: fakeJwt({ sub: 'no-exp' }), token_type: 'Bearer' })),
    );
    msim.injectFault(IDENTITIES, { kind: 'latency', ms: 300, times: 1 });

    // act
    const started = Date.now();
    subject.send({ type: 'auth.login', ...demo });
    mrkterSubject.send({ type: 'auth.login', ...mrkterPassword });
    const signedIn = await settle(subject, (s) => s.matches({ signedIn: 'active' }));
    const loading = await settle(mrkterSubject, (s) => s.matches('loadingIdentities'));

    // assert
    for (const context of [signedIn.context, loading.context]) {
      expect(context.accessTokenExpiresAt).not.toBeNull();
      expect(context.accessTokenExpiresAt! - started).toBeGreaterThanOrEqual(HOUR - 1_000);
      expect(context.accessTokenExpiresAt! - started).toBeLessThanOrEqual(HOUR + 1_000);
      expect(context.refreshAt!).toBeLessThan(context.accessTokenExpiresAt!);
    }
  });

  it('M8: a token with exp already past and iat in the future causes at most one refresh, then an error, and no loop', async () => {
    // arrange: login and refresh both hand out tokens that expired a minute ago
    const { sim, api } = await marketiger();
    const stale = () => marketigerTokens(fakeJwt({ exp: nowSeconds() - 60, iat: nowSeconds() + 3600 }));
    sim.injectFault(LOGIN, once(stale()));
    sim.injectFault(REFRESH, once(stale()));
    const subject = marketigerActor(api);

    // act
    subject.send({ type: 'auth.login', ...demo });
    const expired = await settle(subject, (s) => s.matches('sessionExpired'));

    // assert: nothing in flight or scheduled could send another refresh
    expectIdle(subject);
    expect(expired.context.error?.kind).toBe('session_expired');
    expect(sim.refreshCount).toBe(1);
    expect(subject.getSnapshot().matches('sessionExpired')).toBe(true);
  });

  it('M9: expires_in 0, -1, "3600", "NaN", null, 1e12 or missing is validated and clamped, and timers stay below 2^31-1 ms', async () => {
    // arrange: a JWT that lives two hours, so an invalid expires_in visibly falls back to it
    const { sim, api } = await mrkter();
    const jwt = fakeJwt({ exp: nowSeconds() + 2 * 3600 });
    const values: [unknown, 'jwt' | 'hour' | 'max'][] = [
      [0, 'jwt'],
      [-1, 'jwt'],
      ['3600', 'hour'],
      ['NaN', 'jwt'],
      [null, 'jwt'],
      [1e12, 'max'],
      [undefined, 'jwt'],
    ];

    for (const [expiresIn, expected] of values) {
      // act
      sim.injectFault(
        TOKEN,
        once(auth0Tokens({ access_token: jwt, token_type: 'Bearer', expires_in: expiresIn })),
      );
      const started = Date.now();
      const tokens = await api.login(mrkterPassword);
      const answered = Date.now();
      const expiresAt = tokens.accessTokenExpiresAt!;

      // assert: a lifetime counted from receipt (expires_in) is bracketed by when the call started and
      // when it returned, however long the exchange took on a busy machine
      const label = String(expiresIn);
      if (expected === 'jwt') expect(Math.abs(expiresAt - started - 2 * HOUR), label).toBeLessThan(2_000);
      if (expected === 'hour') {
        expect(expiresAt, label).toBeGreaterThanOrEqual(started + HOUR);
        expect(expiresAt, label).toBeLessThanOrEqual(answered + HOUR);
      }
      // a timer armed from now on (after the answer) stays within 2^31-1 ms
      if (expected === 'max') expect(expiresAt - answered, label).toBeLessThanOrEqual(MAX_TIMER_MS);
      expect(expiresAt - answered, label).toBeGreaterThan(0);
    }
    // an opaque token with an unusable expires_in has no expiry at all: refused
    sim.injectFault(
      TOKEN,
      once(auth0Tokens({ access_token: 'opaque', token_type: 'Bearer', expires_in: -1 })),
    );
    expect((await authErrorOf(api.login(mrkterPassword))).kind).toBe('bad_response');
  });

  it('M9: a session whose token lives 1e12 seconds keeps its refresh timer within 2^31-1 ms and does not refresh at once', async () => {
    // arrange + act
    const { sim, actor } = await signedInMrkter({ sim: { accessTokenTtlSeconds: 1e12 } });

    // assert: no refresh in flight, and every timer the machine asked for is over an hour away and
    // within 2^31-1 ms (a longer one would fire after 1 ms on a clock that does not clamp)
    expectIdle(actor, { timersBeyondMs: HOUR });
    for (const timer of pendingTimers(actor))
      expect(timer.dueInMs, timer.event).toBeLessThanOrEqual(MAX_TIMER_MS);
    const { accessTokenExpiresAt, refreshAt } = actor.getSnapshot().context;
    expect(accessTokenExpiresAt! - Date.now()).toBeLessThan(MAX_TIMER_MS);
    expect(refreshAt! - Date.now()).toBeGreaterThan(HOUR);
    expect(mrkterRefreshes(sim)).toHaveLength(0);
    expect(actor.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
  });

  it('M10: token_type Bearer is accepted in any case, a missing or other token_type is refused', async () => {
    // arrange
    const { sim, api } = await mrkter();
    const jwt = fakeJwt({ exp: nowSeconds() + 3600 });
    const answer = (tokenType: unknown) =>
      once(
        auth0Tokens({
          access_token: jwt,
          expires_in: 3600,
          ...(tokenType === undefined ? {} : { token_type: tokenType }),
        }),
      );

    for (const tokenType of ['Bearer', 'bearer', 'BEARER']) {
      // act + assert
      sim.injectFault(TOKEN, answer(tokenType));
      expect((await api.login(mrkterPassword)).accessToken, tokenType).toBe(jwt);
    }
    for (const tokenType of [undefined, 'mac', 'DPoP', '', 1]) {
      sim.injectFault(TOKEN, answer(tokenType));
      expect((await authErrorOf(api.login(mrkterPassword))).kind, String(tokenType)).toBe('bad_response');
    }
  });

  it('M11: an Auth0 refresh answer without refresh_token keeps the old refresh token (RFC 6749 §6)', async () => {
    // arrange
    const { sim, actor } = await signedInMrkter({ sim: { rotateRefreshTokens: false } });
    const original = actor.getSnapshot().context.refreshToken;

    // act: two refreshes in a row
    for (let i = 0; i < 2; i++) {
      actor.send({ type: 'auth.refresh' });
      await settle(actor, (s) => s.matches({ signedIn: 'active' }) && mrkterRefreshes(sim).length === i + 1);
      await settle(actor, (s) => s.matches({ signedIn: 'active' }));
    }

    // assert
    expect(original).toBeTruthy();
    expect(actor.getSnapshot().context.refreshToken).toBe(original);
    expect(mrkterRefreshes(sim).map((r) => r.params['refresh_token'])).toEqual([original, original]);
  });

  it('M12: a session id sent as a JSON string is unwrapped; "", spaces, CR/LF, 10 KB or a number are bad_response', async () => {
    // arrange
    const { sim, api } = await mrkter();
    const verify = () => api.verifyCode({ accessToken: 'a.b.c', accountId: 789, code: '123456' });
    const refused: [string, string][] = [
      ['', 'text/plain'],
      ['   ', 'text/plain'],
      ['abc\r\nx-admin: 1', 'text/plain'],
      ['"abc\\r\\ndef"', 'application/json'],
      ['a'.repeat(10 * 1024), 'text/plain'],
      ['12345', 'application/json'],
      ['null', 'application/json'],
    ];

    // act + assert
    sim.injectFault(AUTHENTICATE, once('"e2OyFXDwyyKH1iRyOsvb2x7qFrceUXq4"', 'application/json', 201));
    expect((await verify()).sessionId).toBe('e2OyFXDwyyKH1iRyOsvb2x7qFrceUXq4');
    for (const [body, contentType] of refused) {
      sim.injectFault(AUTHENTICATE, once(body, contentType, 201));
      expect((await authErrorOf(verify())).kind, JSON.stringify(body.slice(0, 20))).toBe('bad_response');
    }

    // and through the whole flow, with the server sending JSON strings
    const { actor } = await signedInMrkter({ sim: { sessionIdFormat: 'json' } });
    expect(actor.getSnapshot().context.sessionId).toMatch(/^[\w-]+$/);
  });

  it('M13: identities as an object, null, [], duplicates or without accountId are refused; one without a phone is never picked', async () => {
    // arrange
    const { sim, api } = await mrkter();
    const identity = single.identities[0]!;
    const cases: [string, string][] = [
      ['{}', 'bad_response'],
      ['null', 'bad_response'],
      ['[]', 'no_identities'],
      [JSON.stringify([identity, { ...identity, id: 999 }]), 'bad_response'],
      [JSON.stringify([{ ...identity, accountId: undefined }]), 'bad_response'],
      [JSON.stringify([{ ...identity, accountId: '' }]), 'bad_response'],
    ];
    for (const [body, kind] of cases) {
      // act + assert: the service
      sim.injectFault(IDENTITIES, once(body));
      expect((await authErrorOf(api.loadIdentities({ accessToken: 'a.b.c' }))).kind, body.slice(0, 40)).toBe(
        kind,
      );
    }

    // the machine: duplicates end the sign-in; a single identity without a phone is not auto-selected
    const phoneless: MrkterSimUser = {
      username: 'phoneless@mrkter.test',
      password: 'phoneless-password',
      identities: [{ ...identity, accountId: 5, verifiedPhoneNumber: null }],
    };
    const twins: MrkterSimUser = {
      username: 'twins@mrkter.test',
      password: 'twins-password',
      identities: [identity, { ...identity }],
    };
    const { sim: msim, api: mapi } = await mrkter({ users: [...defaultMrkterUsers, phoneless, twins] });
    const first = mrkterActor(mapi);
    first.send({ type: 'auth.login', username: twins.username, password: twins.password });
    const out = await settle(first, (s) => s.matches('signedOut') && s.context.error !== null);
    const second = mrkterActor(mapi);
    second.send({ type: 'auth.login', username: phoneless.username, password: phoneless.password });
    await settle(second, (s) => s.matches('selectingIdentity'));
    second.send({ type: 'identity.select', accountId: 5 });

    expect(out.context.error?.kind).toBe('bad_response');
    expect(out.context.accountId).toBeNull();
    expect(second.getSnapshot().matches('selectingIdentity')).toBe(true);
    expect(second.getSnapshot().context.error?.kind).toBe('no_phone_number');
    expect(msim.requestCount(SMS)).toBe(0);
  });

  it('M14: a huge body is refused with the size limit error', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const { sim: msim, api: mapi } = await mrkter({}, { maxResponseBytes: 10_000 });
    const huge = JSON.stringify({ success: true, data: { pad: 'x'.repeat(1_200_000) } });

    // act
    sim.injectFault(LOGIN, once(huge));
    const login = await authErrorOf(api.login(demo));
    msim.injectFault(
      IDENTITIES,
      once(JSON.stringify(Array.from({ length: 200 }, () => single.identities[0]))),
    );
    const identities = await authErrorOf(mapi.loadIdentities({ accessToken: 'a.b.c' }));

    // assert
    for (const error of [login, identities]) {
      expect(error.kind).toBe('bad_response');
      expect(error.message).toMatch(/too large/);
    }
  });

  it('M15: a body with __proto__ keys pollutes no prototype, in token answers, identities and error bodies', async () => {
    // arrange
    const poison = '"__proto__":{"polluted":"yes","isAdmin":true}';
    const { sim, api } = await marketiger();
    const { sim: msim, api: mapi } = await mrkter();
    const jwt = fakeJwt({ exp: nowSeconds() + 3600 });
    sim.injectFault(
      LOGIN,
      once(`{${poison},"success":true,"data":{${poison},"accessToken":"${jwt}","refreshToken":"rt"}}`),
    );
    sim.injectFault(
      REFRESH,
      once(`{${poison},"success":false,"error":{${poison},"type":"AUTHENTICATION"}}`, undefined, 401),
    );
    const identity = JSON.stringify(single.identities[0]).slice(1, -1);
    msim.injectFault(IDENTITIES, once(`[{${poison},${identity}}]`));
    const subject = marketigerActor(api);

    // act
    subject.send({ type: 'auth.login', ...demo });
    const signedIn = await settle(subject, (s) => s.matches({ signedIn: 'active' }));
    const refused = await authErrorOf(api.refreshTokens({ refreshToken: 'rt' }));
    const identities = await mapi.loadIdentities({ accessToken: 'a.b.c' });

    // assert
    const probe: Record<string, unknown> = {};
    expect(probe['polluted']).toBeUndefined();
    expect(probe['isAdmin']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(signedIn.context.accessToken).toBe(jwt);
    expect((signedIn.context as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(refused.kind).toBe('session_expired');
    expect(identities[0]!.accountId).toBe(single.identities[0]!.accountId);
    expect(Object.getPrototypeOf(identities[0])).toBe(Object.prototype);
    expect((identities[0] as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });
});
