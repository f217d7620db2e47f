/**
 * The Marketiger sign-in flow: email and password, an optional project access check, then
 * a session that refreshes its access token before it expires and ends when the refresh token does.
 *
 * The machine is pure: it calls its actors by name (`login`, `refreshTokens`, `checkProjectAccess`),
 * which `marketigerActors(api)` provides, and keeps only plain data in context. Every timer is an
 * `after` whose delay is computed from an absolute time in context, so `auth.resume` can re-arm them
 * after a persisted snapshot is restored (XState re-arms none by itself); the root actor
 * `resumeTimers` sends it whenever the actor starts, restores included.
 */
import { assertEvent, fromPromise, setup } from 'xstate';
import type { SharedSession } from '../coordination/types.js';
import type { MarketigerApi, TokenSet } from '../types.js';
import {
  DEFAULT_ACCESS_TOKEN_TTL_MS,
  DEFAULT_REFRESH_JITTER_MS,
  DEFAULT_REFRESH_LEEWAY_MS,
  isUsableSharedSession,
  notProvided as notProvidedBy,
  numberOr,
  withSecret,
} from './session.js';
import { refreshTokenEnd, resumeTimers, type SessionContext, signedInSession } from './signedInSession.js';

const notProvided = (name: string): never => notProvidedBy('Marketiger', 'marketigerActors', name);

/**
 * When a shared session's refresh token ends: as its writer knew it, else (a token this machine already
 * holds) the end it already planned, else its own lifetime from when the tokens were issued.
 */
function sharedRefreshEnd(context: MarketigerContext, session: SharedSession): number | null {
  if (!session.refreshToken) return null;
  if (typeof session.refreshTokenExpiresAt === 'number') return session.refreshTokenExpiresAt;
  if (session.refreshToken === context.refreshToken) return context.refreshTokenExpiresAt;
  const issuedAt = typeof session.issuedAt === 'number' ? session.issuedAt : Date.now();
  return issuedAt + context.refreshTokenTtlMs;
}

/**
 * What `createActor(marketigerMachine, { input })` takes. The object and every field are optional;
 * what a field left out means is in {@link marketigerInputDefaults}.
 *
 * @example
 * ```ts
 * createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), { input: { projectId: 'p-1' } });
 * ```
 */
export interface MarketigerInput {
  /** When set, sign-in also checks that the account may use this project before reaching `signedIn` (default: none, no check). */
  projectId?: string;
  /** Refresh this long before the access token expires, in ms (default: 60 000). */
  refreshLeewayMs?: number;
  /** Lifetime of a refresh token from when it is received, in ms; the provider's guide says 12 h (default: 43 200 000). */
  refreshTokenTtlMs?: number;
  /** Lifetime assumed for an access token that carries no `exp`, in ms (default: 3 600 000, 1 h). */
  accessTokenTtlMs?: number;
  /** Up to this much earlier, at random, so sessions signed in together do not refresh together, in ms (default: 60 000). */
  refreshJitterMs?: number;
}

/**
 * What each {@link MarketigerInput} field left out (or not a usable number) means. A `projectId` left
 * out means no project check.
 */
export const marketigerInputDefaults = {
  /** (default: 60 000 ms) */
  refreshLeewayMs: DEFAULT_REFRESH_LEEWAY_MS,
  /** (default: 43 200 000 ms, 12 h) */
  refreshTokenTtlMs: 12 * 60 * 60 * 1000,
  /** (default: 3 600 000 ms, 1 h) */
  accessTokenTtlMs: DEFAULT_ACCESS_TOKEN_TTL_MS,
  /** (default: 60 000 ms) */
  refreshJitterMs: DEFAULT_REFRESH_JITTER_MS,
} as const satisfies Required<Omit<MarketigerInput, 'projectId'>>;

