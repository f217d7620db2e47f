/**
 * The glue between one session actor and a coordinator: it turns what other holders publish into
 * machine events, and what this actor does into published notices.
 *
 * It sits outside the machine on purpose. `auth.logout` stays synchronous (the actor is `signedOut`
 * the moment it is sent); telling the others is a side effect of that transition, done here
 * asynchronously, like writing a new session after a sign-in. The machine sees only events
 * (`session.updated`, `session.ended`), so every way a session changes is on its diagram.
 */

import type { AuthError } from '../errors.js';
import { toAuthError } from '../errors.js';
import {
  isComparable,
  isNews,
  type RecordRef,
  recordOf,
  refOf,
  sharedFields,
  syncDefaults,
  timeOf,
} from './common.js';
import { keyState, noteIssued, noteRecord, type StoreOperation, storeSession, syncAndWait } from './store.js';
import type { SessionCoordinator, SessionNotice, SharedSession, StoredSession } from './types.js';

/** The event that hands a machine a session another holder wrote (or the stored one at start-up). */
export interface SessionUpdatedEvent {
  type: 'session.updated';
  session: SharedSession;
}

/** The event that tells a machine another holder signed the session out. */
export interface SessionEndedEvent {
  type: 'session.ended';
}

/** The context fields the glue reads: both machines have them (the Mrkter ids and Marketiger's refresh end as they apply). */
export interface CoordinatedContext {
  accessToken: string | null;
  refreshToken: string | null;
  accessTokenExpiresAt: number | null;
  refreshTokenExpiresAt?: number | null;
  clockSkewMs: number;
  accountId?: number | string | null;
  sessionId?: string | null;
}

/** The part of an actor the glue uses: `createActor(marketigerMachine…)` and `createActor(mrkterMachine…)` fit. */
export interface CoordinatedActor {
  getSnapshot(): { status: string; matches(value: any): boolean; context: CoordinatedContext };
  subscribe(
    observer: (snapshot: {
      status: string;
      matches(value: any): boolean;
      context: CoordinatedContext;
    }) => void,
  ): {
    unsubscribe(): void;
  };
  send(event: SessionUpdatedEvent | SessionEndedEvent): void;
}

/** Options of {@link coordinateSession}. */
export interface CoordinateSessionOptions {
  /** The key the holders of this session share (the same as the actors' `sessionKey`). */
  sessionKey: string;
  /**
   * Called when the store cannot be read or written (e.g. Redis is down), once per run of failures.
   * The session goes on locally, and what this holder has is stored when the store answers again.
   * Default: ignored.
   */
  onError?: (error: AuthError) => void;
  /**
   * When the store holds nothing at start (a fresh store, or one that lost its data), `ready` first
   * asks the holders already running to store their session again, and waits this long for one to
   * answer (coordinators that can lose data only: Redis, browser tabs) (default: `250`, `syncDefaults.waitMs`).
   */
  syncWaitMs?: number;
}

/** A running link between an actor and a coordinator. */
export interface CoordinatedSession {
  /**
   * Settles once the stored session was read and, when there was one and the actor was signed out,
   * handed to the actor: after it, `actor.getSnapshot().matches('signedIn')` says whether a sign-in is
   * still needed. Never rejects (errors go to `onError`).
   */
  readonly ready: Promise<void>;
  /** Stops listening to both sides. The actor keeps its session. */
  stop(): void;
}

/**
 * Links `actor` to the other holders of `sessionKey`:
 *
 * - at start, a stored session is handed to a signed-out actor (`session.updated`): a new tab or a new
 *   process starts signed in, without a password;
 * - tokens another holder publishes are handed over the same way (`session.updated`), and a sign-out
 *   another holder publishes ends this actor's session (`session.ended`, to `signedOut`);
 * - when this actor signs in (or gets tokens no other holder knows yet), they are written and published,
 *   unless the store holds a newer session by then, which the actor takes instead;
 * - when this actor signs out from `signedIn` (`auth.logout`), the sign-out is stored and published;
 * - when the store fails, what this actor has is kept and stored once the store answers again (retried
 *   with a jittered pause, and at once when the connection comes back); when the store forgot
 *   everything (a new epoch), the newer of what it holds and what this actor has wins, so sessions and
 *   sign-outs spread again.
 *
 * Refreshes are written by the actors themselves (`marketigerActors(api, { coordinator, sessionKey })`),
 * under the lock; give every holder both.
 *
 * @example
 * ```ts
 * const coordinator = createBrowserCoordinator();
 * const actor = createActor(
 *   marketigerMachine.provide({ actors: marketigerActors(api, { coordinator, sessionKey: 'me' }) }),
 * ).start();
 * const link = coordinateSession(actor, coordinator, { sessionKey: 'me' });
 * await link.ready;
 * if (!actor.getSnapshot().matches('signedIn')) showLoginForm();
 * // later: link.stop();
 * ```
 */
