/**
 * Path generators: test paths through the statecharts, as plain data any runner can replay (vitest,
 * jest, Playwright against a real UI). Built on `xstate/graph`'s `getShortestPaths`.
 *
 * How time is handled (the machines' guards and actions read `Date.now()`): the traversal runs on a
 * virtual clock. Each generated state carries the virtual time at which it was reached; every
 * transition is computed with `Date.now()` pinned to that time (pinned synchronously, restored at
 * once: the traversal is one synchronous call, so nothing else can observe it). An `xstate.after.*`
 * event moves the clock to the moment its timer fires (its delay, computed by the machine's own
 * delay implementation from the absolute times in context), and only the timer that would fire
 * FIRST is offered, so every path is feasible in real time order. Sample payloads are built from the
 * state's virtual time (a token "valid for 1 h" expires 1 h after the step that delivers it), so
 * each guard's branch is reached by a payload chosen for it, not by luck of the wall clock.
 *
 * One more kind of time is modelled: a device that sleeps. Node's timers do not run while a laptop
 * is suspended, but `Date.now()` jumps; a step may carry `sleepMs`, the wall-clock jump that happens
 * just before its event, without any timer firing. That is how the machines' "refresh token already
 * expired" guards are reached: a refresh timer that fires (or a refresh asked for) after the device
 * slept past the session's end. Replays do the same: jump the clock (e.g. `vi.setSystemTime`), then
 * fire the next timer (`vi.advanceTimersToNextTimer`).
 */
import {
  __unsafe_getAllOwnEventDescriptors,
  type ActorScope,
  type AnyActorLogic,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
  type StateValue,
} from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import type { SharedSession } from '../coordination/types.js';
import { AuthError, type AuthErrorKind } from '../errors.js';
import { type MarketigerInput, marketigerMachine } from '../machines/marketigerMachine.js';
import { type MrkterInput, mrkterMachine } from '../machines/mrkterMachine.js';
import type { MrkterIdentity, TokenSet } from '../services/types.js';
import { MARKETIGER_DEMO_USER } from './marketigerSimulator.js';
import { defaultMrkterUsers } from './mrkterSimulator.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** An event with its payload: plain fields, plus `output` or an `AuthError` `error` for done/error events. */
export interface SampleEvent extends EventObject {
  [field: string]: unknown;
}

/** One sample event a state may receive, with a short label for path names. */
export interface PathSample {
  /** The event as the machine receives it (done/error events carry `output`/`error`). */
  event: SampleEvent;
  /** What this sample stands for, e.g. `'wrong password'` or `'expired on arrival'`. */
  label: string;
  /** Wall-clock jump just before the event, with no timer firing (a device that slept). */
  sleepMs?: number;
}

/** One step of a generated path. */
export interface PathStep {
  /** The event to send, or (done/error/after events) the event the machine raises itself. */
  event: SampleEvent;
  /** A short description: the event and its sample label. */
  label: string;
  /** The state value expected right after this step. */
  state: StateValue;
  /** For `xstate.after.*` steps: how long after the previous step the timer fires, in ms. */
  afterMs?: number;
  /** Wall-clock jump just before this step with no timer firing (a device that slept), in ms. */
  sleepMs?: number;
  /** The virtual time (epoch ms) at which the step's transition was computed; used to replay it exactly. */
  at: number;
}

/** A generated path: replay it from the machine's initial state with `input`. */
export interface GeneratedPath {
  /** The machine's id, e.g. `'marketiger'`. */
  machine: string;
  /** Built from the steps: unique within one generation. */
  name: string;
  /** The input the actor is created with. */
  input: unknown;
  /** The state value before the first step. */
  initialState: StateValue;
  /** The virtual time (epoch ms) at which the actor starts. */
  startAt: number;
  steps: PathStep[];
}

/** Options of {@link generatePaths}. */
export interface GeneratePathsOptions<TMachine extends AnyStateMachine> {
  /**
   * The sample events for a state, at virtual time `now`. Samples of event types the state does not
   * handle, or whose guards let nothing happen, are dropped; so are timers that are not due first.
   */
  events: (snapshot: ReturnType<TMachine['transition']>, now: number) => readonly PathSample[];
  /**
   * The part of a state that decides what can happen next (its value, plus the context fields that
   * guards and samples read). Keeps the traversal finite: counters and times stay out. Default: the value.
   */
  stateKey?: (snapshot: ReturnType<TMachine['transition']>) => string;
  /** The actor's input. */
  input?: unknown;
  /** The virtual time the traversal starts at (epoch ms). Default `Date.now()`. */
  now?: number;
  /** Largest number of traversal steps (a safety net; default 50 000). */
  limit?: number;
  /** Prefix of every path name. */
  namePrefix?: string;
}