/** The machine's context: plain, serialisable data only. Times are local epoch ms. */
export interface MarketigerContext extends SessionContext {
  /** When the current refresh token stops working: set each time a new one is received. */
  refreshTokenExpiresAt: number | null;
  /** From input: the project sign-in checks, or `null` for none. */
  projectId: string | null;
  /** From input: lifetime of a refresh token from when it is received, in ms. */
  refreshTokenTtlMs: number;
}

/** Every event the machine answers (XState's own done/error/after events aside). */
export type MarketigerEvent =
  | { type: 'auth.login'; email: string; password: string }
  | { type: 'auth.logout' }
  | { type: 'auth.refresh' }
  /** A server refused `accessToken`: refresh at once if it is still the current one. */
  | { type: 'auth.tokenRejected'; accessToken: string }
  /** Re-arm the timers from the absolute times in context (after restoring a persisted snapshot). */
  | { type: 'auth.resume' }
  /**
   * Another holder of the session (a tab, a process: see `coordinateSession`) has these tokens: take
   * them, from `signedOut` and `sessionExpired` too, so a new holder starts signed in without a password.
   */
  | { type: 'session.updated'; session: SharedSession }
  /** Another holder signed the session out. */
  | { type: 'session.ended' };

type LoginInput = Parameters<MarketigerApi['login']>[0];
type RefreshInput = Parameters<MarketigerApi['refreshTokens']>[0];
type ProjectAccessInput = Parameters<MarketigerApi['checkProjectAccess']>[0];

/** The initial context for an input: every field left out (or unusable) takes its default. */
function initialContext(input: MarketigerInput = {}): MarketigerContext {
  const defaults = marketigerInputDefaults;
  return {
    accessToken: null,
    refreshToken: null,
    accessTokenExpiresAt: null,
    refreshTokenExpiresAt: null,
    refreshAt: null,
    clockSkewMs: 0,
    refreshAttempts: 0,
    error: null,
    projectId: typeof input.projectId === 'string' && input.projectId !== '' ? input.projectId : null,
    refreshLeewayMs: numberOr(input.refreshLeewayMs, defaults.refreshLeewayMs),
    refreshTokenTtlMs: numberOr(input.refreshTokenTtlMs, defaults.refreshTokenTtlMs, true),
    accessTokenTtlMs: numberOr(input.accessTokenTtlMs, defaults.accessTokenTtlMs, true),
    refreshJitterMs: numberOr(input.refreshJitterMs, defaults.refreshJitterMs),
  };
}

/** The signed-in session shared with Mrkter, with what Marketiger's own: a refresh token's known end. */
const session = signedInSession<MarketigerContext, MarketigerEvent>({
  // A new refresh token brings its own lifetime; the same one again keeps its old end, so the
  // session never outlives its token.
  tokenFields: (context, rotated, now) => ({
    refreshTokenExpiresAt: rotated ? now + context.refreshTokenTtlMs : context.refreshTokenExpiresAt,
  }),
  // A shared session is taken only while its refresh token has not ended.
  sharedSessionFields: (context, shared) => {
    const refreshTokenExpiresAt = sharedRefreshEnd(context, shared);
    return isUsableSharedSession(shared, refreshTokenExpiresAt) ? { refreshTokenExpiresAt } : null;
  },
  clearedSession: () => ({
    accessToken: null,
    refreshToken: null,
    accessTokenExpiresAt: null,
    refreshTokenExpiresAt: null,
    refreshAt: null,
    refreshAttempts: 0,
  }),
});
const tokenEnd = refreshTokenEnd<MarketigerContext>();

