/**
 * A local Marketiger API that follows the auth guide (seeds/000): the four routes under `/v2`, the
 * `{ success, data }` / `{ success, error: { type, message } }` envelopes and the documented error
 * answers, signed HS256 access tokens, rotating refresh tokens, and a clock that tests can move forward.
 *
 * Where the guide is silent it answers as the vendor's stack does by default: ASP.NET Core (the
 * guide's samples are C#) with JwtBearer authentication and `[ApiController]`. So: `Server: Kestrel`
 * and `Date` on every answer; camelCase JSON as `application/json; charset=utf-8`; a missing, bad or
 * expired bearer token on an API route answers JwtBearer's challenge, 401 with an empty body and
 * `WWW-Authenticate: Bearer error="invalid_token", error_description="The token expired at '...'"`;
 * model validation failures answer 400 `application/problem+json` (`ValidationProblemDetails`); a
 * body that is not JSON answers 415; `HasAccesToProject`, an action returning `bool`, answers a bare
 * `true` or `false`; an unknown route answers 404 with no body. Options switch to the variants a
 * client may meet (the guide's JSON 401, the envelope around the boolean, a 403). `test/conformance/`
 * checks this list; the service (`src/services/marketigerParse.ts`) reads every variant.
 */
import { randomBytes } from 'node:crypto';
import { JWTExpired } from 'jose/errors';
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
   * How `HasAccesToProject` answers: `'bool'` (the default: an ASP.NET Core action returning `bool`,
   * a bare `true` or `false`), `'envelope'` (`{ success: true, data: true | false }`), or
   * `'forbidden'` (the envelope with `true`, and the guide's 403 `NO_PERMISSION` for a project the
   * user lacks). `'boolean'` is the old name of `'envelope'`.
   */
  projectAccessStyle?: 'bool' | 'envelope' | 'forbidden' | 'boolean';
  /**
   * How the API routes refuse a missing, bad or expired access token: `'jwtBearer'` (the default:
   * ASP.NET Core's JwtBearer challenge, 401 with an empty body and `WWW-Authenticate`) or
   * `'envelope'` (the guide's 401 `{ success: false, error: { type: 'AUTHENTICATION', ... } }`,
   * what the vendor's own code sends when it handles the challenge).
   */
  unauthorizedStyle?: 'jwtBearer' | 'envelope';
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

/** A W3C trace context id, as ASP.NET Core puts in `traceId`. */
const traceId = () => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;

/** ASP.NET Core's `ProblemDetails` answer, `application/problem+json; charset=utf-8`. */
function problem(
  status: number,
  title: string,
  type: string,
  extra: Record<string, unknown> = {},
): SimResponse {
  return {
    status,
    text: JSON.stringify({ type, title, status, ...extra, traceId: traceId() }),
    contentType: 'application/problem+json; charset=utf-8',
  };
}

/** `[ApiController]`'s automatic 400 for an invalid model: `ValidationProblemDetails` with `errors` per field. */
const validationProblem = (errors: Record<string, string[]>): SimResponse =>
  problem(
    400,
    'One or more validation errors occurred.',
    'https://tools.ietf.org/html/rfc9110#section-15.5.1',
    {
      errors,
    },
  );

/** `[ApiController]`'s 415 for a `[FromBody]` that is not JSON. */
const unsupportedMediaType = (): SimResponse =>
  problem(415, 'Unsupported Media Type', 'https://tools.ietf.org/html/rfc9110#section-15.5.16');

/** .NET's `DateTime.ToString(CultureInfo.InvariantCulture)`: `MM/dd/yyyy HH:mm:ss`, here in UTC. */
function invariantDate(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/**
 * JwtBearer's challenge (`JwtBearerHandler.HandleChallengeAsync`): 401, no body, and
 * `WWW-Authenticate: Bearer` alone when no token came, with `error="invalid_token"` when one was
 * refused, and `error_description="The token expired at '<exp>'"` when it had expired.
 */
function jwtBearerChallenge(failure: 'missing' | 'invalid' | { expiredAt: number }): SimResponse {
  const value =
    failure === 'missing'
      ? 'Bearer'
      : failure === 'invalid'
        ? 'Bearer error="invalid_token"'
        : `Bearer error="invalid_token", error_description="The token expired at '${invariantDate(failure.expiredAt)}'"`;
  return { status: 401, headers: { 'WWW-Authenticate': value } };
}

/**
 * The model binding of a `[FromBody]` DTO whose string properties are non-nullable (so implicitly
 * required): 415 for a body that is not JSON, 400 with `$`/`$.field` errors for JSON that does not
 * deserialize, 400 "The X field is required." for a missing, null or empty field. `fields` are the
 * DTO's C# property names (`Email`), read from camelCase JSON (`email`).
 */
function bindBody(request: SimRequest, fields: string[]): Record<string, string> | SimResponse {
  if (request.contentType !== 'application/json' && !request.contentType.endsWith('+json')) {
    return unsupportedMediaType();
  }
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody);
  } catch {
    return validationProblem({
      $: ['The input does not contain any JSON tokens or is not valid JSON.'],
      request: ['The request field is required.'],
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return validationProblem({
      $: ['The JSON value could not be converted to the request type.'],
      request: ['The request field is required.'],
    });
  }
  const record = body as Record<string, unknown>;
  const values: Record<string, string> = {};
  const errors: Record<string, string[]> = {};
  for (const field of fields) {
    const json = field[0]!.toLowerCase() + field.slice(1);
    const value = record[json];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      return validationProblem({
        [`$.${json}`]: [`The JSON value could not be converted to System.String. Path: $.${json}.`],
        request: ['The request field is required.'],
      });
    }
    if (typeof value !== 'string' || value === '') errors[field] = [`The ${field} field is required.`];
    else values[json] = value;
  }
  return Object.keys(errors).length > 0 ? validationProblem(errors) : values;
}

