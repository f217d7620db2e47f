import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AnyStateNode,
  createActor,
  fromPromise,
  type InspectionEvent,
  type PromiseActorLogic,
} from 'xstate';
import type { SharedSession } from '../../src/coordination/types.js';
import { AuthError } from '../../src/errors.js';
import { type MrkterInput, mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import type { MrkterApi, MrkterIdentity, TokenSet } from '../../src/services/types.js';
import { MAX_TIMER_MS } from '../../src/time.js';

const HOUR = 60 * 60 * 1000;
const NOW = new Date('2025-04-01T12:00:00Z');
const PASSWORD = 'canary-password-7f3a';
const CODE = '482913';

const alice: MrkterIdentity = {
  id: 231,
  accountId: 123,
  firstName: 'Alice',
  status: 'ACTIVE',
  verifiedPhoneNumber: '+972531112233',
  systemRoles: [{ id: 0, name: 'OWNER' }],
};
const bob: MrkterIdentity = {
  id: 232,
  accountId: 456,
  status: 'ACTIVE',
  verifiedPhoneNumber: '+15550001111',
};
const invited: MrkterIdentity = {
  id: 233,
  accountId: 789,
  status: 'INVITED',
  verifiedPhoneNumber: '+15550002222',
};
const phoneless: MrkterIdentity = { id: 234, accountId: 321, status: 'ACTIVE', verifiedPhoneNumber: null };

function tokenSet(accessToken: string, refreshToken: string | null, ttlMs: number | null = HOUR): TokenSet {
  return {
    accessToken,
    refreshToken,
    accessTokenExpiresAt: ttlMs === null ? null : Date.now() + ttlMs,
    clockSkewMs: 0,
  };
}

/** A promise the test settles by hand, to hold an actor in a busy state. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// Every transition any subject in this file takes, keyed like the machine's own transitions (see the
// last test): the suite proves its coverage instead of claiming it.
const taken = new Set<string>();

function transitionKey(t: { source: AnyStateNode; eventType: string }, index: number): string {
  return `${t.source.id} ${t.eventType} #${index}`;
}

function record(event: InspectionEvent): void {
  if (event.type !== '@xstate.microstep') return;
  for (const t of event._transitions) {
    const list = t.eventType === '' ? t.source.always : t.source.transitions.get(t.eventType);
    const index = list?.indexOf(t) ?? -1;
    if (index >= 0) taken.add(transitionKey(t, index));
  }
}

/** Stub services behind the machine's actors; each records its calls and can be re-stubbed per test. */
function stubApi() {
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
  return mrkterMachine.provide({
    actors: {
      login: fromPromise<TokenSet, { username: string; password: string }>(({ input, signal }) =>
        api.login(input, signal),
      ),
      loadIdentities: fromPromise<MrkterIdentity[], { accessToken: string }>(({ input, signal }) =>
        api.loadIdentities(input, signal),
      ),
      requestCode: fromPromise<void, { accessToken: string; phoneNumber: string }>(({ input, signal }) =>
        api.requestCode(input, signal),
      ),
      verifyCode: fromPromise<
        { sessionId: string },
        { accessToken: string; accountId: number | string; code: string }
      >(({ input, signal }) => api.verifyCode(input, signal)),
      refreshTokens: fromPromise<TokenSet, { refreshToken: string }>(({ input, signal }) =>
        api.refreshTokens(input, signal),
      ),
    },
  });
}

/** Jitter off by default so refresh times are exact; tests of jitter set it. */
const exact: MrkterInput = { refreshJitterMs: 0 };

function start(
  api: ReturnType<typeof stubApi>,
  input: MrkterInput = exact,
  snapshot?: ReturnType<ReturnType<typeof createActor<typeof mrkterMachine>>['getPersistedSnapshot']>,
) {
  return createActor(machineWith(api), { input, snapshot, inspect: record }).start();
}

type Subject = ReturnType<typeof start>;

const flush = () => vi.advanceTimersByTimeAsync(0);

async function toSelectingIdentity(subject: Subject) {
  subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
  await flush();
}

async function toAwaitingCode(subject: Subject) {
  await toSelectingIdentity(subject);
  subject.send({ type: 'identity.select', accountId: 123 });
  await flush();
}

async function toSignedIn(subject: Subject) {
  await toAwaitingCode(subject);
  subject.send({ type: 'code.submit', code: CODE });
  await flush();
}

function stateOf(subject: Subject) {
  return subject.getSnapshot().value;
}

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('mrkterMachine: creation', () => {
  it('starts signed out with the defaults when created without input', () => {
    // Arrange + Act
    const subject = createActor(mrkterMachine).start();

    // Assert
    const snapshot = subject.getSnapshot();
    expect(snapshot.value).toBe('signedOut');
    expect(snapshot.context).toEqual({
      accessToken: null,
      refreshToken: null,
      accessTokenExpiresAt: null,
      refreshAt: null,
      clockSkewMs: 0,
      refreshAttempts: 0,
      identities: [],
      accountId: null,
      phoneNumber: null,
      sessionId: null,
      codeAttempts: 0,
      resendAvailableAt: null,
      error: null,
      autoSelectSingleIdentity: true,
      maxCodeAttempts: 3,
      resendCooldownMs: 30_000,
      refreshLeewayMs: 60_000,
      accessTokenTtlMs: HOUR,
      refreshJitterMs: 60_000,
    });
    subject.stop();
  });

  it('copies the input into context and falls back to the defaults for unusable numbers', () => {
    // Arrange
    const input = {
      autoSelectSingleIdentity: false,
      maxCodeAttempts: 5,
      resendCooldownMs: Number.NaN,
      refreshLeewayMs: -1,
      accessTokenTtlMs: 10_000,
      refreshJitterMs: Number.POSITIVE_INFINITY,
    };

    // Act
    const subject = createActor(mrkterMachine, { input });

    // Assert
    expect(subject.getSnapshot().context).toMatchObject({
      autoSelectSingleIdentity: false,
      maxCodeAttempts: 5,
      resendCooldownMs: 30_000,
      refreshLeewayMs: 60_000,
      accessTokenTtlMs: 10_000,
      refreshJitterMs: 60_000,
    });
  });

  it('has placeholder actors that say how to provide the real ones', async () => {
    // Arrange
    const subject = createActor(
      mrkterMachine.implementations.actors.login as PromiseActorLogic<
        TokenSet,
        { username: string; password: string }
      >,
      {
        input: { username: 'u', password: 'p' },
      },
    );
    subject.subscribe({ error: () => {} });
    subject.start();

    // Act
    await flush();

    // Assert
    const snapshot = subject.getSnapshot() as { status: string; error: unknown };
    expect(snapshot.status).toBe('error');
    expect(String(snapshot.error)).toMatch(/not provided.*mrkterActors\(api\)/);
  });

  it('accepts mrkterActors(api) through provide', () => {
    // Arrange
    const api = {} as MrkterApi;

    // Act
    const provided = mrkterMachine.provide({ actors: mrkterActors(api) });

    // Assert
    expect(provided.id).toBe('mrkter');
  });
});

describe('mrkterMachine: signing in with the password', () => {
  it('sends the username and password from auth.login to the login actor and is busy meanwhile', async () => {
    // Arrange
    const api = stubApi();
    const login = deferred<TokenSet>();
    api.login.mockReturnValue(login.promise);
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });

    // Assert
    expect(stateOf(subject)).toBe('authenticating');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    const [input] = api.login.mock.calls[0] ?? [];
    expect(input?.username).toBe('alice');
    expect(input?.password).toBe(PASSWORD);
  });

  it('stores the tokens and loads the identities with the new access token after a successful login', async () => {
    // Arrange
    const api = stubApi();
    const identities = deferred<MrkterIdentity[]>();
    api.loadIdentities.mockReturnValue(identities.promise);
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('loadingIdentities');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      accessTokenExpiresAt: NOW.getTime() + HOUR,
      refreshAt: NOW.getTime() + HOUR - 60_000,
      error: null,
    });
    expect(api.loadIdentities.mock.calls[0]?.[0]).toEqual({ accessToken: 'access-1' });
  });

  it('returns to signedOut with the error when the password is wrong, and does not retry', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockRejectedValue(new AuthError('invalid_credentials', { status: 403 }));
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await vi.advanceTimersByTimeAsync(60_000);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toMatchObject({ kind: 'invalid_credentials', status: 403 });
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(api.login).toHaveBeenCalledTimes(1);
  });

  it('keeps too_many_attempts from Auth0 as the error and never logs in again by itself', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockRejectedValue(new AuthError('too_many_attempts', { status: 429 }));
    const subject = start(api);

    // Act
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await vi.advanceTimersByTimeAsync(HOUR);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('too_many_attempts');
    expect(api.login).toHaveBeenCalledTimes(1);
  });

  it('clears the previous error when a new login starts', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockRejectedValueOnce(new AuthError('invalid_credentials'));
    const subject = start(api);
    subject.send({ type: 'auth.login', username: 'alice', password: 'wrong' });
    await flush();

    // Act
    api.login.mockReturnValue(new Promise(() => {}));
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });

    // Assert
    expect(stateOf(subject)).toBe('authenticating');
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('aborts the login on auth.logout and ignores its late answer', async () => {
    // Arrange
    const api = stubApi();
    const login = deferred<TokenSet>();
    api.login.mockReturnValue(login.promise);
    const subject = start(api);
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });

    // Act
    subject.send({ type: 'auth.logout' });
    login.resolve(tokenSet('late', 'late'));
    await flush();

    // Assert
    expect(api.login.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(api.loadIdentities).not.toHaveBeenCalled();
  });

  it('ignores every event but auth.login while signed out', () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    for (const event of [
      { type: 'auth.logout' },
      { type: 'auth.refresh' },
      { type: 'auth.tokenRejected', accessToken: 'x' },
      { type: 'auth.resume' },
      { type: 'identity.select', accountId: 123 },
      { type: 'identity.change' },
      { type: 'code.submit', code: CODE },
      { type: 'code.resend' },
    ] as const) {
      subject.send(event);
    }

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toBeNull();
  });
});

