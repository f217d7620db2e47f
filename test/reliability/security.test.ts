/**
 * docs/reliability.md, Security (S1–S8): secrets kept out of errors, snapshots, logs and URLs; base URLs,
 * header values and credential routing checked, through the real services, machines and client.
 */
import { inspect } from 'node:util';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { restoreActor } from '../../src/restore.js';
import type { HttpLogEntry } from '../../src/services/http/log.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import { marketigerRoutes } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, type MrkterSimUser, mrkterRoutes } from '../../src/testing/mrkterSimulator.js';
import { startSimServer } from '../../src/testing/simServer.js';
import {
  authErrorOf,
  currentAccountPath,
  defer,
  demo,
  expectNoSecret,
  exposure,
  marketiger,
  marketigerActor,
  mrkter,
  mrkterActor,
  projectsPath,
  rejectionOf,
  runCleanups,
  SAFETY_NET_MS,
  settle,
  signedInMarketiger,
  signedInMrkter,
  single,
} from './helpers.js';

const { login: LOGIN, refreshToken: REFRESH, getProjects: PROJECTS } = marketigerRoutes;
const { token: TOKEN, currentAccount: CURRENT, authenticate: AUTHENTICATE, sms: SMS } = mrkterRoutes;

const CANARY_PASSWORD = 'canary-password-S1xQ';
const CANARY_REFRESH = 'canary-refresh-S1vW';
const CANARY_ACCESS = 'eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJTMSJ9.canary-access-S1';
const CANARY_CODE = '913370';
const canaries = [CANARY_PASSWORD, CANARY_REFRESH, CANARY_ACCESS, CANARY_CODE, 'canary'];

/** Users whose passwords are canaries, so a correct sign-in still carries a recognisable secret. */
const canaryMarketigerUser = { email: 'canary@marketiger.test', password: CANARY_PASSWORD, projects: [] };
const canaryMrkterUser: MrkterSimUser = {
  ...single,
  username: 'canary@mrkter.test',
  password: CANARY_PASSWORD,
};

afterEach(async () => {
  vi.restoreAllMocks();
  await runCleanups();
});

/** Every console line written while `run` runs (nothing is printed). */
async function captureConsole(run: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(
        args.map((arg) => (typeof arg === 'string' ? arg : (JSON.stringify(arg) ?? String(arg)))).join(' '),
      );
    });
  }
  await run();
  return lines.join('\n');
}

/** An axios instance that records the request line (path and query) of every request it sends. */
function recordingAxios(sent: string[]): AxiosInstance {
  const instance = axios.create();
  const record = (response: AxiosResponse | undefined) => {
    const path = (response?.request as { path?: unknown } | undefined)?.path;
    if (typeof path === 'string') sent.push(path);
  };
  instance.interceptors.response.use(
    (response) => {
      record(response);
      return response;
    },
    (error: { response?: AxiosResponse }) => {
      record(error.response);
      return Promise.reject(error);
    },
  );
  return instance;
}

