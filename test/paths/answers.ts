/**
 * How the simulators are made to answer as a path step says: for each answer step (an invoked actor's
 * `done` or `error`), the fault, revoked token or provider error body that produces it over a real
 * socket, read by the real parser. Shared by the live replay (live.test.ts) and the path-driven browser
 * suite (scripts/test-ui-paths.ts).
 *
 * Produced by the person rather than here: a wrong password (`invalid_credentials`) and a wrong code
 * (`invalid_code`), typed in the step that sends the request; and which identities `loadIdentities`
 * answers, by signing in as the simulator user who has them ({@link mrkterUserFor}).
 *
 * Produced by an injected answer rather than by the simulator's own rules (it has no option for them):
 * a token whose lifetime the path needs (24 h, or already expired), a 401/403 from an API route, an
 * empty identity list. Each is the provider's documented shape.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AuthError } from '../../src/errors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MrkterSimulator,
  marketigerRoutes,
  mrkterRoutes,
  type SimFault,
} from '../../src/testing/index.js';

/** The Marketiger simulator signs its access tokens with this (`startMarketigerSimulator({ jwtSecret })`). */
export const JWT_SECRET = 'authcharts-paths-live-test-secret-0123456789';

/** An answer a step asks for: the invoked actor, done or error, and the sample (see `DriverAnswer`). */
export interface StepAnswer {
  actor: string;
  outcome: 'done' | 'error';
  label: string;
  output?: unknown;
  error?: unknown;
}

export const json = (status: number, body: unknown): SimFault => ({
  kind: 'status',
  status,
  body: JSON.stringify(body),
  contentType: 'application/json; charset=utf-8',
  times: 1,
});

/** The faults shared by every route: the transport and answers no provider rule claims. */
export function transportFault(error: AuthError): SimFault | undefined {
  switch (error.kind) {
    case 'rate_limited':
      return { kind: 'rateLimit', retryAfter: String((error.retryAfterMs ?? 1000) / 1000), times: 1 };
    case 'server':
      return { kind: 'status', status: 503, times: 1 };
    case 'network':
      return { kind: 'drop', times: 1 };
    case 'timeout':
      return { kind: 'hang', times: 1 };
    case 'bad_response':
      return { kind: 'malformed', body: '{"truncated":', times: 1 };
    default:
      return undefined;
  }
}

/** The kinds a person produces by what they type: nothing to arrange on the simulator. */
export const typedByThePerson = (answer: StepAnswer) =>
  answer.outcome === 'error' &&
  ['invalid_credentials', 'invalid_code'].includes((answer.error as AuthError | undefined)?.kind ?? '');

// ---------------------------------------------------------------------------------------------
// Marketiger

/** The route each Marketiger actor calls. */
export const marketigerActorRoutes: Record<string, string> = {
  login: marketigerRoutes.login,
  checkProjectAccess: marketigerRoutes.hasAccessToProject,
  refreshTokens: marketigerRoutes.refreshToken,
};

