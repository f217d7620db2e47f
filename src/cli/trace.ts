/**
 * Printing a machine's transitions as they happen: the state, the event that caused it, the time
 * since the start, and one line on what the state means (the state's own `description` in the
 * machine). Used by `authcharts demo` and `login --debug`.
 */
import pc from 'picocolors';
import type { AnyStateMachine, AnyStateNode, InspectionEvent } from 'xstate';
import { marketigerMachine } from '../machines/marketigerMachine.js';
import { mrkterMachine } from '../machines/mrkterMachine.js';

/** `{ signedIn: 'active' }` → `signedIn.active`. */
export function stateToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, child]) => {
        const rest = stateToString(child);
        return rest ? `${key}.${rest}` : key;
      })
      .join(', ');
  }
  return '';
}

/**
 * The `description` of every state of `machine` that has one, keyed by dot path (`signedIn.active`,
 * as {@link stateToString} writes a value): the machines say what their states mean, not this file.
 */
export function stateDescriptions(machine: AnyStateMachine): Record<string, string> {
  const meanings: Record<string, string> = {};
  const walk = (node: AnyStateNode) => {
    if (node.path.length > 0 && node.description) meanings[node.path.join('.')] = node.description;
    for (const child of Object.values(node.states)) walk(child as AnyStateNode);
  };
  walk(machine.root);
  return meanings;
}

/**
 * What each state of both machines means to a person watching, keyed by `stateToString` of the value,
 * read from the machines' state descriptions (the states both machines have mean the same in each).
 */
export const stateMeanings: Record<string, string> = {
  ...stateDescriptions(mrkterMachine),
  ...stateDescriptions(marketigerMachine),
};

const meaningsByMachine = new WeakMap<object, Record<string, string>>();

/** The meaning of `state` in the machine the inspected actor runs, else in either machine. */
function meaningOf(logic: unknown, state: string): string {
  if (logic && typeof logic === 'object' && 'root' in logic) {
    let meanings = meaningsByMachine.get(logic);
    if (!meanings) {
      meanings = stateDescriptions(logic as AnyStateMachine);
      meaningsByMachine.set(logic, meanings);
    }
    if (meanings[state]) return meanings[state];
  }
  return stateMeanings[state] ?? '';
}

/** Event types worth naming; XState's own long names are shortened for reading. */
export function eventToString(type: string): string {
  const done = /^xstate\.done\.actor\.(.+)$/.exec(type);
  if (done) return `${done[1]} done`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(type);
  if (error) return `${error[1]} failed`;
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return `after ${after[1]}`;
  return type;
}

export interface TraceOptions {
  label: string;
  write?: (line: string) => void;
  start?: number;
}

/**
 * An `inspect` callback for `createActor` that prints every change of the root actor's state,
 * with the error kind when the context carries one. Never prints context values that are secrets.
 */
export function traceTransitions({ label, write = (l) => console.log(l), start = Date.now() }: TraceOptions) {
  let previous = '';
  return (inspection: InspectionEvent) => {
    if (inspection.type !== '@xstate.snapshot') return;
    if (inspection.actorRef.sessionId !== inspection.rootId) return;
    const snapshot = inspection.snapshot as {
      value?: unknown;
      context?: { error?: { kind?: string } | null };
    };
    const state = stateToString(snapshot.value);
    if (!state || state === previous) return;
    previous = state;
    const elapsed = `+${Date.now() - start}ms`.padStart(8);
    const kind = snapshot.context?.error?.kind;
    const meaning = meaningOf((inspection.actorRef as { logic?: unknown }).logic, state);
    write(
      `${pc.dim(elapsed)}  ${pc.cyan(label.padEnd(10))} ${pc.bold(state.padEnd(26))} ${pc.dim(`← ${eventToString(inspection.event.type)}`.padEnd(28))} ${meaning}${kind ? pc.yellow(` [${kind}]`) : ''}`,
    );
  };
}

/** Says that a secret is there and how long it is; never any of its characters. */
export function mask(secret: string | null | undefined): string {
  if (!secret) return '(none)';
  return `[hidden, ${secret.length} chars]`;
}