describe('Security', () => {
  it('S1: canaries sent through every error path of the services never appear in messages, stacks, JSON, inspect or logs', async () => {
    // arrange
    const { sim, api } = await marketiger({}, { timeoutMs: 200 });
    const { sim: msim, api: mapi } = await mrkter({}, { timeoutMs: 200 });
    const echo = (status: number) => ({
      kind: 'status' as const,
      status,
      body: JSON.stringify({ error: canaries.join(' '), message: canaries.join(' ') }),
      contentType: 'application/json',
      times: 1,
    });
    const paths: [string, () => Promise<unknown>][] = [
      ['wrong password', () => api.login({ email: demo.email, password: CANARY_PASSWORD })],
      [
        'login 500 echo',
        () => {
          sim.injectFault(LOGIN, echo(500));
          return api.login({ email: demo.email, password: CANARY_PASSWORD });
        },
      ],
      [
        'login 400 echo',
        () => {
          sim.injectFault(LOGIN, echo(400));
          return api.login({ email: demo.email, password: CANARY_PASSWORD });
        },
      ],
      [
        'login dropped',
        () => {
          sim.injectFault(LOGIN, { kind: 'drop', times: 1 });
          return api.login({ email: demo.email, password: CANARY_PASSWORD });
        },
      ],
      ['refresh refused', () => api.refreshTokens({ refreshToken: CANARY_REFRESH })],
      [
        'refresh hung',
        () => {
          sim.injectFault(REFRESH, { kind: 'hang', times: 1 });
          return api.refreshTokens({ refreshToken: CANARY_REFRESH });
        },
      ],
      [
        'refresh 429 echo',
        () => {
          sim.injectFault(REFRESH, echo(429));
          return api.refreshTokens({ refreshToken: CANARY_REFRESH });
        },
      ],
      ['projects refused', () => api.getProjects({ accessToken: CANARY_ACCESS })],
      [
        'projects 502 echo',
        () => {
          sim.injectFault(PROJECTS, echo(502));
          return api.getProjects({ accessToken: CANARY_ACCESS });
        },
      ],
      [
        'project check injected',
        () => api.checkProjectAccess({ accessToken: `${CANARY_ACCESS}\r\nx: y`, projectId: 'p' }),
      ],
      ['auth0 wrong password', () => mapi.login({ username: single.username, password: CANARY_PASSWORD })],
      [
        'auth0 403 echo',
        () => {
          msim.injectFault(TOKEN, echo(403));
          return mapi.login({ username: single.username, password: CANARY_PASSWORD });
        },
      ],
      ['auth0 refresh refused', () => mapi.refreshTokens({ refreshToken: CANARY_REFRESH })],
      [
        'auth0 refresh hung',
        () => {
          msim.injectFault(TOKEN, { kind: 'hang', times: 1 });
          return mapi.refreshTokens({ refreshToken: CANARY_REFRESH });
        },
      ],
      ['identities refused', () => mapi.loadIdentities({ accessToken: CANARY_ACCESS })],
      ['sms refused', () => mapi.requestCode({ accessToken: CANARY_ACCESS, phoneNumber: '+15550100' })],
      [
        'wrong code',
        () => mapi.verifyCode({ accessToken: CANARY_ACCESS, accountId: 789, code: CANARY_CODE }),
      ],
      [
        'code 400 echo',
        () => {
          msim.injectFault(AUTHENTICATE, echo(400));
          return mapi.verifyCode({ accessToken: CANARY_ACCESS, accountId: 789, code: CANARY_CODE });
        },
      ],
      [
        'code dropped',
        () => {
          msim.injectFault(AUTHENTICATE, { kind: 'drop', times: 1 });
          return mapi.verifyCode({ accessToken: CANARY_ACCESS, accountId: 789, code: CANARY_CODE });
        },
      ],
    ];

    // act
    const errors: [string, unknown][] = [];
    const logged = await captureConsole(async () => {
      for (const [name, call] of paths) errors.push([name, await authErrorOf(call())]);
    });

    // assert
    for (const [name, error] of errors) expectNoSecret(exposure(error), canaries, name);
    expectNoSecret(logged, canaries, 'the console');
  });

  it('S1: errors of the machines and of the authorized client keep the session secrets out, whatever the failure', async () => {
    // arrange
    const { sim, actor, http } = await signedInMarketiger({ client: { timeout: 200 } });
    const { sim: msim, actor: mactor, http: mhttp } = await signedInMrkter();
    const secrets = [
      actor.getSnapshot().context.accessToken,
      actor.getSnapshot().context.refreshToken,
      mactor.getSnapshot().context.accessToken,
      mactor.getSnapshot().context.refreshToken,
      mactor.getSnapshot().context.sessionId,
      demo.password,
      single.password,
    ];
    sim.injectFault(PROJECTS, { kind: 'status', status: 500, times: 1 });
    sim.injectFault(PROJECTS, { kind: 'drop', times: 1 });
    sim.injectFault(PROJECTS, { kind: 'hang', times: 1 });
    msim.injectFault(CURRENT, { kind: 'status', status: 503, times: 1 });

    // act
    const errors: [string, unknown][] = [];
    const logged = await captureConsole(async () => {
      errors.push(['client 500', await rejectionOf(http.get(projectsPath))]);
      errors.push(['client drop', await rejectionOf(http.get(projectsPath))]);
      errors.push(['client hang', await rejectionOf(http.get(projectsPath))]);
      errors.push(['client 404', await rejectionOf(http.get('/No/Such/Route'))]);
      errors.push(['mrkter client 503', await rejectionOf(mhttp.get(currentAccountPath))]);
      msim.revokeRefreshTokens();
      msim.expireAccessTokens();
      errors.push(['mrkter refused refresh', await rejectionOf(mhttp.get(currentAccountPath))]);
    });

    // assert
    for (const [name, error] of errors) expectNoSecret(exposure(error), secrets, name);
    expectNoSecret(JSON.stringify(mactor.getPersistedSnapshot()), secrets, 'the expired snapshot');
    expectNoSecret(logged, secrets, 'the console');
  });

  it('S2: a persisted snapshot holds no password and no SMS code: after login, during it, and around the SMS step', async () => {
    // arrange
    const { sim, api } = await marketiger({ users: [canaryMarketigerUser] });
    const { sim: msim, api: mapi } = await mrkter({
      users: [canaryMrkterUser],
      generateCode: () => CANARY_CODE,
    });
    sim.injectFault(LOGIN, { kind: 'latency', ms: 150, times: 1 });
    msim.injectFault(AUTHENTICATE, { kind: 'latency', ms: 150, times: 1 });
    const subject = marketigerActor(api);
    const mrkterSubject = mrkterActor(mapi);
    const snapshots: string[] = [];

    // act
    subject.send({ type: 'auth.login', email: canaryMarketigerUser.email, password: CANARY_PASSWORD });
    snapshots.push(JSON.stringify(subject.getPersistedSnapshot()));
    await settle(subject, (s) => s.matches({ signedIn: 'active' }));
    snapshots.push(JSON.stringify(subject.getPersistedSnapshot()));
    mrkterSubject.send({
      type: 'auth.login',
      username: canaryMrkterUser.username,
      password: CANARY_PASSWORD,
    });
    snapshots.push(JSON.stringify(mrkterSubject.getPersistedSnapshot()));
    await settle(mrkterSubject, (s) => s.matches('awaitingCode'));
    snapshots.push(JSON.stringify(mrkterSubject.getPersistedSnapshot()));
    mrkterSubject.send({ type: 'code.submit', code: '000000' });
    await settle(mrkterSubject, (s) => s.matches('awaitingCode') && s.context.error !== null);
    mrkterSubject.send({ type: 'code.submit', code: CANARY_CODE });
    snapshots.push(JSON.stringify(mrkterSubject.getPersistedSnapshot()));
    await settle(mrkterSubject, (s) => s.matches({ signedIn: 'active' }));
    snapshots.push(JSON.stringify(mrkterSubject.getPersistedSnapshot()));

    // assert
    expect(snapshots[0]).toContain('signingIn');
    expect(snapshots[4]).toContain('verifyingCode');
    for (const [i, snapshot] of snapshots.entries()) {
      expectNoSecret(snapshot, [CANARY_PASSWORD, CANARY_CODE], `snapshot ${i}`);
    }
  });

  it('S3: an http:// base URL is refused, loopback hosts are allowed, and localhost.evil.com is refused', () => {
    // arrange
    const refused = [
      'http://api.example.com',
      'http://localhost.evil.com',
      'http://127.0.0.1.evil.com',
      'http://user:secret@127.0.0.1:1',
      'ftp://127.0.0.1',
      'javascript:alert(1)',
      'not a url',
    ];
    const allowed = ['https://api.example.com', 'http://localhost:1', 'http://127.0.0.1:1', 'http://[::1]:1'];
    const factories: [string, (url: string) => unknown][] = [
      ['marketiger', (url) => createMarketigerApi({ baseURL: url })],
      ['mrkter auth', (url) => createMrkterApi({ authBaseURL: url })],
      ['mrkter api', (url) => createMrkterApi({ apiBaseURL: url })],
      ['client', (url) => createAuthorizedAxios(marketigerActor(createMarketigerApi()), { baseURL: url })],
    ];

    for (const [name, create] of factories) {
      // act + assert
      for (const url of refused) {
        expect(() => create(url), `${name} ${url}`).toThrowError(
          expect.objectContaining({ kind: 'insecure_url' }),
        );
      }
      for (const url of allowed) expect(() => create(url), `${name} ${url}`).not.toThrow();
    }
  });

  it('S4: CR/LF/NUL in an account id, a session id or a phone number is refused before anything is sent', async () => {
    // arrange: identities from the server carrying header injections
    const identity = single.identities[0]!;
    const users: MrkterSimUser[] = [
      {
        username: 'acct@mrkter.test',
        password: 'pw',
        identities: [{ ...identity, accountId: 'acc\r\nx-admin: 1' }],
      },
      {
        username: 'phone@mrkter.test',
        password: 'pw',
        identities: [{ ...identity, verifiedPhoneNumber: '+15550100\r\nx: y' }],
      },
    ];
    const { sim, api } = await mrkter({ users: [...defaultMrkterUsers, ...users] });

    // act: an account id with CR/LF reaches the code validation
    const account = mrkterActor(api, { resendCooldownMs: 0 });
    account.send({ type: 'auth.login', username: 'acct@mrkter.test', password: 'pw' });
    await settle(account, (s) => s.matches('awaitingCode'));
    account.send({ type: 'code.submit', code: sim.lastCode()! });
    const refusedAccount = await settle(
      account,
      (s) => s.matches('awaitingCode') && s.context.error !== null,
    );
    // a phone number with CR/LF reaches the SMS request
    const phone = mrkterActor(api);
    phone.send({ type: 'auth.login', username: 'phone@mrkter.test', password: 'pw' });
    const refusedPhone = await settle(phone, (s) => s.context.error !== null);
    // NUL, directly
    const nul = await authErrorOf(api.verifyCode({ accessToken: 'a.b.c', accountId: 'a\u0000b', code: '1' }));
    const nulPhone = await authErrorOf(api.requestCode({ accessToken: 'a.b.c', phoneNumber: '+1\u0000' }));

    // assert
    expect(refusedAccount.context.error?.kind).toBe('bad_response');
    expect(refusedPhone.context.error?.kind).toBe('bad_response');
    expect(nul.kind).toBe('bad_response');
    expect(nulPhone.kind).toBe('bad_response');
    expect(sim.requestCount(AUTHENTICATE)).toBe(0);
    expect(sim.requestCount(SMS)).toBe(1); // the account-id user's own, well-formed number
  });

  it('S4: a restored session id with CR/LF is refused by the authorized client before sending', async () => {
    // arrange
    const { sim, api, actor } = await signedInMrkter();
    const saved = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    saved.context.sessionId = `${saved.context.sessionId}\r\nx-admin: 1`;
    const restored = restoreActor(mrkterMachine.provide({ actors: mrkterActors(api) }), saved, {
      clock: createUnrefClock(),
    });
    defer(() => restored.stop());
    await waitFor(restored, (s) => s.matches({ signedIn: 'active' }), { timeout: SAFETY_NET_MS });
    const subject = createAuthorizedAxios(restored, { baseURL: sim.apiUrl });

    // act
    const error = await authErrorOf(subject.get(currentAccountPath));

    // assert
    expect(error.kind).toBe('bad_response');
    expect(sim.requestCount(CURRENT)).toBe(0);
  });

  it('S5: requests through the authorized client to another origin, absolute or protocol-relative, carry no credentials', async () => {
    // arrange
    const other = await startSimServer({ routes: { 'GET /x': () => ({ status: 200, json: {} }) } });
    defer(() => other.close());
    const { actor, http } = await signedInMarketiger();
    const { actor: mactor, http: mhttp } = await signedInMrkter();
    const secrets = [
      actor.getSnapshot().context.accessToken,
      mactor.getSnapshot().context.accessToken,
      mactor.getSnapshot().context.sessionId,
    ];

    // act
    await http.get(`${other.url}/x`);
    await http.get(`//127.0.0.1:${other.port}/x`).catch(() => undefined);
    await mhttp.get(`${other.url}/x`);
    await mhttp.get(`//127.0.0.1:${other.port}/x`).catch(() => undefined);
    await mhttp.get(`http://localhost:${other.port}/x`).catch(() => undefined);

    // assert
    expect(other.log.length).toBeGreaterThanOrEqual(2);
    for (const entry of other.log) {
      expect(entry.headers.authorization).toBeUndefined();
      expect(entry.headers['x-session-id']).toBeUndefined();
      expect(entry.headers['x-account-id']).toBeUndefined();
      expectNoSecret(JSON.stringify(entry.headers), secrets, entry.path);
    }
  });

  it('S6: the Auth0 refresh token goes only to /oauth/token, and API tokens only to the API origin', async () => {
    // arrange
    const { sim, actor, http } = await signedInMrkter();
    const seen = { access: new Set<string>(), refresh: new Set<string>() };
    const note = () => {
      const { accessToken, refreshToken } = actor.getSnapshot().context;
      if (accessToken) seen.access.add(accessToken);
      if (refreshToken) seen.refresh.add(refreshToken);
    };
    note();

    // act: refreshes, API calls, and a call through the client to the Auth0 origin
    for (let i = 0; i < 2; i++) {
      actor.send({ type: 'auth.refresh' });
      await settle(
        actor,
        (s) => s.matches({ signedIn: 'active' }) && !seen.access.has(s.context.accessToken!),
      );
      note();
      await http.get(currentAccountPath);
    }
    await http.get(`${sim.authUrl}/oauth/token`).catch(() => undefined);

    // assert
    for (const entry of sim.auth.log) {
      expect(entry.path).toBe('/oauth/token');
      expect(entry.headers.authorization).toBeUndefined();
      expect(entry.headers['x-session-id']).toBeUndefined();
    }
    for (const request of sim.tokenRequests)
      expectNoSecret(JSON.stringify(request.params), [...seen.access], 'a token request');
    for (const entry of sim.api.log)
      expectNoSecret(JSON.stringify(entry.headers), [...seen.refresh], entry.path);
    const refreshesSent = sim.tokenRequests.map((r) => r.params['refresh_token']).filter(Boolean);
    expect(refreshesSent).toHaveLength(2);
    expect(sim.api.log.some((e) => e.headers.authorization?.startsWith('Bearer '))).toBe(true);
  });

  it('S6: Marketiger sends the refresh token only in the body of /Auth/RefreshToken and the access token only as a header', async () => {
    // arrange
    const bodies: { url: string; data: string; authorization: string }[] = [];
    const instance = axios.create();
    instance.interceptors.request.use((config) => {
      bodies.push({
        url: String(config.url),
        data: typeof config.data === 'string' ? config.data : '',
        authorization: String(config.headers.get('Authorization') ?? ''),
      });
      return config;
    });
    const { actor } = await signedInMarketiger({
      api: { axios: instance },
      input: { projectId: 'demo-project' },
    });
    const first = actor.getSnapshot().context;

    // act
    actor.send({ type: 'auth.refresh' });
    await settle(
      actor,
      (s) => s.matches({ signedIn: 'active' }) && s.context.accessToken !== first.accessToken,
    );

    // assert
    const withRefresh = bodies.filter((b) => b.data.includes(first.refreshToken!));
    expect(withRefresh.map((b) => b.url)).toEqual(['/Auth/RefreshToken']);
    for (const b of bodies) {
      expect(b.data.includes(first.accessToken!), b.url).toBe(false);
      if (b.authorization) expect(b.url).toBe('/Project/HasAccesToProject');
    }
  });

  it('S7: with debug logging on in the services and the clients, a full flow of both providers, failures included, logs no authorization, session id, refresh token, password or code', async () => {
    // arrange
    const entries: HttpLogEntry[] = [];
    const logger = (entry: HttpLogEntry) => entries.push(entry);
    const { sim: msim, api: mapi } = await mrkter(
      { users: [canaryMrkterUser], generateCode: () => CANARY_CODE },
      { logger },
    );
    const { sim, api } = await marketiger({ users: [canaryMarketigerUser] }, { logger });
    const secrets: (string | null)[] = [CANARY_PASSWORD, CANARY_CODE];

    // act: everything also goes through the console, which must stay clean too
    const logged = await captureConsole(async () => {
      const subject = marketigerActor(api);
      subject.send({ type: 'auth.login', email: canaryMarketigerUser.email, password: CANARY_PASSWORD });
      await settle(subject, (s) => s.matches({ signedIn: 'active' }));
      secrets.push(subject.getSnapshot().context.accessToken, subject.getSnapshot().context.refreshToken);
      const http = createAuthorizedAxios(subject, { baseURL: sim.baseURL, logger });
      sim.expireAccessTokens();
      await http.get(projectsPath);
      secrets.push(subject.getSnapshot().context.accessToken, subject.getSnapshot().context.refreshToken);
      sim.injectFault(PROJECTS, { kind: 'status', status: 500, times: 1 });
      await http.get(projectsPath).catch(() => undefined);
      sim.revokeRefreshTokens();
      sim.expireAccessTokens();
      await http.get(projectsPath).catch(() => undefined);

      const mrkterSubject = mrkterActor(mapi);
      mrkterSubject.send({
        type: 'auth.login',
        username: canaryMrkterUser.username,
        password: CANARY_PASSWORD,
      });
      await settle(mrkterSubject, (s) => s.matches('awaitingCode'));
      mrkterSubject.send({ type: 'code.submit', code: '000000' });
      await settle(mrkterSubject, (s) => s.matches('awaitingCode') && s.context.error !== null);
      mrkterSubject.send({ type: 'code.submit', code: CANARY_CODE });
      await settle(mrkterSubject, (s) => s.matches({ signedIn: 'active' }));
      const { accessToken, refreshToken, sessionId } = mrkterSubject.getSnapshot().context;
      secrets.push(accessToken, refreshToken, sessionId);
      msim.expireAccessTokens();
      await createAuthorizedAxios(mrkterSubject, { baseURL: msim.apiUrl, logger }).get(currentAccountPath);
      const after = mrkterSubject.getSnapshot().context;
      secrets.push(after.accessToken, after.refreshToken);
      mrkterSubject.send({ type: 'auth.logout' });
    });

    // assert: the log is there, with the credential headers present but redacted, and no secret anywhere
    const paths = new Set(entries.map((entry) => entry.path));
    for (const path of [
      '/Auth/Login',
      '/Auth/RefreshToken',
      '/Project/GetProjects',
      '/oauth/token',
      '/auth/mfa/phone-number/authenticate',
      '/accounts/current',
    ]) {
      expect(paths.has(path), `no log entry for ${path}`).toBe(true);
    }
    const sentHeaders = entries
      .filter((entry) => entry.phase === 'request')
      .map((entry) => entry.headers ?? {});
    expect(sentHeaders.some((headers) => headers['authorization'] === '[redacted]')).toBe(true);
    expect(sentHeaders.some((headers) => headers['x-session-id'] === '[redacted]')).toBe(true);
    expect(new Set(secrets.filter(Boolean)).size).toBeGreaterThanOrEqual(9);
    expectNoSecret(JSON.stringify(entries), secrets, 'the debug log');
    expectNoSecret(inspect(entries, { depth: 10 }), secrets, 'the debug log');
    expectNoSecret(logged, secrets, 'the console');
  });

  it('S8: no token, password, code or session id ever appears in a request URL', async () => {
    // arrange
    const sent: string[] = [];
    const { actor, http } = await signedInMarketiger({
      api: { axios: recordingAxios(sent) },
      input: { projectId: 'demo-project' },
    });
    const { actor: mactor, http: mhttp } = await signedInMrkter({ api: { axios: recordingAxios(sent) } });
    for (const client of [http, mhttp]) {
      client.interceptors.response.use((response) => {
        const path = (response.request as { path?: unknown }).path;
        if (typeof path === 'string') sent.push(path);
        return response;
      });
    }

    // act
    await http.get(projectsPath);
    await mhttp.get(currentAccountPath);
    const tokens = [actor.getSnapshot().context.refreshToken, mactor.getSnapshot().context.refreshToken];
    actor.send({ type: 'auth.refresh' });
    mactor.send({ type: 'auth.refresh' });
    await settle(actor, (s) => s.matches({ signedIn: 'active' }) && s.context.refreshToken !== tokens[0]);
    await settle(mactor, (s) => s.matches({ signedIn: 'active' }) && s.context.refreshToken !== tokens[1]);

    // assert
    const secrets = [
      actor.getSnapshot().context.accessToken,
      actor.getSnapshot().context.refreshToken,
      mactor.getSnapshot().context.accessToken,
      mactor.getSnapshot().context.refreshToken,
      mactor.getSnapshot().context.sessionId,
      demo.password,
      single.password,
    ];
    expect(sent.some((path) => path.includes('projectId=demo-project'))).toBe(true);
    expect(sent.length).toBeGreaterThanOrEqual(8);
    for (const path of sent) {
      expectNoSecret(path, secrets, path);
      // Query parameter names that would carry credentials (the path /oauth/token itself is fine).
      expect(path.split('?')[1] ?? '', path).not.toMatch(/token|password|code|session/i);
    }
  });
});
