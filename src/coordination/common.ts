/**
 * Pieces the coordinator adapters share: notices from stored sessions, listener lists, and waiting for
 * a lock with a deadline and an abort signal.
 */
import { AuthError } from '../errors.js';
import { unrefTimer } from '../time.js';
import type { LockOptions, SessionNotice, SharedSession, StoredSession, WriteConditions } from './types.js';

/**
 * The defaults of {@link LockOptions} (and of `CoordinationOptions`' `lockTtlMs` and `lockWaitMs`):
 * a lock outlives a refresh (the services time out after 15 s), and a holder waits a little longer.
 */
export const lockDefaults = {
  ttlMs: 20_000,
  waitMs: 30_000,
} as const satisfies Required<Pick<LockOptions, 'ttlMs' | 'waitMs'>>;

/** A lock's expiry and wait, each the caller's or the default. */
export function lockTimes(options: LockOptions): { ttlMs: number; waitMs: number } {
  return { ttlMs: options.ttlMs ?? lockDefaults.ttlMs, waitMs: options.waitMs ?? lockDefaults.waitMs };
}

/** The notice a stored session makes: `updated` for a signed-in one, `signedOut` for a sign-out. */
export function noticeOf(session: StoredSession): SessionNotice {
  return session.status === 'signedIn'
    ? { type: 'updated', session }
    : { type: 'signedOut', version: session.version };
}

/** The version a notice is about. */
export function versionOf(notice: SessionNotice): number {
  return notice.type === 'updated' ? notice.session.version : notice.version;
}

/**
 * Only the fields of a {@link SharedSession}, from anything that has them: what a store keeps must be
 * plain data the app chose to share, never a machine's whole context.
 */
export function sharedFields(source: SharedSession): SharedSession {
  const session: SharedSession = {
    accessToken: source.accessToken,
    refreshToken: source.refreshToken ?? null,
    accessTokenExpiresAt: finiteOrNull(source.accessTokenExpiresAt),
    refreshTokenExpiresAt: finiteOrNull(source.refreshTokenExpiresAt),
    issuedAt: finiteOrNull(source.issuedAt) ?? Date.now(),
    clockSkewMs: finiteOrNull(source.clockSkewMs) ?? 0,
  };
  if (source.accountId !== undefined) session.accountId = source.accountId;
  if (source.sessionId !== undefined) session.sessionId = source.sessionId;
  return session;
}

/**
 * The stored session a write makes over the store's current `version` and `fence`, or `null` when
 * its conditions fail: a fence older than the last lock's (an expired holder), or another version.
 */
export function writeOver(
  current: { version: number; fence: number },
  session: SharedSession,
  conditions: WriteConditions,
): StoredSession | null {
  if (conditions.fence !== undefined && conditions.fence < current.fence) return null;
  if (conditions.ifVersion !== undefined && conditions.ifVersion !== current.version) return null;
  return {
    ...sharedFields(session),
    status: 'signedIn',
    version: current.version + 1,
    updatedAt: Date.now(),
  };
}

/** The stored sign-out that follows `version`. */
export function signOutAfter(version: number): StoredSession {
  return { status: 'signedOut', version: version + 1, updatedAt: Date.now() };
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Listeners per session key. A listener that throws does not keep the others from hearing. */
export class Listeners {
  readonly #byKey = new Map<string, Set<(notice: SessionNotice) => void>>();

  add(key: string, listener: (notice: SessionNotice) => void): { first: boolean; remove: () => boolean } {
    let set = this.#byKey.get(key);
    const first = !set;
    if (!set) {
      set = new Set();
      this.#byKey.set(key, set);
    }
    set.add(listener);
    return {
      first,
      // true when it was the key's last listener
      remove: () => {
        const current = this.#byKey.get(key);
        if (!current?.delete(listener)) return false;
        if (current.size > 0) return false;
        this.#byKey.delete(key);
        return true;
      },
    };
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  emit(key: string, notice: SessionNotice): void {
    for (const listener of [...(this.#byKey.get(key) ?? [])]) {
      try {
        listener(notice);
      } catch {
        // A listener's failure is its own: the others still hear the notice.
      }
    }
  }
}

/**
 * Calls `attempt` until it yields a value, `waitMs` passes (`timeout`) or `signal` aborts (`aborted`),
 * sleeping a little longer each time (jittered, at most 100 ms), so waiters do not poll in step.
 */
export async function retryUntil<T>(
  attempt: () => Promise<T | undefined>,
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  let pause = 10;
  for (;;) {
    if (signal?.aborted) throw new AuthError('aborted');
    const value = await attempt();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) throw lockTimeout();
    await sleep(Math.min(left, pause * (0.5 + Math.random())), signal);
    pause = Math.min(100, pause * 2);
  }
}

/** The error of a holder that waited too long for another's refresh: retryable, so the machine backs off. */
export function lockTimeout(): AuthError {
  return new AuthError('timeout', { message: 'Another holder of the session kept it locked too long.' });
}

/** Resolves after `ms`, or rejects with `aborted` when `signal` aborts. The timer never keeps Node alive. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AuthError('aborted'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AuthError('aborted'));
    };
    const timer = unrefTimer(
      setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A random id for lock tokens and holder ids (Web Crypto: Node 20 and browsers). */
export function randomId(): string {
  return globalThis.crypto.randomUUID();
}
