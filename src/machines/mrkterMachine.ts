/**
 * The Mrkter sign-in statechart: Auth0 password grant → vendor identities → SMS code → code
 * validation (the session id) → a signed-in session that refreshes its access token with the Auth0
 * refresh_token grant. Pure: no I/O and no timers of its own besides `after`; the actors that call
 * the API come from `mrkterActors(api)` through `machine.provide`.
 */

import { assertEvent, assign, fromPromise, setup } from 'xstate';
import type { SharedSession } from '../coordination/types.js';
import { AuthError, type AuthErrorKind, toAuthError } from '../errors.js';
import { delayUntil } from '../time.js';
import type { MrkterIdentity, TokenSet } from '../types.js';
import { identityProblem } from './identity.js';
import {
  DEFAULT_ACCESS_TOKEN_TTL_MS,
  DEFAULT_REFRESH_JITTER_MS,
  DEFAULT_REFRESH_LEEWAY_MS,
  isUsableSharedSession,
  notProvided as notProvidedBy,
  numberOr,
  withSecret,
} from './session.js';
import { resumeTimers, type SessionContext, signedInSession } from './signedInSession.js';

/**
 * Configuration of {@link mrkterMachine}; the object and every field are optional.
 *
 * @example
 * ```ts
 * createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), { input: { maxCodeAttempts: 5 } });
 * ```
 */
export interface MrkterInput {
  /** With exactly one selectable identity, request its code without asking (default: true). */
  autoSelectSingleIdentity?: boolean;
  /** Wrong codes allowed before the flow ends in `signedOut` with `too_many_attempts`; at least 1 (default: 3). */
  maxCodeAttempts?: number;
  /** Wait before `code.resend` is accepted, in ms (default: 30 000). */
  resendCooldownMs?: number;
  /** Refresh this long before the access token expires, in ms (default: 60 000). */
  refreshLeewayMs?: number;
  /** Lifetime assumed for an access token whose expiry is unknown, in ms (default: 3 600 000, 1 h). */
  accessTokenTtlMs?: number;
  /** Upper bound of the random advance of each refresh, in ms (default: 60 000). */
  refreshJitterMs?: number;
}

/** What each {@link MrkterInput} field left out (or not a usable value) means. */
export const mrkterInputDefaults = {
  /** (default: true) */
  autoSelectSingleIdentity: true,
  /** (default: 3) */
  maxCodeAttempts: 3,
  /** (default: 30 000 ms) */
  resendCooldownMs: 30_000,
  /** (default: 60 000 ms) */
  refreshLeewayMs: DEFAULT_REFRESH_LEEWAY_MS,
  /** (default: 3 600 000 ms, 1 h) */
  accessTokenTtlMs: DEFAULT_ACCESS_TOKEN_TTL_MS,
  /** (default: 60 000 ms) */
  refreshJitterMs: DEFAULT_REFRESH_JITTER_MS,
} as const satisfies Required<MrkterInput>;

/**
 * What {@link mrkterMachine} keeps: plain serialisable data only (never a password or an SMS code).
 *
 * @example
 * ```ts
 * const { accessToken, accountId, sessionId } = actor.getSnapshot().context;
 * ```
 */
export interface MrkterContext extends SessionContext {
  /** Every identity the server returned, as it returned them (a UI shows which cannot be chosen). */
  identities: MrkterIdentity[];
  /** The selected identity's accountId, in the server's type (a number in the seed). */
  accountId: number | string | null;
  /** The selected identity's verifiedPhoneNumber, where the SMS goes. */
  phoneNumber: string | null;
  /** The session id the code validation returned (sent as `x-session-id`). */
  sessionId: string | null;
  /** Wrong codes entered so far in this flow. */
  codeAttempts: number;
  /** Local epoch ms from which `code.resend` is accepted; `null` until a code was sent. */
  resendAvailableAt: number | null;
  /** From input: with exactly one selectable identity, request its code without asking. */
  autoSelectSingleIdentity: boolean;
  /** From input: wrong codes allowed before the flow ends with `too_many_attempts`. */
  maxCodeAttempts: number;
  /** From input: wait before `code.resend` is accepted, in ms. */
  resendCooldownMs: number;
}

