/**
 * `authcharts paths [machine]`: generates the path suites of the statecharts and prints how much of
 * each machine they cover, computed by replaying them (see src/testing/paths/coverage.ts).
 */
import type { AnyStateMachine } from 'xstate';
import { marketigerMachine } from '../machines/marketigerMachine.js';
import { mrkterMachine } from '../machines/mrkterMachine.js';
import {
  type CoverageReport,
  type GeneratedPath,
  marketigerPaths,
  mrkterPaths,
  pathCoverage,
} from '../testing/paths.js';

/** The machines `paths` knows, by the name used on the command line. */
export const pathMachines: Record<string, { machine: AnyStateMachine; paths: () => GeneratedPath[] }> = {
  marketiger: { machine: marketigerMachine, paths: () => marketigerPaths() },
  mrkter: { machine: mrkterMachine, paths: () => mrkterPaths() },
};

/** The `--json` shape: covered over total per machine, and the number of paths. */
export interface PathsSummary {
  machines: Record<
    string,
    {
      states: { total: number; covered: number };
      transitions: { total: number; covered: number };
      paths: number;
    }
  >;
}

/** Coverage reports of the named machine, or of all. Throws for an unknown name. */
export function pathReports(name?: string): CoverageReport[] {
  const names = name === undefined ? Object.keys(pathMachines) : [name];
  return names.map((each) => {
    const entry = pathMachines[each];
    if (!entry) throw new Error(`Unknown machine '${each}': use ${Object.keys(pathMachines).join(' or ')}.`);
    return pathCoverage(entry.machine, entry.paths());
  });
}

/** The reports as the `--json` summary. */
export function toSummary(reports: readonly CoverageReport[]): PathsSummary {
  const machines: PathsSummary['machines'] = {};
  for (const report of reports) {
    machines[report.machine] = {
      states: { total: report.states.total, covered: report.states.covered },
      transitions: { total: report.transitions.total, covered: report.transitions.covered },
      paths: report.paths,
    };
  }
  return { machines };
}

const percent = (covered: number, total: number) => (total === 0 ? 100 : Math.floor((covered / total) * 100));

/**
 * Runs the command: prints the summary (as JSON with `json`) and returns the exit code: 0 when every
 * state and transition is covered, 1 otherwise, 2 for an unknown machine name.
 */
export function runPaths(name: string | undefined, options: { json?: boolean } = {}): number {
  if (name !== undefined && !(name in pathMachines)) {
    console.error(
      `authcharts paths: unknown machine '${name}' (use ${Object.keys(pathMachines).join(' or ')})`,
    );
    return 2;
  }
  const reports = pathReports(name);
  if (options.json) {
    console.log(JSON.stringify(toSummary(reports)));
  } else {
    for (const report of reports) {
      const { states, transitions } = report;
      console.log(`${report.machine}`);
      console.log(
        `  states       ${states.covered}/${states.total} (${percent(states.covered, states.total)} %)`,
      );
      console.log(
        `  transitions  ${transitions.covered}/${transitions.total} (${percent(transitions.covered, transitions.total)} %)`,
      );
      console.log(`  paths        ${report.paths}`);
      for (const id of states.uncovered) console.log(`  uncovered state: ${id}`);
      for (const key of transitions.uncovered) console.log(`  uncovered transition: ${key}`);
    }
  }
  const complete = reports.every(
    (r) => r.states.covered === r.states.total && r.transitions.covered === r.transitions.total,
  );
  return complete ? 0 : 1;
}
