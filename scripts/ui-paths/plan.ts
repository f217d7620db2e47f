/**
 * Which generated paths a person can walk through the React example, why the others cannot be, and the
 * covering subset the browser suite walks by default.
 *
 * A path is walkable when every step is something the page lets a person do (a form, a button, a
 * reload), a request answer the simulators can be made to give, or a timer the page's clock can run
 * to. The rules below are this example's: another page offers other controls.
 *
 * Two generations per machine. The default one (`marketigerPaths()`, `mrkterPaths()`) reaches each
 * state by its shortest path, which often starts with an event no person sends (`session.updated`
 * from another tab signs in in one step); those paths are listed with the reason. The page's own
 * generation (`filter`: only the samples a person can cause) reaches every state it can through the
 * page's own controls. The suite walks the walkable paths of both.
 *
 * The subset: greedy set cover over what the walkable paths reach (each state, each transition and each
 * step label: every way a request can end, every timer, every action), computed with the same replay as
 * `npm run paths`; at each round the path adding the most not yet reached, ties to the shorter path,
 * then by name. What the subset reaches equals what all walkable paths reach, by construction; the
 * suite then checks the page really took it (coverage from the page's own inspector).
 */

import type { AnyMachineSnapshot } from 'xstate';
import { identityProblem } from '../../src/machines/identity.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import type { MrkterIdentity } from '../../src/services/types.js';
import {
  type DriverStep,
  type GeneratedPath,
  marketigerPaths,
  mrkterPaths,
  mrkterSamples,
  type PathSample,
  pathCoverage,
  pathDriverSteps,
} from '../../src/testing/index.js';
import { stateName } from '../../src/testing/paths/naming.js';

export type Provider = 'marketiger' | 'mrkter';
export const machines = { marketiger: marketigerMachine, mrkter: mrkterMachine } as const;

/** A path with its driver steps. */
export interface PlannedPath {
  provider: Provider;
  path: GeneratedPath;
  steps: DriverStep[];
}

/** A path a person cannot walk through the page: the first step that cannot be done, and why. */
export interface Unwalkable extends PlannedPath {
  step: DriverStep;
  reason: string;
}

const FROM_ANOTHER_TAB =
  'comes from another tab through the session coordinator (`?coordinate=1`), not from a person on this page; `npm run test:coordination` drives it';
const NO_REFRESH_BUTTON =
  'the page offers no way to refresh a session that is fine (only “Retry now” after a failed refresh)';
const STALE_TOKEN =
  "the page's client reports the token its own request carried: a stale one needs a refresh to end while that request is in flight, which a person cannot time";
const NO_SIGN_OUT_THERE = 'the page shows only the sign-in form here: no Cancel or Sign out to press';

const allIdentities: MrkterIdentity[] = Object.values(mrkterSamples.identities).flat();

/** What the rules read of a step or a sample: its event and label. */
type StepLike = Pick<DriverStep, 'event' | 'label'>;

/**
 * Why a person cannot do this step on the React example (in the state named `before`, e.g.
 * `signedIn.backingOff`), or undefined when they can.
 */
export function whyNotWalkable(provider: Provider, step: StepLike, before: string): string | undefined {
  const type = step.event.type;
  if (type === 'session.updated' || type === 'session.ended') return FROM_ANOTHER_TAB;
  if (type === 'auth.refresh') return before.endsWith('backingOff') ? undefined : NO_REFRESH_BUTTON;
  if (type === 'auth.tokenRejected') return step.label.includes('stale token') ? STALE_TOKEN : undefined;
  if (type === 'auth.logout')
    return before === 'sessionExpired' || before === 'signedOut' ? NO_SIGN_OUT_THERE : undefined;
  if (type === 'auth.resume') {
    return provider === 'marketiger'
      ? 'sent by the actor itself when it starts from a persisted snapshot; this page keeps no Marketiger session across loads'
      : undefined; // Mrkter: a reload of the page with `?persist=1`
  }
  if (type === 'identity.select') {
    const identity = allIdentities.find((candidate) => candidate.accountId === step.event['accountId']);
    if (!identity) return 'the page lists only the identities the server returned';
    if (identityProblem(identity) !== null)
      return `the page disables an identity that cannot be chosen (${identityProblem(identity)})`;
    return undefined;
  }
  if (step.label === 'loadIdentities ✓ none identities') {
    return "the Mrkter service reports an empty identity list as the error no_identities itself; the machine's guard for an empty success is reached by custom actors only (test/paths/pure.test.ts)";
  }
  return undefined;
}

/** Paths of one provider from the default samples, or (`page`) from those a person can cause only. */
function generated(provider: Provider, page: boolean): GeneratedPath[] {
  const options = page
    ? {
        filter: (sample: PathSample, snapshot: AnyMachineSnapshot) =>
          whyNotWalkable(provider, sample, stateName(snapshot.value)) === undefined,
      }
    : {};
  return provider === 'marketiger' ? marketigerPaths(options) : mrkterPaths(options);
}

/**
 * The paths of one provider a person can walk (the page's own generation, and the default paths that
 * happen to be walkable, once each), and the default paths they cannot walk, with the reason.
 */
