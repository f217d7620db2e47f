/**
 * The Redis coordinator against a real redis-server: its lock (expiry, fencing, compare-and-delete
 * release), its store and notices, then holders in separate Node processes sharing one session with
 * one simulator — including a holder killed with SIGKILL in the middle of a refresh.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinatedRefresh } from '../../src/coordination/refresh.js';
import { keyState, noteRecord } from '../../src/coordination/store.js';
import { createRedisCoordinator, type RedisCoordinator } from '../../src/redis/index.js';
import { marketigerRoutes, startMarketigerSimulator } from '../../src/testing/index.js';
import { type HolderProcess, startHolder } from './fixtures/processes.js';
import { type RedisServer, startRedisServer } from './fixtures/redisServer.js';

let redis: RedisServer;
const open: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  for (const coordinator of open.splice(0)) await coordinator.close();
  await redis?.stop();
});

/** A coordinator; tests that share keys pass one prefix, the others get keys of their own. */
function coordinator(prefix = `t${Math.random().toString(36).slice(2, 8)}`): RedisCoordinator {
  const made = createRedisCoordinator({ redis: redis.url, prefix });
  open.push(made);
  return made;
}

const session = (accessToken: string) => ({
  accessToken,
  refreshToken: `refresh-of-${accessToken}`,
  accessTokenExpiresAt: Date.now() + 60_000,
  refreshTokenExpiresAt: null,
  issuedAt: Date.now(),
  clockSkewMs: 0,
});

describe('createRedisCoordinator: lock, store and notices on a real Redis', () => {
  it('grants the lock to one holder at a time, and to the next when it expires', async () => {
    // Arrange
    const subject = coordinator();
    const started = Date.now(); // before the lock: its 300 ms run from a moment after this
    const first = await subject.lock('k', { ttlMs: 300 });

    // Act
    const second = await subject.lock('k', { ttlMs: 1_000, waitMs: 10_000 });

    // Assert
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(second.fence).toBeGreaterThan(first.fence);
    await second.release();
  });

  it("refuses a write fenced by an expired lock, and the expired holder's release frees nobody else's lock", async () => {
    // Arrange
    const subject = coordinator();
    const stale = await subject.lock('k', { ttlMs: 100 });
    // held far longer than the test runs, however busy the machine (released at the end)
    const current = await subject.lock('k', { ttlMs: 60_000, waitMs: 10_000 });

    // Act
    const staleWrite = await subject.write('k', session('late'), { fence: stale.fence });
    await stale.release();
    const third = subject.lock('k', { ttlMs: 1_000, waitMs: 300 });

    // Assert
    expect(staleWrite).toBeNull();
    await expect(third).rejects.toMatchObject({ kind: 'timeout' });
    const written = await subject.write('k', session('fresh'), { fence: current.fence });
    expect(written).toMatchObject({ status: 'signedIn', accessToken: 'fresh', version: 1 });
    await current.release();
  });

  it('writes conditionally on the version, keeps a sign-out as a record, and never publishes tokens', async () => {
    // Arrange
    const writer = coordinator('shared-prefix');
    const reader = coordinator('shared-prefix');
    const notices: unknown[] = [];
    reader.subscribe('k', (notice) => notices.push(notice));
    await reader.read('k'); // the subscription is in place once a read after it returns
    const spy = new Redis(redis.url);
    const published: string[] = [];
    await spy.psubscribe('*');
    spy.on('pmessage', (_pattern, _channel, message: string) => published.push(message));

    // Act
    const v1 = await writer.write('k', session('one'), { ifVersion: 0 });
    const refused = await writer.write('k', session('two'), { ifVersion: 0 });
    await writer.publish('k', v1!);
    const cleared = await writer.clear('k');
    await writer.publish('k', cleared);
    // both notices were delivered: to the reader and to the spy
    await until(() => notices.some((n) => (n as { type: string }).type === 'signedOut'));
    await until(() => published.length >= 2);

    // Assert
    expect(v1?.version).toBe(1);
    expect(refused).toBeNull();
    expect(cleared).toMatchObject({ status: 'signedOut', version: 2 });
    expect(await reader.read('k')).toMatchObject({ status: 'signedOut', version: 2 });
    // The reader heard both notices, each with the stored session read back (the latest: the sign-out).
    expect(notices.map((n) => (n as { type: string }).type)).toContain('signedOut');
    expect(published.length).toBeGreaterThanOrEqual(2);
    expect(published.some((m) => m.includes('one'))).toBe(false);
    await spy.quit();
  });
});

describe('createRedisCoordinator: a store that lost its data', () => {
  it('starts a new epoch, and a fence handed out before is still refused (fences grow across the loss)', async () => {
    // Arrange
    const subject = coordinator();
    const before = await subject.lock('k', { ttlMs: 60_000 });
    const first = await subject.write('k', session('one'), { fence: before.fence });
    await before.release();

    // Act: Redis forgets everything, and another holder locks and writes.
    await redis.flushAll();
    const after = await subject.lock('k', { ttlMs: 60_000 });
    const stale = await subject.write('k', session('stale'), { fence: before.fence });
    const fresh = await subject.write('k', session('fresh'), { fence: after.fence, ifVersion: 0 });
    await after.release();

    // Assert
    expect(first).toMatchObject({ version: 1 });
    expect(first?.epoch).toMatch(/^[0-9a-z]+-[0-9a-f]{16}$/);
    expect(after.fence).toBeGreaterThan(before.fence);
    expect(stale).toBeNull();
    expect(fresh).toMatchObject({ version: 1, accessToken: 'fresh' });
    expect(fresh?.epoch).not.toBe(first?.epoch);
    // A write conditional on the old epoch's version 1 is refused by the new epoch's version 1.
    expect(await subject.write('k', session('aba'), { ifVersion: 1, ifEpoch: first!.epoch! })).toBeNull();
  });
});

