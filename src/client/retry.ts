/**
 * The client's second job: a request the server refused with the token it carried. The machine owns
 * the session, so the client only reports the token and sends the request again once with the next one.
 * That split is what makes "N concurrent 401s cause one refresh" hold without a lock of our own: the
 * machine refreshes once for the current token, and later reports of the same old token fail its
 * `isCurrentToken` guard.
 */
import { AuthError } from '../errors.js';
import { causeOf } from '../services/http/status.js';

/**
 * What an answered attempt leads to: `retry` after a first 401 for a request that carried our token
 * (report it, send again once); the `AuthError` to reject with after a second 401 (no loop) or a 403
 * (no refresh); `undefined` when the client has nothing to add and the caller gets axios's error.
 */
export function afterRefusal(
  carriedToken: string | null | undefined,
  retried: boolean,
  status: number | undefined,
): 'retry' | AuthError | undefined {
  if (!carriedToken) return undefined;
  if (status === 401 && !retried) return 'retry';
  if (status === 401) {
    return new AuthError('session_expired', {
      status,
      message: 'The server refused the request again with a freshly refreshed token.',
      cause: causeOf({ status }),
    });
  }
  if (status === 403) {
    return new AuthError('no_permission', { status, cause: causeOf({ status }) });
  }
  return undefined;
}
