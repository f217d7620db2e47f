/**
 * The one redaction function behind debug logging. Everything a debug logger receives (headers,
 * bodies, URLs) goes through here first, so that turning logging on never puts a password, an SMS
 * code, a token or a session id into a log line (README, "Debug logging").
 *
 * It redacts by name (headers and fields that hold secrets, whatever their value) and by shape
 * (values that look like tokens, wherever they are), because a provider may put a token in a field
 * we do not know (an Auth0 `id_token`, a new field of a future API version).
 */
import { flattenHeaders } from './headers.js';

import { isSecretName, REDACTED } from './secrets.js';

export { isSecretName, REDACTED };

/**
 * A run of token characters at least 20 long with a letter and a digit in it: JWTs, opaque
 * refresh tokens (`rt_…`, `v1.…`), base64url session ids. Requiring both a letter and a digit keeps
 * words like `Username-Password-Authentication` readable.
 */
const tokenRun = /[A-Za-z0-9_~+/-]+(?:\.[A-Za-z0-9_~+/-]+)*=*/g;
const MIN_TOKEN_LENGTH = 20;

function looksLikeToken(run: string): boolean {
  return run.length >= MIN_TOKEN_LENGTH && /[A-Za-z]/.test(run) && /\d/.test(run);
}

/** Replaces every token-looking run inside a string. */
export function redactString(text: string): string {
  return text.replace(tokenRun, (run) => (looksLikeToken(run) ? REDACTED : run));
}

/** Deepest nesting copied; deeper values are summarised (a log entry stays small and acyclic). */
const MAX_DEPTH = 8;

/**
 * Returns a redacted deep copy of any value: secret-named fields become `[redacted]`, token-looking
 * runs inside strings too, and a top-level string is redacted whole when it could be a credential
 * (a bare string answer is the Mrkter session id). Functions, symbols and cycles are summarised;
 * `__proto__` keys are copied as plain data (no prototype is ever set).
 *
 * @example
 * ```ts
 * redact({ email: 'a@b.c', password: 'hunter2', refresh_token: 'v1.x' });
 * // { email: 'a@b.c', password: '[redacted]', refresh_token: '[redacted]' }
 * ```
 */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return redactBareString(value);
  return copy(value, 0, new WeakSet());
}

/** A bare string (a whole body, a header value of unknown meaning): redacted whole if it has no space and is not short. */
function redactBareString(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length >= 8 && !/\s/.test(trimmed)) return REDACTED;
  return redactString(text);
}

function copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'undefined') return undefined;
  if (typeof value === 'bigint') return String(value);
  if (typeof value !== 'object') return `[${typeof value}]`;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => copy(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // defineProperty, not assignment: a `__proto__` key from a body stays a plain field.
    Object.defineProperty(out, key, {
      value:
        isSecretName(key) && item !== null && item !== undefined ? REDACTED : copy(item, depth + 1, seen),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Redacts a header map: secret-named headers whole, every other value for token-looking runs. Names are lower-cased. */
export function redactHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out = flattenHeaders(headers);
  for (const [name, text] of Object.entries(out))
    out[name] = isSecretName(name) ? REDACTED : redactString(text);
  return out;
}

/** Longest body summary a log entry carries, in characters. */
export const MAX_LOGGED_BODY = 2000;

/**
 * A redacted, bounded summary of a body for a log entry: JSON (text or value) as redacted JSON, form
 * bodies as redacted form fields, anything else (HTML pages, plain text such as a session id) only
 * as its size and type, since its content cannot be redacted by name.
 */
export function summarizeBody(body: unknown, contentType = ''): string | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (typeof body === 'string') {
    if (type === 'application/x-www-form-urlencoded') {
      return bound(formSummary(new URLSearchParams(body)));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return `[${byteLength(body)} bytes${type ? ` of ${type}` : ''}]`;
    }
    return bound(JSON.stringify(redact(parsed)));
  }
  if (body instanceof URLSearchParams) return bound(formSummary(body));
  if (typeof body === 'object') {
    try {
      return bound(JSON.stringify(redact(body)));
    } catch {
      return '[unserialisable body]';
    }
  }
  return bound(String(redact(body)));
}

/**
 * Redacts a URL or path: secret-named query parameters whole, token-looking path segments and values.
 * The path is judged segment by segment: `/` is a token character of standard base64, so the whole of
 * `/v2/Auth/RefreshToken` read as one 21-character run with letters and digits and was swallowed; a
 * token in a path is one segment (a `/` inside it would have to be sent as `%2F`).
 */
export function redactUrl(url: string): string {
  // The origin is configuration, not a secret; left alone so a host like `api3.example.com` stays readable.
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url)?.[0] ?? '';
  const [path = '', query] = url.slice(origin.length).split(/\?(.*)/s, 2);
  const redactedPath = path.split('/').map(redactString).join('/');
  if (query === undefined) return origin + redactedPath;
  const fields: string[] = [];
  for (const [name, value] of new URLSearchParams(query)) {
    fields.push(`${name}=${isSecretName(name) ? REDACTED : redactString(encodeURIComponent(value))}`);
  }
  return `${origin}${redactedPath}?${fields.join('&')}`;
}

/** Form fields as `name=value&…`, redacted by name and shape (not re-encoded, so `[redacted]` stays readable). */
function formSummary(params: URLSearchParams): string {
  const fields: string[] = [];
  for (const [name, value] of params)
    fields.push(`${name}=${isSecretName(name) ? REDACTED : redactString(value)}`);
  return fields.join('&');
}

function bound(text: string): string {
  return text.length > MAX_LOGGED_BODY ? `${text.slice(0, MAX_LOGGED_BODY)}…[truncated]` : text;
}

function byteLength(text: string): number {
  return typeof TextEncoder === 'undefined' ? text.length : new TextEncoder().encode(text).length;
}
