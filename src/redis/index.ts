/**
 * `authcharts/redis`: a {@link SessionCoordinator} on Redis, for services that run several instances
 * (processes, containers) with one session. Only this entry point touches ioredis, and it takes the
 * client from the app (or loads ioredis when given options): apps without Redis never load it.
 *
 * Keys, per session key `k` (the braces keep a session's keys in one Redis Cluster slot, which the
 * scripts need):
 * - `<prefix>:{k}:session`: the stored session, a JSON value with its version and epoch;
 * - `<prefix>:{k}:lock`: the lock, a random token set with NX and PX (it expires by itself);
 * - `<prefix>:{k}:fence`: the fencing counter, INCR'd on every acquisition, started at the server's
 *   clock in microseconds (so it keeps growing across a restart that lost it);
 * - channel `<prefix>:{k}:events`: notices, `{ version, epoch, origin }` only (tokens never travel on
 *   pub/sub), and requests to resync, `{ sync, origin }`.
 *
 * Every connection's events are listened to (errors, drops, reconnections: reported through `logger`
 * and `onError`, never printed), every command has a deadline, and after a reconnection every holder
 * compares what it has with the store.
 */
import type { Redis, RedisOptions } from 'ioredis';
import {
  emitLog,
  Listeners,
  lockTimes,
  newEpoch,
  noticeOf,
  randomId,
  retryUntil,
  sharedFields,
} from '../coordination/common.js';
import type {
  CoordinationLogEntry,
  CoordinationLogger,
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
   * URL of one this coordinator makes and closes. Either way the coordinator listens to its `error`,
   * `close` and `ready` events (so ioredis never prints an unhandled error) and reports them through
   * `logger` and `onError`.
   */
  redis: Redis | RedisOptions | string;
  /** The notices need a connection of their own (a subscribed connection sends nothing else). Default: `redis.duplicate()`. */
  subscriber?: Redis;
  /** Prefix of every key and channel (default: `'authcharts'`). */
  prefix?: string;
  /**
   * Stored sessions (and sign-out records) expire this long after their last write, so abandoned ones
   * do not stay in Redis for ever. Default: no expiry. Longer than a refresh token lives (Marketiger 12 h).
   */
  sessionTtlMs?: number;
  /**
   * A command that has not answered after this long fails with a retryable `network` error: a store
   * that does not answer is a store that failed, and holders go on without it rather than wait
   * (ioredis would queue the command until it reconnects) (default: `3_000`, `redisCoordinatorDefaults.commandTimeoutMs`).
   */
  commandTimeoutMs?: number;
  /**
   * What happens to the connections: `connection_lost` (once per outage, not per reconnection attempt),
   * `reconnected`, `connection_ended`. Nothing is printed without it (never on stderr).
   */
  logger?: CoordinationLogger;
  /** Called once per outage of a connection, with a retryable `network` `AuthError`. */
  onError?: (error: AuthError) => void;
}

/** The defaults of {@link RedisCoordinatorOptions}. */
export const redisCoordinatorDefaults = {
  prefix: 'authcharts',
  commandTimeoutMs: 3_000,
} as const satisfies Required<Pick<RedisCoordinatorOptions, 'prefix' | 'commandTimeoutMs'>>;

/** A Redis coordinator; `close()` ends the connections it opened. */
export interface RedisCoordinator extends SessionCoordinator {
  /** Asks every holder of the key (every process) to compare what it holds with the store. */
  requestSync(sessionKey: string): Promise<void>;
  /** Called after a reconnection (notices may have been lost meanwhile) and when a holder asks. */
  onResync(sessionKey: string, listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Takes the lock (SET NX PX) and, only then, the next fencing token: one atomic step. The fencing
 * counter starts at the server's clock in microseconds, so fences keep growing across a restart that
 * lost the counter: a holder from before the restart is still refused. Run twice with one token (ioredis
 * resends a command whose answer a dropped connection lost), it answers the same fence again.
 */
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return tonumber(redis.call('GET', KEYS[2]) or '0') end
if holder then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local now = redis.call('TIME')
  redis.call('SET', KEYS[2], now[1] .. string.format('%06d', tonumber(now[2])))
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])`;

/** Deletes the lock only if it still holds this holder's token: an expired holder frees nobody else's lock. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Writes the next version when the conditions hold: the fencing token is still the newest issued
 * (no holder took the lock since), and the stored version (and epoch) is the one expected. The value
 * is built here from the caller's JSON (without a version), so the version is always the stored one
 * plus one, and the epoch the stored one, or ARGV[6] when nothing is stored (the store lost its data).
 */
const WRITE = `
local current = redis.call('GET', KEYS[1])
local version = 0
local epoch = false
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' then
    version = tonumber(decoded['version']) or 0
    if type(decoded['epoch']) == 'string' then epoch = decoded['epoch'] end
  end
