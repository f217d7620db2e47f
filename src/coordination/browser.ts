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
 *
 * A browser without Web Locks or BroadcastChannel gets one session per tab, and a storage that throws
 * is replaced by memory: never an exception, one warning through the `logger`.
 */
import { AuthError } from '../errors.js';
import {
  emitLog,
  Listeners,
  lockTimeout,
  lockTimes,
  noticeOf,
  signOutAfter,
  timeOf,
  writeOver,
} from './common.js';
import { createMemoryCoordinator } from './memory.js';
import type {
  CoordinationLogger,
  LockOptions,
  SessionCoordinator,
  SessionLock,
  SessionNotice,
  StoredSession,
} from './types.js';

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
  /**
   * Default {@link memoryStorage}. Pass `localStorage` to keep the session across reloads. A storage that
   * refuses to write (Safari's private mode, a full quota) is replaced by this tab's memory, with a warning.
   */
  storage?: SessionStorageLike;
  /** Prefix of the lock names, storage keys and the channel name. Default `'authcharts'`. */
  name?: string;
  /**
   * Default `navigator.locks`. Without Web Locks (an insecure context: `http://` on a LAN address; an old
   * browser) tabs cannot take turns at refreshing, so each tab keeps its own session, with a warning.
   */
  locks?: WebLocksLike;
  /**
   * Told once, as a `warn` entry of event `degraded`, when a browser API is missing and the tabs do not
   * share the session as they would (default: nothing is logged).
   */
  logger?: CoordinationLogger;
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
 * It never throws. A browser without what it needs degrades, and says so once through `logger`:
 * - no Web Locks (an insecure context) or no `BroadcastChannel` (some embedded browsers): each tab
 *   keeps its own session, as without a coordinator (nothing shared, nothing raced);
 * - a storage that refuses to write (Safari's private mode): the session is kept in the tab's memory
 *   (the default storage), still shared with the other tabs, but it does not survive a reload.
 *
 * @example
 * ```ts
 * const coordinator = createBrowserCoordinator({ logger: (e) => console.warn(e.message) }); // or { storage: localStorage }
 * const machine = marketigerMachine.provide({ actors: marketigerActors(api, { coordinator, sessionKey: 'me' }) });
 * const actor = createActor(machine).start();
 * coordinateSession(actor, coordinator, { sessionKey: 'me' }); // a new tab starts signed in
 * ```
 */
export function createBrowserCoordinator(options: BrowserCoordinatorOptions = {}): BrowserCoordinator {
  const name = options.name ?? 'authcharts';
  const warn = (message: string) => emitLog(options.logger, { level: 'warn', event: 'degraded', message });
  const locks = options.locks ?? webLocks();
  const channel = locks ? openChannel(name) : undefined;
  if (!locks || !channel) {
    warn(
      locks
        ? 'BroadcastChannel is not available in this browser: each tab keeps its own session (tabs do not share it).'
        : 'Web Locks (navigator.locks) are not available (an insecure context?): each tab keeps its own session (tabs do not share it).',
    );
    return isolatedTab();
  }
  const listeners = new Listeners();
  const storage = fallibleStorage(options.storage ?? memoryStorage(), () =>
    warn(
      "The storage refused to write (Safari's private mode, a full quota?): the session is kept in this tab's memory; tabs still share it, but it does not survive a reload.",
    ),
  );
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
  const post = (message: Message) => {
    try {
      channel.postMessage(message);
    } catch {
      // a closed channel: this tab is going away
    }
  };

  channel.addEventListener('message', (event: MessageEvent<Message>) => {
    const message = event.data;
    if (!message || typeof message.key !== 'string') return;
    if (message.kind === 'sync') {
      // A new tab asks for the session: every tab that has one answers (the newest version wins there).
      const stored = readNow(message.key);
      if (stored) post({ kind: 'notice', key: message.key, session: stored });
      return;
    }
    if (message.kind !== 'notice' || typeof message.session?.version !== 'number') return;
    // With per-tab storage this is how the tab's copy stays current; with shared storage the writer
    // already stored it.
    const local = readNow(message.key);
    if (!local || isNewerRecord(message.session, local)) save(message.key, message.session);
    listeners.emit(message.key, noticeOf(message.session));
  });

  return {
    async read(key) {
      return readNow(key);
    },

    async write(key, session, conditions = {}) {
      const stored = readNow(key);
      const current = {
        version: stored?.version ?? 0,
        epoch: stored?.epoch,
        fence: Number(storage.getItem(fenceItem(key)) ?? 0),
      };
      const next = writeOver(current, session, conditions);
      return next && save(key, next);
    },

    async clear(key) {
      return save(key, signOutAfter(readNow(key) ?? { version: 0 }));
    },

    lock(key, lockOptions: LockOptions = {}) {
      return webLock(locks, `${name}:lock:${key}`, lockOptions, () => {
        // Web Locks serialise the holders, so this read-increment-write is safe across tabs.
        const fence = Number(storage.getItem(fenceItem(key)) ?? 0) + 1;
        storage.setItem(fenceItem(key), String(fence));
        return fence;
      });
    },

    async publish(key, session) {
      listeners.emit(key, noticeOf(session));
      post({ kind: 'notice', key, session });
    },

    subscribe(key, listener: (notice: SessionNotice) => void) {
      const { first, remove } = listeners.add(key, listener);
      if (first && !readNow(key)) post({ kind: 'sync', key });
      return () => {
        remove();
      };
    },

    async requestSync(key) {
      post({ kind: 'sync', key });
    },

    close() {
      channel.close();
    },
  };
}

/** `navigator.locks`, or nothing (an insecure context has no `navigator.locks`). */
function webLocks(): WebLocksLike | undefined {
  try {
    return (globalThis.navigator as { locks?: WebLocksLike } | undefined)?.locks ?? undefined;
  } catch {
    return undefined;
  }
}

/** A `BroadcastChannel`, or nothing where there is none (or it cannot be opened, e.g. an opaque origin). */
function openChannel(name: string): BroadcastChannel | undefined {
  try {
    return typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : undefined;
  } catch {
    return undefined;
  }
}

/** A tab on its own: the session in its memory, its lock its own, nothing on the channel. */
function isolatedTab(): BrowserCoordinator {
  return Object.assign(createMemoryCoordinator(), { close() {} });
}

/**
 * The app's storage until it throws, then this tab's memory (with the items it held, as far as they
 * could be read): a storage that refuses writes must not fail every sign-in.
 */
function fallibleStorage(storage: SessionStorageLike, onFailure: () => void): SessionStorageLike {
  let current = storage;
  let failed = false;
  const fallBack = (known: Map<string, string>) => {
    if (failed) return;
    failed = true;
    const memory = memoryStorage();
    for (const [key, value] of known) memory.setItem(key, value);
    current = memory;
    onFailure();
  };
  // What was read or written through this wrapper, to carry over into memory on a failure.
  const known = new Map<string, string>();
  return {
    getItem(key) {
      try {
        const value = current.getItem(key);
        if (value !== null && !failed) known.set(key, value);
        return value;
      } catch {
        fallBack(known);
        return current.getItem(key);
      }
    },
    setItem(key, value) {
      try {
        current.setItem(key, value);
        if (!failed) known.set(key, value);
      } catch {
        known.set(key, value);
        fallBack(known);
      }
    },
  };
}

/** A notice's record is newer than the tab's copy: a later version, or (another epoch) a later time. */
function isNewerRecord(record: StoredSession, local: StoredSession): boolean {
  if (record.epoch === local.epoch) return record.version > local.version;
  return timeOf(record) > timeOf(local);
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
