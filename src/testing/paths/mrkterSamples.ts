/**
 * The Mrkter samples (the simulator's default users and their identities, token answers, one error per
 * kind each actor can produce), the sample events and state key built from them, and {@link mrkterPaths}.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { type MrkterInput, mrkterMachine } from '../../machines/mrkterMachine.js';
import type { MrkterIdentity } from '../../services/types.js';
import { defaultMrkterUsers } from '../mrkterSimulator.js';
import type { GeneratedPath, PathSample } from './engine.js';
import {
  actorErrors,
  done,
  errors,
  expiredTokens,
  HOUR,
  type ProviderPathsOptions,
  providerPaths,
  sharedSession,
  tokenSet,
} from './samples.js';

function identitiesOf(username: string): MrkterIdentity[] {
  return defaultMrkterUsers.find((user) => user.username === username)?.identities ?? [];
}

/**
 * The Mrkter samples: the simulator's default users and their identities (so a path replays against
 * `startMrkterSimulator()` as is), token answers, and one error per kind each actor can produce.
 */
export const mrkterSamples = {
  credentials: { username: 'demo@mrkter.test', password: 'demo-password' },
  /** Identity lists, each the identities of one simulator user. */
  identities: {
    /** Two usable identities: the person chooses. */
    two: identitiesOf('demo@mrkter.test'),
    /** One usable identity: chosen without asking. */
    single: identitiesOf('single@mrkter.test'),
    /** One without a phone, one inactive, one usable. */
    mixed: identitiesOf('nophone@mrkter.test'),
    /** None: the service reports this as `no_identities` itself; the machine guards it anyway. */
    none: [] as MrkterIdentity[],
  },
  code: '123456',
  /** The access tokens of the Mrkter authorization guide live 23 h. */
  tokens: (now: number) => tokenSet(now, 23 * HOUR, 'fresh'),
  expiredTokens,
  /** The session another holder wrote: tokens with the account and session ids (coordinated sessions). */
  shared: (now: number, currentToken?: unknown) =>
    sharedSession(now, 23 * HOUR, currentToken, {
      accountId: identitiesOf('demo@mrkter.test')[0]?.accountId ?? 1,
      sessionId: 'session-shared',
    }),
  errors: {
    login: actorErrors(['invalid_credentials', { status: 403 }], 'too_many_attempts', [
      'no_permission',
      { status: 401 },
    ]),
    loadIdentities: actorErrors('no_identities', 'session_expired', 'no_permission'),
    // `Retry-After: 0`: the resend is available at once.
    requestCode: actorErrors('session_expired', 'no_permission', ['rate_limited', { retryAfterMs: 0 }]),
    verifyCode: actorErrors('invalid_code', 'session_expired'),
    refreshTokens: actorErrors(['session_expired', { status: 403 }]),
  },
};

/** The Mrkter sample events for a state at virtual time `now` (see {@link generatePaths}). */
export function mrkterEvents(snapshot: AnyMachineSnapshot, now: number): PathSample[] {
  const context = snapshot.context as { accessToken: string | null; identities: MrkterIdentity[] };
  const s = mrkterSamples;
  return [
    { event: { type: 'auth.login', ...s.credentials }, label: 'auth.login' },
    { event: { type: 'auth.logout' }, label: 'auth.logout' },
    { event: { type: 'auth.refresh' }, label: 'auth.refresh' },
    { event: { type: 'auth.resume' }, label: 'auth.resume' },
    {
      event: { type: 'auth.tokenRejected', accessToken: context.accessToken ?? 'none' },
      label: 'auth.tokenRejected (current token)',
    },
    {
      event: { type: 'auth.tokenRejected', accessToken: 'stale-access-token' },
      label: 'auth.tokenRejected (stale token)',
    },
    ...context.identities.map(
      (identity): PathSample => ({
        event: { type: 'identity.select', accountId: identity.accountId },
        label: `identity.select ${identity.accountId}`,
      }),
    ),
    { event: { type: 'identity.select', accountId: 999_999 }, label: 'identity.select unknown' },
    { event: { type: 'identity.change' }, label: 'identity.change' },
    { event: { type: 'code.submit', code: s.code }, label: 'code.submit' },
    { event: { type: 'code.resend' }, label: 'code.resend' },
    {
      event: { type: 'session.updated', session: s.shared(now, snapshot.context.accessToken) },
      label: 'session.updated (another holder)',
    },
    { event: { type: 'session.ended' }, label: 'session.ended' },
    done('login', s.tokens(now), 'tokens'),
    ...errors('login', s.errors.login),
    ...Object.entries(s.identities).map(([label, identities]) =>
      done('loadIdentities', identities, `${label} identities`),
    ),
    ...errors('loadIdentities', s.errors.loadIdentities),
    done('requestCode', undefined, 'sent'),
    ...errors('requestCode', s.errors.requestCode),
    done('verifyCode', { sessionId: 'session-1' }, 'session'),
    ...errors('verifyCode', s.errors.verifyCode),
    done('refreshTokens', s.tokens(now), 'tokens'),
    done('refreshTokens', s.expiredTokens(now), 'expired on arrival'),
    ...errors('refreshTokens', s.errors.refreshTokens),
    { event: { type: 'xstate.after.untilRefresh.mrkter.signedIn.active' }, label: 'after untilRefresh' },
    {
      event: { type: 'xstate.after.refreshBackoff.mrkter.signedIn.backingOff' },
      label: 'after refreshBackoff',
    },
    {
      event: { type: 'xstate.after.resendCooldown.mrkter.awaitingCode.coolingDown' },
      label: 'after resendCooldown',
    },
  ];
}

/** The part of a Mrkter state that decides what can happen next. */
export function mrkterStateKey(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as {
    identities: MrkterIdentity[];
    codeAttempts: number;
    resendAvailableAt: number | null;
  };
  // Identities, wrong codes and "a code was sent" matter only between the identity list and the
  // session: a session, or its end, behaves the same whoever signed in (and the next sign-in loads
  // them afresh). Leaving them out there keeps the traversal small.
  const inCodeStep = ['selectingIdentity', 'requestingCode', 'awaitingCode', 'verifyingCode'].some((state) =>
    snapshot.matches(state),
  );
  if (!inCodeStep) return JSON.stringify(snapshot.value);
  return JSON.stringify([
    snapshot.value,
    context.identities.map((identity) => identity.accountId).join(','),
    context.codeAttempts,
    context.resendAvailableAt !== null,
  ]);
}

/**
 * Paths through {@link mrkterMachine}, with its default input.
 *
 * @example
 * ```ts
 * const paths = mrkterPaths();
 * console.log(paths.length, paths[0]?.name);
 * ```
 */
export function mrkterPaths(options: ProviderPathsOptions<MrkterInput> = {}): GeneratedPath[] {
  return providerPaths(mrkterMachine, options, {
    events: mrkterEvents,
    stateKey: mrkterStateKey,
    inputs: [{}],
  });
}
