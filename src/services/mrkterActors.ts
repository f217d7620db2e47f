/**
 * The actors {@link mrkterMachine} invokes, backed by a {@link MrkterApi}. Each passes the actor's
 * `signal` to the service, so leaving a state (or stopping the actor) aborts its request.
 */
import { fromPromise } from 'xstate';
import { coordinatedRefresh } from '../coordination/refresh.js';
import type { CoordinationOptions } from '../coordination/types.js';
import { AuthError } from '../errors.js';
import type { mrkterMachine } from '../machines/mrkterMachine.js';
import type { MrkterApi, MrkterIdentity, TokenSet } from './types.js';

/**
 * A secret the machine passed as a non-enumerable field is gone when an in-flight call was restored
 * from a JSON snapshot. The call must not go out without it (nor count as a wrong code): the person
 * enters it again.
 */
function requireSecret(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new AuthError('aborted', { message: `The request was interrupted; enter the ${what} again.` });
  }
  return value;
}

/**
 * The Mrkter actor implementations, for `mrkterMachine.provide({ actors: mrkterActors(api) })`.
 *
 * @example
 * ```ts
 * const api = createMrkterApi();
 * const actor = createActor(mrkterMachine.provide({ actors: mrkterActors(api) })).start();
 * ```
 *
 * With `coordination` (`{ coordinator, sessionKey }`), holders of one session (tabs, processes) refresh
 * it once between them: the refresh runs under the session's lock and adopts tokens another holder
 * already wrote (see `docs/coordination.md`). Without it, each actor refreshes on its own, as before.
 *
 * ```ts
 * const actors = mrkterActors(api, { coordinator: createMemoryCoordinator(), sessionKey: 'user-1' });
 * ```
 */
export function mrkterActors(api: MrkterApi, coordination?: CoordinationOptions) {
  return {
    login: fromPromise<TokenSet, { username: string; password: string }>(({ input, signal }) =>
      // A fresh plain object: the machine's input holds the password non-enumerable, which a spread
      // inside the service would lose.
      api.login(
        { username: input.username, password: requireSecret(input.password, 'password') },
        { signal },
      ),
    ),
    loadIdentities: fromPromise<MrkterIdentity[], { accessToken: string }>(({ input, signal }) =>
      api.loadIdentities({ accessToken: input.accessToken }, { signal }),
    ),
    requestCode: fromPromise<void, { accessToken: string; phoneNumber: string }>(({ input, signal }) =>
      api.requestCode({ accessToken: input.accessToken, phoneNumber: input.phoneNumber }, { signal }),
    ),
    verifyCode: fromPromise<
      { sessionId: string },
      { accessToken: string; accountId: number | string; code: string }
    >(({ input, signal }) =>
      api.verifyCode(
        {
          accessToken: input.accessToken,
          accountId: input.accountId,
          code: requireSecret(input.code, 'code'),
        },
        { signal },
      ),
    ),
    refreshTokens: fromPromise<TokenSet, { refreshToken: string }>(async ({ input, signal }) => {
      // Auth0 sends no refresh token without offline_access: nothing to refresh with, no request.
      if (!input.refreshToken) throw new AuthError('session_expired');
      if (!coordination) return api.refreshTokens({ refreshToken: input.refreshToken }, { signal });
      // Shared with other holders: refresh under their common lock, or adopt what another wrote.
      return coordinatedRefresh(
        coordination,
        input.refreshToken,
        (refreshToken) => api.refreshTokens({ refreshToken }, { signal }),
        signal,
      );
    }),
  } satisfies Parameters<typeof mrkterMachine.provide>[0]['actors'];
}