describe('mrkterMachine: loading the identities', () => {
  it('offers every identity as the server returned it when there are several', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice, invited, phoneless, bob]);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().hasTag('busy')).toBe(false);
    expect(subject.getSnapshot().context.identities).toEqual([alice, invited, phoneless, bob]);
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('selects a single selectable identity by itself and requests its code', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice]);
    const sms = deferred<void>();
    api.requestCode.mockReturnValue(sms.promise);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('requestingCode');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(subject.getSnapshot().context).toMatchObject({
      identities: [alice],
      accountId: 123,
      phoneNumber: '+972531112233',
    });
    expect(api.requestCode.mock.calls[0]?.[0]).toEqual({
      accessToken: 'access-1',
      phoneNumber: '+972531112233',
    });
  });

  it('asks for the single identity when autoSelectSingleIdentity is false', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice]);
    const subject = start(api, { ...exact, autoSelectSingleIdentity: false });

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it.each([
    ['inactive', invited],
    ['without a phone number', phoneless],
  ])('does not select a single %s identity by itself', async (_, identity) => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([identity]);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context.identities).toEqual([identity]);
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('signs out with no_identities when the server returns an empty list', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([]);
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('no_identities');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(subject.getSnapshot().context.refreshToken).toBeNull();
  });

  it('signs out with the error when loading the identities fails', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockRejectedValue(new AuthError('no_identities'));
    const subject = start(api);

    // Act
    await toSelectingIdentity(subject);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('no_identities');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it('aborts loading the identities on auth.logout', async () => {
    // Arrange
    const api = stubApi();
    const identities = deferred<MrkterIdentity[]>();
    api.loadIdentities.mockReturnValue(identities.promise);
    const subject = start(api);
    subject.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    await flush();

    // Act
    subject.send({ type: 'auth.logout' });
    identities.resolve([alice]);
    await flush();

    // Assert
    expect(api.loadIdentities.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({ accessToken: null, identities: [], error: null });
  });
});

