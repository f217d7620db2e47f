/**
 * The two providers as the shared signed-in session's tests see them: the same stub services
 * (`login`, `refreshTokens`, ...), a subject started with them, and the way to sign it in.
 */
import { type Mock, vi } from 'vitest';
import type { Actor, AnyStateMachine } from 'xstate';
import type { SharedSession } from '../../../src/coordination/types.js';
import { marketigerMachine } from '../../../src/machines/marketigerMachine.js';
import type { MrkterInput } from '../../../src/machines/mrkterMachine.js';
import { PASSWORD, settle, startRecorded, tokenSet, withServices } from '../harness.js';
import { T0 } from '../marketiger/fixtures.js';
import * as mrkter from '../mrkter/fixtures.js';

type Service = Mock<(input: any, signal: AbortSignal) => Promise<any>>;

/** Stub services behind a machine's actors; each records its calls and can be re-stubbed per test. */
export interface SessionApi {
  login: Service;
  refreshTokens: Service;
  [name: string]: Service;
}

export type SessionSubject = Actor<AnyStateMachine>;

/** One provider, for the shared session's tests. */
export interface SessionProvider {
  /** The export's name: the tests' describe titles start with it. */
  machineName: string;
  /** The fake clock's start. */
  now: Date;
  /** Input with jitter off, so refresh times are exact. */
  exact: object;
  /** The provider's own context fields, as a session's end leaves them. */
  cleared: Record<string, unknown>;
  /** Services that sign in with `access-1`/`refresh-1` and refresh to `access-2`/`refresh-2`. */
  stubApi(): SessionApi;
  start(api: SessionApi, input?: object): SessionSubject;
  /** What another holder shares: the provider's own fields (Mrkter's account and session ids) included. */
  sharedFields: Partial<SharedSession>;
  /** Every step of the provider's sign-in, with the stub answers. */
  toSignedIn(subject: SessionSubject): Promise<void>;
}

const marketigerExact = { refreshJitterMs: 0 };

export const marketigerSession: SessionProvider = {
  machineName: 'marketigerMachine',
  now: new Date(T0),
  exact: marketigerExact,
  cleared: { refreshTokenExpiresAt: null },
  sharedFields: {},
  stubApi: () => ({
    login: vi.fn(async () => tokenSet('access-1', 'refresh-1')),
    refreshTokens: vi.fn(async () => tokenSet('access-2', 'refresh-2')),
    checkProjectAccess: vi.fn(async () => {}),
  }),
  start: (api, input = marketigerExact) =>
    startRecorded(withServices(marketigerMachine, api), { input }) as unknown as SessionSubject,
  toSignedIn: async (subject) => {
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();
  },
};

export const mrkterSession: SessionProvider = {
  machineName: 'mrkterMachine',
  now: mrkter.NOW,
  exact: mrkter.exact,
  cleared: { sessionId: null, accountId: null, phoneNumber: null, identities: [] },
  sharedFields: { accountId: 456, sessionId: 'session-shared' },
  stubApi: () => mrkter.stubApi() as unknown as SessionApi,
  start: (api, input = mrkter.exact) =>
    mrkter.start(
      api as unknown as ReturnType<typeof mrkter.stubApi>,
      input as MrkterInput,
    ) as unknown as SessionSubject,
  toSignedIn: (subject) => mrkter.toSignedIn(subject as unknown as mrkter.Subject),
};