/**
 * Every event {@link mrkterMachine} accepts.
 *
 * @example
 * ```ts
 * actor.send({ type: 'auth.login', username, password });
 * actor.send({ type: 'identity.select', accountId: 123 });
 * actor.send({ type: 'code.submit', code: '123456' });
 * ```
 */
export type MrkterEvent =
  | { type: 'auth.login'; username: string; password: string }
  | { type: 'identity.select'; accountId: number | string }
  | { type: 'identity.change' }
  | { type: 'code.submit'; code: string }
  | { type: 'code.resend' }
  | { type: 'auth.logout' }
  | { type: 'auth.refresh' }
  | { type: 'auth.tokenRejected'; accessToken: string }
  | { type: 'auth.resume' }
  /**
   * Another holder of the session (a tab, a process: see `coordinateSession`) has these tokens, with
   * the account and session ids: take them, from `signedOut` and `sessionExpired` too.
   */
  | { type: 'session.updated'; session: SharedSession }
  /** Another holder signed the session out. */
  | { type: 'session.ended' };

/**
 * The one identity with that accountId, compared by value so that `'123'` finds `123`. Undefined when
 * none matches, or when more than one does: a duplicate must never lead to an arbitrary pick.
 */
function findIdentity(identities: readonly MrkterIdentity[], accountId: unknown): MrkterIdentity | undefined {
  if (typeof accountId !== 'number' && typeof accountId !== 'string') return undefined;
  const wanted = String(accountId);
  const matches = identities.filter((identity) => String(identity.accountId) === wanted);
  return matches.length === 1 ? matches[0] : undefined;
}

function hasPhoneNumber(identity: MrkterIdentity): boolean {
  return identityProblem(identity) !== 'no_phone_number';
}

function isSelectable(identity: MrkterIdentity): boolean {
  return identityProblem(identity) === null;
}

function selectedAccountId(event: MrkterEvent): unknown {
  return event.type === 'identity.select' ? event.accountId : undefined;
}

/**
 * Everything that belongs to a session or to a sign-in under way, cleared (the error aside): a fresh
 * object each time so no two actors share an array.
 */
function clearedSession() {
  return {
    accessToken: null,
    refreshToken: null,
    accessTokenExpiresAt: null,
    refreshAt: null,
    clockSkewMs: 0,
    refreshAttempts: 0,
    identities: [],
    accountId: null,
    phoneNumber: null,
    sessionId: null,
    codeAttempts: 0,
    resendAvailableAt: null,
  } satisfies Partial<MrkterContext>;
}

/** The initial context for an input: every field left out (or unusable) takes its default. */
function initialContext(input: MrkterInput): MrkterContext {
  const defaults = mrkterInputDefaults;
  return {
    ...clearedSession(),
    error: null,
    autoSelectSingleIdentity: input.autoSelectSingleIdentity ?? defaults.autoSelectSingleIdentity,
    maxCodeAttempts: Math.max(1, Math.floor(numberOr(input.maxCodeAttempts, defaults.maxCodeAttempts))),
    resendCooldownMs: numberOr(input.resendCooldownMs, defaults.resendCooldownMs),
    refreshLeewayMs: numberOr(input.refreshLeewayMs, defaults.refreshLeewayMs),
    accessTokenTtlMs: numberOr(input.accessTokenTtlMs, defaults.accessTokenTtlMs),
    refreshJitterMs: numberOr(input.refreshJitterMs, defaults.refreshJitterMs),
  };
}

const notProvided = (name: string): never => notProvidedBy('Mrkter', 'mrkterActors', name);

/**
 * The signed-in session shared with Marketiger, with what Mrkter's own: the account and session ids
 * every API request carries. Auth0 says nothing of its refresh token's end, so none is planned.
 */
const session = signedInSession<MrkterContext, MrkterEvent>({
  tokenFields: () => ({}),
  // A Mrkter session is usable only with the account and session ids every API request carries.
  sharedSessionFields: (_, shared: SharedSession) =>
    isUsableSharedSession(shared, null) &&
    (typeof shared.accountId === 'number' || typeof shared.accountId === 'string') &&
    typeof shared.sessionId === 'string' &&
    shared.sessionId !== ''
      ? { accountId: shared.accountId, sessionId: shared.sessionId }
      : null,
  clearedSession,
});

