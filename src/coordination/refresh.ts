/**
 * The locked refresh the actors run when they are given a coordinator: one holder spends the refresh
 * token, every other adopts what it wrote. Rotating providers (Marketiger, Auth0 with rotation) accept
 * a refresh token once, so two holders refreshing with the same token would end one session.
 */
import { AuthError, toAuthError } from '../errors.js';
import type { TokenSet } from '../types.js';
import { lockDefaults } from './common.js';
import type { CoordinationOptions, SharedSession, StoredSession } from './types.js';

/** An adopted access token must still have this long to live; otherwise the stored refresh token is spent. */
const ADOPT_MIN_VALIDITY_MS = 5_000;

type SignedIn = Extract<StoredSession, { status: 'signedIn' }>;

/**
 * Refreshes `refreshToken` under the session's lock:
 *
 * 1. takes the lock (waiting while another holder refreshes);
 * 2. re-reads the stored session: when another holder refreshed since this one last looked (another
 *    refresh token, or tokens issued after this refresh began), adopts those tokens without a request
 *    (or, if their access token is already stale, refreshes with the stored, newer refresh token);
 *    a stored sign-out ends this holder's session too (`session_expired`);
 * 3. otherwise calls `refresh`, writes the answer back fenced by the lock and conditional on the version
 *    it read, and publishes it;
 * 4. a refused refresh (`session_expired`) is checked against the store once more: tokens that arrived
 *    there meanwhile (a notice that travelled slower than the lock) are adopted instead.
 *
 * @param refresh sends one refresh request with the given refresh token (the service call).
 */
export async function coordinatedRefresh(
  options: CoordinationOptions,
  refreshToken: string,
  refresh: (refreshToken: string) => Promise<TokenSet>,
  signal: AbortSignal,
): Promise<TokenSet> {
  const { coordinator, sessionKey } = options;
  const startedAt = Date.now();
  const lock = await coordinator.lock(sessionKey, {
    ttlMs: options.lockTtlMs ?? lockDefaults.ttlMs,
    waitMs: options.lockWaitMs ?? lockDefaults.waitMs,
    signal,
  });
  try {
    const stored = await coordinator.read(sessionKey);
    if (stored?.status === 'signedOut') throw signedOutElsewhere();
    let spend = refreshToken;
    if (stored && isNewer(stored, refreshToken, startedAt)) {
      if (isFresh(stored)) return tokenSetOf(stored);
      if (stored.refreshToken) spend = stored.refreshToken;
    }

    let tokens: TokenSet;
    try {
      tokens = await refresh(spend);
    } catch (error) {
      if (toAuthError(error).kind !== 'session_expired') throw error;
      const now = await coordinator.read(sessionKey);
      if (now?.status === 'signedIn' && now.refreshToken && now.refreshToken !== spend && isFresh(now)) {
        return tokenSetOf(now);
      }
      throw error;
    }

    const next: SharedSession = {
      accessToken: tokens.accessToken,
      // No refresh token in the answer (RFC 6749 §6): the one spent stays valid.
      refreshToken: tokens.refreshToken ?? spend,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      // A new refresh token's end is the machine's to compute (Marketiger: 12 h from issuedAt).
      refreshTokenExpiresAt:
        tokens.refreshToken && tokens.refreshToken !== spend ? null : storedRefreshEnd(stored),
      issuedAt: Date.now(),
      clockSkewMs: tokens.clockSkewMs,
    };
    // Mrkter's account and session ids do not change with a refresh.
    if (stored?.status === 'signedIn') {
      if (stored.accountId !== undefined) next.accountId = stored.accountId;
      if (stored.sessionId !== undefined) next.sessionId = stored.sessionId;
    }
    const written = await coordinator.write(sessionKey, next, {
      fence: lock.fence,
      ifVersion: stored?.version ?? 0,
    });
    if (written) {
      await coordinator.publish(sessionKey, written);
    } else {
      // The store moved on while this holder refreshed: the lock expired under it, or someone signed
      // in or out. A sign-out wins; otherwise these tokens are valid, and this holder goes on with them.
      const now = await coordinator.read(sessionKey);
      if (now?.status === 'signedOut') throw signedOutElsewhere();
    }
    return { ...tokens, refreshToken: next.refreshToken };
  } finally {
    await lock.release().catch(() => {});
  }
}

/** Tokens written by another holder after this one got its own. */
function isNewer(stored: SignedIn, refreshToken: string, startedAt: number): boolean {
  if (stored.refreshToken && stored.refreshToken !== refreshToken) return true;
  // A provider that does not rotate keeps the refresh token: tokens issued after this refresh began
  // come from another holder's refresh (the writer's clock: holders on one host or in sync by NTP).
  return stored.issuedAt >= startedAt;
}

function isFresh(stored: SignedIn): boolean {
  return (
    stored.accessTokenExpiresAt === null || stored.accessTokenExpiresAt > Date.now() + ADOPT_MIN_VALIDITY_MS
  );
}

function storedRefreshEnd(stored: StoredSession | null): number | null {
  return stored?.status === 'signedIn' ? stored.refreshTokenExpiresAt : null;
}

function tokenSetOf(stored: SignedIn): TokenSet {
  return {
    accessToken: stored.accessToken,
    refreshToken: stored.refreshToken,
    accessTokenExpiresAt: stored.accessTokenExpiresAt,
    clockSkewMs: stored.clockSkewMs,
  };
}

function signedOutElsewhere(): AuthError {
  return new AuthError('session_expired', {
    message: 'The session was signed out in another window or process.',
  });
}