/**
 * The Marketiger statechart (`id: 'marketiger'`).
 *
 * States: `signedOut` → `signingIn` → (`checkingProject` when `input.projectId` is set) →
 * `signedIn` (`active`, `refreshing`, `backingOff`) → `sessionExpired` when the refresh token expires
 * or a refresh is refused. States that wait on the network carry the tag `busy`. Actors are referenced
 * by name: provide them with `marketigerActors(api)`.
 *
 * XState's own restore idiom re-arms every timer: `createActor(marketigerMachine.provide(...),
 * { snapshot })` (or `useMachine(machine, { snapshot })`) restarts the root actor `resumeTimers`,
 * which sends `auth.resume`, and the machine re-enters its timed state with delays computed from the
 * absolute times in context (XState persists no pending timer). Sending `auth.resume` yourself, or
 * `restoreActor`, does the same and is harmless twice.
 *
 * @example
 * ```ts
 * const api = createMarketigerApi();
 * const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) })).start();
 * actor.send({ type: 'auth.login', email, password });
 * await waitFor(actor, (s) => s.matches('signedIn') || s.matches('signedOut'));
 * ```
 */
export const marketigerMachine = setup({
  types: {
    context: {} as MarketigerContext,
    events: {} as MarketigerEvent,
    // `| void` rather than `| undefined`: setup's inference drops `undefined` from an optional
    // property, and then `createActor(marketigerMachine)` without input would not typecheck.
    // biome-ignore lint/suspicious/noConfusingVoidType: see above; the only way XState 5.33 keeps input optional
    input: {} as MarketigerInput | void,
    tags: {} as 'busy',
    // Each invoked child by id, with the actor it runs: the declarations then name every child, rather
    // than a string index that a callback actor beside promise actors does not fit (TS2411 under
    // `skipLibCheck: false`).
    children: {} as {
      login: 'login';
      checkProjectAccess: 'checkProjectAccess';
      refreshTokens: 'refreshTokens';
      resumeTimers: 'resumeTimers';
    },
  },
  actors: {
    login: fromPromise<TokenSet, LoginInput>(async () => notProvided('login')),
    refreshTokens: fromPromise<TokenSet, RefreshInput>(async () => notProvided('refreshTokens')),
    checkProjectAccess: fromPromise<void, ProjectAccessInput>(async () => notProvided('checkProjectAccess')),
    resumeTimers,
  },
  guards: {
    ...session.guards,
    ...tokenEnd.guards,
    hasProjectId: ({ context }) => context.projectId !== null,
  },
  actions: session.actions,
  delays: {
    ...session.delays,
    ...tokenEnd.delays,
  },
}).createMachine({
  id: 'marketiger',
  initial: 'signedOut',
  // Re-arms every timer when a persisted snapshot is restored (see `resumeTimers`).
  invoke: { id: 'resumeTimers', src: 'resumeTimers' },
  context: ({ input }) => initialContext(input ?? {}),
  states: {
    signedOut: {
      description: 'no session',
      // Every way out of a session ends here or in `sessionExpired`, and both forget the tokens.
      entry: 'clearSession',
      on: {
        'auth.login': { target: 'signingIn', actions: 'clearError' },
        'session.updated': { guard: 'isUsableSession', target: 'signedIn', actions: 'setSharedSession' },
      },
    },
    signingIn: {
      description: 'sending email and password to /Auth/Login',
      tags: 'busy',
      invoke: {
        id: 'login',
        src: 'login',
        input: ({ event }) => {
          assertEvent(event, 'auth.login');
          return withSecret({ email: event.email }, 'password', event.password);
        },
        onDone: [
          {
            guard: 'hasProjectId',
            target: 'checkingProject',
            actions: { type: 'setTokens', params: ({ event }) => event.output },
          },
          {
            target: 'signedIn',
            actions: { type: 'setTokens', params: ({ event }) => event.output },
          },
        ],
        onError: {
          target: 'signedOut',
          actions: { type: 'setError', params: ({ event }) => ({ error: event.error }) },
        },
      },
      on: {
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
      },
    },
    checkingProject: {
      description: 'asking /Project/HasAccesToProject whether the account may use the project',
      tags: 'busy',
      invoke: {
        id: 'checkProjectAccess',
        src: 'checkProjectAccess',
        input: ({ context }) => ({
          accessToken: context.accessToken ?? '',
          projectId: context.projectId ?? '',
        }),
        onDone: { target: 'signedIn' },
        onError: {
          target: 'signedOut',
          actions: { type: 'setError', params: ({ event }) => ({ error: event.error }) },
        },
      },
      on: {
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
      },
    },
    signedIn: {
      description: 'signed in: the access token is refreshed before it expires, until the refresh token ends',
      initial: 'active',
      after: {
        // The refresh token's own end: no server call can extend it (P13).
        untilSessionEnd: {
          target: 'sessionExpired',
          actions: 'setSessionExpiredError',
        },
      },
      on: {
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
        // Re-entering re-arms every timer from the absolute times in context (XState does not
        // persist pending timers): a token already past refreshAt is refreshed once, at once.
        'auth.resume': { target: 'signedIn', reenter: true },
        // Another holder refreshed (or signed in again): its tokens replace these, timers re-armed.
        // Taken in `refreshing` too: that refresh is then aborted, its answer no longer needed.
        'session.updated': {
          guard: 'isOtherSession',
          target: 'signedIn',
          reenter: true,
          actions: 'setSharedSession',
        },
        'session.ended': { target: 'signedOut', actions: 'setSignedOutElsewhereError' },
      },
      states: {
        active: {
          description: 'signed in: requests carry the access token',
          after: {
            untilRefresh: { target: 'checkingRefreshToken' },
          },
          on: {
            'auth.refresh': { target: 'checkingRefreshToken' },
            // A late 401 for a token already replaced changes nothing.
            'auth.tokenRejected': { guard: 'isCurrentToken', target: 'checkingRefreshToken' },
          },
        },
        checkingRefreshToken: {
          description:
            'a refresh is due: it starts while the refresh token is valid, else the session ends (never rests here)',
          // Every way into `refreshing` passes here, so an expired refresh token is never sent (P13).
          always: [
            {
              guard: 'isRefreshTokenExpired',
              target: '#marketiger.sessionExpired',
              actions: 'setSessionExpiredError',
            },
            { target: 'refreshing' },
          ],
        },
        refreshing: {
          description: 'trading the refresh token for new tokens',
          tags: 'busy',
          invoke: {
            id: 'refreshTokens',
            src: 'refreshTokens',
            input: ({ context }) => ({ refreshToken: context.refreshToken ?? '' }),
            onDone: [
              {
                guard: { type: 'isExpiredOnArrival', params: ({ event }) => event.output },
                target: '#marketiger.sessionExpired',
                actions: 'setExpiredOnArrivalError',
              },
              {
                // `signedIn`, not just `active`: a rotated refresh token moves the session's end.
                target: '#marketiger.signedIn',
                reenter: true,
                actions: { type: 'setTokens', params: ({ event }) => event.output },
              },
            ],
            onError: [
              {
                guard: { type: 'isRetryableError', params: ({ event }) => ({ error: event.error }) },
                target: 'backingOff',
                actions: { type: 'setRefreshBackoff', params: ({ event }) => ({ error: event.error }) },
              },
              {
                // A refused refresh (400, 401, 403: `session_expired`) or any other lasting failure.
                target: '#marketiger.sessionExpired',
                actions: { type: 'setSessionExpiredError', params: ({ event }) => ({ error: event.error }) },
              },
            ],
          },
          on: {
            // One refresh at a time. After a restore the refresh that was in flight runs again;
            // re-entering signedIn would abort it and send the same refresh token a second time (P11).
            'auth.resume': {},
          },
        },
        backingOff: {
          description: 'the refresh failed for a passing reason; waiting before the next try',
          after: {
            refreshBackoff: { target: 'checkingRefreshToken' },
          },
          on: {
            'auth.refresh': { target: 'checkingRefreshToken' },
          },
        },
      },
    },
    sessionExpired: {
      description: 'the refresh token is spent or refused: sign in again',
      entry: 'clearSession',
      on: {
        'auth.login': { target: 'signingIn', actions: 'clearError' },
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
        'session.updated': { guard: 'isUsableSession', target: 'signedIn', actions: 'setSharedSession' },
      },
    },
  },
});