/**
 * The Mrkter sign-in statechart (`id: 'mrkter'`).
 *
 * States: `signedOut` → `authenticating` → `loadingIdentities` → `selectingIdentity` →
 * `requestingCode` → `awaitingCode` (`coolingDown`, `resendReady`) → `verifyingCode` →
 * `signedIn` (`active`, `refreshing`, `backingOff`); `sessionExpired` when a refresh is refused.
 * States that wait on the network carry the tag `busy`.
 *
 * XState's own restore idiom re-arms every timer: `createActor(mrkterMachine.provide(...),
 * { snapshot })` (or `useMachine(machine, { snapshot })`) restarts the root actor `resumeTimers`,
 * which sends `auth.resume`, and the machine re-enters its timed state (the refresh, the backoff,
 * the resend cooldown) with delays computed from the absolute times in context (XState persists no
 * pending timer). Sending `auth.resume` yourself, or `restoreActor`, does the same and is harmless twice.
 *
 * @example
 * ```ts
 * const actor = createActor(mrkterMachine.provide({ actors: mrkterActors(createMrkterApi()) })).start();
 * actor.send({ type: 'auth.login', username, password });
 * await waitFor(actor, (s) => s.matches('selectingIdentity') || s.matches('awaitingCode'));
 * if (actor.getSnapshot().matches('selectingIdentity')) actor.send({ type: 'identity.select', accountId });
 * actor.send({ type: 'code.submit', code });
 * await waitFor(actor, (s) => s.matches('signedIn'));
 * ```
 */
