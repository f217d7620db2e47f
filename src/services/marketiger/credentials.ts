/** How a signed-in Marketiger session is presented: the bearer access token, nothing else. */
import type { SessionSnapshot } from '../../types.js';
import { bearer } from '../http/headers.js';

/**
 * Marketiger's credential headers for a signed-in context, for the authorized client's
 * `credentialHeaders` option: `Authorization: Bearer <accessToken>`.
 *
 * @example
 * ```ts
 * const http = createAuthorizedAxios(actor, { baseURL, credentialHeaders: marketigerCredentialHeaders });
 * ```
 */
export function marketigerCredentialHeaders(context: SessionSnapshot['context']): Record<string, string> {
  return bearer(context.accessToken);
}
