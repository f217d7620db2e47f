/**
 * Diagrams and plain descriptions of a statechart, derived from the machine definition alone
 * (`machine.root` and its state nodes), so they cannot drift from the code: no per-machine tables.
 *
 * The Mermaid output keeps to the part of `stateDiagram-v2` whose parsing is plain: one statement a
 * line, ids of letters, digits and `_`, labels without the characters its lexer treats specially
 * (`:` `;` `#` `%` quotes braces angle brackets), `state "label" as id` for nested names, every
 * state declared once in its parent's block, and edges between states of different blocks written
 * at the top level (Mermaid moves a state into the last block that names it).
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { createActor } from 'xstate';

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

/** One transition (one branch of a guarded list counts as one). */
export interface TransitionDescription {
  /** Path of the state that declares it (`''` for the machine's root). */
  source: string;
  /** The full event type, e.g. `xstate.done.actor.login`, `xstate.after.untilRefresh.marketiger.signedIn.active`, or `''` for `always`. */
  event: string;
  /** The event shortened for reading: `auth.login`, `done login`, `error login`, `after untilRefresh`, `always`. */
  label: string;
  kind: 'event' | 'after' | 'done' | 'error' | 'always';
  /** Target paths; empty for a targetless transition (actions only, or an event deliberately ignored). */
  targets: string[];
  /** The guard as text (`isCurrentToken`, `not isCurrentToken`, `a and b`), or `null`. */
  guard: string | null;
  actions: string[];
  /** True when the transition exits and re-enters its source (or target ancestor), re-running entry and timers. */
  reenter: boolean;
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

type Transition = AnyStateNode['transitions'] extends Map<string, (infer T)[]> ? T : never;

const AFTER = 'xstate.after.';
const DONE_ACTOR = 'xstate.done.actor.';
const ERROR_ACTOR = 'xstate.error.actor.';
const DONE_STATE = 'xstate.done.state.';

function children(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...children(node).flatMap(allNodes)];
}

function pathOf(node: AnyStateNode): string {
  return node.path.join('.');
}

/** The node's transitions in document order: `on`, `after`, invoke done/error (XState's Map), then `always`. */
function transitionsOf(node: AnyStateNode): { event: string; transition: Transition }[] {
  const list: { event: string; transition: Transition }[] = [];
  for (const [event, transitions] of node.transitions) {
    for (const transition of transitions) list.push({ event, transition });
  }
  for (const transition of node.always ?? []) list.push({ event: '', transition });
  return list;
}

function kindOf(event: string): TransitionDescription['kind'] {
  if (event === '') return 'always';
  if (event.startsWith(AFTER)) return 'after';
  if (event.startsWith(DONE_ACTOR) || event.startsWith(DONE_STATE)) return 'done';
  if (event.startsWith(ERROR_ACTOR)) return 'error';
  return 'event';
}

/** `xstate.after.untilRefresh.m.a` → `after untilRefresh`; numeric delays get their unit. */
function eventLabel(event: string, transition: Transition): string {
  if (event === '') return 'always';
  if (event.startsWith(AFTER)) {
    const delay = (transition as { delay?: unknown }).delay ?? event.slice(AFTER.length).split('.')[0];
    return typeof delay === 'number' ? `after ${delay}ms` : `after ${String(delay)}`;
  }
  if (event.startsWith(DONE_ACTOR)) return `done ${event.slice(DONE_ACTOR.length)}`;
  if (event.startsWith(ERROR_ACTOR)) return `error ${event.slice(ERROR_ACTOR.length)}`;
  // The done event of a compound state whose child reached a final state.
  if (event.startsWith(DONE_STATE)) return 'done';
  if (event === '*') return 'any event';
  return event;
}

/** A guard as text; `not`, `and`, `or` are functions carrying their operands in `guards`. */
function guardText(guard: unknown, nested = false): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const operands = (guard as { guards?: unknown[] }).guards;
    if (Array.isArray(operands)) {
      if (guard.name === 'not') return `not ${guardText(operands[0], true)}`;
      if (guard.name === 'and' || guard.name === 'or') {
        const text = operands.map((operand) => guardText(operand, true)).join(` ${guard.name} `);
        return nested ? `(${text})` : text;
      }
    }
    // An inline function: XState names it after the `guard` key it was written under.
    return guard.name && guard.name !== 'guard' ? guard.name : 'inline guard';
  }
  if (guard && typeof guard === 'object' && 'type' in guard) return String(guard.type);
  return 'guard';
}

