/**
 * The shared session when its store has a bad moment: a real redis-server started here (restarted with
 * and without its data, emptied, made to refuse writes, its connections killed) and holders in child
 * processes, with the Marketiger simulator counting refreshes and redeemed refresh tokens sent again.
 *
 * Every test ends by checking each holder's own account: nothing on stderr (ioredis prints
 * "[ioredis] Unhandled error event" there when a connection has no error listener), no unhandled
 * rejection, and `sessionExpired` never entered.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredSession } from '../../src/coordination/types.js';
import { createRedisCoordinator } from '../../src/redis/index.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  marketigerRoutes,
  startMarketigerSimulator,
} from '../../src/testing/index.js';
import { type HolderProcess, processState, startHolder } from './fixtures/processes.js';
import { type RedisServer, startRedisServer } from './fixtures/redisServer.js';

let redis: RedisServer;
let sim: MarketigerSimulator | undefined;
const holders: HolderProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  await Promise.all(holders.splice(0).map((h) => h.stop()));
  await sim?.close();
  sim = undefined;
});

afterAll(async () => {
  await redis?.stop();
});

const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 12);

/** The session stored under `key`, read straight from Redis. */
async function stored(key: string): Promise<StoredSession | null> {
  const value = await redis.command('GET', `authcharts:{${key}}:session`);
  return typeof value === 'string' ? (JSON.parse(value) as StoredSession) : null;
}

async function start(count: number, env: Record<string, string>): Promise<HolderProcess[]> {
  const started = Array.from({ length: count }, () => startHolder(env));
  holders.push(...started);
  await Promise.all(started.map((h) => h.next('ready')));
  return started;
}

