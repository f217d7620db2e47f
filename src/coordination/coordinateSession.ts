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
import { sharedFields, versionOf } from './common.js';
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
   * Called when the store cannot be read or written (e.g. Redis is down). The session goes on locally;
   * the others hear of it with the next write. Default: ignored.
   */
  onError?: (error: AuthError) => void;
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
 * - when this actor signs in (or gets tokens no other holder knows yet), they are written and published;
 * - when this actor signs out from `signedIn` (`auth.logout`), the sign-out is stored and published.
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
  const report = (error: unknown) => {
    try {
      options.onError?.(toAuthError(error));
    } catch {
      // The app's error handler must not break the link.
    }
  };
  let stopped = false;
  /** The newest stored version this link has seen: older notices arrive late and mean nothing. */
  let lastVersion = 0;
  /** The access token of the newest session the store is known to hold (null: none or signed out). */
  let sharedToken: string | null = null;
  /** True while this link itself ends the actor's session, so that the sign-out is not published back. */
  let ending = false;
  let previous = actor.getSnapshot();

  const seen = (session: StoredSession) => {
    if (session.version <= lastVersion) return false;
    lastVersion = session.version;
    sharedToken = session.status === 'signedIn' ? session.accessToken : null;
    return true;
  };

  const adopt = (session: SharedSession) => {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active' || snapshot.context.accessToken === session.accessToken) return;
    actor.send({ type: 'session.updated', session: sharedFields(session) });
  };

  const onNotice = (notice: SessionNotice) => {
    if (stopped || versionOf(notice) <= lastVersion) return;
    if (notice.type === 'updated') {
      seen(notice.session);
      adopt(notice.session);
      return;
    }
    lastVersion = notice.version;
    sharedToken = null;
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active' || snapshot.matches('signedOut')) return;
    ending = true;
    try {
      actor.send({ type: 'session.ended' });
    } finally {
      ending = false;
    }
  };

  /** Writes this actor's tokens when the store does not hold them yet, and tells the others. */
  const share = (context: CoordinatedContext) => {
    if (!context.accessToken || context.accessToken === sharedToken) return;
    sharedToken = context.accessToken;
    const session: SharedSession = {
      accessToken: context.accessToken,
      refreshToken: context.refreshToken,
      accessTokenExpiresAt: context.accessTokenExpiresAt,
      refreshTokenExpiresAt: context.refreshTokenExpiresAt ?? null,
      issuedAt: Date.now(),
      clockSkewMs: context.clockSkewMs,
    };
    if (context.accountId !== undefined) session.accountId = context.accountId;
    if (context.sessionId !== undefined) session.sessionId = context.sessionId;
    coordinator
      .write(sessionKey, session)
      .then((written) => {
        if (!written) return;
        seen(written);
        return coordinator.publish(sessionKey, written);
      })
      .catch(report);
  };

  const signOut = () => {
    sharedToken = null;
    coordinator
      .clear(sessionKey)
      .then((cleared) => {
        seen(cleared);
        return coordinator.publish(sessionKey, cleared);
      })
      .catch(report);
  };

  const unsubscribeNotices = coordinator.subscribe(sessionKey, onNotice);
  let started = false;
  const subscription = actor.subscribe((snapshot) => {
    const before = previous;
    previous = snapshot;
    if (stopped || !started || snapshot.status !== 'active') return;
    if (snapshot.matches('signedIn')) share(snapshot.context);
    else if (before.matches('signedIn') && snapshot.matches('signedOut') && !ending) signOut();
  });

  const ready = coordinator
    .read(sessionKey)
    .then((stored) => {
      if (stopped) return;
      const snapshot = actor.getSnapshot();
      const signedIn = snapshot.matches('signedIn');
      if (stored && seen(stored) && stored.status === 'signedIn') {
        // The store is what every holder shares: a signed-out actor starts from it, a signed-in one
        // (restored from its own snapshot) takes it if it is another session (the machine decides).
        adopt(stored);
      } else if (signedIn) {
        share(snapshot.context);
      }
    })
    .catch(report)
    .finally(() => {
      started = true;
      // Whatever happened while the store was being read (a sign-in, a sign-out) is shared now.
      const snapshot = actor.getSnapshot();
      if (!stopped && snapshot.status === 'active' && snapshot.matches('signedIn')) share(snapshot.context);
    });

  return {
    ready,
    stop() {
      stopped = true;
      unsubscribeNotices();
      subscription.unsubscribe();
    },
  };
}
