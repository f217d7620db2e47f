/**
 * What both providers' actor factories share: the secret check for restored calls, and the refresh
 * actor (plain, or coordinated with other holders of the session).
 */
import { fromPromise } from 'xstate';
import type { CoordinationOptions } from '../coordination/types.js';
import { AuthError } from '../errors.js';
import type { CallOptions, TokenSet } from '../types.js';

/**
 * A secret the machine passed as a non-enumerable field is gone when an in-flight call was restored
 * from a JSON snapshot. The call must not go out without it (nor count as a wrong password or code):
 * the person enters it again.
 */
export function requireSecret(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new AuthError('aborted', { message: `The request was interrupted; enter the ${what} again.` });
  }
  return value;
}

/**
 * The `refreshTokens` actor over a provider's refresh call. Without a refresh token there is nothing to
 * refresh with: no request, the session is over. With `coordination`, the refresh runs under the
 * holders' common lock, or adopts what another holder wrote.
 */
export function refreshTokensActor(
  refresh: (input: { refreshToken: string }, options: CallOptions) => Promise<TokenSet>,
  coordination: CoordinationOptions | undefined,
) {
  return fromPromise<TokenSet, { refreshToken: string }>(async ({ input, signal }) => {
    if (!input.refreshToken) throw new AuthError('session_expired');
    if (!coordination) return refresh({ refreshToken: input.refreshToken }, { signal });
    // Loaded on first use: an app without a coordinator does not bundle the coordinated path.
    const { coordinatedRefresh } = await import('../coordination/refresh.js');
    return coordinatedRefresh(
      coordination,
      input.refreshToken,
      (refreshToken) => refresh({ refreshToken }, { signal }),
      signal,
    );
  });
}
