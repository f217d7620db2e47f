/**
 * The locked refresh the actors run when they are given a coordinator: one holder spends the refresh
 * token, every other adopts what it wrote. Rotating providers (Marketiger, Auth0 with rotation) accept
 * a refresh token once, so two holders refreshing with the same token would end one session.
 */
import { AuthError, toAuthError } from '../errors.js';
import type { TokenSet } from '../types.js';
import { epochStart, lockDefaults, refOf, syncDefaults } from './common.js';
import { type KeyState, keyState, noteIssued, noteRecord, storeSession, syncAndWait } from './store.js';
import type { CoordinationOptions, SharedSession, StoredSession } from './types.js';

/** An adopted access token must still have this long to live; otherwise the stored refresh token is spent. */
const ADOPT_MIN_VALIDITY_MS = 5_000;

/** How many times one refresh waits for the holders after losses of the store's data, before it gives up for now. */
const MAX_RESET_WAITS = 3;

type SignedIn = Extract<StoredSession, { status: 'signedIn' }>;

/**
 * Refreshes `refreshToken` under the session's lock:
 *
 * 1. takes the lock (waiting while another holder refreshes);
 * 2. re-reads the stored session: when another holder refreshed since this one last looked (another
 *    refresh token, or tokens issued after this refresh began), adopts those tokens without a request
 *    (or, if their access token is already stale, refreshes with the stored, newer refresh token);
 *    a stored sign-out ends this holder's session too (`session_expired`). When the store turns out to
 *    have lost the session since this process last read it (empty, or a new epoch), or lost its data a
 *    moment ago (an epoch younger than `resetWaitMs` that began with a session stored again), it first
 *    lets go of the lock and asks the other holders to store what they hold (one of them may hold
 *    tokens it bought with this very refresh token), waits up to `resetWaitMs`, and starts again;
 * 3. otherwise calls `refresh`. From the answer on, the refresh token is spent and these tokens are
 *    the session: they are returned to the machine whatever the store does. They are written back
 *    fenced by the lock and conditional on the version read, and published; a store that fails keeps
 *    them retried in the background (see `storeSession`), and a store that holds something newer by
 *    then (a refused fence: this holder's lock expired under it) is adopted instead;
 * 4. a refused refresh (`session_expired`) is checked against the store once more: tokens that arrived
 *    there meanwhile (a notice that travelled slower than the lock) are adopted instead.
 *
 * @param refresh sends one refresh request with the given refresh token (the service call).
 */
export async function coordinatedRefresh(
  options: CoordinationOptions,
  refreshToken: string,
  refresh: (refreshToken: string) => Promise<TokenSet>,
  signal: AbortSignal,
): Promise<TokenSet> {
  const { coordinator, sessionKey } = options;
  const state = keyState(coordinator, sessionKey);
  const startedAt = Date.now();
  const lockOptions = {
    ttlMs: options.lockTtlMs ?? lockDefaults.ttlMs,
    waitMs: options.lockWaitMs ?? lockDefaults.waitMs,
  };
  /** Waits for the other holders so far, and the loss of data the last one was for. */
  let waits = 0;
  let waitedFor: string | undefined;
  for (;;) {
    const lock = await coordinator.lock(sessionKey, { ...lockOptions, signal });
    let handedOver = false;
    try {
      const stored = await coordinator.read(sessionKey);
      const resetWaitMs = options.resetWaitMs ?? syncDefaults.resetWaitMs;
      // Once per loss of data: again only for another loss (a refresh that queued for the lock may live
      // through two restarts). A loss is told by what the store holds: nothing after this process saw
      // an epoch, or an epoch.
      const loss = stored === null ? `empty after ${state.epoch}` : `epoch ${stored.epoch}`;
      const wait = !coordinator.requestSync || loss === waitedFor ? 0 : resetWait(state, stored, resetWaitMs);
      if (wait > 0) {
        // A store that keeps losing its data: no refresh token is spent until it holds on to it.
        if (waits >= MAX_RESET_WAITS) throw storeUnsettled();
        // The store forgot the session a moment ago (or while this process held it): another holder
        // may have refreshed with this very token and not have stored the answer yet (it may still be
        // reconnecting), while a holder that missed that refresh stored the older session again. Ask,
        // and wait for it outside the lock (its write needs the lock).
        waits++;
        waitedFor = loss;
        await lock.release().catch(() => {});
        handedOver = true;
        // Only news that changes what to do ends the wait early: a sign-out, or a session newer than this
        // holder's (holders storing the same or an older session again change nothing).
        const mineAt = state.issued.get(refreshToken);
        await syncAndWait(
          coordinator,
          sessionKey,
          stored,
          wait,
          signal,
          (record) =>
            record.status === 'signedOut' ||
            (record.refreshToken !== refreshToken && (mineAt === undefined || record.issuedAt >= mineAt)),
        );
        continue;
      }
      noteRecord(state, stored);
      if (stored?.status === 'signedOut') throw signedOutElsewhere();
      let spend = refreshToken;
      if (stored && isNewer(stored, refreshToken, startedAt, state.issued.get(refreshToken))) {
        if (isFresh(stored)) return tokenSetOf(stored);
        if (stored.refreshToken) spend = stored.refreshToken;
      }

      let tokens: TokenSet;
      try {
        tokens = await refresh(spend);
      } catch (error) {
        if (toAuthError(error).kind !== 'session_expired') throw error;
        const now = await coordinator.read(sessionKey).catch(() => null);
        if (now?.status === 'signedIn' && now.refreshToken && now.refreshToken !== spend && isFresh(now)) {
          return tokenSetOf(now);
        }
        throw error;
      }

      // The provider has spent `spend`: from here on nothing the store does may lose these tokens.
      const next: SharedSession = {
        accessToken: tokens.accessToken,
        // No refresh token in the answer (RFC 6749 §6): the one spent stays valid.
        refreshToken: tokens.refreshToken ?? spend,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        // A new refresh token's end is the machine's to compute (Marketiger: 12 h from issuedAt).
        refreshTokenExpiresAt:
          tokens.refreshToken && tokens.refreshToken !== spend ? null : storedRefreshEnd(stored),
        issuedAt: Date.now(),
        clockSkewMs: tokens.clockSkewMs,
      };
      // Mrkter's account and session ids do not change with a refresh.
      if (stored?.status === 'signedIn') {
        if (stored.accountId !== undefined) next.accountId = stored.accountId;
        if (stored.sessionId !== undefined) next.sessionId = stored.sessionId;
      }
      const answer = { ...tokens, refreshToken: next.refreshToken };
      state.fenced.add(next.accessToken);
      noteIssued(state, next);
      // The operation owns the lock from here: it releases it once the write is settled.
      handedOver = true;
      const operation = storeSession(coordinator, sessionKey, {
        session: next,
        basis: stored ? refOf(stored) : null,
        time: next.issuedAt,
        fenced: true,
        lock,
        lockTtlMs: lockOptions.ttlMs,
        lockWaitMs: lockOptions.waitMs,
      });
      const outcome = await operation.first;
      if (outcome.kind === 'superseded') {
        // Another holder stored something newer meanwhile (this holder's lock expired under it, and its
        // fenced write was refused): follow the store, never overwrite it.
        if (outcome.record.status === 'signedOut') throw signedOutElsewhere();
        return tokenSetOf(outcome.record);
      }
      // Stored, or still being stored (the store is failing): either way these are the tokens to use.
      return answer;
    } finally {
      if (!handedOver) await lock.release().catch(() => {});
    }
  }
}

