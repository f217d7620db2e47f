/**
 * docs/reliability.md, Lifecycle (L1–L7): logout and stop with work in flight, restoring persisted sessions,
 * a day of refreshes and a sleeping laptop. Real services over loopback, except L6, a pure machine
 * test with stub actors on fake timers (a day of real time cannot pass in a test).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { createUnrefClock } from '../../src/clock.js';
import { toAuthError } from '../../src/errors.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { restoreActor } from '../../src/restore.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import type { MarketigerApi, MrkterIdentity, TokenSet } from '../../src/services/types.js';
import { marketigerRoutes } from '../../src/testing/marketigerSimulator.js';
import {
  defer,
  demo,
  expectIdle,
  HOUR,
  marketiger,
  marketigerActor,
  mrkterRefreshes,
  projectsPath,
  runCleanups,
  settle,
  signedInMarketiger,
  signedInMrkter,
  until,
  untilAnswered,
  untilRequests,
} from './helpers.js';

const { refreshToken: REFRESH, getProjects: PROJECTS } = marketigerRoutes;
/** L2's safety net for the child process (starting Node with tsx takes seconds on busy cores). */
const CHILD_LIMIT_MS = 20_000;

afterEach(async () => {
  vi.useRealTimers();
  await runCleanups();
});

/** The Marketiger service with its refresh outcomes recorded (the real call, observed). */
function observedRefresh(api: MarketigerApi) {
  const outcomes: string[] = [];
  const observed: MarketigerApi = {
    ...api,
    baseURL: api.baseURL,
    refreshTokens: (input, options) => {
      const call = api.refreshTokens(input, options);
      call.then(
        () => outcomes.push('resolved'),
        (error: unknown) => outcomes.push(toAuthError(error).kind),
      );
      return call;
    },
  };
  return { observed, outcomes };
}

/** A persisted snapshot as an app stores it: plain JSON. */
const stored = (snapshot: unknown) => JSON.parse(JSON.stringify(snapshot));

