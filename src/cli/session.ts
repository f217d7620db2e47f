/**
 * A stored session as a running machine, for `api` and `token`: the machine takes the stored tokens
 * (`session.updated`, which arms the refresh timer from the absolute expiry: a token already due is
 * refreshed at once), and refreshes through the file coordinator's lock, which writes the rotated
 * tokens back before the machine uses them. Two commands at once spend a rotated refresh token once:
 * the second finds the first one's tokens under the lock and takes them.
 */
import pc from 'picocolors';
import { type AnyActorRef, type InspectionEvent, waitFor } from 'xstate';
import { sharedFields } from '../coordination/common.js';
import type { SharedSession } from '../coordination/types.js';
import { AuthError, type AuthErrorData, isAuthErrorKind } from '../errors.js';
import { marketigerSession, mrkterSession } from './actors.js';
import { beforeInterruptedExit, debugLogger, hostOf } from './failure.js';
import {
  apiUrlOf,
  type Provider,
  providerNames,
  type Selection,
  type Store,
  type StoredEntry,
} from './store.js';
import { traceTransitions } from './trace.js';

/** A refresh takes at most the services' 15 s deadline; a little more for the lock. */
const SETTLE_TIMEOUT_MS = 45_000;

export interface OpenSession {
  entry: StoredEntry;
  actor: AnyActorRef;
  /** The API's base URL (Marketiger's base URL, Mrkter's API origin). */
  apiBaseURL: string;
  /** The host refreshes go to (Mrkter: Auth0's), for messages. */
  refreshHost: string | undefined;
  /** Waits until no refresh is in flight, so the rotated tokens are stored; then stops the machine. */
  close(): Promise<void>;
}

/** Opens the stored session of `provider` that the selection names, as a started machine. */
export async function openSession(
  store: Store,
  provider: Provider,
  selection: Selection,
  debug = false,
): Promise<OpenSession> {
  const entry = await store.find(provider, selection);
  const coordination = { coordinator: store.coordinator, sessionKey: entry.key };
  const trace = debug
    ? traceTransitions({ label: provider, write: (line) => console.error(line) })
    : undefined;
  const inspect = trace ? (event: InspectionEvent) => trace(event) : undefined;
  const { urls } = entry.meta;
  const logging = debug ? { logger: debugLogger } : {};
  const { actor } =
    urls.provider === 'marketiger'
      ? marketigerSession({ baseURL: urls.baseURL, ...logging }, {}, inspect, coordination)
      : mrkterSession(
          { authBaseURL: urls.authBaseURL, apiBaseURL: urls.apiBaseURL, ...logging },
          {},
          inspect,
          coordination,
        );
  actor.start();
  const shared: SharedSession = sharedFields(entry.session);
  (actor as AnyActorRef).send({ type: 'session.updated', session: shared });
  if (!actor.getSnapshot().matches('signedIn')) {
    // The machine refused the stored tokens: the refresh token is past its end (Marketiger's 12 h).
    actor.stop();
    await store.forget(entry.key);
    throw new AuthError('session_expired', {
      message: `The stored ${providerNames[provider]} session has ended. Sign in again: authcharts login ${provider}`,
    });
  }
  const settle = async () => {
    try {
      await waitFor(actor as AnyActorRef, (s) => !s.hasTag('busy'), { timeout: SETTLE_TIMEOUT_MS });
    } catch {
      // a refresh that never ends is the service's deadline's to stop; stopping aborts it
    }
  };
  // Ctrl-C during a refresh: let it land (and be written back) before the process goes.
  beforeInterruptedExit.add(settle);
  return {
    entry,
    actor: actor as AnyActorRef,
    apiBaseURL: apiUrlOf(urls),
    refreshHost: hostOf(urls.provider === 'marketiger' ? urls.baseURL : urls.authBaseURL),
    async close() {
      await settle();
      beforeInterruptedExit.delete(settle);
      actor.stop();
    },
  };
}

/**
 * Waits for an access token the machine itself considers fresh: signed in and not yet due for a
 * refresh (a due one is refreshed first), or the reason there is none.
 */
export async function freshContext(actor: AnyActorRef): Promise<{ accessToken: string }> {
  const snapshot = await waitFor(
    actor,
    (s) =>
      s.matches('sessionExpired') ||
      s.matches('signedOut') ||
      s.matches({ signedIn: 'backingOff' }) ||
      (s.matches({ signedIn: 'active' }) && !isDue(s.context)),
    { timeout: SETTLE_TIMEOUT_MS },
  );
  const { context } = snapshot as { context: { accessToken: string | null; error: AuthErrorData | null } };
  if (snapshot.matches({ signedIn: 'active' }) && context.accessToken)
    return { accessToken: context.accessToken };
  if (snapshot.matches({ signedIn: 'backingOff' }) && context.accessToken && !isExpired(snapshot.context)) {
    // The refresh keeps failing for a passing reason; the token still works for now.
    return { accessToken: context.accessToken };
  }
  const { error } = context;
  if (snapshot.matches({ signedIn: 'backingOff' })) {
    // Never `session_expired` here: that would remove a session a later try may still refresh.
    throw error && isAuthErrorKind(error.kind)
      ? new AuthError(error.kind, { message: error.message })
      : new AuthError('network');
  }
  throw new AuthError('session_expired', {
    message: error?.message ?? 'The session has ended. Sign in again.',
    ...(error?.status !== undefined ? { status: error.status } : {}),
  });
}

function isDue(context: { refreshAt?: number | null }): boolean {
  return typeof context.refreshAt === 'number' && context.refreshAt <= Date.now();
}

function isExpired(context: { accessTokenExpiresAt?: number | null }): boolean {
  return typeof context.accessTokenExpiresAt === 'number' && context.accessTokenExpiresAt <= Date.now();
}

/** Says the session is gone and how to get a new one (stderr). */
export function printSignInAgain(provider: Provider): void {
  console.error(pc.dim(`The stored session was removed. Sign in again: authcharts login ${provider}`));
}