/** Runs `fn` with `Date.now()` answering `at` (synchronously, restored afterwards). */
export function atTime<T>(at: number, fn: () => T): T {
  const realNow = Date.now;
  Date.now = () => at;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

const AFTER_EVENT = /^xstate\.after\.(.+)\.([^.]+(?:\.[^.]+)*)$/;

/** The delay name of an `xstate.after.<delay>.<stateNodeId>` event, or undefined for other events. */
function afterParts(machine: AnyStateMachine, type: string): { delay: string; nodeId: string } | undefined {
  if (!type.startsWith('xstate.after.')) return undefined;
  // The node id starts with the machine id; the delay name is what comes before it.
  const marker = `.${machine.id}`;
  const index = type.indexOf(marker, 'xstate.after.'.length);
  if (index < 0) {
    const match = AFTER_EVENT.exec(type);
    return match ? { delay: match[1]!, nodeId: match[2]! } : undefined;
  }
  return { delay: type.slice('xstate.after.'.length, index), nodeId: type.slice(index + 1) };
}

/** The delay in ms of an `after` timer of `snapshot`, from the machine's own delay implementation. */
export function timerDelay(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, type: string): number {
  const parts = afterParts(machine, type);
  if (!parts) return 0;
  const numeric = Number(parts.delay);
  if (Number.isFinite(numeric)) return numeric;
  const implementation = (machine.implementations.delays as Record<string, unknown>)[parts.delay];
  const value =
    typeof implementation === 'function'
      ? (implementation as (args: { context: unknown; event: unknown }) => number)({
          context: snapshot.context,
          event: { type },
        })
      : implementation;
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : 0;
}

/** Everything but the `@`-prefixed bookkeeping fields the traversal adds to events. */
function cleanEvent(event: EventObject): SampleEvent {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) if (!key.startsWith('@')) clean[key] = value;
  return clean as SampleEvent;
}

interface TraversalEvent extends EventObject {
  '@label': string;
  '@sleepMs'?: number;
}

function toTraversalEvent(sample: PathSample): TraversalEvent {
  return {
    ...sample.event,
    '@label': sample.label,
    ...(sample.sleepMs ? { '@sleepMs': sample.sleepMs } : {}),
  };
}

/**
 * Generates paths through any machine: the shortest path to every distinct state (by `stateKey`),
 * plus the shortest path ending in every distinct transition (keyed by the transition, as state-keyed
 * paths miss transitions back to a visited state); paths contained in a longer one are dropped.
 *
 * @example
 * ```ts
 * const paths = generatePaths(machine, { events: (snapshot, now) => [{ event: { type: 'go' }, label: 'go' }] });
 * for (const path of paths) console.log(path.name, path.steps.map((s) => s.state));
 * ```
 */
