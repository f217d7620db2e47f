/**
 * A coordinator over a folder: processes on one host (two terminals running the CLI, cron jobs, a
 * script beside a service) share a session through files, with no server to run.
 *
 * Per session key, one JSON file holds the stored session, the lock's fencing counter and the app's
 * own plain data (who signed in, where: never a secret); it is written whole to a temporary file and
 * renamed over the old one, mode 0600, so a reader never sees half a file and no other user can read
 * it. Beside it:
 *
 * - `<file>.lock`, the lock of the contract (taken around a refresh), created with `O_EXCL`: its content
 *   says who holds it and until when. It expires `ttlMs` after it was taken, or at once when its
 *   holder's process on this host has died (a Ctrl-C during a refresh must not block the next command
 *   for 20 s); an expired holder's late write is refused by the fence, as with the other adapters.
 * - `<file>.mutex`, held for the few milliseconds of each read-modify-write (`write`, `clear`, taking the
 *   lock), so that two writers never lose each other's update; one left by a killed process is broken
 *   after {@link fileCoordinatorDefaults.mutexStaleMs}.
 *
 * Notices reach listeners in this process at once, and other processes through a watch on the folder.
 * Node only (it imports `node:fs`): not exported from the root entry.
 */
import { randomUUID } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { chmod, link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AuthError } from '../errors.js';
import { Listeners, lockTimes, noticeOf, retryUntil, signOutAfter, sleep, writeOver } from './common.js';
import type { LockOptions, SessionCoordinator, SessionLock, StoredSession } from './types.js';

/** What one key's file holds. */
export interface FileRecord {
  /** The session key (the file name is derived from it). */
  key: string;
  /** The last fencing token handed out for this key's lock. */
  fence: number;
  /** The stored session, or `null` when none was written yet. */
  session: StoredSession | null;
  /** The app's own plain data kept beside the session (never a secret), or `null`. */
  meta: Record<string, unknown> | null;
}

/** Options of {@link createFileCoordinator}. */
export interface FileCoordinatorOptions {
  /** The folder for the session files; created with mode 0700 when missing. */
  dir: string;
  /** A mutex older than this was left by a killed process and is broken, in ms (default: 5 000). */
  mutexStaleMs?: number;
}

/** The defaults of {@link FileCoordinatorOptions}. */
export const fileCoordinatorDefaults = {
  /** (default: 5 000 ms): a read-modify-write takes milliseconds. */
  mutexStaleMs: 5_000,
} as const satisfies Omit<FileCoordinatorOptions, 'dir'>;

/** A {@link SessionCoordinator} over files, with what a command line tool needs besides. */
export interface FileCoordinator extends SessionCoordinator {
  /** The folder. */
  readonly dir: string;
  /** The file that holds `key`'s session. */
  fileOf(key: string): string;
  /** Every key's record in the folder (unreadable files are skipped). */
  list(): Promise<FileRecord[]>;
  /** The whole record of `key`, or `null` when it has no file. */
  record(key: string): Promise<FileRecord | null>;
  /** Replaces the plain data kept beside `key`'s session (`null` removes it). Never put a secret here. */
  setMeta(key: string, meta: Record<string, unknown> | null): Promise<void>;
  /** Stops watching the folder (listeners are kept, and hear this process's own notices). */
  close(): void;
}

const FILE_FORMAT = 'authcharts.session/1';

/**
 * Creates a coordinator whose store, locks and notices live in files in `dir`.
 *
 * @example
 * ```ts
 * const coordinator = createFileCoordinator({ dir: join(homedir(), '.config', 'my-tool') });
 * const actors = marketigerActors(api, { coordinator, sessionKey: 'reports-bot' });
 * ```
 */
