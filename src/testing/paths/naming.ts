/** Which generated paths are kept, and what each is called. */
import type { StateValue } from 'xstate';
import type { GeneratedPath } from './engine.js';

/** Drops every label path that is a prefix of (or equal to) another: replaying the longer one walks it too. */
export function dropContained(labelPaths: string[][]): string[][] {
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

/** A state value as one string: `signedOut`, `signedIn.active` (parallel regions joined with a comma). */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, child]) => (child === undefined ? key : `${key}.${stateName(child as StateValue)}`))
    .join(',');
}

/** Names each path from its steps' labels and final state (unique: repeats get `#2`, `#3`), sorted by name. */
export function name(paths: GeneratedPath[], prefix: string): GeneratedPath[] {
  const seen = new Map<string, number>();
  const named = paths.map((path) => {
    const base = `${prefix}${path.steps.map((step) => step.label).join(' → ')} ⇒ ${stateName(path.steps.at(-1)!.state)}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { ...path, name: count === 1 ? base : `${base} #${count}` };
  });
  return named.sort((a, b) => a.name.localeCompare(b.name));
}