/** An access token signed as the simulator signs (JWT_SECRET), expiring at `expiresAt`. */
export async function marketigerAccessToken(expiresAt: number): Promise<string> {
  return new SignJWT({ email: MARKETIGER_DEMO_USER.email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('user-1')
    .setJti(randomBytes(8).toString('hex'))
    .setIssuedAt(Math.floor(Date.now() / 1000))
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(new TextEncoder().encode(JWT_SECRET));
}

/**
 * Makes the next request of `answer.actor` answer as the step says. `expiresAt` places a token the
 * path needs with a lifetime of its own (24 h, already expired) on the simulator's clock; by default
 * the sample's own expiry.
 */
export async function arrangeMarketigerAnswer(
  sim: MarketigerSimulator,
  answer: StepAnswer,
  options: { expiresAt?: number } = {},
): Promise<void> {
  const route = marketigerActorRoutes[answer.actor];
  if (!route) throw new Error(`No Marketiger route for actor ${answer.actor}`);
  if (answer.outcome === 'done') {
    if (answer.label.includes('outliving the session') || answer.label.includes('expired on arrival')) {
      // A token of the lifetime the path needs, signed as the simulator signs, with a real refresh token.
      const output = answer.output as { accessTokenExpiresAt: number };
      const real = await createMarketigerApi({ baseURL: sim.baseURL }).login(MARKETIGER_DEMO_USER);
      const accessToken = await marketigerAccessToken(options.expiresAt ?? output.accessTokenExpiresAt);
      sim.injectFault(
        route,
        json(200, { success: true, data: { accessToken, refreshToken: real.refreshToken } }),
      );
    }
    return;
  }
  if (typedByThePerson(answer)) return;
  const error = answer.error as AuthError;
  if (error.kind === 'session_expired' && answer.actor === 'refreshTokens') {
    sim.revokeRefreshTokens();
    return;
  }
  const fault =
    error.kind === 'no_permission'
      ? json(403, { success: false, error: { type: 'NO_PERMISSION', message: 'User has no permission' } })
      : error.kind === 'no_project_access'
        ? json(200, { success: true, data: false })
        : error.kind === 'session_expired' && answer.actor === 'checkProjectAccess'
          ? json(401, { success: false, error: { type: 'AUTHENTICATION', message: 'Authentication failed' } })
          : transportFault(error);
  if (!fault) throw new Error(`No way to produce ${error.kind} live`);
  sim.injectFault(route, fault);
}

// ---------------------------------------------------------------------------------------------
// Mrkter

/** The route each Mrkter actor calls. */
export const mrkterActorRoutes: Record<string, string> = {
  login: mrkterRoutes.token,
  loadIdentities: mrkterRoutes.identities,
  requestCode: mrkterRoutes.sms,
  verifyCode: mrkterRoutes.authenticate,
  refreshTokens: mrkterRoutes.token,
};

/** The simulator's users, by the identity sample a path's `loadIdentities` answers with. */
export const mrkterUsers: Record<string, { username: string; password: string }> = {
  two: { username: 'demo@mrkter.test', password: 'demo-password' },
  single: { username: 'single@mrkter.test', password: 'single-password' },
  mixed: { username: 'nophone@mrkter.test', password: 'nophone-password' },
};

/** The user to sign in as so that `loadIdentities` answers as the first such step of `labels` says. */
export function mrkterUserFor(labels: readonly string[]): { username: string; password: string } {
  for (const label of labels) {
    if (label === 'auth.login') break;
    const match = /^loadIdentities ✓ (\w+) identities$/.exec(label);
    if (match) return mrkterUsers[match[1]!] ?? mrkterUsers['two']!;
  }
  return mrkterUsers['two']!;
}

/** A code that is not `code`. */
export const wrongCode = (code: string) => (code === '000000' ? '000001' : '000000');

/** An Auth0 token answer whose access token expired a minute ago (the signature is never checked by clients). */
export function expiredTokenAnswer(now = Date.now()): SimFault {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const exp = Math.floor(now / 1000) - 60;
  const accessToken = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'auth0|x', exp })}.c2ln`;
  return json(200, { access_token: accessToken, refresh_token: 'v1.expired-case', token_type: 'Bearer' });
}

/** The Mrkter fault that produces `error` on `actor`'s route, in the provider's own shape. */
export function mrkterFault(actor: string, error: AuthError): SimFault | undefined {
  const nest = (status: number, message: string) => json(status, { statusCode: status, message });
  switch (error.kind) {
    case 'too_many_attempts':
      return json(429, { error: 'too_many_attempts', error_description: 'Your account has been blocked.' });
    case 'no_permission':
      return actor === 'login'
        ? json(401, { error: 'unauthorized', error_description: 'user is blocked' })
        : nest(403, 'Forbidden resource');
    case 'no_identities':
      return json(200, []);
    case 'session_expired':
      return nest(401, 'Unauthorized');
    case 'bad_response':
      // The SMS route accepts any 2xx answer: a redirect is what it cannot use. A truncated JSON body
      // reads as a plain-text session id, so code validation gets a JSON object instead.
      if (actor === 'requestCode') return { kind: 'status', status: 302, times: 1 };
      if (actor === 'verifyCode') return json(201, { sessionId: 'not-a-plain-string' });
      return transportFault(error);
    default:
      return transportFault(error);
  }
}

/** Makes the next request of `answer.actor` answer as the step says. */
export function arrangeMrkterAnswer(sim: MrkterSimulator, answer: StepAnswer, now = Date.now()): void {
  const route = mrkterActorRoutes[answer.actor];
  if (!route) throw new Error(`No Mrkter route for actor ${answer.actor}`);
  if (answer.outcome === 'done') {
    if (answer.label === 'refreshTokens ✓ expired on arrival')
      sim.injectFault(route, expiredTokenAnswer(now));
    return;
  }
  if (typedByThePerson(answer)) return;
  const error = answer.error as AuthError;
  if (error.kind === 'session_expired' && answer.actor === 'refreshTokens') {
    sim.revokeRefreshTokens();
    return;
  }
  const fault = mrkterFault(answer.actor, error);
  if (!fault) throw new Error(`No way to produce ${error.kind} live`);
  sim.injectFault(route, fault);
}