export function generatePaths<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: GeneratePathsOptions<TMachine>,
): GeneratedPath[] {
  type Snapshot = ReturnType<TMachine['transition']>;
  const startAt = options.now ?? Date.now();
  const times = new WeakMap<object, number>();
  const timeOf = (snapshot: object) => times.get(snapshot) ?? startAt;
  const stateKey = options.stateKey ?? ((snapshot: Snapshot) => JSON.stringify(snapshot.value));
  const scope = idleScope(machine, options.input);

  const initial = atTime(startAt, () => machine.getInitialSnapshot(scope, options.input)) as Snapshot;
  times.set(initial, startAt);

  const transition = (snapshot: Snapshot, event: TraversalEvent, scope: ActorScope<any, any, any, any>) => {
    const before = timeOf(snapshot);
    const sleep = event['@sleepMs'] ?? 0;
    const delay = atTime(before, () => timerDelay(machine, snapshot, event.type));
    const at = before + sleep + delay;
    const next = atTime(at, () => machine.transition(snapshot, event, scope)) as Snapshot;
    times.set(next, at);
    return next;
  };

  const events = (snapshot: Snapshot): TraversalEvent[] => {
    const now = timeOf(snapshot);
    const own = new Set(__unsafe_getAllOwnEventDescriptors(snapshot));
    const samples = options.events(snapshot, now).filter((sample) => own.has(sample.event.type));
    // Only the timer that fires first: the outermost state's timer wins a tie (it was armed first).
    const timers = samples
      .filter((sample) => sample.event.type.startsWith('xstate.after.'))
      .map((sample) => ({
        type: sample.event.type,
        due: atTime(now, () => timerDelay(machine, snapshot, sample.event.type)),
        depth: afterParts(machine, sample.event.type)?.nodeId.split('.').length ?? 0,
      }))
      .sort((a, b) => a.due - b.due || a.depth - b.depth);
    const firstTimer = timers[0]?.type;
    return samples
      .filter((sample) => !sample.event.type.startsWith('xstate.after.') || sample.event.type === firstTimer)
      .filter((sample) => {
        const delay = atTime(now, () => timerDelay(machine, snapshot, sample.event.type));
        // An enabled transition, targetless ones included (`snapshot.can` says false for a transition
        // that changes nothing, such as an event a state deliberately ignores: those are transitions too).
        return atTime(
          now + (sample.sleepMs ?? 0) + delay,
          () => machine.getTransitionData(snapshot as never, sample.event).length > 0,
        );
      })
      .map(toTraversalEvent);
  };

  const logic = {
    ...machine,
    transition,
    getInitialSnapshot: () => initial,
  } as unknown as AnyActorLogic;

  // The state graph (keyed by `stateKey`) and the shortest path to each state, from xstate/graph. The
  // transition-covering paths are then the shortest path to each state followed by each transition
  // out of it: every edge of the graph, including those back to a state already visited (which
  // state-keyed shortest paths alone would miss).
  const traversal = {
    events,
    fromState: initial,
    serializeState: (snapshot: Snapshot) => stateKey(snapshot),
    limit: options.limit ?? 50_000,
  } as never;
  const shortest = getShortestPaths(logic, traversal) as unknown as {
    state: Snapshot;
    steps: { event: TraversalEvent }[];
  }[];
  const adjacency = getAdjacencyMap(logic, traversal) as unknown as Record<
    string,
    { transitions: Record<string, { event: TraversalEvent }> }
  >;
  const labelPaths: string[][] = [];
  for (const path of shortest) {
    const labels = path.steps.slice(1).map((step) => step.event['@label']);
    labelPaths.push(labels);
    for (const { event } of Object.values(adjacency[stateKey(path.state)]?.transitions ?? {})) {
      labelPaths.push([...labels, event['@label']]);
    }
  }

  // getShortestPaths keeps one snapshot per key, not the one each path computed: replay the labels
  // from the initial state, taking each sample afresh from the state it is sent in, so payload times
  // are relative to that state's own virtual time and every expected state is the one this path reaches.
  const paths: GeneratedPath[] = [];
  // Paths share their beginnings: each prefix is computed once.
  const reached = new Map<string, { snapshot: Snapshot; step: PathStep }>();
  for (const labels of dropContained(labelPaths)) {
    const steps: PathStep[] = [];
    let snapshot = initial;
    let prefix = '';
    for (const label of labels) {
      prefix += `${label}\n`;
      let known = reached.get(prefix);
      if (!known) {
        const sample = options
          .events(snapshot, timeOf(snapshot))
          .find((candidate) => candidate.label === label);
        if (!sample) break;
        const event = toTraversalEvent(sample);
        const before = timeOf(snapshot);
        const next = transition(snapshot, event, scope);
        const at = timeOf(next);
        const sleep = event['@sleepMs'] ?? 0;
        const step: PathStep = { event: cleanEvent(event), label, state: next.value, at };
        if (event.type.startsWith('xstate.after.')) step.afterMs = at - before - sleep;
        if (sleep) step.sleepMs = sleep;
        known = { snapshot: next, step };
        reached.set(prefix, known);
      }
      snapshot = known.snapshot;
      steps.push(known.step);
    }
    if (steps.length !== labels.length || steps.length === 0) continue;
    paths.push({
      machine: machine.id,
      name: '',
      input: options.input,
      initialState: initial.value,
      startAt,
      steps,
    });
  }
  return name(paths, options.namePrefix ?? '');
}

/**
 * The scope of an actor that is never started: XState computes snapshots with it (invoked children
 * are created, not run) and nothing is executed.
 */
export function idleScope(machine: AnyStateMachine, input?: unknown): ActorScope<any, any, any, any> {
  const actor = createActor(machine, { input } as never);
  return (actor as unknown as { _actorScope: ActorScope<any, any, any, any> })._actorScope;
}

