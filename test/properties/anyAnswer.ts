/**
 * Property (a), shared by test/properties/anyAnswer.test.ts and `npm run soak`: any body and any
 * status on any endpoint of both services yields a valid result or a typed `AuthError`, never a
 * `TypeError` or another error class. One loopback server answers every route of both providers
 * with whatever the property generated.
 */
import fc from 'fast-check';
import { AuthError, isAuthErrorKind } from '../../src/errors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import type { TokenSet } from '../../src/services/types.js';
import { marketigerRoutes } from '../../src/testing/marketigerSimulator.js';
import { mrkterRoutes } from '../../src/testing/mrkterSimulator.js';
import { type SimResponse, startSimServer } from '../../src/testing/simServer.js';

/** One generated answer. */
export interface Answer {
  status: number;
  text: string;
  contentType: string;
  headers: Record<string, string>;
}

const jwtLike = fc
  .tuple(fc.jsonValue(), fc.jsonValue())
  .map(
    ([header, payload]) =>
      `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`,
  );

/** Bodies: any JSON, and JSON shaped like the documented answers with any values inside, and any text. */
const body = fc.oneof(
  fc.json(),
  fc
    .record(
      {
        success: fc.oneof(fc.boolean(), fc.jsonValue()),
        data: fc.oneof(
          fc.jsonValue(),
          fc.record(
            { accessToken: fc.oneof(jwtLike, fc.jsonValue()), refreshToken: fc.jsonValue() },
            { requiredKeys: [] },
          ),
          fc.boolean(),
        ),
        error: fc.oneof(
          fc.jsonValue(),
          fc.record({ type: fc.oneof(fc.string(), fc.constantFrom('AUTHENTICATION', 'NO_PERMISSION')) }),
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        access_token: fc.oneof(jwtLike, fc.jsonValue()),
        refresh_token: fc.jsonValue(),
        token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'mac'), fc.jsonValue()),
        expires_in: fc.oneof(fc.constantFrom(0, -1, '3600', 1e12, 3600), fc.double(), fc.jsonValue()),
        error: fc.oneof(
          fc.constantFrom('invalid_grant', 'mfa_required', 'too_many_attempts'),
          fc.jsonValue(),
        ),
        error_description: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .array(
      fc.record({ accountId: fc.jsonValue(), status: fc.jsonValue(), verifiedPhoneNumber: fc.jsonValue() }),
      {
        maxLength: 3,
      },
    )
    .map((v) => JSON.stringify(v)),
  fc.string(),
);

/** Any answer: a status from every class (weighted to the interesting ones), a body, a content type, a Retry-After. */
export const answerArbitrary: fc.Arbitrary<Answer> = fc.record({
  status: fc.oneof(
    fc.constantFrom(200, 201, 204, 400, 401, 403, 404, 422, 429, 500, 502, 503),
    fc.integer({ min: 200, max: 599 }),
  ),
  text: body,
  contentType: fc.constantFrom(
    'application/json; charset=utf-8',
    'text/plain; charset=utf-8',
    'text/html',
    'application/octet-stream',
  ),
  headers: fc.oneof(
    fc.constant({}),
    fc.record({
      'Retry-After': fc.oneof(
        fc.string(),
        fc.nat().map(String),
        fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toUTCString())),
      ),
    }),
  ),
});

/** The endpoints, by name: each calls one service method and checks a resolved value is valid. */
export const endpoints = [
  'marketiger.login',
  'marketiger.refreshTokens',
  'marketiger.checkProjectAccess',
  'marketiger.getProjects',
  'mrkter.login',
  'mrkter.refreshTokens',
  'mrkter.loadIdentities',
  'mrkter.requestCode',
  'mrkter.verifyCode',
] as const;
export type Endpoint = (typeof endpoints)[number];

/** What went wrong in one case, or `undefined` when the outcome is valid. */
export type Verdict = string | undefined;