export function createFileCoordinator(options: FileCoordinatorOptions): FileCoordinator {
  const { dir } = options;
  const mutexStaleMs = options.mutexStaleMs ?? fileCoordinatorDefaults.mutexStaleMs;
  const listeners = new Listeners();
  /** The newest version each key's listeners heard of: a notice is told once, whoever saw the change first. */
  const told = new Map<string, number>();
  let watcher: FSWatcher | undefined;
  let ready: Promise<void> | undefined;

  const ensureDir = () => {
    ready ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return ready;
  };

  const fileOf = (key: string) => join(dir, fileNameOf(key));

  async function readRecord(key: string): Promise<FileRecord | null> {
    return parseRecord(await readFile(fileOf(key), 'utf8').catch(ifMissing(null)), key);
  }

  async function writeRecord(record: FileRecord): Promise<void> {
    await ensureDir();
    const body = `${JSON.stringify({ format: FILE_FORMAT, ...record }, null, 2)}\n`;
    await writeAtomically(fileOf(record.key), body);
  }

  /** Runs `change` on `key`'s record under its mutex and stores what it returns (`undefined`: nothing). */
  async function update<T>(
    key: string,
    change: (record: FileRecord) => { record?: FileRecord; result: T },
  ): Promise<T> {
    await ensureDir();
    return withMutex(`${fileOf(key)}.mutex`, mutexStaleMs, async () => {
      const current = (await readRecord(key)) ?? { key, fence: 0, session: null, meta: null };
      const { record, result } = change(current);
      if (record) await writeRecord(record);
      return result;
    });
  }

  function tell(key: string, session: StoredSession) {
    if (session.version <= (told.get(key) ?? 0)) return;
    told.set(key, session.version);
    listeners.emit(key, noticeOf(structuredClone(session)));
  }

  function startWatching() {
    if (watcher) return;
    try {
      // `persistent: false`: listening for other processes never keeps this one alive.
      watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (typeof name !== 'string' || !name.endsWith('.json')) return;
        for (const key of listeners.keys()) {
          if (fileNameOf(key) !== name) continue;
          readRecord(key)
            .then((record) => record?.session && tell(key, record.session))
            .catch(() => {});
        }
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      // No folder yet, or no watch support: this process's own notices still arrive.
      watcher = undefined;
    }
  }

  async function tryLock(key: string, ttlMs: number): Promise<SessionLock | undefined> {
    const path = `${fileOf(key)}.lock`;
    const token = randomUUID();
    const holder: LockHolder = { token, pid: process.pid, host: hostname(), expiresAt: Date.now() + ttlMs };
    try {
      await writeExclusive(path, JSON.stringify(holder));
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
      await breakIfStale(path);
      return undefined;
    }
    let fence: number;
    try {
      fence = await update(key, (record) => {
        const next = record.fence + 1;
        return { record: { ...record, fence: next }, result: next };
      });
    } catch (error) {
      await releaseLock(path, token);
      throw error;
    }
    return { fence, release: () => releaseLock(path, token) };
  }

  return {
    dir,
    fileOf,

    async read(key) {
      return (await readRecord(key))?.session ?? null;
    },

    async write(key, session, conditions = {}) {
      return update(key, (record) => {
        const next = writeOver(
          { version: record.session?.version ?? 0, fence: record.fence, epoch: record.session?.epoch },
          session,
          conditions,
        );
        return next
          ? { record: { ...record, session: next }, result: structuredClone(next) }
          : { result: null };
      });
    },

    async clear(key) {
      return update(key, (record) => {
        const next = signOutAfter({ version: record.session?.version ?? 0, epoch: record.session?.epoch });
        return { record: { ...record, session: next }, result: structuredClone(next) };
      });
    },

    async lock(key, lockOptions: LockOptions = {}) {
      const { ttlMs, waitMs } = lockTimes(lockOptions);
      if (lockOptions.signal?.aborted) throw new AuthError('aborted');
      await ensureDir();
      return retryUntil(() => tryLock(key, ttlMs), waitMs, lockOptions.signal);
    },

    async publish(key, session) {
      tell(key, session);
    },

    subscribe(key, listener) {
      const { remove } = listeners.add(key, listener);
      startWatching();
      return () => {
        remove();
      };
    },

    async list() {
      const names = await readdir(dir).catch(ifMissing([] as string[]));
      const records: FileRecord[] = [];
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
        const record = parseRecord(await readFile(join(dir, name), 'utf8').catch(ifMissing(null)));
        if (record && fileNameOf(record.key) === name) records.push(record);
      }
      return records;
    },

    record: readRecord,

    async setMeta(key, meta) {
      await update(key, (record) => ({ record: { ...record, meta }, result: undefined }));
    },

    close() {
      watcher?.close();
      watcher = undefined;
    },
  };
}

/** What a lock file says: who holds the lock, and until when. */
interface LockHolder {
  token: string;
  pid: number;
  host: string;
  expiresAt: number;
}

/**
 * The file name of a key: its readable part (letters, digits, `.`, `_`, `-`), cut short, and a hash of
 * the whole key, so that two keys never share a file and no key can name a path outside the folder.
 */
