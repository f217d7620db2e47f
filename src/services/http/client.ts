/**
 * The HTTP core every service goes through. It is the only place that calls axios, and it enforces
 * the project's rules for every request: https only (loopback excepted), relative paths only,
 * header values without control characters, no redirects, a size limit, a timeout over the whole
 * exchange (headers and body), an `AbortSignal`, and errors that are always `AuthError`s.
 *
 * It answers every HTTP status as a plain {@link HttpResponse}; what a status means is the
 * provider modules' business (`services/marketiger`, `services/mrkter`), with `statusError` as the
 * shared fallback for statuses a provider does not document.
 */
import axios, { type AxiosRequestConfig } from 'axios';
import { AuthError, toAuthError } from '../../errors.js';
import { type Deadline, startDeadline } from '../../time.js';
import { assertHeaderValue, flattenHeaders } from './headers.js';
import { parseJson } from './json.js';
import {
  type HttpClient,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
  httpDefaults,
} from './options.js';
import { assertRelativePath, isLoopbackHost, secureBaseUrl } from './urls.js';

let exchangeLogModule: Promise<typeof import('./exchangeLog.js')> | undefined;

/** The debug log, loaded on first use: an app without a logger never loads redaction. */
function loadExchangeLog() {
  exchangeLogModule ??= import('./exchangeLog.js');
  return exchangeLogModule;
}

/** Creates the HTTP core for one base URL. Throws `insecure_url` at once for a refused base URL. */
export function createHttpClient(baseURL: string, options: HttpOptions = {}): HttpClient {
  const { href: base, hostname } = secureBaseUrl(baseURL);
  const instance = options.axios ?? axios.create();
  const timeoutMs = options.timeoutMs ?? httpDefaults.timeoutMs;
  const maxBytes = options.maxResponseBytes ?? httpDefaults.maxResponseBytes;
  // Never fall back to a proxy from the environment for a loopback base URL.
  const noProxy = isLoopbackHost(hostname) ? { proxy: false as const } : {};
  const { logger } = options;

  async function request(req: HttpRequest): Promise<HttpResponse> {
    const { headers, data } = encodeRequest(req);
    const log = logger ? (await loadExchangeLog()).exchangeLog(base, req, logger) : undefined;
    const deadline = startDeadline(timeoutMs, req.signal);
    const config: AxiosRequestConfig = {
      method: req.method,
      baseURL: base,
      url: req.path,
      allowAbsoluteUrls: false,
      data,
      headers,
      signal: deadline,
      maxRedirects: 0,
      maxContentLength: maxBytes,
      maxBodyLength: maxBytes,
      responseType: 'text',
      transformResponse: [(body: unknown) => body],
      validateStatus: () => true,
      ...noProxy,
      ...(req.params ? { params: req.params } : {}),
    };
    log?.sent(headers, data);
    try {
      const res = await instance.request<string>(config);
      const response = readResponse(res.status, res.headers, res.data);
      log?.answered(response);
      if (response.text.length > maxBytes) {
        throw new AuthError('bad_response', {
          status: res.status,
          message: 'The server sent an answer that is too large.',
        });
      }
      return response;
    } catch (error) {
      const failure = failureOf(error, deadline, req.signal);
      log?.failed(failure);
      throw failure;
    } finally {
      deadline.disarm();
    }
  }

  return { baseURL: base, request };
}

/** The headers and body of a request: paths and header values checked, JSON or form data encoded. */
function encodeRequest(req: HttpRequest): { headers: Record<string, string>; data: unknown } {
  assertRelativePath(req.path);
  const headers: Record<string, string> = { Accept: 'application/json, text/plain;q=0.9' };
  for (const [name, value] of Object.entries(req.headers ?? {}))
    headers[name] = assertHeaderValue(name, value);
  if (req.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    return { headers, data: new URLSearchParams(req.form).toString() };
  }
  if (req.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    return { headers, data: JSON.stringify(req.json) };
  }
  return { headers, data: undefined };
}

/** An answer of any status as an {@link HttpResponse}: the body as text and as JSON, headers flat, clock skew measured. */
function readResponse(status: number, rawHeaders: unknown, body: unknown): HttpResponse {
  const receivedAt = Date.now();
  const text = typeof body === 'string' ? body : body == null ? '' : String(body);
  const headers = flattenHeaders(rawHeaders);
  return {
    status,
    headers,
    text,
    json: parseJson(text),
    clockSkewMs: skewFrom(headers['date'], receivedAt),
    receivedAt,
  };
}

/** Why an exchange ended without an answer: our deadline (`timeout`), the caller's signal (`aborted`), or the transport. */
function failureOf(error: unknown, deadline: Deadline, signal: AbortSignal | undefined): AuthError {
  if (deadline.timedOut) return new AuthError('timeout', { cause: { name: 'TimeoutError' } });
  if (signal?.aborted) return new AuthError('aborted', { cause: { name: 'AbortError' } });
  return toAuthError(error, 'network');
}

let lastDate: { header: string; ms: number } | undefined;

/**
 * `Date` has a resolution of one second, so a skew under 2 s is noise and reads as 0. Answers of the
 * same second carry the same header: the last one parsed is remembered.
 */
function skewFrom(date: string | undefined, receivedAt: number): number {
  if (!date) return 0;
  if (lastDate?.header !== date) lastDate = { header: date, ms: Date.parse(date) };
  const server = lastDate.ms;
  if (Number.isNaN(server)) return 0;
  const skew = server - receivedAt;
  return Math.abs(skew) < 2000 ? 0 : skew;
}
