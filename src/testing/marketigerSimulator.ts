/**
 * A local Marketiger API that follows the Marketiger auth guide: the four routes under `/v2`, the
 * `{ success, data }` / `{ success, error: { type, message } }` envelopes and the documented error
 * answers, signed HS256 access tokens, rotating refresh tokens (./marketiger/api.ts), and a clock that
 * tests can move forward.
 *
 * Where the guide is silent it answers as the vendor's stack does by default: ASP.NET Core (the
 * guide's samples are C#) with JwtBearer authentication and `[ApiController]` (./marketiger/aspNetCore.ts).
 * So: `Server: Kestrel` and `Date` on every answer; camelCase JSON as `application/json; charset=utf-8`;
 * a missing, bad or expired bearer token on an API route answers JwtBearer's challenge, 401 with an
 * empty body and `WWW-Authenticate: Bearer error="invalid_token", error_description="The token expired
 * at '...'"`; model validation failures answer 400 `application/problem+json`
 * (`ValidationProblemDetails`); a body that is not JSON answers 415; `HasAccesToProject`, an action
 * returning `bool`, answers a bare `true` or `false`; an unknown route answers 404 with no body. Options
 * switch to the variants a client may meet (the guide's JSON 401, the envelope around the boolean, a
 * 403). `test/conformance/` checks this list; the service (`src/services/marketigerParse.ts`) reads
 * every variant.
 */
import { createMarketigerApiSim, marketigerRoutes } from './marketiger/api.js';
import { MARKETIGER_DEMO_USER, type MarketigerSimUser } from './marketiger/users.js';
import { offsetClock, randomId, withDefaults } from './simHelpers.js';
import {
  type RouteKey,
  type SimCommonOptions,
  type SimFault,
  type SimLogEntry,
  simServerDefaults,
  startSimServer,
} from './simServer.js';

export { marketigerRoutes } from './marketiger/api.js';
export type { MarketigerSimUser } from './marketiger/users.js';
export { MARKETIGER_DEMO_USER } from './marketiger/users.js';

const HOUR_MS = 60 * 60 * 1000;

/** Options of {@link startMarketigerSimulator}; every one is optional (defaults: {@link marketigerSimulatorDefaults}). */
export interface MarketigerSimulatorOptions extends SimCommonOptions {
  /** The accounts that can sign in (default: {@link MARKETIGER_DEMO_USER} alone). */
  users?: readonly MarketigerSimUser[];
  /**
   * Access token lifetime in ms (the guide: "typically 1 hour"). The JWT `exp` is in whole seconds,
   * rounded down, so a token lives up to a second less; use at least 1 000 (default: 3 600 000).
   */
  accessTokenTtlMs?: number;
  /** Refresh token lifetime in ms, counted from each token's own issue (the guide: 12 hours) (default: 43 200 000). */
  refreshTokenTtlMs?: number;
  /**
   * How `HasAccesToProject` answers: `'bool'` (an ASP.NET Core action returning `bool`, a bare `true`
   * or `false`), `'envelope'` (`{ success: true, data: true | false }`), or `'forbidden'` (the envelope
   * with `true`, and the guide's 403 `NO_PERMISSION` for a project the user lacks). `'boolean'` is the
   * old name of `'envelope'` (default: `'bool'`).
   */
  projectAccessStyle?: 'bool' | 'envelope' | 'forbidden' | 'boolean';
  /**
   * How the API routes refuse a missing, bad or expired access token: `'jwtBearer'` (ASP.NET Core's
   * JwtBearer challenge, 401 with an empty body and `WWW-Authenticate`) or `'envelope'` (the guide's
   * 401 `{ success: false, error: { type: 'AUTHENTICATION', ... } }`, what the vendor's own code sends
   * when it handles the challenge) (default: `'jwtBearer'`).
   */
  unauthorizedStyle?: 'jwtBearer' | 'envelope';
  /** Faults per route key, e.g. `{ 'POST /v2/Auth/RefreshToken': { kind: 'drop', times: 1 } }` (default: none). */
  faults?: Record<RouteKey, SimFault | SimFault[]>;
  /** Port to listen on (default: 0, any free port). */
  port?: number;
  /** The HS256 signing secret of the access tokens (default: 32 random bytes per simulator). */
  jwtSecret?: string;
}

