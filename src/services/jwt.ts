/**
 * Reading JWT claims without verifying them: the client never holds the signing key, and it only
 * needs `exp` to plan a refresh. The server stays the judge of a token's validity.
 */
import { decodeJwt } from 'jose/jwt/decode';

/** The `exp` claim of a JWT in epoch ms (server clock), `null` when the token has none, `undefined` when it is not a JWT. */
export function readJwtExpiry(token: string): number | null | undefined {
  let claims: { exp?: unknown };
  try {
    claims = decodeJwt(token);
  } catch {
    return undefined;
  }
  const { exp } = claims;
  // `exp` is NumericDate seconds (RFC 7519 §2). Anything else is treated as absent, never as "no expiry".
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0) return null;
  return exp * 1000;
}