function checkTokens(tokens: TokenSet): Verdict {
  if (typeof tokens.accessToken !== 'string' || tokens.accessToken === '')
    return 'accessToken is not a non-empty string';
  if (
    tokens.refreshToken !== null &&
    (typeof tokens.refreshToken !== 'string' || tokens.refreshToken === '')
  ) {
    return 'refreshToken is neither null nor a non-empty string';
  }
  const at = tokens.accessTokenExpiresAt;
  if (at !== null && !Number.isFinite(at)) return 'accessTokenExpiresAt is not finite';
  if (!Number.isFinite(tokens.clockSkewMs)) return 'clockSkewMs is not finite';
  return undefined;
}

/**
 * Starts the server and returns a function that serves `answer` on every route and calls `endpoint`,
 * resolving with a verdict (never rejecting).
 */
export async function startAnyAnswer() {
  let current: Answer = { status: 200, text: '', contentType: 'text/plain', headers: {} };
  const serve = (): SimResponse => ({
    status: current.status,
    text: current.text,
    contentType: current.contentType,
    headers: current.headers,
  });
  const routes = Object.fromEntries(
    [...Object.values(marketigerRoutes), ...Object.values(mrkterRoutes)].map((route) => [route, serve]),
  );
  const server = await startSimServer({ routes });
  const marketiger = createMarketigerApi({ baseURL: `${server.url}/v2`, timeoutMs: 5_000 });
  const mrkter = createMrkterApi({ authBaseURL: server.url, apiBaseURL: server.url, timeoutMs: 5_000 });
  const accessToken = 'at';
  const calls: Record<Endpoint, () => Promise<Verdict>> = {
    'marketiger.login': async () =>
      checkTokens(await marketiger.login({ email: 'e@x.test', password: 'pw' })),
    'marketiger.refreshTokens': async () =>
      checkTokens(await marketiger.refreshTokens({ refreshToken: 'rt' })),
    'marketiger.checkProjectAccess': async () => {
      await marketiger.checkProjectAccess({ accessToken, projectId: 'p' });
      return undefined;
    },
    'marketiger.getProjects': async () => {
      await marketiger.getProjects({ accessToken });
      return undefined;
    },
    'mrkter.login': async () => checkTokens(await mrkter.login({ username: 'u@x.test', password: 'pw' })),
    'mrkter.refreshTokens': async () => checkTokens(await mrkter.refreshTokens({ refreshToken: 'rt' })),
    'mrkter.loadIdentities': async () => {
      const identities = await mrkter.loadIdentities({ accessToken });
      if (!Array.isArray(identities) || identities.length === 0) return 'identities is not a non-empty array';
      for (const identity of identities) {
        if (typeof identity !== 'object' || identity === null) return 'an identity is not an object';
        if (typeof identity.accountId !== 'number' && typeof identity.accountId !== 'string') {
          return 'an identity has no accountId';
        }
      }
      return undefined;
    },
    'mrkter.requestCode': async () => {
      await mrkter.requestCode({ accessToken, phoneNumber: '+15550100' });
      return undefined;
    },
    'mrkter.verifyCode': async () => {
      const { sessionId } = await mrkter.verifyCode({ accessToken, accountId: 1, code: '123456' });
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a session id with control characters must be refused
      if (typeof sessionId !== 'string' || sessionId === '' || /[\u0000-\u001f\u007f]/.test(sessionId)) {
        return 'sessionId is not a clean non-empty string';
      }
      return undefined;
    },
  };

  async function check(endpoint: Endpoint, answer: Answer): Promise<Verdict> {
    current = answer;
    try {
      return await calls[endpoint]();
    } catch (error) {
      if (error instanceof AuthError && isAuthErrorKind(error.kind)) return undefined;
      const name = error instanceof Error ? error.constructor.name : typeof error;
      return `rejected with ${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  return { check, close: () => server.close() };
}

/** The property itself, over a started server. */
export function anyAnswerProperty(check: (endpoint: Endpoint, answer: Answer) => Promise<Verdict>) {
  return fc.asyncProperty(fc.constantFrom(...endpoints), answerArbitrary, async (endpoint, answer) => {
    const verdict = await check(endpoint, answer);
    if (verdict !== undefined) throw new Error(`${endpoint}: ${verdict}`);
  });
}