export function coordinateSession(
  actor: CoordinatedActor,
  coordinator: SessionCoordinator,
  options: CoordinateSessionOptions,
): CoordinatedSession {
  const { sessionKey } = options;
  const syncWaitMs = options.syncWaitMs ?? syncDefaults.waitMs;
  const state = keyState(coordinator, sessionKey);
  const report = (error: unknown) => {
    try {
      options.onError?.(toAuthError(error));
    } catch {
      // The app's error handler must not break the link.
    }
  };
  let stopped = false;
  let started = false;
  /** The newest stored record this link has seen: older notices arrive late and mean nothing. */
  let last: RecordRef | null = null;
  /** The access token of the newest session the store is known to hold (null: none or signed out). */
  let sharedToken: string | null = null;
  /** When this actor's session last ended by a sign-out (its own or another's), for stores that forget it. */
  let signedOutAt: number | null = null;
  /** True while this actor's own sign-out is not stored yet: it wins over whatever the store holds. */
  let signOutUnstored = false;
  /** True while this link itself ends the actor's session, so that the sign-out is not published back. */
  let ending = false;
  /** What this link is storing now, if anything (`''`: the sign-out). */
  let operation: { token: string; op: StoreOperation } | undefined;
  let previous = actor.getSnapshot();

  const tokenOf = (snapshot: ReturnType<CoordinatedActor['getSnapshot']>) =>
    snapshot.status === 'active' && snapshot.matches('signedIn') ? snapshot.context.accessToken : null;
  // When each token was issued orders this actor's session and a stored one when versions cannot (a
  // store that lost its data): kept per process (`state.issued`), shared with the refreshes. A session
  // the actor already had when the link started (restored from a snapshot) counts as older than any
  // stored one.
  const issuedAt = (token: string) => state.issued.get(token);
  if (tokenOf(previous)) {
    noteIssued(state, {
      accessToken: previous.context.accessToken,
      refreshToken: previous.context.refreshToken,
      issuedAt: 0,
    });
  }

  const remember = (record: StoredSession) => {
    last = refOf(record);
    noteRecord(state, record);
    sharedToken = record.status === 'signedIn' ? record.accessToken : null;
  };

  const cancelOperation = () => {
    operation?.op.cancel();
    operation = undefined;
  };

  const adopt = (session: SharedSession) => {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active' || snapshot.context.accessToken === session.accessToken) return;
    actor.send({ type: 'session.updated', session: sharedFields(session) });
  };

  const end = () => {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active' || snapshot.matches('signedOut')) return;
    ending = true;
    try {
      actor.send({ type: 'session.ended' });
    } finally {
      ending = false;
    }
  };

  /** Takes what the store holds: its session, or its sign-out. */
  const follow = (record: StoredSession) => {
    cancelOperation();
    signOutUnstored = false;
    if (record.status === 'signedIn') {
      signedOutAt = null;
      adopt(record);
    } else {
      signedOutAt = record.updatedAt;
      end();
    }
  };

  /** Stores this actor's session (unless something else of this process is storing it already). */
  const storeSessionOf = () => {
    const snapshot = actor.getSnapshot();
    const token = tokenOf(snapshot);
    if (!token || stopped) return;
    if (operation?.token === token || state.refused.has(token) || state.pending.has(token)) return;
    cancelOperation();
    const { context } = snapshot;
    const session: SharedSession = {
      accessToken: token,
      refreshToken: context.refreshToken,
      accessTokenExpiresAt: context.accessTokenExpiresAt,
      refreshTokenExpiresAt: context.refreshTokenExpiresAt ?? null,
      issuedAt: issuedAt(token) ?? Date.now(),
      clockSkewMs: context.clockSkewMs,
    };
    if (context.accountId !== undefined) session.accountId = context.accountId;
    if (context.sessionId !== undefined) session.sessionId = context.sessionId;
    const op = storeSession(coordinator, sessionKey, {
      session,
      basis: last,
      time: issuedAt(token) ?? 0,
      // Tokens of a coordinated refresh reach the store under the lock only.
      fenced: state.fenced.has(token),
      onError: report,
    });
    operation = { token, op };
    void op.done.then((outcome) => {
      if (operation?.op !== op) return;
      operation = undefined;
      if (stopped) return;
      if (outcome.kind === 'stored' && isNews(outcome.record, last)) remember(outcome.record);
      else if (outcome.kind === 'superseded') reconcile(outcome.record, 'resync');
    });
  };

  /** Stores this actor's sign-out, retried until the store has it. */
  const storeSignOut = () => {
    if (stopped || operation?.token === '') return;
    cancelOperation();
    signOutUnstored = true;
    const op = storeSession(coordinator, sessionKey, {
      session: null,
      basis: last,
      time: signedOutAt ?? Date.now(),
      fenced: false,
      onError: report,
    });
    operation = { token: '', op };
    void op.done.then((outcome) => {
      if (operation?.op !== op) return;
      operation = undefined;
      if (outcome.kind === 'stored') {
        signOutUnstored = false;
        if (!stopped && isNews(outcome.record, last)) remember(outcome.record);
      }
    });
  };

  /**
   * Judges a stored record against what this actor has, and acts: takes the record (a newer session, a
   * sign-out), or stores what the actor has (the store holds less: it failed, or forgot).
   */
  const reconcile = (record: StoredSession | null, source: 'notice' | 'resync' | 'start') => {
    if (stopped || actor.getSnapshot().status !== 'active') return;
    if (record && source === 'notice' && !isNews(record, last)) return;
    const token = tokenOf(actor.getSnapshot());
    if (record === null) {
      // The store holds nothing (it lost its data): store what this actor has, so others can join.
      if (token) storeSessionOf();
      return;
    }
    if (record.status === 'signedIn' && record.accessToken === token) {
      remember(record);
      return;
    }
    if (signOutUnstored) {
      // This actor's sign-out is on its way to the store, and wins over any session stored before it.
      remember(record);
      if (record.status === 'signedOut') signOutUnstored = false;
      else if (!operation) storeSignOut();
      return;
    }
    if (isComparable(record, last) && !isNews(record, last)) {
      // The store holds what this link saw last: this actor moved on without the store (tokens issued
      // after that record, which it could not store then), or signed out without it. Tokens older than
      // the record (a stored session the actor could not take) are never stored over it.
      if (token && token !== sharedToken && (issuedAt(token) ?? 0) > timeOf(record)) storeSessionOf();
      else if (!token && signedOutAt !== null && record.status === 'signedIn') storeSignOut();
      return;
    }
    if (source === 'start' && token && record.status === 'signedOut') {
      // A holder restored signed in (from its own snapshot) keeps its session over a stored sign-out.
      remember(record);
      storeSessionOf();
      return;
    }
    if (isComparable(record, last) || last === null) {
      // A later version of what this link saw: another holder wrote it after.
      remember(record);
      follow(record);
      return;
    }
    // Another epoch (the store lost its data and a holder wrote since), or a store gone back in its
    // versions: the later issue (or sign-out) wins; a tie keeps what is stored.
    const mine = token ? (issuedAt(token) ?? 0) : signedOutAt;
    remember(record);
    if (mine === null || timeOf(record) >= mine) follow(record);
    else if (token) storeSessionOf();
    else storeSignOut();
  };

  const onNotice = (notice: SessionNotice) => reconcile(recordOf(notice), 'notice');

  let resyncing = false;
  let resyncAgain = false;
  /** The store's connection came back, or a holder asked: compare with the store, retry what is pending. */
  const resync = () => {
    if (stopped) return;
    operation?.op.wake();
    if (resyncing) {
      resyncAgain = true;
      return;
    }
    resyncing = true;
    coordinator
      .read(sessionKey)
      .then((stored) => reconcile(stored, 'resync'))
      .catch(report)
      .finally(() => {
        resyncing = false;
        if (resyncAgain) {
          resyncAgain = false;
          resync();
        }
      });
  };

  const unsubscribeNotices = coordinator.subscribe(sessionKey, onNotice);
  const unsubscribeResync = coordinator.onResync?.(sessionKey, resync);
  const subscription = actor.subscribe((snapshot) => {
    const before = previous;
    previous = snapshot;
    if (stopped || !started || snapshot.status !== 'active') return;
    if (snapshot.matches('signedIn')) {
      const token = snapshot.context.accessToken;
      if (!token) return;
      // Tokens this process has not met yet were just issued (a sign-in): a refresh notes its own first.
      noteIssued(state, {
        accessToken: token,
        refreshToken: snapshot.context.refreshToken,
        issuedAt: Date.now(),
      });
      signedOutAt = null;
      signOutUnstored = false;
      if (token !== sharedToken) storeSessionOf();
      // What this link was storing is not the actor's session any more (a sign-out before a new sign-in,
      // tokens replaced by newer ones the store already has): stop.
      else if (operation && operation.token !== token) cancelOperation();
    } else if (before.matches('signedIn') && snapshot.matches('signedOut') && !ending) {
      signedOutAt = Date.now();
      storeSignOut();
    }
  });

  const ready = (async () => {
    let stored = await coordinator.read(sessionKey);
    if (stopped) return;
    if (stored === null && coordinator.requestSync && !tokenOf(actor.getSnapshot())) {
      // Nothing stored: a fresh store, or one that lost its data while other holders kept the session.
      // Ask them to store it again, and give them a moment.
      await syncAndWait(coordinator, sessionKey, null, syncWaitMs);
      stored = await coordinator.read(sessionKey);
      if (stopped) return;
    }
    reconcile(stored, 'start');
  })()
    .catch(report)
    .finally(() => {
      started = true;
      // Whatever happened while the store was being read (a sign-in, a sign-out) is shared now.
      const snapshot = actor.getSnapshot();
      const token = tokenOf(snapshot);
      if (!stopped && token && token !== sharedToken) storeSessionOf();
    });

  return {
    ready,
    stop() {
      stopped = true;
      cancelOperation();
      unsubscribeNotices();
      unsubscribeResync?.();
      subscription.unsubscribe();
    },
  };
}