const isAnswer = <T extends object>(value: T | SimResponse): value is SimResponse =>
  typeof (value as SimResponse).status === 'number';

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
  const projectAccessStyle =
    options.projectAccessStyle === 'boolean' ? 'envelope' : (options.projectAccessStyle ?? 'bool');
  const unauthorizedStyle = options.unauthorizedStyle ?? 'jwtBearer';
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

  /**
   * The user behind a request's `Authorization: Bearer <jwt>`, or the answer that refuses it: the
   * JwtBearer challenge by default, the guide's 401 envelope with `unauthorizedStyle: 'envelope'`.
   */
  async function authenticate(request: SimRequest): Promise<(typeof users)[number] | SimResponse> {
    const refuse = (failure: Parameters<typeof jwtBearerChallenge>[0]) =>
      unauthorizedStyle === 'envelope' ? authenticationFailed : jwtBearerChallenge(failure);
    const header = request.headers.authorization;
    // JwtBearer reads a token only from a `Bearer ` header; anything else is no token at all.
    const match = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header.trim()) : null;
    if (!match) return refuse('missing');
    try {
      const { payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['HS256'],
        currentDate: new Date(now()),
      });
      // A token the app revoked (`expireAccessTokens`) is refused like any other invalid token.
      if (typeof payload.jti !== 'string' || refusedJtis.has(payload.jti)) return refuse('invalid');
      const user = typeof payload.email === 'string' ? findUser(payload.email) : undefined;
      return user ?? refuse('invalid');
    } catch (error) {
      if (error instanceof JWTExpired && typeof error.payload.exp === 'number') {
        return refuse({ expiredAt: error.payload.exp * 1000 });
      }
      return refuse('invalid');
    }
  }

  const server: SimServer = await startSimServer({
    routes: {
      async [marketigerRoutes.login](request) {
        // `[ApiController]` validates the body before the action runs (415, 400 problem+json); the
        // action then answers the guide's 400 AUTHENTICATION for wrong credentials.
        const body = bindBody(request, ['Email', 'Password']);
        if (isAnswer(body)) return body;
        const user = findUser(body['email']!);
        if (!user || user.password !== body['password']) return wrongCredentials;
        return issueTokens(user);
      },
      async [marketigerRoutes.refreshToken](request) {
        // The guide shows rotation (the answer carries a "new_refresh_token_here") and says refresh
        // tokens "expire after 12 hours"; we take that as 12 h from each token's own issue. It does not
        // say how a refused refresh answers: we answer the documented 401 AUTHENTICATION for an
        // unknown, spent or expired token (the vendor's own code, as for a wrong password); a missing
        // field or a body that is not JSON gets `[ApiController]`'s 400 or 415 first.
        const body = bindBody(request, ['RefreshToken']);
        if (isAnswer(body)) return body;
        const token = body['refreshToken']!;
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
        if (isAnswer(user)) return user;
        // The guide does not show this answer: we assume the envelope with a list of `{ id, name }`,
        // the name being the id (the simulator has no other name to give).
        return { status: 200, json: { success: true, data: user.projects.map((id) => ({ id, name: id })) } };
      },
      async [marketigerRoutes.hasAccessToProject](request) {
        const user = await authenticate(request);
        if (isAnswer(user)) return user;
        // The guide shows the request, not the answer; its name reads like an action returning
        // `bool`, which ASP.NET Core sends as a bare `true`/`false`. `projectAccessStyle` switches
        // to the envelope, or to the documented 403 NO_PERMISSION ("...for this project").
        // `string projectId` is required (nullable reference types): a missing one is a 400 problem.
        const projectId = request.query.get('projectId');
        if (!projectId) return validationProblem({ projectId: ['The projectId field is required.'] });
        const hasAccess = user.projects.includes(projectId);
        if (!hasAccess && projectAccessStyle === 'forbidden') return noPermission;
        if (projectAccessStyle === 'bool') return { status: 200, json: hasAccess };
        return { status: 200, json: { success: true, data: hasAccess } };
      },
    },
    now,
    // Kestrel names itself on every answer, and ASP.NET Core's routing answers 404 with no body.
    headers: { Server: 'Kestrel' },
    notFound: () => ({ status: 404 }),
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
