/**
 * The HTTP core every service goes through. It is the only place that calls axios, and it enforces
 * the rules of DESIGN.md for every request: https only (loopback excepted), relative paths only,
 * header values without control characters, no redirects, a size limit, a timeout over the whole
 * exchange (headers and body), an `AbortSignal`, and errors that are always `AuthError`s.
 *
 * It answers every HTTP status as a plain {@link HttpResponse}; what a status means is the
 * provider modules' business (`marketigerApi.ts`, `mrkterApi.ts`), with {@link statusError} as the
 * shared fallback for statuses a provider does not document.
 */
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { AuthError, type AuthErrorData, toAuthError } from '../errors.js';
import { startDeadline } from '../time.js';
import { redactHeaders, redactUrl, summarizeBody } from './redact.js';

/** Options every service takes. */
export interface HttpOptions {
  /** Abort a request that has not fully answered (headers and body) after this many ms. Default 15 000. */
  timeoutMs?: number;
  /** An axios instance to send with instead of a new one (its interceptors run; its baseURL is ignored). */
  axios?: AxiosInstance;
  /** Largest response body accepted, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * Debug logging: called once when a request goes out and once when it ends (answer or error).
   * Every entry is redacted first (see {@link HttpLogEntry}); a logger that throws is ignored.
   */
  logger?: HttpLogger;
}

/**
 * One debug log entry. Headers, bodies and URLs are redacted before the logger sees them
 * (`src/services/redact.ts`): credential headers, secret-named fields and token-looking values read
 * `[redacted]`; bodies that are neither JSON nor form data appear only as their size and type.
 *
 * @example
 * ```ts
 * createMarketigerApi({ logger: (e) => console.debug(e.phase, e.method, e.url, e.status ?? '', e.durationMs ?? '') });
 * ```
 */
export interface HttpLogEntry {
  /** Tells the entries of one exchange from those of others in flight at the same time (a per-process counter). */
  id: number;
  /** `request` as it goes out; `response` when an answer (any status) arrived; `error` when none did. */
  phase: 'request' | 'response' | 'error';
  method: string;
  /** The full URL, query included, redacted. */
  url: string;
  /** The path relative to the base URL, as the service asked for it. */
  path: string;
  /** The HTTP status (`response` only). */
  status?: number;
  /** Time since the request went out, in ms (`response` and `error`). */
  durationMs?: number;
  /** Request headers (`request`) or response headers (`response`), names lower-cased, redacted. */
  headers?: Record<string, string>;
  /** A redacted, bounded summary of the request or response body. */
  body?: string;
  /** The error the request ends with (`error` only): already free of secrets. */
  error?: AuthErrorData;
}

/** The debug logger of {@link HttpOptions.logger}. */
export type HttpLogger = (entry: HttpLogEntry) => void;

let lastLogId = 0;
/** The next {@link HttpLogEntry.id}. */
export function nextLogId(): number {
  lastLogId = (lastLogId + 1) % Number.MAX_SAFE_INTEGER;
  return lastLogId;
}

/** Calls a debug logger, ignoring what it throws: logging must never change what a request does. */
export function emitLog(logger: HttpLogger | undefined, entry: HttpLogEntry): void {
  if (!logger) return;
  try {
    logger(entry);
  } catch {
    // a broken logger is the app's problem, not a reason to fail a sign-in
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** A path relative to the base URL, starting with `/`. Absolute and protocol-relative URLs are refused. */
  path: string;
  params?: Record<string, string | number>;
  /** A JSON body, or form fields sent as `application/x-www-form-urlencoded`. */
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as text, exactly as received. */
  text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
  /** Server clock minus local clock in ms, from the `Date` header; 0 when absent or within its 1 s resolution. */
  clockSkewMs: number;
  /** Local epoch ms at which the answer arrived. */
  receivedAt: number;
}

export interface HttpClient {
  readonly baseURL: string;
  request(request: HttpRequest): Promise<HttpResponse>;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export { MAX_TIMER_MS } from '../time.js';

const loopbackHosts = new Set(['localhost', '[::1]', '::1']);

/** True for `localhost`, `[::1]` and every address of 127.0.0.0/8. */
export function isLoopbackHost(hostname: string): boolean {
  if (loopbackHosts.has(hostname)) return true;
  return /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(hostname);
}

/**
 * Checks that a base URL is `https:`, or `http:` on a loopback host; returns it without a trailing
 * slash. Anything else (another scheme, `http://localhost.evil.com`, a malformed URL) is `insecure_url`.
 */
export function assertSecureBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AuthError('insecure_url', { message: 'The base URL is not a valid absolute URL.' });
  }
  const secure =
    parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
  if (!secure || parsed.username || parsed.password) throw new AuthError('insecure_url');
  return parsed.href.replace(/\/+$/, '');
}

/** Refuses CR, LF, NUL and other control characters in a header value (header injection). */
export function assertHeaderValue(name: string, value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new AuthError('bad_response', { message: `The ${name} header value contains control characters.` });
  }
  return value;
}

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
  return Math.min(Math.max(0, Math.round(ms)), 60 * 60 * 1000);
}