describe('mrkterMachine: selecting an identity', () => {
  it('selects the identity with the given accountId and sends the SMS to its verified phone number', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: 456 });

    // Assert
    expect(stateOf(subject)).toBe('requestingCode');
    expect(subject.getSnapshot().context).toMatchObject({ accountId: 456, phoneNumber: '+15550001111' });
    expect(api.requestCode.mock.calls[0]?.[0]).toEqual({
      accessToken: 'access-1',
      phoneNumber: '+15550001111',
    });
  });

  it('accepts the string form of a numeric accountId and keeps the server type', async () => {
    // Arrange
    const subject = start(stubApi());
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: '123' });

    // Assert
    expect(stateOf(subject)).toBe('requestingCode');
    expect(subject.getSnapshot().context.accountId).toBe(123);
  });

  it.each([
    ['an unknown accountId', 999, 'bad_response'],
    ['an accountId that is not a number or string', { id: 123 }, 'bad_response'],
    ['an identity without a verified phone number', 321, 'no_phone_number'],
    ['an identity that is not ACTIVE', 789, 'no_permission'],
  ])('refuses %s and stays in selectingIdentity', async (_, accountId, kind) => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice, bob, invited, phoneless]);
    const subject = start(api);
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: accountId as number });

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context.error?.kind).toBe(kind);
    expect(subject.getSnapshot().context.accountId).toBeNull();
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('never picks one of two identities that share an accountId', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice, { ...bob, accountId: 123 }]);
    const subject = start(api);
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: 123 });

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context.error?.kind).toBe('bad_response');
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('signs out on auth.logout, clearing the tokens and identities', async () => {
    // Arrange
    const subject = start(stubApi());
    await toSelectingIdentity(subject);

    // Act
    subject.send({ type: 'auth.logout' });

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      identities: [],
    });
  });
});

describe('mrkterMachine: requesting the SMS code', () => {
  it('waits for the code once the SMS is sent, with the resend cooldown from now', async () => {
    // Arrange
    const subject = start(stubApi(), { ...exact, resendCooldownMs: 45_000 });

    // Act
    await toAwaitingCode(subject);

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().hasTag('busy')).toBe(false);
    expect(subject.getSnapshot().context.resendAvailableAt).toBe(NOW.getTime() + 45_000);
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('goes back to selectingIdentity with the error and keeps the tokens when the first SMS fails', async () => {
    // Arrange
    const api = stubApi();
    api.requestCode.mockRejectedValueOnce(new AuthError('server', { status: 503 }));
    const subject = start(api);

    // Act
    await toAwaitingCode(subject);

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      resendAvailableAt: null,
      error: { kind: 'server', status: 503 },
    });
    expect(api.login).toHaveBeenCalledTimes(1);
  });

  it('lets the user try again without the password after a failed SMS', async () => {
    // Arrange
    const api = stubApi();
    api.requestCode.mockRejectedValueOnce(new AuthError('network'));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'identity.select', accountId: 123 });
    await flush();

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(api.requestCode).toHaveBeenCalledTimes(2);
    expect(api.login).toHaveBeenCalledTimes(1);
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('aborts the SMS request on auth.logout', async () => {
    // Arrange
    const api = stubApi();
    const sms = deferred<void>();
    api.requestCode.mockReturnValue(sms.promise);
    const subject = start(api);
    await toSelectingIdentity(subject);
    subject.send({ type: 'identity.select', accountId: 123 });

    // Act
    subject.send({ type: 'auth.logout' });
    sms.resolve();
    await flush();

    // Assert
    expect(api.requestCode.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      accountId: null,
      phoneNumber: null,
      accessToken: null,
    });
  });
});

