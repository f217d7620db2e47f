/**
 * The one place that reads the Mrkter provider's answers: Auth0's token endpoint and the Mrkter API.
 * Every function takes an {@link HttpResponse} and returns validated data or throws an `AuthError`.
 *
 * Error messages are written here from the kind and status; nothing from a body is copied into a
 * message, and only a server error code that looks like a code (Auth0's `invalid_grant`) reaches `cause`.
 * Where the Mrkter API guide is silent, the assumption is written beside the parser.
 */
import { AuthError } from '../../errors.js';
import { MAX_TIMER_MS } from '../../time.js';
import type { MrkterIdentity, TokenSet } from '../../types.js';
import { isObject } from '../http/json.js';
import type { HttpResponse } from '../http/options.js';
import { causeOf, statusError } from '../http/status.js';
import { readJwtExpiry } from '../jwt.js';

/** Which Auth0 grant an answer belongs to: the same error means different things for each. */
export type MrkterGrant = 'password' | 'refresh_token';

/** Longest session id accepted; the guide's sample is 32 characters. */
export const MAX_SESSION_ID_LENGTH = 512;

const isOk = (response: HttpResponse) => response.status >= 200 && response.status < 300;

function badResponse(response: HttpResponse, message: string): AuthError {
  return new AuthError('bad_response', { status: response.status, message, cause: causeOf(response) });
}

/** A token-like value: printable ASCII without spaces (it travels in a header or a form field). */
const tokenPattern = /^[\x21-\x7e]+$/;

/**
 * Auth0's `error` code, only when it looks like a code (`invalid_grant`), so that no body text (and
 * nothing a server might echo back) reaches an error's `cause`.
 */
function auth0ErrorCode(response: HttpResponse): string | undefined {
  const json = response.json;
  if (!isObject(json)) return undefined;
  const error = json['error'];
  return typeof error === 'string' && /^[a-z][a-z0-9_]{0,63}$/i.test(error) ? error : undefined;
}

/**
 * `expires_in` in seconds, validated: a positive finite number, or a string of digits (some proxies
 * turn numbers into strings). Anything else (0, negative, NaN, missing, "soon") is `undefined`.
 */
function expiresInSeconds(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+(?:\.\d+)?$/.test(value.trim())
        ? Number(value)
        : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Reads an Auth0 token answer (password or refresh grant) into a {@link TokenSet}; any other status
 * becomes the error {@link auth0Error} maps.
 *
 * - `access_token`: a non-empty string without whitespace. Auth0 may issue an opaque (non-JWT) token,
 *   so one is accepted, but only when `expires_in` says how long it lives: nothing else could.
 * - `token_type`: `Bearer` in any case (RFC 6749 §7.1 makes it case-insensitive); missing or anything
 *   else is refused, as the token would be sent in a way the server does not expect.
 * - expiry: `expires_in` is relative, so `receivedAt + expires_in` needs no clock correction; when it
 *   is invalid, the JWT `exp` (server clock) minus the measured skew; else `null` (the machine's
 *   default). Clamped to 2^31-2 ms ahead, so a timer on it never overflows.
 * - `refresh_token`: absent or `null` means "keep the old one" (RFC 6749 §6: Auth0 without rotation,
 *   or a grant without `offline_access`); a present one must be a usable string.
 */
export function parseTokenResponse(response: HttpResponse, grant: MrkterGrant): TokenSet {
  if (!isOk(response)) throw auth0Error(response, grant);
  const json = response.json;
  if (!isObject(json)) throw badResponse(response, 'The token answer is not a JSON object.');
  const accessToken = json['access_token'];
  if (typeof accessToken !== 'string' || !tokenPattern.test(accessToken)) {
    throw badResponse(response, 'The token answer has no usable access_token.');
  }
  const tokenType = json['token_type'];
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw badResponse(response, 'The token answer is not of token_type Bearer.');
  }
  const rawRefresh = json['refresh_token'];
  let refreshToken: string | null = null;
  if (rawRefresh !== undefined && rawRefresh !== null) {
    if (typeof rawRefresh !== 'string' || !tokenPattern.test(rawRefresh)) {
      throw badResponse(response, 'The token answer has an unusable refresh_token.');
    }
    refreshToken = rawRefresh;
  }

  const latest = response.receivedAt + MAX_TIMER_MS - 1;
  const expiresIn = expiresInSeconds(json['expires_in']);
  const jwtExpiry = readJwtExpiry(accessToken);
  let accessTokenExpiresAt: number | null;
  if (expiresIn !== undefined) {
    accessTokenExpiresAt = Math.min(response.receivedAt + expiresIn * 1000, latest);
  } else if (jwtExpiry === undefined) {
    throw badResponse(response, 'The access token is opaque and the answer does not say when it expires.');
  } else if (jwtExpiry === null) {
    accessTokenExpiresAt = null;
  } else {
    accessTokenExpiresAt = Math.min(jwtExpiry - response.clockSkewMs, latest);
  }
  return { accessToken, refreshToken, accessTokenExpiresAt, clockSkewMs: response.clockSkewMs };
}

