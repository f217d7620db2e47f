/**
 * Two actors in one process share one session through the in-memory coordinator: real HTTP over
 * loopback against the simulators, many concurrent 401s through two authorized clients.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { coordinateSession } from '../../src/coordination/coordinateSession.js';
import { createMemoryCoordinator } from '../../src/coordination/memory.js';
import type { SessionCoordinator } from '../../src/coordination/types.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MrkterSimulator,
  marketigerRoutes,
  mrkterRoutes,
  startMarketigerSimulator,
  startMrkterSimulator,
} from '../../src/testing/index.js';

const SESSION_KEY = 'demo-user';
const REQUESTS_PER_CLIENT = 25;

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function marketigerHolders(
  sim: MarketigerSimulator,
  options: { coordinator?: SessionCoordinator; link?: boolean } = {},
) {
  const api = createMarketigerApi({ baseURL: sim.baseURL });
  const { coordinator } = options;
  const machine = marketigerMachine.provide({
    actors: coordinator
      ? marketigerActors(api, { coordinator, sessionKey: SESSION_KEY })
      : marketigerActors(api),
  });
  const holders = [0, 1].map(() => {
    const actor = createActor(machine, { clock: createUnrefClock() }).start();
    cleanup.push(() => actor.stop());
    let ready = Promise.resolve();
    if (coordinator && options.link !== false) {
      const link = coordinateSession(actor, coordinator, { sessionKey: SESSION_KEY });
      cleanup.push(() => link.stop());
      ready = link.ready;
    }
    return { actor, ready, http: createAuthorizedAxios(actor, { baseURL: sim.baseURL }) };
  });
  return holders as [(typeof holders)[0], (typeof holders)[0]];
}

function signInMarketiger(actor: AnyActorRef) {
  actor.send({
    type: 'auth.login',
    email: MARKETIGER_DEMO_USER.email,
    password: MARKETIGER_DEMO_USER.password,
  });
  return waitFor(actor, (s) => s.matches('signedIn'), { timeout: 20_000 });
}

/** Many GETs through each client at once; what each ended with. */
async function burst(clients: { get(path: string): Promise<{ status: number }> }[], path: string) {
  const calls = clients.flatMap((http) =>
    Array.from({ length: REQUESTS_PER_CLIENT }, () =>
      http.get(path).then(
        (response) => response.status,
        (error: { kind?: string }) => error.kind ?? 'error',
      ),
    ),
  );
  return Promise.all(calls);
}

