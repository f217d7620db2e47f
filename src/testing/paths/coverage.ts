/**
 * Coverage of a machine by generated paths, computed rather than claimed: every state and every
 * transition is read from the machine's definition, and the paths are replayed through XState itself,
 * recording the transitions it actually takes from its `@xstate.microstep` inspection events.
 */
import {
  type ActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  createActor,
  type InspectionEvent,
  type StateValue,
} from 'xstate';
import type { GeneratedPath } from './engine.js';
import { atVirtualTime } from './virtualTime.js';

/** Covered over total, with what is missing. */
export interface CoverageCount {
  total: number;
  covered: number;
  /** Ids of the states, or keys of the transitions (`<source id> <event> #<branch>`), never taken. */
  uncovered: string[];
}

/** The coverage report of one machine. */
export interface CoverageReport {
  machine: string;
  states: CoverageCount;
  transitions: CoverageCount;
  paths: number;
}

/**
 * A transition's key: its source, its event (`''` for `always`) and its place among the branches for
 * that event, so each guarded branch counts on its own.
 */
export function transitionKey(transition: AnyTransitionDefinition): string {
  const source = transition.source;
  const branches = transition.eventType
    ? (source.transitions.get(transition.eventType) ?? [])
    : (source.always ?? []);
  return `${source.id} ${transition.eventType || 'always'} #${branches.indexOf(transition)}`;
}

function nodesOf(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(nodesOf)];
}

/**
 * Every state (by id, the root excluded) and every transition of a machine: `on`, `after`, invoke
 * `onDone`/`onError` (all in each node's `transitions`) and `always`, each guarded branch on its own.
 */
export function machineGraph(machine: AnyStateMachine): { states: string[]; transitions: string[] } {
  const nodes = nodesOf(machine.root);
  const transitions: string[] = [];
  for (const node of nodes) {
    for (const list of node.transitions.values()) for (const t of list) transitions.push(transitionKey(t));
    for (const t of node.always ?? []) transitions.push(transitionKey(t));
  }
  return { states: nodes.filter((node) => node !== machine.root).map((node) => node.id), transitions };
}

/** The ids of the states active in `value` (the root excluded). */
export function activeStateIds(machine: AnyStateMachine, value: StateValue): string[] {
  const ids: string[] = [];
  const walk = (node: AnyStateNode, v: StateValue) => {
    if (typeof v === 'string') {
      const child = (node.states as Record<string, AnyStateNode>)[v];
      if (child) ids.push(child.id);
      return;
    }
    for (const [key, sub] of Object.entries(v)) {
      const child = (node.states as Record<string, AnyStateNode>)[key];
      if (!child) continue;
      ids.push(child.id);
      if (sub !== undefined) walk(child, sub as StateValue);
    }
  };
  walk(machine.root, value);
  return ids;
}

/**
 * Replays paths through `machine` and reports which states and transitions they take, out of all the
 * machine defines. Each step runs at the virtual time it was generated at, so time-reading guards
 * decide as they did during generation.
 *
 * @example
 * ```ts
 * const report = pathCoverage(marketigerMachine, marketigerPaths());
 * console.log(report.transitions.covered, '/', report.transitions.total, report.transitions.uncovered);
 * ```
 */
export function pathCoverage(machine: AnyStateMachine, paths: readonly GeneratedPath[]): CoverageReport {
  const graph = machineGraph(machine);
  const takenTransitions = new Set<string>();
  const visitedStates = new Set<string>();
  const record = (event: InspectionEvent) => {
    if (event.type !== '@xstate.microstep') return;
    for (const t of event._transitions) takenTransitions.add(transitionKey(t));
    // Transient states (left by `always` in the same macrostep) appear only in microstep snapshots.
    for (const id of activeStateIds(machine, (event.snapshot as AnyMachineSnapshot).value))
      visitedStates.add(id);
  };

  for (const path of paths) {
    // An actor that is never started: its scope delivers inspection events, and nothing runs.
    const scope = unstartedActorScope(machine, path.input, record);
    let snapshot = atVirtualTime(path.startAt, () =>
      machine.getInitialSnapshot(scope, path.input),
    ) as AnyMachineSnapshot;
    for (const id of activeStateIds(machine, snapshot.value)) visitedStates.add(id);
    for (const step of path.steps) {
      const current = snapshot;
      snapshot = atVirtualTime(step.at, () =>
        machine.transition(current, step.event, scope),
      ) as AnyMachineSnapshot;
      for (const id of activeStateIds(machine, snapshot.value)) visitedStates.add(id);
    }
  }

  const count = (all: string[], seen: Set<string>): CoverageCount => {
    const uncovered = all.filter((key) => !seen.has(key));
    return { total: all.length, covered: all.length - uncovered.length, uncovered };
  };
  return {
    machine: machine.id,
    states: count(graph.states, visitedStates),
    transitions: count(graph.transitions, takenTransitions),
    paths: paths.length,
  };
}

/**
 * The scope XState gives the logic of an actor created (never started) with `input` and `inspect`:
 * an actor hands its scope to its logic's `getInitialSnapshot(scope, input)`, the public `ActorLogic`
 * contract, and that call is where it is taken. Transitions computed with it (`machine.transition(
 * snapshot, event, scope)`) execute nothing and report their microsteps, with the transitions each
 * took, to `inspect`: what XState's pure `transition` does not offer.
 */
export function unstartedActorScope(
  machine: AnyStateMachine,
  input?: unknown,
  inspect?: (event: InspectionEvent) => void,
): ActorScope<any, any, any, any> {
  let scope: ActorScope<any, any, any, any> | undefined;
  const logic = Object.create(machine, {
    getInitialSnapshot: {
      value: (actorScope: ActorScope<any, any, any, any>, actorInput: unknown) => {
        scope = actorScope;
        return machine.getInitialSnapshot(actorScope, actorInput);
      },
    },
  }) as AnyStateMachine;
  createActor(logic, { input, ...(inspect ? { inspect } : {}) } as never);
  if (!scope) throw new Error('XState created an actor without asking its logic for an initial snapshot');
  return scope;
}
