/**
 * The client's first job: a usable access token for each request. It reads the session from the
 * actor and waits while the machine refreshes; it never refreshes by itself, it asks the machine.
 *
 * Most requests find the session signed in with a token that works, and go at once: the client judges
 * each snapshot once (a snapshot is immutable: a new one comes with every change) and builds and checks
 * the credential headers once per token, so a request costs a snapshot read and a clock read.
 */
import { AuthError, isAuthErrorKind } from '../errors.js';
import { assertHeaderValue } from '../services/http/headers.js';
import type { CredentialHeaders, SessionActor, SessionSnapshot } from '../types.js';

type SessionContext = SessionSnapshot['context'];

/** The part of an abort signal the wait listens to (axios's `GenericAbortSignal` fits). */
interface WaitSignal {
  addEventListener?: (type: 'abort', listener: () => void) => void;
  removeEventListener?: (type: 'abort', listener: () => void) => void;
}

/** Where a snapshot stands for requests, whatever its token: judged once per snapshot. */
type Standing = 'active' | 'backingOff' | 'busy' | 'stopped' | 'expired' | 'signedOut';

function standingOf(snapshot: SessionSnapshot): Standing {
  if (snapshot.status !== 'active') return 'stopped';
  if (snapshot.matches('sessionExpired')) return 'expired';
  if (!snapshot.matches('signedIn')) return 'signedOut';
  if (snapshot.matches({ signedIn: 'active' })) return 'active';
  if (snapshot.matches({ signedIn: 'backingOff' })) return 'backingOff';
  return 'busy';
}

/**
 * What a request may do with a snapshot now: go with its context, reject with an error, `wait` (for a
 * refresh, or for a token other than `rejected`), or `stale` (signed in, but the token is past its
 * expiry: a refresh first).
 */
export type Verdict = SessionContext | AuthError | 'wait' | 'stale';

/** The session as requests read it: one actor, one `credentialHeaders`. */
export interface SessionReader {
  /** The verdict on the current snapshot for a request that did not carry `rejected`. */
  verdict(snapshot: SessionSnapshot, rejected: string | null): Verdict;
  /** The credential headers of a context, each value checked, built once per token. */
  headersOf(context: SessionContext): readonly (readonly [string, string])[];
  /** The lower-cased names of every credential header attached so far: kept off other origins. */
  readonly attached: ReadonlySet<string>;
}

export function createSessionReader(credentialHeaders: CredentialHeaders): SessionReader {
  let judged: SessionSnapshot | undefined;
  let standing: Standing = 'signedOut';
  let headersContext: SessionContext | undefined;
  let headersToken: string | null = null;
  let headers: (readonly [string, string])[] = [];
  const attached = new Set<string>();

  return {
    attached,
    verdict(snapshot, rejected) {
      if (snapshot !== judged) {
        standing = standingOf(snapshot);
        judged = snapshot;
      }
      const { context } = snapshot;
      switch (standing) {
        case 'stopped':
          return new AuthError('signed_out', { message: 'The session actor is stopped.' });
        case 'expired':
          return new AuthError('session_expired');
        case 'signedOut':
          return new AuthError('signed_out');
        case 'busy':
          return context.accessToken ? 'wait' : new AuthError('signed_out');
      }
      if (!context.accessToken) return new AuthError('signed_out');
      if (context.accessToken === rejected) return 'wait';
      const expired = context.accessTokenExpiresAt !== null && context.accessTokenExpiresAt <= Date.now();
      if (!expired) return context;
      if (standing === 'active') return 'stale';
      // Backing off (the refresh keeps failing) and the token no longer works: say why.
      const last = context.error;
      return last && isAuthErrorKind(last.kind)
        ? new AuthError(last.kind, last.status !== undefined ? { status: last.status } : {})
        : new AuthError('network');
    },
    headersOf(context) {
      if (context !== headersContext || context.accessToken !== headersToken) {
        const built: (readonly [string, string])[] = [];
        for (const [name, value] of Object.entries(credentialHeaders(context))) {
          built.push([name, assertHeaderValue(name, value)]);
          attached.add(name.toLowerCase());
        }
        headers = built;
        headersContext = context;
        headersToken = context.accessToken;
      }
      return headers;
    },
  };
}

/**
 * Resolves with a signed-in context whose access token is usable: at once in `signedIn.active` with an
 * unexpired token; after the refresh otherwise. `rejected` is a token the server already refused: wait
 * for a different one. It asks for a refresh of an expired token at most once per request: if the
 * server hands out a token that is already expired, the request goes with it and the server judges (no
 * refresh loop).
 */
export function credentialsFor(
  actor: SessionActor,
  reader: SessionReader,
  waitMs: number,
  rejected: string | null,
  signal: WaitSignal | null | undefined,
): Promise<SessionContext> {
  let askedRefresh = false;
  const decide = (snapshot: SessionSnapshot): SessionContext | AuthError | 'wait' => {
    const verdict = reader.verdict(snapshot, rejected);
    if (verdict !== 'stale') return verdict;
    if (askedRefresh) return snapshot.context;
    // The token is past its expiry (a sleeping laptop, a clock jump): refresh first, once.
    askedRefresh = true;
    if (snapshot.context.accessToken)
      actor.send({ type: 'auth.tokenRejected', accessToken: snapshot.context.accessToken });
    return 'wait';
  };
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
    // Kept alive (not unref'd): a request waits on it. With an unref'd clock the machine's own timers
    // (a backoff) do not keep Node alive, and the request would be dropped unanswered.
    const timer = setTimeout(
      () => finish(new AuthError('timeout', { message: 'The session did not finish refreshing in time.' })),
      waitMs,
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