describe('Marketiger: two actors, one process, one session (in-memory coordinator)', () => {
  it("the second holder starts signed in from the first one's sign-in, without a request", async () => {
    // Arrange
    const sim = await startMarketigerSimulator();
    cleanup.push(() => sim.close());
    const [a, b] = await marketigerHolders(sim, { coordinator: createMemoryCoordinator() });

    // Act
    await signInMarketiger(a.actor);
    await waitFor(b.actor, (s) => s.matches('signedIn'), { timeout: 20_000 });

    // Assert
    expect(sim.requestCount(marketigerRoutes.login)).toBe(1);
    expect(b.actor.getSnapshot().context.accessToken).toBe(a.actor.getSnapshot().context.accessToken);
    expect(b.actor.getSnapshot().context.refreshToken).toBe(a.actor.getSnapshot().context.refreshToken);
  });

  it('many concurrent 401s across both clients cause exactly one refresh; both stay signed in with the same new tokens', async () => {
    // Arrange
    const sim = await startMarketigerSimulator();
    cleanup.push(() => sim.close());
    const [a, b] = await marketigerHolders(sim, { coordinator: createMemoryCoordinator() });
    await signInMarketiger(a.actor);
    await waitFor(b.actor, (s) => s.matches('signedIn'), { timeout: 20_000 });
    const before = a.actor.getSnapshot().context.accessToken;
    // The refresh takes a while, so the second holder's 401s arrive while the first one refreshes.
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 300, times: 1 });
    sim.expireAccessTokens();

    // Act
    const statuses = await burst([a.http, b.http], '/Project/GetProjects');

    // Assert
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(sim.refreshCount).toBe(1);
    for (const { actor } of [a, b]) expect(actor.getSnapshot().matches('signedIn')).toBe(true);
    const after = a.actor.getSnapshot().context;
    expect(after.accessToken).not.toBe(before);
    expect(b.actor.getSnapshot().context.accessToken).toBe(after.accessToken);
    expect(b.actor.getSnapshot().context.refreshToken).toBe(after.refreshToken);
  });

  it('without a coordinator the same burst refreshes twice, and the rotated token ends one session (the failure this prevents)', async () => {
    // Arrange: two holders that signed in with one session's tokens but know nothing of each other.
    const sim = await startMarketigerSimulator();
    cleanup.push(() => sim.close());
    const shared = createMemoryCoordinator();
    const [a, b] = await marketigerHolders(sim, { coordinator: shared });
    await signInMarketiger(a.actor);
    await waitFor(b.actor, (s) => s.matches('signedIn'), { timeout: 20_000 });
    const [c, d] = await marketigerHolders(sim);
    const stored = await shared.read(SESSION_KEY);
    if (stored?.status !== 'signedIn') throw new Error('no stored session');
    for (const { actor } of [c, d]) actor.send({ type: 'session.updated', session: stored });
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 300, times: 1 });
    sim.expireAccessTokens();

    // Act
    const statuses = await burst([c.http, d.http], '/Project/GetProjects');

    // Assert
    expect(sim.refreshCount).toBe(2);
    expect(statuses.some((status) => status !== 200)).toBe(true);
    expect([c, d].filter(({ actor }) => actor.getSnapshot().matches('sessionExpired'))).toHaveLength(1);
  });

  it('with the actors alone (no coordinateSession), the holder that waited for the lock adopts the stored tokens', async () => {
    // Arrange: two separate sign-ins; only the refresh is coordinated.
    const sim = await startMarketigerSimulator();
    cleanup.push(() => sim.close());
    const [a, b] = await marketigerHolders(sim, { coordinator: createMemoryCoordinator(), link: false });
    await signInMarketiger(a.actor);
    await signInMarketiger(b.actor);
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 300, times: 1 });
    sim.expireAccessTokens();

    // Act
    const statuses = await burst([a.http, b.http], '/Project/GetProjects');

    // Assert
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(sim.refreshCount).toBe(1);
    expect(b.actor.getSnapshot().context.accessToken).toBe(a.actor.getSnapshot().context.accessToken);
  });

  it('signing out in one holder signs out the other, and a later holder does not start from the sign-out', async () => {
    // Arrange
    const sim = await startMarketigerSimulator();
    cleanup.push(() => sim.close());
    const coordinator = createMemoryCoordinator();
    const [a, b] = await marketigerHolders(sim, { coordinator });
    await signInMarketiger(a.actor);
    await waitFor(b.actor, (s) => s.matches('signedIn'), { timeout: 20_000 });

    // Act
    b.actor.send({ type: 'auth.logout' });

    // Assert
    expect(b.actor.getSnapshot().matches('signedOut')).toBe(true);
    await waitFor(a.actor, (s) => s.matches('signedOut'), { timeout: 20_000 });
    expect(a.actor.getSnapshot().context.error?.kind).toBe('signed_out');
    expect((await coordinator.read(SESSION_KEY))?.status).toBe('signedOut');
    const [late] = await marketigerHolders(sim, { coordinator });
    await late.ready; // the stored session was read and, had it been a sign-in, handed over
    expect(late.actor.getSnapshot().matches('signedOut')).toBe(true);
  });
});

describe('Mrkter: two actors, one process, one session (in-memory coordinator)', () => {
  async function mrkterHolders(sim: MrkterSimulator, coordinator: SessionCoordinator) {
    const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl });
    const machine = mrkterMachine.provide({
      actors: mrkterActors(api, { coordinator, sessionKey: SESSION_KEY }),
    });
    const holder = () => {
      const actor = createActor(machine, { clock: createUnrefClock() }).start();
      const link = coordinateSession(actor, coordinator, { sessionKey: SESSION_KEY });
      cleanup.push(
        () => link.stop(),
        () => actor.stop(),
      );
      return { actor, http: createAuthorizedAxios(actor, { baseURL: sim.apiUrl }) };
    };
    return [holder(), holder()] as const;
  }

  it('many concurrent 401s across both clients cause exactly one refresh grant; both keep the account and session ids', async () => {
    // Arrange
    const sim = await startMrkterSimulator();
    cleanup.push(() => sim.close());
    const [a, b] = await mrkterHolders(sim, createMemoryCoordinator());
    a.actor.send({ type: 'auth.login', username: 'single@mrkter.test', password: 'single-password' });
    await waitFor(a.actor, (s) => s.matches('awaitingCode'), { timeout: 20_000 });
    a.actor.send({ type: 'code.submit', code: sim.lastCode() ?? '' });
    await waitFor(a.actor, (s) => s.matches('signedIn'), { timeout: 20_000 });
    await waitFor(b.actor, (s) => s.matches('signedIn'), { timeout: 20_000 });
    const grants = () => sim.tokenRequests.filter((r) => r.params['grant_type'] === 'refresh_token').length;
    sim.injectFault(mrkterRoutes.token, { kind: 'latency', ms: 300, times: 1 });
    sim.expireAccessTokens();

    // Act
    const statuses = await burst([a.http, b.http], '/accounts/current');

    // Assert
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(grants()).toBe(1);
    const [ca, cb] = [a.actor.getSnapshot().context, b.actor.getSnapshot().context];
    expect(cb.accessToken).toBe(ca.accessToken);
    expect(cb.refreshToken).toBe(ca.refreshToken);
    expect([cb.accountId, cb.sessionId]).toEqual([ca.accountId, ca.sessionId]);
  });
});
