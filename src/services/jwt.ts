/**
 * Reading JWT claims without verifying them: the client never holds the signing key, and it only
 * needs `exp` to plan a refresh. The server stays the judge of a token's validity.
 *
 * Decoding is base64url and JSON, a dozen lines: written here rather than imported from jose's
 * `decodeJwt` (about 1.5 KB minified with its helpers and error classes), because every app that signs in
 * carries it. jose stays the simulators' library for signing and verifying.
 */
import { isObject } from './http/json.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The claims of a compact JWS (`header.payload.signature`): its payload as a JSON object; throws for anything else. */
function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.');
  if (payload.length !== 3 || !payload[1] || /[^\w-]/.test(payload[1])) throw new TypeError('not a JWT');
  let text = atob(payload[1].replace(/-/g, '+').replace(/_/g, '/'));
  // Claims are nearly always ASCII, which needs no decoding; anything else is UTF-8 bytes.
  if (/[\x80-\xff]/.test(text)) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    text = utf8.decode(bytes);
  }
  const claims: unknown = JSON.parse(text);
  if (!isObject(claims)) throw new TypeError('not a JWT');
  return claims;
}

/** The `exp` claim of a JWT in epoch ms (server clock), `null` when the token has none, `undefined` when it is not a JWT. */
export function readJwtExpiry(token: string): number | null | undefined {
  let claims: { exp?: unknown };
  try {
    claims = decodeClaims(token);
  } catch {
    return undefined;
  }
  const { exp } = claims;
  // `exp` is NumericDate seconds (RFC 7519 §2). Anything else is treated as absent, never as "no expiry".
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0) return null;
  return exp * 1000;
}
