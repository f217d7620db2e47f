/**
 * The credential headers the authorized client attaches when the app names none: each provider's
 * own, for a context of either machine. The providers write their headers; this module only puts
 * them together, so the client itself knows no provider.
 */
import type { CredentialHeaders, SessionSnapshot } from '../types.js';
import { marketigerCredentialHeaders } from './marketiger/credentials.js';
import { mrkterCredentialHeaders } from './mrkter/credentials.js';

/** Every provider's credential headers: each gives the bearer token, Mrkter its ids when the context has them. */
const providers: readonly CredentialHeaders[] = [marketigerCredentialHeaders, mrkterCredentialHeaders];

/**
 * The default credential headers: bearer token, and Mrkter's account and session ids once signed in
 * (each provider's own headers, merged).
 */
export function defaultCredentialHeaders(context: SessionSnapshot['context']): Record<string, string> {
  return Object.assign({}, ...providers.map((headersOf) => headersOf(context)));
}
