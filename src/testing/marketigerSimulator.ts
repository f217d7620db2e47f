/**
 * A local Marketiger API that follows the auth guide (seeds/000) to the letter: the four routes
 * under `/v2`, the `{ success, data }` / `{ success, error: { type, message } }` envelopes and the
 * documented error answers, signed HS256 access tokens, rotating refresh tokens, and a clock that
 * tests can move forward.
 *
 * Where the guide is silent the simulator makes one choice and says so in a comment beside it;
 * the service (`src/services/marketigerParse.ts`) is written to survive the other choices too.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose/jwt/sign';
import { jwtVerify } from 'jose/jwt/verify';
import {
  type RouteKey,
  type SimFault,
  type SimLogEntry,
  type SimRequest,
  type SimResponse,
  type SimServer,
  startSimServer,
} from './simServer.js';

/** A Marketiger account the simulator knows. */
export interface MarketigerSimUser {
  email: string;
  password: string;
  /** Ids of the projects Marketiger assigned to the account (default none). */
  projects?: string[];
}

/** Options of {@link startMarketigerSimulator}; every one is optional. */
export interface MarketigerSimulatorOptions {
  /** The accounts that can sign in. Default: {@link MARKETIGER_DEMO_USER} alone. */
  users?: MarketigerSimUser[];
  /**
   * Access token lifetime in ms (the guide: "typically 1 hour"). Default 3 600 000. The JWT `exp` is in
   * whole seconds, rounded down, so a token lives up to a second less; use at least 1 000.
   */
  accessTokenTtlMs?: number;
  /** Refresh token lifetime in ms, counted from each token's own issue (the guide: 12 hours). Default 43 200 000. */
  refreshTokenTtlMs?: number;
  /**
   * How `HasAccesToProject` answers for a project the user lacks: `'boolean'` (default) answers
   * `{ success: true, data: false }`, `'forbidden'` answers 403 `NO_PERMISSION`.
   */
  projectAccessStyle?: 'boolean' | 'forbidden';
  /** The simulator's clock (epoch ms); drives token expiry and the `Date` header. Default `Date.now`. */
  now?: () => number;
  /** Source of randomness for fault probabilities. Default `Math.random`. */
  random?: () => number;
  /** Faults per route key, e.g. `{ 'POST /v2/Auth/RefreshToken': { kind: 'drop', times: 1 } }`. */
  faults?: Record<RouteKey, SimFault | SimFault[]>;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on. Default 0 (any free port). */
  port?: number;
  /** The HS256 signing secret of the access tokens. Default: 32 random bytes per simulator. */
  jwtSecret?: string;
}

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
 * The account a simulator started without `users` knows; exported so a demo or README can print it.
 *
 * @example
 * ```ts
 * const sim = await startMarketigerSimulator();
 * await api.login({ email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password });
 * ```
 */
export const MARKETIGER_DEMO_USER: Readonly<Required<MarketigerSimUser>> = Object.freeze({
  email: 'demo@marketiger.test',
  password: 'demo-password',
  projects: ['demo-project'],
});

/** The route keys of the simulator, as the guide spells the paths (including "HasAcces"). */
export const marketigerRoutes = {
  login: 'POST /v2/Auth/Login',
  refreshToken: 'POST /v2/Auth/RefreshToken',
  getProjects: 'GET /v2/Project/GetProjects',
  hasAccessToProject: 'GET /v2/Project/HasAccesToProject',
} as const;

const HOUR_MS = 60 * 60 * 1000;

// The three error answers the guide documents, word for word.
const wrongCredentials: SimResponse = {
  status: 400,
  json: { success: false, error: { type: 'AUTHENTICATION', message: 'Username or Password are incorrect.' } },
};
const authenticationFailed: SimResponse = {
  status: 401,
  json: { success: false, error: { type: 'AUTHENTICATION', message: 'Authentication failed' } },
};
const noPermission: SimResponse = {
  status: 403,
  json: {
    success: false,
    error: { type: 'NO_PERMISSION', message: 'User has no permission for this project' },
  },
};

interface RefreshRecord {
  email: string;
  expiresAt: number;
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
  const baseNow = options.now ?? Date.now;
  let offsetMs = 0;
  const now = () => baseNow() + offsetMs;
  const accessTokenTtlMs = options.accessTokenTtlMs ?? HOUR_MS;
  const refreshTokenTtlMs = options.refreshTokenTtlMs ?? 12 * HOUR_MS;
  const projectAccessStyle = options.projectAccessStyle ?? 'boolean';
  const users = (options.users ?? [MARKETIGER_DEMO_USER]).map((user, index) => ({
    id: `user-${index + 1}`,
    email: user.email,
    password: user.password,
    projects: [...(user.projects ?? [])],
  }));
  const key = new TextEncoder().encode(options.jwtSecret ?? randomBytes(32).toString('base64url'));
  const issuedJtis = new Set<string>();
  const refusedJtis = new Set<string>();
  const refreshTokens = new Map<string, RefreshRecord>();

