/**
 * Storing what a holder has until the store has it, or has something newer: the one path by which
 * tokens a provider issued, and sign-outs, reach a coordinator's store.
 *
 * A store can fail at the worst moment: right after the provider answered a refresh (Redis out of
 * memory, a read-only replica, a restart), or it can forget everything (no persistence, `FLUSHALL`).
 * The tokens of a refresh are then the only valid ones anywhere (the refresh token that bought them is
 * spent), so they are never dropped: the holder uses them, and this operation keeps trying (jittered,
 * for a bounded time) until the store holds them or holds something newer, which the holder follows.
 *
 * Newer means: a later version of the same epoch than the record the holder's session was based on
 * (another holder wrote after it: the store wins); or, when versions cannot compare (another epoch,
 * a store gone back in time), the later of the two issue or sign-out times. Refreshed tokens are written
 * only under the lock with its fence; a refused fence is given up for a new lock, never for a write
 * without one.
 */
import type { AuthError } from '../errors.js';
import { toAuthError } from '../errors.js';
import { unrefTimer } from '../time.js';
import {
  isComparable,
  isNews,
  lockDefaults,
  type RecordRef,
  recordOf,
  refOf,
  retryPause,
  timeOf,
  Wakeable,
} from './common.js';
import type { SessionCoordinator, SessionLock, SharedSession, StoredSession } from './types.js';

/** How long a store operation keeps trying before it gives up, until the next resync. */
export const STORE_RETRY_MS = 60_000;

/**
 * How long a refresh waits for the first attempt to store its tokens before it hands them to the
 * machine anyway: a store that does not answer (ioredis queues commands while it reconnects) must not
 * hold up a session whose tokens are already in hand.
 */
export const FIRST_ATTEMPT_MS = 1_000;

