/**
 * Every generated path of both machines, replayed LIVE: the machines run with the real services
 * (`createMarketigerApi`/`createMrkterApi` + `marketigerActors`/`mrkterActors`) against the simulators
 * over loopback, one fresh simulator per path. Each done/error step is produced by the simulator:
 * wrong passwords and codes, revoked refresh tokens, and injected faults with the provider's own
 * status and body; `after` steps by advancing fake timers (see replay.ts for which timers are faked
 * and why). State is checked after every step.
 *
 * Produced by an injected answer rather than by the simulator's own rules (it has no option for
 * them): a token whose lifetime the path needs (24 h, or already expired), a 401/403 from an API
 * route, an empty identity list. Each is the provider's documented shape, sent over a real socket,
 * read by the real parser.
 *
 * Pure only (skipped here, run in pure.test.ts): paths with `loadIdentities ✓ none identities`. The
 * Mrkter service itself turns an empty identity list into the error `no_identities`, so the machine's
 * own guard for an empty list answering success is reached only with a custom actor.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AnyActorRef, createActor } from 'xstate';
import type { AuthError } from '../../src/errors.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import type { TokenSet } from '../../src/services/types.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MrkterSimulator,
  marketigerRoutes,
  mrkterRoutes,
  startMarketigerSimulator,
  startMrkterSimulator,
} from '../../src/testing/index.js';
import { type GeneratedPath, marketigerPaths, mrkterPaths, type PathStep } from '../../src/testing/paths.js';
import { MAX_TIMER_MS } from '../../src/time.js';
import {
  arrangeMarketigerAnswer,
  arrangeMrkterAnswer,
  JWT_SECRET,
  marketigerActorRoutes,
  mrkterActorRoutes,
  mrkterUserFor,
  mrkterUsers,
  type StepAnswer,
  wrongCode,
} from './answers.js';
import { actorOf, fakeStepClock, isAnswer, kindOf, realDelay, replay, type StepDriver } from './replay.js';

const DEFAULT_TIMEOUT_MS = 15_000;

const errorOf = (step: PathStep) => step.event['error'] as AuthError;
/** The answer an answer step asks for, as answers.ts takes it. */
const answerOf = (step: PathStep): StepAnswer => ({
  actor: actorOf(step),
  outcome: kindOf(step) === 'done' ? 'done' : 'error',
  label: step.label,
  output: step.event['output'],
  error: step.event['error'],
});
const entered = (path: GeneratedPath, index: number) =>
  JSON.stringify(index === 0 ? path.initialState : path.steps[index - 1]?.state) !==
  JSON.stringify(path.steps[index]?.state);

/** A path whose timer fires while a request is in flight needs requests that outlast the 15 s default. */
function timeoutFor(path: GeneratedPath, busy: (state: unknown) => boolean): number {
  const waitsOnTimerWhileBusy = path.steps.some(
    (step, index) =>
      kindOf(step) === 'after' && busy(index === 0 ? path.initialState : path.steps[index - 1]?.state),
  );
  return waitsOnTimerWhileBusy ? MAX_TIMER_MS : DEFAULT_TIMEOUT_MS;
}

/**
 * How many requests `route` will have had before the one answer step `index` waits for. Answers are
 * arranged together with the step that sets off their chain (see replay.ts), so the chain's earlier
 * answers from the same route have not arrived yet: they count too.
 */
function requestsBefore(path: GeneratedPath, index: number, routeOf: (actor: string) => string, now: number) {
  const route = routeOf(actorOf(path.steps[index]!));
  let earlier = 0;
  for (let step = index - 1; step >= 0 && isAnswer(path.steps[step]!); step--)
    if (routeOf(actorOf(path.steps[step]!)) === route) earlier++;
  return now + earlier;
}

/**
 * Fires the service's own timeout once the hung request has reached the simulator: its deadline timer
 * is armed by then. The real-time bound is only a safety net.
 */
async function fireTimeout(arrived: () => boolean, timeoutMs: number) {
  const giveUpAt = performance.now() + 15_000;
  while (!arrived()) {
    if (performance.now() > giveUpAt)
      throw new Error('the request meant to hang never reached the simulator');
    await realDelay(2);
  }
  await vi.advanceTimersByTimeAsync(timeoutMs);
}

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------
// Marketiger