  // Emails are compared without case, as sign-in forms generally do; passwords exactly.
  const findUser = (email: string) => users.find((u) => u.email.toLowerCase() === email.toLowerCase());

  async function issueTokens(user: (typeof users)[number]): Promise<SimResponse> {
    const at = now();
    const jti = randomBytes(16).toString('base64url');
    issuedJtis.add(jti);
    const accessToken = await new SignJWT({ email: user.email })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setJti(jti)
      .setIssuedAt(Math.floor(at / 1000))
      // JWT times are whole seconds; rounding down means `advanceClock(accessTokenTtlMs)` always
      // expires the token, and the `exp` a client reads is never later than the server's judgement.
      .setExpirationTime(Math.floor((at + accessTokenTtlMs) / 1000))
      .sign(key);
    const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
    refreshTokens.set(refreshToken, { email: user.email, expiresAt: at + refreshTokenTtlMs });
    return { status: 200, json: { success: true, data: { accessToken, refreshToken } } };
  }

  /** The user behind a request's `Authorization: Bearer <jwt>`, or `undefined` for anything the guide answers with 401. */
  async function authenticate(request: SimRequest) {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header.trim()) : null;
    if (!match) return undefined;
    try {
      const { payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['HS256'],
        currentDate: new Date(now()),
      });
      if (typeof payload.jti !== 'string' || refusedJtis.has(payload.jti)) return undefined;
      return typeof payload.email === 'string' ? findUser(payload.email) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Login and refresh take a JSON body, as every example in the guide sends. */
  function jsonObject(request: SimRequest): Record<string, unknown> | undefined {
    const { body } = request;
    if (request.contentType !== 'application/json') return undefined;
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  }

  const server: SimServer = await startSimServer({
    routes: {
      async [marketigerRoutes.login](request) {
        // The guide documents one failure for login; a missing field or a body that is not JSON gets
        // the same 400 (an assumption: the guide shows no validation error of its own).
        const body = jsonObject(request);
        const email = body?.['email'];
        const password = body?.['password'];
        if (typeof email !== 'string' || typeof password !== 'string') return wrongCredentials;
        const user = findUser(email);
        if (!user || user.password !== password) return wrongCredentials;
        return issueTokens(user);
      },
      async [marketigerRoutes.refreshToken](request) {
        // The guide shows rotation (the answer carries a "new_refresh_token_here") and says refresh
        // tokens "expire after 12 hours"; we take that as 12 h from each token's own issue. It does not
        // say how a refused refresh answers: we answer the documented 401 AUTHENTICATION for an
        // unknown, spent or expired token and for a missing field.
        const token = jsonObject(request)?.['refreshToken'];
        if (typeof token !== 'string') return authenticationFailed;
        const record = refreshTokens.get(token);
        // Spent on first use, whatever the outcome: a rotated token is never accepted twice.
        refreshTokens.delete(token);
        if (!record || now() >= record.expiresAt) return authenticationFailed;
        const user = findUser(record.email);
        if (!user) return authenticationFailed;
        return issueTokens(user);
      },
      async [marketigerRoutes.getProjects](request) {
        const user = await authenticate(request);
        if (!user) return authenticationFailed;
        // The guide does not show this answer: we assume the envelope with a list of `{ id, name }`,
        // the name being the id (the simulator has no other name to give).
        return { status: 200, json: { success: true, data: user.projects.map((id) => ({ id, name: id })) } };
      },
      async [marketigerRoutes.hasAccessToProject](request) {
        const user = await authenticate(request);
        if (!user) return authenticationFailed;
        // The guide shows the request, not the answer. Default: the envelope with a boolean; with
        // `projectAccessStyle: 'forbidden'`, the documented 403 NO_PERMISSION ("...for this project").
        // A missing projectId names no project the user has, so it answers like one they lack.
        const projectId = request.query.get('projectId');
        const hasAccess = projectId !== null && user.projects.includes(projectId);
        if (!hasAccess && projectAccessStyle === 'forbidden') return noPermission;
        return { status: 200, json: { success: true, data: hasAccess } };
      },
    },
    now,
    ...(options.random ? { random: options.random } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
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
    now,
    requestCount: (route) => server.requestCount(route),
    injectFault: (route, fault) => server.injectFault(route, fault),
    clearFaults: (route) => server.clearFaults(route),
    resetCounts: () => server.resetCounts(),
    advanceClock(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError('advanceClock takes a finite, non-negative number of ms');
      offsetMs += ms;
    },
    expireAccessTokens() {
      for (const jti of issuedJtis) refusedJtis.add(jti);
      issuedJtis.clear();
    },
    revokeRefreshTokens() {
      refreshTokens.clear();
    },
    close: () => server.close(),
  };
}
