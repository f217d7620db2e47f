/**
 * The one error type of authcharts, and the one function that turns anything thrown into it.
 *
 * Secrets never reach an `AuthError`: messages are written here from the error's kind and HTTP
 * status, never copied from a server body or an axios error (whose `config` holds the headers and
 * whose message can hold the URL). The `cause` is a small sanitised summary, not the original.
 */

/** Every kind of failure the services, machines and client report. Branch on these, never on message text. */
export type AuthErrorKind =
  | 'invalid_credentials'
  | 'invalid_code'
  | 'too_many_attempts'
  | 'rate_limited'
  | 'session_expired'
  | 'signed_out'
  | 'no_permission'
  | 'no_project_access'
  | 'no_identities'
  | 'no_phone_number'
  | 'network'
  | 'timeout'
  | 'server'
  | 'bad_response'
  | 'insecure_url'
  | 'aborted';

/** Kinds worth trying again by themselves (network weather); all others need a person or a new session. */
const retryableKinds = new Set<AuthErrorKind>(['network', 'timeout', 'server', 'rate_limited']);

const defaultMessages: Record<AuthErrorKind, string> = {
  invalid_credentials: 'The email, username or password is incorrect.',
  invalid_code: 'The verification code is incorrect or has expired.',
  too_many_attempts: 'Too many attempts. Wait before trying again.',
  rate_limited: 'Too many requests. Wait before trying again.',
  session_expired: 'The session has expired. Sign in again.',
  signed_out: 'Not signed in.',
  no_permission: 'The account has no permission for this resource.',
  no_project_access: 'The account has no access to this project.',
  no_identities: 'The user has no identities (accounts) to sign in with.',
  no_phone_number: 'The identity has no verified phone number to send a code to.',
  network: 'The server could not be reached.',
  timeout: 'The server did not answer in time.',
  server: 'The server failed to handle the request.',
  bad_response: 'The server sent an answer that could not be understood.',
  insecure_url: 'The URL is not https (only loopback hosts may use http).',
  aborted: 'The request was cancelled.',
};

/** All kinds, in a stable order (handy for tests and UIs that list them): the order of the messages above. */
export const authErrorKinds = Object.keys(defaultMessages) as readonly AuthErrorKind[];

/** The plain, serialisable form machines keep in `context.error`. */
export interface AuthErrorData {
  kind: AuthErrorKind;
  message: string;
  status?: number;
  /** For `rate_limited`: how long the server asked to wait, in ms. */
  retryAfterMs?: number;
}

/** A sanitised summary of what caused an `AuthError`: names and codes only, never headers, bodies or URLs. */
export interface AuthErrorCause {
  name: string;
  code?: string;
  /** The server's own error code (e.g. Auth0 `invalid_grant`, Marketiger `AUTHENTICATION`), when it sent one. */
  serverError?: string;
}

export interface AuthErrorOptions {
  message?: string;
  status?: number;
  retryable?: boolean;
  retryAfterMs?: number;
  cause?: AuthErrorCause;
}

/**
 * The one error type authcharts throws and keeps.
 *
 * @example
 * ```ts
 * try { await api.login({ email, password }); }
 * catch (e) { if (isAuthError(e) && e.kind === 'invalid_credentials') showWrongPassword(); }
 * ```
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly kind: AuthErrorKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  declare readonly cause?: AuthErrorCause;

  constructor(kind: AuthErrorKind, options: AuthErrorOptions = {}) {
    super(options.message ?? defaultMessages[kind]);
    this.kind = kind;
    this.retryable = options.retryable ?? retryableKinds.has(kind);
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.cause) {
      // Non-enumerable like the standard `cause`, so JSON and spreads stay small.
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: false });
    }
  }

  /** The plain data machines keep in context (no stack, no cause). */
  toData(): AuthErrorData {
    const data: AuthErrorData = { kind: this.kind, message: this.message };
    if (this.status !== undefined) data.status = this.status;
    if (this.retryAfterMs !== undefined) data.retryAfterMs = this.retryAfterMs;
    return data;
  }

  toJSON(): AuthErrorData & { name: 'AuthError'; retryable: boolean } {
    return { name: this.name, ...this.toData(), retryable: this.retryable };
  }
}

/** True for an `AuthError`, also one from another copy of this package or another realm (checks `name` and `kind`). */
export function isAuthError(value: unknown): value is AuthError {
  if (value instanceof AuthError) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'AuthError' &&
    typeof (value as { kind?: unknown }).kind === 'string' &&
    authErrorKinds.includes((value as { kind: AuthErrorKind }).kind)
  );
}

/** True when `value` is one of the `AuthErrorKind` strings. */
export function isAuthErrorKind(value: unknown): value is AuthErrorKind {
  return typeof value === 'string' && (authErrorKinds as readonly string[]).includes(value);
}

/** Node's and axios's codes for failures to reach a server. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * Turns anything thrown into an `AuthError`, keeping only a sanitised summary as `cause`.
 * An `AuthError` passes through unchanged. The fallback kind is used when nothing more precise is known.
 */
export function toAuthError(error: unknown, fallback: AuthErrorKind = 'network'): AuthError {
  if (isAuthError(error)) return error instanceof AuthError ? error : rebuild(error);
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const name = typeof e.name === 'string' ? e.name : typeof error;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const cause: AuthErrorCause = code ? { name, code } : { name };
  if (name === 'AbortError' || name === 'CanceledError' || code === 'ERR_CANCELED') {
    return new AuthError('aborted', { cause });
  }
  if (name === 'TimeoutError' || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new AuthError('timeout', { cause });
  }
  if (code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' || code === 'ERR_BAD_RESPONSE') {
    return new AuthError('bad_response', {
      cause,
      message: 'The server sent an answer that is too large or malformed.',
    });
  }
  if (code && networkCodes.has(code)) return new AuthError('network', { cause });
  if (error instanceof SyntaxError) return new AuthError('bad_response', { cause });
  return new AuthError(fallback, { cause });
}

function rebuild(foreign: AuthError): AuthError {
  const options: AuthErrorOptions = { message: foreign.message, retryable: foreign.retryable };
  if (foreign.status !== undefined) options.status = foreign.status;
  if (foreign.retryAfterMs !== undefined) options.retryAfterMs = foreign.retryAfterMs;
  return new AuthError(foreign.kind, options);
}