end
if ARGV[2] ~= '' and tonumber(ARGV[2]) < tonumber(redis.call('GET', KEYS[2]) or '0') then return false end
if ARGV[3] ~= '' then
  if tonumber(ARGV[3]) ~= version then return false end
  if version > 0 and ARGV[5] ~= '' and ARGV[5] ~= epoch then return false end
end
if version == 0 or not epoch then epoch = ARGV[6] end
version = version + 1
local value = '{"version":' .. version .. ',"epoch":' .. cjson.encode(epoch) .. ',' .. string.sub(ARGV[1], 2)
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], value)
end
return value`;

/** What travels on a key's channel: a notice (no tokens, only where to read), or a request to resync. */
type ChannelMessage = { version?: unknown; epoch?: unknown; origin?: unknown; sync?: unknown };

/**
 * Creates a coordinator on Redis.
 *
 * When Redis fails, nothing is lost that a provider issued: a refresh's tokens are used at once and
 * written when Redis answers again; a connection that drops reconnects (and the subscription with it),
 * after which every holder compares what it holds with the store; a store that lost its data (a new
 * epoch) gets the newest session again from the holders. See "When the store fails" in
 * docs/coordination.md.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisCoordinator } from 'authcharts/redis';
 *
 * const coordinator = createRedisCoordinator({
 *   redis: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
 *   logger: (entry) => console.log(entry.level, entry.event, entry.message),
 * });
 * const actors = marketigerActors(api, { coordinator, sessionKey: 'reports-bot' });
 * const actor = createActor(marketigerMachine.provide({ actors })).start();
 * const link = coordinateSession(actor, coordinator, { sessionKey: 'reports-bot' });
 * await link.ready;
 * if (!actor.getSnapshot().matches('signedIn')) actor.send({ type: 'auth.login', email, password });
 * ```
 */
