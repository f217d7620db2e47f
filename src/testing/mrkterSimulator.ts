/**
 * A local Mrkter: two real HTTP servers on loopback, like the two origins a Mrkter client talks to
 * (`login.dev.mrkter.io`, an Auth0 tenant, and `api.dev.mrkter.io`, the Mrkter API), that follow the
 * Mrkter authorization guide: the Auth0 password and refresh grants, the user's identities, the SMS
 * code and its validation into a session id, and one protected route that needs all three headers.
 *
 * Where the guide is silent (error shapes of the Mrkter API, what a wrong code answers, the SMS
 * answer) the simulator answers as the vendor's stacks do by default, and says so beside the code:
 * Auth0's `/oauth/token` (./mrkter/auth0.ts: `{ error, error_description }`, `Cache-Control: no-store`,
 * 403 `invalid_grant`, refresh token rotation with reuse detection), and NestJS on Express for the API
 * (./mrkter/api.ts, ./mrkter/nestjs.ts: POST answers 201; a returned string is `text/html;
 * charset=utf-8`; `HttpException` bodies `{ message, error?, statusCode }`, `message` an array for
 * `ValidationPipe`; the guard's 401 `{"message":"Unauthorized","statusCode":401}`;
 * `@nestjs/throttler`'s 429 with `Retry-After`; Express's `X-Powered-By` and weak `ETag`).
 * `test/conformance/` checks every API answer against a real NestJS app. Options switch answers to the
 * variants a client may meet.
 */
import { randomInt } from 'node:crypto';
import { createMrkterApiSim, type MrkterSentCode, type MrkterSimSession } from './mrkter/api.js';
import { createAuth0TokenServer, type MrkterTokenRequest } from './mrkter/auth0.js';
import { nestNotFound } from './mrkter/nestjs.js';
import { mrkterRoutes } from './mrkter/routes.js';
import { defaultMrkterUsers, type MrkterSimUser, userStates } from './mrkter/users.js';
import { lastOf, offsetClock, randomId, withDefaults } from './simHelpers.js';
import {
  type RouteKey,
  type SimCommonOptions,
  type SimFault,
  type SimLogEntry,
  type SimServer,
  simServerDefaults,
  startSimServer,
} from './simServer.js';

export type { MrkterSentCode, MrkterSimSession } from './mrkter/api.js';
export type { MrkterTokenRequest } from './mrkter/auth0.js';
export { mrkterRoutes } from './mrkter/routes.js';
export type { MrkterSimUser } from './mrkter/users.js';
export { defaultMrkterUsers } from './mrkter/users.js';

/** Options of {@link startMrkterSimulator}; every field is optional (defaults: {@link mrkterSimulatorDefaults}). */
export interface MrkterSimulatorOptions extends SimCommonOptions {
  /** The users (default: {@link defaultMrkterUsers}). */
  users?: readonly MrkterSimUser[];
  /** The Auth0 client id accepted (default: the guide's `IuNTe8fftpw3a0KJKxsxBET8t3C6agZi`). */
  clientId?: string;
  /** The API audience accepted (default: the guide's `https://dev-mrkter.io`). */
  audience?: string;
  /** `expires_in` of access tokens (default: 82 800, 23 h, as in the guide). */
  accessTokenTtlSeconds?: number;
  /**
   * How the session id is sent: `'html'` (NestJS on Express sends a returned string as
   * `text/html; charset=utf-8`), `'text'` (`text/plain`, as a handler with `@Header('Content-Type',
   * 'text/plain')` does) or `'json'` (a JSON string, as `res.json(id)` does) (default: `'html'`).
   */
  sessionIdFormat?: 'html' | 'text' | 'json';
  /**
   * `@nestjs/throttler` on the SMS route, per number, `limit: 1` and `ttl` (and so `blockDuration`)
   * this many ms: a second request within it gets 429 with `Retry-After`, and the number stays
   * blocked for this long from that request; 0 turns it off (default: 20 000).
   */
  smsCooldownMs?: number;
  /** Port of the Auth0 server (default: 0, any free port). */
  authPort?: number;
  /** Port of the Mrkter API server (default: 0, any free port). */
  apiPort?: number;
  /** How long an SMS code is valid, in ms (default: 300 000, 5 minutes). */
  codeTtlMs?: number;
  /** Makes the SMS codes; tests that need distinct or known codes pass their own (default: 6 random digits). */
  generateCode?: () => string;
  /** Failed password grants for one username before Auth0's brute-force protection answers 429 (default: 10). */
  maxFailedLogins?: number;
  /** Whether a refresh answers a new refresh token and spends the old one, Auth0's rotation (default: true). */
  rotateRefreshTokens?: boolean;
  /**
   * Status of a wrong or expired code: 400 is `BadRequestException('Invalid code')`. The body is Nest's
   * exception body for that status: `{ message: 'Invalid code', error, statusCode }` (default: 400).
   */
  invalidCodeStatus?: 400 | 401 | 403 | 422;
  /** The HS256 key access tokens are signed with (default: 32 random bytes per simulator). */
  jwtSecret?: string;
  /** Faults on the Auth0 server, by route key (default: none). */
  authFaults?: Record<RouteKey, SimFault | SimFault[]>;
  /** Faults on the Mrkter API server, by route key (default: none). */
  apiFaults?: Record<RouteKey, SimFault | SimFault[]>;
}

