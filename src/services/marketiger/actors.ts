/**
 * The actors {@link marketigerMachine} invokes, backed by a {@link MarketigerApi}. Each passes the
 * actor's `signal` to the service, so leaving a state (or stopping the actor) aborts its request.
 */
import { fromPromise } from 'xstate';
import type { CoordinationOptions } from '../../coordination/types.js';
import type { MarketigerApi, TokenSet } from '../../types.js';
import { refreshTokensActor, requireSecret } from '../actorParts.js';

/**
 * The Marketiger actor implementations, for `marketigerMachine.provide({ actors: marketigerActors(api) })`.
 *
 * @example
 * ```ts
 * const api = createMarketigerApi({ baseURL: 'https://devapi.marketiger3d.com/v2' });
 * const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) })).start();
 * ```
 *
 * With `coordination` (`{ coordinator, sessionKey }`), holders of one session (tabs, processes) refresh
 * it once between them: the refresh runs under the session's lock and adopts tokens another holder
 * already wrote (see `docs/coordination.md`). Without it, each actor refreshes on its own, as before.
 *
 * ```ts
 * const actors = marketigerActors(api, { coordinator: createMemoryCoordinator(), sessionKey: 'user-1' });
 * ```
 */
export function marketigerActors(api: MarketigerApi, coordination?: CoordinationOptions) {
  return {
    login: fromPromise<TokenSet, { email: string; password: string }>(({ input, signal }) =>
      // A fresh plain object: a spread of the machine's input inside the service would lose the password.
      api.login({ email: input.email, password: requireSecret(input.password, 'password') }, { signal }),
    ),
    refreshTokens: refreshTokensActor((input, options) => api.refreshTokens(input, options), coordination),
    checkProjectAccess: fromPromise<void, { accessToken: string; projectId: string }>(({ input, signal }) =>
      api.checkProjectAccess({ accessToken: input.accessToken, projectId: input.projectId }, { signal }),
    ),
  };
}
