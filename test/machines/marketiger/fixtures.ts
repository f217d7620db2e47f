/** The Marketiger machine tests' fixtures: its stub actors, token answers and a signed-in subject. */
import type { Actor, ActorOptions } from 'xstate';
import { type MarketigerInput, marketigerMachine } from '../../../src/machines/marketigerMachine.js';
import type { TokenSet } from '../../../src/services/types.js';
import { HOUR, PASSWORD, settle, startRecorded, stubActor } from '../harness.js';

/** The fake clock's start in every Marketiger machine test. */
export const T0 = Date.UTC(2030, 0, 1, 8, 0, 0);

export function tokens(n: number, overrides: Partial<TokenSet> = {}): TokenSet {
  return {
    accessToken: `access-${n}`,
    refreshToken: `refresh-${n}`,
    accessTokenExpiresAt: Date.now() + HOUR,
    clockSkewMs: 0,
    ...overrides,
  };
}

export interface StubAnswers {
  login?: (input: { email: string; password: string }, call: number) => TokenSet | Promise<TokenSet>;
  refreshTokens?: (input: { refreshToken: string }, call: number) => TokenSet | Promise<TokenSet>;
  checkProjectAccess?: (input: { accessToken: string; projectId: string }) => void | Promise<void>;
}

type Machine = typeof marketigerMachine;

/** The machine with stub actors, and the stubs' call records. */
export function arrange(answers: StubAnswers = {}) {
  const login = stubActor(answers.login);
  const refreshTokens = stubActor(answers.refreshTokens);
  const checkProjectAccess = stubActor<void, { accessToken: string; projectId: string }>(
    answers.checkProjectAccess,
  );
  const machine = marketigerMachine.provide({
    actors: {
      login: login.logic,
      refreshTokens: refreshTokens.logic,
      checkProjectAccess: checkProjectAccess.logic,
    },
  });
  return { machine, login, refreshTokens, checkProjectAccess };
}

export function start(machine: Machine, options: ActorOptions<Machine> = {}): Actor<Machine> {
  return startRecorded(machine, options);
}

/** Starts a subject, signs in with the stubs' answers, and returns it signed in. */
export async function signedIn(input: MarketigerInput = {}, answers: StubAnswers = {}) {
  const stubs = arrange({ login: () => tokens(1), ...answers });
  const subject = start(stubs.machine, { input: { refreshJitterMs: 0, ...input } });
  subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
  await settle();
  return { subject, ...stubs };
}