export const mrkterMachine = setup({
  types: {
    context: {} as MrkterContext,
    events: {} as MrkterEvent,
    // `| void` rather than `| undefined`: setup's inference drops `undefined` from an optional
    // property, and then `createActor(mrkterMachine)` without input would not typecheck.
    // biome-ignore lint/suspicious/noConfusingVoidType: see above; the only way XState 5.33 keeps input optional
    input: {} as MrkterInput | void,
    tags: {} as 'busy',
    // Each invoked child by id, with the actor it runs: the declarations then name every child, rather
    // than a string index that a callback actor beside promise actors does not fit (TS2411 under
    // `skipLibCheck: false`).
    children: {} as {
      login: 'login';
      loadIdentities: 'loadIdentities';
      requestCode: 'requestCode';
      verifyCode: 'verifyCode';
      refreshTokens: 'refreshTokens';
      resumeTimers: 'resumeTimers';
    },
  },
  actors: {
    login: fromPromise<TokenSet, { username: string; password: string }>(async () => notProvided('login')),
    loadIdentities: fromPromise<MrkterIdentity[], { accessToken: string }>(async () =>
      notProvided('loadIdentities'),
    ),
    requestCode: fromPromise<void, { accessToken: string; phoneNumber: string }>(async () =>
      notProvided('requestCode'),
    ),
    verifyCode: fromPromise<
      { sessionId: string },
      { accessToken: string; accountId: number | string; code: string }
    >(async () => notProvided('verifyCode')),
    refreshTokens: fromPromise<TokenSet, { refreshToken: string }>(async () => notProvided('refreshTokens')),
    resumeTimers,
  },
  guards: {
    ...session.guards,
    hasNoIdentities: (_, params: { identities: unknown }) =>
      !Array.isArray(params.identities) || params.identities.length === 0,
    // Auto-selection only for an identity that could be chosen by hand: a single inactive or
    // phoneless identity goes to selectingIdentity, where the UI shows why it cannot be used.
    canAutoSelectIdentity: ({ context }, params: { identities: MrkterIdentity[] }) =>
      context.autoSelectSingleIdentity &&
      params.identities.length === 1 &&
      params.identities[0] !== undefined &&
      isSelectable(params.identities[0]),
    isUnknownIdentity: ({ context, event }) =>
      findIdentity(context.identities, selectedAccountId(event)) === undefined,
    hasNoPhoneNumber: ({ context, event }) => {
      const identity = findIdentity(context.identities, selectedAccountId(event));
      return identity !== undefined && !hasPhoneNumber(identity);
    },
    isInactiveIdentity: ({ context, event }) => {
      const identity = findIdentity(context.identities, selectedAccountId(event));
      return identity !== undefined && identity.status !== 'ACTIVE';
    },
    canSelectIdentity: ({ context, event }) => {
      const identity = findIdentity(context.identities, selectedAccountId(event));
      return identity !== undefined && isSelectable(identity);
    },
    hasManyIdentities: ({ context }) => context.identities.length > 1,
    // A code was sent before (resendAvailableAt is set on the first success): a failed request is a
    // failed resend, and the code already sent may still be entered.
    hasSentCode: ({ context }) => context.resendAvailableAt !== null,
    isResendAvailable: ({ context }) =>
      context.resendAvailableAt !== null && context.resendAvailableAt <= Date.now(),
    isLastCodeAttempt: ({ context }, params: { error: unknown }) =>
      toAuthError(params.error).kind === 'invalid_code' &&
      context.codeAttempts + 1 >= context.maxCodeAttempts,
    isInvalidCode: (_, params: { error: unknown }) => toAuthError(params.error).kind === 'invalid_code',
    isSessionExpired: (_, params: { error: unknown }) => toAuthError(params.error).kind === 'session_expired',
  },
  actions: {
    ...session.actions,
    setIdentities: assign((_, params: { identities: unknown }) => ({
      identities: Array.isArray(params.identities) ? (params.identities as MrkterIdentity[]) : [],
    })),
    setOnlyIdentity: assign(({ context }) => {
      const identity = context.identities[0];
      return { accountId: identity?.accountId ?? null, phoneNumber: identity?.verifiedPhoneNumber ?? null };
    }),
    setSelectedIdentity: assign(({ context, event }) => {
      const identity = findIdentity(context.identities, selectedAccountId(event));
      return { accountId: identity?.accountId ?? null, phoneNumber: identity?.verifiedPhoneNumber ?? null };
    }),
    clearSelectedIdentity: assign({
      accountId: null,
      phoneNumber: null,
      codeAttempts: 0,
      resendAvailableAt: null,
      error: null,
    }),
    setResendCooldown: assign(({ context }) => ({
      resendAvailableAt: Date.now() + context.resendCooldownMs,
      error: null,
    })),
    // The server's own wait after a 429, so the UI counts down the right time.
    setResendRetryAfter: assign(({ context }, params: { error: unknown }) => {
      const { kind, retryAfterMs } = toAuthError(params.error);
      return kind === 'rate_limited' && retryAfterMs !== undefined && Number.isFinite(retryAfterMs)
        ? { resendAvailableAt: Date.now() + Math.max(0, retryAfterMs) }
        : { resendAvailableAt: context.resendAvailableAt };
    }),
    countCodeAttempt: assign(({ context }) => ({ codeAttempts: context.codeAttempts + 1 })),
    setSessionId: assign((_, params: { sessionId: string }) => ({
      sessionId: params.sessionId,
      codeAttempts: 0,
      error: null,
    })),
    setErrorKind: assign((_, params: { kind: AuthErrorKind; message?: string }) => ({
      error: new AuthError(
        params.kind,
        params.message === undefined ? {} : { message: params.message },
      ).toData(),
    })),
  },
  delays: {
    ...session.delays,
    resendCooldown: ({ context }) => delayUntil(context.resendAvailableAt),
  },
}).createMachine({
  id: 'mrkter',
  initial: 'signedOut',
  // Re-arms every timer when a persisted snapshot is restored (see `resumeTimers`).
  invoke: { id: 'resumeTimers', src: 'resumeTimers' },
  context: ({ input }) => initialContext(input ?? {}),
  states: {
    signedOut: {
      description: 'no session',
      // Every way out of a session ends here or in `sessionExpired`, and both forget it.
      entry: 'clearSession',
      on: {
        'auth.login': { target: 'authenticating', actions: 'clearError' },
        'session.updated': { guard: 'isUsableSession', target: 'signedIn', actions: 'setSharedSession' },
      },
    },
    authenticating: {
      description: 'Auth0 password grant at /oauth/token',
      tags: ['busy'],
      invoke: {
        id: 'login',
        src: 'login',
        input: ({ event }) => {
          assertEvent(event, 'auth.login');
          return withSecret({ username: event.username }, 'password', event.password);
        },
        onDone: {
          target: 'loadingIdentities',
          actions: { type: 'setTokens', params: ({ event }) => event.output },
        },
        onError: {
          target: 'signedOut',
          actions: { type: 'setError', params: ({ event }) => ({ error: event.error }) },
        },
      },
      on: {
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
      },
    },
    loadingIdentities: {
      description: 'loading the identities (accounts) of the user',
      tags: ['busy'],
      invoke: {
        id: 'loadIdentities',
        src: 'loadIdentities',
        input: ({ context }) => ({ accessToken: context.accessToken ?? '' }),
        onDone: [
          {
            // The service reports an empty list as `no_identities` itself; this catches it anyway.
            guard: { type: 'hasNoIdentities', params: ({ event }) => ({ identities: event.output }) },
            target: 'signedOut',
            actions: { type: 'setErrorKind', params: { kind: 'no_identities' } },
          },
          {
            guard: { type: 'canAutoSelectIdentity', params: ({ event }) => ({ identities: event.output }) },
            target: 'requestingCode',
            actions: [
              { type: 'setIdentities', params: ({ event }) => ({ identities: event.output }) },
              'setOnlyIdentity',
            ],
          },
          {
            target: 'selectingIdentity',
            actions: { type: 'setIdentities', params: ({ event }) => ({ identities: event.output }) },
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
    selectingIdentity: {
      description: 'waiting for the user to choose an identity',
      on: {
        'identity.select': [
          {
            guard: 'isUnknownIdentity',
            actions: {
              type: 'setErrorKind',
              params: {
                kind: 'bad_response',
                message: 'The server offered no single identity with that accountId.',
              },
            },
          },
          {
            guard: 'hasNoPhoneNumber',
            actions: { type: 'setErrorKind', params: { kind: 'no_phone_number' } },
          },
          {
            guard: 'isInactiveIdentity',
            actions: { type: 'setErrorKind', params: { kind: 'no_permission' } },
          },
          {
            guard: 'canSelectIdentity',
            target: 'requestingCode',
            actions: 'setSelectedIdentity',
          },
        ],
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
      },
    },
    requestingCode: {
      description: 'asking for an SMS code to the identity’s verified phone',
      tags: ['busy'],
      invoke: {
        id: 'requestCode',
        src: 'requestCode',
        input: ({ context }) => ({
          accessToken: context.accessToken ?? '',
          phoneNumber: context.phoneNumber ?? '',
        }),
        onDone: {
          target: 'awaitingCode',
          actions: 'setResendCooldown',
        },
        onError: [
          {
            guard: 'hasSentCode',
            target: 'awaitingCode',
            actions: [
              { type: 'setError', params: ({ event }) => ({ error: event.error }) },
              { type: 'setResendRetryAfter', params: ({ event }) => ({ error: event.error }) },
            ],
          },
          {
            // Tokens are kept: the user can try again without retyping the password.
            target: 'selectingIdentity',
            actions: { type: 'setError', params: ({ event }) => ({ error: event.error }) },
          },
        ],
      },
      on: {
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
      },
    },
    awaitingCode: {
      description: 'waiting for the SMS code the user received',
      initial: 'coolingDown',
      states: {
        coolingDown: {
          description: 'waiting for the code; resend locked until the cooldown ends',
          // A cooldown that passed while the snapshot was stored ends at once.
          always: { guard: 'isResendAvailable', target: 'resendReady' },
          after: {
            resendCooldown: { target: 'resendReady' },
          },
        },
        resendReady: {
          description: 'waiting for the code; resend available',
          on: {
            'code.resend': { target: '#mrkter.requestingCode' },
          },
        },
      },
      on: {
        'code.submit': { target: 'verifyingCode' },
        'identity.change': {
          guard: 'hasManyIdentities',
          target: 'selectingIdentity',
          actions: 'clearSelectedIdentity',
        },
        // Re-entering re-arms the cooldown timer from resendAvailableAt; no SMS is sent.
        'auth.resume': { target: 'awaitingCode', reenter: true },
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
      },
    },
    verifyingCode: {
      description: 'validating the code; the answer is the session id',
      tags: ['busy'],
      invoke: {
        id: 'verifyCode',
        src: 'verifyCode',
        input: ({ context, event }) => {
          assertEvent(event, 'code.submit');
          return withSecret(
            { accessToken: context.accessToken ?? '', accountId: context.accountId ?? '' },
            'code',
            event.code,
          );
        },
        onDone: {
          target: 'signedIn',
          actions: { type: 'setSessionId', params: ({ event }) => ({ sessionId: event.output.sessionId }) },
        },
        // A code is never resubmitted by itself: every failure waits for the person.
        onError: [
          {
            guard: { type: 'isLastCodeAttempt', params: ({ event }) => ({ error: event.error }) },
            target: 'signedOut',
            actions: { type: 'setErrorKind', params: { kind: 'too_many_attempts' } },
          },
          {
            guard: { type: 'isInvalidCode', params: ({ event }) => ({ error: event.error }) },
            target: 'awaitingCode',
            actions: [
              { type: 'setError', params: ({ event }) => ({ error: event.error }) },
              'countCodeAttempt',
            ],
          },
          {
            guard: { type: 'isSessionExpired', params: ({ event }) => ({ error: event.error }) },
            target: 'signedOut',
            actions: { type: 'setError', params: ({ event }) => ({ error: event.error }) },
          },
          {
            target: 'awaitingCode',
            actions: { type: 'setError', params: ({ event }) => ({ error: event.error }) },
          },
        ],
      },
      on: {
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
      },
    },
    signedIn: {
      description: 'signed in: the access token is refreshed before it expires',
      initial: 'active',
      states: {
        active: {
          description: 'signed in: requests carry the access token',
          after: {
            untilRefresh: { target: 'refreshing' },
          },
          on: {
            'auth.refresh': { target: 'refreshing' },
            'auth.tokenRejected': { guard: 'isCurrentToken', target: 'refreshing' },
          },
        },
        refreshing: {
          description: 'trading the refresh token for new tokens',
          tags: ['busy'],
          invoke: {
            id: 'refreshTokens',
            src: 'refreshTokens',
            input: ({ context }) => ({ refreshToken: context.refreshToken ?? '' }),
            onDone: [
              {
                guard: { type: 'isExpiredOnArrival', params: ({ event }) => event.output },
                target: '#mrkter.sessionExpired',
                actions: 'setExpiredOnArrivalError',
              },
              {
                target: 'active',
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
                target: '#mrkter.sessionExpired',
                actions: { type: 'setSessionExpiredError', params: ({ event }) => ({ error: event.error }) },
              },
            ],
          },
          on: {
            // One refresh at a time. After a restore the refresh that was in flight runs again;
            // re-entering signedIn would abort it and start a second one with the same refresh token.
            'auth.resume': {},
          },
        },
        backingOff: {
          description: 'the refresh failed for a passing reason; waiting before the next try',
          after: {
            refreshBackoff: { target: 'refreshing' },
          },
          on: {
            'auth.refresh': { target: 'refreshing' },
          },
        },
      },
      on: {
        // Re-entering re-arms every timer from the absolute times in context (XState does not
        // persist pending timers): a token already past refreshAt is refreshed once, at once.
        'auth.resume': { target: 'signedIn', reenter: true },
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
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
    },
    sessionExpired: {
      description: 'the refresh token is spent or refused: sign in again',
      entry: 'clearSession',
      on: {
        'auth.login': { target: 'authenticating', actions: 'clearError' },
        'auth.logout': { target: 'signedOut', actions: 'clearError' },
        'session.updated': { guard: 'isUsableSession', target: 'signedIn', actions: 'setSharedSession' },
      },
    },
  },
});
