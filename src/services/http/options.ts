/** The options of the HTTP core, their defaults, and the request and response it deals in. */
import type { AxiosInstance } from 'axios';
import type { HttpLogger } from './log.js';

/** Options every service takes. */
export interface HttpOptions {
  /** Abort a request that has not fully answered (headers and body) after this many ms (default: `15_000`). */
  timeoutMs?: number;
  /** An axios instance to send with instead of a new one (its interceptors run; its baseURL is ignored) (default: a new `axios.create()`). */
  axios?: AxiosInstance;
  /** Largest response body accepted, in bytes (default: `1_048_576`, 1 MiB). */
  maxResponseBytes?: number;
  /**
   * Debug logging: called once when a request goes out and once when it ends (answer or error).
   * Every entry is redacted first (see {@link HttpLogEntry}); a logger that throws is ignored
   * (default: none).
   */
  logger?: HttpLogger;
}

/**
 * The defaults of {@link HttpOptions}, the ones every service and the authorized client start from.
 *
 * @example
 * ```ts
 * createMarketigerApi({ timeoutMs: httpDefaults.timeoutMs * 2 });
 * ```
 */
export const httpDefaults = {
  timeoutMs: 15_000,
  maxResponseBytes: 1024 * 1024,
} as const satisfies Required<Pick<HttpOptions, 'timeoutMs' | 'maxResponseBytes'>>;

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
