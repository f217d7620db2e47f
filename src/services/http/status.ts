/**
 * What an HTTP status means when no provider rule claimed it, and the sanitised `cause` every error
 * built from a response carries (status and server error code, never a body).
 */
import { AuthError, type AuthErrorCause } from '../../errors.js';
import type { HttpResponse } from './options.js';

/** The `cause` of an error built from a response: its status, and the server's error code when it sent one. */
export function causeOf(response: Pick<HttpResponse, 'status'>, serverError?: string): AuthErrorCause {
  return { name: 'HttpStatus', code: String(response.status), ...(serverError ? { serverError } : {}) };
}

/** Longest wait a `Retry-After` may ask for: an hour. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Parses a `Retry-After` header (delay-seconds or an HTTP date) into ms from now, clamped to [0, 1 h]
 * so that an absurd value neither hammers the server nor parks a session for days.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}

/**
 * The fallback meaning of a status no provider rule claimed: 429 `rate_limited` (with the wait),
 * 5xx `server` (retryable), 401 `session_expired`, 403 `no_permission`, anything else `bad_response`.
 */
export function statusError(response: HttpResponse, serverError?: string): AuthError {
  const { status } = response;
  const cause = causeOf(response, serverError);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], response.receivedAt);
    return new AuthError('rate_limited', {
      status,
      cause,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status >= 500) return new AuthError('server', { status, cause });
  if (status === 401) return new AuthError('session_expired', { status, cause });
  if (status === 403) return new AuthError('no_permission', { status, cause });
  if (status >= 300 && status < 400) {
    return new AuthError('bad_response', {
      status,
      cause,
      message: 'The server answered with a redirect, which is not followed.',
    });
  }
  return new AuthError('bad_response', {
    status,
    cause,
    message: `The server refused the request (HTTP ${status}).`,
  });
}
