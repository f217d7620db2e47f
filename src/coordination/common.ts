/**
 * Pieces the coordinator adapters share: notices from stored sessions, listener lists, and waiting for
 * a lock with a deadline and an abort signal.
 */
import { AuthError } from '../errors.js';
import type {
  CoordinationLogEntry,
  CoordinationLogger,
  LockOptions,
  SessionNotice,
  SharedSession,
  StoredSession,
  WriteConditions,
} from './types.js';

/**
 * The defaults of {@link LockOptions} (and of `CoordinationOptions`' `lockTtlMs` and `lockWaitMs`):
 * a lock outlives a refresh (the services time out after 15 s), and a holder waits a little longer.
 */
export const lockDefaults = {
  ttlMs: 20_000,
  waitMs: 30_000,
} as const satisfies Required<Pick<LockOptions, 'ttlMs' | 'waitMs'>>;

/**
 * How long holders wait for each other when the store may have lost what they share:
 * - `waitMs`: `coordinateSession`'s `ready`, when the store holds nothing, waits this long for the
 *   holders already running to store their session again (they answer within a round trip);
 * - `resetWaitMs`: a refresh that finds the store emptied or in a new epoch waits this long for the
 *   other holders to store what they hold (they may be reconnecting), before it spends a refresh token.
 */
export const syncDefaults = {
  waitMs: 250,
  resetWaitMs: 2_000,
} as const;

/** A lock's expiry and wait, each the caller's or the default. */
export function lockTimes(options: LockOptions): { ttlMs: number; waitMs: number } {
  return { ttlMs: options.ttlMs ?? lockDefaults.ttlMs, waitMs: options.waitMs ?? lockDefaults.waitMs };
}

/** The notice a stored session makes: `updated` for a signed-in one, `signedOut` for a sign-out. */
export function noticeOf(session: StoredSession): SessionNotice {
  if (session.status === 'signedIn') return { type: 'updated', session };
  const notice: SessionNotice = { type: 'signedOut', version: session.version, updatedAt: session.updatedAt };
  if (session.epoch !== undefined) notice.epoch = session.epoch;
  return notice;
}

/** The version a notice is about. */
export function versionOf(notice: SessionNotice): number {
  return notice.type === 'updated' ? notice.session.version : notice.version;
}

/** The stored record a notice is about (a sign-out notice of an older coordinator has no time: 0). */
export function recordOf(notice: SessionNotice): StoredSession {
  if (notice.type === 'updated') return notice.session;
  const record: StoredSession = {
    status: 'signedOut',
    version: notice.version,
    updatedAt: notice.updatedAt ?? 0,
  };
  if (notice.epoch !== undefined) record.epoch = notice.epoch;
  return record;
}

/** A place in the store's history: the epoch and version of a record a holder saw. */
export interface RecordRef {
  epoch: string | undefined;
  version: number;
}

export function refOf(record: StoredSession): RecordRef {
  return { epoch: record.epoch, version: record.version };
}

/** True when `record` is a later state of the store than `ref`, or from another lifetime of it. */
export function isNews(record: StoredSession, ref: RecordRef | null): boolean {
  return ref === null || record.epoch !== ref.epoch || record.version > ref.version;
}

/**
 * True when the store's versions can say whether `record` is newer than `ref`: the same epoch, and not
 * behind it (a store restored from an older snapshot goes back in its versions).
 */
export function isComparable(record: StoredSession, ref: RecordRef | null): boolean {
  return ref !== null && record.epoch === ref.epoch && record.version >= ref.version;
}

/**
 * When a record's content came to be: a session's issue, a sign-out. What orders two records that
 * versions cannot (different epochs), on the writers' clocks.
 */
export function timeOf(record: StoredSession): number {
  return record.status === 'signedIn' ? record.issuedAt : record.updatedAt;
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
  current: { version: number; fence: number; epoch?: string | undefined },
  session: SharedSession,
  conditions: WriteConditions,
): StoredSession | null {
  if (conditions.fence !== undefined && conditions.fence < current.fence) return null;
  if (conditions.ifVersion !== undefined && conditions.ifVersion !== current.version) return null;
  if (
    conditions.ifVersion !== undefined &&
    conditions.ifVersion > 0 &&
    conditions.ifEpoch !== undefined &&
    conditions.ifEpoch !== current.epoch
  )
    return null;
  return {
    ...sharedFields(session),
    status: 'signedIn',
    version: current.version + 1,
    updatedAt: Date.now(),
    epoch: epochAfter(current),
  };
}

/** The stored sign-out that follows the current record (`version` 0: nothing stored). */
export function signOutAfter(current: { version: number; epoch?: string | undefined }): StoredSession {
  return {
    status: 'signedOut',
    version: current.version + 1,
    updatedAt: Date.now(),
    epoch: epochAfter(current),
  };
}

/** A write keeps the stored record's epoch; the first write (or over a record without one) starts one. */
function epochAfter(current: { version: number; epoch?: string | undefined }): string {
  return current.version > 0 && current.epoch !== undefined ? current.epoch : newEpoch();
}

/**
 * A new epoch: when it began (epoch ms, base 36, on the creating writer's clock) and 64 random bits.
 * Its age tells holders that the store lost its data a moment ago, even those that already heard of it.
 */
export function newEpoch(now = Date.now()): string {
  return `${now.toString(36)}-${randomId().slice(0, 16)}`;
}

/** When `epoch` began (epoch ms), or `undefined` for an epoch that does not say (written by an older version). */
export function epochStart(epoch: string | undefined): number | undefined {
  const match = epoch === undefined ? null : /^([0-9a-z]+)-[0-9a-f]+$/.exec(epoch);
  if (!match) return undefined;
  const began = Number.parseInt(match[1]!, 36);
  return Number.isFinite(began) ? began : undefined;
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

/**
 * Resolves after `ms`, or rejects with `aborted` when `signal` aborts. The timer keeps Node alive: a
 * caller awaits what comes after the pause (a lock, a store write), and a script whose only pending
 * work is that wait must not end before it, with its promise never settled.
 */
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
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A random id for lock tokens, holder ids and epochs: 128 bits from Web Crypto's `getRandomValues`,
 * which Node 20 and every browser have, insecure contexts included (`randomUUID` needs https).
 */
export function randomId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Calls an app's logger, ignoring what it throws: logging never changes what coordination does. */
export function emitLog(logger: CoordinationLogger | undefined, entry: CoordinationLogEntry): void {
  if (!logger) return;
  try {
    logger(entry);
  } catch {
    // a broken logger is the app's problem
  }
}

/**
 * The pause before retry number `attempt` (0-based) of a store operation: 100 ms doubling up to
 * `capMs`, jittered to between half and all of it, so holders that failed together do not retry together.
 */
export function retryPause(attempt: number, capMs = 2_000): number {
  const ceiling = Math.min(capMs, 100 * 2 ** Math.min(attempt, 16));
  return ceiling * (0.5 + Math.random() / 2);
}

/**
 * A pause that {@link Wakeable.wake} cuts short (a reconnection: retry now). Like {@link sleep}, it
 * keeps Node alive: the store write it spaces out must not be dropped by a script that ends meanwhile.
 */
export class Wakeable {
  #wake: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#wake === done) self.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}
