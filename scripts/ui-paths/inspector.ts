/**
 * The inspector the suite attaches to the page's actors, and what it records.
 *
 * In the page (an init script, so it is in place before the page's own scripts run): it defines the
 * example's test hook `window.__authchartsExample.inspect` (examples/react/src/testHooks.ts), which the
 * page passes as the `inspect` option of its actors. For every microstep of a machine actor it sends
 * the state value and the keys of the transitions XState took (the same keys as `transitionKey` in
 * `authcharts/testing`) to the suite through a Playwright binding; that is the UI coverage, computed
 * from what the page did. It also notes when each pending `after` timer is due on the page's clock, so
 * the suite can run the clock exactly to the timer a step names.
 *
 * Written as a string, not a function: the suite runs under tsx, whose compiled functions call helpers
 * that do not exist in the page.
 */
import type { AnyStateMachine, StateValue } from 'xstate';
import { activeStateIds, machineGraph } from '../../src/testing/index.js';

/** The binding the page reports through. */
export const BINDING = '__uiPathsRecord';

export const inspectorScript = `(() => {
  const roots = {};
  const due = new Map();
  let sent = 0;
  const keyOf = (t) => {
    const source = t.source;
    const branches = t.eventType ? (source.transitions.get(t.eventType) || []) : (source.always || []);
    return source.id + ' ' + (t.eventType || 'always') + ' #' + branches.indexOf(t);
  };
  const scheduledOf = (actor) => actor.system.getSnapshot()._scheduledEvents || {};
  // Scheduled events are read right after the macrostep that armed them: the page's clock is paused,
  // so "now" on it is the moment they were armed.
  const noteTimers = (actor) => {
    for (const [id, event] of Object.entries(scheduledOf(actor)))
      if (!due.has(id)) due.set(id, performance.now() + event.delay - (Date.now() - event.startedAt));
  };
  const report = (payload) => {
    sent++;
    window.${BINDING}(payload);
  };
  window.__uiPaths = {
    sent: () => sent,
    timer(machine, type) {
      const actor = roots[machine];
      if (!actor) return { pending: [], remaining: null, first: null, firstRemaining: null };
      noteTimers(actor);
      const now = performance.now();
      const pending = Object.entries(scheduledOf(actor))
        .map(([id, event]) => ({ type: event.event.type, in: due.get(id) - now }))
        .sort((a, b) => a.in - b.in);
      const mine = pending.find((timer) => timer.type === type);
      return {
        pending: pending.map((timer) => timer.type),
        remaining: mine ? Math.max(0, mine.in) : null,
        first: pending[0] ? pending[0].type : null,
        firstRemaining: pending[0] ? pending[0].in : null,
      };
    },
  };
  window.__authchartsExample = {
    inspect(event) {
      const actor = event.actorRef;
      // Machine actors only (their logic has a root state node), not the promise actors they invoke.
      if (!actor || !actor.logic || !actor.logic.root) return;
      const machine = actor.logic.id;
      if (event.type === '@xstate.microstep') {
        roots[machine] = actor;
        report({ machine, value: event.snapshot.value, transitions: event._transitions.map(keyOf) });
      } else if (event.type === '@xstate.snapshot') {
        roots[machine] = actor;
        noteTimers(actor);
        report({ machine, value: event.snapshot.value, transitions: [] });
      }
    },
  };
})();`;

/** One report from the page. */
export interface PageRecord {
  machine: string;
  value: StateValue;
  transitions: string[];
}

/** What the page's timers are, as `window.__uiPaths.timer` answers. */
export interface PageTimers {
  pending: string[];
  remaining: number | null;
  first: string | null;
  firstRemaining: number | null;
}

/** The states and transitions the page took, per machine, over every path walked. */
export class UiCoverage {
  private readonly taken = new Map<string, { states: Set<string>; transitions: Set<string> }>();
  private readonly known = new Map<string, Set<string>>();
  /** Keys the page reported that the machine does not define: the page and the suite disagree. */
  readonly unknown = new Set<string>();

  constructor(private readonly machines: Record<string, AnyStateMachine>) {
    for (const [id, machine] of Object.entries(machines)) {
      this.taken.set(id, { states: new Set(), transitions: new Set() });
      this.known.set(id, new Set(machineGraph(machine).transitions));
    }
  }

  record(record: PageRecord): void {
    const machine = this.machines[record.machine];
    const taken = this.taken.get(record.machine);
    if (!machine || !taken) return;
    const known = this.known.get(record.machine) ?? new Set<string>();
    for (const id of activeStateIds(machine, record.value)) taken.states.add(id);
    for (const key of record.transitions) {
      if (known.has(key)) taken.transitions.add(key);
      else this.unknown.add(`${record.machine}: ${key}`);
    }
  }

  of(machine: string): { states: Set<string>; transitions: Set<string> } {
    return this.taken.get(machine) ?? { states: new Set(), transitions: new Set() };
  }
}