/** The values {@link startMrkterSimulator} uses for the options it is not given. */
export const mrkterSimulatorDefaults = {
  /** {@link defaultMrkterUsers}. */
  users: defaultMrkterUsers,
  /** The guide's client id. */
  clientId: 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi',
  /** The guide's audience. */
  audience: 'https://dev-mrkter.io',
  /** 23 h, as in the guide. */
  accessTokenTtlSeconds: 82_800,
  /** What NestJS on Express sends for a returned string. */
  sessionIdFormat: 'html',
  smsCooldownMs: 20_000,
  /** 5 minutes. */
  codeTtlMs: 5 * 60_000,
  /** 6 random digits. */
  generateCode: (): string => String(randomInt(0, 1_000_000)).padStart(6, '0'),
  maxFailedLogins: 10,
  rotateRefreshTokens: true,
  /** `BadRequestException('Invalid code')`. */
  invalidCodeStatus: 400,
  host: simServerDefaults.host,
  authPort: simServerDefaults.port,
  apiPort: simServerDefaults.port,
} as const satisfies MrkterSimulatorOptions;

/** A running Mrkter simulator. */
export interface MrkterSimulator {
  /** The Mrkter API origin (same as `apiUrl`). */
  readonly url: string;
  /** The Auth0 origin: pass as `authBaseURL`. */
  readonly authUrl: string;
  /** The Mrkter API origin: pass as `apiBaseURL`. */
  readonly apiUrl: string;
  /** The Auth0 server: its own counts, log, faults. */
  readonly auth: SimServer;
  /** The Mrkter API server: its own counts, log, faults. */
  readonly api: SimServer;
  /** Requests seen for a route key on both servers together (the keys do not overlap, except `'unmatched'`). */
  requestCount(route: RouteKey): number;
  /** The logs of both servers: the Auth0 entries first, then the API's (each in arrival order). */
  readonly log: readonly SimLogEntry[];
  /** Adds a fault to a route on the server that owns it (`'POST /oauth/token'` is Auth0's, the rest the API's). */
  injectFault(route: RouteKey, fault: SimFault): void;
  /** Removes faults from both servers (one route, or all). */
  clearFaults(route?: RouteKey): void;
  /** Every token request received, in order. */
  readonly tokenRequests: readonly MrkterTokenRequest[];
  /** Every SMS sent, in order. */
  readonly sentCodes: readonly MrkterSentCode[];
  /** The last code sent (to `phoneNumber`, when given); `undefined` when none. */
  lastCode(phoneNumber?: string): string | undefined;
  /** Every session created, in order. */
  readonly sessions: readonly MrkterSimSession[];
  /** The simulator clock now (epoch ms). */
  now(): number;
  /** Moves the simulator clock forward (tokens and codes expire, cooldowns pass, `Date` moves). */
  advanceClock(ms: number): void;
  /** Every access token issued so far is refused with the guard's 401 from now on (new ones work). */
  expireAccessTokens(): void;
  /** Every refresh token issued so far is refused with 403 `invalid_grant` from now on. */
  revokeRefreshTokens(): void;
  /** Every session created so far is refused with 401 from now on. */
  revokeSessions(): void;
  /** Blocks or unblocks a user (Auth0 then answers 401 `unauthorized` to their grants). */
  setUserBlocked(username: string, blocked: boolean): void;
  /** Forgets a user's failed logins (as Auth0's unblock link does). */
  resetFailedLogins(username?: string): void;
  /** Closes both servers. */
  close(): Promise<void>;
}

