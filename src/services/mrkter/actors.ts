/**
 * The actors {@link mrkterMachine} invokes, backed by a {@link MrkterApi}. Each passes the actor's
 * `signal` to the service, so leaving a state (or stopping the actor) aborts its request.
 */
import { fromPromise } from 'xstate';
import type { CoordinationOptions } from '../../coordination/types.js';
import type { MrkterApi, MrkterIdentity, TokenSet } from '../../types.js';
import { refreshTokensActor, requireSecret } from '../actorParts.js';

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
    refreshTokens: refreshTokensActor((input, options) => api.refreshTokens(input, options), coordination),
  };
}
