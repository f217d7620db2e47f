/**
 * A local Mrkter: two real HTTP servers on loopback, like the two origins of the seed
 * (`login.dev.mrkter.io`, an Auth0 tenant, and `api.dev.mrkter.io`, the Mrkter API), that follow the
 * Mrkter authorization guide: the Auth0 password and refresh grants, the user's identities, the SMS
 * code and its validation into a session id, and one protected route that needs all three headers.
 *
 * Where the guide is silent (error shapes of the Mrkter API, what a wrong code answers, the SMS
 * answer) the simulator answers as the vendor's stacks do by default, and says so beside the code:
 * Auth0's `/oauth/token` (`{ error, error_description }`, `Cache-Control: no-store`, 403
 * `invalid_grant`, refresh token rotation with reuse detection), and NestJS on Express for the API
 * (POST answers 201; a returned string is `text/html; charset=utf-8`; `HttpException` bodies
 * `{ message, error?, statusCode }`, `message` an array for `ValidationPipe`; the guard's 401
 * `{"message":"Unauthorized","statusCode":401}`; `@nestjs/throttler`'s 429 with `Retry-After`;
 * Express's `X-Powered-By` and weak `ETag`). `test/conformance/` checks every API answer against a
 * real NestJS app. Options switch answers to the variants a client may meet.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { SignJWT } from 'jose/jwt/sign';
import { jwtVerify } from 'jose/jwt/verify';
import type { MrkterIdentity } from '../services/types.js';
import {
  type RouteKey,
  type SimFault,
  type SimLogEntry,
  type SimRequest,
  type SimResponse,
  type SimServer,
  startSimServer,
} from './simServer.js';

/** The route keys of both servers, for `requestCount` and `injectFault`. */
export const mrkterRoutes = {
  /** Auth0 (auth server): the password and refresh_token grants. */
  token: 'POST /oauth/token',
  /** Mrkter API: the user's identities. */
  identities: 'GET /user-identity/me/users',
  /** Mrkter API: send an SMS code. */
  sms: 'POST /verification/sms',
  /** Mrkter API: validate the code; answers the session id. */
  authenticate: 'POST /auth/mfa/phone-number/authenticate',
  /** Mrkter API: a protected route that needs `Authorization`, `x-account-id` and `x-session-id`. */
  currentAccount: 'GET /accounts/current',
} as const;

/** A user the simulator knows. */
export interface MrkterSimUser {
  /** The Auth0 username (an email in the seed). */
  username: string;
  password: string;
  /** The identities `GET /user-identity/me/users` answers, in the seed's full shape, sent as given. */
  identities: MrkterIdentity[];
  /** Auth0 answers 401 `unauthorized` "user is blocked" on login and refresh. */
  blocked?: boolean;
  /** Auth0 answers 403 `mfa_required` (with an `mfa_token`) to the password grant, as a tenant with Auth0 MFA does. */
  mfaRequired?: boolean;
}

