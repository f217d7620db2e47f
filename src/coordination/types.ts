/**
 * One session shared by many holders: browser tabs of one origin, or instances of a service. A
 * {@link SessionCoordinator} gives them three things, per session key:
 *
 * - a store of the latest session (plain JSON data, with a version that only grows within an epoch,
 *   the record's lifetime in the store: a store that lost its data starts a new one);
 * - a lock with an expiry and a fencing token, taken around every refresh, so that one holder
 *   refreshes and the others adopt what it wrote (a rotated refresh token can be spent only once);
 * - notifications ('tokens updated', 'signed out') that every holder turns into machine events.
 *
 * Adapters: `createMemoryCoordinator()` (one process), `createBrowserCoordinator()` (Web Locks and
 * BroadcastChannel) and `createRedisCoordinator()` from `authcharts/redis` (several processes).
 */

/**
 * The session data a holder can adopt: what `session.updated` carries into a machine. Plain JSON.
 * Times are epoch ms on the writer's clock.
 */
export interface SharedSession {
  accessToken: string;
  /** `null` when the provider issued none (a Mrkter login without `offline_access`). */
  refreshToken: string | null;
  accessTokenExpiresAt: number | null;
  /**
   * When the refresh token stops working, when the writer knew it (Marketiger's 12 h); `null` lets the
   * adopting machine apply its own lifetime from `issuedAt`.
   */
  refreshTokenExpiresAt: number | null;
  /** When these tokens were received from the provider (0: not known, a session restored from a snapshot). */
  issuedAt: number;
  /** Server clock minus local clock, as measured by the writer. */
  clockSkewMs: number;
  /** Mrkter: the selected identity's account id (sent as `x-account-id`). */
  accountId?: number | string | null;
  /** Mrkter: the session id of the code validation (sent as `x-session-id`). */
  sessionId?: string | null;
}

/**
 * What the store keeps under a session key. A sign-out is kept too (`status: 'signedOut'`, no
 * tokens), not deleted: a refresh that was in flight elsewhere sees it and does not bring the session
 * back, and a late notice of an older version is recognised as late.
 *
 * `version` grows by one with every write; `epoch` names the record's lifetime in the store: it is
 * created by the write that finds nothing stored and kept by every later write. Versions compare only
 * within one epoch: a store that lost its data (a restart without persistence, a failover to an empty
 * replica, `FLUSHALL`) starts again at version 1 under a new epoch, and holders notice.
 */
export type StoredSession =
  | ({ status: 'signedIn'; version: number; updatedAt: number; epoch?: string } & SharedSession)
  | { status: 'signedOut'; version: number; updatedAt: number; epoch?: string };

/** Conditions on a {@link SessionCoordinator.write}: it is refused (resolves `null`) when one fails. */
export interface WriteConditions {
  /**
   * The lock's fencing token: refused when another holder took the lock since (this holder's lock
   * expired while it was still working: a long pause, a slow network).
   */
  fence?: number;
  /** Refused unless the stored version is still this one (`0`: nothing stored yet). */
  ifVersion?: number;
  /**
   * With `ifVersion` above 0: refused unless the stored record is also of this epoch (a store that lost
   * its data and counted up to the same version again holds another session).
   */
  ifEpoch?: string;
}

/** A held lock. Release it in `finally`; an unreleased lock still expires. */
export interface SessionLock {
  /** Grows with every acquisition of this key's lock: pass it to `write` as `fence`. */
  readonly fence: number;
  release(): Promise<void>;
}

/** Options of {@link SessionCoordinator.lock}. */
export interface LockOptions {
  /**
   * The lock expires this long after it was taken, whatever its holder does (a killed process must
   * not block the others for ever). Longer than a refresh may take (default: `20_000`, `lockDefaults.ttlMs`).
   */
  ttlMs?: number;
  /** Give up waiting after this long: the promise rejects with `AuthError` `timeout` (default: `30_000`, `lockDefaults.waitMs`). */
  waitMs?: number;
  /** Stop waiting: the promise rejects with `AuthError` `aborted`. */
  signal?: AbortSignal;
}