/** The values {@link startMarketigerSimulator} uses for the options it is not given. */
export const marketigerSimulatorDefaults = {
  /** {@link MARKETIGER_DEMO_USER} alone. */
  users: [MARKETIGER_DEMO_USER],
  /** 1 hour. */
  accessTokenTtlMs: HOUR_MS,
  /** 12 hours. */
  refreshTokenTtlMs: 12 * HOUR_MS,
  /** What an ASP.NET Core action returning `bool` answers. */
  projectAccessStyle: 'bool',
  /** ASP.NET Core's JwtBearer challenge. */
  unauthorizedStyle: 'jwtBearer',
  host: simServerDefaults.host,
  port: simServerDefaults.port,
} as const satisfies MarketigerSimulatorOptions;

/** A running Marketiger simulator. */
export interface MarketigerSimulator {
  /** The origin, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  /** `url + '/v2'`: what a client takes as its `baseURL`. */
  readonly baseURL: string;
  readonly port: number;
  /** Requests seen per route key (e.g. `'POST /v2/Auth/Login'`), faulted ones included. */
  readonly counts: Record<RouteKey, number>;
  /** The most recent requests, headers included. */
  readonly log: SimLogEntry[];
  /** How many refresh requests arrived (the same as `requestCount('POST /v2/Auth/RefreshToken')`). */
  readonly refreshCount: number;
  /**
   * How many refresh requests presented a refresh token that an earlier request had already redeemed
   * (each is refused): a client that sends one lost track of a rotation. 0 is the goal.
   */
  readonly refreshTokenReuseCount: number;
  /** The simulator's current time (epoch ms): its `now` plus every {@link MarketigerSimulator.advanceClock}. */
  now(): number;
  requestCount(route: RouteKey): number;
  /** Adds a fault to a route (faults apply in the order added). */
  injectFault(route: RouteKey, fault: SimFault): void;
  clearFaults(route?: RouteKey): void;
  resetCounts(): void;
  /** Moves the simulator's clock forward by `ms`: access and refresh tokens expire by it, and `Date` follows. */
  advanceClock(ms: number): void;
  /** Every access token issued so far is refused with 401 from now on (tokens issued later are not). */
  expireAccessTokens(): void;
  /** Every refresh token issued so far is refused from now on. */
  revokeRefreshTokens(): void;
  close(): Promise<void>;
}

/**
 * Starts a Marketiger simulator on loopback.
 *
 * @example
 * ```ts
 * const sim = await startMarketigerSimulator({ accessTokenTtlMs: 60_000 });
 * const api = createMarketigerApi({ baseURL: sim.baseURL });
 * const tokens = await api.login({ email: 'demo@marketiger.test', password: 'demo-password' });
 * sim.advanceClock(61_000); // the access token is now refused with 401
 * await sim.close();
 * ```
 */
export async function startMarketigerSimulator(
  options: MarketigerSimulatorOptions = {},
): Promise<MarketigerSimulator> {
  const config = withDefaults(options, marketigerSimulatorDefaults);
  const clock = offsetClock(options.now);
  const { now } = clock;
  const marketiger = createMarketigerApiSim({
    users: config.users,
    accessTokenTtlMs: config.accessTokenTtlMs,
    refreshTokenTtlMs: config.refreshTokenTtlMs,
    projectAccessStyle: config.projectAccessStyle === 'boolean' ? 'envelope' : config.projectAccessStyle,
    unauthorizedStyle: config.unauthorizedStyle,
    jwtSecret: options.jwtSecret ?? randomId(32),
    now,
  });

  const server = await startSimServer({
    routes: marketiger.routes,
    now,
    // Kestrel names itself on every answer, and ASP.NET Core's routing answers 404 with no body.
    headers: { Server: 'Kestrel' },
    notFound: () => ({ status: 404 }),
    ...(options.random ? { random: options.random } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    host: config.host,
    port: config.port,
  });

  return {
    url: server.url,
    baseURL: `${server.url}/v2`,
    port: server.port,
    counts: server.counts,
    log: server.log,
    get refreshCount() {
      return server.requestCount(marketigerRoutes.refreshToken);
    },
    get refreshTokenReuseCount() {
      return marketiger.refreshTokenReuseCount();
    },
    now,
    requestCount: (route) => server.requestCount(route),
    injectFault: (route, fault) => server.injectFault(route, fault),
    clearFaults: (route) => server.clearFaults(route),
    resetCounts: () => server.resetCounts(),
    advanceClock(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError('advanceClock takes a finite, non-negative number of ms');
      clock.advance(ms);
    },
    expireAccessTokens: marketiger.expireAccessTokens,
    revokeRefreshTokens: marketiger.revokeRefreshTokens,
    close: () => server.close(),
  };
}
