/**
 * S1, S2, S7: canary secrets through every flow and error path of both providers, with debug
 * logging on and the console captured; then every output is searched for every secret.
 *
 * Passwords and SMS codes are canaries chosen here; access tokens, refresh tokens and session ids
 * are collected from the actors' contexts and the simulators' logs as they appear, so the scan
 * looks for the real ones.
 */
import { format } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AnyActor, createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { isAuthError } from '../../src/errors.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import { marketigerRoutes, startMarketigerSimulator } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, mrkterRoutes, startMrkterSimulator } from '../../src/testing/mrkterSimulator.js';
import { HTML_ERROR_PAGE, type SimFault, startSimServer } from '../../src/testing/simServer.js';
import { Evidence, errorViews, SecretSet, scan } from './scan.js';

const M_EMAIL = 'canary@marketiger.test';
const M_PASSWORD = 'Canary-M-Password-4qX!';
const M_WRONG_PASSWORD = 'Canary-M-Wrong-Pw-9zK!';
const K_USER = 'canary@mrkter.test';
const K_PASSWORD = 'Canary-K-Password-7fW!';
const K_WRONG_PASSWORD = 'Canary-K-Wrong-Pw-2hJ!';
const K_WRONG_CODE = 'cnryWRONGc0de';
const MFA_TOKEN = 'Canary-mfa-token-0123456789abcdef';
/** Service timeout of these flows: short, so hang faults end quickly. */
const TIMEOUT_MS = 600;
const WAIT = { timeout: 8_000 };

/** The five transport and body faults of docs/reliability.md, each once. */
const faults: { name: string; fault: SimFault; kind: string }[] = [
  {
    name: '502 HTML',
    fault: { kind: 'status', status: 502, body: HTML_ERROR_PAGE, contentType: 'text/html', times: 1 },
    kind: 'server',
  },
  { name: 'drop', fault: { kind: 'drop', times: 1 }, kind: 'network' },
  { name: 'hang', fault: { kind: 'hang', times: 1 }, kind: 'timeout' },
  {
    name: 'malformed',
    fault: { kind: 'malformed', body: '{"success": tru', status: 200, times: 1 },
    kind: 'bad_response',
  },
  { name: '429', fault: { kind: 'rateLimit', retryAfter: '2', times: 1 }, kind: 'rate_limited' },
];

const secrets = new SecretSet();
const evidence = new Evidence();
const actors: AnyActor[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      evidence.console.push(format(...args));
    });
  }
  for (const [label, value] of [
    ['marketiger password', M_PASSWORD],
    ['marketiger wrong password', M_WRONG_PASSWORD],
    ['mrkter password', K_PASSWORD],
    ['mrkter wrong password', K_WRONG_PASSWORD],
    ['mrkter wrong code', K_WRONG_CODE],
    ['mfa token', MFA_TOKEN],
  ] as const) {
    secrets.add(label, value);
  }
});

afterEach(async () => {
  for (const actor of actors.splice(0)) actor.stop();
  for (const close of closers.splice(0)) await close();
});

afterAll(() => {
  vi.restoreAllMocks();
});

const notBusy = (actor: AnyActor) => waitFor(actor, (s) => !s.hasTag('busy'), WAIT);
const errorKind = (actor: AnyActor): string | undefined =>
  (actor.getSnapshot().context as { error: { kind: string } | null }).error?.kind;

async function clientKind(promise: Promise<unknown>): Promise<string> {
  const error = await evidence.keepError(promise);
  if (error === undefined) return 'ok';
  return isAuthError(error)
    ? error.kind
    : `axios:${(error as { response?: { status?: number } }).response?.status ?? (error as { code?: string }).code}`;
}

/**
 * The signed-in part of a canary run, the same for both providers: a 401 storm (one refresh, every
 * request answered), a refresh meeting each fault, each fault on an API request through the client,
 * and a refused refresh. Each step's outcome goes into `outcomes`.
 */
