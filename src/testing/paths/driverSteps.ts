/**
 * A generated path as the steps a page driver performs: what kind of step each is (a person's action,
 * a request's answer, a timer), what the requests it sets off must answer and which must never answer,
 * and what the page should show afterwards (the state, its busy tag, the error kind in context).
 *
 * The path itself says only "this event, then this state". A driver of a real page needs more: over
 * real sockets an answer sets off the next request by itself (sign-in done → identities loaded → the
 * SMS request), so whatever those requests must meet has to be in place before the step that starts
 * the chain; a request the path leaves unanswered (it signs out, or a timer fires first) must be held
 * back; and an error step is checked on the page by the error kind the machine keeps. This module
 * works all of that out by replaying the path through the machine (pure: nothing runs, nothing is
 * sent), at the virtual times it was generated at.
 */
import type { AnyMachineSnapshot, AnyStateMachine, StateValue } from 'xstate';
import { type AuthErrorKind, isAuthError } from '../../errors.js';
import { activeStateIds, unstartedActorScope } from './coverage.js';
import type { GeneratedPath, PathStep, SampleEvent } from './engine.js';
import { stateName } from './naming.js';
import { atVirtualTime } from './virtualTime.js';

/** `user`: a person's action (or any event sent to the actor); `answer`: an invoked request answers; `timer`: an `after` timer fires. */
export type DriverStepKind = 'user' | 'answer' | 'timer';

/** How one request must answer: the answer step of the path that reports it. */
export interface DriverAnswer {
  /** Index in `path.steps` of the step that reports this answer. */
  index: number;
  /** The invoke id (the same as the actor's name in these machines): `login`, `refreshTokens`, ... */
  actor: string;
  outcome: 'done' | 'error';
  /** For `done`: the sample output (tokens, identities, ...). */
  output?: unknown;
  /** For `error`: the kind of `AuthError` the request must end with. */
  errorKind?: AuthErrorKind;
  /** For `error`: the sample error itself (an `AuthError` for the provider samples). */
  error?: unknown;
  /** The step's label, e.g. `login ✗ invalid_credentials`, `loadIdentities ✓ single identities`. */
  label: string;
}

/** What the page should show after a step. */
export interface DriverExpectation {
  /** The machine's state value, e.g. `{ signedIn: 'active' }`. */
  value: StateValue;
  /** The same as one string: `signedIn.active`, `awaitingCode.coolingDown`. */
  name: string;
  /** The ids of every active state node, e.g. `['mrkter.signedIn', 'mrkter.signedIn.active']`. */
  stateIds: string[];
  /** The state's tags, e.g. `['busy']` while a request is in flight. */
  tags: string[];
  /** `context.error.kind` after the step, or `null`: the error a page shows, if it shows one there. */
  error: AuthErrorKind | null;
}

/** One step of a path, for a page driver. */
export interface DriverStep {
  /** Index in `path.steps`. */
  index: number;
  /** The step's label (see `PathStep.label`). */
  label: string;
  kind: DriverStepKind;
  /** The event of the path step (for `user` steps: what the person's action must send). */
  event: SampleEvent;
  /** The wall clock jumps by this much just before the step, with no timer firing (a device that slept). */
  sleepMs?: number;
  /**
   * The virtual time (epoch ms) the step was generated at. Sample times are relative to it: an
   * answer's token that expires at `at + 1 h` is a token for one hour from whenever your page gets it.
   */
  at: number;
  /**
   * For `timer` steps: the delay's name, the state node whose timer fires (`marketiger.signedIn.active`),
   * and how long after the previous step it fired during generation. Refresh delays carry a random
   * jitter, so a page's own timer may be due up to `refreshJitterMs` earlier: run the page's clock to
   * the timer it armed, or generate and run with `refreshJitterMs: 0` in the input.
   */
  timer?: { delay: string; stateNode: string; afterMs: number };
  /** For `answer` steps: how the request answers. */
  answer?: DriverAnswer;
  /**
   * For `user` and `timer` steps: every answer this step sets off, in order: its own request's, and
   * those of the requests each answer sends by itself. A driver that cannot hold a request back
   * arranges all of them (faults, the user whose data produces them) before performing this step.
   * Empty for `answer` steps: their answer was arranged with the step that set off their chain.
   */
  setsOff: DriverAnswer[];
  /**
   * Invoke ids of the requests this step (or an answer it sets off) starts that the path never lets
   * answer: it signs out or a timer fires first. Make them hang, or never release them.
   */
  unanswered: string[];
  /** Invoke ids of the requests this very step starts (a driver that holds requests waits for these). */
  starts: string[];
  expected: DriverExpectation;
}

const AFTER = 'xstate.after.';

/** The kind of a path step, from its event type. */
export function driverStepKind(step: Pick<PathStep, 'event'>): DriverStepKind {
  const { type } = step.event;
  if (type.startsWith('xstate.done.actor.') || type.startsWith('xstate.error.actor.')) return 'answer';
  if (type.startsWith(AFTER)) return 'timer';
  return 'user';
}

