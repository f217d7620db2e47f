/**
 * The signed-in session both statecharts share, written once: the guards, actions, delays and the
 * root actor of the `signedIn` block and of the ways into and out of it. Each machine passes them to
 * its `setup()` (`guards: { ...session.guards, hasProjectId }`) and names them by string in its
 * one-literal config, so Stately still reads both machines; only what really differs between the
 * providers is given by each machine as {@link SessionRules}.
 *
 * The rules both machines follow:
 * - a session is cleared on entry to `signedOut` and `sessionExpired` (`entry: 'clearSession'`), and
 *   nowhere else; clearing never touches `error`;
 * - `error` is set by the transition that leaves (its actions run before the target's entry), and
 *   cleared by `clearError` when a person starts again (`auth.login`, `auth.logout`);
 * - whatever ends a session is kept as kind `session_expired`; a shared session is taken only when
 *   it can be used, and a signed-in holder never re-takes its own tokens.
 */
import { type AnyEventObject, assign, type EventObject, fromCallback } from 'xstate';
import type { SharedSession } from '../coordination/types.js';
import { type AuthErrorData, toAuthError } from '../errors.js';
import { delayUntil } from '../time.js';
import type { TokenSet } from '../types.js';
import {
  expiredOnArrivalError,
  isExpiredOnArrival,
  planAccessToken,
  planRefreshBackoff,
  sessionExpiredError,
  sharedTokenSet,
  signedOutElsewhereError,
} from './session.js';

/** The context fields every signed-in session has, whatever the provider. Plain data; times are local epoch ms. */
export interface SessionContext {
  /** The access token requests carry; `null` when signed out. */
  accessToken: string | null;
  /** The refresh token to use next; `null` when signed out or when the provider issued none. */
  refreshToken: string | null;
  /** Local epoch ms at which the access token expires. */
  accessTokenExpiresAt: number | null;
  /** Local epoch ms at which the next refresh starts (in `backingOff`, the next retry). */
  refreshAt: number | null;
  /** Server clock minus local clock, in ms, as measured by the last token answer. */
  clockSkewMs: number;
  /** Failed refreshes in a row (drives the backoff); 0 after a success. */
  refreshAttempts: number;
  /** What went wrong last, as plain data (`{ kind, message, status? }`); `null` when nothing did. */
  error: AuthErrorData | null;
  /** From input: refresh this long before the access token expires, in ms. */
  refreshLeewayMs: number;
  /** From input: upper bound of the random advance of each refresh, in ms. */
  refreshJitterMs: number;
  /** From input: lifetime assumed for an access token whose expiry is unknown, in ms. */
  accessTokenTtlMs: number;
}

/** What differs between providers in an otherwise shared session. */
export interface SessionRules<TContext extends SessionContext> {
  /**
   * The provider's own fields set with each token answer; `rotated` when it brought a new refresh
   * token (Marketiger starts that token's lifetime).
   */
  tokenFields(context: TContext, rotated: boolean, now: number): Partial<TContext>;
  /** The provider's own fields a shared session fills, or `null` when this provider cannot use it. */
  sharedSessionFields(context: TContext, session: SharedSession): Partial<TContext> | null;
  /** Every field that belongs to a session (tokens, ids, the sign-in's progress), cleared; `error` aside. */
  clearedSession(): Partial<TContext>;
}

type Args<TContext> = { context: TContext; event: AnyEventObject };

function sessionOf(event: EventObject): SharedSession | undefined {
  return event.type === 'session.updated' ? (event as { session?: SharedSession }).session : undefined;
}

/**
 * The shared session's guards, actions and delays for one machine's `setup()`.
 *
 * Guards: `isCurrentToken` (a 401 for a token already replaced is late news), `isRetryableError`,
 * `isExpiredOnArrival` (a refreshed token already past its expiry would be refreshed again at once,
 * forever: M8), `isUsableSession`, `isOtherSession`. Actions: `setTokens`, `setSharedSession`,
 * `setRefreshBackoff`, `setError`, `clearError`, `setSessionExpiredError`, `setExpiredOnArrivalError`,
 * `setSignedOutElsewhereError`, `clearSession`. Delays: `untilRefresh`, `refreshBackoff`.
 */