/** Parses JSON without throwing; `undefined` when the text is not JSON. */
export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The fallback meaning of a status no provider rule claimed: 429 `rate_limited` (with the wait),
 * 5xx `server` (retryable), 401 `session_expired`, 403 `no_permission`, anything else `bad_response`.
 */
export function statusError(response: HttpResponse, serverError?: string): AuthError {
  const { status } = response;
  const cause = { name: 'HttpStatus', code: String(status), ...(serverError ? { serverError } : {}) };
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

/** Creates the HTTP core for one base URL. Throws `insecure_url` at once for a refused base URL. */
export function createHttpClient(baseURL: string, options: HttpOptions = {}): HttpClient {
  const base = assertSecureBaseUrl(baseURL);
  const instance = options.axios ?? axios.create();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  async function request(req: HttpRequest): Promise<HttpResponse> {
    if (!req.path.startsWith('/') || req.path.startsWith('//') || req.path.includes('\\')) {
      throw new AuthError('insecure_url', { message: 'Only paths relative to the base URL are sent.' });
    }
    const headers: Record<string, string> = { Accept: 'application/json, text/plain;q=0.9' };
    for (const [name, value] of Object.entries(req.headers ?? {}))
      headers[name] = assertHeaderValue(name, value);
    let data: unknown;
    if (req.form) {
      data = new URLSearchParams(req.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (req.json !== undefined) {
      data = JSON.stringify(req.json);
      headers['Content-Type'] = 'application/json';
    }

    const deadline = startDeadline(timeoutMs, req.signal);

    const config: AxiosRequestConfig = {
      method: req.method,
      baseURL: base,
      url: req.path,
      allowAbsoluteUrls: false,
      data,
      headers,
      signal: deadline.signal,
      maxRedirects: 0,
      maxContentLength: maxBytes,
      maxBodyLength: maxBytes,
      responseType: 'text',
      transformResponse: [(body: unknown) => body],
      validateStatus: () => true,
      // Never fall back to a proxy from the environment for a loopback base URL.
      ...(isLoopbackHost(new URL(base).hostname) ? { proxy: false as const } : {}),
    };
    if (req.params) config.params = req.params;
    const logger = options.logger;
    const startedAt = Date.now();
    const logBase = logger
      ? {
          id: nextLogId(),
          method: req.method,
          path: redactUrl(req.path),
          url: redactUrl(
            base +
              req.path +
              (req.params ? `?${new URLSearchParams(stringParams(req.params)).toString()}` : ''),
          ),
        }
      : undefined;
    if (logger && logBase) {
      const body = summarizeBody(data, headers['Content-Type']);
      emitLog(logger, {
        phase: 'request',
        ...logBase,
        headers: redactHeaders(headers),
        ...(body !== undefined ? { body } : {}),
      });
    }
    try {
      const res = await instance.request<string>(config);
      const receivedAt = Date.now();
      const text = typeof res.data === 'string' ? res.data : res.data == null ? '' : String(res.data);
      const responseHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers ?? {})) {
        if (typeof v === 'string') responseHeaders[k.toLowerCase()] = v;
        else if (Array.isArray(v)) responseHeaders[k.toLowerCase()] = v.join(', ');
        else if (typeof v === 'number') responseHeaders[k.toLowerCase()] = String(v);
      }
      if (logger && logBase) {
        const body = summarizeBody(text, responseHeaders['content-type']);
        emitLog(logger, {
          phase: 'response',
          ...logBase,
          status: res.status,
          durationMs: receivedAt - startedAt,
          headers: redactHeaders(responseHeaders),
          ...(body !== undefined ? { body } : {}),
        });
      }
      if (text.length > maxBytes) {
        throw new AuthError('bad_response', {
          status: res.status,
          message: 'The server sent an answer that is too large.',
        });
      }
      return {
        status: res.status,
        headers: responseHeaders,
        text,
        json: parseJson(text),
        clockSkewMs: skewFrom(responseHeaders['date'], receivedAt),
        receivedAt,
      };
    } catch (error) {
      const failure = deadline.timedOut
        ? new AuthError('timeout', { cause: { name: 'TimeoutError' } })
        : req.signal?.aborted
          ? new AuthError('aborted', { cause: { name: 'AbortError' } })
          : toAuthError(error, 'network');
      if (logger && logBase) {
        emitLog(logger, {
          phase: 'error',
          ...logBase,
          durationMs: Date.now() - startedAt,
          error: failure.toData(),
        });
      }
      throw failure;
    } finally {
      deadline.disarm();
    }
  }

  return { baseURL: base, request };
}

function stringParams(params: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
}

/** `Date` has a resolution of one second, so a skew under 2 s is noise and reads as 0. */
function skewFrom(date: string | undefined, receivedAt: number): number {
  if (!date) return 0;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return 0;
  const skew = server - receivedAt;
  return Math.abs(skew) < 2000 ? 0 : skew;
}