export function createRedisCoordinator(options: RedisCoordinatorOptions): RedisCoordinator {
  const prefix = options.prefix ?? redisCoordinatorDefaults.prefix;
  const commandTimeoutMs = options.commandTimeoutMs ?? redisCoordinatorDefaults.commandTimeoutMs;
  const origin = randomId();
  const owned = !isClient(options.redis);
  let closing = false;
  const unwatch: Array<() => void> = [];
  const clientPromise: Promise<Redis> = isClient(options.redis)
    ? Promise.resolve(options.redis)
    : connect(options.redis);
  const clientReady = clientPromise.then((redis) => {
    unwatch.push(watch(redis, 'commands'));
    return redis;
  });
  // Never an unhandled rejection: a failed import or connection surfaces through the commands.
  clientReady.catch(() => {});
  let subscriberPromise: Promise<Redis> | undefined;
  const subscribing = new Map<string, Promise<unknown>>();
  const listeners = new Listeners();
  const resyncListeners = new Map<string, Set<() => void>>();
  /** Users of each key's channel (notice and resync listeners): subscribed while there are some. */
  const channelUsers = new Map<string, number>();
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
  const log = (entry: CoordinationLogEntry) => {
    if (!closing) emitLog(options.logger, entry);
  };

  /**
   * Listens to a connection's events: its errors (once per outage, never to stderr), and its return,
   * after which every holder of this process compares what it holds with the store.
   */
  function watch(connection: Redis, role: 'commands' | 'notices'): () => void {
    let lostAt: number | undefined;
    let failures = 0;
    const lose = (error?: unknown) => {
      if (lostAt !== undefined) {
        if (error) failures++;
        return;
      }
      lostAt = Date.now();
      failures = error ? 1 : 0;
      const code = (error as { code?: unknown } | undefined)?.code;
      log({
        level: 'warn',
        event: 'connection_lost',
        connection: role,
        message: `The Redis connection for ${role} was lost${typeof code === 'string' ? ` (${code})` : ''}; reconnecting.`,
      });
      if (!closing) {
        try {
          options.onError?.(storeError(error));
        } catch {
          // the app's handler must not break the connection handling
        }
      }
    };
    const onError = (error: unknown) => lose(error);
    const onClose = () => lose();
    const onReady = () => {
      if (lostAt === undefined) return;
      const ms = Date.now() - lostAt;
      lostAt = undefined;
      log({
        level: 'info',
        event: 'reconnected',
        connection: role,
        message: `The Redis connection for ${role} is back after ${ms} ms (${failures} failed attempts).`,
      });
      void afterReconnect(role);
    };
    const onEnd = () =>
      log({
        level: 'warn',
        event: 'connection_ended',
        connection: role,
        message: `The Redis connection for ${role} ended: ioredis will not reconnect it.`,
      });
    connection.on('error', onError);
    connection.on('close', onClose);
    connection.on('ready', onReady);
    connection.on('end', onEnd);
    return () => {
      connection.off('error', onError);
      connection.off('close', onClose);
      connection.off('ready', onReady);
      connection.off('end', onEnd);
    };
  }

  /** Back from an outage: notices may have been lost, writes may be pending. Every holder resyncs. */
  async function afterReconnect(role: 'commands' | 'notices') {
    if (role === 'notices' && subscriberPromise) {
      // ioredis re-subscribes by itself; waiting for a subscription of our own (queued after its) means
      // the resync's reads come after the subscription is back, so no notice falls between the two.
      const channels = [...byChannel.keys()];
      if (channels.length > 0) {
        await subscriberPromise.then((sub) => sub.subscribe(...channels)).catch(() => {});
      }
    }
    for (const sessionKey of resyncListeners.keys()) emitResync(sessionKey);
  }

  function emitResync(sessionKey: string) {
    for (const listener of [...(resyncListeners.get(sessionKey) ?? [])]) {
      try {
        listener();
      } catch {
        // one listener's failure is its own
      }
    }
  }

  async function client(): Promise<Redis> {
    try {
      return await clientReady;
    } catch (error) {
      throw storeError(error);
    }
  }

  /** One command, given up after `commandTimeoutMs`; any failure is a retryable `network` AuthError. */
  async function run<T>(command: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = await client();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pending = command(redis);
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          // Kept alive (not unref'd): the caller awaits the command, at most `commandTimeoutMs`,
          // even on a connection the app unref'd.
          timer = setTimeout(
            () =>
              reject(
                new AuthError('network', {
                  message: `The session store (Redis) did not answer within ${commandTimeoutMs} ms.`,
                }),
              ),
            commandTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      // A command given up on may still answer (or fail) later: that is not an unhandled rejection.
      pending.catch(() => {});
      throw storeError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  function subscriber(): Promise<Redis> {
    subscriberPromise ??= (async () => {
      const sub = options.subscriber ?? (await client()).duplicate();
      unwatch.push(watch(sub, 'notices'));
      sub.on('message', onChannelMessage);
      unwatch.push(() => sub.off('message', onChannelMessage));
      return sub;
    })();
    return subscriberPromise;
  }

  function onChannelMessage(channel: string, message: string) {
    const sessionKey = byChannel.get(channel);
    if (sessionKey !== undefined) void onMessage(sessionKey, message);
  }

  /** A notice from another instance: read what it announced (tokens travel only through the store). */
  async function onMessage(sessionKey: string, message: string) {
    let announced: ChannelMessage;
    try {
      announced = JSON.parse(message) as ChannelMessage;
    } catch {
      return;
    }
    // This instance's own notices already reached its listeners inside publish().
    if (announced.origin === origin) return;
    if (announced.sync === true) {
      emitResync(sessionKey);
      return;
    }
    if (!listeners.has(sessionKey)) return;
    const stored = await read(sessionKey).catch(() => null);
    if (!stored || typeof announced.version !== 'number') return;
    // The store may have moved on since (a later version, or another epoch): what it holds now is news too.
    if (stored.epoch !== announced.epoch || stored.version >= announced.version) {
      listeners.emit(sessionKey, noticeOf(stored));
    }
  }

  function joinChannel(sessionKey: string) {
    const users = channelUsers.get(sessionKey) ?? 0;
    channelUsers.set(sessionKey, users + 1);
    if (users > 0) return;
    const { channel } = keys(sessionKey);
    byChannel.set(channel, sessionKey);
    const pending = subscriber().then((sub) => sub.subscribe(channel));
    subscribing.set(sessionKey, pending);
    pending.catch(() => {});
  }

  function leaveChannel(sessionKey: string) {
    const users = (channelUsers.get(sessionKey) ?? 0) - 1;
    if (users > 0) {
      channelUsers.set(sessionKey, users);
      return;
    }
    channelUsers.delete(sessionKey);
    const { channel } = keys(sessionKey);
    byChannel.delete(channel);
    subscribing.delete(sessionKey);
    subscriberPromise?.then((sub) => sub.unsubscribe(channel)).catch(() => {});
  }

  async function read(sessionKey: string): Promise<StoredSession | null> {
    // A read after subscribe() sees every notice from then on: the subscription is in place first
    // (waited for no longer than a command: a subscription queued while Redis is away must not hold
    // up a read that will fail anyway).
    const subscription = subscribing.get(sessionKey);
    if (subscription) await settledWithin(subscription, commandTimeoutMs);
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
          conditions.ifEpoch ?? '',
          newEpoch(),
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
        redis.publish(
          keys(sessionKey).channel,
          JSON.stringify({ version: session.version, epoch: session.epoch, origin }),
        ),
      );
    },

    subscribe(sessionKey, listener: (notice: SessionNotice) => void) {
      const { remove } = listeners.add(sessionKey, listener);
      joinChannel(sessionKey);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        remove();
        leaveChannel(sessionKey);
      };
    },

    async requestSync(sessionKey) {
      emitResync(sessionKey);
      await run((redis) => redis.publish(keys(sessionKey).channel, JSON.stringify({ sync: true, origin })));
    },

    onResync(sessionKey, listener) {
      let set = resyncListeners.get(sessionKey);
      if (!set) {
        set = new Set();
        resyncListeners.set(sessionKey, set);
      }
      set.add(listener);
      joinChannel(sessionKey);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = resyncListeners.get(sessionKey);
        current?.delete(listener);
        if (current?.size === 0) resyncListeners.delete(sessionKey);
        leaveChannel(sessionKey);
      };
    },

    async close() {
      closing = true;
      const sub = subscriberPromise ? await subscriberPromise.catch(() => undefined) : undefined;
      // A subscriber this coordinator duplicated is its own to close; one the app passed is the app's.
      if (sub && !options.subscriber) await sub.quit().catch(() => sub.disconnect());
      if (owned) {
        const redis = await clientPromise.catch(() => undefined);
        await redis?.quit().catch(() => redis.disconnect());
      }
      // The app's connections stay open, without this coordinator's listeners.
      for (const stop of unwatch.splice(0)) stop();
    },
  };
}

/** Resolves when `promise` settles, or after `ms`, whichever comes first; never rejects. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

function isClient(value: RedisCoordinatorOptions['redis']): value is Redis {
  return typeof value === 'object' && value !== null && typeof (value as Redis).duplicate === 'function';
}

/**
 * Loads ioredis only now: an app that passes its own client never needs this path. The client it makes
 * reconnects quickly (at most half a second apart, jittered) rather than ioredis's 2 s: holders that
 * wait for the store to come back should not wait longer than it was gone.
 */
async function connect(config: RedisOptions | string): Promise<Redis> {
  const { Redis: RedisClient } = await import('ioredis');
  const defaults: RedisOptions = {
    retryStrategy: (times: number) => Math.round(Math.min(times * 50, 500) * (0.5 + Math.random() / 2)),
  };
  return typeof config === 'string'
    ? new RedisClient(config, defaults)
    : new RedisClient({ ...defaults, ...config });
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
  CoordinationLogEntry,
  CoordinationLogger,
  SessionCoordinator,
  SessionLock,
  SessionNotice,
  SharedSession,
  StoredSession,
} from '../coordination/types.js';