/** Drops every label path that is a prefix of (or equal to) another: replaying the longer one walks it too. */
function dropContained(labelPaths: string[][]): string[][] {
  const keyed = labelPaths.map((labels) => ({ labels, key: `${labels.join('\n')}\n` }));
  keyed.sort((a, b) => b.labels.length - a.labels.length);
  const kept: typeof keyed = [];
  const prefixes = new Set<string>();
  for (const candidate of keyed) {
    if (prefixes.has(candidate.key)) continue;
    kept.push(candidate);
    let prefix = '';
    for (const label of candidate.labels) {
      prefix += `${label}\n`;
      prefixes.add(prefix);
    }
  }
  return kept.map((entry) => entry.labels);
}

function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, child]) => (child === undefined ? key : `${key}.${stateName(child as StateValue)}`))
    .join(',');
}

function name(paths: GeneratedPath[], prefix: string): GeneratedPath[] {
  const seen = new Map<string, number>();
  const named = paths.map((path) => {
    const base = `${prefix}${path.steps.map((step) => step.label).join(' → ')} ⇒ ${stateName(path.steps.at(-1)!.state)}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { ...path, name: count === 1 ? base : `${base} #${count}` };
  });
  return named.sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// Samples shared by both providers.

/** A done event with a label. */
function done(actor: string, output: unknown, label: string): PathSample {
  return {
    event: { type: `xstate.done.actor.${actor}`, output } as EventObject,
    label: `${actor} ✓ ${label}`,
  };
}

const errorSampleCache = new Map<() => readonly AuthError[], PathSample[]>();

/**
 * One error sample per kind, as the service would throw it. Made once per actor: an `Error` captures a
 * stack when constructed, and the traversal asks for the samples of thousands of states.
 */
function errors(actor: string, kinds: () => readonly AuthError[]): PathSample[] {
  const cached = errorSampleCache.get(kinds);
  if (cached) return cached;
  const samples = kinds().map((error) => ({
    event: { type: `xstate.error.actor.${actor}`, error } as SampleEvent,
    label: `${actor} ✗ ${error.kind}${error.retryAfterMs !== undefined ? ` (retry after ${error.retryAfterMs} ms)` : ''}`,
  }));
  errorSampleCache.set(kinds, samples);
  return samples;
}

/** An `AuthError` as the services make it for that kind (status where HTTP gives one). */
export function sampleError(
  kind: AuthErrorKind,
  options: { status?: number; retryAfterMs?: number } = {},
): AuthError {
  const status: Partial<Record<AuthErrorKind, number>> = {
    invalid_credentials: 400,
    invalid_code: 400,
    too_many_attempts: 429,
    rate_limited: 429,
    session_expired: 401,
    no_permission: 403,
    no_project_access: 200,
    no_identities: 200,
    server: 503,
    bad_response: 200,
  };
  const given = options.status ?? status[kind];
  return new AuthError(kind, {
    ...(given !== undefined ? { status: given } : {}),
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}),
  });
}

/** The error kinds of the transport and of any HTTP answer, which every actor can meet. */
const transportKinds = (): AuthError[] => [
  sampleError('rate_limited', { retryAfterMs: 1_000 }),
  sampleError('server'),
  sampleError('network'),
  sampleError('timeout'),
  sampleError('bad_response'),
];

/** A token answer valid for `ttlMs` from `now`. */
function tokenSet(
  now: number,
  ttlMs: number,
  n: string,
  refreshToken: string | null = `refresh-${n}`,
): TokenSet {
  return { accessToken: `access-${n}`, refreshToken, accessTokenExpiresAt: now + ttlMs, clockSkewMs: 0 };
}

/**
 * A session another holder shared (`session.updated`, see `coordinateSession`), valid for `ttlMs` from
 * `now`, with the extra fields a provider needs (Mrkter's account and session ids).
 */
