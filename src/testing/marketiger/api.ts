/**
 * The Marketiger API of the simulator: the four routes under `/v2` as the Marketiger auth guide shows
 * them, its `{ success, data }` / `{ success, error: { type, message } }` envelopes and documented error
 * answers, signed HS256 access tokens and rotating refresh tokens; answered as ASP.NET Core does where
 * the guide is silent (see ./aspNetCore.ts).
 */
import { randomBytes } from 'node:crypto';
import { JWTExpired } from 'jose/errors';
import { SignJWT } from 'jose/jwt/sign';
import { jwtVerify } from 'jose/jwt/verify';
import type { RouteKey, SimHandler, SimRequest, SimResponse } from '../simServer.js';
import { bindBody, isAnswer, jwtBearerChallenge, validationProblem } from './aspNetCore.js';
import type { MarketigerSimUser } from './users.js';

/** The route keys of the simulator, as the guide spells the paths (including "HasAcces"). */
export const marketigerRoutes = {
  login: 'POST /v2/Auth/Login',
  refreshToken: 'POST /v2/Auth/RefreshToken',
  getProjects: 'GET /v2/Project/GetProjects',
  hasAccessToProject: 'GET /v2/Project/HasAccesToProject',
} as const;

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

/** What the API is configured with (the simulator's options, resolved). */
export interface MarketigerApiSimConfig {
  users: readonly MarketigerSimUser[];
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  projectAccessStyle: 'bool' | 'envelope' | 'forbidden';
  unauthorizedStyle: 'jwtBearer' | 'envelope';
  /** The HS256 signing secret of the access tokens. */
  jwtSecret: string;
  now: () => number;
}

/** The API's routes, and what tests ask of it. */
export interface MarketigerApiSim {
  routes: Record<RouteKey, SimHandler>;
  /** Every access token issued so far is refused with 401 from now on. */
  expireAccessTokens(): void;
  /** Every refresh token issued so far is refused from now on. */
  revokeRefreshTokens(): void;
  /** Refresh requests that presented a refresh token an earlier request had already redeemed. */
  refreshTokenReuseCount(): number;
}

/** The Marketiger API of one simulator. */
export function createMarketigerApiSim(config: MarketigerApiSimConfig): MarketigerApiSim {
  const { accessTokenTtlMs, refreshTokenTtlMs, projectAccessStyle, unauthorizedStyle, now } = config;
  const users = config.users.map((user, index) => ({
    id: `user-${index + 1}`,
    email: user.email,
    password: user.password,
    projects: [...(user.projects ?? [])],
  }));
  const key = new TextEncoder().encode(config.jwtSecret);
  const issuedJtis = new Set<string>();
  const refusedJtis = new Set<string>();
  const refreshTokens = new Map<string, RefreshRecord>();
  // Tokens already presented once: a client that sends one again lost track of a rotation (counted).
  const redeemed = new Set<string>();
  let reuses = 0;

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

  return {
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
        if (redeemed.has(token)) reuses++;
        else if (record) redeemed.add(token);
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
    expireAccessTokens() {
      for (const jti of issuedJtis) refusedJtis.add(jti);
      issuedJtis.clear();
    },
    revokeRefreshTokens() {
      refreshTokens.clear();
    },
    refreshTokenReuseCount: () => reuses,
  };
}