async function exerciseSession(
  run: {
    actor: AnyActor;
    sim: {
      expireAccessTokens(): void;
      revokeRefreshTokens(): void;
      injectFault(route: string, fault: SimFault): void;
    };
    get: (options?: { timeout: number }) => Promise<unknown>;
    refreshRoute: string;
    apiRoute: string;
    signIn: () => Promise<void>;
  },
  outcomes: Record<string, string | undefined>,
): Promise<void> {
  const { actor, sim } = run;
  sim.expireAccessTokens();
  const storm = await Promise.all(Array.from({ length: 8 }, () => clientKind(run.get())));
  outcomes['401 storm'] = [...new Set(storm)].join(',');

  for (const { name, fault } of faults) {
    actor.send({ type: 'auth.refresh' });
    await waitFor(actor, (s) => s.matches({ signedIn: 'active' }), WAIT);
    sim.injectFault(run.refreshRoute, fault);
    actor.send({ type: 'auth.refresh' });
    await waitFor(actor, (s) => !s.matches({ signedIn: 'refreshing' }), WAIT);
    outcomes[`refresh ${name}`] = errorKind(actor);
    if (actor.getSnapshot().matches({ signedIn: 'backingOff' })) actor.send({ type: 'auth.refresh' });
    else await run.signIn();
    await waitFor(actor, (s) => s.matches({ signedIn: 'active' }), WAIT);
  }

  for (const { name, fault } of faults) {
    sim.injectFault(run.apiRoute, fault);
    outcomes[`client ${name}`] = await clientKind(run.get({ timeout: TIMEOUT_MS }));
  }

  sim.revokeRefreshTokens();
  actor.send({ type: 'auth.refresh' });
  await notBusy(actor);
  outcomes['refused refresh'] = errorKind(actor);
  outcomes['request after refused refresh'] = await clientKind(run.get());
}

describe('canaries through every Marketiger path', () => {
  it('sign-in, wrong password, refresh, refused refresh, 401 storm, logout and every fault leak nothing', async () => {
    const sim = await startMarketigerSimulator({
      users: [{ email: M_EMAIL, password: M_PASSWORD, projects: ['canary-project'] }],
    });
    closers.push(() => sim.close());
    const api = createMarketigerApi({ baseURL: sim.baseURL, timeoutMs: TIMEOUT_MS, logger: evidence.logger });
    const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
      input: { projectId: 'canary-project' },
      clock: createUnrefClock(),
      inspect: evidence.inspect,
    });
    evidence.track(actor, secrets);
    actor.start();
    actors.push(actor);
    const http = createAuthorizedAxios(actor, { baseURL: sim.baseURL, logger: evidence.logger });
    const projects = '/Project/GetProjects';
    const login = async (password = M_PASSWORD) => {
      actor.send({ type: 'auth.login', email: M_EMAIL, password });
      await notBusy(actor);
    };
    const outcomes: Record<string, string | undefined> = {};

    // wrong password, then the real sign-in
    await login(M_WRONG_PASSWORD);
    outcomes['wrong password'] = errorKind(actor);
    await login();
    expect(actor.getSnapshot().matches('signedIn')).toBe(true);
    outcomes['request'] = await clientKind(http.get(projects));

    await exerciseSession(
      {
        actor,
        sim,
        get: (options) => http.get(projects, options),
        refreshRoute: marketigerRoutes.refreshToken,
        apiRoute: marketigerRoutes.getProjects,
        signIn: () => login(),
      },
      outcomes,
    );

    // sign-in meeting each fault
    for (const { name, fault } of faults) {
      sim.injectFault(marketigerRoutes.login, fault);
      await login();
      outcomes[`login ${name}`] = errorKind(actor);
      if (actor.getSnapshot().matches('signedIn')) actor.send({ type: 'auth.logout' });
    }

    // logout
    await login();
    actor.send({ type: 'auth.logout' });
    outcomes['request after logout'] = await clientKind(http.get(projects));

    // the service called directly: each error path, with the secrets it was given
    outcomes['api wrong password'] = await clientKind(
      api.login({ email: M_EMAIL, password: M_WRONG_PASSWORD }),
    );
    const tokens = await api.login({ email: M_EMAIL, password: M_PASSWORD });
    secrets.add('access token', tokens.accessToken);
    secrets.add('refresh token', tokens.refreshToken);
    await api.refreshTokens({ refreshToken: tokens.refreshToken ?? '' });
    outcomes['api spent refresh token'] = await clientKind(
      api.refreshTokens({ refreshToken: tokens.refreshToken ?? '' }),
    );
    outcomes['api stale token'] = await clientKind(
      api.getProjects({ accessToken: `${tokens.accessToken}x` }),
    );

    // assert: the flows went where expected, then nothing leaked
    expect(outcomes).toEqual({
      'wrong password': 'invalid_credentials',
      request: 'ok',
      '401 storm': 'ok',
      'refresh 502 HTML': 'server',
      'refresh drop': 'network',
      'refresh hang': 'timeout',
      // a refresh failing for a reason other than the network ends the session (CONTRIBUTING rule 8)
      'refresh malformed': 'session_expired',
      'refresh 429': 'rate_limited',
      'client 502 HTML': 'axios:502',
      'client drop': 'axios:ECONNRESET',
      'client hang': 'axios:ECONNABORTED',
      'client malformed': 'ok',
      'client 429': 'axios:429',
      'refused refresh': 'session_expired',
      'request after refused refresh': 'session_expired',
      'login 502 HTML': 'server',
      'login drop': 'network',
      'login hang': 'timeout',
      'login malformed': 'bad_response',
      'login 429': 'rate_limited',
      'request after logout': 'signed_out',
      'api wrong password': 'invalid_credentials',
      'api spent refresh token': 'session_expired',
      'api stale token': 'session_expired',
    });
    expect(evidence.logEntries.length).toBeGreaterThan(50);
  });
});