async function state(holder: HolderProcess) {
  return holder.ask({ cmd: 'state' });
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every holder is signed in with the same access token, and returns its fingerprint. */
async function sameSession(group: HolderProcess[]): Promise<string> {
  let token: string | null | undefined;
  await until(async () => {
    const states = await Promise.all(group.map(state));
    token = states[0]?.token;
    return Boolean(token) && states.every((s) => s.state?.includes('signedIn') && s.token === token);
  }, 'every holder on one session');
  return token!;
}

/** Nothing on stderr, no unhandled rejection, never `sessionExpired`. */
async function expectClean(group: HolderProcess[]) {
  for (const holder of group) {
    const status = await state(holder);
    expect(holder.stderr()).toBe('');
    expect(status.unhandled).toBe(0);
    expect(status.expired).toBe(0);
  }
}

describe('Redis forgets everything', () => {
  it('restarted without its data: the holders store the session again (a new epoch), a new process starts signed in, and a sign-out reaches every process', async () => {
    // Arrange
    sim = await startMarketigerSimulator();
    const key = 'restart-empty';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b, c] = (await start(3, env)) as [HolderProcess, HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    const token = await sameSession([a, b, c]);
    const before = await stored(key);

    // Act
    await redis.restart({ keepData: false });

    // Assert: the holders noticed (their connections came back) and stored the session again.
    await until(async () => (await stored(key))?.status === 'signedIn', 'the session stored again');
    const after = await stored(key);
    expect(after?.epoch).toBeDefined();
    expect(after?.epoch).not.toBe(before?.epoch);
    expect(after?.status === 'signedIn' && fingerprint(after.accessToken)).toBe(token);
    for (const holder of [a, b, c]) {
      const { events } = await state(holder);
      expect(events?.['connection_lost']).toBeGreaterThanOrEqual(1);
      expect(events?.['reconnected']).toBeGreaterThanOrEqual(1);
    }
    // A process started now starts signed in, without a login.
    const [d] = (await start(1, env)) as [HolderProcess];
    expect((await state(d)).token).toBe(token);
    // A sign-out in one process ends the session everywhere.
    await b.ask({ cmd: 'logout' });
    await until(
      async () => (await Promise.all([a, c, d].map(state))).every((s) => s.state === '"signedOut"'),
      'every holder signed out',
    );
    expect(sim.requestCount(marketigerRoutes.login)).toBe(1);
    await expectClean([a, b, c, d]);
  });

  it('emptied by FLUSHALL (no reconnection): a new process asks the holders and starts signed in, and a sign-out still reaches every process', async () => {
    // Arrange
    sim = await startMarketigerSimulator();
    const key = 'flushall';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    const token = await sameSession([a, b]);

    // Act
    await redis.flushAll();
    const [c] = (await start(1, env)) as [HolderProcess];

    // Assert
    expect((await state(c)).token).toBe(token);
    await a.ask({ cmd: 'logout' });
    await until(
      async () => (await Promise.all([b, c].map(state))).every((s) => s.state === '"signedOut"'),
      'every holder signed out',
    );
    expect(sim.requestCount(marketigerRoutes.login)).toBe(1);
    await expectClean([a, b, c]);
  });
});

describe('an older session stored again after a loss', () => {
  it('a holder that missed the last refresh stores its older session into the emptied store: nobody spends or adopts its redeemed tokens, and the newer session wins', async () => {
    // Arrange: S1, then a refresh to S2 that every holder takes.
    sim = await startMarketigerSimulator();
    const key = 'older-session-again';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    const first = await sameSession([a, b]);
    const s1 = await stored(key);
    sim.expireAccessTokens();
    await a.ask({ cmd: 'burst', n: 1, path: '/Project/GetProjects' });
    const second = await sameSession([a, b]);
    expect(second).not.toBe(first);

    // Act: the store loses its data, and a holder that missed S2 (played by this test) stores S1 again,
    // quietly; then every access token is refused.
    await redis.flushAll();
    const stale = createRedisCoordinator({ redis: redis.url });
    if (s1?.status !== 'signedIn') throw new Error('S1 was not stored');
    await stale.write(key, s1, { ifVersion: 0 });
    await stale.close();
    sim.expireAccessTokens();
    const [ra, rb] = await Promise.all([
      a.ask({ cmd: 'burst', n: 3, path: '/Project/GetProjects' }),
      b.ask({ cmd: 'burst', n: 3, path: '/Project/GetProjects' }),
    ]);

    // Assert: one refresh, with S2's refresh token; S1's tokens neither spent nor used.
    expect([...(ra.statuses ?? []), ...(rb.statuses ?? [])]).toEqual([200, 200, 200, 200, 200, 200]);
    const third = await sameSession([a, b]);
    expect([first, second]).not.toContain(third);
    expect(sim.refreshCount).toBe(2);
    expect(sim.refreshTokenReuseCount).toBe(0);
    await until(async () => {
      const now = await stored(key);
      return now?.status === 'signedIn' && fingerprint(now.accessToken) === third;
    }, 'the newest session stored');
    await expectClean([a, b]);
  });
});

describe('Redis restarts with its data', () => {
  it('keeps the session and its versions; the next refresh is one refresh for all, and a sign-out still spreads', async () => {
    // Arrange
    sim = await startMarketigerSimulator();
    const key = 'restart-kept';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    await sameSession([a, b]);
    const before = await stored(key);

    // Act
    await redis.restart({ keepData: true });
    await until(async () => ((await state(a)).events?.['reconnected'] ?? 0) >= 1, 'a reconnected');
    sim.expireAccessTokens();
    const [ra, rb] = await Promise.all([
      a.ask({ cmd: 'burst', n: 5, path: '/Project/GetProjects' }),
      b.ask({ cmd: 'burst', n: 5, path: '/Project/GetProjects' }),
    ]);

    // Assert
    expect((await stored(key))?.epoch).toBe(before?.epoch);
    expect([...(ra.statuses ?? []), ...(rb.statuses ?? [])].every((s) => s === 200)).toBe(true);
    expect(sim.refreshCount).toBe(1);
    expect(sim.refreshTokenReuseCount).toBe(0);
    await sameSession([a, b]);
    await b.ask({ cmd: 'logout' });
    await until(async () => (await state(a)).state === '"signedOut"', 'a signed out');
    await expectClean([a, b]);
  });
});

describe('Redis refuses writes or restarts right after the provider answered a refresh', () => {
  it('refused writes (out of memory): the refreshed tokens are used at once, stored when Redis accepts writes again, and never spent twice', async () => {
    // Arrange: the provider holds the refresh answer for a moment, long enough to refuse writes.
    sim = await startMarketigerSimulator();
    const key = 'refused-writes';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    const old = await sameSession([a, b]);
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 800, times: 1 });
    sim.expireAccessTokens();

    // Act
    const burstA = a.ask({ cmd: 'burst', n: 3, path: '/Project/GetProjects' });
    await until(() => sim!.refreshCount === 1, "a's refresh reached the provider");
    await redis.refuseWrites();
    const ra = await burstA;
    // b's token was refused too: its refresh meets a's lock, still held while a's write is retried.
    const burstB = b.ask({ cmd: 'burst', n: 3, path: '/Project/GetProjects' });
    // The fault lasts a few hundred ms, then Redis accepts writes again.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const whileRefused = await stored(key);
    await redis.acceptWrites();
    const rb = await burstB;

    // Assert: a used its new tokens while the store refused them; b got them from the store.
    expect(ra.statuses).toEqual([200, 200, 200]);
    expect(ra.token).not.toBe(old);
    expect(whileRefused?.status === 'signedIn' && fingerprint(whileRefused.accessToken)).toBe(old);
    expect(rb.statuses).toEqual([200, 200, 200]);
    const token = await sameSession([a, b]);
    expect(token).toBe(ra.token);
    await until(async () => {
      const now = await stored(key);
      return now?.status === 'signedIn' && fingerprint(now.accessToken) === token;
    }, 'the new tokens stored');
    expect(sim.refreshCount).toBe(1);
    expect(sim.refreshTokenReuseCount).toBe(0);
    await expectClean([a, b]);
  });

  it('a restart without data while the answer is on its way: the answer is stored again in the new epoch, the other holder adopts it, no token is spent twice', async () => {
    // Arrange
    sim = await startMarketigerSimulator();
    const key = 'restart-mid-refresh';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    await sameSession([a, b]);
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 600, times: 1 });
    sim.expireAccessTokens();

    // Act: Redis goes down (losing the lock and the session) while the provider answers a.
    const burstA = a.ask({ cmd: 'burst', n: 2, path: '/Project/GetProjects' });
    await until(() => sim!.refreshCount === 1, "a's refresh reached the provider");
    await redis.restart({ keepData: false, downMs: 1_000 });
    const ra = await burstA;
    const rb = await b.ask({ cmd: 'burst', n: 2, path: '/Project/GetProjects' });

    // Assert
    expect(ra.statuses).toEqual([200, 200]);
    expect(rb.statuses).toEqual([200, 200]);
    const token = await sameSession([a, b]);
    expect(token).toBe(ra.token);
    await until(async () => {
      const now = await stored(key);
      return now?.status === 'signedIn' && fingerprint(now.accessToken) === token;
    }, 'the new tokens stored in the new epoch');
    expect(sim.refreshCount).toBe(1);
    expect(sim.refreshTokenReuseCount).toBe(0);
    await expectClean([a, b]);
  });
});

