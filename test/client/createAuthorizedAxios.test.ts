import { inspect } from 'node:util';
import { AxiosError } from 'axios';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Actor, createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { isAuthError } from '../../src/errors.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import {
  MARKETIGER_DEMO_USER,
  marketigerRoutes,
  startMarketigerSimulator,
} from '../../src/testing/marketigerSimulator.js';
import {
  defaultMrkterUsers,
  type MrkterSimulator,
  mrkterRoutes,
  startMrkterSimulator,
} from '../../src/testing/mrkterSimulator.js';
import { type SimServer, startSimServer } from '../../src/testing/simServer.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isAuthError(error) ? error.kind : `not an AuthError: ${String(error)}`;
  }
}

async function signedInMarketiger(options: Parameters<typeof startMarketigerSimulator>[0] = {}) {
  const sim = await startMarketigerSimulator(options);
  cleanups.push(() => sim.close());
  const api = createMarketigerApi({ baseURL: sim.baseURL });
  const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
    input: {},
    clock: createUnrefClock(),
  }).start();
  cleanups.push(() => actor.stop());
  actor.send({
    type: 'auth.login',
    email: MARKETIGER_DEMO_USER.email,
    password: MARKETIGER_DEMO_USER.password,
  });
  await waitFor(actor, (s) => s.matches({ signedIn: 'active' }), { timeout: 10_000 });
  return { sim, actor, subject: createAuthorizedAxios(actor, { baseURL: sim.baseURL }) };
}

const getProjects = marketigerRoutes.getProjects.replace(/^GET \/v2/, '');

