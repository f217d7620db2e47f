/**
 * The lock cases every coordinator is held to, run by each suite on its own store: memory in
 * coordinator.test.ts, files in file.test.ts (redis.test.ts times Redis's expiry in cases of its own).
 */
import { expect, it } from 'vitest';
import type { SessionCoordinator } from '../../src/coordination/types.js';
import { sharedSession as session } from '../sharedSession.js';

/** Waits that should end at once, bounded so that a broken lock fails the test instead of hanging it. */
const SAFETY_NET_MS = 10_000;

/** The lock cases every coordinator passes, each on a new coordinator from `make` (with its own store). */
export function itHoldsTheLockContract(make: () => Promise<SessionCoordinator>): void {
  it("expires a lock its holder never releases, and then refuses that holder's fenced write", async () => {
    // Arrange
    const subject = await make();
    const stuck = await subject.lock('k', { ttlMs: 50 });

    // Act
    const next = await subject.lock('k', { waitMs: SAFETY_NET_MS });
    const late = await subject.write('k', session('late'), { fence: stuck.fence });
    await stuck.release(); // frees nothing: the lock is another holder's now
    const blocked = subject.lock('k', { waitMs: 50 });

    // Assert
    expect(late).toBeNull();
    await expect(blocked).rejects.toMatchObject({ kind: 'timeout', retryable: true });
    expect(await subject.write('k', session('fresh'), { fence: next.fence })).toMatchObject({ version: 1 });
    await next.release();
  });

  it('stops waiting for the lock when the signal aborts, and the lock is free once released', async () => {
    // Arrange
    const subject = await make();
    const held = await subject.lock('k');
    const controller = new AbortController();

    // Act
    const waiting = subject.lock('k', { signal: controller.signal, waitMs: SAFETY_NET_MS });
    controller.abort();

    // Assert
    await expect(waiting).rejects.toMatchObject({ kind: 'aborted' });
    await held.release();
    const after = await subject.lock('k', { waitMs: 100 });
    await after.release();
  });
}