function sharedSession(
  now: number,
  ttlMs: number,
  current: unknown,
  extra: Partial<SharedSession> = {},
): SharedSession {
  return {
    // Never the token the machine already holds: a holder ignores a notice of its own session, and a
    // path that first signed in through `session.updated` must still be able to take another one.
    accessToken: current === 'access-shared' ? 'access-shared-again' : 'access-shared',
    refreshToken: 'refresh-shared',
    accessTokenExpiresAt: now + ttlMs,
    refreshTokenExpiresAt: null,
    issuedAt: now,
    clockSkewMs: 0,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Marketiger.

/**
 * The Marketiger samples: the simulator's demo credentials, token answers, and one error per kind
 * each actor can produce (the services' mapping: see src/services/marketigerParse.ts).
 */
export const marketigerSamples = {
  credentials: { email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password },
  projectId: MARKETIGER_DEMO_USER.projects[0] ?? 'demo-project',
  /** A normal answer: an access token for 1 h (the simulator's default) and a new refresh token. */
  tokens: (now: number) => tokenSet(now, HOUR, 'fresh'),
  /** An access token that outlives the 12 h session: the session's end comes before any refresh. */
  longLivedTokens: (now: number) => tokenSet(now, 24 * HOUR, 'long'),
  /** An access token already expired when it arrives (a clock far off). */
  expiredTokens: (now: number) => tokenSet(now, -MINUTE, 'expired'),
  /** The tokens another holder of the session wrote (coordinated sessions). */
  shared: (now: number, currentToken?: unknown) => sharedSession(now, HOUR, currentToken),
  errors: {
    login: (): AuthError[] => [
      sampleError('invalid_credentials'),
      sampleError('no_permission'),
      ...transportKinds(),
    ],
    checkProjectAccess: (): AuthError[] => [
      sampleError('no_project_access'),
      sampleError('session_expired'),
      sampleError('no_permission'),
      ...transportKinds(),
    ],
    refreshTokens: (): AuthError[] => [sampleError('session_expired'), ...transportKinds()],
  },
};

/** The Marketiger sample events for a state at virtual time `now` (see {@link generatePaths}). */
export function marketigerEvents(snapshot: AnyMachineSnapshot, now: number): PathSample[] {
  const context = snapshot.context as { accessToken: string | null; refreshTokenExpiresAt: number | null };
  // Long enough to pass the refresh token's end, wherever in its 12 h the session is.
  const pastSessionEnd = Math.max(MINUTE, (context.refreshTokenExpiresAt ?? now) - now + MINUTE);
  const s = marketigerSamples;
  return [
    { event: { type: 'auth.login', ...s.credentials }, label: 'auth.login' },
    { event: { type: 'auth.logout' }, label: 'auth.logout' },
    { event: { type: 'auth.refresh' }, label: 'auth.refresh' },
    {
      event: { type: 'auth.refresh' },
      label: 'auth.refresh after sleeping past the session end',
      sleepMs: pastSessionEnd,
    },
    { event: { type: 'auth.resume' }, label: 'auth.resume' },
    {
      event: { type: 'auth.tokenRejected', accessToken: context.accessToken ?? 'none' },
      label: 'auth.tokenRejected (current token)',
    },
    {
      event: { type: 'auth.tokenRejected', accessToken: context.accessToken ?? 'none' },
      label: 'auth.tokenRejected (current token) after sleeping past the session end',
      sleepMs: pastSessionEnd,
    },
    {
      event: { type: 'auth.tokenRejected', accessToken: 'stale-access-token' },
      label: 'auth.tokenRejected (stale token)',
    },
    {
      event: { type: 'session.updated', session: s.shared(now, snapshot.context.accessToken) },
      label: 'session.updated (another holder)',
    },
    { event: { type: 'session.ended' }, label: 'session.ended' },
    done('login', s.tokens(now), 'tokens'),
    done('login', s.longLivedTokens(now), 'access token outliving the session'),
    ...errors('login', s.errors.login),
    done('checkProjectAccess', undefined, 'access'),
    ...errors('checkProjectAccess', s.errors.checkProjectAccess),
    done('refreshTokens', s.tokens(now), 'tokens'),
    done('refreshTokens', s.expiredTokens(now), 'expired on arrival'),
    ...errors('refreshTokens', s.errors.refreshTokens),
    ...['marketiger.signedIn', 'marketiger.signedIn.active', 'marketiger.signedIn.backingOff'].flatMap(
      (node): PathSample[] => {
        const delay =
          { 'marketiger.signedIn': 'untilSessionEnd', 'marketiger.signedIn.active': 'untilRefresh' }[
            node as 'marketiger.signedIn'
          ] ?? 'refreshBackoff';
        const type = `xstate.after.${delay}.${node}`;
        const samples: PathSample[] = [{ event: { type }, label: `after ${delay}` }];
        if (delay !== 'untilSessionEnd') {
          samples.push({
            event: { type },
            label: `after ${delay}, late: the device slept past the session end`,
            sleepMs: pastSessionEnd,
          });
        }
        return samples;
      },
    ),
  ];
}

/** The part of a Marketiger state that decides what can happen next. */
export function marketigerStateKey(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as {
    refreshToken: string | null;
    refreshAt: number | null;
    refreshTokenExpiresAt: number | null;
    accessTokenExpiresAt: number | null;
  };
  // Which timer fires first decides the next step: the session's end or the refresh.
  const sessionEnd = context.refreshTokenExpiresAt ?? context.accessTokenExpiresAt;
  const endsFirst = sessionEnd !== null && context.refreshAt !== null && sessionEnd <= context.refreshAt;
  return JSON.stringify([snapshot.value, context.refreshToken !== null, endsFirst]);
}

/** Options of {@link marketigerPaths} and {@link mrkterPaths}. */
export interface ProviderPathsOptions<TInput> {
  /** The virtual start time (epoch ms). Default `Date.now()`. */
  now?: number;
  /** Inputs to generate for; each gives its own paths. Default: the inputs that reach every branch. */
  inputs?: TInput[];
}

/**
 * Paths through {@link marketigerMachine}: without a project (`signingIn` → `signedIn`) and with the
 * demo project (`signingIn` → `checkingProject`).
 *
 * @example
 * ```ts
 * for (const path of marketigerPaths()) test(path.name, async () => { ...replay path.steps... });
 * ```
 */
export function marketigerPaths(options: ProviderPathsOptions<MarketigerInput> = {}): GeneratedPath[] {
  const now = options.now ?? Date.now();
  const inputs = options.inputs ?? [{}, { projectId: marketigerSamples.projectId }];
  return inputs.flatMap((input) =>
    generatePaths(marketigerMachine, {
      events: marketigerEvents,
      stateKey: marketigerStateKey,
      input,
      now,
      namePrefix: input.projectId ? `[project ${input.projectId}] ` : '',
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Mrkter.

function identitiesOf(username: string): MrkterIdentity[] {
  return defaultMrkterUsers.find((user) => user.username === username)?.identities ?? [];
}

/**
 * The Mrkter samples: the simulator's default users and their identities (so a path replays against
 * `startMrkterSimulator()` as is), token answers, and one error per kind each actor can produce.
 */
export const mrkterSamples = {
  credentials: { username: 'demo@mrkter.test', password: 'demo-password' },
  /** Identity lists, each the identities of one simulator user. */
  identities: {
    /** Two usable identities: the person chooses. */
    two: identitiesOf('demo@mrkter.test'),
    /** One usable identity: chosen without asking. */
    single: identitiesOf('single@mrkter.test'),
    /** One without a phone, one inactive, one usable. */
    mixed: identitiesOf('nophone@mrkter.test'),
    /** None: the service reports this as `no_identities` itself; the machine guards it anyway. */
    none: [] as MrkterIdentity[],
  },
  code: '123456',
  /** The seed's access tokens live 23 h. */
  tokens: (now: number) => tokenSet(now, 23 * HOUR, 'fresh'),
  expiredTokens: (now: number) => tokenSet(now, -MINUTE, 'expired'),
  /** The session another holder wrote: tokens with the account and session ids (coordinated sessions). */
  shared: (now: number, currentToken?: unknown) =>
    sharedSession(now, 23 * HOUR, currentToken, {
      accountId: identitiesOf('demo@mrkter.test')[0]?.accountId ?? 1,
      sessionId: 'session-shared',
    }),
  errors: {
    login: (): AuthError[] => [
      sampleError('invalid_credentials', { status: 403 }),
      sampleError('too_many_attempts'),
      sampleError('no_permission', { status: 401 }),
      ...transportKinds(),
    ],
    loadIdentities: (): AuthError[] => [
      sampleError('no_identities'),
      sampleError('session_expired'),
      sampleError('no_permission'),
      ...transportKinds(),
    ],
    requestCode: (): AuthError[] => [
      sampleError('session_expired'),
      sampleError('no_permission'),
      // `Retry-After: 0`: the resend is available at once.
      sampleError('rate_limited', { retryAfterMs: 0 }),
      ...transportKinds(),
    ],
    verifyCode: (): AuthError[] => [
      sampleError('invalid_code'),
      sampleError('session_expired'),
      ...transportKinds(),
    ],
    refreshTokens: (): AuthError[] => [sampleError('session_expired', { status: 403 }), ...transportKinds()],
  },
};

/** The Mrkter sample events for a state at virtual time `now` (see {@link generatePaths}). */
export function mrkterEvents(snapshot: AnyMachineSnapshot, now: number): PathSample[] {
  const context = snapshot.context as { accessToken: string | null; identities: MrkterIdentity[] };
  const s = mrkterSamples;
  return [
    { event: { type: 'auth.login', ...s.credentials }, label: 'auth.login' },
    { event: { type: 'auth.logout' }, label: 'auth.logout' },
    { event: { type: 'auth.refresh' }, label: 'auth.refresh' },
    { event: { type: 'auth.resume' }, label: 'auth.resume' },
    {
      event: { type: 'auth.tokenRejected', accessToken: context.accessToken ?? 'none' },
      label: 'auth.tokenRejected (current token)',
    },
    {
      event: { type: 'auth.tokenRejected', accessToken: 'stale-access-token' },
      label: 'auth.tokenRejected (stale token)',
    },
    ...context.identities.map(
      (identity): PathSample => ({
        event: { type: 'identity.select', accountId: identity.accountId },
        label: `identity.select ${identity.accountId}`,
      }),
    ),
    { event: { type: 'identity.select', accountId: 999_999 }, label: 'identity.select unknown' },
    { event: { type: 'identity.change' }, label: 'identity.change' },
    { event: { type: 'code.submit', code: s.code }, label: 'code.submit' },
    { event: { type: 'code.resend' }, label: 'code.resend' },
    {
      event: { type: 'session.updated', session: s.shared(now, snapshot.context.accessToken) },
      label: 'session.updated (another holder)',
    },
    { event: { type: 'session.ended' }, label: 'session.ended' },
    done('login', s.tokens(now), 'tokens'),
    ...errors('login', s.errors.login),
    ...Object.entries(s.identities).map(([label, identities]) =>
      done('loadIdentities', identities, `${label} identities`),
    ),
    ...errors('loadIdentities', s.errors.loadIdentities),
    done('requestCode', undefined, 'sent'),
    ...errors('requestCode', s.errors.requestCode),
    done('verifyCode', { sessionId: 'session-1' }, 'session'),
    ...errors('verifyCode', s.errors.verifyCode),
    done('refreshTokens', s.tokens(now), 'tokens'),
    done('refreshTokens', s.expiredTokens(now), 'expired on arrival'),
    ...errors('refreshTokens', s.errors.refreshTokens),
    { event: { type: 'xstate.after.untilRefresh.mrkter.signedIn.active' }, label: 'after untilRefresh' },
    {
      event: { type: 'xstate.after.refreshBackoff.mrkter.signedIn.backingOff' },
      label: 'after refreshBackoff',
    },
    {
      event: { type: 'xstate.after.resendCooldown.mrkter.awaitingCode.coolingDown' },
      label: 'after resendCooldown',
    },
  ];
}

/** The part of a Mrkter state that decides what can happen next. */
export function mrkterStateKey(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as {
    identities: MrkterIdentity[];
    codeAttempts: number;
    resendAvailableAt: number | null;
  };
  // Identities, wrong codes and "a code was sent" matter only between the identity list and the
  // session: a session, or its end, behaves the same whoever signed in (and the next sign-in loads
  // them afresh). Leaving them out there keeps the traversal small.
  const inCodeStep = ['selectingIdentity', 'requestingCode', 'awaitingCode', 'verifyingCode'].some((state) =>
    snapshot.matches(state),
  );
  if (!inCodeStep) return JSON.stringify(snapshot.value);
  return JSON.stringify([
    snapshot.value,
    context.identities.map((identity) => identity.accountId).join(','),
    context.codeAttempts,
    context.resendAvailableAt !== null,
  ]);
}

/**
 * Paths through {@link mrkterMachine}, with its default input.
 *
 * @example
 * ```ts
 * const paths = mrkterPaths();
 * console.log(paths.length, paths[0]?.name);
 * ```
 */
export function mrkterPaths(options: ProviderPathsOptions<MrkterInput> = {}): GeneratedPath[] {
  const now = options.now ?? Date.now();
  const inputs = options.inputs ?? [{}];
  return inputs.flatMap((input) =>
    generatePaths(mrkterMachine, { events: mrkterEvents, stateKey: mrkterStateKey, input, now }),
  );
}