/** A set that keeps only its most recent entries: enough to remember a few tokens, never all of them. */
export class RecentSet {
  readonly #items = new Set<string>();
  constructor(readonly limit = 16) {}
  add(item: string): void {
    this.#items.delete(item);
    this.#items.add(item);
    if (this.#items.size > this.limit) this.#items.delete(this.#items.values().next().value!);
  }
  has(item: string): boolean {
    return this.#items.has(item);
  }
}

/** A map that keeps only its most recent entries. */
export class RecentMap<V> {
  readonly #items = new Map<string, V>();
  constructor(readonly limit = 32) {}
  set(key: string, value: V): void {
    this.#items.delete(key);
    this.#items.set(key, value);
    if (this.#items.size > this.limit) this.#items.delete(this.#items.keys().next().value!);
  }
  get(key: string): V | undefined {
    return this.#items.get(key);
  }
}

/** What this process knows about one session key, shared by its links and its refreshes. */
export interface KeyState {
  /** The epoch of the newest record this process saw under the key. */
  epoch: string | undefined;
  /** True once this process saw any record under the key. */
  seen: boolean;
  /** Access tokens a coordinated refresh received: they reach the store only under the lock. */
  readonly fenced: RecentSet;
  /** Access tokens whose holder gave them up for a newer stored session: no path stores them. */
  readonly refused: RecentSet;
  /** Store operations in flight, by the access token they store (`''`: a sign-out). */
  readonly pending: Map<string, StoreOperation>;
  /**
   * When the tokens this process met were issued, by access token and by refresh token (writers'
   * clocks; 0: unknown, a session restored from a snapshot). What orders two sessions when versions
   * cannot: a store that lost its data may be given an older session again by a holder that missed
   * the last refresh, and its refresh token is then one already redeemed.
   */
  readonly issued: RecentMap<number>;
}

/** Notes when a session's tokens were issued (the first time this process meets them). */
export function noteIssued(
  state: KeyState,
  session: { accessToken: string | null; refreshToken: string | null; issuedAt: number },
): void {
  for (const token of [session.accessToken, session.refreshToken]) {
    if (token && state.issued.get(token) === undefined) state.issued.set(token, session.issuedAt);
  }
}

const states = new WeakMap<SessionCoordinator, Map<string, KeyState>>();

/** The state of `sessionKey` on `coordinator` in this process. */
export function keyState(coordinator: SessionCoordinator, sessionKey: string): KeyState {
  let byKey = states.get(coordinator);
  if (!byKey) {
    byKey = new Map();
    states.set(coordinator, byKey);
  }
  let state = byKey.get(sessionKey);
  if (!state) {
    state = {
      epoch: undefined,
      seen: false,
      fenced: new RecentSet(),
      refused: new RecentSet(),
      pending: new Map(),
      issued: new RecentMap(),
    };
    byKey.set(sessionKey, state);
  }
  return state;
}

/** Notes a record this process read or heard of. */
export function noteRecord(state: KeyState, record: StoredSession | null): void {
  if (!record) return;
  state.seen = true;
  state.epoch = record.epoch;
  if (record.status === 'signedIn') noteIssued(state, record);
}

/** What to store, and how to judge what is stored already. */
export interface StoreRequest {
  /** The session to store, or `null` for a sign-out. */
  session: SharedSession | null;
  /** The record this session was based on: read under the lock, or the last the holder saw. */
  basis: RecordRef | null;
  /** When the session was issued (a sign-out: when it happened), for stores whose versions cannot say. */
  time: number;
  /** Write only under the lock, with its fence (a refresh's tokens). */
  fenced: boolean;
  /** A lock already held for this write (the refresh's): the operation releases it when done. */
  lock?: SessionLock;
  lockTtlMs?: number;
  lockWaitMs?: number;
  /** Called once for each run of failures (the store did not answer, refused a write). */
  onError?: (error: AuthError) => void;
}

export type StoreOutcome =
  /** The store holds this session (or sign-out): written now, or found there. */
  | { kind: 'stored'; record: StoredSession }
  /** The store holds something newer: the holder follows it. */
  | { kind: 'superseded'; record: StoredSession }
  /** The store kept failing: the holder keeps what it has, and tries again on the next resync. */
  | { kind: 'failed' }
  | { kind: 'cancelled' };

/** A store operation under way. */
export interface StoreOperation {
  /** The outcome of the first attempt, or `retrying` when it did not settle the matter. */
  readonly first: Promise<StoreOutcome | { kind: 'retrying' }>;
  readonly done: Promise<StoreOutcome>;
  /** Retries now (the store's connection came back). */
  wake(): void;
  /** Stops trying (the holder moved on). */
  cancel(): void;
}

/** Whether to write over `now`, or whether it is this session already, or newer. */
function decide(now: StoredSession | null, request: StoreRequest): 'write' | 'stored' | 'superseded' {
  if (now === null) return 'write';
  if (request.session === null) {
    // A sign-out is what the person asked for: it lands over any session.
    return now.status === 'signedOut' ? 'stored' : 'write';
  }
  if (now.status === 'signedIn' && now.accessToken === request.session.accessToken) return 'stored';
  if (isComparable(now, request.basis))
    return now.version === request.basis!.version ? 'write' : 'superseded';
  // Another epoch (the store lost its data and a holder wrote since), or a store gone back in its
  // versions: the later issue (or sign-out) wins; a tie keeps what is stored.
  return timeOf(now) >= request.time ? 'superseded' : 'write';
}

/**
 * Stores `request.session` (or a sign-out) under `sessionKey` and publishes it, unless the store holds
 * something newer. Retries what fails with a jittered pause, for {@link STORE_RETRY_MS}; a resync of
 * the key (a reconnection) retries at once. Never rejects.
 */
export function storeSession(
  coordinator: SessionCoordinator,
  sessionKey: string,
  request: StoreRequest,
): StoreOperation {
  const state = keyState(coordinator, sessionKey);
  const pendingKey = request.session?.accessToken ?? '';
  const pause = new Wakeable();
  let cancelled = false;
  let settleFirst!: (value: StoreOutcome | { kind: 'retrying' }) => void;
  const first = new Promise<StoreOutcome | { kind: 'retrying' }>((resolve) => {
    settleFirst = resolve;
  });

  const run = async (): Promise<StoreOutcome> => {
    let lock = request.lock;
    let failures = 0;
    let misses = 0;
    let reported = false;
    const deadline = Date.now() + STORE_RETRY_MS;
    const stopResync = coordinator.onResync?.(sessionKey, () => pause.wake());
    try {
      for (;;) {
        if (cancelled) return { kind: 'cancelled' };
        try {
          const now = await coordinator.read(sessionKey);
          noteRecord(state, now);
          const decision = decide(now, request);
          if (decision === 'superseded') return { kind: 'superseded', record: now! };
          if (decision === 'stored') {
            // Written by an earlier attempt whose answer was lost: tell the others now.
            await coordinator.publish(sessionKey, now!).catch(() => {});
            return { kind: 'stored', record: now! };
          }
          if (request.fenced && !lock) {
            // A refresh's tokens are written under the lock only: wait for it, then read again under it.
            settleFirst({ kind: 'retrying' });
            lock = await coordinator.lock(sessionKey, {
              ttlMs: request.lockTtlMs ?? lockDefaults.ttlMs,
              waitMs: Math.max(1, Math.min(request.lockWaitMs ?? lockDefaults.waitMs, deadline - Date.now())),
            });
            continue;
          }
          const written = request.session
            ? await coordinator.write(sessionKey, request.session, {
                ...(lock ? { fence: lock.fence } : {}),
                ifVersion: now?.version ?? 0,
                ...(now?.epoch !== undefined ? { ifEpoch: now.epoch } : {}),
              })
            : await coordinator.clear(sessionKey);
          if (written) {
            noteRecord(state, written);
            // Stored is what matters; a notice lost here is found by the others' next read.
            await coordinator.publish(sessionKey, written).catch(() => {});
            return { kind: 'stored', record: written };
          }
          // Refused: another holder took the lock since this one's (the fence is stale: it is given up
          // for a new lock, never for a write without one), or the store changed between the read and
          // the write. Read again.
          if (lock && request.fenced) {
            const stale = lock;
            lock = undefined;
            void stale.release().catch(() => {});
          }
          misses++;
          if (Date.now() >= deadline) return { kind: 'failed' };
          if (misses > 3) {
            settleFirst({ kind: 'retrying' });
            await pause.sleep(retryPause(misses - 3));
          }
        } catch (error) {
          settleFirst({ kind: 'retrying' });
          if (cancelled) return { kind: 'cancelled' };
          if (!reported) {
            reported = true;
            try {
              request.onError?.(toAuthError(error));
            } catch {
              // the app's handler must not stop the retries
            }
          }
          if (Date.now() >= deadline) return { kind: 'failed' };
          await pause.sleep(Math.min(retryPause(failures++), Math.max(0, deadline - Date.now())));
        }
      }
    } finally {
      stopResync?.();
      if (lock) void lock.release().catch(() => {});
    }
  };

  const done = run().then(
    (outcome) => outcome,
    (): StoreOutcome => ({ kind: 'failed' }),
  );
  const slow = unrefTimer(setTimeout(() => settleFirst({ kind: 'retrying' }), FIRST_ATTEMPT_MS));
  const operation: StoreOperation = {
    first,
    done,
    wake: () => pause.wake(),
    cancel: () => {
      cancelled = true;
      pause.wake();
    },
  };
  state.pending.set(pendingKey, operation);
  void done.then((outcome) => {
    clearTimeout(slow);
    // A session the store already had something newer than is never stored by this process.
    if (outcome.kind === 'superseded' && request.session) state.refused.add(request.session.accessToken);
    settleFirst(outcome);
    if (state.pending.get(pendingKey) === operation) state.pending.delete(pendingKey);
  });
  return operation;
}

/**
 * Asks the holders of `sessionKey` to store again what they hold (`requestSync`), and resolves once the
 * store holds a record other than `from` that `enough` accepts (told by a notice), after `waitMs`, or
 * when `signal` aborts. Never rejects.
 */
export function syncAndWait(
  coordinator: SessionCoordinator,
  sessionKey: string,
  from: StoredSession | null,
  waitMs: number,
  signal?: AbortSignal,
  enough: (record: StoredSession) => boolean = () => true,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const accept = (record: StoredSession | null) =>
      record !== null && (!from || isNews(record, refOf(from))) && enough(record);
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    // Kept alive (not unref'd): the caller awaits the answer, at most `waitMs`.
    const timer = setTimeout(finish, waitMs);
    const unsubscribe = coordinator.subscribe(sessionKey, (notice) => {
      if (accept(recordOf(notice))) finish();
    });
    signal?.addEventListener('abort', finish, { once: true });
    if (signal?.aborted) finish();
    // A read after subscribe() returns once the subscription is in place: the answers to the request
    // cannot come before it. It also catches a record stored meanwhile.
    coordinator.read(sessionKey).then(
      (now) => {
        if (accept(now)) finish();
        else if (!done) coordinator.requestSync?.(sessionKey).catch(finish);
      },
      () => finish(),
    );
  });
}
