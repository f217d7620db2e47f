/**
 * A machine definition's state nodes and transitions as XState holds them (`machine.root`, each node's
 * `transitions` Map and `always` list), read into names and labels: what both the plain description
 * and the Mermaid diagram are drawn from.
 */
import type { AnyStateNode } from 'xstate';

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

export type Transition = AnyStateNode['transitions'] extends Map<string, (infer T)[]> ? T : never;

export const AFTER = 'xstate.after.';
const DONE_ACTOR = 'xstate.done.actor.';
const ERROR_ACTOR = 'xstate.error.actor.';
const DONE_STATE = 'xstate.done.state.';

export function children(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

export function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...children(node).flatMap(allNodes)];
}

export function pathOf(node: AnyStateNode): string {
  return node.path.join('.');
}

/** The node's transitions in document order: `on`, `after`, invoke done/error (XState's Map), then `always`. */
export function transitionsOf(node: AnyStateNode): { event: string; transition: Transition }[] {
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
export function guardNames(guard: unknown): string[] {
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

export function actionNames(actions: readonly unknown[]): string[] {
  return actions.filter((action) => !isTimerBookkeeping(action)).map(actionName);
}

/** The name a machine's own (setup) action goes by, or null for inline and built-in ones. */
export function namedAction(action: unknown): string | null {
  if (typeof action === 'string') return action;
  if (action && typeof action === 'object' && 'type' in action) return String(action.type);
  return null;
}

export function describeTransition(
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

export function userEvents(node: AnyStateNode): string[] {
  return [...node.transitions.keys()].filter((event) => !event.startsWith('xstate.'));
}
