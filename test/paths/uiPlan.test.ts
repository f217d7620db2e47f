/**
 * The plan of `npm run test:ui-paths` (scripts/ui-paths/plan.ts), checked without a browser: the
 * covering subset reaches all that the walkable paths reach, the page reaches every state, and every
 * transition no person can cause on the page has its reason.
 */
import { describe, expect, it } from 'vitest';
import {
  coveringSubset,
  type PlannedPath,
  planProvider,
  reachOf,
  targetOf,
  whyNotWalkable,
} from '../../scripts/ui-paths/plan.js';

function reachOfAll(paths: readonly PlannedPath[]) {
  const states = new Set<string>();
  const transitions = new Set<string>();
  const labels = new Set<string>();
  for (const planned of paths) {
    const reach = reachOf(planned);
    for (const id of reach.states) states.add(id);
    for (const key of reach.transitions) transitions.add(key);
    for (const label of reach.labels) labels.add(label);
  }
  return { states, transitions, labels };
}

describe.each(['marketiger', 'mrkter'] as const)('the UI paths plan for %s', (provider) => {
  const plan = planProvider(provider);

  it('walks a covering subset that reaches every state, transition and step the walkable paths reach', () => {
    // Act
    const subject = coveringSubset(plan.walkable);

    // Assert
    const all = reachOfAll(plan.walkable);
    const chosen = reachOfAll(subject);
    expect(chosen.states).toEqual(all.states);
    expect(chosen.transitions).toEqual(all.transitions);
    expect(chosen.labels).toEqual(all.labels);
    expect(subject.length).toBeLessThan(plan.walkable.length / 2);
  });

  it('lets a person reach every state, and gives the reason for each transition they cannot cause', () => {
    // Act
    const subject = targetOf(provider, plan);

    // Assert
    expect([...subject.states].sort()).toEqual([...subject.graph.states].sort());
    for (const key of subject.graph.transitions) {
      if (!subject.transitions.has(key)) expect(subject.reasons.get(key), key).toBeTruthy();
    }
  });

  it('lists each path a person cannot walk with the step that stops them', () => {
    for (const blocked of plan.unwalkable) {
      const before =
        blocked.step.index === 0 ? 'signedOut' : blocked.steps[blocked.step.index - 1]!.expected.name;
      expect(whyNotWalkable(provider, blocked.step, before)).toBe(blocked.reason);
    }
  });
});
