/**
 * The Auth0 tenant of the Mrkter simulator: `POST /oauth/token` with the password and refresh_token
 * grants as the Mrkter authorization guide shows them, answered as Auth0 does where the guide is silent:
 * `{ error, error_description }` with `Cache-Control: no-store`, 403 `invalid_grant`, brute-force
 * protection, and refresh token rotation with reuse detection. It also says which access tokens are
 * still good, for the Mrkter API's guard.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose/jwt/sign';
import { jwtVerify } from 'jose/jwt/verify';
import { randomId } from '../simHelpers.js';
import type { SimRequest, SimResponse } from '../simServer.js';
import type { UserState } from './users.js';

/** What the Auth0 server received at `POST /oauth/token`, parameter by parameter (for conformance tests). */
export interface MrkterTokenRequest {
  /** `'form'` for `application/x-www-form-urlencoded`, `'json'` for `application/json`, else `'other'`. */
  encoding: 'form' | 'json' | 'other';
  /** Every string parameter received (the password included: this is a test double). */
  params: Record<string, string>;
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

/** What the token server is configured with (the simulator's options, resolved). */
export interface Auth0TokenServerConfig {
  users: Map<string, UserState>;
  clientId: string;
  audience: string;
  accessTokenTtlSeconds: number;
  maxFailedLogins: number;
  rotateRefreshTokens: boolean;
  /** The HS256 key of the access tokens. */
  secret: Uint8Array;
  now: () => number;
}

/** The token server: its route, what it received, and what tests and the API's guard ask of it. */
export interface Auth0TokenServer {
  /** The handler of `POST /oauth/token`. */
  tokenRoute(request: SimRequest): Promise<SimResponse>;
  /** Every token request received, in order. */
  readonly tokenRequests: MrkterTokenRequest[];
  /** The tokens' `iss`: the tenant's origin with a trailing slash, known once the server listens. */
  setIssuer(origin: string): void;
  /** The username behind a live, valid access token, or `undefined`. */
  verifyAccessToken(token: string): Promise<string | undefined>;
  /** Every access token issued so far is refused from now on. */
  expireAccessTokens(): void;
  /** Every refresh token issued so far is refused with 403 `invalid_grant` from now on. */
  revokeRefreshTokens(): void;
}

/** The Auth0 token server of one simulator. */
export function createAuth0TokenServer(config: Auth0TokenServerConfig): Auth0TokenServer {
  const { users, clientId, audience, maxFailedLogins, secret, now } = config;
  const ttlSeconds = config.accessTokenTtlSeconds;
  const rotate = config.rotateRefreshTokens;
  /** Access tokens issued and not yet revoked by `expireAccessTokens` (their `exp` is checked by the JWT). */
  const liveAccessTokens = new Map<string, string>();
  const refreshTokens = new Map<string, RefreshTokenState>();
  const revokedFamilies = new Set<string>();
  const tokenRequests: MrkterTokenRequest[] = [];
  // The issuer is the tenant's origin with a trailing slash, as in the guide's token; known once listening.
  let issuer = '';

  async function issueTokens(state: UserState, scope: string | undefined, family?: string) {
    const iat = Math.floor(now() / 1000);
    // HS256 rather than Auth0's RS256: clients never verify the signature (they only read `exp`), and a
    // shared secret keeps the simulator free of key management. The claims are the guide's.
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

  return {
    tokenRoute,
    tokenRequests,
    setIssuer(origin) {
      issuer = `${origin}/`;
    },
    async verifyAccessToken(token) {
      const username = liveAccessTokens.get(token);
      if (username === undefined) return undefined;
      try {
        await jwtVerify(token, secret, { issuer, audience, currentDate: new Date(now()), clockTolerance: 0 });
      } catch {
        return undefined;
      }
      return username;
    },
    expireAccessTokens() {
      liveAccessTokens.clear();
    },
    revokeRefreshTokens() {
      for (const record of refreshTokens.values()) revokedFamilies.add(record.family);
    },
  };
}
