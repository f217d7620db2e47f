/**
 * docs/reliability.md, Network (N1–N9): transport faults injected into the simulators, driven through the
 * real services, machines and authorized client over loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from 'xstate';
import { toAuthError } from '../../src/errors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { marketigerRoutes } from '../../src/testing/marketigerSimulator.js';
import { mrkterRoutes } from '../../src/testing/mrkterSimulator.js';
import { startSimServer } from '../../src/testing/simServer.js';
import {
  authErrorOf,
  defer,
  demo,
  expectIdle,
  expectNoSecret,
  exposure,
  marketiger,
  marketigerActor,
  mrkter,
  mrkterActor,
  projectsPath,
  rejectionOf,
  runCleanups,
  settle,
  signedInMarketiger,
  single,
  timed,
} from './helpers.js';

const { login: LOGIN, refreshToken: REFRESH, getProjects: PROJECTS } = marketigerRoutes;
const CANARY_PASSWORD = 'canary-password-N3x9';
/**
 * The safety net of the timing checks: far above the limits configured here (200–300 ms) even on two
 * busy cores, far below what it would take otherwise (the 15 s default limit, an 11 s trickle).
 */
const BOUND_MS = 5_000;

afterEach(async () => {
  vi.useRealTimers();
  await runCleanups();
});

