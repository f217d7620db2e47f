/** The options of the authorized client and their defaults. */
import type { CreateAxiosDefaults } from 'axios';
import { defaultCredentialHeaders } from '../services/credentials.js';
import type { HttpLogger } from '../services/http/log.js';
import { httpDefaults } from '../services/http/options.js';
import type { CredentialHeaders } from '../types.js';

/** Options of {@link createAuthorizedAxios}: axios defaults (a `baseURL` is required) and these. */
export interface AuthorizedAxiosConfig extends CreateAxiosDefaults {
  /** The API origin and path prefix. Credentials are sent only to this origin. */
  baseURL: string;
  /** How long a request waits for a refresh to finish before it rejects with `timeout` (default: `30_000` ms). */
  refreshWaitMs?: number;
  /**
   * The credential headers for a signed-in context, as the provider presents a session:
   * `marketigerCredentialHeaders`, `mrkterCredentialHeaders` or your own (default:
   * `defaultCredentialHeaders`: `Authorization: Bearer <accessToken>`, plus `x-account-id` and
   * `x-session-id` when the context has a session id, as Mrkter's).
   */
  credentialHeaders?: CredentialHeaders;
  /**
   * Debug logging, with the same entry shape and redaction as the services' `logger`: one entry per
   * attempt as it goes out (credentials attached, then redacted) and one when it ends. A retry after a
   * 401 is a second attempt with entries of its own (default: none).
   */
  logger?: HttpLogger;
}

/**
 * The defaults of {@link AuthorizedAxiosConfig}, and the axios settings the client starts from
 * (your own `timeout` or `maxRedirects` replace them).
 */
export const authorizedAxiosDefaults = {
  refreshWaitMs: 30_000,
  credentialHeaders: defaultCredentialHeaders,
  /** A whole-exchange timeout per attempt, in ms: the HTTP core's. */
  timeout: httpDefaults.timeoutMs,
  /** Redirects are not followed: one would carry the credentials elsewhere. */
  maxRedirects: 0,
} as const satisfies Partial<AuthorizedAxiosConfig>;
