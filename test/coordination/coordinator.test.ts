/**
 * The in-memory coordinator's contract (its lock cases are contract.ts's, which the file coordinator
 * runs too; the Redis one is held to the same in redis.test.ts), and the link's handling of late and
 * own notices.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { refOf } from '../../src/coordination/common.js';
import { coordinateSession } from '../../src/coordination/coordinateSession.js';
import { createMemoryCoordinator } from '../../src/coordination/memory.js';
import { coordinatedRefresh } from '../../src/coordination/refresh.js';
import { keyState, noteIssued, storeSession } from '../../src/coordination/store.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import type { TokenSet } from '../../src/services/types.js';
import { sharedSession as session } from '../sharedSession.js';
import { itHoldsTheLockContract } from './contract.js';

const HOUR = 60 * 60 * 1000;

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

describe('createMemoryCoordinator', () => {
  it('grants the lock in the order asked, each with a larger fencing token', async () => {
    // Arrange
    const subject = createMemoryCoordinator();
    const first = await subject.lock('k');
    const order: number[] = [];

    // Act
    const second = subject.lock('k').then((lock) => {
      order.push(2);
      return lock;
    });
    const third = subject.lock('k').then((lock) => {
      order.push(3);
      return lock;
    });
    await first.release();
    const secondLock = await second;
    await secondLock.release();
    const thirdLock = await third;

    // Assert
    expect(order).toEqual([2, 3]);
    expect(secondLock.fence).toBeGreaterThan(first.fence);
    expect(thirdLock.fence).toBeGreaterThan(secondLock.fence);
    await thirdLock.release();
  });

  itHoldsTheLockContract(async () => createMemoryCoordinator());

  it('hands out copies: what a caller changes does not change the store', async () => {
    // Arrange
    const subject = createMemoryCoordinator();
    const written = await subject.write('k', session('one'));

    // Act
    if (written?.status === 'signedIn') written.accessToken = 'tampered';

    // Assert
    expect(await subject.read('k')).toMatchObject({ accessToken: 'one' });
  });
});

describe('coordinateSession', () => {
  function subject() {
    const refreshed: TokenSet = {
      accessToken: 'access-2',
      refreshToken: 'refresh-2',
      accessTokenExpiresAt: Date.now() + HOUR,
      clockSkewMs: 0,
    };
    const machine = marketigerMachine.provide({
      actors: {
        login: fromPromise<TokenSet, { email: string; password: string }>(async () => ({
          ...refreshed,
          accessToken: 'access-1',
          refreshToken: 'refresh-1',
        })),
        refreshTokens: fromPromise<TokenSet, { refreshToken: string }>(async () => refreshed),
      },
    });
    const actor = createActor(machine).start();
    cleanup.push(() => actor.stop());
    return actor;
  }

  it('ignores a notice older than what it has seen (a late sign-out does not end a newer session)', async () => {
    // Arrange
    const coordinator = createMemoryCoordinator();
    const actor = subject();
    const link = coordinateSession(actor, coordinator, { sessionKey: 'k' });
    cleanup.push(() => link.stop());
    await link.ready;
    const signedOut = await coordinator.clear('k'); // version 1, published late below
    const signedIn = await coordinator.write('k', session('access-shared'));
    await coordinator.publish('k', signedIn!);

    // Act
    await coordinator.publish('k', signedOut);

    // Assert
    expect(actor.getSnapshot().matches('signedIn')).toBe(true);
    expect(actor.getSnapshot().context.accessToken).toBe('access-shared');
  });

  it('writes and publishes a sign-in once, and a sign-out from signedIn once', async () => {
    // Arrange
    const coordinator = createMemoryCoordinator();
    const notices: string[] = [];
    coordinator.subscribe('k', (notice) => notices.push(notice.type));
    const actor = subject();
    const link = coordinateSession(actor, coordinator, { sessionKey: 'k' });
    cleanup.push(() => link.stop());
    await link.ready;

    // Act: each step once its notice was heard
    actor.send({ type: 'auth.login', email: 'a@example.com', password: 'pw' });
    await waitFor(actor, (s) => s.matches('signedIn'), { timeout: 10_000 });
    await vi.waitFor(() => expect(notices).toContain('updated'), { timeout: 10_000 });
    actor.send({ type: 'auth.logout' });
    await vi.waitFor(() => expect(notices).toContain('signedOut'), { timeout: 10_000 });

    // Assert: once each (the stored version counts every write: one sign-in, one sign-out)
    expect(notices).toEqual(['updated', 'signedOut']);
    expect(await coordinator.read('k')).toMatchObject({ status: 'signedOut', version: 2 });
    expect(JSON.stringify(await coordinator.read('k'))).not.toContain('access-1');
  });

  it('stops: later notices change nothing', async () => {
    // Arrange
    const coordinator = createMemoryCoordinator();
    const actor = subject();
    const link = coordinateSession(actor, coordinator, { sessionKey: 'k' });
    await link.ready;

    // Act
    link.stop();
    await coordinator.publish('k', (await coordinator.write('k', session('access-shared')))!);

    // Assert
    expect(actor.getSnapshot().matches('signedOut')).toBe(true);
  });
});

describe('storeSession (how refreshed tokens reach the store)', () => {
  it('a write refused by its fence waits for a new lock: it never reaches the store without one', async () => {
    // Arrange: the stale lock expires and another holder takes the lock.
    const coordinator = createMemoryCoordinator();
    const stale = await coordinator.lock('k', { ttlMs: 30 });
    const current = await coordinator.lock('k', { waitMs: 10_000 });

    // Act
    const subject = storeSession(coordinator, 'k', {
      session: session('mine'),
      basis: null,
      time: Date.now(),
      fenced: true,
      lock: stale,
    });

    // Assert: refused, and not written while the other holder has the lock; written once it frees it.
    expect(await subject.first).toEqual({ kind: 'retrying' });
    expect(await coordinator.read('k')).toBeNull();
    await current.release();
    expect(await subject.done).toMatchObject({ kind: 'stored', record: { accessToken: 'mine', version: 1 } });
  });

  it('a newer session stored meanwhile by the lock holder is taken, never overwritten', async () => {
    // Arrange
    const coordinator = createMemoryCoordinator();
    const base = await coordinator.write('k', session('base'));
    const stale = await coordinator.lock('k', { ttlMs: 30 });
    const current = await coordinator.lock('k', { waitMs: 10_000 });
    await coordinator.write('k', session('theirs'), { fence: current.fence });
    await current.release();

    // Act
    const subject = storeSession(coordinator, 'k', {
      session: session('mine'),
      basis: refOf(base!),
      time: Date.now() + 1_000, // even issued later: the store's later version wins
      fenced: true,
      lock: stale,
    });

    // Assert
    expect(await subject.first).toMatchObject({ kind: 'superseded', record: { accessToken: 'theirs' } });
    expect(await coordinator.read('k')).toMatchObject({ accessToken: 'theirs', version: 2 });
  });

  it('a sign-out lands over the session it ends, and is published', async () => {
    // Arrange
    const coordinator = createMemoryCoordinator();
    const base = await coordinator.write('k', session('base'));
    const notices: string[] = [];
    coordinator.subscribe('k', (notice) => notices.push(notice.type));

    // Act
    const outcome = await storeSession(coordinator, 'k', {
      session: null,
      basis: refOf(base!),
      time: Date.now(),
      fenced: false,
    }).done;

    // Assert
    expect(outcome).toMatchObject({ kind: 'stored', record: { status: 'signedOut', version: 2 } });
    expect(notices).toEqual(['signedOut']);
  });
});

describe('coordinatedRefresh', () => {
  it('never spends the refresh token of an older session stored again (a holder that missed the last refresh, after a loss)', async () => {
    // Arrange: this process holds S2 (issued after S1); the store holds S1 again, its access token stale.
    const coordinator = createMemoryCoordinator();
    const s2 = { ...session('access-2'), refreshToken: 'refresh-2', issuedAt: Date.now() - 1_000 };
    noteIssued(keyState(coordinator, 'k'), s2);
    await coordinator.write('k', {
      ...session('access-1'),
      refreshToken: 'refresh-1',
      issuedAt: Date.now() - 60_000,
      accessTokenExpiresAt: Date.now() - 1_000,
    });
    const spent: string[] = [];

    // Act
    const tokens = await coordinatedRefresh(
      { coordinator, sessionKey: 'k' },
      'refresh-2',
      async (refreshToken) => {
        spent.push(refreshToken);
        return {
          accessToken: 'access-3',
          refreshToken: 'refresh-3',
          accessTokenExpiresAt: Date.now() + HOUR,
          clockSkewMs: 0,
        };
      },
      new AbortController().signal,
    );

    // Assert: its own token spent, the answer stored over the older session.
    expect(spent).toEqual(['refresh-2']);
    expect(tokens.accessToken).toBe('access-3');
    expect(await coordinator.read('k')).toMatchObject({ accessToken: 'access-3', refreshToken: 'refresh-3' });
  });

  it('spends the stored refresh token when the stored session is newer (another holder refreshed)', async () => {
    // Arrange
    const coordinator = createMemoryCoordinator();
    noteIssued(keyState(coordinator, 'k'), {
      ...session('access-1'),
      refreshToken: 'refresh-1',
      issuedAt: Date.now() - 60_000,
    });
    await coordinator.write('k', {
      ...session('access-2'),
      refreshToken: 'refresh-2',
      accessTokenExpiresAt: Date.now() - 1_000,
    });
    const spent: string[] = [];

    // Act
    await coordinatedRefresh(
      { coordinator, sessionKey: 'k' },
      'refresh-1',
      async (refreshToken) => {
        spent.push(refreshToken);
        return {
          accessToken: 'access-3',
          refreshToken: 'refresh-3',
          accessTokenExpiresAt: Date.now() + HOUR,
          clockSkewMs: 0,
        };
      },
      new AbortController().signal,
    );

    // Assert
    expect(spent).toEqual(['refresh-2']);
  });
});