describe('mrkterMachine: awaiting the code', () => {
  it('accepts code.resend only after the cooldown has passed', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.resend' });
    await vi.advanceTimersByTimeAsync(29_999);
    const early = stateOf(subject);
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(early).toEqual({ awaitingCode: 'coolingDown' });
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(api.requestCode).toHaveBeenCalledTimes(1);
  });

  it('sends a new SMS on code.resend once ready and restarts the cooldown', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(30_000);

    // Act
    subject.send({ type: 'code.resend' });
    const during = stateOf(subject);
    await flush();

    // Assert
    expect(during).toBe('requestingCode');
    expect(api.requestCode).toHaveBeenCalledTimes(2);
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.resendAvailableAt).toBe(NOW.getTime() + 60_000);
  });

  it('returns to awaitingCode with the error when a resend fails, and lets the sent code still be entered', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(30_000);
    api.requestCode.mockRejectedValueOnce(new AuthError('network'));

    // Act
    subject.send({ type: 'code.resend' });
    await flush();

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(subject.getSnapshot().context.error?.kind).toBe('network');
    expect(subject.getSnapshot().context.accountId).toBe(123);
  });

  it("counts down the server's wait after a 429 on resend", async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(30_000);
    api.requestCode.mockRejectedValueOnce(
      new AuthError('rate_limited', { status: 429, retryAfterMs: 120_000 }),
    );

    // Act
    subject.send({ type: 'code.resend' });
    await flush();
    const afterRefusal = stateOf(subject);
    await vi.advanceTimersByTimeAsync(119_999);
    const beforeWaitEnds = stateOf(subject);
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(subject.getSnapshot().context.error).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 120_000,
    });
    expect(subject.getSnapshot().context.resendAvailableAt).toBe(NOW.getTime() + 30_000 + 120_000);
    expect(afterRefusal).toEqual({ awaitingCode: 'coolingDown' });
    expect(beforeWaitEnds).toEqual({ awaitingCode: 'coolingDown' });
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
  });

  it('submits the code to verifyCode with the access token and accountId, and keeps it out of context', async () => {
    // Arrange
    const api = stubApi();
    const verify = deferred<{ sessionId: string }>();
    api.verifyCode.mockReturnValue(verify.promise);
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: CODE });

    // Assert
    expect(stateOf(subject)).toBe('verifyingCode');
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    const [input] = api.verifyCode.mock.calls[0] ?? [];
    expect(input?.accessToken).toBe('access-1');
    expect(input?.accountId).toBe(123);
    expect(input?.code).toBe(CODE);
    expect(JSON.stringify(subject.getSnapshot().context)).not.toContain(CODE);
  });

  it('goes back to selectingIdentity on identity.change when there are several identities', async () => {
    // Arrange
    const subject = start(stubApi());
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'identity.change' });

    // Assert
    expect(stateOf(subject)).toBe('selectingIdentity');
    expect(subject.getSnapshot().context).toMatchObject({
      accountId: null,
      phoneNumber: null,
      codeAttempts: 0,
      resendAvailableAt: null,
      accessToken: 'access-1',
    });
  });

  it('ignores identity.change when there is only one identity', async () => {
    // Arrange
    const api = stubApi();
    api.loadIdentities.mockResolvedValue([alice]);
    const subject = start(api);
    await toSelectingIdentity(subject);
    await flush();

    // Act
    subject.send({ type: 'identity.change' });

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.accountId).toBe(123);
  });

  it('signs out on auth.logout, clearing everything session-related', async () => {
    // Arrange
    const subject = start(stubApi());
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'auth.logout' });
    await vi.advanceTimersByTimeAsync(60_000);

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      identities: [],
      accountId: null,
      phoneNumber: null,
      resendAvailableAt: null,
      error: null,
    });
  });
});

describe('mrkterMachine: verifying the code', () => {
  it('signs in with the session id when the code is right', async () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    await toSignedIn(subject);

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      sessionId: 'session-1',
      accountId: 123,
      accessToken: 'access-1',
      codeAttempts: 0,
      error: null,
    });
  });

  it('returns to awaitingCode with invalid_code and counts the attempt, never resubmitting by itself', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code', { status: 400 }));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: '000000' });
    await vi.advanceTimersByTimeAsync(10_000);

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.error?.kind).toBe('invalid_code');
    expect(subject.getSnapshot().context.codeAttempts).toBe(1);
    expect(api.verifyCode).toHaveBeenCalledTimes(1);
  });

  it('returns straight to resendReady after a wrong code once the cooldown has passed', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code'));
    const subject = start(api);
    await toAwaitingCode(subject);
    await vi.advanceTimersByTimeAsync(31_000);

    // Act
    subject.send({ type: 'code.submit', code: '000000' });
    await flush();

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
  });

  it('ends the flow in signedOut with too_many_attempts at the maxCodeAttempts-th wrong code', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code'));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    for (const code of ['000001', '000002', '000003']) {
      subject.send({ type: 'code.submit', code });
      await flush();
    }
    subject.send({ type: 'code.submit', code: '000004' });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      error: { kind: 'too_many_attempts' },
      accessToken: null,
      refreshToken: null,
      identities: [],
      accountId: null,
      codeAttempts: 0,
      resendAvailableAt: null,
    });
    expect(api.verifyCode).toHaveBeenCalledTimes(3);
  });

  it('honours maxCodeAttempts from input', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('invalid_code'));
    const subject = start(api, { ...exact, maxCodeAttempts: 1 });
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: '000000' });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('too_many_attempts');
  });

  it('signs out with session_expired when the server refuses the access token', async () => {
    // Arrange
    const api = stubApi();
    api.verifyCode.mockRejectedValue(new AuthError('session_expired', { status: 401 }));
    const subject = start(api);
    await toAwaitingCode(subject);

    // Act
    subject.send({ type: 'code.submit', code: CODE });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toMatchObject({ kind: 'session_expired', status: 401 });
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it.each(['network', 'timeout', 'server', 'rate_limited'] as const)(
    'returns to awaitingCode with a %s error without counting the attempt',
    async (kind) => {
      // Arrange
      const api = stubApi();
      api.verifyCode.mockRejectedValue(new AuthError(kind));
      const subject = start(api);
      await toAwaitingCode(subject);

      // Act
      subject.send({ type: 'code.submit', code: CODE });
      await vi.advanceTimersByTimeAsync(5_000);

      // Assert
      expect(stateOf(subject)).toEqual({ awaitingCode: 'coolingDown' });
      expect(subject.getSnapshot().context.error?.kind).toBe(kind);
      expect(subject.getSnapshot().context.codeAttempts).toBe(0);
      expect(api.verifyCode).toHaveBeenCalledTimes(1);
    },
  );

  it('aborts the verification on auth.logout and ignores its late answer', async () => {
    // Arrange
    const api = stubApi();
    const verify = deferred<{ sessionId: string }>();
    api.verifyCode.mockReturnValue(verify.promise);
    const subject = start(api);
    await toAwaitingCode(subject);
    subject.send({ type: 'code.submit', code: CODE });

    // Act
    subject.send({ type: 'auth.logout' });
    verify.resolve({ sessionId: 'late' });
    await flush();

    // Assert
    expect(api.verifyCode.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.sessionId).toBeNull();
  });
});

