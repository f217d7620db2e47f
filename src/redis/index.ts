/**
 * `authcharts/redis`: a {@link SessionCoordinator} on Redis, for services that run several instances
 * (processes, containers) with one session. Only this entry point touches ioredis, and it takes the
 * client from the app (or loads ioredis when given options): apps without Redis never load it.
 *
 * Keys, per session key `k` (the braces keep a session's keys in one Redis Cluster slot, which the
 * scripts need):
 * - `<prefix>:{k}:session`: the stored session, a JSON value with its version;
 * - `<prefix>:{k}:lock`: the lock, a random token set with NX and PX (it expires by itself);
 * - `<prefix>:{k}:fence`: the fencing counter, INCR'd on every acquisition;
 * - channel `<prefix>:{k}:events`: notices, `{ version, origin }` only: tokens never travel on pub/sub.
 */
import type { Redis, RedisOptions } from 'ioredis';
import {
  Listeners,
  lockTimes,
  noticeOf,
  randomId,
  retryUntil,
  sharedFields,
} from '../coordination/common.js';
import type {
  LockOptions,
  SessionCoordinator,
  SessionLock,
  SessionNotice,
  SharedSession,
  StoredSession,
  WriteConditions,
} from '../coordination/types.js';
import { AuthError, isAuthError } from '../errors.js';

/** Options of {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions {
  /**
   * An ioredis client the app made (it stays the app's: `close()` leaves it open), or the options or
   * URL of one this coordinator makes and closes.
   */
  redis: Redis | RedisOptions | string;
  /** The notices need a connection of their own (a subscribed connection sends nothing else). Default: `redis.duplicate()`. */
  subscriber?: Redis;
  /** Prefix of every key and channel. Default `'authcharts'`. */
  prefix?: string;
  /**
   * Stored sessions (and sign-out records) expire this long after their last write, so abandoned ones
   * do not stay in Redis for ever. Default: no expiry. Longer than a refresh token lives (Marketiger 12 h).
   */
  sessionTtlMs?: number;
}

/** A Redis coordinator; `close()` ends the connections it opened. */
export interface RedisCoordinator extends SessionCoordinator {
  close(): Promise<void>;
}

/** SET NX PX and, only when it took the lock, the next fencing token: one atomic step. */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0`;

/** Deletes the lock only if it still holds this holder's token: an expired holder frees nobody else's lock. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Writes the next version when the conditions hold: the fencing token is still the newest issued
 * (no holder took the lock since), and the stored version is the one expected. The value is built
 * here from the caller's JSON (without a version), so the version is always the stored one plus one.
 */
const WRITE = `
local current = redis.call('GET', KEYS[1])
local version = 0
if current then version = tonumber(cjson.decode(current)['version']) or 0 end
if ARGV[2] ~= '' and tonumber(ARGV[2]) < tonumber(redis.call('GET', KEYS[2]) or '0') then return false end
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= version then return false end
version = version + 1
local value = '{"version":' .. version .. ',' .. string.sub(ARGV[1], 2)
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], value)
end
return value`;

/**
 * Creates a coordinator on Redis.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisCoordinator } from 'authcharts/redis';
 *
 * const coordinator = createRedisCoordinator({ redis: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') });
 * const actors = marketigerActors(api, { coordinator, sessionKey: 'reports-bot' });
 * const actor = createActor(marketigerMachine.provide({ actors })).start();
 * const link = coordinateSession(actor, coordinator, { sessionKey: 'reports-bot' });
 * await link.ready;
 * if (!actor.getSnapshot().matches('signedIn')) actor.send({ type: 'auth.login', email, password });
 * ```
 */