describe('canaries through every Mrkter path', () => {
  it('sign-in with SMS, wrong password and code, refresh, refused refresh, 401 storm, logout and faults leak nothing', async () => {
    let codeNumber = 0;
    const sim = await startMrkterSimulator({
      users: [{ username: K_USER, password: K_PASSWORD, identities: defaultMrkterUsers[0]!.identities }],
      smsCooldownMs: 0,
      // Canary codes, distinct per SMS; also registered as secrets when sent.
      generateCode: () => {
        const code = `cnry${(++codeNumber).toString().padStart(3, '0')}Sms`;
        secrets.add('sms code', code);
        return code;
      },
    });
    closers.push(() => sim.close());
    const api = createMrkterApi({
      authBaseURL: sim.authUrl,
      apiBaseURL: sim.apiUrl,
      timeoutMs: TIMEOUT_MS,
      logger: evidence.logger,
    });
    const actor = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), {
      input: { maxCodeAttempts: 5 },
      clock: createUnrefClock(),
      inspect: evidence.inspect,
    });
    evidence.track(actor, secrets);
    actor.start();
    actors.push(actor);
    const http = createAuthorizedAxios(actor, { baseURL: sim.apiUrl, logger: evidence.logger });
    const account = mrkterRoutes.currentAccount.replace(/^GET /, '');
    const outcomes: Record<string, string | undefined> = {};
    const login = async (password = K_PASSWORD) => {
      actor.send({ type: 'auth.login', username: K_USER, password });
      await notBusy(actor);
    };
    const toAwaitingCode = async () => {
      await login();
      actor.send({ type: 'identity.select', accountId: 123 });
      await notBusy(actor);
      expect(actor.getSnapshot().matches('awaitingCode')).toBe(true);
    };
    const submit = async (code: string) => {
      actor.send({ type: 'code.submit', code });
      await notBusy(actor);
    };
    const signIn = async () => {
      await toAwaitingCode();
      await submit(sim.lastCode() ?? '');
      expect(actor.getSnapshot().matches('signedIn')).toBe(true);
    };

    await login(K_WRONG_PASSWORD);
    outcomes['wrong password'] = errorKind(actor);
    await toAwaitingCode();
    await submit(K_WRONG_CODE);
    outcomes['wrong code'] = errorKind(actor);
    // the code step meeting each fault, then the right code
    for (const { name, fault } of faults) {
      sim.injectFault(mrkterRoutes.authenticate, fault);
      await submit(sim.lastCode() ?? '');
      outcomes[`code ${name}`] = errorKind(actor);
      if (!actor.getSnapshot().matches('awaitingCode')) await toAwaitingCode();
    }
    await submit(sim.lastCode() ?? '');
    expect(actor.getSnapshot().matches('signedIn')).toBe(true);
    outcomes['request'] = await clientKind(http.get(account));

    await exerciseSession(
      {
        actor,
        sim,
        get: (options) => http.get(account, options),
        refreshRoute: mrkterRoutes.token,
        apiRoute: mrkterRoutes.currentAccount,
        signIn,
      },
      outcomes,
    );

    for (const { name, fault } of faults) {
      sim.injectFault(mrkterRoutes.token, fault);
      await login();
      outcomes[`login ${name}`] = errorKind(actor);
      if (!actor.getSnapshot().matches('signedOut')) actor.send({ type: 'auth.logout' });
    }

    await signIn();
    actor.send({ type: 'auth.logout' });
    outcomes['request after logout'] = await clientKind(http.get(account));

    // direct service calls on error paths
    outcomes['api wrong password'] = await clientKind(
      api.login({ username: K_USER, password: K_WRONG_PASSWORD }),
    );
    const tokens = await api.login({ username: K_USER, password: K_PASSWORD });
    secrets.add('access token', tokens.accessToken);
    secrets.add('refresh token', tokens.refreshToken);
    await api.refreshTokens({ refreshToken: tokens.refreshToken ?? '' });
    outcomes['api spent refresh token'] = await clientKind(
      api.refreshTokens({ refreshToken: tokens.refreshToken ?? '' }),
    );
    outcomes['api wrong code'] = await clientKind(
      api.verifyCode({ accessToken: tokens.accessToken, accountId: 123, code: K_WRONG_CODE }),
    );

    // every secret the simulators saw on the wire joins the scan
    for (const request of sim.tokenRequests) {
      secrets.add('refresh token', request.params['refresh_token']);
    }
    for (const session of sim.sessions) secrets.add('session id', session.sessionId);
    for (const entry of sim.log) {
      secrets.add('access token', String(entry.headers.authorization ?? '').replace(/^Bearer /, ''));
      secrets.add('session id', entry.headers['x-session-id'] as string | undefined);
    }

    expect(outcomes).toEqual({
      'wrong password': 'invalid_credentials',
      'wrong code': 'invalid_code',
      'code 502 HTML': 'server',
      'code drop': 'network',
      'code hang': 'timeout',
      'code malformed': 'bad_response',
      'code 429': 'rate_limited',
      request: 'ok',
      '401 storm': 'ok',
      'refresh 502 HTML': 'server',
      'refresh drop': 'network',
      'refresh hang': 'timeout',
      // a refresh failing for a reason other than the network ends the session (CONTRIBUTING rule 8)
      'refresh malformed': 'session_expired',
      'refresh 429': 'rate_limited',
      'client 502 HTML': 'axios:502',
      'client drop': 'axios:ECONNRESET',
      'client hang': 'axios:ECONNABORTED',
      'client malformed': 'ok',
      'client 429': 'axios:429',
      'refused refresh': 'session_expired',
      'request after refused refresh': 'session_expired',
      'login 502 HTML': 'server',
      'login drop': 'network',
      'login hang': 'timeout',
      'login malformed': 'bad_response',
      'login 429': 'rate_limited',
      'request after logout': 'signed_out',
      'api wrong password': 'invalid_credentials',
      'api spent refresh token': 'session_expired',
      'api wrong code': 'invalid_code',
    });
  });

  it('an Auth0 mfa_required answer with its mfa_token leaks nothing', async () => {
    const auth = await startSimServer({
      routes: {
        'POST /oauth/token': () => ({
          status: 403,
          json: {
            error: 'mfa_required',
            error_description: 'Multifactor authentication required',
            mfa_token: MFA_TOKEN,
          },
        }),
      },
    });
    closers.push(() => auth.close());
    const api = createMrkterApi({ authBaseURL: auth.url, apiBaseURL: auth.url, logger: evidence.logger });
    const error = await evidence.keepError(api.login({ username: K_USER, password: K_PASSWORD }));
    expect(isAuthError(error)).toBe(true);
  });
});

describe('the scan', () => {
  it('finds no secret in console output, debug logs, errors or persisted snapshots', () => {
    // the scan can fail: it sees a secret planted where it looks
    const probe = new Evidence();
    probe.console.push(`oops ${M_PASSWORD}`);
    expect(scan(probe, secrets)).toEqual(['console[0]: marketiger password']);

    expect(secrets.labels()).toEqual(
      expect.arrayContaining(['access token', 'refresh token', 'session id', 'sms code', 'mfa token']),
    );
    expect(secrets.size).toBeGreaterThan(30);
    expect(evidence.snapshots.length).toBeGreaterThan(100);
    expect(evidence.errors.length).toBeGreaterThan(20);
    expect(errorViews(evidence.errors[0]).length).toBe(4);
    expect(scan(evidence, secrets)).toEqual([]);
  });
});