const marketigerBusy: Record<string, { actor: string; route: string }> = {
  '"signingIn"': { actor: 'login', route: marketigerRoutes.login },
  '"checkingProject"': { actor: 'checkProjectAccess', route: marketigerRoutes.hasAccessToProject },
  '{"signedIn":"refreshing"}': { actor: 'refreshTokens', route: marketigerRoutes.refreshToken },
};
const marketigerRouteOf = (actor: string) => marketigerActorRoutes[actor] ?? '';

/**
 * Sends a step the same way for both providers. A stale `auth.tokenRejected` names a token the actor
 * never had. A session another holder shares (`session.updated`) carries tokens the simulator issued:
 * taken from a real sign-in made just before the step, so a later refresh with them works as it would.
 */
function sendStep(actor: AnyActorRef, step: PathStep, shared: TokenSet | undefined): void {
  if (step.event.type === 'auth.tokenRejected') {
    const current = step.label.includes('current token');
    actor.send({
      type: 'auth.tokenRejected',
      accessToken: current ? actor.getSnapshot().context.accessToken : 'stale-access-token',
    });
  } else if (step.event.type === 'session.updated' && shared) {
    actor.send({
      ...step.event,
      session: {
        ...(step.event['session'] as object),
        accessToken: shared.accessToken,
        refreshToken: shared.refreshToken,
        accessTokenExpiresAt: shared.accessTokenExpiresAt,
        issuedAt: Date.now(),
        clockSkewMs: shared.clockSkewMs,
      },
    });
  } else actor.send(step.event);
}

function marketigerDriver(sim: MarketigerSimulator, timeoutMs: number): StepDriver {
  /** Per timeout step: the requests its route had before the hung one (see requestsBefore). */
  const arrivedBefore = new Map<number, number>();
  let shared: TokenSet | undefined;
  return {
    async arrange(path, index) {
      const step = path.steps[index]!;
      if (step.event.type === 'session.updated') {
        shared = await createMarketigerApi({ baseURL: sim.baseURL }).login(MARKETIGER_DEMO_USER);
      }
      const next = path.steps[index + 1];
      const busy = marketigerBusy[JSON.stringify(step.state)];
      const nextKind = next ? kindOf(next) : 'send';
      if (next && (nextKind === 'done' || nextKind === 'error')) {
        const route = marketigerRouteOf(actorOf(next));
        arrivedBefore.set(
          index + 1,
          requestsBefore(path, index + 1, marketigerRouteOf, sim.requestCount(route)),
        );
        await arrangeMarketigerAnswer(sim, answerOf(next));
        return;
      }
      // A request the path leaves unanswered (it logs out, or a timer fires meanwhile) must not answer.
      if (busy && entered(path, index)) sim.injectFault(busy.route, { kind: 'hang', times: 1 });
    },
    send(step, path, index, actor) {
      const next = path.steps[index + 1];
      if (step.event.type === 'auth.login') {
        const wrong = next && kindOf(next) === 'error' && errorOf(next).kind === 'invalid_credentials';
        actor.send({ ...step.event, password: wrong ? 'wrong-password' : MARKETIGER_DEMO_USER.password });
      } else sendStep(actor, step, shared);
    },
    async settle(step, _path, index) {
      if (kindOf(step) === 'error' && errorOf(step).kind === 'timeout') {
        const route = marketigerRouteOf(actorOf(step));
        const before = arrivedBefore.get(index) ?? 0;
        await fireTimeout(() => sim.requestCount(route) > before, timeoutMs);
      }
    },
  };
}

async function runMarketiger(path: GeneratedPath) {
  // Arrange: the clock first, so the simulator's clock (Date.now) is the same fake one.
  fakeStepClock(Date.now());
  const sim = await startMarketigerSimulator({ jwtSecret: JWT_SECRET });
  const timeoutMs = timeoutFor(path, (state) => JSON.stringify(state) in marketigerBusy);
  const api = createMarketigerApi({ baseURL: sim.baseURL, timeoutMs });
  const subject: AnyActorRef = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
    input: path.input as never,
  });
  subject.start();
  try {
    // Act and assert, step by step
    await replay(path, subject, marketigerDriver(sim, timeoutMs));
  } finally {
    subject.stop();
    await sim.close();
  }
}