/** Options of {@link startMrkterSimulator}; every field is optional. */
export interface MrkterSimulatorOptions {
  /** The users; default {@link defaultMrkterUsers}. */
  users?: MrkterSimUser[];
  /** The Auth0 client id accepted; default the seed's `IuNTe8fftpw3a0KJKxsxBET8t3C6agZi`. */
  clientId?: string;
  /** The API audience accepted; default the seed's `https://dev-mrkter.io`. */
  audience?: string;
  /** `expires_in` of access tokens; default 82 800 (23 h) as in the seed. */
  accessTokenTtlSeconds?: number;
  /**
   * How the session id is sent: `'html'` (the default: NestJS on Express sends a returned string as
   * `text/html; charset=utf-8`), `'text'` (`text/plain`, as a handler with `@Header('Content-Type',
   * 'text/plain')` does) or `'json'` (a JSON string, as `res.json(id)` does).
   */
  sessionIdFormat?: 'html' | 'text' | 'json';
  /**
   * `@nestjs/throttler` on the SMS route, per number, `limit: 1` and `ttl` (and so `blockDuration`)
   * this many ms: a second request within it gets 429 with `Retry-After`, and the number stays
   * blocked for this long from that request. Default 20 000; 0 turns it off.
   */
  smsCooldownMs?: number;
  /** How long an SMS code is valid; default 5 minutes. */
  codeTtlMs?: number;
  /** Makes the SMS codes; default 6 random digits. Tests that need distinct or known codes pass their own. */
  generateCode?: () => string;
  /** Failed password grants for one username before Auth0's brute-force protection answers 429; default 10. */
  maxFailedLogins?: number;
  /** Whether a refresh answers a new refresh token and spends the old one (Auth0 rotation); default true. */
  rotateRefreshTokens?: boolean;
  /**
   * Status of a wrong or expired code; default 400 (`BadRequestException('Invalid code')`). The
   * body is Nest's exception body for that status: `{ message: 'Invalid code', error, statusCode }`.
   */
  invalidCodeStatus?: 400 | 401 | 403 | 422;
  /** The simulator's clock (epoch ms): token and code expiry, cooldowns, the `Date` header. Default `Date.now`. */
  now?: () => number;
  /** Randomness for fault probabilities. Default `Math.random`. */
  random?: () => number;
  /** The HS256 key access tokens are signed with; default a random one. */
  jwtSecret?: string;
  /** Faults on the Auth0 server, by route key. */
  authFaults?: Record<RouteKey, SimFault | SimFault[]>;
  /** Faults on the Mrkter API server, by route key. */
  apiFaults?: Record<RouteKey, SimFault | SimFault[]>;
  /** Host to listen on; default `127.0.0.1`. */
  host?: string;
}

/** An SMS the simulator "sent". */
export interface MrkterSentCode {
  phoneNumber: string;
  code: string;
  /** Simulator clock, epoch ms. */
  at: number;
  /** Spent by a successful validation, or replaced by a newer code to the same number. */
  used: boolean;
}

/** A session created by a validated code. */
export interface MrkterSimSession {
  sessionId: string;
  username: string;
  /** The identity's `accountId`, as the server holds it. */
  accountId: number | string;
  /** Simulator clock, epoch ms. */
  createdAt: number;
}

/** What the Auth0 server received at `POST /oauth/token`, parameter by parameter (for conformance tests). */
export interface MrkterTokenRequest {
  /** `'form'` for `application/x-www-form-urlencoded`, `'json'` for `application/json`, else `'other'`. */
  encoding: 'form' | 'json' | 'other';
  /** Every string parameter received (the password included: this is a test double). */
  params: Record<string, string>;
}

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

/** The seed's client id and audience. */
const DEFAULT_CLIENT_ID = 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi';
const DEFAULT_AUDIENCE = 'https://dev-mrkter.io';

/** An identity in the seed's full shape; `overrides` win. */
function seedIdentity(
  overrides: Partial<MrkterIdentity> & Pick<MrkterIdentity, 'accountId'>,
): MrkterIdentity {
  return {
    id: 231,
    firstName: 'John',
    lastName: 'Dow',
    avatar: null,
    email: 'john.dow@mrkter.test',
    status: 'ACTIVE',
    currency: 'USD',
    verifiedPhoneNumber: '+972531112233',
    notVerifiedPhoneNumber: null,
    invitedAt: '2023-03-31T12:57:53.089Z',
    accountType: 'ADVERTISER',
    accountCreatedAt: '2023-03-31T12:57:53.089Z',
    companyName: 'Payouts',
    inviteExpiresAt: '2023-03-31T12:57:53.089Z',
    systemRoles: [
      {
        id: 0,
        name: 'OWNER',
        description: 'OWNER_DESCRIPTION',
        permissions: [{ id: 0, name: 'VENDOR_FINANCE:READ', resource: 'VENDOR_FINANCE', action: 'READ' }],
      },
    ],
    totpEnabled: false,
    phoneNumberAuthEnabled: false,
    location: 'US',
    phoneNumberCountry: 'US',
    phoneNumberCode: '972',
    isEmailVerified: true,
    isPasswordSetForInvitedUser: true,
    ...overrides,
  };
}

