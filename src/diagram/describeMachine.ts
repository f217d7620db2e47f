/**
 * Plain descriptions of a statechart, derived from the machine definition alone (`machine.root` and its
 * state nodes), so they cannot drift from the code: no per-machine tables.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { createActor } from 'xstate';
import {
  AFTER,
  actionNames,
  allNodes,
  describeTransition,
  guardNames,
  namedAction,
  pathOf,
  type TransitionDescription,
  transitionsOf,
  userEvents,
} from './transitions.js';

/** One state node of a machine, as plain data. */
export interface StateDescription {
  /** Dot path from the root, e.g. `signedIn.active` (what `snapshot.matches` takes as a string). */
  path: string;
  key: string;
  /** Path of the parent state; `null` for top-level states. */
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Path of the initial child of a compound state, else `null`. */
  initial: string | null;
  tags: string[];
  /** The actors the state invokes while it is active. */
  invokes: { id: string; src: string }[];
  /** Entry actions by name (XState's own timer bookkeeping for `after` left out). */
  entry: string[];
  /** Exit actions by name (XState's own timer bookkeeping for `after` left out). */
  exit: string[];
  /** Events handled while in this state: its own and its ancestors' (XState's internal events left out). */
  accepts: string[];
  /** The state's `description`, when the machine gives one. */
  description: string | null;
}

/** An event the machine answers, with the states that declare a handler for it. */
export interface EventDescription {
  type: string;
  acceptedIn: string[];
}

/** A context field with its value in the initial snapshot. */
export interface ContextFieldDescription {
  name: string;
  initial: unknown;
}

/** A named actor, guard, delay or action, with the states whose definition uses it. */
export interface NamedUse {
  name: string;
  /** State paths, in document order; empty when the implementation exists but nothing refers to it. */
  usedIn: string[];
}

/** Everything {@link describeMachine} reads from a machine definition, as JSON-ready data. */
export interface MachineDescription {
  id: string;
  /** Path of the initial top-level state. */
  initial: string | null;
  states: StateDescription[];
  transitions: TransitionDescription[];
  events: EventDescription[];
  /** Fields of the initial context, in the order the machine defines them. */
  context: ContextFieldDescription[];
  actors: NamedUse[];
  guards: NamedUse[];
  delays: NamedUse[];
  actions: NamedUse[];
}

/** Options of {@link describeMachine}. */
export interface DescribeOptions {
  /** Input for the initial context, for machines whose context factory needs one. */
  input?: unknown;
}

function initialContext(machine: AnyStateMachine, options: DescribeOptions): Record<string, unknown> {
  // An actor that is never started: its initial snapshot runs the context factory and the initial
  // state's assignments, but no side effects, timers or invoked actors.
  const actor = createActor(machine, options.input === undefined ? {} : { input: options.input });
  const context: unknown = actor.getSnapshot().context;
  return context && typeof context === 'object' ? (context as Record<string, unknown>) : {};
}

function addUse(uses: Map<string, string[]>, name: string, where: string): void {
  const list = uses.get(name) ?? [];
  if (!list.includes(where)) list.push(where);
  uses.set(name, list);
}

function namedUses(implemented: object | undefined, uses: Map<string, string[]>): NamedUse[] {
  const names = [...uses.keys()];
  for (const name of Object.keys(implemented ?? {})) if (!names.includes(name)) names.push(name);
  return names.map((name) => ({ name, usedIn: uses.get(name) ?? [] }));
}

/**
 * Reads a machine definition into plain JSON data: its states (tags, invokes, entry/exit, the events
 * each accepts), every transition with its guard and actions, the events, the initial context, and
 * the named actors, guards, delays and actions with where they are used. Nothing is started.
 *
 * @example
 * ```ts
 * const { states, transitions } = describeMachine(marketigerMachine);
 * console.log(JSON.stringify(describeMachine(mrkterMachine), null, 2));
 * ```
 */
export function describeMachine(machine: AnyStateMachine, options: DescribeOptions = {}): MachineDescription {
  const nodes = allNodes(machine.root).slice(1);
  const transitions = allNodes(machine.root).flatMap((node) =>
    transitionsOf(node).map(({ event, transition }) => describeTransition(node, event, transition)),
  );

  const states = nodes.map((node): StateDescription => {
    const ancestors: AnyStateNode[] = [];
    for (let at: AnyStateNode | undefined = node; at; at = at.parent) ancestors.push(at);
    const accepts: string[] = [];
    for (const at of ancestors)
      for (const event of userEvents(at)) if (!accepts.includes(event)) accepts.push(event);
    return {
      path: pathOf(node),
      key: node.key,
      parent: node.parent && node.parent !== machine.root ? pathOf(node.parent) : null,
      type: node.type,
      initial: node.type === 'compound' ? (node.initial.target[0]?.path.join('.') ?? null) : null,
      tags: [...node.tags],
      invokes: node.invoke.map((invoke) => ({
        id: invoke.id,
        src: typeof invoke.src === 'string' ? invoke.src : invoke.id,
      })),
      entry: actionNames(node.entry),
      exit: actionNames(node.exit),
      accepts,
      description: node.description ?? null,
    };
  });

  const events: EventDescription[] = [];
  for (const node of allNodes(machine.root)) {
    for (const type of userEvents(node)) {
      const known = events.find((event) => event.type === type);
      if (known) known.acceptedIn.push(pathOf(node));
      else events.push({ type, acceptedIn: [pathOf(node)] });
    }
  }

  const actors = new Map<string, string[]>();
  const guards = new Map<string, string[]>();
  const delays = new Map<string, string[]>();
  const actions = new Map<string, string[]>();
  for (const node of allNodes(machine.root)) {
    const where = pathOf(node);
    for (const invoke of node.invoke) if (typeof invoke.src === 'string') addUse(actors, invoke.src, where);
    for (const action of [...node.entry, ...node.exit]) {
      const name = namedAction(action);
      if (name !== null) addUse(actions, name, where);
    }
    for (const { event, transition } of transitionsOf(node)) {
      for (const name of guardNames(transition.guard)) addUse(guards, name, where);
      for (const action of transition.actions) {
        const name = namedAction(action);
        if (name !== null) addUse(actions, name, where);
      }
      const delay = (transition as { delay?: unknown }).delay;
      if (event.startsWith(AFTER) && typeof delay === 'string') addUse(delays, delay, where);
    }
  }

  const context = initialContext(machine, options);
  const implementations = machine.implementations as {
    actors?: object;
    guards?: object;
    delays?: object;
    actions?: object;
  };
  return {
    id: machine.id,
    initial: machine.root.initial?.target[0]?.path.join('.') ?? null,
    states,
    transitions,
    events,
    context: Object.entries(context).map(([name, initial]) => ({ name, initial })),
    actors: namedUses(implementations.actors, actors),
    guards: namedUses(implementations.guards, guards),
    delays: namedUses(implementations.delays, delays),
    actions: namedUses(implementations.actions, actions),
  };
}
