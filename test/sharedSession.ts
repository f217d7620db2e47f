/** The shared session the machine tests send (`session.updated`) and the coordinator tests store. */
import type { SharedSession } from '../src/coordination/types.js';

/**
 * A signed-in session an hour from its access token's expiry, issued now, its refresh token named
 * after its access token; `extra` replaces or adds fields (a provider's ids, another expiry).
 */
export function sharedSession(accessToken: string, extra: Partial<SharedSession> = {}): SharedSession {
  return {
    accessToken,
    refreshToken: `refresh-of-${accessToken}`,
    accessTokenExpiresAt: Date.now() + 60 * 60 * 1000,
    refreshTokenExpiresAt: null,
    issuedAt: Date.now(),
    clockSkewMs: 0,
    ...extra,
  };
}