/** A loopback server that never answers, and records when each connection closes (to see an abort). */
async function neverAnswers() {
  const closed: number[] = [];
  const server: Server = createServer(() => {});
  // Watched from the connection, not the request: on a busy machine the client may give up before the
  // server has parsed the request, and that connection must be seen closing too.
  server.on('connection', (socket) => socket.on('close', () => closed.push(performance.now())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, closed };
}

describe('Network', () => {
  it('N1: a server that never answers login, refresh or an API call times out at the configured limit, aborts the request and keeps the tokens', async () => {
    // arrange: a login against a server that never answers
    const silent = await neverAnswers();
    const subject = createMarketigerApi({ baseURL: `${silent.url}/v2`, timeoutMs: 200 });
    // act
    const started = performance.now();
    const login = await timed(() => subject.login(demo));
    // assert: timeout at about the limit, and the connection is closed (the request aborted)
    expect(toAuthError(login.error).kind).toBe('timeout');
    expect(login.ms).toBeGreaterThanOrEqual(190);
    expect(login.ms).toBeLessThan(BOUND_MS);
    await vi.waitFor(() => expect(silent.closed).toHaveLength(1), { timeout: BOUND_MS });
    expect(silent.closed[0]! - started).toBeLessThan(BOUND_MS);

    // arrange: a signed-in session whose refresh and API calls hang
    const { sim, actor, http } = await signedInMarketiger({
      api: { timeoutMs: 200 },
      client: { timeout: 200 },
    });
    const before = actor.getSnapshot().context;
    sim.injectFault(REFRESH, { kind: 'hang', times: 1 });
    sim.injectFault(PROJECTS, { kind: 'hang', times: 1 });

    // act: the refresh
    const refreshStarted = performance.now();
    actor.send({ type: 'auth.refresh' });
    const backingOff = await settle(actor, (s) => s.matches({ signedIn: 'backingOff' }));
    const refreshMs = performance.now() - refreshStarted;
    // assert: timeout, tokens and refresh token unchanged
    expect(backingOff.context.error?.kind).toBe('timeout');
    expect(refreshMs).toBeGreaterThanOrEqual(190);
    expect(refreshMs).toBeLessThan(BOUND_MS);
    expect(backingOff.context.accessToken).toBe(before.accessToken);
    expect(backingOff.context.refreshToken).toBe(before.refreshToken);

    // act: an API call through the authorized client (a token that still works is used while backing off)
    const call = await timed(() => http.get(projectsPath));
    // assert: the client's axios timeout, which normalises to `timeout`; the session is untouched
    expect(toAuthError(call.error).kind).toBe('timeout');
    expect(call.ms).toBeLessThan(BOUND_MS);
    expect(actor.getSnapshot().context.accessToken).toBe(before.accessToken);
    expect(actor.getSnapshot().context.refreshToken).toBe(before.refreshToken);
    expectNoSecret(exposure(call.error), [before.accessToken, before.refreshToken], 'the API timeout');
  });

  it('N2: a socket dropped mid-request is a retryable network error, and the tokens are kept', async () => {
    // arrange
    const { sim, api, actor, http } = await signedInMarketiger();
    const before = actor.getSnapshot().context;
    sim.injectFault(LOGIN, { kind: 'drop', times: 1 });
    sim.injectFault(REFRESH, { kind: 'drop', times: 1 });
    sim.injectFault(PROJECTS, { kind: 'drop', times: 1 });

    // act
    const login = await authErrorOf(api.login(demo));
    actor.send({ type: 'auth.refresh' });
    const backingOff = await settle(actor, (s) => s.matches({ signedIn: 'backingOff' }));
    const call = await rejectionOf(http.get(projectsPath));

    // assert
    expect(login.kind).toBe('network');
    expect(login.retryable).toBe(true);
    expect(backingOff.context.error?.kind).toBe('network');
    expect(backingOff.context.accessToken).toBe(before.accessToken);
    expect(backingOff.context.refreshToken).toBe(before.refreshToken);
    expect(toAuthError(call).kind).toBe('network');
    expect(toAuthError(call).retryable).toBe(true);
    expectNoSecret(exposure(call), [before.accessToken, before.refreshToken], 'the dropped API call');
  });

  it('N2: a dropped SMS request or code validation keeps the Mrkter tokens and waits for the person', async () => {
    // arrange
    const { sim, api } = await mrkter();
    sim.injectFault(mrkterRoutes.sms, { kind: 'drop', times: 1 });
    const subject = mrkterActor(api, { resendCooldownMs: 0 });

    // act: the SMS request drops (no code sent yet: back to choosing, tokens kept)
    subject.send({ type: 'auth.login', username: single.username, password: single.password });
    const afterSms = await settle(subject, (s) => s.matches('selectingIdentity') && s.context.error !== null);
    subject.send({ type: 'identity.select', accountId: single.identities[0]!.accountId });
    await settle(subject, (s) => s.matches('awaitingCode'));
    // the code validation drops
    sim.injectFault(mrkterRoutes.authenticate, { kind: 'drop', times: 1 });
    subject.send({ type: 'code.submit', code: sim.lastCode()! });
    const afterVerify = await settle(subject, (s) => s.matches('awaitingCode') && s.context.error !== null);

    // assert: no code is being sent, and no timer could send one
    expectIdle(subject);
    expect(afterSms.context.error?.kind).toBe('network');
    expect(afterSms.context.accessToken).not.toBeNull();
    expect(afterVerify.context.error?.kind).toBe('network');
    expect(afterVerify.context.accessToken).toBe(afterSms.context.accessToken);
    expect(afterVerify.context.refreshToken).toBe(afterSms.context.refreshToken);
    expect(sim.requestCount(mrkterRoutes.authenticate)).toBe(1);
    expect(sim.requestCount(mrkterRoutes.token)).toBe(1);
  });

  it('N3: a refused connection and an unknown host are network errors without a secret in them', async () => {
    // arrange: a port nobody listens on (a server started and closed again), and a name that cannot resolve
    const gone = await neverAnswers();
    await runCleanups();
    const refused = createMarketigerApi({ baseURL: `${gone.url}/v2`, timeoutMs: 2_000 });
    const unknown = createMarketigerApi({ baseURL: 'https://no-such-host.invalid/v2', timeoutMs: 2_000 });
    const credentials = { email: demo.email, password: CANARY_PASSWORD };

    // act
    const errors = [
      await authErrorOf(refused.login(credentials)),
      await authErrorOf(unknown.login(credentials)),
    ];

    // assert
    for (const error of errors) {
      expect(error.kind).toBe('network');
      expect(error.retryable).toBe(true);
      expectNoSecret(exposure(error), [CANARY_PASSWORD, demo.email, 'no-such-host'], error.kind);
    }
  });

  it('N4: HTML 500/502/503/504 pages on refresh are `server`, retried with a capped jittered backoff while the refresh token is valid, then surfaced', async () => {
    // arrange: the machine's timers on a simulated clock, the wall clock frozen (HTTP stays real)
    vi.useFakeTimers({ toFake: ['Date'] });
    const clock = new SimulatedClock();
    const { sim, actor, http } = await signedInMarketiger({ clock });
    const statuses = [500, 502, 503, 504, 503, 503, 503];
    for (const status of statuses) sim.injectFault(REFRESH, { kind: 'status', status, times: 1 });

    // act + assert: each failure backs off at most 1 s, 2 s, 4 s … capped at 30 s, jittered down to half
    actor.send({ type: 'auth.refresh' });
    for (const [i, status] of statuses.entries()) {
      const backingOff = await settle(
        actor,
        (s) => s.matches({ signedIn: 'backingOff' }) && s.context.refreshAttempts === i + 1,
      );
      expect(backingOff.context.error).toMatchObject({ kind: 'server', status });
      const delay = backingOff.context.refreshAt! - Date.now();
      const ceiling = Math.min(30_000, 1_000 * 2 ** i);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
      if (i === statuses.length - 1) break;
      // a SimulatedClock fires due timers within increment(): had the backoff ended, the machine would
      // be refreshing now (the retry's invoke started), whatever the request's progress
      clock.increment(delay - 1);
      expect(actor.getSnapshot().value, 'a retry before its backoff').toEqual({ signedIn: 'backingOff' });
      expect(sim.refreshCount, 'a retry went out before its backoff').toBe(i + 1);
      clock.increment(1);
    }

    // surfaced: once the access token is past its expiry, requests fail with the refresh's error, unsent
    const { accessTokenExpiresAt, refreshTokenExpiresAt } = actor.getSnapshot().context;
    vi.setSystemTime(accessTokenExpiresAt! + 1);
    const surfaced = await authErrorOf(http.get(projectsPath));
    expect(surfaced.kind).toBe('server');
    expect(sim.requestCount(PROJECTS)).toBe(0);

    // and once the refresh token itself is past its end, no more retries: the session is over
    vi.setSystemTime(refreshTokenExpiresAt! + 1);
    clock.increment(30_000);
    const expired = await settle(actor, (s) => s.matches('sessionExpired'));
    expect(expired.context.error?.kind).toBe('session_expired');
    expect(sim.refreshCount).toBe(statuses.length);
  });

  it('N5: a 429 with Retry-After in seconds or as a date is rate_limited with the wait, nothing is sent before it, and absurd values are clamped', async () => {
    // arrange
    vi.useFakeTimers({ toFake: ['Date'] });
    const clock = new SimulatedClock();
    const { sim, api, actor } = await signedInMarketiger({ clock });

    // act + assert: seconds, on refresh
    sim.injectFault(REFRESH, { kind: 'rateLimit', retryAfter: '7', times: 1 });
    actor.send({ type: 'auth.refresh' });
    const waiting = await settle(actor, (s) => s.matches({ signedIn: 'backingOff' }));
    expect(waiting.context.error).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 7_000 });
    const delay = waiting.context.refreshAt! - Date.now();
    expect(delay).toBeGreaterThanOrEqual(7_000);
    clock.increment(6_999); // fires any timer due by then, synchronously: none may start the retry
    expect(actor.getSnapshot().value, 'a retry before Retry-After').toEqual({ signedIn: 'backingOff' });
    expect(sim.refreshCount, 'the retry went out before Retry-After').toBe(1);
    clock.increment(delay - 6_999);
    await settle(actor, (s) => s.matches({ signedIn: 'active' }));
    expect(sim.refreshCount).toBe(2);

    // act + assert: an HTTP date, on login (which is never retried by itself)
    const at = new Date(Date.now() + 120_000).toUTCString();
    sim.injectFault(LOGIN, { kind: 'rateLimit', retryAfter: at, times: 1 });
    const login = await authErrorOf(api.login(demo));
    expect(login.kind).toBe('rate_limited');
    expect(login.retryAfterMs).toBeGreaterThan(118_000);
    expect(login.retryAfterMs).toBeLessThanOrEqual(120_000);

    // absurd values: clamped to one hour
    for (const retryAfter of ['999999999', 'Fri, 01 Jan 2100 00:00:00 GMT']) {
      sim.injectFault(LOGIN, { kind: 'rateLimit', retryAfter, times: 1 });
      const absurd = await authErrorOf(api.login(demo));
      expect(absurd.retryAfterMs, retryAfter).toBe(60 * 60 * 1000);
    }
  });

  it('N5: a 429 on sign-in ends in signedOut with the wait, and the login is not sent again', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const subject = marketigerActor(api);
    sim.injectFault(LOGIN, { kind: 'rateLimit', retryAfter: '30' });

    // act
    subject.send({ type: 'auth.login', ...demo });
    const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);

    // assert: nothing in flight or scheduled could send the login again
    expectIdle(subject);
    expect(out.context.error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 30_000 });
    expect(sim.requestCount(LOGIN)).toBe(1);
  });

  it('N6: Auth0 too_many_attempts on login is too_many_attempts, not retryable, and the login is never retried by itself', async () => {
    // arrange: Auth0 locks after one failure
    const { sim, api } = await mrkter({ maxFailedLogins: 1 });
    await authErrorOf(api.login({ username: single.username, password: 'wrong' }));
    const direct = await authErrorOf(api.login({ username: single.username, password: single.password }));
    const subject = mrkterActor(api);

    // act: even the right password is refused now
    subject.send({ type: 'auth.login', username: single.username, password: single.password });
    const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);

    // assert: nothing in flight or scheduled could send the login again
    expectIdle(subject);
    expect(out.context.error?.kind).toBe('too_many_attempts');
    expect(direct.kind).toBe('too_many_attempts');
    expect(direct.retryable).toBe(false);
    expect(sim.requestCount(mrkterRoutes.token)).toBe(3);
    expect(out.context.accessToken).toBeNull();
  });

  it('N7: headers that arrive with a body that trickles in time out, and nothing half-parsed is kept', async () => {
    // arrange: a body that would take about 11 s, a 300 ms limit
    const body = JSON.stringify({
      success: true,
      data: { accessToken: 'a'.repeat(40), refreshToken: 'b'.repeat(40) },
    });
    const { sim, actor } = await signedInMarketiger({ api: { timeoutMs: 300 } });
    const before = actor.getSnapshot().context;
    sim.injectFault(REFRESH, { kind: 'trickle', intervalMs: 100, body, times: 1 });
    const { sim: other, api } = await marketiger({}, { timeoutMs: 300 });
    other.injectFault(LOGIN, { kind: 'trickle', intervalMs: 100, body, times: 1 });
    const subject = marketigerActor(api);

    // act
    const started = performance.now();
    subject.send({ type: 'auth.login', ...demo });
    const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);
    const loginMs = performance.now() - started;
    actor.send({ type: 'auth.refresh' });
    const backingOff = await settle(actor, (s) => s.matches({ signedIn: 'backingOff' }));

    // assert
    expect(out.context.error?.kind).toBe('timeout');
    expect(loginMs).toBeLessThan(BOUND_MS);
    expect(out.context.accessToken).toBeNull();
    expect(out.context.refreshToken).toBeNull();
    expect(backingOff.context.error?.kind).toBe('timeout');
    expect(backingOff.context.accessToken).toBe(before.accessToken);
    expect(backingOff.context.refreshToken).toBe(before.refreshToken);
  });

  it('N7: an API response through the authorized client whose body trickles in times out at the client timeout', async () => {
    // arrange: the body would take about 17 s; the client allows 300 ms for the whole exchange
    const { sim, actor, http } = await signedInMarketiger({ client: { timeout: 300 } });
    const before = actor.getSnapshot().context;
    const body = JSON.stringify({ success: true, data: 'x'.repeat(150) });
    sim.injectFault(PROJECTS, { kind: 'trickle', intervalMs: 100, body, times: 1 });

    // act
    const call = await timed(() => http.get(projectsPath));
    const next = await http.get(projectsPath);

    // assert
    expect(call.value).toBeUndefined();
    expect(toAuthError(call.error).kind).toBe('timeout');
    expect(call.ms).toBeLessThan(BOUND_MS);
    expectNoSecret(exposure(call.error), [before.accessToken, before.refreshToken], 'the trickle timeout');
    expect(next.status).toBe(200);
    expect(actor.getSnapshot().context.accessToken).toBe(before.accessToken);
  });

  it('N8: requests made during a slow refresh wait for that one refresh, then go with the new token', async () => {
    // arrange
    const { sim, actor, http } = await signedInMarketiger();
    const old = actor.getSnapshot().context.accessToken;
    sim.injectFault(REFRESH, { kind: 'latency', ms: 300, times: 1 });
    actor.send({ type: 'auth.refresh' });

    // act
    const responses = await Promise.all(Array.from({ length: 10 }, () => http.get(projectsPath)));

    // assert
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(sim.refreshCount).toBe(1);
    const current = actor.getSnapshot().context.accessToken;
    expect(current).not.toBe(old);
    const sent = sim.log
      .filter((entry) => entry.route === PROJECTS)
      .map((entry) => entry.headers.authorization);
    expect(sent).toEqual(Array.from({ length: 10 }, () => `Bearer ${current}`));
  });

  it('N9: a redirect to another origin is not followed, by the services nor by the authorized client, and no credentials reach it', async () => {
    // arrange
    const other = await startSimServer({
      routes: {
        [LOGIN]: () => ({ status: 200, json: {} }),
        [PROJECTS]: () => ({ status: 200, json: { success: true, data: [] } }),
      },
    });
    defer(() => other.close());
    const { sim, api, actor, http } = await signedInMarketiger();
    const token = actor.getSnapshot().context.accessToken;
    sim.injectFault(LOGIN, {
      kind: 'status',
      status: 307,
      body: '',
      headers: { Location: `${other.url}/v2/Auth/Login` },
      times: 1,
    });
    sim.injectFault(PROJECTS, {
      kind: 'status',
      status: 302,
      body: '',
      headers: { Location: `${other.url}/v2/Project/GetProjects` },
      times: 1,
    });

    // act
    const login = await authErrorOf(api.login(demo));
    // both settle only after a redirect would have been followed (and answered by the other server)
    const call = await rejectionOf(http.get(projectsPath));

    // assert
    expect(login).toMatchObject({ kind: 'bad_response', status: 307 });
    expect((call as { response?: { status?: number } }).response?.status).toBe(302);
    expect(other.log).toHaveLength(0);
    expectNoSecret(exposure(call), [token], 'the redirect error');
    expect(actor.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
  });
});