/**
 * The default users:
 * - `demo@mrkter.test` / `demo-password`: two ACTIVE identities with verified phones (accounts 123 and 456);
 * - `single@mrkter.test` / `single-password`: one identity (account 789);
 * - `nophone@mrkter.test` / `nophone-password`: one identity without a verified phone (1001), one
 *   `INACTIVE` (1002) and one usable (1003).
 */
export const defaultMrkterUsers: readonly MrkterSimUser[] = [
  {
    username: 'demo@mrkter.test',
    password: 'demo-password',
    identities: [
      seedIdentity({ id: 231, accountId: 123, email: 'demo@mrkter.test' }),
      seedIdentity({
        id: 232,
        accountId: 456,
        email: 'demo@mrkter.test',
        verifiedPhoneNumber: '+972531112244',
        companyName: 'Acme Media',
        accountType: 'PUBLISHER',
        currency: 'EUR',
      }),
    ],
  },
  {
    username: 'single@mrkter.test',
    password: 'single-password',
    identities: [
      seedIdentity({
        id: 301,
        accountId: 789,
        email: 'single@mrkter.test',
        firstName: 'Sam',
        lastName: 'Single',
        verifiedPhoneNumber: '+972531112255',
        companyName: 'Solo Ads',
      }),
    ],
  },
  {
    username: 'nophone@mrkter.test',
    password: 'nophone-password',
    identities: [
      seedIdentity({
        id: 401,
        accountId: 1001,
        email: 'nophone@mrkter.test',
        verifiedPhoneNumber: null,
        notVerifiedPhoneNumber: '+972531112266',
        companyName: 'Unverified Ltd',
      }),
      seedIdentity({
        id: 402,
        accountId: 1002,
        email: 'nophone@mrkter.test',
        status: 'INACTIVE',
        verifiedPhoneNumber: '+972531112277',
        companyName: 'Dormant Inc',
      }),
      seedIdentity({
        id: 403,
        accountId: 1003,
        email: 'nophone@mrkter.test',
        verifiedPhoneNumber: '+972531112288',
        companyName: 'Working Co',
      }),
    ],
  },
];

interface UserState {
  user: MrkterSimUser;
  /** The Auth0 user id (`sub`). */
  sub: string;
  failedLogins: number;
}

interface ThrottleRecord {
  /** When each counted hit stops counting (simulator clock). */
  hits: number[];
  /** End of the current window (`X-RateLimit-Reset`). */
  expiresAt: number;
  blockExpiresAt: number;
  blocked: boolean;
}

interface RefreshTokenState {
  username: string;
  scope: string | undefined;
  /** Tokens of one sign-in share a family: reusing a spent one revokes the whole family (Auth0 reuse detection). */
  family: string;
  spent: boolean;
}

/** Auth0's error shape. */
function auth0Error(
  status: number,
  error: string,
  description: string,
  extra: Record<string, unknown> = {},
): SimResponse {
  return {
    status,
    json: { error, error_description: description, ...extra },
    headers: { 'Cache-Control': 'no-store' },
  };
}

/**
 * NestJS's answer to a built-in `HttpException` thrown with a message, e.g.
 * `new BadRequestException('Invalid code')` or, from `ValidationPipe`, with an array of messages:
 * `HttpException.createBody` writes `{ message, error, statusCode }` (in that order), `error`
 * being the status's reason phrase. The seed shows no error body; its errors look like Nest's.
 */
function nestError(status: number, message: string | string[]): SimResponse {
  return { status, json: { message, error: STATUS_CODES[status] ?? 'Error', statusCode: status } };
}

/**
 * A built-in exception thrown without arguments (`new UnauthorizedException()`,
 * `new ForbiddenException()`): `{ message: <reason phrase>, statusCode }`.
 */
function nestBareError(status: 401 | 403): SimResponse {
  return { status, json: { message: STATUS_CODES[status], statusCode: status } };
}

/**
 * What `ValidationPipe` answers for a DTO field declared `@IsNotEmpty() @IsString()` (the messages
 * `class-validator` writes): `@IsNotEmpty()` refuses '', null and undefined; `@IsString()` any
 * non-string.
 */
