/**
 * The Marketiger samples (the simulator's demo credentials, token answers, one error per kind each
 * actor can produce), the sample events and state key built from them, and {@link marketigerPaths}.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { type MarketigerInput, marketigerMachine } from '../../machines/marketigerMachine.js';
import { MARKETIGER_DEMO_USER } from '../marketigerSimulator.js';
import type { GeneratedPath, PathSample } from './engine.js';
import {
  actorErrors,
  done,
  errors,
  expiredTokens,
  HOUR,
  MINUTE,
  type ProviderPathsOptions,
  providerPaths,
  sharedSession,
  tokenSet,
} from './samples.js';

/**
 * The Marketiger samples: the simulator's demo credentials, token answers, and one error per kind
 * each actor can produce (the services' mapping: see src/services/marketigerParse.ts).
 */
export const marketigerSamples = {
  credentials: { email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password },
  projectId: MARKETIGER_DEMO_USER.projects[0] ?? 'demo-project',
  /** A normal answer: an access token for 1 h (the simulator's default) and a new refresh token. */
  tokens: (now: number) => tokenSet(now, HOUR, 'fresh'),
  /** An access token that outlives the 12 h session: the session's end comes before any refresh. */
  longLivedTokens: (now: number) => tokenSet(now, 24 * HOUR, 'long'),
  /** An access token already expired when it arrives (a clock far off). */
  expiredTokens,
  /** The tokens another holder of the session wrote (coordinated sessions). */
  shared: (now: number, currentToken?: unknown) => sharedSession(now, HOUR, currentToken),
  errors: {
    login: actorErrors('invalid_credentials', 'no_permission'),
    // A 403 on the project check is "no permission for this project": the service reports it as
    // `no_project_access` (services/marketiger/parse.ts), never as `no_permission`.
    checkProjectAccess: actorErrors('no_project_access', 'session_expired'),
    refreshTokens: actorErrors('session_expired'),
  },
};

/** The Marketiger sample events for a state at virtual time `now` (see {@link generatePaths}). */
export function marketigerEvents(snapshot: AnyMachineSnapshot, now: number): PathSample[] {
  const context = snapshot.context as { accessToken: string | null; refreshTokenExpiresAt: number | null };
  // Long enough to pass the refresh token's end, wherever in its 12 h the session is.
  const pastSessionEnd = Math.max(MINUTE, (context.refreshTokenExpiresAt ?? now) - now + MINUTE);
  const s = marketigerSamples;
  return [
    { event: { type: 'auth.login', ...s.credentials }, label: 'auth.login' },
    { event: { type: 'auth.logout' }, label: 'auth.logout' },
    { event: { type: 'auth.refresh' }, label: 'auth.refresh' },
    {
      event: { type: 'auth.refresh' },
      label: 'auth.refresh after sleeping past the session end',
      sleepMs: pastSessionEnd,
    },
    { event: { type: 'auth.resume' }, label: 'auth.resume' },
    {
      event: { type: 'auth.tokenRejected', accessToken: context.accessToken ?? 'none' },
      label: 'auth.tokenRejected (current token)',
    },
    {
      event: { type: 'auth.tokenRejected', accessToken: context.accessToken ?? 'none' },
      label: 'auth.tokenRejected (current token) after sleeping past the session end',
      sleepMs: pastSessionEnd,
    },
    {
      event: { type: 'auth.tokenRejected', accessToken: 'stale-access-token' },
      label: 'auth.tokenRejected (stale token)',
    },
    {
      event: { type: 'session.updated', session: s.shared(now, snapshot.context.accessToken) },
      label: 'session.updated (another holder)',
    },
    { event: { type: 'session.ended' }, label: 'session.ended' },
    done('login', s.tokens(now), 'tokens'),
    done('login', s.longLivedTokens(now), 'access token outliving the session'),
    ...errors('login', s.errors.login),
    done('checkProjectAccess', undefined, 'access'),
    ...errors('checkProjectAccess', s.errors.checkProjectAccess),
    done('refreshTokens', s.tokens(now), 'tokens'),
    done('refreshTokens', s.expiredTokens(now), 'expired on arrival'),
    ...errors('refreshTokens', s.errors.refreshTokens),
    ...['marketiger.signedIn', 'marketiger.signedIn.active', 'marketiger.signedIn.backingOff'].flatMap(
      (node): PathSample[] => {
        const delay =
          { 'marketiger.signedIn': 'untilSessionEnd', 'marketiger.signedIn.active': 'untilRefresh' }[
            node as 'marketiger.signedIn'
          ] ?? 'refreshBackoff';
        const type = `xstate.after.${delay}.${node}`;
        const samples: PathSample[] = [{ event: { type }, label: `after ${delay}` }];
        if (delay !== 'untilSessionEnd') {
          samples.push({
            event: { type },
            label: `after ${delay}, late: the device slept past the session end`,
            sleepMs: pastSessionEnd,
          });
        }
        return samples;
      },
    ),
  ];
}

/** The part of a Marketiger state that decides what can happen next. */
export function marketigerStateKey(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as {
    refreshToken: string | null;
    refreshAt: number | null;
    refreshTokenExpiresAt: number | null;
    accessTokenExpiresAt: number | null;
  };
  // Which timer fires first decides the next step: the session's end or the refresh.
  const sessionEnd = context.refreshTokenExpiresAt ?? context.accessTokenExpiresAt;
  const endsFirst = sessionEnd !== null && context.refreshAt !== null && sessionEnd <= context.refreshAt;
  return JSON.stringify([snapshot.value, context.refreshToken !== null, endsFirst]);
}

/**
 * Paths through {@link marketigerMachine}: without a project (`signingIn` → `signedIn`) and with the
 * demo project (`signingIn` → `checkingProject`).
 *
 * @example
 * ```ts
 * for (const path of marketigerPaths()) test(path.name, async () => { ...replay path.steps... });
 * ```
 */
export function marketigerPaths(options: ProviderPathsOptions<MarketigerInput> = {}): GeneratedPath[] {
  return providerPaths(marketigerMachine, options, {
    events: marketigerEvents,
    stateKey: marketigerStateKey,
    inputs: [{}, { projectId: marketigerSamples.projectId }],
    namePrefix: (input) => (input.projectId ? `[project ${input.projectId}] ` : ''),
  });
}
