/** The Mrkter machine tests' fixtures: identities, stub services behind the actors, and the steps of a sign-in. */
import { vi } from 'vitest';
import { createActor } from 'xstate';
import { type MrkterInput, mrkterMachine } from '../../../src/machines/mrkterMachine.js';
import type { MrkterIdentity, TokenSet } from '../../../src/services/types.js';
import { PASSWORD, record, tokenSet, withServices } from '../harness.js';

export { tokenSet };

/** The fake clock's start in every Mrkter machine test. */
export const NOW = new Date('2025-04-01T12:00:00Z');
export const CODE = '482913';

export const alice: MrkterIdentity = {
  id: 231,
  accountId: 123,
  firstName: 'Alice',
  status: 'ACTIVE',
  verifiedPhoneNumber: '+972531112233',
  systemRoles: [{ id: 0, name: 'OWNER' }],
};
export const bob: MrkterIdentity = {
  id: 232,
  accountId: 456,
  status: 'ACTIVE',
  verifiedPhoneNumber: '+15550001111',
};
export const invited: MrkterIdentity = {
  id: 233,
  accountId: 789,
  status: 'INVITED',
  verifiedPhoneNumber: '+15550002222',
};
export const phoneless: MrkterIdentity = {
  id: 234,
  accountId: 321,
  status: 'ACTIVE',
  verifiedPhoneNumber: null,
};

/** A promise the test settles by hand, to hold an actor in a busy state. */
function _deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Stub services behind the machine's actors; each records its calls and can be re-stubbed per test. */
export function stubApi() {
  return {
    login: vi.fn(
      async (_input: { username: string; password: string }, _signal: AbortSignal): Promise<TokenSet> =>
        tokenSet('access-1', 'refresh-1'),
    ),
    loadIdentities: vi.fn(
      async (_input: { accessToken: string }, _signal: AbortSignal): Promise<MrkterIdentity[]> => [
        alice,
        bob,
      ],
    ),
    requestCode: vi.fn(
      async (_input: { accessToken: string; phoneNumber: string }, _signal: AbortSignal) => {},
    ),
    verifyCode: vi.fn(
      async (
        _input: { accessToken: string; accountId: number | string; code: string },
        _signal: AbortSignal,
      ): Promise<{ sessionId: string }> => ({ sessionId: 'session-1' }),
    ),
    refreshTokens: vi.fn(
      async (_input: { refreshToken: string }, _signal: AbortSignal): Promise<TokenSet> =>
        tokenSet('access-2', 'refresh-2'),
    ),
  };
}

function machineWith(api: ReturnType<typeof stubApi>) {
  return withServices(mrkterMachine, api);
}

/** Jitter off by default so refresh times are exact; tests of jitter set it. */
export const exact: MrkterInput = { refreshJitterMs: 0 };

export function start(
  api: ReturnType<typeof stubApi>,
  input: MrkterInput = exact,
  snapshot?: ReturnType<ReturnType<typeof createActor<typeof mrkterMachine>>['getPersistedSnapshot']>,
) {
  return createActor(machineWith(api), { input, snapshot, inspect: record }).start();
}

export type Subject = ReturnType<typeof start>;

export const flush = () => vi.advanceTimersByTimeAsync(0);

export async function toSelectingIdentity(subject: Subject) {
  subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
  await flush();
}

export async function toAwaitingCode(subject: Subject) {
  await toSelectingIdentity(subject);
  subject.send({ type: 'identity.select', accountId: 123 });
  await flush();
}

export async function toSignedIn(subject: Subject) {
  await toAwaitingCode(subject);
  subject.send({ type: 'code.submit', code: CODE });
  await flush();
}

export function stateOf(subject: Subject) {
  return subject.getSnapshot().value;
}