describe('mrkterMachine: signed in', () => {
  it('refreshes refreshLeewayMs before the access token expires, and not earlier', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    await vi.advanceTimersByTimeAsync(HOUR - 60_000 - 1);
    const before = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(before).toBe(0);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    expect(api.refreshTokens.mock.calls[0]?.[0]).toEqual({ refreshToken: 'refresh-1' });
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-2',
      refreshToken: 'refresh-2',
    });
  });

  it('spreads refreshes with a random advance of at most min(refreshJitterMs, lifetime / 10)', async () => {
    // Arrange
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const subject = start(stubApi(), {});

    // Act
    await toSignedIn(subject);

    // Assert
    expect(subject.getSnapshot().context.refreshAt).toBe(NOW.getTime() + HOUR - 60_000 - 30_000);
  });

  it('assumes accessTokenTtlMs when the token answer carries no expiry', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockResolvedValue(tokenSet('access-1', 'refresh-1', null));
    const subject = start(api, { ...exact, accessTokenTtlMs: 10 * 60_000 });

    // Act
    await toSignedIn(subject);

    // Assert
    expect(subject.getSnapshot().context.accessTokenExpiresAt).toBe(NOW.getTime() + 10 * 60_000);
    expect(subject.getSnapshot().context.refreshAt).toBe(NOW.getTime() + 9 * 60_000);
  });

  it('refreshes a token that lives shorter than the leeway at half its lifetime, not at once', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockResolvedValue(tokenSet('access-1', 'refresh-1', 30_000));
    const subject = start(api);

    // Act
    await toSignedIn(subject);

    // Assert
    expect(subject.getSnapshot().context.refreshAt).toBe(NOW.getTime() + 15_000);
    expect(api.refreshTokens).not.toHaveBeenCalled();
  });

  it('refreshes at once on auth.refresh', async () => {
    // Arrange
    const api = stubApi();
    const refresh = deferred<TokenSet>();
    api.refreshTokens.mockReturnValue(refresh.promise);
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    subject.send({ type: 'auth.refresh' });

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'refreshing' });
    expect(subject.getSnapshot().hasTag('busy')).toBe(true);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });

  it('refreshes on auth.tokenRejected for the current token only', async () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    subject.send({ type: 'auth.tokenRejected', accessToken: 'an-older-token' });
    const afterStale = stateOf(subject);
    subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });
    const afterCurrent = stateOf(subject);
    await flush();

    // Assert
    expect(afterStale).toEqual({ signedIn: 'active' });
    expect(afterCurrent).toEqual({ signedIn: 'refreshing' });
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    expect(subject.getSnapshot().context.accessToken).toBe('access-2');
  });

  it('runs one refresh at a time, ignoring auth.refresh, auth.tokenRejected and auth.resume meanwhile', async () => {
    // Arrange
    const api = stubApi();
    const refresh = deferred<TokenSet>();
    api.refreshTokens.mockReturnValue(refresh.promise);
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });

    // Act
    subject.send({ type: 'auth.refresh' });
    subject.send({ type: 'auth.tokenRejected', accessToken: 'access-1' });
    subject.send({ type: 'auth.resume' });
    refresh.resolve(tokenSet('access-2', 'refresh-2'));
    await flush();

    // Assert
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    expect(api.refreshTokens.mock.calls[0]?.[1].aborted).toBe(false);
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
  });

  it('uses only the rotated refresh token afterwards, and keeps the old one when none comes back', async () => {
    // Arrange
    const api = stubApi();
    api.refreshTokens
      .mockResolvedValueOnce(tokenSet('access-2', 'refresh-2'))
      .mockResolvedValueOnce(tokenSet('access-3', null))
      .mockResolvedValueOnce(tokenSet('access-4', null));
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    for (let i = 0; i < 3; i++) {
      subject.send({ type: 'auth.refresh' });
      await flush();
    }

    // Assert
    expect(api.refreshTokens.mock.calls.map(([input]) => input.refreshToken)).toEqual([
      'refresh-1',
      'refresh-2',
      'refresh-2',
    ]);
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-4',
      refreshToken: 'refresh-2',
    });
  });

  it('backs off after a retryable refresh failure and retries by itself', async () => {
    // Arrange
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const api = stubApi();
    api.refreshTokens
      .mockRejectedValueOnce(new AuthError('network'))
      .mockRejectedValueOnce(new AuthError('server', { status: 503 }))
      .mockResolvedValueOnce(tokenSet('access-2', 'refresh-2'));
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    subject.send({ type: 'auth.refresh' });
    await flush();
    const first = { state: stateOf(subject), context: subject.getSnapshot().context };
    await vi.advanceTimersByTimeAsync(999);
    const callsBeforeFirstRetry = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1);
    const second = { state: stateOf(subject), context: subject.getSnapshot().context };
    await vi.advanceTimersByTimeAsync(1999);
    const callsBeforeSecondRetry = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(first.state).toEqual({ signedIn: 'backingOff' });
    expect(first.context).toMatchObject({
      refreshAttempts: 1,
      error: { kind: 'network' },
      accessToken: 'access-1',
    });
    expect(callsBeforeFirstRetry).toBe(1);
    expect(second.state).toEqual({ signedIn: 'backingOff' });
    expect(second.context).toMatchObject({ refreshAttempts: 2, error: { kind: 'server', status: 503 } });
    expect(callsBeforeSecondRetry).toBe(2);
    expect(api.refreshTokens).toHaveBeenCalledTimes(3);
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      refreshAttempts: 0,
      error: null,
      accessToken: 'access-2',
    });
  });

  it('caps the backoff at 30 s and waits at least the Retry-After the server sent', async () => {
    // Arrange
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const api = stubApi();
    api.refreshTokens.mockRejectedValue(new AuthError('network'));
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });
    await flush();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    // Measured right after a failure, when the retry has just been planned.
    subject.send({ type: 'auth.refresh' });
    await flush();
    const cappedAt = subject.getSnapshot().context.refreshAt! - Date.now();
    api.refreshTokens.mockRejectedValue(new AuthError('rate_limited', { status: 429, retryAfterMs: 90_000 }));

    // Act
    subject.send({ type: 'auth.refresh' });
    await flush();

    // Assert
    expect(cappedAt).toBe(30_000);
    expect(subject.getSnapshot().context.refreshAt! - Date.now()).toBe(90_000);
    const calls = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(89_999);
    expect(api.refreshTokens.mock.calls.length).toBe(calls);
  });

  it('retries at once on auth.refresh while backing off', async () => {
    // Arrange
    const api = stubApi();
    api.refreshTokens.mockRejectedValueOnce(new AuthError('timeout'));
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });
    await flush();

    // Act
    subject.send({ type: 'auth.refresh' });
    await flush();

    // Assert
    expect(api.refreshTokens).toHaveBeenCalledTimes(2);
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
  });

  it('ends in sessionExpired with the tokens cleared when the refresh is refused', async () => {
    // Arrange
    const api = stubApi();
    api.refreshTokens.mockRejectedValue(new AuthError('session_expired', { status: 403 }));
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    subject.send({ type: 'auth.refresh' });
    await vi.advanceTimersByTimeAsync(HOUR);

    // Assert
    expect(stateOf(subject)).toBe('sessionExpired');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      sessionId: null,
      accountId: null,
      error: { kind: 'session_expired', status: 403 },
    });
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });

  it('reports any other non-retryable refresh failure as session_expired', async () => {
    // Arrange
    const api = stubApi();
    api.refreshTokens.mockRejectedValue(new AuthError('bad_response'));
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    subject.send({ type: 'auth.refresh' });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe('sessionExpired');
    expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
  });

  it('ends the session instead of looping when a refresh returns an already expired token', async () => {
    // Arrange
    const api = stubApi();
    api.refreshTokens.mockResolvedValue(tokenSet('access-2', 'refresh-2', -1000));
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    subject.send({ type: 'auth.refresh' });
    await vi.advanceTimersByTimeAsync(60_000);

    // Assert
    expect(stateOf(subject)).toBe('sessionExpired');
    expect(subject.getSnapshot().context.error?.kind).toBe('session_expired');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });

  it('aborts an in-flight refresh on auth.logout and ignores its late answer', async () => {
    // Arrange
    const api = stubApi();
    const refresh = deferred<TokenSet>();
    api.refreshTokens.mockReturnValue(refresh.promise);
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });

    // Act
    subject.send({ type: 'auth.logout' });
    refresh.resolve(tokenSet('late-access', 'late-refresh'));
    await vi.advanceTimersByTimeAsync(2 * HOUR);

    // Assert
    expect(api.refreshTokens.mock.calls[0]?.[1].aborted).toBe(true);
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: null,
      refreshToken: null,
      sessionId: null,
      accountId: null,
      phoneNumber: null,
      identities: [],
      error: null,
    });
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });

  it.each(['active', 'backingOff'] as const)('signs out on auth.logout from %s', async (child) => {
    // Arrange
    const api = stubApi();
    api.refreshTokens.mockRejectedValue(new AuthError('network'));
    const subject = start(api);
    await toSignedIn(subject);
    if (child === 'backingOff') {
      subject.send({ type: 'auth.refresh' });
      await flush();
    }
    const from = stateOf(subject);

    // Act
    subject.send({ type: 'auth.logout' });
    await vi.advanceTimersByTimeAsync(2 * HOUR);

    // Assert
    expect(from).toEqual({ signedIn: child });
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.accessToken).toBeNull();
  });

  it('clamps the refresh delay: a token expiring in 40 days is not refreshed at once', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockResolvedValue(tokenSet('access-1', 'refresh-1', 40 * 24 * HOUR));
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    await vi.advanceTimersByTimeAsync(60_000);
    const soon = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);

    // Assert
    expect(soon).toBe(0);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });
});

