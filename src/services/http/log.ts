/**
 * Debug logging of the services and the authorized client: one entry shape, ids that tell exchanges
 * apart, and a call that no logger can break. Entries are redacted before they are built (`redact.ts`).
 */
import type { AuthErrorData } from '../../errors.js';

/**
 * One debug log entry. Headers, bodies and URLs are redacted before the logger sees them
 * (`src/services/http/redact.ts`): credential headers, secret-named fields and token-looking values read
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

/** `{ body }` when there is a body summary, else nothing: spread into an entry so it has no `body: undefined`. */
export function bodyField(body: string | undefined): { body?: string } {
  return body !== undefined ? { body } : {};
}