export function planProvider(provider: Provider): { walkable: PlannedPath[]; unwalkable: Unwalkable[] } {
  const machine = machines[provider];
  const walkable = new Map<string, PlannedPath>();
  const unwalkable: Unwalkable[] = [];
  for (const page of [true, false]) {
    for (const path of generated(provider, page)) {
      const steps = pathDriverSteps(machine, path);
      let before = stateName(path.initialState);
      let blocked: Unwalkable | undefined;
      for (const step of steps) {
        const reason = whyNotWalkable(provider, step, before);
        if (reason) {
          blocked = { provider, path, steps, step, reason };
          break;
        }
        before = step.expected.name;
      }
      if (page && blocked) throw new Error(`The page's own generation made an unwalkable path: ${path.name}`);
      if (blocked) unwalkable.push(blocked);
      // Both generations name a path by its steps: the same name is the same walk.
      else if (!walkable.has(path.name)) walkable.set(path.name, { provider, path, steps });
    }
  }
  return { walkable: [...walkable.values()], unwalkable };
}

/** What one path reaches: its states, transitions (the replay of `npm run paths`) and step labels. */
export function reachOf(planned: PlannedPath): { states: string[]; transitions: string[]; labels: string[] } {
  const report = pathCoverage(machines[planned.provider], [planned.path]);
  const covered = (all: { total: number; uncovered: string[] }, every: string[]) =>
    every.filter((key) => !all.uncovered.includes(key));
  const graph = graphOf(planned.provider);
  return {
    states: covered(report.states, graph.states),
    transitions: covered(report.transitions, graph.transitions),
    labels: planned.path.steps.map((step) => step.label),
  };
}

const graphs = new Map<Provider, { states: string[]; transitions: string[] }>();
function graphOf(provider: Provider) {
  let graph = graphs.get(provider);
  if (!graph) {
    const all = pathCoverage(machines[provider], []);
    graph = { states: all.states.uncovered, transitions: all.transitions.uncovered };
    graphs.set(provider, graph);
  }
  return graph;
}

/** Everything a set of paths reaches, as feature keys. */
function featuresOf(planned: PlannedPath): Set<string> {
  const reach = reachOf(planned);
  return new Set([
    ...reach.states.map((id) => `state ${id}`),
    ...reach.transitions.map((key) => `transition ${key}`),
    ...reach.labels.map((label) => `step ${label}`),
  ]);
}

/** The covering subset of `walkable` (see the module comment): same reach, far fewer paths. */
export function coveringSubset(walkable: readonly PlannedPath[]): PlannedPath[] {
  const candidates = walkable.map((planned) => ({ planned, features: featuresOf(planned) }));
  const missing = new Set(candidates.flatMap((candidate) => [...candidate.features]));
  const chosen: PlannedPath[] = [];
  while (missing.size > 0) {
    let best: (typeof candidates)[number] | undefined;
    let bestGain = 0;
    for (const candidate of candidates) {
      let gain = 0;
      for (const feature of candidate.features) if (missing.has(feature)) gain++;
      const better =
        gain > bestGain ||
        (gain === bestGain &&
          gain > 0 &&
          best !== undefined &&
          (candidate.planned.steps.length < best.planned.steps.length ||
            (candidate.planned.steps.length === best.planned.steps.length &&
              candidate.planned.path.name < best.planned.path.name)));
      if (better) {
        best = candidate;
        bestGain = gain;
      }
    }
    if (!best) break;
    chosen.push(best.planned);
    for (const feature of best.features) missing.delete(feature);
  }
  return chosen.sort((a, b) => a.path.name.localeCompare(b.path.name));
}

/**
 * The target per machine: every state and transition some walkable path takes (the pure replay), and
 * for each one no walkable path takes, the reason of a path that does take it.
 */
export function targetOf(provider: Provider, plan: { walkable: PlannedPath[]; unwalkable: Unwalkable[] }) {
  const graph = graphOf(provider);
  const states = new Set<string>();
  const transitions = new Set<string>();
  for (const planned of plan.walkable) {
    const reach = reachOf(planned);
    for (const id of reach.states) states.add(id);
    for (const key of reach.transitions) transitions.add(key);
  }
  // Each key no walkable path takes, with why: the reason of the unwalkable step that takes it, or of
  // the earlier step without which it cannot be reached (what a path reaches with a step, less what
  // it reaches without it, says which keys a step takes).
  const reasons = new Map<string, string>();
  for (const blocked of plan.unwalkable) {
    const upTo = (count: number) =>
      reachOf({ ...blocked, path: { ...blocked.path, steps: blocked.path.steps.slice(0, count) } });
    let before = upTo(blocked.step.index);
    let state =
      blocked.step.index === 0
        ? stateName(blocked.path.initialState)
        : blocked.steps[blocked.step.index - 1]!.expected.name;
    let because = '';
    for (const step of blocked.steps.slice(blocked.step.index)) {
      const own = whyNotWalkable(provider, step, state);
      because = own ? `${step.label}: ${own}` : `reached only after ${because}`;
      const after = upTo(step.index + 1);
      for (const key of [...after.states, ...after.transitions]) {
        if (before.states.includes(key) || before.transitions.includes(key)) continue;
        if (!states.has(key) && !transitions.has(key) && !reasons.has(key)) reasons.set(key, because);
      }
      before = after;
      state = step.expected.name;
    }
  }
  return { graph, states, transitions, reasons };
}