/** Names of the guards a guard refers to (operands of `not`/`and`/`or` included). */
function guardNames(guard: unknown): string[] {
  if (typeof guard === 'string') return [guard];
  if (typeof guard === 'function') {
    const operands = (guard as { guards?: unknown[] }).guards;
    return Array.isArray(operands) ? operands.flatMap(guardNames) : [];
  }
  if (guard && typeof guard === 'object' && 'type' in guard) return [String(guard.type)];
  return [];
}

/** XState schedules and cancels `after` timers through entry raises and exit cancels of its own. */
function isTimerBookkeeping(action: unknown): boolean {
  if (typeof action !== 'function') return false;
  const { type, id, sendId } = action as { type?: unknown; id?: unknown; sendId?: unknown };
  if (type === 'xstate.raise') return typeof id === 'string' && id.startsWith(AFTER);
  if (type === 'xstate.cancel') return typeof sendId === 'string' && sendId.startsWith(AFTER);
  return false;
}

function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') {
    const type = (action as { type?: unknown }).type;
    if (typeof type === 'string') return type.replace(/^xstate\./, '');
    return action.name || 'inline action';
  }
  if (action && typeof action === 'object' && 'type' in action) return String(action.type);
  return 'action';
}

function actionNames(actions: readonly unknown[]): string[] {
  return actions.filter((action) => !isTimerBookkeeping(action)).map(actionName);
}

/** The name a machine's own (setup) action goes by, or null for inline and built-in ones. */
function namedAction(action: unknown): string | null {
  if (typeof action === 'string') return action;
  if (action && typeof action === 'object' && 'type' in action) return String(action.type);
  return null;
}

function describeTransition(
  node: AnyStateNode,
  event: string,
  transition: Transition,
): TransitionDescription {
  return {
    source: pathOf(node),
    event,
    label: eventLabel(event, transition),
    kind: kindOf(event),
    targets: (transition.target ?? []).map((target: AnyStateNode) => pathOf(target)),
    guard: transition.guard === undefined ? null : guardText(transition.guard),
    actions: actionNames(transition.actions),
    reenter: transition.reenter,
  };
}