/**
 * Starts the Mrkter simulator: the Auth0 server and the Mrkter API server on loopback.
 *
 * @example
 * ```ts
 * const sim = await startMrkterSimulator();
 * const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl });
 * const tokens = await api.login({ username: 'demo@mrkter.test', password: 'demo-password' });
 * await api.requestCode({ accessToken: tokens.accessToken, phoneNumber: '+972531112233' });
 * const { sessionId } = await api.verifyCode({ accessToken: tokens.accessToken, accountId: 123, code: sim.lastCode()! });
 * await sim.close();
 * ```
 */
export async function startMrkterSimulator(options: MrkterSimulatorOptions = {}): Promise<MrkterSimulator> {
  const config = withDefaults(options, mrkterSimulatorDefaults);
  const clock = offsetClock(options.now);
  const now = clock.now;
  const users = userStates(config.users);
  const tokens = createAuth0TokenServer({
    users,
    clientId: config.clientId,
    audience: config.audience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    maxFailedLogins: config.maxFailedLogins,
    rotateRefreshTokens: config.rotateRefreshTokens,
    secret: new TextEncoder().encode(options.jwtSecret ?? randomId(32)),
    now,
  });
  const mrkter = createMrkterApiSim({
    users,
    verifyAccessToken: tokens.verifyAccessToken,
    now,
    smsCooldownMs: config.smsCooldownMs,
    codeTtlMs: config.codeTtlMs,
    generateCode: config.generateCode,
    invalidCodeStatus: config.invalidCodeStatus,
    sessionIdFormat: config.sessionIdFormat,
  });

  const server = {
    now,
    random: options.random ?? Math.random,
    host: config.host,
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  };
  const auth = await startSimServer({
    ...server,
    port: config.authPort,
    routes: { [mrkterRoutes.token]: tokens.tokenRoute },
    ...(options.authFaults ? { faults: options.authFaults } : {}),
  });
  let api: SimServer;
  try {
    api = await startSimServer({
      ...server,
      port: config.apiPort,
      routes: mrkter.routes,
      // Express's defaults: `X-Powered-By`, a weak ETag on every body; Nest's 404 for unknown routes.
      headers: { 'X-Powered-By': 'Express' },
      etag: true,
      notFound: nestNotFound,
      ...(options.apiFaults ? { faults: options.apiFaults } : {}),
    });
  } catch (error) {
    await auth.close();
    throw error;
  }
  tokens.setIssuer(auth.url);
  const serverOf = (route: RouteKey) => (route === mrkterRoutes.token ? auth : api);
  const codes = mrkter.sentCodes;

  return {
    url: api.url,
    authUrl: auth.url,
    apiUrl: api.url,
    auth,
    api,
    requestCount: (route) => auth.requestCount(route) + api.requestCount(route),
    get log() {
      return [...auth.log, ...api.log];
    },
    injectFault: (route, fault) => serverOf(route).injectFault(route, fault),
    clearFaults(route) {
      auth.clearFaults(route);
      api.clearFaults(route);
    },
    tokenRequests: tokens.tokenRequests,
    sentCodes: codes,
    lastCode(phoneNumber) {
      const found =
        phoneNumber === undefined ? codes.at(-1) : lastOf(codes, (c) => c.phoneNumber === phoneNumber);
      return found?.code;
    },
    sessions: mrkter.sessions,
    now,
    advanceClock: clock.advance,
    expireAccessTokens: tokens.expireAccessTokens,
    revokeRefreshTokens: tokens.revokeRefreshTokens,
    revokeSessions: mrkter.revokeSessions,
    setUserBlocked(username, blocked) {
      const state = users.get(username);
      if (state) state.user.blocked = blocked;
    },
    resetFailedLogins(username) {
      for (const state of users.values())
        if (username === undefined || state.user.username === username) state.failedLogins = 0;
    },
    close: async () => {
      await Promise.all([auth.close(), api.close()]);
    },
  };
}
