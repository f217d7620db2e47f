/**
 * The client's first job: a usable access token for each request. It reads the session from the
 * actor and waits while the machine refreshes; it never refreshes by itself, it asks the machine.
 */
import type { AxiosHeaders } from 'axios';
import { AuthError, isAuthErrorKind } from '../errors.js';
import { assertHeaderValue } from '../services/http/headers.js';
import { unrefTimer } from '../time.js';
import type { CredentialHeaders, SessionActor, SessionSnapshot } from '../types.js';

type SessionContext = SessionSnapshot['context'];

/** The part of an abort signal the wait listens to (axios's `GenericAbortSignal` fits). */
interface WaitSignal {
  addEventListener?: (type: 'abort', listener: () => void) => void;
  removeEventListener?: (type: 'abort', listener: () => void) => void;
}

/**
 * Resolves with a signed-in context whose access token is usable: at once in `signedIn.active` with an
 * unexpired token; after the refresh otherwise. `rejected` is a token the server already refused: wait
 * for a different one.
 */
export function credentialsFor(
  actor: SessionActor,
  waitMs: number,
  rejected: string | null,
  signal: WaitSignal | undefined,
): Promise<SessionContext> {
  const decide = usableContext(actor, rejected);
  const first = decide(actor.getSnapshot());
  if (first instanceof AuthError) return Promise.reject(first);
  if (first !== 'wait') return Promise.resolve(first);

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: SessionContext | AuthError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
      signal?.removeEventListener?.('abort', onAbort);
      if (outcome instanceof AuthError) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = () => finish(new AuthError('aborted'));
    const timer = unrefTimer(
      setTimeout(
        () => finish(new AuthError('timeout', { message: 'The session did not finish refreshing in time.' })),
        waitMs,
      ),
    );
    signal?.addEventListener?.('abort', onAbort);
    let subscription: { unsubscribe(): void } | undefined;
    subscription = actor.subscribe((snapshot) => {
      const next = decide(snapshot);
      if (next !== 'wait') finish(next);
    });
    // The actor may have moved on between the first look and the subscription.
    const now = decide(actor.getSnapshot());
    if (now !== 'wait') finish(now);
    if (settled) subscription.unsubscribe();
  });
}

/**
 * Judges one snapshot for one request: the context to send with, the error to reject with, or `wait`.
 * It asks for a refresh of an expired token at most once per request: if the server hands out a token
 * that is already expired, the request goes with it and the server judges (no refresh loop).
 */
function usableContext(actor: SessionActor, rejected: string | null) {
  let askedRefresh = false;
  return (snapshot: SessionSnapshot): SessionContext | AuthError | 'wait' => {
    const { context } = snapshot;
    if (snapshot.status !== 'active')
      return new AuthError('signed_out', { message: 'The session actor is stopped.' });
    if (snapshot.matches('sessionExpired')) return new AuthError('session_expired');
    if (!snapshot.matches('signedIn') || !context.accessToken) return new AuthError('signed_out');
    if (context.accessToken === rejected) return 'wait';
    const expired = context.accessTokenExpiresAt !== null && context.accessTokenExpiresAt <= Date.now();
    if (snapshot.matches({ signedIn: 'active' })) {
      if (!expired || askedRefresh) return context;
      // The token is past its expiry (a sleeping laptop, a clock jump): refresh first, once.
      askedRefresh = true;
      actor.send({ type: 'auth.tokenRejected', accessToken: context.accessToken });
      return 'wait';
    }
    if (snapshot.matches({ signedIn: 'backingOff' })) {
      // The refresh keeps failing: go on with a token that still works, else report why.
      if (!expired) return context;
      const last = context.error;
      return last && isAuthErrorKind(last.kind)
        ? new AuthError(last.kind, last.status !== undefined ? { status: last.status } : {})
        : new AuthError('network');
    }
    return 'wait';
  };
}

/**
 * Sets the provider's credential headers for `context` on a request, each value checked for control
 * characters, and notes their names in `attached` (so they can be kept off other origins).
 */
export function attachCredentials(
  headers: AxiosHeaders,
  context: SessionContext,
  credentialHeaders: CredentialHeaders,
  attached: Set<string>,
): void {
  for (const [name, value] of Object.entries(credentialHeaders(context))) {
    headers.set(name, assertHeaderValue(name, value));
    attached.add(name.toLowerCase());
  }
}