function answerOf(step: PathStep, index: number): DriverAnswer {
  const done = step.event.type.startsWith('xstate.done.actor.');
  const actor = step.event.type.replace(/^xstate\.(done|error)\.actor\./, '');
  if (done) return { index, actor, outcome: 'done', output: step.event['output'], label: step.label };
  const error = step.event['error'];
  const kind = isAuthError(error) ? error.kind : undefined;
  return {
    index,
    actor,
    outcome: 'error',
    error,
    ...(kind ? { errorKind: kind } : {}),
    label: step.label,
  };
}

/** `xstate.after.<delay>.<stateNodeId>`: the node id starts with the machine's id. */
function timerOf(machineId: string, step: PathStep): DriverStep['timer'] {
  const type = step.event.type;
  if (!type.startsWith(AFTER)) return undefined;
  const at = type.indexOf(`.${machineId}`, AFTER.length);
  if (at < 0) return undefined;
  return { delay: type.slice(AFTER.length, at), stateNode: type.slice(at + 1), afterMs: step.afterMs ?? 0 };
}

type Children = Record<string, unknown>;

/** The invoked children (by id) that `after` has and `before` had not, or had as another actor. */
function startedBetween(before: Children, after: Children): string[] {
  return Object.keys(after).filter((id) => after[id] !== undefined && after[id] !== before[id]);
}

/**
 * Turns a generated path into the steps a page driver performs, with what each step sets off and what
 * the page should show after it. Replays the path through `machine` (the machine the path was generated
 * from: pure, nothing runs) to learn which requests each step starts and the error each state keeps.
 *
 * @example
 * ```ts
 * import { mrkterMachine } from 'authcharts';
 * import { mrkterPaths, pathDriverSteps } from 'authcharts/testing';
 *
 * const path = mrkterPaths()[0]!;
 * for (const step of pathDriverSteps(mrkterMachine, path)) {
 *   // arrange step.setsOff on the simulator, then:
 *   // user → click / type; answer → let the request answer; timer → advance the page's clock
 *   // then check the page shows step.expected.name (and step.expected.error, where it shows errors)
 * }
 * ```
 */
export function pathDriverSteps(machine: AnyStateMachine, path: GeneratedPath): DriverStep[] {
  if (machine.id !== path.machine) {
    throw new Error(`The path was generated from '${path.machine}', not from '${machine.id}'`);
  }
  // Replay through XState at the path's virtual times: the snapshots say which children each step
  // started (invoked actors are created, never run) and what context each state keeps.
  const scope = unstartedActorScope(machine, path.input);
  let snapshot = atVirtualTime(path.startAt, () =>
    machine.getInitialSnapshot(scope, path.input),
  ) as AnyMachineSnapshot;
  const replayed: { started: string[]; children: Children; snapshot: AnyMachineSnapshot }[] = [];
  for (const step of path.steps) {
    const before = snapshot;
    snapshot = atVirtualTime(step.at, () =>
      machine.transition(before, step.event, scope),
    ) as AnyMachineSnapshot;
    if (JSON.stringify(snapshot.value) !== JSON.stringify(step.state)) {
      throw new Error(
        `'${path.name}' step '${step.label}' replays to ${stateName(snapshot.value)}, not ${stateName(step.state)}: was it generated from this machine?`,
      );
    }
    const children = snapshot.children as Children;
    replayed.push({ started: startedBetween(before.children as Children, children), children, snapshot });
  }

  /** The step that answers the child `id` started at step `from`, while that child is still the same actor. */
  const answerIndex = (id: string, from: number): number | undefined => {
    const child = replayed[from]?.children[id];
    for (let j = from + 1; j < path.steps.length; j++) {
      const step = path.steps[j]!;
      if (driverStepKind(step) === 'answer' && answerOf(step, j).actor === id) return j;
      if (replayed[j]?.children[id] !== child) return undefined;
    }
    return undefined;
  };

  return path.steps.map((step, index): DriverStep => {
    const kind = driverStepKind(step);
    const { started, snapshot: after } = replayed[index]!;
    const setsOff: DriverAnswer[] = [];
    const unanswered: string[] = [];
    if (kind !== 'answer') {
      // This step and the answers that follow it by themselves: each may start a request of its own.
      let last = index;
      while (last + 1 < path.steps.length && driverStepKind(path.steps[last + 1]!) === 'answer') last++;
      for (let i = index; i <= last; i++) {
        for (const id of replayed[i]!.started) {
          const answeredAt = answerIndex(id, i);
          if (answeredAt === undefined) unanswered.push(id);
          else setsOff.push(answerOf(path.steps[answeredAt]!, answeredAt));
        }
      }
      setsOff.sort((a, b) => a.index - b.index);
    }
    const error = (after.context as { error?: { kind?: AuthErrorKind } | null } | undefined)?.error;
    const timer = kind === 'timer' ? timerOf(machine.id, step) : undefined;
    return {
      index,
      label: step.label,
      kind,
      event: step.event,
      at: step.at,
      ...(step.sleepMs ? { sleepMs: step.sleepMs } : {}),
      ...(timer ? { timer } : {}),
      ...(kind === 'answer' ? { answer: answerOf(step, index) } : {}),
      setsOff,
      unanswered,
      starts: started,
      expected: {
        value: after.value,
        name: stateName(after.value),
        stateIds: activeStateIds(machine, after.value),
        tags: [...after.tags].sort(),
        error: error?.kind ?? null,
      },
    };
  });
}
