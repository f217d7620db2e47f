/**
 * The session logic both statecharts share: planning refreshes, backing off, and keeping secrets
 * out of persisted snapshots. Pure functions of their arguments (plus `Math.random` for jitter), called
 * from the machines' named actions and guards; the machine configs stay literal for Stately.
 */

import type { SharedSession } from '../coordination/types.js';
import { AuthError, type AuthErrorData, toAuthError } from '../errors.js';
import type { TokenSet } from '../types.js';

/** Refresh this long before the access token expires, unless the input says otherwise. */
export const DEFAULT_REFRESH_LEEWAY_MS = 60_000;
/** The lifetime assumed for an access token whose answer says nothing of its expiry. */
export const DEFAULT_ACCESS_TOKEN_TTL_MS = 60 * 60 * 1000;
/** Up to this much earlier, at random, so sessions signed in together do not refresh together. */
export const DEFAULT_REFRESH_JITTER_MS = 60_000;

/** A finite number ≥ 0 (> 0 when `positive`) from input, else the default: bad config never means "no expiry". */
export function numberOr(value: unknown, fallback: number, positive = false): number {
  return typeof value === 'number' && Number.isFinite(value) && (positive ? value > 0 : value >= 0)
    ? value
    : fallback;
}

/**
 * `input` with one more field holding a secret, non-enumerable. XState keeps an in-flight promise's
 * input in the persisted snapshot; a non-enumerable field stays out of `JSON.stringify`, so a password
 * or SMS code never reaches storage, and a call restored from JSON cannot resend it by itself.
 */
export function withSecret<T extends object, K extends string>(
  input: T,
  key: K,
  secret: string,
): T & Record<K, string> {
  return Object.defineProperty({ ...input }, key, { value: secret, enumerable: false }) as T &
    Record<K, string>;
}

/** The refresh settings a machine keeps in context. */
export interface RefreshSettings {
  refreshLeewayMs: number;
  refreshJitterMs: number;
  accessTokenTtlMs: number;
}

/**
 * The access-token half of a token answer, with its refresh planned: `refreshLeewayMs` plus a random
 * jitter before expiry (so sessions signed in together do not refresh together), but never more than
 * half the token's lifetime early — a token that lives shorter than the leeway would otherwise be
 * refreshed the moment it arrives, again and again. A token without an expiry gets `accessTokenTtlMs`.
 */
export function planAccessToken(tokens: TokenSet, settings: RefreshSettings, now = Date.now()) {
  const given = tokens.accessTokenExpiresAt;
  const accessTokenExpiresAt =
    typeof given === 'number' && Number.isFinite(given) ? given : now + settings.accessTokenTtlMs;
  const lifetime = Math.max(0, accessTokenExpiresAt - now);
  const jitter = Math.random() * Math.min(settings.refreshJitterMs, lifetime / 10);
  const advance = Math.min(settings.refreshLeewayMs + jitter, lifetime / 2);
  return {
    accessToken: tokens.accessToken,
    accessTokenExpiresAt,
    refreshAt: Math.max(now, accessTokenExpiresAt - advance),
    clockSkewMs: Number.isFinite(tokens.clockSkewMs) ? tokens.clockSkewMs : 0,
    refreshAttempts: 0,
    error: null,
  };
}

/** A refreshed access token already past its expiry (a clock far off) would be refreshed again at once, forever (M8). */
export function isExpiredOnArrival(tokens: TokenSet, now = Date.now()): boolean {
  return typeof tokens.accessTokenExpiresAt === 'number' && tokens.accessTokenExpiresAt <= now;
}

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/**
 * The next retry of a failed refresh: about 1 s, doubling, never more than 30 s apart, jittered, and
 * never sooner than a server's `Retry-After` (N5). Planned as an absolute `refreshAt`, so a restored
 * session keeps to it.
 */
export function planRefreshBackoff(refreshAttempts: number, cause: unknown, now = Date.now()) {
  const error = toAuthError(cause);
  const attempts = refreshAttempts + 1;
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1));
  const retryAfterMs =
    error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs) ? error.retryAfterMs : 0;
  const delay = Math.max(ceiling * (0.5 + Math.random() / 2), retryAfterMs);
  return { refreshAttempts: attempts, error: error.toData(), refreshAt: now + delay };
}

/** The error kept in `sessionExpired`: always kind `session_expired`, whatever ended the session. */
export function sessionExpiredError(cause?: unknown): AuthErrorData {
  if (cause === undefined) return new AuthError('session_expired').toData();
  const error = toAuthError(cause);
  if (error.kind === 'session_expired') return error.toData();
  return new AuthError('session_expired', {
    message: `The session could not be renewed (${error.kind}). Sign in again.`,
    ...(error.status !== undefined ? { status: error.status } : {}),
  }).toData();
}

/** The error of a refreshed token that arrived already expired. */
export function expiredOnArrivalError(): AuthErrorData {
  return new AuthError('session_expired', {
    message:
      'The server issued an access token that had already expired (is the device clock right?). Sign in again.',
  }).toData();
}

/** What a placeholder actor throws when the machine was used without `provide({ actors })`. */
export function notProvided(provider: string, actorsFunction: string, name: string): never {
  throw new Error(
    `The ${provider} actor '${name}' was not provided: use machine.provide({ actors: ${actorsFunction}(api) }).`,
  );
}

/** The session another holder shared (`session.updated`) as a token answer, for {@link planAccessToken}. */
export function sharedTokenSet(session: SharedSession): TokenSet {
  return {
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    accessTokenExpiresAt: session.accessTokenExpiresAt,
    clockSkewMs: session.clockSkewMs,
  };
}

/**
 * A shared session a machine can take: an access token, and a way to go on (a refresh token, or an
 * access token that has not expired). `refreshEnd` is when its refresh token stops working, if known.
 */
export function isUsableSharedSession(
  session: SharedSession | undefined,
  refreshEnd: number | null,
  now = Date.now(),
): boolean {
  if (!session || typeof session.accessToken !== 'string' || session.accessToken === '') return false;
  if (session.refreshToken) return refreshEnd === null || refreshEnd > now;
  return typeof session.accessTokenExpiresAt !== 'number' || session.accessTokenExpiresAt > now;
}

/** The error kept when another holder (a tab, a process) signed the shared session out. */
export function signedOutElsewhereError(): AuthErrorData {
  return new AuthError('signed_out', {
    message: 'You signed out in another window or process.',
  }).toData();
}
