/**
 * The in-memory coordinator: holders in one process (several actors of one Node service, a test).
 * The default: nothing to install, nothing to run.
 */
import { AuthError } from '../errors.js';
import { unrefTimer } from '../time.js';
import { Listeners, lockTimeout, lockTimes, noticeOf, signOutAfter, writeOver } from './common.js';
import type { LockOptions, SessionCoordinator, SessionLock, StoredSession } from './types.js';

interface HeldLock {
  fence: number;
  timer: ReturnType<typeof setTimeout>;
}

interface Waiter {
  grant: (lock: SessionLock) => void;
  ttlMs: number;
}

/**
 * Creates a coordinator whose store, locks and notifications live in this process's memory.
 *
 * Locks are granted in the order asked for; each expires after its `ttlMs` even if never released.
 * Notices reach listeners synchronously, inside `publish`.
 *
 * @example
 * ```ts
 * const coordinator = createMemoryCoordinator();
 * const actors = marketigerActors(api, { coordinator, sessionKey: 'reports-bot' });
 * const a = createActor(marketigerMachine.provide({ actors })).start();
 * const b = createActor(marketigerMachine.provide({ actors })).start();
 * coordinateSession(a, coordinator, { sessionKey: 'reports-bot' });
 * coordinateSession(b, coordinator, { sessionKey: 'reports-bot' });
 * ```
 */
export function createMemoryCoordinator(): SessionCoordinator {
  const sessions = new Map<string, StoredSession>();
  const fences = new Map<string, number>();
  const held = new Map<string, HeldLock>();
  const waiting = new Map<string, Waiter[]>();
  const listeners = new Listeners();

  function store(key: string, session: StoredSession): StoredSession {
    sessions.set(key, session);
    // A copy: what the caller holds must not change what the store holds.
    return structuredClone(session);
  }

  function take(key: string, ttlMs: number): SessionLock {
    const fence = (fences.get(key) ?? 0) + 1;
    fences.set(key, fence);
    const timer = unrefTimer(setTimeout(() => free(key, fence), ttlMs));
    held.set(key, { fence, timer });
    return {
      fence,
      release: async () => free(key, fence),
    };
  }

  /** Frees the lock if `fence` still holds it (an expired holder's late release frees nothing), then grants the next waiter. */
  function free(key: string, fence: number) {
    const current = held.get(key);
    if (!current || current.fence !== fence) return;
    clearTimeout(current.timer);
    held.delete(key);
    const queue = waiting.get(key);
    const next = queue?.shift();
    if (queue && queue.length === 0) waiting.delete(key);
    if (next) next.grant(take(key, next.ttlMs));
  }

  return {
    async read(key) {
      const session = sessions.get(key);
      return session ? structuredClone(session) : null;
    },

    async write(key, session, conditions = {}) {
      const stored = sessions.get(key);
      const current = { version: stored?.version ?? 0, epoch: stored?.epoch, fence: fences.get(key) ?? 0 };
      const next = writeOver(current, session, conditions);
      return next && store(key, next);
    },

    async clear(key) {
      return store(key, signOutAfter(sessions.get(key) ?? { version: 0 }));
    },

    lock(key, options: LockOptions = {}) {
      const { ttlMs, waitMs } = lockTimes(options);
      const { signal } = options;
      if (signal?.aborted) return Promise.reject(new AuthError('aborted'));
      if (!held.has(key)) return Promise.resolve(take(key, ttlMs));
      return new Promise<SessionLock>((resolve, reject) => {
        const leave = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const queue = waiting.get(key);
          const index = queue?.indexOf(waiter) ?? -1;
          if (queue && index >= 0) queue.splice(index, 1);
        };
        const waiter: Waiter = {
          ttlMs,
          grant: (lock) => {
            leave();
            resolve(lock);
          },
        };
        const onAbort = () => {
          leave();
          reject(new AuthError('aborted'));
        };
        // Kept alive (not unref'd): the caller awaits the lock, at most `waitMs`.
        const timer = setTimeout(() => {
          leave();
          reject(lockTimeout());
        }, waitMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.set(key, [...(waiting.get(key) ?? []), waiter]);
      });
    },

    async publish(key, session) {
      listeners.emit(key, noticeOf(structuredClone(session)));
    },

    subscribe(key, listener) {
      const { remove } = listeners.add(key, listener);
      return () => {
        remove();
      };
    },
  };
}