describe('createAuthorizedAxios with the Marketiger machine', () => {
  it('sends the bearer token of the signed-in session', async () => {
    // arrange
    const { sim, actor, subject } = await signedInMarketiger();

    // act
    const response = await subject.get(getProjects);

    // assert
    expect(response.status).toBe(200);
    const sent = sim.log.filter((entry) => entry.route === marketigerRoutes.getProjects);
    expect(sent.at(-1)?.headers.authorization).toBe(`Bearer ${actor.getSnapshot().context.accessToken}`);
  });

  it('turns 200 concurrent 401s into exactly one refresh, and every request succeeds', async () => {
    // arrange
    const { sim, actor, subject } = await signedInMarketiger();
    const before = actor.getSnapshot().context.accessToken;
    sim.expireAccessTokens();

    // act
    const started = performance.now();
    const responses = await Promise.all(Array.from({ length: 200 }, () => subject.get(getProjects)));
    const elapsedMs = performance.now() - started;

    // assert
    expect(sim.refreshCount).toBe(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(200);
    expect(actor.getSnapshot().context.accessToken).not.toBe(before);
    console.info(`storm: 200 requests, ${sim.refreshCount} refresh, ${elapsedMs.toFixed(0)} ms`);
  });

  it('queues requests behind a slow refresh and sends them with the new token', async () => {
    // arrange
    const { sim, actor, subject } = await signedInMarketiger();
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 300, times: 1 });
    actor.send({ type: 'auth.refresh' });
    expect(actor.getSnapshot().matches({ signedIn: 'refreshing' })).toBe(true);

    // act
    const responses = await Promise.all(Array.from({ length: 10 }, () => subject.get(getProjects)));

    // assert
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(sim.refreshCount).toBe(1);
    const tokens = new Set(
      sim.log.filter((e) => e.route === marketigerRoutes.getProjects).map((e) => e.headers.authorization),
    );
    expect(tokens).toEqual(new Set([`Bearer ${actor.getSnapshot().context.accessToken}`]));
  });

  it('retries once after a refresh and then gives up when the server still says 401 (no loop)', async () => {
    // arrange
    const { sim, subject } = await signedInMarketiger();
    sim.injectFault(marketigerRoutes.getProjects, {
      kind: 'status',
      status: 401,
      body: '{"success":false,"error":{"type":"AUTHENTICATION","message":"Authentication failed"}}',
      contentType: 'application/json',
    });

    // act
    const kind = await kindOf(subject.get(getProjects));

    // assert
    expect(kind).toBe('session_expired');
    expect(sim.refreshCount).toBe(1);
    expect(sim.requestCount(marketigerRoutes.getProjects)).toBe(2);
  });

  it('reports a 403 as no_permission without refreshing', async () => {
    // arrange
    const { sim, subject } = await signedInMarketiger({ projectAccessStyle: 'forbidden' });

    // act
    const kind = await kindOf(
      subject.get('/Project/HasAccesToProject', { params: { projectId: 'not-mine' } }),
    );

    // assert
    expect(kind).toBe('no_permission');
    expect(sim.refreshCount).toBe(0);
  });

  it('ends in session_expired when the refresh is refused, and the session is gone', async () => {
    // arrange
    const { sim, actor, subject } = await signedInMarketiger();
    sim.revokeRefreshTokens();
    sim.expireAccessTokens();

    // act
    const kind = await kindOf(subject.get(getProjects));

    // assert
    expect(kind).toBe('session_expired');
    expect(actor.getSnapshot().matches('sessionExpired')).toBe(true);
    expect(await kindOf(subject.get(getProjects))).toBe('session_expired');
  });

  it('refuses to send without a session: signed_out, and nothing reaches the server', async () => {
    // arrange
    const sim = await startMarketigerSimulator();
    cleanups.push(() => sim.close());
    const actor = createActor(marketigerMachine).start();
    cleanups.push(() => actor.stop());
    const subject = createAuthorizedAxios(actor, { baseURL: sim.baseURL });

    // act
    const kind = await kindOf(subject.get(getProjects));

    // assert
    expect(kind).toBe('signed_out');
    expect(sim.requestCount(marketigerRoutes.getProjects)).toBe(0);
  });

  it('rejects queued requests with signed_out when the user logs out during a refresh', async () => {
    // arrange
    const { sim, actor, subject } = await signedInMarketiger();
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 500, times: 1 });
    actor.send({ type: 'auth.refresh' });
    const pending = Promise.all([kindOf(subject.get(getProjects)), kindOf(subject.get(getProjects))]);

    // act
    actor.send({ type: 'auth.logout' });

    // assert
    expect(await pending).toEqual(['signed_out', 'signed_out']);
    expect(actor.getSnapshot().matches('signedOut')).toBe(true);
  });

  it('sends no credentials to another origin, absolute or protocol-relative', async () => {
    // arrange
    const { actor, subject } = await signedInMarketiger();
    const other: SimServer = await startSimServer({
      routes: { 'GET /x': () => ({ status: 200, json: {} }) },
    });
    cleanups.push(() => other.close());
    const token = actor.getSnapshot().context.accessToken!;

    // act
    await subject.get(`${other.url}/x`);
    await subject.get(`//127.0.0.1:${other.port}/x`).catch(() => undefined);

    // assert
    for (const entry of other.log) {
      expect(entry.headers.authorization).toBeUndefined();
      expect(JSON.stringify(entry.headers)).not.toContain(token);
    }
    expect(other.log.length).toBeGreaterThan(0);
  });

  it('refreshes first when the clock jumps past the token expiry (a laptop waking up)', async () => {
    // arrange: signed in, then the wall clock jumps 2 h forward (only Date is faked: sockets and
    // timers stay real, so no refresh timer fires and no 401 has been seen yet)
    const { sim, actor, subject } = await signedInMarketiger();
    const before = actor.getSnapshot().context.accessToken;
    vi.useFakeTimers({ toFake: ['Date'] });
    cleanups.push(() => vi.useRealTimers());
    vi.setSystemTime(Date.now() + 2 * 60 * 60 * 1000);

    // act
    const response = await subject.get(getProjects);

    // assert: one refresh before sending, and the request went once, with the new token
    expect(response.status).toBe(200);
    expect(sim.refreshCount).toBe(1);
    expect(sim.requestCount(marketigerRoutes.getProjects)).toBe(1);
    expect(actor.getSnapshot().context.accessToken).not.toBe(before);
  });

  it('keeps the token out of errors it passes on', async () => {
    // arrange
    const { actor, subject } = await signedInMarketiger();
    const token = actor.getSnapshot().context.accessToken!;

    // act
    const error = await subject.get('/No/SuchRoute').catch((e: unknown) => e);

    // assert
    expect(error).toBeInstanceOf(AxiosError);
    expect((error as AxiosError).response?.status).toBe(404);
    expect(JSON.stringify(error)).not.toContain(token);
    expect(inspect(error, { depth: 6 })).not.toContain(token);
  });

  it("sends the credentials through an async request interceptor of the caller's own too", async () => {
    // arrange: an interceptor that awaits makes axios's whole chain async
    const { sim, actor, subject } = await signedInMarketiger();
    subject.interceptors.request.use(async (request) => {
      await Promise.resolve();
      request.headers.set('x-trace', 'caller');
      return request;
    });

    // act
    const response = await subject.get(getProjects);

    // assert
    expect(response.status).toBe(200);
    const sent = sim.log.filter((entry) => entry.route === marketigerRoutes.getProjects).at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${actor.getSnapshot().context.accessToken}`);
    expect(sent?.headers['x-trace']).toBe('caller');
  });

  it("aborts a request in flight when the caller's own signal aborts, and the next one goes as usual", async () => {
    // arrange
    const { sim, subject } = await signedInMarketiger();
    sim.injectFault(marketigerRoutes.getProjects, { kind: 'hang', times: 1 });
    const controller = new AbortController();
    const pending = subject.get(getProjects, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(sim.requestCount(marketigerRoutes.getProjects)).toBe(1), {
      timeout: 10_000,
    });

    // act
    controller.abort();
    const error = await pending;
    const next = await subject.get(getProjects);

    // assert
    expect(error).toBeInstanceOf(AxiosError);
    expect((error as AxiosError).code).toBe(AxiosError.ERR_CANCELED);
    expect(next.status).toBe(200);
  });

  it('treats a config the caller sends again after an error as a new request, which may be retried after a 401', async () => {
    // arrange: a 500 the caller sees, then a 401 for the request it sends again
    const { sim, subject } = await signedInMarketiger();
    sim.injectFault(marketigerRoutes.getProjects, { kind: 'status', status: 500, times: 1 });
    sim.injectFault(marketigerRoutes.getProjects, {
      kind: 'status',
      status: 401,
      body: '{"success":false,"error":{"type":"AUTHENTICATION","message":"Authentication failed"}}',
      contentType: 'application/json',
      times: 1,
    });
    const failed = await subject.get(getProjects).catch((e: unknown) => e);
    expect((failed as AxiosError).response?.status).toBe(500);

    // act
    const again = await subject.request((failed as AxiosError).config ?? {});

    // assert: the 401 was answered by one refresh and one retry, as for any request
    expect(again.status).toBe(200);
    expect(sim.requestCount(marketigerRoutes.getProjects)).toBe(3);
    expect(sim.refreshCount).toBe(1);
  });

  it('refuses an insecure base URL', () => {
    const actor = createActor(marketigerMachine);
    expect(() => createAuthorizedAxios(actor, { baseURL: 'http://api.example.com' })).toThrowError(
      expect.objectContaining({ kind: 'insecure_url' }),
    );
  });
});

describe('createAuthorizedAxios with the Mrkter machine', () => {
  let sim: MrkterSimulator;

  async function signedInMrkter() {
    sim = await startMrkterSimulator();
    cleanups.push(() => sim.close());
    const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl });
    const actor: Actor<typeof mrkterMachine> = createActor(
      mrkterMachine.provide({ actors: mrkterActors(api) }),
      {
        input: {},
        clock: createUnrefClock(),
      },
    ).start();
    cleanups.push(() => actor.stop());
    const single = defaultMrkterUsers.find((u) => u.identities.length === 1)!;
    actor.send({ type: 'auth.login', username: single.username, password: single.password });
    await waitFor(actor, (s) => s.matches('awaitingCode'), { timeout: 10_000 });
    actor.send({ type: 'code.submit', code: sim.lastCode()! });
    await waitFor(actor, (s) => s.matches({ signedIn: 'active' }), { timeout: 10_000 });
    return { actor, subject: createAuthorizedAxios(actor, { baseURL: sim.apiUrl }) };
  }

  const currentAccount = mrkterRoutes.currentAccount.replace(/^GET /, '');

  it('sends Authorization, x-account-id and x-session-id once signed in', async () => {
    // arrange
    const { actor, subject } = await signedInMrkter();
    const { accessToken, accountId, sessionId } = actor.getSnapshot().context;

    // act
    const response = await subject.get(currentAccount);

    // assert
    expect(response.status).toBe(200);
    const sent = sim.log.filter((e) => e.route === mrkterRoutes.currentAccount).at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(sent.headers['x-account-id']).toBe(String(accountId));
    expect(sent.headers['x-session-id']).toBe(sessionId);
  });

  it('turns 50 concurrent 401s into one refresh_token grant', async () => {
    // arrange
    const { subject } = await signedInMrkter();
    sim.expireAccessTokens();
    const refreshes = () =>
      sim.tokenRequests.filter((r) => r.params['grant_type'] === 'refresh_token').length;

    // act
    const responses = await Promise.all(Array.from({ length: 50 }, () => subject.get(currentAccount)));

    // assert
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(refreshes()).toBe(1);
  });
});