/** What holders tell each other. Listeners get the stored session, already read. */
export type SessionNotice =
  | { type: 'updated'; session: Extract<StoredSession, { status: 'signedIn' }> }
  | { type: 'signedOut'; version: number; epoch?: string; updatedAt?: number };

/**
 * The shared store, lock and notifications behind coordinated sessions. Every method is keyed by a
 * session key (one per signed-in user or service account, e.g. `'marketiger:reports-bot'`).
 *
 * @example
 * ```ts
 * const coordinator = createMemoryCoordinator();
 * const lock = await coordinator.lock('user-1', { ttlMs: 10_000 });
 * try {
 *   const stored = await coordinator.read('user-1');
 *   await coordinator.write('user-1', session, { fence: lock.fence });
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export interface SessionCoordinator {
  /** The stored session, or `null` when nothing was ever written under this key. */
  read(sessionKey: string): Promise<StoredSession | null>;
  /**
   * Stores `session` with the next version and resolves with what was stored, or `null` when a
   * condition failed. Does not notify: call {@link SessionCoordinator.publish} with the result.
   */
  write(
    sessionKey: string,
    session: SharedSession,
    conditions?: WriteConditions,
  ): Promise<StoredSession | null>;
  /** Stores a sign-out (the next version, no tokens) and resolves with it. */
  clear(sessionKey: string): Promise<StoredSession>;
  /** Waits for and takes the key's lock. */
  lock(sessionKey: string, options?: LockOptions): Promise<SessionLock>;
  /**
   * Tells every holder of the key (in this process too) about a stored session: `updated` for a
   * signed-in one, `signedOut` for a sign-out.
   */
  publish(sessionKey: string, session: StoredSession): Promise<void>;
  /** Calls `listener` for every notice on the key, until the returned function is called. */
  subscribe(sessionKey: string, listener: (notice: SessionNotice) => void): () => void;
  /**
   * Optional, for stores that can lose data or notices (Redis, the tabs of a browser): asks every
   * holder of the key to compare what it holds with the store and store it again when the store holds
   * less (`onResync` listeners everywhere, this process included).
   */
  requestSync?(sessionKey: string): Promise<void>;
  /**
   * Optional: calls `listener` whenever the holders of the key should compare what they hold with the
   * store: the connection to the store came back after a drop (notices may have been lost), or a holder
   * asked (`requestSync`). Until the returned function is called.
   */
  onResync?(sessionKey: string, listener: () => void): () => void;
}

/**
 * What a coordinator reports about its store and its connections (a dropped connection, a
 * reconnection, a browser API that is missing). Plain data, never a token.
 */
export interface CoordinationLogEntry {
  level: 'info' | 'warn';
  /**
   * `connection_lost`, `reconnected`, `connection_ended`: a Redis connection; `store_failed`: a write
   * that is being retried; `degraded`: a browser without an API the coordinator needs.
   */
  event: 'connection_lost' | 'reconnected' | 'connection_ended' | 'store_failed' | 'degraded';
  message: string;
  /** Which Redis connection: the one for commands, or the one subscribed to notices. */
  connection?: 'commands' | 'notices';
}

/** Receives {@link CoordinationLogEntry}s. A logger that throws is ignored. */
export type CoordinationLogger = (entry: CoordinationLogEntry) => void;

/** Options of `marketigerActors(api, options)` and `mrkterActors(api, options)`. */
export interface CoordinationOptions {
  coordinator: SessionCoordinator;
  /** The key the holders of one session share. */
  sessionKey: string;
  /** Lock expiry: longer than a refresh may take (the services time out after 15 s) (default: `20_000`, `lockDefaults.ttlMs`). */
  lockTtlMs?: number;
  /** How long a holder waits for another's refresh before it gives up (a retryable `timeout`) (default: `30_000`, `lockDefaults.waitMs`). */
  lockWaitMs?: number;
  /**
   * When the store turns out to have lost the session since this process last read it (empty, or a
   * new epoch), a refresh first asks the other holders to store again what they hold and waits up to
   * this long, so that it never spends a refresh token another holder already redeemed. So does every
   * refresh in the first `resetWaitMs` of an epoch that began with a session stored again, for what is
   * left of it
   * (default: `2_000`, `syncDefaults.resetWaitMs`).
   */
  resetWaitMs?: number;
}