describe('mrkterMachine: after the session expired', () => {
  async function toSessionExpired(api: ReturnType<typeof stubApi>) {
    api.refreshTokens.mockRejectedValueOnce(new AuthError('session_expired'));
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });
    await flush();
    return subject;
  }

  it('signs in again with auth.login', async () => {
    // Arrange
    const api = stubApi();
    const subject = await toSessionExpired(api);

    // Act
    await toSignedIn(subject);

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(api.login).toHaveBeenCalledTimes(2);
    expect(subject.getSnapshot().context.error).toBeNull();
  });

  it('goes to signedOut with no error on auth.logout', async () => {
    // Arrange
    const subject = await toSessionExpired(stubApi());

    // Act
    subject.send({ type: 'auth.logout' });

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context.error).toBeNull();
  });
});

describe('mrkterMachine: secrets and persisted snapshots', () => {
  it('keeps the password and the SMS code out of context and persisted snapshots', async () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    await toSelectingIdentity(subject);
    const afterLogin = JSON.stringify(subject.getPersistedSnapshot());
    const contextAfterLogin = JSON.stringify(subject.getSnapshot().context);
    subject.send({ type: 'identity.select', accountId: 123 });
    await flush();
    subject.send({ type: 'code.submit', code: CODE });
    await flush();
    const afterMfa = JSON.stringify(subject.getPersistedSnapshot());

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    for (const text of [
      afterLogin,
      contextAfterLogin,
      afterMfa,
      JSON.stringify(subject.getSnapshot().context),
    ]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(CODE);
    }
  });

  it('keeps the password and the code out of snapshots taken while they are being sent', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockReturnValue(new Promise(() => {}));
    const signingIn = start(api);
    const verifyingApi = stubApi();
    verifyingApi.verifyCode.mockReturnValue(new Promise(() => {}));
    const verifying = start(verifyingApi);
    await toAwaitingCode(verifying);

    // Act
    signingIn.send({ type: 'auth.login', username: 'alice', password: PASSWORD });
    verifying.send({ type: 'code.submit', code: CODE });
    const snapshots = [signingIn, verifying].map((subject) => JSON.stringify(subject.getPersistedSnapshot()));

    // Assert
    expect(stateOf(signingIn)).toBe('authenticating');
    expect(stateOf(verifying)).toBe('verifyingCode');
    for (const text of snapshots) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(CODE);
    }
  });

  it('never resubmits a code when a snapshot taken during verification is restored', async () => {
    // Arrange
    const first = stubApi();
    first.verifyCode.mockReturnValue(new Promise(() => {}));
    const original = start(first);
    await toAwaitingCode(original);
    original.send({ type: 'code.submit', code: CODE });
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = {
      verifyCode: vi.fn(async () => ({ sessionId: 'session-x' })),
    } as unknown as MrkterApi;

    // Act
    const subject = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), {
      snapshot: stored,
      inspect: record,
    }).start();
    await flush();

    // Assert
    expect(api.verifyCode).not.toHaveBeenCalled();
    expect(subject.getSnapshot().value).toEqual({ awaitingCode: 'coolingDown' });
    expect(subject.getSnapshot().context.error?.kind).toBe('aborted');
    expect(subject.getSnapshot().context.codeAttempts).toBe(0);
  });

  it('resumes at awaitingCode after a restore without a new SMS, with the cooldown re-armed', async () => {
    // Arrange
    const first = stubApi();
    const original = start(first);
    await toAwaitingCode(original);
    await vi.advanceTimersByTimeAsync(10_000);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(19_999);
    const beforeCooldownEnds = stateOf(subject);
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(api.requestCode).not.toHaveBeenCalled();
    expect(beforeCooldownEnds).toEqual({ awaitingCode: 'coolingDown' });
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(subject.getSnapshot().context).toMatchObject({ accountId: 123, accessToken: 'access-1' });
  });

  it('resumes straight at resendReady when the cooldown passed while the snapshot was stored', async () => {
    // Arrange
    const original = start(stubApi());
    await toAwaitingCode(original);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });

    // Assert
    expect(stateOf(subject)).toEqual({ awaitingCode: 'resendReady' });
    expect(api.requestCode).not.toHaveBeenCalled();
  });

  it('resumes a signed-in session and refreshes it when refreshAt comes', async () => {
    // Arrange
    const original = start(stubApi());
    await toSignedIn(original);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(HOUR - 60_000 - 1);
    const before = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(before).toBe(0);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({ sessionId: 'session-1', accessToken: 'access-2' });
  });

  it('refreshes exactly once, at once, when a restored session is already past refreshAt', async () => {
    // Arrange
    const original = start(stubApi());
    await toSignedIn(original);
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await flush();

    // Assert
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context.accessToken).toBe('access-2');
  });

  it('keeps the planned retry time when a session restored while backing off is resumed', async () => {
    // Arrange
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const first = stubApi();
    first.refreshTokens.mockRejectedValueOnce(new AuthError('network'));
    const original = start(first);
    await toSignedIn(original);
    original.send({ type: 'auth.refresh' });
    await flush();
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();
    const api = stubApi();
    const subject = start(api, exact, stored);

    // Act
    subject.send({ type: 'auth.resume' });
    await vi.advanceTimersByTimeAsync(999);
    const before = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    // Assert
    expect(before).toBe(0);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['selectingIdentity', toSelectingIdentity],
    ['signedOut', async () => {}],
  ] as const)('does not answer auth.resume in %s', async (state, drive) => {
    // Arrange
    const api = stubApi();
    const subject = start(api);
    await drive(subject);

    // Act
    subject.send({ type: 'auth.resume' });
    await flush();

    // Assert
    expect(stateOf(subject)).toBe(state);
  });
});

