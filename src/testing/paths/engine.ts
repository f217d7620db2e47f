/**
 * The path engine: test paths through any statechart, as plain data any runner can replay (vitest,
 * jest, Playwright against a real UI). Built on `xstate/graph`'s `getShortestPaths` and XState's pure
 * `transition` / `initialTransition`: no actor is started, nothing is executed.
 *
 * How time is handled (the machines' guards and actions read `Date.now()`): the traversal runs on a
 * virtual clock. Each generated state carries the virtual time at which it was reached; every
 * transition is computed at that time (see ./virtualTime.ts for how, and why it is the only way with
 * the machines as they are). An `xstate.after.*` event moves the clock to the moment its timer fires
 * (its delay, computed by the machine's own delay implementation from the absolute times in
 * context), and only the timer that would fire FIRST is offered, so every path is feasible in real
 * time order. The sample events are asked for with the state's virtual time (`events(snapshot, now)`),
 * so a token "valid for 1 h" expires 1 h after the step that delivers it, and each guard's branch is
 * reached by a payload chosen for it, not by luck of the wall clock.
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
  type AnyActorLogic,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  initialTransition,
  type StateValue,
  transition as xstateTransition,
} from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { dropContained, name } from './naming.js';
import { atVirtualTime } from './virtualTime.js';

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
  const initial = atVirtualTime(
    startAt,
    () => initialTransition(machine as AnyStateMachine, options.input)[0],
  ) as Snapshot;
  times.set(initial, startAt);

  // Each answer is kept per snapshot: xstate/graph walks the graph twice (shortest paths, adjacency)
  // and the paths are replayed from the same snapshots, so every question is asked again, and XState's
  // pure `transition` builds an inert actor per call. Kept by snapshot object, not by state key: a
  // path's next state is the one its own predecessor leads to.
  const successors = new WeakMap<object, Map<string, Snapshot>>();
  const enabledEvents = new WeakMap<object, TraversalEvent[]>();

  // XState's pure `transition` (the actions it returns are not executed), at the event's virtual time.
  const transition = (snapshot: Snapshot, event: TraversalEvent) => {
    const known = successors.get(snapshot) ?? new Map<string, Snapshot>();
    successors.set(snapshot, known);
    const cached = known.get(event['@label']);
    if (cached) return cached;
    const before = timeOf(snapshot);
    const sleep = event['@sleepMs'] ?? 0;
    const delay = atVirtualTime(before, () => timerDelay(machine, snapshot, event.type));
    const at = before + sleep + delay;
    const next = atVirtualTime(
      at,
      () => xstateTransition(machine as AnyStateMachine, snapshot, event)[0],
    ) as Snapshot;
    times.set(next, at);
    known.set(event['@label'], next);
    return next;
  };

  const events = (snapshot: Snapshot): TraversalEvent[] => {
    const cached = enabledEvents.get(snapshot);
    if (cached) return cached;
    const result = eventsOf(snapshot);
    enabledEvents.set(snapshot, result);
    return result;
  };

  const eventsOf = (snapshot: Snapshot): TraversalEvent[] => {
    const now = timeOf(snapshot);
    const own = new Set(__unsafe_getAllOwnEventDescriptors(snapshot));
    const samples = options.events(snapshot, now).filter((sample) => own.has(sample.event.type));
    // Only the timer that fires first: the outermost state's timer wins a tie (it was armed first).
    const timers = samples
      .filter((sample) => sample.event.type.startsWith('xstate.after.'))
      .map((sample) => ({
        type: sample.event.type,
        due: atVirtualTime(now, () => timerDelay(machine, snapshot, sample.event.type)),
        depth: afterParts(machine, sample.event.type)?.nodeId.split('.').length ?? 0,
      }))
      .sort((a, b) => a.due - b.due || a.depth - b.depth);
    const firstTimer = timers[0]?.type;
    return samples
      .filter((sample) => !sample.event.type.startsWith('xstate.after.') || sample.event.type === firstTimer)
      .filter((sample) => {
        const delay = atVirtualTime(now, () => timerDelay(machine, snapshot, sample.event.type));
        // An enabled transition, targetless ones included (`snapshot.can` says false for a transition
        // that changes nothing, such as an event a state deliberately ignores: those are transitions too).
        return atVirtualTime(
          now + (sample.sleepMs ?? 0) + delay,
          () => machine.getTransitionData(snapshot as never, sample.event).length > 0,
        );
      })
      .map(toTraversalEvent);
  };

  // The machine as xstate/graph walks it: its transitions at virtual time, from the snapshot above.
  const logic = {
    transition,
    getInitialSnapshot: () => initial,
    getPersistedSnapshot: (snapshot: Snapshot) => snapshot,
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
        const next = transition(snapshot, event);
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