export function fileNameOf(key: string): string {
  const readable = key
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 80);
  let hash = 0x811c9dc5;
  for (const char of key) {
    // FNV-1a over UTF-16 code units: a stable, dependency-free 32-bit name, not a security measure.
    hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  }
  return `${readable || 'session'}.${hash.toString(16).padStart(8, '0')}.json`;
}

function parseRecord(text: string | null, key?: string): FileRecord | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const raw = value as Partial<FileRecord> & { format?: unknown };
  if (raw.format !== FILE_FORMAT || typeof raw.key !== 'string') return null;
  if (key !== undefined && raw.key !== key) return null;
  const session = isStoredSession(raw.session) ? raw.session : null;
  const meta = typeof raw.meta === 'object' && raw.meta !== null ? raw.meta : null;
  const fence = typeof raw.fence === 'number' && Number.isFinite(raw.fence) ? raw.fence : 0;
  return { key: raw.key, fence, session, meta };
}

function isStoredSession(value: unknown): value is StoredSession {
  if (typeof value !== 'object' || value === null) return false;
  const session = value as { status?: unknown; version?: unknown; accessToken?: unknown };
  if (typeof session.version !== 'number') return false;
  if (session.status === 'signedOut') return true;
  return session.status === 'signedIn' && typeof session.accessToken === 'string';
}

/** Writes `body` to a new temporary file (0600) beside `path`, flushes it, and renames it over `path`. */
export async function writeAtomically(path: string, body: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(body, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // The mode is set at creation; chmod again in case a umask took bits away or an ACL added them.
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Creates `path` with `body`, failing with `EEXIST` when it exists (`O_EXCL`). */
async function writeExclusive(path: string, body: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(body, 'utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Removes a lock file whose holder is past its expiry or, on this host, no longer running. The file is
 * first renamed to a name of this caller's own, so that of two callers that judged it stale only one
 * removes it; if what was renamed turns out to be a newer holder's lock, it is put back.
 */
async function breakIfStale(path: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder === 'missing') return;
  if (holder === null) {
    // Being written right now, or garbage a crash left: stale only once it is old.
    const info = await stat(path).catch(() => null);
    if (!info || Date.now() - info.mtimeMs < 2_000) return;
  } else if (!isStale(holder)) {
    return;
  }
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readHolder(aside);
  const same =
    holder === null ? moved === null : moved !== null && moved !== 'missing' && moved.token === holder.token;
  if (!same) await link(aside, path).catch(() => {}); // a newer holder's lock: put it back unless yet another exists
  await rm(aside, { force: true });
}

function isStale(holder: LockHolder): boolean {
  if (holder.expiresAt <= Date.now()) return true;
  return holder.host === hostname() && !isRunning(holder.pid);
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return codeOf(error) === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | null | 'missing'> {
  const text = await readFile(path, 'utf8').catch(ifMissing('missing' as const));
  if (text === 'missing') return 'missing';
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof value.token === 'string' &&
      typeof value.pid === 'number' &&
      typeof value.host === 'string' &&
      typeof value.expiresAt === 'number'
    ) {
      return value as LockHolder;
    }
  } catch {
    // fall through
  }
  return null;
}

/** Frees the lock if `token` still holds it: an expired holder's late release frees nothing. */
async function releaseLock(path: string, token: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder === 'missing' || holder === null || holder.token !== token) return;
  const aside = `${path}.${randomUUID()}.released`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readHolder(aside);
  if (moved === 'missing' || moved === null || moved.token !== token) await link(aside, path).catch(() => {});
  await rm(aside, { force: true });
}

/** Runs `work` while holding the mutex file `path`, waiting for it (at most 10 s) if another holds it. */
async function withMutex<T>(path: string, staleMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (let pause = 2; ; pause = Math.min(50, pause * 2)) {
    try {
      await writeExclusive(path, String(process.pid));
      break;
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
      const info = await stat(path).catch(() => null);
      if (info && Date.now() - info.mtimeMs > staleMs) await rm(path, { force: true });
      if (Date.now() > deadline) {
        throw new AuthError('timeout', { message: 'The session file stayed busy too long.' });
      }
      await sleep(pause * (0.5 + Math.random()));
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

/** A `catch` handler that turns "no such file" into `value` and rethrows anything else. */
function ifMissing<T>(value: T) {
  return (error: unknown): T => {
    if (codeOf(error) === 'ENOENT') return value;
    throw error;
  };
}
