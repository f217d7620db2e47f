/**
 * The client's last job: no credential leaves in an error, and none goes to another origin. axios puts
 * the request's headers on every error it throws (`error.config`), which a caller may log or
 * serialise (axios #2648, #6919).
 */
import type { AxiosError, AxiosHeaders } from 'axios';
import { isSecretName, REDACTED } from '../services/http/secrets.js';

/** Redacts every secret-named header (`Authorization`, `x-session-id`, cookies…) of an axios error before it reaches the caller. */
export function scrub(error: AxiosError): AxiosError {
  for (const headers of [error.config?.headers, error.response?.config?.headers]) {
    if (!headers) continue;
    for (const name of Object.keys(headers.toJSON?.() ?? {})) {
      if (isSecretName(name)) headers.set(name, REDACTED);
    }
  }
  // The raw request holds the sent header block as text: keep it reachable but out of logs and JSON.
  for (const holder of [error, error.response].filter(Boolean) as object[]) {
    if ('request' in holder) Object.defineProperty(holder, 'request', { enumerable: false });
  }
  return error;
}

/** Removes credential headers from a request to another origin: every one the client ever attached, and `Authorization`. */
export function stripCredentials(headers: AxiosHeaders, attached: ReadonlySet<string>): void {
  headers.delete('authorization');
  for (const name of attached) headers.delete(name);
}