/**
 * Maps a refused Auth0 token request to an `AuthError`. Auth0 documents its error codes; the Mrkter
 * guide shows none, so these are Auth0's:
 * - `invalid_grant` (403): wrong email or password on login (`invalid_credentials`); an unknown,
 *   spent or revoked refresh token on refresh (`session_expired`). Neither retryable.
 * - `too_many_attempts` (429): brute-force protection locked the user. `too_many_attempts`, NOT
 *   retryable: retrying a login by itself would only extend the lock. Any other 429 is `rate_limited`.
 * - `mfa_required` (403): the tenant wants Auth0's own MFA, which this flow (Mrkter's SMS step) does
 *   not do: `no_permission`. The `mfa_token` in that answer is never read.
 * - `unauthorized` (401, "user is blocked"): `no_permission`, not retryable.
 * - `invalid_client`, `unauthorized_client`, `access_denied` on login: the application (client id or
 *   audience) or a tenant rule refused, not the password, so `no_permission` rather than
 *   `invalid_credentials` (which would send the user to retype a correct password).
 * - Any other 400/401/403: on login `invalid_credentials` (Auth0 refuses credentials with 403, and an
 *   unknown refusal is most likely the same); on refresh `session_expired` (a refused refresh ends the
 *   session, whatever the reason).
 * - 5xx `server` (retryable); anything else the shared {@link statusError} fallback.
 */
export function auth0Error(response: HttpResponse, grant: MrkterGrant): AuthError {
  const { status } = response;
  const code = auth0ErrorCode(response);
  const cause = causeOf(response, code);
  if (code === 'too_many_attempts') {
    return new AuthError('too_many_attempts', {
      status,
      cause,
      retryable: false,
      message: 'Too many failed sign-in attempts: the account is locked for now.',
    });
  }
  if (status === 429 || status >= 500) return statusError(response, code);
  if (code === 'mfa_required') {
    return new AuthError('no_permission', {
      status,
      cause,
      message:
        'The account requires Auth0 multi-factor authentication, which this sign-in flow does not support.',
    });
  }
  if (code === 'unauthorized') {
    return new AuthError('no_permission', { status, cause, message: 'The user is blocked.' });
  }
  if (
    grant === 'password' &&
    (code === 'invalid_client' || code === 'unauthorized_client' || code === 'access_denied')
  ) {
    return new AuthError('no_permission', {
      status,
      cause,
      message: 'The sign-in service refused this application (client id or audience).',
    });
  }
  if (status === 400 || status === 401 || status === 403) {
    return grant === 'password'
      ? new AuthError('invalid_credentials', { status, cause })
      : new AuthError('session_expired', {
          status,
          cause,
          message: 'The refresh token was refused. Sign in again.',
        });
  }
  return statusError(response, code);
}

/** Optional typed fields of an identity: each, when present, a string or `null`. */
const optionalStringFields = [
  'status',
  'verifiedPhoneNumber',
  'firstName',
  'lastName',
  'email',
  'companyName',
  'accountType',
] as const;

/**
 * Reads `GET /user-identity/me/users`: an array of identities, returned as the server sent them (every
 * field kept, the objects themselves: `JSON.parse` makes a `__proto__` key an own property, and
 * nothing here copies with assignment, so no prototype is touched).
 *
 * Validated: the answer is an array (an object or `null` is `bad_response`), not empty
 * (`no_identities`); each item an object with an `accountId` that is a finite number or a non-empty
 * string, and the typed fields of {@link MrkterIdentity} of their types. Two items with the same
 * `accountId` (compared as strings, as the `x-account-id` header will carry it) are `bad_response`:
 * choosing one would be an arbitrary pick. An identity without a phone or not `ACTIVE` is kept; the
 * machine refuses to select it and a UI can show why.
 */
export function parseIdentities(response: HttpResponse): MrkterIdentity[] {
  if (!isOk(response)) throw statusError(response);
  const json = response.json;
  if (!Array.isArray(json)) throw badResponse(response, 'The identities answer is not a list.');
  if (json.length === 0)
    throw new AuthError('no_identities', { status: response.status, cause: causeOf(response) });
  const seen = new Set<string>();
  for (const item of json as unknown[]) {
    if (!isObject(item)) throw badResponse(response, 'An identity is not an object.');
    const accountId = item['accountId'];
    const valid =
      (typeof accountId === 'number' && Number.isFinite(accountId)) ||
      (typeof accountId === 'string' && accountId !== '');
    if (!valid) throw badResponse(response, 'An identity has no usable accountId.');
    const id = item['id'];
    if (id !== undefined && typeof id !== 'number' && typeof id !== 'string') {
      throw badResponse(response, 'An identity has an id that is neither a number nor a string.');
    }
    for (const field of optionalStringFields) {
      const value = item[field];
      if (value !== undefined && value !== null && typeof value !== 'string') {
        throw badResponse(response, `An identity has a ${field} that is not a string.`);
      }
    }
    const key = String(accountId);
    if (seen.has(key)) throw badResponse(response, 'Two identities have the same accountId.');
    seen.add(key);
  }
  return json as MrkterIdentity[];
}

