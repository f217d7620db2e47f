/**
 * How a signed-in Mrkter session is presented: the bearer access token, and once the SMS step gave a
 * session, the chosen identity's account id and that session id.
 */
import type { SessionSnapshot } from '../../types.js';
import { bearer } from '../http/headers.js';

/** The names of Mrkter's own headers: the account a request acts for, and the session of the SMS step. */
export const mrkterHeaderNames = { accountId: 'x-account-id', sessionId: 'x-session-id' } as const;

/**
 * Mrkter's credential headers for a signed-in context, for the authorized client's `credentialHeaders`
 * option: `Authorization: Bearer <accessToken>`, plus `x-account-id` and `x-session-id` when the
 * context has both ids.
 *
 * @example
 * ```ts
 * const http = createAuthorizedAxios(actor, { baseURL, credentialHeaders: mrkterCredentialHeaders });
 * ```
 */
export function mrkterCredentialHeaders(context: SessionSnapshot['context']): Record<string, string> {
  const headers: Record<string, string> = bearer(context.accessToken);
  if (context.sessionId != null && context.accountId != null) {
    headers[mrkterHeaderNames.accountId] = String(context.accountId);
    headers[mrkterHeaderNames.sessionId] = context.sessionId;
  }
  return headers;
}