describe('marketiger paths (live, simulator over loopback)', () => {
  for (const path of marketigerPaths()) it(path.name, () => runMarketiger(path));
});

// ---------------------------------------------------------------------------------------------
// Mrkter

const mrkterBusy: Record<string, { actor: string; route: string }> = {
  '"authenticating"': { actor: 'login', route: mrkterRoutes.token },
  '"loadingIdentities"': { actor: 'loadIdentities', route: mrkterRoutes.identities },
  '"requestingCode"': { actor: 'requestCode', route: mrkterRoutes.sms },
  '"verifyingCode"': { actor: 'verifyCode', route: mrkterRoutes.authenticate },
  '{"signedIn":"refreshing"}': { actor: 'refreshTokens', route: mrkterRoutes.token },
};
const mrkterRouteOf = (actor: string) => mrkterActorRoutes[actor] ?? '';

function mrkterDriver(sim: MrkterSimulator, timeoutMs: number): StepDriver {
  /** Per timeout step: the requests its route had before the hung one (see requestsBefore). */
  const arrivedBefore = new Map<number, number>();
  let shared: TokenSet | undefined;
  return {
    async arrange(path, index) {
      const step = path.steps[index]!;
      if (step.event.type === 'session.updated') {
        const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl });
        shared = await api.login(mrkterUsers['two']!);
      }
      const next = path.steps[index + 1];
      const busy = mrkterBusy[JSON.stringify(step.state)];
      const nextKind = next ? kindOf(next) : 'send';
      if (next && (nextKind === 'done' || nextKind === 'error')) {
        const actor = actorOf(next);
        const route = mrkterRouteOf(actor);
        arrivedBefore.set(index + 1, requestsBefore(path, index + 1, mrkterRouteOf, sim.requestCount(route)));
        arrangeMrkterAnswer(sim, answerOf(next));
        return;
      }
      if (busy && entered(path, index)) sim.injectFault(busy.route, { kind: 'hang', times: 1 });
    },
    send(step, path, index, actor) {
      const next = path.steps[index + 1];
      const failsWith = next && kindOf(next) === 'error' ? errorOf(next).kind : undefined;
      if (step.event.type === 'auth.login') {
        const user = mrkterUserFor(path.steps.slice(index + 1).map((step) => step.label));
        actor.send({
          type: 'auth.login',
          username: user.username,
          password: failsWith === 'invalid_credentials' ? 'wrong-password' : user.password,
        });
      } else if (step.event.type === 'code.submit') {
        const phone = actor.getSnapshot().context.phoneNumber as string;
        const sent = sim.lastCode(phone) ?? '';
        actor.send({ type: 'code.submit', code: failsWith === 'invalid_code' ? wrongCode(sent) : sent });
      } else sendStep(actor, step, shared);
    },
    async settle(step, _path, index) {
      if (kindOf(step) === 'error' && errorOf(step).kind === 'timeout') {
        const route = mrkterRouteOf(actorOf(step));
        const before = arrivedBefore.get(index) ?? 0;
        await fireTimeout(() => sim.requestCount(route) > before, timeoutMs);
      }
    },
  };
}

const pureOnly = (path: GeneratedPath) =>
  path.steps.some((step) => step.label === 'loadIdentities ✓ none identities');

async function runMrkter(path: GeneratedPath) {
  // Arrange: no server-side SMS throttle of its own; the paths inject every 429 they need.
  fakeStepClock(Date.now());
  const sim = await startMrkterSimulator({ smsCooldownMs: 0 });
  const timeoutMs = timeoutFor(path, (state) => JSON.stringify(state) in mrkterBusy);
  const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl, timeoutMs });
  const subject: AnyActorRef = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), {
    input: path.input as never,
  });
  subject.start();
  try {
    // Act and assert, step by step
    await replay(path, subject, mrkterDriver(sim, timeoutMs));
  } finally {
    subject.stop();
    await sim.close();
  }
}

describe('mrkter paths (live, simulators over loopback)', () => {
  const paths = mrkterPaths();
  it('runs all but a few paths live (the rest run in the pure suite)', () => {
    expect(paths.filter(pureOnly).length).toBeLessThan(paths.length / 10);
  });
  for (const path of paths) {
    if (pureOnly(path)) it.skip(`${path.name} (pure only: the service reports an empty list as an error)`);
    else it(path.name, () => runMrkter(path));
  }
});
