/**
 * What the samples of both providers share: done and error events with labels, errors as the services
 * throw them, token answers and shared sessions at a given virtual time, and the options of the
 * provider path functions.
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import type { SharedSession } from '../../coordination/types.js';
import { AuthError, type AuthErrorKind } from '../../errors.js';
import type { TokenSet } from '../../services/types.js';
import { type GeneratedPath, generatePaths, type PathSample, type SampleEvent } from './engine.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** Options of `marketigerPaths` and `mrkterPaths`. */
export interface ProviderPathsOptions<TInput> {
  /** The virtual start time (epoch ms). Default `Date.now()`. */
  now?: number;
  /** Inputs to generate for; each gives its own paths. Default: the inputs that reach every branch. */
  inputs?: TInput[];
  /**
   * Keeps only the sample events your test can produce in a state, e.g. those your page lets a person
   * cause: the paths then reach every state they can through those alone (a shortest path never
   * starts with an event your page cannot send). Default: every sample.
   *
   * @example
   * ```ts
   * // No other tab shares the session on this page:
   * marketigerPaths({ filter: (sample) => !sample.event.type.startsWith('session.') });
   * ```
   */
  filter?: (sample: PathSample, snapshot: AnyMachineSnapshot) => boolean;
}

/** A done event with a label. */
export function done(actor: string, output: unknown, label: string): PathSample {
  return {
    event: { type: `xstate.done.actor.${actor}`, output } as EventObject,
    label: `${actor} ✓ ${label}`,
  };
}

const errorSampleCache = new Map<() => readonly AuthError[], PathSample[]>();

/**
 * One error sample per kind, as the service would throw it. Made once per actor: an `Error` captures a
 * stack when constructed, and the traversal asks for the samples of thousands of states.
 */
export function errors(actor: string, kinds: () => readonly AuthError[]): PathSample[] {
  const cached = errorSampleCache.get(kinds);
  if (cached) return cached;
  const samples = kinds().map((error) => ({
    event: { type: `xstate.error.actor.${actor}`, error } as SampleEvent,
    label: `${actor} ✗ ${error.kind}${error.retryAfterMs !== undefined ? ` (retry after ${error.retryAfterMs} ms)` : ''}`,
  }));
  errorSampleCache.set(kinds, samples);
  return samples;
}

/** An `AuthError` as the services make it for that kind (status where HTTP gives one). */
export function sampleError(
  kind: AuthErrorKind,
  options: { status?: number; retryAfterMs?: number } = {},
): AuthError {
  const status: Partial<Record<AuthErrorKind, number>> = {
    invalid_credentials: 400,
    invalid_code: 400,
    too_many_attempts: 429,
    rate_limited: 429,
    session_expired: 401,
    no_permission: 403,
    no_project_access: 200,
    no_identities: 200,
    server: 503,
    bad_response: 200,
  };
  const given = options.status ?? status[kind];
  return new AuthError(kind, {
    ...(given !== undefined ? { status: given } : {}),
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}),
  });
}

/** A kind, or a kind with the status or `Retry-After` its sample error carries. */
export type SampleErrorSpec = AuthErrorKind | [AuthErrorKind, { status?: number; retryAfterMs?: number }];

/**
 * The errors an actor can produce, made afresh on each call: the given kinds (in order), then those of
 * the transport and of any HTTP answer, which every actor can meet.
 */
export function actorErrors(...kinds: SampleErrorSpec[]): () => AuthError[] {
  return () => [
    ...kinds.map((spec) => (typeof spec === 'string' ? sampleError(spec) : sampleError(...spec))),
    ...transportKinds(),
  ];
}

/** The error kinds of the transport and of any HTTP answer, which every actor can meet. */
const transportKinds = (): AuthError[] => [
  sampleError('rate_limited', { retryAfterMs: 1_000 }),
  sampleError('server'),
  sampleError('network'),
  sampleError('timeout'),
  sampleError('bad_response'),
];

/** A token answer valid for `ttlMs` from `now`. */
export function tokenSet(
  now: number,
  ttlMs: number,
  n: string,
  refreshToken: string | null = `refresh-${n}`,
): TokenSet {
  return { accessToken: `access-${n}`, refreshToken, accessTokenExpiresAt: now + ttlMs, clockSkewMs: 0 };
}

/**
 * A session another holder shared (`session.updated`, see `coordinateSession`), valid for `ttlMs` from
 * `now`, with the extra fields a provider needs (Mrkter's account and session ids).
 */
export function sharedSession(
  now: number,
  ttlMs: number,
  current: unknown,
  extra: Partial<SharedSession> = {},
): SharedSession {
  return {
    // Never the token the machine already holds: a holder ignores a notice of its own session, and a
    // path that first signed in through `session.updated` must still be able to take another one.
    accessToken: current === 'access-shared' ? 'access-shared-again' : 'access-shared',
    refreshToken: 'refresh-shared',
    accessTokenExpiresAt: now + ttlMs,
    refreshTokenExpiresAt: null,
    issuedAt: now,
    clockSkewMs: 0,
    ...extra,
  };
}

/** An access token already expired when it arrives (a clock far off). */
export const expiredTokens = (now: number): TokenSet => tokenSet(now, -MINUTE, 'expired');

/** A provider's paths: one generation per input, all from the same virtual start time. */
export function providerPaths<TInput>(
  machine: AnyStateMachine,
  options: ProviderPathsOptions<TInput>,
  provider: {
    events: (snapshot: AnyMachineSnapshot, now: number) => PathSample[];
    stateKey: (snapshot: AnyMachineSnapshot) => string;
    inputs: TInput[];
    namePrefix?: (input: TInput) => string;
  },
): GeneratedPath[] {
  const now = options.now ?? Date.now();
  const { filter } = options;
  const events = filter
    ? (snapshot: AnyMachineSnapshot, at: number) =>
        provider.events(snapshot, at).filter((sample) => filter(sample, snapshot))
    : provider.events;
  return (options.inputs ?? provider.inputs).flatMap((input) =>
    generatePaths(machine, {
      events,
      stateKey: provider.stateKey,
      input,
      now,
      namePrefix: provider.namePrefix?.(input) ?? '',
    }),
  );
}
