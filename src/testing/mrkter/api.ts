/**
 * The Mrkter API of the simulator: the user's identities, the SMS code and its validation into a
 * session id, and one protected route that needs all three headers, as the Mrkter authorization guide
 * shows them, answered as NestJS on Express does where the guide is silent (see ./nestjs.ts).
 */
import type { MrkterIdentity } from '../../services/types.js';
import { header, lastOf, randomId } from '../simHelpers.js';
import type { RouteKey, SimHandler, SimRequest, SimResponse } from '../simServer.js';
import { createThrottler, nestBareError, nestError, unauthorized, validationMessages } from './nestjs.js';
import { mrkterRoutes } from './routes.js';
import type { UserState } from './users.js';

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

/** What the API is configured with (the simulator's options, resolved). */
export interface MrkterApiSimConfig {
  users: Map<string, UserState>;
  /** The username behind a live access token (the Auth0 tenant's judgement), or `undefined`. */
  verifyAccessToken(token: string): Promise<string | undefined>;
  now: () => number;
  smsCooldownMs: number;
  codeTtlMs: number;
  generateCode: () => string;
  invalidCodeStatus: 400 | 401 | 403 | 422;
  sessionIdFormat: 'html' | 'text' | 'json';
}

/** The API's routes and what it keeps: the codes sent and the sessions created. */
export interface MrkterApiSim {
  routes: Record<RouteKey, SimHandler>;
  /** Every SMS sent, in order. */
  readonly sentCodes: MrkterSentCode[];
  /** Every session created, in order. */
  readonly sessions: MrkterSimSession[];
  /** Every session created so far is refused with 401 from now on. */
  revokeSessions(): void;
}

/** The Mrkter API of one simulator. */
export function createMrkterApiSim(config: MrkterApiSimConfig): MrkterApiSim {
  const { users, verifyAccessToken, now, codeTtlMs, generateCode, invalidCodeStatus, sessionIdFormat } =
    config;
  const throttle = createThrottler(config.smsCooldownMs, now);
  const codes: MrkterSentCode[] = [];
  const sessions: MrkterSimSession[] = [];
  const liveSessions = new Map<string, MrkterSimSession>();

  /** The user behind a valid `Authorization: Bearer` header, or `undefined`. */
  async function bearerUser(request: SimRequest): Promise<UserState | undefined> {
    const match = /^Bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '');
    const token = match?.[1];
    if (!token) return undefined;
    const username = await verifyAccessToken(token);
    return username === undefined ? undefined : users.get(username);
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
    // The guide shows no answer: NestJS answers a POST with 201, and a handler that returns nothing
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
      // The guide does not say what a wrong code answers: `BadRequestException('Invalid code')` by
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
    // The guide shows the session id as the whole body, unquoted: a handler returning the string,
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

  return {
    routes: {
      [mrkterRoutes.identities]: identitiesRoute,
      [mrkterRoutes.sms]: smsRoute,
      [mrkterRoutes.authenticate]: authenticateRoute,
      [mrkterRoutes.currentAccount]: currentAccountRoute,
    },
    sentCodes: codes,
    sessions,
    revokeSessions() {
      liveSessions.clear();
    },
  };
}