export function createRedisCoordinator(options: RedisCoordinatorOptions): RedisCoordinator {
  const prefix = options.prefix ?? 'authcharts';
  const origin = randomId();
  const owned = !isClient(options.redis);
  const clientPromise: Promise<Redis> = isClient(options.redis)
    ? Promise.resolve(options.redis)
    : connect(options.redis);
  let subscriberPromise: Promise<Redis> | undefined;
  const subscribing = new Map<string, Promise<unknown>>();
  const listeners = new Listeners();
  const keys = (sessionKey: string) => {
    const base = `${prefix}:{${sessionKey}}`;
    return {
      session: `${base}:session`,
      lock: `${base}:lock`,
      fence: `${base}:fence`,
      channel: `${base}:events`,
    };
  };
  const byChannel = new Map<string, string>();

  async function client(): Promise<Redis> {
    try {
      return await clientPromise;
    } catch (error) {
      throw storeError(error);
    }
  }

  async function run<T>(command: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = await client();
    try {
      return await command(redis);
    } catch (error) {
      throw storeError(error);
    }
  }

  function subscriber(): Promise<Redis> {
    subscriberPromise ??= (async () => {
      const sub = options.subscriber ?? (await client()).duplicate();
      sub.on('message', (channel: string, message: string) => {
        const sessionKey = byChannel.get(channel);
        if (sessionKey !== undefined) void onMessage(sessionKey, message);
      });
      return sub;
    })();
    return subscriberPromise;
  }

  /** A notice from another instance: read what it announced (tokens travel only through the store). */
  async function onMessage(sessionKey: string, message: string) {
    let announced: { version?: unknown; origin?: unknown };
    try {
      announced = JSON.parse(message) as typeof announced;
    } catch {
      return;
    }
    // This instance's own notices already reached its listeners inside publish().
    if (announced.origin === origin || !listeners.has(sessionKey)) return;
    const stored = await read(sessionKey).catch(() => null);
    if (stored && typeof announced.version === 'number' && stored.version >= announced.version) {
      listeners.emit(sessionKey, noticeOf(stored));
    }
  }

  async function read(sessionKey: string): Promise<StoredSession | null> {
    // A read after subscribe() sees every notice from then on: the subscription is in place first.
    await subscribing.get(sessionKey)?.catch(() => {});
    const value = await run((redis) => redis.get(keys(sessionKey).session));
    return value === null ? null : parseStored(value);
  }

  async function store(sessionKey: string, rest: object, conditions: WriteConditions = {}) {
    const k = keys(sessionKey);
    const value = await run(
      (redis) =>
        redis.eval(
          WRITE,
          2,
          k.session,
          k.fence,
          JSON.stringify(rest),
          conditions.fence === undefined ? '' : String(conditions.fence),
          conditions.ifVersion === undefined ? '' : String(conditions.ifVersion),
          options.sessionTtlMs === undefined ? '' : String(Math.max(1, Math.round(options.sessionTtlMs))),
        ) as Promise<string | null>,
    );
    return value === null ? null : parseStored(value);
  }

  return {
    read,

    write(sessionKey, session: SharedSession, conditions) {
      return store(
        sessionKey,
        { status: 'signedIn', updatedAt: Date.now(), ...sharedFields(session) },
        conditions,
      );
    },

    async clear(sessionKey) {
      const cleared = await store(sessionKey, { status: 'signedOut', updatedAt: Date.now() });
      if (!cleared)
        throw new AuthError('network', { message: 'The session store did not record the sign-out.' });
      return cleared;
    },

    lock(sessionKey, lockOptions: LockOptions = {}): Promise<SessionLock> {
      const k = keys(sessionKey);
      const times = lockTimes(lockOptions);
      const ttlMs = Math.max(1, Math.round(times.ttlMs));
      const token = randomId();
      return retryUntil(
        async () => {
          const fence = Number(
            await run((redis) => redis.eval(ACQUIRE, 2, k.lock, k.fence, token, String(ttlMs))),
          );
          if (!(fence > 0)) return undefined;
          return {
            fence,
            release: async () => {
              await run((redis) => redis.eval(RELEASE, 1, k.lock, token));
            },
          };
        },
        times.waitMs,
        lockOptions.signal,
      );
    },

    async publish(sessionKey, session) {
      listeners.emit(sessionKey, noticeOf(session));
      await run((redis) =>
        redis.publish(keys(sessionKey).channel, JSON.stringify({ version: session.version, origin })),
      );
    },

    subscribe(sessionKey, listener: (notice: SessionNotice) => void) {
      const { first, remove } = listeners.add(sessionKey, listener);
      const { channel } = keys(sessionKey);
      if (first) {
        byChannel.set(channel, sessionKey);
        const pending = subscriber().then((sub) => sub.subscribe(channel));
        subscribing.set(sessionKey, pending);
        pending.catch(() => {});
      }
      return () => {
        if (!remove()) return;
        byChannel.delete(channel);
        subscribing.delete(sessionKey);
        subscriberPromise?.then((sub) => sub.unsubscribe(channel)).catch(() => {});
      };
    },

    async close() {
      const sub = subscriberPromise ? await subscriberPromise.catch(() => undefined) : undefined;
      // A subscriber this coordinator duplicated is its own to close; one the app passed is the app's.
      if (sub && !options.subscriber) await sub.quit().catch(() => sub.disconnect());
      if (owned) {
        const redis = await clientPromise.catch(() => undefined);
        await redis?.quit().catch(() => redis.disconnect());
      }
    },
  };
}

function isClient(value: RedisCoordinatorOptions['redis']): value is Redis {
  return typeof value === 'object' && value !== null && typeof (value as Redis).duplicate === 'function';
}

/** Loads ioredis only now: an app that passes its own client never needs this path. */
async function connect(config: RedisOptions | string): Promise<Redis> {
  const { Redis: RedisClient } = await import('ioredis');
  return typeof config === 'string' ? new RedisClient(config) : new RedisClient(config);
}

function parseStored(value: string): StoredSession | null {
  try {
    const parsed = JSON.parse(value) as StoredSession;
    return typeof parsed === 'object' && parsed !== null && typeof parsed.version === 'number'
      ? parsed
      : null;
  } catch {
    return null;
  }
}

/** Redis errors as a retryable `network` AuthError, without the server's text (it may quote a key). */
function storeError(error: unknown): AuthError {
  if (isAuthError(error)) return error as AuthError;
  const name = (error as { name?: unknown })?.name;
  return new AuthError('network', {
    message: 'The session store (Redis) could not be reached.',
    cause: { name: typeof name === 'string' ? name : 'RedisError' },
  });
}

export type {
  SessionCoordinator,
  SessionLock,
  SessionNotice,
  SharedSession,
  StoredSession,
} from '../coordination/types.js';