function validationMessages(field: string, value: unknown): string[] {
  const messages: string[] = [];
  if (value === '' || value === null || value === undefined) messages.push(`${field} should not be empty`);
  if (typeof value !== 'string') messages.push(`${field} must be a string`);
  return messages;
}

/**
 * The answer to a missing, unknown, expired or revoked bearer token or session: the
 * `UnauthorizedException()` an `AuthGuard` (from `@nestjs/passport`) throws.
 */
const unauthorized = (): SimResponse => nestBareError(401);

/** The answer of Nest on Express to a route it does not have: `NotFoundException('Cannot GET /x')`. */
const nestNotFound = (request: { method: string; path: string }): SimResponse =>
  nestError(404, `Cannot ${request.method} ${request.path}`);

/** Reads the string parameters of a JSON or form body (anything else gives none). */
function paramsOf(request: SimRequest): MrkterTokenRequest {
  const encoding =
    request.contentType === 'application/x-www-form-urlencoded'
      ? 'form'
      : request.contentType === 'application/json'
        ? 'json'
        : 'other';
  const params: Record<string, string> = {};
  const body = request.body;
  if (encoding !== 'other' && typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const [key, value] of Object.entries(body)) {
      // defineProperty, not assignment: a `__proto__` key stays a plain parameter.
      if (typeof value === 'string')
        Object.defineProperty(params, key, { value, enumerable: true, writable: true });
    }
  }
  return { encoding, params };
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `Array.prototype.findLast`, which the ES2022 lib this project targets does not declare. */
function lastOf<T>(items: readonly T[], predicate: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (predicate(item)) return item;
  }
  return undefined;
}