export function signedInSession<TContext extends SessionContext, TEvent extends EventObject>(
  rules: SessionRules<TContext>,
) {
  const shared = (context: TContext, event: EventObject): Partial<TContext> | null => {
    const session = sessionOf(event);
    return session ? rules.sharedSessionFields(context, session) : null;
  };
  const update = (fields: Partial<SessionContext>) => fields as Partial<TContext>;
  // `assign` typed for the machine's own context and events, as `setup()` wants its actions.
  const set = <TParams = undefined>(
    assigner: (args: { context: TContext; event: TEvent }, params: TParams) => Partial<TContext>,
  ) => assign<TContext, TEvent, TParams, TEvent, never>(assigner);

  return {
    guards: {
      // A 401 for a token already replaced is late news: refreshing again would waste the new token.
      isCurrentToken: ({ context, event }: Args<TContext>) =>
        event.type === 'auth.tokenRejected' &&
        context.accessToken !== null &&
        event.accessToken === context.accessToken,
      isRetryableError: (_: unknown, params: { error: unknown }) => toAuthError(params.error).retryable,
      // A refreshed access token already past its expiry (a clock far off) would be refreshed again
      // at once, forever (M8).
      isExpiredOnArrival: (_: unknown, tokens: TokenSet) => isExpiredOnArrival(tokens),
      // A shared session is taken only while this provider can use it.
      isUsableSession: ({ context, event }: Args<TContext>) => shared(context, event) !== null,
      // A signed-in holder takes another holder's tokens, never its own again (a notice of its own write).
      isOtherSession: ({ context, event }: Args<TContext>) =>
        sessionOf(event)?.accessToken !== context.accessToken && shared(context, event) !== null,
    },
    actions: {
      setTokens: set<TokenSet>(({ context }, tokens) => {
        const now = Date.now();
        // A new refresh token replaces the old one. An answer without one (RFC 6749 §6), or with the
        // same one again, keeps the old token (and, for Marketiger, its old end).
        const rotated = Boolean(tokens.refreshToken) && tokens.refreshToken !== context.refreshToken;
        return {
          ...update(planAccessToken(tokens, context, now)),
          ...update({ refreshToken: rotated ? tokens.refreshToken : context.refreshToken }),
          ...rules.tokenFields(context, rotated, now),
        };
      }),
      setSharedSession: set(({ context, event }) => {
        const session = sessionOf(event);
        if (!session) return {};
        return {
          ...update(planAccessToken(sharedTokenSet(session), context)),
          ...update({ refreshToken: session.refreshToken }),
          ...shared(context, event),
        };
      }),
      setRefreshBackoff: set<{ error: unknown }>(({ context }, params) =>
        update(planRefreshBackoff(context.refreshAttempts, params.error)),
      ),
      setError: set<{ error: unknown }>((_, params) => update({ error: toAuthError(params.error).toData() })),
      clearError: set(() => update({ error: null })),
      // Whatever ended the session is kept as `session_expired`, with the server's status when it was one.
      setSessionExpiredError: set<{ error: unknown } | undefined>((_, params) =>
        update({ error: sessionExpiredError(params?.error) }),
      ),
      setExpiredOnArrivalError: set(() => update({ error: expiredOnArrivalError() })),
      setSignedOutElsewhereError: set(() => update({ error: signedOutElsewhereError() })),
      // The one way a session is cleared: on entry to `signedOut` and `sessionExpired`. The error stays.
      clearSession: set(() => rules.clearedSession()),
    },
    delays: {
      untilRefresh: ({ context }: { context: TContext }) => delayUntil(context.refreshAt),
      refreshBackoff: ({ context }: { context: TContext }) => delayUntil(context.refreshAt),
    },
  };
}

/** The context a provider whose refresh tokens have a known end keeps besides {@link SessionContext}. */
export interface RefreshTokenEndContext extends SessionContext {
  /** When the current refresh token stops working. */
  refreshTokenExpiresAt: number | null;
}

/**
 * The guard and delay of a refresh token with a known end (Marketiger's 12 h): no server call can
 * extend it (P13).
 */
export function refreshTokenEnd<TContext extends RefreshTokenEndContext>() {
  return {
    guards: {
      // Checked on every way into `refreshing`, so that an expired refresh token is never sent (P13),
      // whichever of the two zero-delay timers of a stale restored session fires first.
      isRefreshTokenExpired: ({ context }: { context: TContext }) =>
        context.refreshToken === null ||
        context.refreshTokenExpiresAt === null ||
        context.refreshTokenExpiresAt <= Date.now(),
    },
    delays: {
      // Without a refresh token the session lasts as long as its access token.
      untilSessionEnd: ({ context }: { context: TContext }) =>
        delayUntil(context.refreshTokenExpiresAt ?? context.accessTokenExpiresAt),
    },
  };
}

/**
 * The root actor both machines invoke, so it runs whenever an actor starts: XState restarts invoked
 * children when a persisted snapshot is restored (`createActor(machine, { snapshot })`, `useMachine`),
 * but re-arms no `after` timer. Its `auth.resume` re-enters the timed states; on a fresh start the
 * machine is in `signedOut`, which ignores it.
 */
export const resumeTimers = fromCallback(({ sendBack }) => {
  sendBack({ type: 'auth.resume' });
});