describe('Lifecycle', () => {
  it('L1: a logout during an in-flight refresh aborts it, ignores its late answer and stays signed out', async () => {
    // arrange
    const { sim, api } = await marketiger();
    const { observed, outcomes } = observedRefresh(api);
    const subject = marketigerActor(observed);
    subject.send({ type: 'auth.login', ...demo });
    await settle(subject, (s) => s.matches({ signedIn: 'active' }));
    sim.injectFault(REFRESH, { kind: 'latency', ms: 300, times: 1 });
    subject.send({ type: 'auth.refresh' });
    await untilRequests(sim, REFRESH, 1); // the refresh is in flight: the server holds it 300 ms
    let changes = 0;
    subject.subscribe(() => changes++);

    // act
    subject.send({ type: 'auth.logout' });
    const afterLogout = changes;
    // the aborted call settles, and the server sends its late answer (into a closed connection)
    await until(() => outcomes.length > 0, 'the refresh call to settle');
    await untilAnswered(sim, REFRESH, 200);

    // assert
    expectIdle(subject);
    expect(outcomes).toEqual(['aborted']);
    expect(subject.getSnapshot().matches('signedOut')).toBe(true);
    expect(subject.getSnapshot().context.accessToken).toBeNull();
    expect(subject.getSnapshot().context.refreshToken).toBeNull();
    expect(changes).toBe(afterLogout);
  });

  it('L2: stop() with a pending timer and a request in flight clears the timer, aborts the request, sends no event after stop, and Node exits', async () => {
    // arrange: the refresh route never answers
    const { sim } = await marketiger({ faults: { [REFRESH]: { kind: 'hang' } } });
    const script = fileURLToPath(new URL('./fixtures/stopInFlight.ts', import.meta.url));

    // act
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', script, sim.baseURL], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    defer(() => child.exitCode === null && child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // the child stops its actor once its refresh has reached the simulator (which never answers it)
    untilRequests(sim, REFRESH, 1, CHILD_LIMIT_MS).then(
      () => child.stdin.end('refresh arrived\n'),
      () => child.stdin.end(),
    );
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), CHILD_LIMIT_MS);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    const exitMs = performance.now() - started;

    // assert
    expect(code, `the child did not exit by itself: ${stderr}`).toBe(0);
    expect(exitMs).toBeLessThan(CHILD_LIMIT_MS);
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      inFlight: true,
      refreshOutcome: 'aborted',
      eventsAfterStop: 0,
      status: 'stopped',
    });
    expect(sim.refreshCount).toBe(1);
  }, 40_000); // twice the child's limit

  it('L3: restoring a session whose access token expired (refresh token valid) refreshes exactly once and re-arms the timers from the new expiry', async () => {
    // arrange: a session saved, and two hours later (both clocks) restored
    vi.useFakeTimers({ toFake: ['Date'] });
    const { sim, api, actor } = await signedInMarketiger();
    const {
      sim: msim,
      api: mapi,
      actor: mactor,
    } = await signedInMrkter({ sim: { accessTokenTtlSeconds: 3600 } });
    const saved = stored(actor.getPersistedSnapshot());
    const msaved = stored(mactor.getPersistedSnapshot());
    actor.stop();
    mactor.stop();
    vi.setSystemTime(Date.now() + 2 * HOUR);

    // act
    const subject = restoreActor(marketigerMachine.provide({ actors: marketigerActors(api) }), saved, {
      clock: createUnrefClock(),
    });
    const mrkterSubject = restoreActor(mrkterMachine.provide({ actors: mrkterActors(mapi) }), msaved, {
      clock: createUnrefClock(),
    });
    defer(() => subject.stop());
    defer(() => mrkterSubject.stop());
    await settle(
      subject,
      (s) => s.matches({ signedIn: 'active' }) && s.context.accessToken !== saved.context.accessToken,
    );
    await settle(
      mrkterSubject,
      (s) => s.matches({ signedIn: 'active' }) && s.context.accessToken !== msaved.context.accessToken,
    );

    // assert: nothing is in flight and no refresh is due for a long while, so the counts are final
    expectIdle(subject, { timersBeyondMs: 30 * 60_000 });
    expectIdle(mrkterSubject, { timersBeyondMs: 30 * 60_000 });
    expect(sim.refreshCount).toBe(1);
    expect(mrkterRefreshes(msim)).toHaveLength(1);
    for (const { context } of [subject.getSnapshot(), mrkterSubject.getSnapshot()]) {
      expect(context.accessTokenExpiresAt!).toBeGreaterThan(Date.now());
      expect(context.refreshAt!).toBeGreaterThan(Date.now());
      expect(context.accessTokenExpiresAt! - context.refreshAt!).toBeGreaterThanOrEqual(60_000);
      expect(context.accessTokenExpiresAt! - context.refreshAt!).toBeLessThanOrEqual(120_000);
    }
  });

  it('L4: restoring a session whose refresh token expired ends in sessionExpired without calling the server', async () => {
    // arrange
    vi.useFakeTimers({ toFake: ['Date'] });
    const { sim, api, actor } = await signedInMarketiger();
    const saved = stored(actor.getPersistedSnapshot());
    actor.stop();
    vi.setSystemTime(Date.now() + 13 * HOUR);

    // act
    const subject = restoreActor(marketigerMachine.provide({ actors: marketigerActors(api) }), saved, {
      clock: createUnrefClock(),
    });
    defer(() => subject.stop());
    const expired = await settle(subject, (s) => s.matches('sessionExpired'));

    // assert: nothing is in flight or scheduled that could still call the server
    expectIdle(subject);
    expect(expired.context.error?.kind).toBe('session_expired');
    expect(expired.context.refreshToken).toBeNull();
    expect(sim.refreshCount).toBe(0);
  });

  it('L5: a corrupt or foreign snapshot starts signed out with a typed error, and never throws', async () => {
    // arrange
    const { sim, api, actor } = await signedInMarketiger();
    const { actor: mactor } = await signedInMrkter();
    const good = stored(actor.getPersistedSnapshot());
    const corrupt: [string, unknown][] = [
      ['text', 'not a snapshot'],
      ['number', 42],
      ['empty object', {}],
      ['array', []],
      ['unknown state', { ...good, value: 'nowhere' }],
      ['unknown child state', { ...good, value: { signedIn: 'flying' } }],
      ['context missing fields', { ...good, context: { accessToken: 'x' } }],
      ['context not an object', { ...good, context: 'x' }],
      ['stopped snapshot', { ...good, status: 'done' }],
      ['Mrkter session', stored(mactor.getPersistedSnapshot())],
    ];
    const machine = marketigerMachine.provide({ actors: marketigerActors(api) });

    for (const [name, persisted] of corrupt) {
      // act
      let subject: ReturnType<typeof restoreActor<typeof machine>> | undefined;
      expect(() => {
        subject = restoreActor(machine, persisted, { clock: createUnrefClock() });
      }, name).not.toThrow();
      defer(() => subject?.stop());

      // assert
      const snapshot = subject!.getSnapshot();
      expect(snapshot.matches('signedOut'), name).toBe(true);
      expect(snapshot.context.error?.kind, name).toBe('signed_out');
      expect(snapshot.context.accessToken, name).toBeNull();
      expectIdle(subject!); // nothing started that could still call the server
    }
    expect(sim.refreshCount).toBe(0);
  });

  it('L6: 24 hours on a fake clock with 1 h tokens take about 24 refreshes, with a constant number of timers', async () => {
    // arrange: stub actors answering at once, tokens that live one hour (rotated each time)
    vi.useFakeTimers();
    const issue = (n: number): TokenSet => ({
      accessToken: `access-${n}`,
      refreshToken: `refresh-${n}`,
      accessTokenExpiresAt: Date.now() + HOUR,
      clockSkewMs: 0,
    });
    let marketigerRefreshes = 0;
    let mrkterRefreshCount = 0;
    const identity: MrkterIdentity = { accountId: 1, status: 'ACTIVE', verifiedPhoneNumber: '+15550100' };
    const subject = createActor(
      marketigerMachine.provide({
        actors: {
          login: fromPromise(async () => issue(0)),
          refreshTokens: fromPromise(async () => issue(++marketigerRefreshes)),
        },
      }),
    ).start();
    const mrkterSubject = createActor(
      mrkterMachine.provide({
        actors: {
          login: fromPromise(async () => issue(0)),
          loadIdentities: fromPromise(async () => [identity]),
          requestCode: fromPromise<void, { accessToken: string; phoneNumber: string }>(async () => {}),
          verifyCode: fromPromise(async () => ({ sessionId: 'session' })),
          refreshTokens: fromPromise(async () => issue(++mrkterRefreshCount)),
        },
      }),
    ).start();
    defer(() => subject.stop());
    defer(() => mrkterSubject.stop());
    subject.send({ type: 'auth.login', email: 'a@b.c', password: 'p' });
    mrkterSubject.send({ type: 'auth.login', username: 'a@b.c', password: 'p' });
    await vi.advanceTimersByTimeAsync(0);
    mrkterSubject.send({ type: 'code.submit', code: '123456' });
    await vi.advanceTimersByTimeAsync(0);
    expect(subject.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
    expect(mrkterSubject.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
    const timers = new Set<number>([vi.getTimerCount()]);

    // act: a day, an hour at a time (minute steps, so every timer lands in between)
    for (let hour = 0; hour < 24; hour++) {
      for (let minute = 0; minute < 60; minute++) await vi.advanceTimersByTimeAsync(60_000);
      timers.add(vi.getTimerCount());
    }

    // assert
    for (const count of [marketigerRefreshes, mrkterRefreshCount]) {
      expect(count).toBeGreaterThanOrEqual(23);
      expect(count).toBeLessThanOrEqual(26);
    }
    expect([...timers]).toHaveLength(1);
    expect(subject.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
    expect(mrkterSubject.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
  });

  it('L7: after the clock jumps 2 h forward (a sleeping laptop), the next request notices and refreshes once', async () => {
    // arrange: the refresh timer (about an hour away on the real timers) has not fired; the clocks moved on
    vi.useFakeTimers({ toFake: ['Date'] });
    const { sim, actor, http } = await signedInMarketiger();
    const before = actor.getSnapshot().context.accessToken;
    vi.setSystemTime(Date.now() + 2 * HOUR);

    // act
    const responses = await Promise.all([http.get(projectsPath), http.get(projectsPath)]);

    // assert: the refresh is done and the next one is far off, so the counts are final
    expectIdle(actor, { timersBeyondMs: 30 * 60_000 });
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(sim.refreshCount).toBe(1);
    expect(sim.requestCount(PROJECTS)).toBe(2);
    expect(sim.log.filter((e) => e.route === PROJECTS && e.status === 401)).toHaveLength(0);
    expect(actor.getSnapshot().context.accessToken).not.toBe(before);
  });
});