describe('coordinatedRefresh on Redis, right after the store lost its data', () => {
  it('waits for the holders before spending: the older session a holder stored again is not spent, the newer one another holder brings is', async () => {
    // Arrange: the store was emptied; a holder that missed the last refresh stored S1 again (a new
    // epoch). The refreshing holder has heard of it. The holder that has S2 is still away: it comes
    // back when asked (a resync), as a reconnecting holder does.
    const prefix = 'reset-wait';
    const refresher = coordinator(prefix);
    const late = coordinator(prefix);
    const s1 = { ...session('access-1'), refreshToken: 'refresh-1', issuedAt: Date.now() - 10_000 };
    const s2 = { ...session('access-2'), refreshToken: 'refresh-2', issuedAt: Date.now() - 5_000 };
    const stale = await coordinator(prefix).write('k', s1, { ifVersion: 0 });
    noteRecord(keyState(refresher, 'k'), stale);
    const stopLate = late.onResync('k', () => {
      stopLate();
      void late
        .write('k', s2, { ifVersion: 1, ifEpoch: stale!.epoch! })
        .then((written) => late.publish('k', written!));
    });
    await late.read('k'); // its subscription is in place once a read after it returns
    const spent: string[] = [];

    // Act
    const tokens = await coordinatedRefresh(
      { coordinator: refresher, sessionKey: 'k' },
      'refresh-1',
      async (refreshToken) => {
        spent.push(refreshToken);
        return {
          accessToken: 'access-3',
          refreshToken: 'refresh-3',
          accessTokenExpiresAt: Date.now() + 60_000,
          clockSkewMs: 0,
        };
      },
      new AbortController().signal,
    );

    // Assert: S1's refresh token was never sent; S2 (fresh) was taken without a request.
    expect(spent).toEqual([]);
    expect(tokens.accessToken).toBe('access-2');
  });
});

describe('holders in separate processes share one session through Redis', () => {
  const holders: HolderProcess[] = [];
  afterAll(async () => {
    await Promise.all(holders.splice(0).map((h) => h.stop()));
  });

  it('two processes, many concurrent 401s: exactly one refresh at the simulator, both signed in with the same new token', async () => {
    // Arrange
    const sim = await startMarketigerSimulator();
    try {
      const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: 'two-processes' };
      const a = startHolder(env);
      const b = startHolder(env);
      holders.push(a, b);
      await Promise.all([a.next('ready'), b.next('ready')]);
      expect((await a.ask({ cmd: 'login' })).state).toMatch(/signedIn/);
      await until(async () => (await b.ask({ cmd: 'state' })).state?.includes('signedIn') === true);
      sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 300, times: 1 });
      sim.expireAccessTokens();

      // Act
      const [ra, rb] = await Promise.all([
        a.ask({ cmd: 'burst', n: 25, path: '/Project/GetProjects' }),
        b.ask({ cmd: 'burst', n: 25, path: '/Project/GetProjects' }),
      ]);

      // Assert
      expect([...(ra.statuses ?? []), ...(rb.statuses ?? [])].every((s) => s === 200)).toBe(true);
      expect(sim.refreshCount).toBe(1);
      expect(ra.state).toMatch(/signedIn/);
      expect(rb.state).toMatch(/signedIn/);
      expect(ra.token).toBe(rb.token);

      // A sign-out in one process signs out the other.
      await b.ask({ cmd: 'logout' });
      await until(async () => (await a.ask({ cmd: 'state' })).state === '"signedOut"');
    } finally {
      await Promise.all(holders.splice(0).map((h) => h.stop()));
      await sim.close();
    }
  });

  it('a holder killed with SIGKILL in the middle of a refresh does not block the others beyond the lock expiry, and the session survives', async () => {
    // Arrange: the first refresh request is held by the simulator for 8 s.
    const sim = await startMarketigerSimulator();
    try {
      const env = {
        REDIS_URL: redis.url,
        BASE_URL: sim.baseURL,
        SESSION_KEY: 'killed-holder',
        LOCK_TTL_MS: '1500',
      };
      const doomed = startHolder(env);
      const survivor = startHolder(env);
      holders.push(doomed, survivor);
      await Promise.all([doomed.next('ready'), survivor.next('ready')]);
      await doomed.ask({ cmd: 'login' });
      await until(async () => (await survivor.ask({ cmd: 'state' })).state?.includes('signedIn') === true);
      sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 8_000, times: 1 });
      await doomed.ask({ cmd: 'refresh' });
      await until(async () => sim.refreshCount === 1);

      // Act: the holder dies with the lock held and its refresh in flight.
      await doomed.stop('SIGKILL');
      sim.expireAccessTokens();
      const answer = await survivor.ask({ cmd: 'burst', n: 10, path: '/Project/GetProjects' }, 20_000);

      // Assert: the survivor waited for the lock to expire (1.5 s), not for the dead holder's request (8 s).
      expect(answer.statuses?.every((s) => s === 200)).toBe(true);
      expect(answer.ms).toBeLessThan(6_000);
      expect(answer.state).toMatch(/signedIn/);
      expect(sim.refreshCount).toBe(2);
      // A new process starts signed in from the stored session, and its request works.
      const late = startHolder(env);
      holders.push(late);
      expect((await late.next('ready')).state).toMatch(/signedIn/);
      const lateAnswer = await late.ask({ cmd: 'burst', n: 1, path: '/Project/GetProjects' });
      expect(lateAnswer.statuses).toEqual([200]);
      expect(lateAnswer.token).toBe(answer.token);
    } finally {
      await Promise.all(holders.splice(0).map((h) => h.stop()));
      await sim.close();
    }
  });
});

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
