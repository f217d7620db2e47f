/**
 * The browser coordinator: the tabs (and windows, and iframes) of one origin share a session.
 *
 * - the lock is a Web Lock (`navigator.locks`): one tab refreshes, the others wait; the browser frees
 *   the lock of a tab that closes or crashes, and the lock also expires after `ttlMs`;
 * - notices travel on a `BroadcastChannel`, with the stored session in them, so each tab can keep its
 *   own copy when the storage is per tab (the default);
 * - the storage is the app's choice: memory (the default: tokens never touch disk and die with the
 *   tabs; a new tab asks the open ones for the session), or `localStorage` (the session survives a
 *   reload and a restart, readable by any script of the origin).
 */
import { AuthError } from '../errors.js';
import { Listeners, lockTimeout, lockTimes, noticeOf, signOutAfter, writeOver } from './common.js';
import { createMemoryCoordinator } from './memory.js';
import type { LockOptions, SessionCoordinator, SessionLock, SessionNotice, StoredSession } from './types.js';

/** Where a browser coordinator keeps sessions: `window.localStorage` and `window.sessionStorage` fit. */
export interface SessionStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** A storage in this tab's memory: nothing on disk; other tabs learn the session through notices. */
export function memoryStorage(): SessionStorageLike {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      items.set(key, value);
    },
  };
}

/** Options of {@link createBrowserCoordinator}. */
export interface BrowserCoordinatorOptions {
  /** Default {@link memoryStorage}. Pass `localStorage` to keep the session across reloads. */
  storage?: SessionStorageLike;
  /** Prefix of the lock names, storage keys and the channel name. Default `'authcharts'`. */
  name?: string;
  /** Default `navigator.locks`. Without Web Locks (an insecure context, an old browser) the lock is per tab. */
  locks?: WebLocksLike;
}

/**
 * The part of the Web Locks API (`navigator.locks`, a `LockManager`) the coordinator uses. Declared here
 * rather than named from the DOM library so the package's types compile in Node projects without `"DOM"`
 * in `lib`.
 */
export interface WebLocksLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<unknown>;
}

/** A browser coordinator; `close()` closes its channel. */
export interface BrowserCoordinator extends SessionCoordinator {
  close(): void;
}

type Message = { kind: 'notice'; key: string; session: StoredSession } | { kind: 'sync'; key: string };

/**
 * Creates a coordinator for the tabs of this origin.
 *
 * @example
 * ```ts
 * const coordinator = createBrowserCoordinator(); // or { storage: localStorage }
 * const machine = marketigerMachine.provide({ actors: marketigerActors(api, { coordinator, sessionKey: 'me' }) });
 * const actor = createActor(machine).start();
 * coordinateSession(actor, coordinator, { sessionKey: 'me' }); // a new tab starts signed in
 * ```
 */
export function createBrowserCoordinator(options: BrowserCoordinatorOptions = {}): BrowserCoordinator {
  const name = options.name ?? 'authcharts';
  const storage = options.storage ?? memoryStorage();
  const locks = options.locks ?? globalThis.navigator?.locks;
  const fallback = locks ? undefined : createMemoryCoordinator();
  const listeners = new Listeners();
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : undefined;
  const sessionItem = (key: string) => `${name}:session:${key}`;
  const fenceItem = (key: string) => `${name}:fence:${key}`;

  const readNow = (key: string): StoredSession | null => {
    try {
      const value = storage.getItem(sessionItem(key));
      const parsed = value === null ? null : (JSON.parse(value) as StoredSession);
      return parsed && typeof parsed.version === 'number' ? parsed : null;
    } catch {
      return null;
    }
  };
  const save = (key: string, session: StoredSession) => {
    storage.setItem(sessionItem(key), JSON.stringify(session));
    return structuredClone(session);
  };

  channel?.addEventListener('message', (event: MessageEvent<Message>) => {
    const message = event.data;
    if (!message || typeof message.key !== 'string') return;
    if (message.kind === 'sync') {
      // A new tab asks for the session: every tab that has one answers (the newest version wins there).
      const stored = readNow(message.key);
      if (stored)
        channel.postMessage({ kind: 'notice', key: message.key, session: stored } satisfies Message);
      return;
    }
    if (message.kind !== 'notice' || typeof message.session?.version !== 'number') return;
    // With per-tab storage this is how the tab's copy stays current; with shared storage the writer
    // already stored it.
    const local = readNow(message.key);
    if (!local || message.session.version > local.version) save(message.key, message.session);
    listeners.emit(message.key, noticeOf(message.session));
  });

  return {
    async read(key) {
      return readNow(key);
    },

    async write(key, session, conditions = {}) {
      const current = {
        version: readNow(key)?.version ?? 0,
        fence: Number(storage.getItem(fenceItem(key)) ?? 0),
      };
      const next = writeOver(current, session, conditions);
      return next && save(key, next);
    },

    async clear(key) {
      return save(key, signOutAfter(readNow(key)?.version ?? 0));
    },

    lock(key, lockOptions: LockOptions = {}) {
      if (!locks) return fallback!.lock(key, lockOptions);
      return webLock(locks, `${name}:lock:${key}`, lockOptions, () => {
        // Web Locks serialise the holders, so this read-increment-write is safe across tabs.
        const fence = Number(storage.getItem(fenceItem(key)) ?? 0) + 1;
        storage.setItem(fenceItem(key), String(fence));
        return fence;
      });
    },

    async publish(key, session) {
      listeners.emit(key, noticeOf(session));
      channel?.postMessage({ kind: 'notice', key, session } satisfies Message);
    },

    subscribe(key, listener: (notice: SessionNotice) => void) {
      const { first, remove } = listeners.add(key, listener);
      if (first && !readNow(key)) channel?.postMessage({ kind: 'sync', key } satisfies Message);
      return () => {
        remove();
      };
    },

    close() {
      channel?.close();
    },
  };
}

/**
 * Takes a Web Lock and holds it until released or `ttlMs` passes (a lock held for ever by a stuck
 * refresh would block every tab). Waiting gives up after `waitMs` (`timeout`) or on `signal` (`aborted`).
 */
function webLock(locks: WebLocksLike, lockName: string, options: LockOptions, nextFence: () => number) {
  const { ttlMs, waitMs } = lockTimes(options);
  const { signal } = options;
  return new Promise<SessionLock>((resolve, reject) => {
    if (signal?.aborted) return reject(new AuthError('aborted'));
    const waiting = new AbortController();
    let timedOut = false;
    const waitTimer = setTimeout(() => {
      timedOut = true;
      waiting.abort();
    }, waitMs);
    const onAbort = () => waiting.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const stopWaiting = () => {
      clearTimeout(waitTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    locks
      .request(lockName, { signal: waiting.signal }, async () => {
        stopWaiting();
        // Let notices already queued in this tab land before the holder reads the store: a tab that
        // refreshed posts its notice before it frees the lock.
        await new Promise((r) => setTimeout(r, 0));
        let release!: () => void;
        const held = new Promise<void>((r) => {
          release = r;
        });
        const expiry = setTimeout(release, ttlMs);
        resolve({
          fence: nextFence(),
          release: async () => {
            clearTimeout(expiry);
            release();
          },
        });
        await held;
      })
      .catch(() => {
        stopWaiting();
        reject(timedOut ? lockTimeout() : new AuthError('aborted'));
      });
  });
}