function userEvents(node: AnyStateNode): string[] {
  return [...node.transitions.keys()].filter((event) => !event.startsWith('xstate.'));
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

/**
 * Text made safe for a Mermaid label or note: the state diagram lexer ends a label at `:` or `;`,
 * reads `#` and `%%` as comments, `"` as the end of a name, braces as blocks, `<<fork>>`-like
 * markers as pseudo-states, and `direction LR` anywhere on a line as a layout statement.
 */
function safeText(text: string): string {
  return text
    .replace(/[:;#%"{}<>\r\n\t]/g, ' ')
    .replace(/\bdirection(\s+)(TB|BT|RL|LR)\b/gi, 'direction-$2')
    .replace(/\bend(\s+)note\b/gi, 'end-note')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Words the lexer takes as keywords at the start of a statement (case-insensitive). */
const RESERVED_IDS =
  /^(state|note|class|classdef|scale|default|direction|hide|acctitle|accdescr|end|click|style|statediagram)/i;

/** Mermaid ids: letters, digits and `_` (no dots: `.` in an id breaks the DOM selectors Mermaid builds). */
function assignIds(root: AnyStateNode): Map<AnyStateNode, string> {
  const ids = new Map<AnyStateNode, string>();
  const taken = new Set<string>();
  for (const node of allNodes(root).slice(1)) {
    let base = (node.path.length === 1 ? node.key : node.path.join('_')).replace(/[^A-Za-z0-9_]/g, '_');
    if (base === '' || /^\d/.test(base) || RESERVED_IDS.test(base)) base = `s_${base}`;
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    taken.add(id);
    ids.set(node, id);
  }
  return ids;
}

/** Where an edge is written: its composite when both ends are children of it, else the top level. */
function homeBlock(source: AnyStateNode, target: AnyStateNode, root: AnyStateNode): AnyStateNode {
  return source.parent !== undefined && source.parent === target.parent ? source.parent : root;
}

function edgeLabel(transition: TransitionDescription): string {
  const guard = transition.guard === null ? '' : ` [${transition.guard}]`;
  const reenter = transition.reenter ? ' (reenter)' : '';
  return safeText(`${transition.label}${guard}${reenter}`);
}

/**
 * A Mermaid `stateDiagram-v2` of the machine, drawn from its definition: nested states as composite
 * states, `[*]` arrows for initial and final states, one arrow per transition (each branch of a
 * guarded list is its own arrow, labelled `event [guard]`; re-entering ones say `(reenter)`), and the
 * transitions that leave no state (actions only, or an event deliberately ignored) as a note on their
 * state.
 *
 * @example
 * ```ts
 * import { machineToMermaid } from 'authcharts/testing';
 * writeFileSync('marketiger.mmd', machineToMermaid(marketigerMachine));
 * ```
 */
export function machineToMermaid(machine: AnyStateMachine): string {
  const root = machine.root;
  const ids = assignIds(root);
  const idOf = (node: AnyStateNode): string => ids.get(node) ?? 'root_any';
  const lines = ['stateDiagram-v2'];
  // Edges go in the block of a composite only when both ends are its direct children; everything
  // else at the top level, where naming a nested state does not move it.
  const topLevelEdges: string[] = [];
  let needsAnyState = false;

  const edgesOf = (node: AnyStateNode) =>
    transitionsOf(node).map(({ event, transition }) => ({
      transition,
      description: describeTransition(node, event, transition),
    }));

  const writeBlock = (block: AnyStateNode, indent: string): void => {
    const kids = children(block);
    kids.forEach((child, index) => {
      if (block.type === 'parallel' && index > 0) lines.push(`${indent}--`);
      const id = idOf(child);
      const label = safeText(child.key).replace(/[[\]]/g, ' ').trim();
      const alias = label === id ? '' : `"${label}" as `;
      if (child.type === 'compound' || child.type === 'parallel') {
        lines.push(`${indent}state ${alias}${id} {`);
        writeBlock(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(alias === '' ? `${indent}${id}` : `${indent}state ${alias}${id}`);
      }
      const stays = edgesOf(child).filter(({ description }) => description.targets.length === 0);
      if (stays.length > 0) {
        lines.push(`${indent}note right of ${id}`);
        for (const { description } of stays) {
          const guard = description.guard === null ? '' : ` [${description.guard}]`;
          const line =
            description.actions.length === 0
              ? `ignores ${description.label}${guard}`
              : `stays on ${description.label}${guard} / ${description.actions.join(', ')}`;
          lines.push(`${indent}  ${safeText(line)}`);
        }
        lines.push(`${indent}end note`);
      }
    });
    if (block.type === 'compound') {
      const initial = block.initial.target[0];
      if (initial) lines.push(`${indent}[*] --> ${idOf(initial)}`);
    }
    for (const child of kids) {
      if (child.type === 'final') lines.push(`${indent}${idOf(child)} --> [*]`);
    }
    const sources = block === root ? allNodes(root) : kids;
    for (const node of sources) {
      for (const { transition, description } of edgesOf(node)) {
        for (const target of (transition.target ?? []) as AnyStateNode[]) {
          if (homeBlock(node, target, root) !== block) continue;
          if (node === root) needsAnyState = true;
          const arrow = `${idOf(node)} --> ${idOf(target)} : ${edgeLabel(description)}`;
          if (block === root) topLevelEdges.push(arrow);
          else lines.push(`${indent}${arrow}`);
        }
      }
    }
  };

  writeBlock(root, '  ');
  // Transitions of the machine root itself apply in every state: drawn from one "any state" box.
  if (needsAnyState) lines.push('  state "any state" as root_any');
  for (const edge of topLevelEdges) lines.push(`  ${edge}`);
  return `${lines.join('\n')}\n`;
}