describe('mrkterActors', () => {
  it('passes exactly the inputs and the abort signal to the service', async () => {
    // Arrange
    const tokens = tokenSet('a', 'r');
    const api = {
      login: vi.fn(async () => tokens),
      loadIdentities: vi.fn(async () => [alice]),
      requestCode: vi.fn(async () => {}),
      verifyCode: vi.fn(async () => ({ sessionId: 's' })),
      refreshTokens: vi.fn(async () => tokens),
    } as unknown as MrkterApi & Record<string, ReturnType<typeof vi.fn>>;
    const actors = mrkterActors(api);
    const run = async (logic: unknown, input: unknown) => {
      const actor = createActor(logic as typeof actors.login, { input: input as never }).start();
      await flush();
      return actor.getSnapshot().output;
    };

    // Act
    const outputs = [
      await run(actors.login, { username: 'u', password: 'p' }),
      await run(actors.loadIdentities, { accessToken: 'a' }),
      await run(actors.requestCode, { accessToken: 'a', phoneNumber: '+1' }),
      await run(actors.verifyCode, { accessToken: 'a', accountId: 1, code: 'c' }),
      await run(actors.refreshTokens, { refreshToken: 'r' }),
    ];

    // Assert
    expect(outputs).toEqual([tokens, [alice], undefined, { sessionId: 's' }, tokens]);
    expect(api.login).toHaveBeenCalledWith(
      { username: 'u', password: 'p' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.loadIdentities).toHaveBeenCalledWith(
      { accessToken: 'a' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.requestCode).toHaveBeenCalledWith(
      { accessToken: 'a', phoneNumber: '+1' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.verifyCode).toHaveBeenCalledWith(
      { accessToken: 'a', accountId: 1, code: 'c' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.refreshTokens).toHaveBeenCalledWith(
      { refreshToken: 'r' },
      { signal: expect.any(AbortSignal) },
    );
  });

  it('does not call the refresh endpoint without a refresh token', async () => {
    // Arrange
    const api = { refreshTokens: vi.fn() } as unknown as MrkterApi;
    const actor = createActor(mrkterActors(api).refreshTokens, { input: { refreshToken: '' } });
    actor.subscribe({ error: () => {} });

    // Act
    actor.start();
    await flush();

    // Assert
    expect(api.refreshTokens).not.toHaveBeenCalled();
    expect((actor.getSnapshot().error as AuthError).kind).toBe('session_expired');
  });
});

describe('mrkterMachine: a session shared with other holders', () => {
  const shared = (accessToken: string, extra: Partial<SharedSession> = {}): SharedSession => ({
    accessToken,
    refreshToken: `refresh-of-${accessToken}`,
    accessTokenExpiresAt: Date.now() + HOUR,
    refreshTokenExpiresAt: null,
    issuedAt: Date.now(),
    clockSkewMs: 0,
    accountId: 456,
    sessionId: 'session-shared',
    ...extra,
  });

  it("starts signed in from another holder's session, with its account and session ids, without a request", () => {
    // Arrange
    const api = stubApi();
    const subject = start(api);

    // Act
    subject.send({ type: 'session.updated', session: shared('access-shared') });

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context).toMatchObject({
      accessToken: 'access-shared',
      refreshToken: 'refresh-of-access-shared',
      accountId: 456,
      sessionId: 'session-shared',
      error: null,
    });
    expect(api.login).not.toHaveBeenCalled();
  });

  it('refuses a shared session without the account and session ids every request needs', () => {
    // Arrange
    const subject = start(stubApi());

    // Act
    subject.send({ type: 'session.updated', session: shared('access-shared', { sessionId: null }) });
    subject.send({ type: 'session.updated', session: shared('access-shared', { accountId: null }) });

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
  });

  it("takes another holder's refreshed tokens while signed in, and aborts its own refresh", async () => {
    // Arrange
    const api = stubApi();
    const pending = deferred<TokenSet>();
    api.refreshTokens.mockImplementation(() => pending.promise);
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });
    const signal = api.refreshTokens.mock.calls[0]?.[1];

    // Act
    subject.send({ type: 'session.updated', session: shared('access-other') });

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
    expect(subject.getSnapshot().context.accessToken).toBe('access-other');
    expect(signal?.aborted).toBe(true);
  });

  it('ignores a notice of the tokens it already has', async () => {
    // Arrange
    const subject = start(stubApi());
    await toSignedIn(subject);
    const before = subject.getSnapshot().context;

    // Act
    subject.send({ type: 'session.updated', session: shared('access-1') });

    // Assert
    expect(subject.getSnapshot().context).toEqual(before);
  });

  it('signs out when another holder signs out, saying so in the error', async () => {
    // Arrange
    const subject = start(stubApi());
    await toSignedIn(subject);

    // Act
    subject.send({ type: 'session.ended' });

    // Assert
    expect(stateOf(subject)).toBe('signedOut');
    expect(subject.getSnapshot().context).toMatchObject({ accessToken: null, sessionId: null });
    expect(subject.getSnapshot().context.error?.kind).toBe('signed_out');
  });

  it('leaves sessionExpired for a session another holder still has', async () => {
    // Arrange
    const api = stubApi();
    api.refreshTokens.mockRejectedValue(new AuthError('session_expired'));
    const subject = start(api);
    await toSignedIn(subject);
    subject.send({ type: 'auth.refresh' });
    await flush();
    expect(stateOf(subject)).toBe('sessionExpired');

    // Act
    subject.send({ type: 'session.updated', session: shared('access-other') });

    // Assert
    expect(stateOf(subject)).toEqual({ signedIn: 'active' });
  });
});

describe('mrkterMachine: coverage', () => {
  // Runs last: it reads what every test above recorded through `inspect`.
  it('takes every transition of the machine somewhere in this suite', (context) => {
    // Arrange
    // Run on its own (a -t filter), nothing was recorded: there is nothing to judge.
    if (taken.size === 0) context.skip();
    const all: string[] = [];
    const walk = (node: AnyStateNode) => {
      const lists = [...node.transitions.values(), node.always ?? []];
      for (const list of lists) for (const [i, t] of list.entries()) all.push(transitionKey(t, i));
      for (const child of Object.values(node.states)) walk(child);
    };

    // Act
    walk(mrkterMachine.root);

    // Assert
    expect(all.length).toBeGreaterThan(40);
    expect(all.filter((key) => !taken.has(key))).toEqual([]);
  });
});