/**
 * How long a refresh waits for the other holders before spending a refresh token: the whole `waitMs`
 * when the store lost what this process saw under the key (nothing stored any more, or a record of
 * another epoch); what is left of `waitMs` since the stored epoch began, when it began less than that
 * ago with a session issued before it (a holder stored its session again after the store lost its data:
 * maybe an older one, while the holder that refreshed last is not back yet); otherwise 0. A new epoch
 * that starts with new tokens (the first sign-in) costs nothing.
 */
function resetWait(state: KeyState, stored: StoredSession | null, waitMs: number): number {
  if (state.seen && (stored === null || stored.epoch !== state.epoch)) return waitMs;
  const began = epochStart(stored?.epoch);
  if (stored?.status !== 'signedIn' || began === undefined || stored.issuedAt >= began) return 0;
  const age = Date.now() - began;
  return age >= waitMs ? 0 : waitMs - age;
}

/**
 * Tokens written by another holder after this one got its own: another refresh token, unless the stored
 * session is older than this holder's (`mineAt`: when its tokens were issued, if this process knows).
 * An older session in the store is one a holder that missed the last refresh stored again after the
 * store lost its data: its refresh token was redeemed already, and must not be sent.
 */
function isNewer(
  stored: SignedIn,
  refreshToken: string,
  startedAt: number,
  mineAt: number | undefined,
): boolean {
  if (stored.refreshToken && stored.refreshToken !== refreshToken) {
    return mineAt === undefined || stored.issuedAt >= mineAt;
  }
  // A provider that does not rotate keeps the refresh token: tokens issued after this refresh began
  // come from another holder's refresh (the writer's clock: holders on one host or in sync by NTP).
  return stored.issuedAt >= startedAt;
}

/**
 * An access token worth adopting: it has `ADOPT_MIN_VALIDITY_MS` left, or a quarter of its lifetime
 * when it lives shorter than four times that (otherwise every holder of a short-lived token would
 * refresh again rather than adopt).
 */
function isFresh(stored: SignedIn): boolean {
  if (stored.accessTokenExpiresAt === null) return true;
  const lifetime =
    stored.issuedAt > 0 ? stored.accessTokenExpiresAt - stored.issuedAt : Number.POSITIVE_INFINITY;
  const margin = Math.min(ADOPT_MIN_VALIDITY_MS, Math.max(0, lifetime / 4));
  return stored.accessTokenExpiresAt > Date.now() + margin;
}

function storedRefreshEnd(stored: StoredSession | null): number | null {
  return stored?.status === 'signedIn' ? stored.refreshTokenExpiresAt : null;
}

function tokenSetOf(stored: SignedIn): TokenSet {
  return {
    accessToken: stored.accessToken,
    refreshToken: stored.refreshToken,
    accessTokenExpiresAt: stored.accessTokenExpiresAt,
    clockSkewMs: stored.clockSkewMs,
  };
}

/** A store that lost its data again and again during one refresh: retryable, the machine backs off. */
function storeUnsettled(): AuthError {
  return new AuthError('network', {
    message: 'The session store keeps losing its data; the refresh waits for it to settle.',
  });
}

function signedOutElsewhere(): AuthError {
  return new AuthError('session_expired', {
    message: 'The session was signed out in another window or process.',
  });
}