/**
 * Reads the answer to `POST /verification/sms`. The guide shows no answer: any 2xx is success and
 * its body is ignored (NestJS answers a POST whose handler returns nothing with 201 and no body). 429 is `rate_limited` with the server's `Retry-After`; 401 `session_expired`;
 * the rest the shared {@link statusError} fallback (a 400 for a number the server does not know is
 * `bad_response`: the number came from the server's own identity).
 */
export function parseCodeRequest(response: HttpResponse): void {
  if (!isOk(response)) throw statusError(response);
}

/**
 * A NestJS error body: `{ statusCode, message, error? }` where `message` is a string, or an array of
 * strings when `ValidationPipe` refused the body (its default `exceptionFactory` passes every
 * constraint message to `BadRequestException`). Nest's `HttpException.createBody` writes this shape
 * for every built-in exception; nothing else is read from it.
 */
function isNestErrorBody(json: unknown): boolean {
  if (!isObject(json)) return false;
  const message = json['message'];
  const validMessage =
    typeof message === 'string' ||
    (Array.isArray(message) && message.every((item) => typeof item === 'string'));
  return validMessage && typeof json['statusCode'] === 'number';
}

/** A session id's own shape: printable ASCII, no whitespace, no markup (`<`, `>`), at most 512 characters. */
const sessionIdPattern = /^[\x21-\x3b\x3d\x3f-\x7e]+$/;

/**
 * Reads the answer to `POST /auth/mfa/phone-number/authenticate`: the session id.
 *
 * The guide shows it as the whole body, unquoted (`e2OyFXDwyyKH1iRyOsvb2x7qFrceUXq4`). NestJS on
 * Express sends a string a handler returns with `res.send(String(body))`, and Express's `res.send`
 * labels a string `text/html; charset=utf-8` unless the handler set a type; a handler returning an
 * object or using `@Header()` may send it as `text/plain` or as a JSON string. So:
 * - under any `text/*` content type (or none), the body is the id; a body that parses as a JSON
 *   string is unwrapped, one of digits is taken as it is, and any other JSON value (`null`, `true`,
 *   an object, an array) is refused;
 * - under a JSON content type (`application/json`, `application/*+json`) the body must be a JSON string;
 * - any other content type (an image, `application/octet-stream`) is refused.
 *
 * The id is then judged by its own shape, not by its content type: non-empty, at most
 * {@link MAX_SESSION_ID_LENGTH}, printable ASCII without whitespace, CR/LF, control characters or
 * markup characters (`<`, `>`). That refuses an HTML page (a proxy's, a login page) whatever its
 * label, and keeps the `x-session-id` header it is sent back in safe. Failures are `bad_response`.
 *
 * Errors: the guide does not say what a wrong or expired code answers. A 400, 403 or 422 that carries
 * a NestJS error body (`message` a string, or an array of strings from `ValidationPipe`) or no body
 * at all is `invalid_code` (the simulator's default is `BadRequestException('Invalid code')`); the
 * same statuses with any other body (an HTML page, a JSON shape Nest does not write) are
 * `bad_response`. 401 is `session_expired` (Nest's guard refused the bearer token, empty body or
 * not); 429 `rate_limited`; the rest the shared {@link statusError} fallback.
 */
export function parseSessionId(response: HttpResponse): string {
  const { status } = response;
  if (!isOk(response)) {
    if (status === 400 || status === 403 || status === 422) {
      if (response.text.trim() === '' || isNestErrorBody(response.json)) {
        throw new AuthError('invalid_code', { status, cause: causeOf(response), retryable: false });
      }
      throw badResponse(response, 'The code validation was refused with an answer of unknown shape.');
    }
    throw statusError(response);
  }
  const json = response.json;
  const contentType = (response.headers['content-type'] ?? '').trim().toLowerCase();
  const isJson = /^application\/(?:[\w.+-]+\+)?json\b/.test(contentType);
  const isText = contentType === '' || contentType.startsWith('text/');
  if (!isJson && !isText) throw badResponse(response, 'The code validation answer is not text or JSON.');
  let sessionId: string;
  if (typeof json === 'string') sessionId = json;
  else if (isText && (json === undefined || typeof json === 'number')) sessionId = response.text;
  else throw badResponse(response, 'The code validation answer is not a session id.');
  if (sessionId.length > MAX_SESSION_ID_LENGTH || !sessionIdPattern.test(sessionId)) {
    throw badResponse(response, 'The code validation answer is not a usable session id.');
  }
  return sessionId;
}