describe('a sign-out while Redis refuses writes', () => {
  it('is kept and retried: it reaches the other holders once Redis accepts writes again', async () => {
    // Arrange
    sim = await startMarketigerSimulator();
    const key = 'sign-out-refused';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    await sameSession([a, b]);
    await redis.refuseWrites();

    // Act
    const signedOut = await b.ask({ cmd: 'logout' });
    await until(async () => ((await state(b)).storeErrors ?? 0) >= 1, "b's sign-out refused by the store");
    const meanwhile = await state(a);
    await redis.acceptWrites();

    // Assert
    expect(signedOut.state).toBe('"signedOut"');
    expect(meanwhile.state).toContain('signedIn');
    await until(async () => (await state(a)).state === '"signedOut"', 'a signed out');
    expect((await stored(key))?.status).toBe('signedOut');
    await expectClean([a, b]);
  });
});

describe('connections dropped', () => {
  it('CLIENT KILL of every connection: each holder reconnects (reported through its logger, nothing on stderr) and the next sign-out still spreads', async () => {
    // Arrange
    sim = await startMarketigerSimulator();
    const key = 'client-kill';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    await sameSession([a, b]);

    // Act
    await redis.killClients();
    await until(
      async () => (await Promise.all([a, b].map(state))).every((s) => (s.events?.['reconnected'] ?? 0) >= 2),
      'both connections of both holders back',
    );
    await b.ask({ cmd: 'logout' });

    // Assert
    await until(async () => (await state(a)).state === '"signedOut"', 'a signed out');
    for (const holder of [a, b]) {
      const { events } = await state(holder);
      expect(events?.['connection_lost']).toBe(2); // commands and notices, once each
    }
    await expectClean([a, b]);
  });
});