const randomId = (bytes: number) => randomBytes(bytes).toString('base64url');

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
  const baseNow = options.now ?? Date.now;
  let offsetMs = 0;
  const now = () => baseNow() + offsetMs;
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID;
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const ttlSeconds = options.accessTokenTtlSeconds ?? 82_800;
  const sessionIdFormat = options.sessionIdFormat ?? 'html';
  const smsCooldownMs = options.smsCooldownMs ?? 20_000;
  const codeTtlMs = options.codeTtlMs ?? 5 * 60_000;
  const maxFailedLogins = options.maxFailedLogins ?? 10;
  const generateCode = options.generateCode ?? (() => String(randomInt(0, 1_000_000)).padStart(6, '0'));
  const rotate = options.rotateRefreshTokens ?? true;
  const invalidCodeStatus = options.invalidCodeStatus ?? 400;
  const secret = new TextEncoder().encode(options.jwtSecret ?? randomId(32));

  const users = new Map<string, UserState>();
  for (const user of options.users ?? defaultMrkterUsers) {
    users.set(user.username, {
      user: { ...user },
      sub: `auth0|${randomBytes(12).toString('hex')}`,
      failedLogins: 0,
    });
  }
  /** Access tokens issued and not yet revoked by `expireAccessTokens` (their `exp` is checked by the JWT). */
  const liveAccessTokens = new Map<string, string>();
  const refreshTokens = new Map<string, RefreshTokenState>();
  const revokedFamilies = new Set<string>();
  const tokenRequests: MrkterTokenRequest[] = [];
  const codes: MrkterSentCode[] = [];
  const throttles = new Map<string, ThrottleRecord>();

  /**
   * `@nestjs/throttler`'s default storage, for one request on `key` with `limit: 1` and
   * `ttl = blockDuration = smsCooldownMs`: a second hit within the ttl blocks the key for a whole
   * `blockDuration` from that hit (a retry during the block does not extend it); once the block has
   * passed the key starts afresh. Answers the `Retry-After` seconds when blocked, and the
   * `X-RateLimit-Reset` seconds otherwise.
   */
  function throttle(key: string): { retryAfterSeconds?: number; resetSeconds: number } {
    const at = now();
    const ttl = smsCooldownMs;
    let record = throttles.get(key);
    if (!record) {
      record = { hits: [], expiresAt: at + ttl, blockExpiresAt: 0, blocked: false };
      throttles.set(key, record);
    }
    record.hits = record.hits.filter((expiresAt) => expiresAt > at);
    if (record.expiresAt <= at) record.expiresAt = at + ttl;
    const resetSeconds = Math.ceil((record.expiresAt - at) / 1000);
    if (!record.blocked) record.hits.push(at + ttl);
    if (record.hits.length > 1 && !record.blocked) {
      record.blocked = true;
      record.blockExpiresAt = at + ttl;
    }
    const blockSeconds = Math.ceil((record.blockExpiresAt - at) / 1000);
    if (record.blocked && blockSeconds <= 0) {
      record.blocked = false;
      record.hits = [at + ttl];
    }
    return record.blocked ? { retryAfterSeconds: blockSeconds, resetSeconds } : { resetSeconds };
  }
  const sessions: MrkterSimSession[] = [];
  const liveSessions = new Map<string, MrkterSimSession>();
  // The issuer is the tenant's origin with a trailing slash, as in the seed's token; known once listening.
  let issuer = '';

  async function issueTokens(state: UserState, scope: string | undefined, family?: string) {
    const iat = Math.floor(now() / 1000);
    // HS256 rather than Auth0's RS256: clients never verify the signature (they only read `exp`), and a
    // shared secret keeps the simulator free of key management. The claims are the seed's.
    const accessToken = await new SignJWT({
      'http://type': 'user',
      'http://email': state.user.username,
      'http://jti': randomBytes(16).toString('hex'),
      ...(scope ? { scope } : {}),
      // A token got by refresh keeps the claims of the grant that started the session.
      gty: 'password',
      azp: clientId,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'mrkter-simulator' })
      .setIssuer(issuer)
      .setSubject(state.sub)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      .sign(secret);
    liveAccessTokens.set(accessToken, state.user.username);
    const body: Record<string, unknown> = { access_token: accessToken };
    // Auth0 issues a refresh token only for the `offline_access` scope; without rotation a refresh
    // answer carries none and the old one stays valid.
    if (scope?.split(' ').includes('offline_access') && (family === undefined || rotate)) {
      const refreshToken = `v1.${randomId(64)}`;
      refreshTokens.set(refreshToken, {
        username: state.user.username,
        scope,
        family: family ?? randomId(9),
        spent: false,
      });
      body['refresh_token'] = refreshToken;
    }
    if (scope) body['scope'] = scope;
    body['expires_in'] = ttlSeconds;
    body['token_type'] = 'Bearer';
    return { status: 200, json: body, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } };
  }

  async function passwordGrant(params: Record<string, string>): Promise<SimResponse> {
    const { username, password } = params;
    if (!username || !password) {
      return auth0Error(
        400,
        'invalid_request',
        `Missing required parameter: ${username ? 'password' : 'username'}`,
      );
    }
    if (params['audience'] !== audience) {
      // Auth0's answer to an audience no API of the tenant has.
      return auth0Error(403, 'access_denied', `Service not found: ${params['audience'] ?? ''}`);
    }
    const state = users.get(username);
    // Auth0's brute-force protection: after N failures the user is locked even with the right password.
    if (state && state.failedLogins >= maxFailedLogins) {
      return auth0Error(
        429,
        'too_many_attempts',
        'Your account has been blocked after multiple consecutive login attempts.',
      );
    }
    if (!state || state.user.password !== password) {
      if (state) state.failedLogins++;
      return auth0Error(403, 'invalid_grant', 'Wrong email or password.');
    }
    state.failedLogins = 0;
    if (state.user.blocked) return auth0Error(401, 'unauthorized', 'user is blocked');
    if (state.user.mfaRequired) {
      return auth0Error(403, 'mfa_required', 'Multifactor authentication required', {
        mfa_token: randomId(24),
      });
    }
    return issueTokens(state, params['scope'] || undefined);
  }

  async function refreshGrant(params: Record<string, string>): Promise<SimResponse> {
    const token = params['refresh_token'];
    if (!token) return auth0Error(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const record = refreshTokens.get(token);
    const invalid = () => auth0Error(403, 'invalid_grant', 'Unknown or invalid refresh token.');
    if (!record || revokedFamilies.has(record.family)) return invalid();
    if (record.spent) {
      // Reuse of a rotated token: Auth0 treats it as theft and revokes every token of the family.
      revokedFamilies.add(record.family);
      return invalid();
    }
    const state = users.get(record.username);
    if (!state) return invalid();
    if (state.user.blocked) return auth0Error(401, 'unauthorized', 'user is blocked');
    if (rotate) record.spent = true;
    return issueTokens(state, record.scope, record.family);
  }

  async function tokenRoute(request: SimRequest): Promise<SimResponse> {
    const received = paramsOf(request);
    tokenRequests.push(received);
    const { params } = received;
    // Auth0 answers an unknown client id with 401 `access_denied` "Unauthorized".
    if (params['client_id'] !== clientId) return auth0Error(401, 'access_denied', 'Unauthorized');
    switch (params['grant_type']) {
      case 'password':
        return passwordGrant(params);
      case 'refresh_token':
        return refreshGrant(params);
      case undefined:
        return auth0Error(400, 'invalid_request', 'Missing required parameter: grant_type');
      default:
        return auth0Error(403, 'unsupported_grant_type', 'Unsupported grant type');
    }
  }

  /** The user behind a valid `Authorization: Bearer` header, or `undefined`. */
  async function bearerUser(request: SimRequest): Promise<UserState | undefined> {
    const match = /^Bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '');
    const token = match?.[1];
    if (!token) return undefined;
    const username = liveAccessTokens.get(token);
    if (username === undefined) return undefined;
    try {
      await jwtVerify(token, secret, { issuer, audience, currentDate: new Date(now()), clockTolerance: 0 });
    } catch {
      return undefined;
    }
    return users.get(username);
  }

  /** The user's identity whose `accountId` is the `x-account-id` header (compared as strings, as headers are). */
  function accountOf(state: UserState, request: SimRequest): MrkterIdentity | undefined {
    const accountId = header(request, 'x-account-id');
    if (accountId === undefined) return undefined;
    return state.user.identities.find((identity) => String(identity.accountId) === accountId);
  }

  async function identitiesRoute(request: SimRequest): Promise<SimResponse> {
    const state = await bearerUser(request);
    if (!state) return unauthorized();
    return { status: 200, json: state.user.identities };
  }

  async function smsRoute(request: SimRequest): Promise<SimResponse> {
    const state = await bearerUser(request);
    if (!state) return unauthorized();
    const body = request.body as { phoneNumber?: unknown } | undefined;
    const phoneNumber = typeof body === 'object' && body !== null ? body.phoneNumber : undefined;
    // @nestjs/throttler's guard runs before the body is validated, keyed by the number (a tracker
    // of the app's choice: the default, the client's IP, would throttle every test on loopback).
    const limit = typeof phoneNumber === 'string' && phoneNumber !== '' ? throttle(phoneNumber) : undefined;
    if (limit?.retryAfterSeconds !== undefined) {
      // ThrottlerException: a string response, which Nest's exception filter sends as
      // `{ statusCode, message }`; the guard sets `Retry-After` in seconds.
      return {
        status: 429,
        json: { statusCode: 429, message: 'ThrottlerException: Too Many Requests' },
        headers: { 'Retry-After': String(limit.retryAfterSeconds) },
      };
    }
    if (typeof phoneNumber !== 'string' || phoneNumber === '') {
      return nestError(400, validationMessages('phoneNumber', phoneNumber));
    }
    // The throttler's guard sets its headers on every answer it lets through, errors included.
    const rateLimitHeaders = {
      'X-RateLimit-Limit': '1',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(limit?.resetSeconds ?? 0),
    };
    if (!state.user.identities.some((identity) => identity.verifiedPhoneNumber === phoneNumber)) {
      return { ...nestError(400, 'Phone number is not verified'), headers: rateLimitHeaders };
    }
    // A new code replaces the previous ones for the number: only the latest SMS is valid.
    for (const code of codes) if (code.phoneNumber === phoneNumber) code.used = true;
    codes.push({
      phoneNumber,
      code: generateCode(),
      at: now(),
      used: false,
    });
    // The seed shows no answer: NestJS answers a POST with 201, and a handler that returns nothing
    // sends no body.
    return { status: 201, headers: rateLimitHeaders };
  }

  async function authenticateRoute(request: SimRequest): Promise<SimResponse> {
    const state = await bearerUser(request);
    if (!state) return unauthorized();
    const identity = accountOf(state, request);
    // No or a foreign x-account-id: the app's `ForbiddenException()` for a caller without that account.
    if (!identity) return nestBareError(403);
    const body = request.body as { code?: unknown } | undefined;
    const submitted = typeof body === 'object' && body !== null ? body.code : undefined;
    if (typeof submitted !== 'string' || submitted === '') {
      return nestError(400, validationMessages('code', submitted));
    }
    const phone = identity.verifiedPhoneNumber;
    const issued = lastOf(codes, (c) => c.phoneNumber === phone && !c.used);
    const valid =
      typeof submitted === 'string' &&
      issued !== undefined &&
      now() - issued.at < codeTtlMs &&
      issued.code === submitted;
    if (!valid || !issued) {
      // The seed does not say what a wrong code answers: `BadRequestException('Invalid code')` by
      // default; `invalidCodeStatus` answers 401, 403 or 422 instead so clients can be tested against each.
      return nestError(invalidCodeStatus, 'Invalid code');
    }
    issued.used = true;
    const session: MrkterSimSession = {
      sessionId: randomId(24),
      username: state.user.username,
      accountId: identity.accountId,
      createdAt: now(),
    };
    sessions.push(session);
    liveSessions.set(session.sessionId, session);
    // The seed shows the session id as the whole body, unquoted: a handler returning the string,
    // which Express's `res.send` labels `text/html; charset=utf-8`.
    if (sessionIdFormat === 'json') return { status: 201, json: session.sessionId };
    return {
      status: 201,
      text: session.sessionId,
      contentType: sessionIdFormat === 'text' ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8',
    };
  }

  async function currentAccountRoute(request: SimRequest): Promise<SimResponse> {
    const state = await bearerUser(request);
    if (!state) return unauthorized();
    const identity = accountOf(state, request);
    const session = liveSessions.get(header(request, 'x-session-id') ?? '');
    if (
      !identity ||
      !session ||
      session.username !== state.user.username ||
      String(session.accountId) !== String(identity.accountId)
    ) {
      return unauthorized();
    }
    return {
      status: 200,
      json: {
        accountId: identity.accountId,
        companyName: identity.companyName ?? null,
        accountType: identity.accountType ?? null,
        currency: identity['currency'] ?? null,
        status: identity.status ?? null,
      },
    };
  }

  const random = options.random ?? Math.random;
  const host = options.host ?? '127.0.0.1';
  const auth = await startSimServer({
    routes: { [mrkterRoutes.token]: tokenRoute },
    now,
    random,
    host,
    ...(options.authFaults ? { faults: options.authFaults } : {}),
  });
  let api: SimServer;
  try {
    api = await startSimServer({
      routes: {
        [mrkterRoutes.identities]: identitiesRoute,
        [mrkterRoutes.sms]: smsRoute,
        [mrkterRoutes.authenticate]: authenticateRoute,
        [mrkterRoutes.currentAccount]: currentAccountRoute,
      },
      now,
      random,
      host,
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
  issuer = `${auth.url}/`;
  const serverOf = (route: RouteKey) => (route === mrkterRoutes.token ? auth : api);

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
    tokenRequests,
    sentCodes: codes,
    lastCode(phoneNumber) {
      const found =
        phoneNumber === undefined ? codes.at(-1) : lastOf(codes, (c) => c.phoneNumber === phoneNumber);
      return found?.code;
    },
    sessions,
    now,
    advanceClock(ms) {
      offsetMs += ms;
    },
    expireAccessTokens() {
      liveAccessTokens.clear();
    },
    revokeRefreshTokens() {
      for (const record of refreshTokens.values()) revokedFamilies.add(record.family);
    },
    revokeSessions() {
      liveSessions.clear();
    },
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