describe('a holder paused past its lock', () => {
  it('SIGSTOP during its refresh: another holder takes the lock and stores a newer session; on SIGCONT the paused one adopts it and never writes over it', async () => {
    // Arrange
    sim = await startMarketigerSimulator();
    const key = 'paused-holder';
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: key, LOCK_TTL_MS: '1000' };
    const [a, b] = (await start(2, env)) as [HolderProcess, HolderProcess];
    await a.ask({ cmd: 'login' });
    await sameSession([a, b]);
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 500, times: 1 });
    await a.ask({ cmd: 'refresh' });
    await until(() => sim!.refreshCount === 1, "a's refresh reached the provider");

    // Act: a stops with its lock held; the provider answers it meanwhile; its lock expires.
    const pid = a.child.pid!;
    process.kill(pid, 'SIGSTOP');
    await until(async () => (await processState(pid)) === 'T', 'a stopped');
    await until(
      async () => (await redis.command('EXISTS', `authcharts:{${key}}:lock`)) === 0,
      "a's lock expired",
    );
    // Another holder (this test) takes the lock and stores a newer session: a new sign-in.
    const other = createRedisCoordinator({ redis: redis.url });
    const lock = await other.lock(key);
    const tokens = await createMarketigerApi({ baseURL: sim.baseURL }).login({
      email: MARKETIGER_DEMO_USER.email,
      password: MARKETIGER_DEMO_USER.password,
    });
    const newer = await other.write(
      key,
      {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        refreshTokenExpiresAt: null,
        issuedAt: Date.now(),
        clockSkewMs: tokens.clockSkewMs,
      },
      { fence: lock.fence },
    );
    await other.publish(key, newer!);
    await lock.release();
    await other.close();
    const newest = fingerprint(tokens.accessToken);
    await until(async () => (await state(b)).token === newest, 'b on the newer session');
    process.kill(pid, 'SIGCONT');

    // Assert: a takes the newer session, and nothing it does afterwards writes its own tokens over it.
    await until(async () => (await state(a)).token === newest, 'a on the newer session');
    const burst = await a.ask({ cmd: 'burst', n: 2, path: '/Project/GetProjects' });
    expect(burst.statuses).toEqual([200, 200]);
    const now = await stored(key);
    expect(now?.version).toBe(newer?.version);
    expect(now?.status === 'signedIn' && fingerprint(now.accessToken)).toBe(newest);
    expect(sim.refreshTokenReuseCount).toBe(0);
    await expectClean([a, b]);
  });
});
