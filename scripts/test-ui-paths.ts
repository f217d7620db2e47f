/**
 * `npm run test:ui-paths`: generated paths drive the React example in Chromium, as a person would.
 *
 * For each path of both machines that a person can walk through the page (scripts/ui-paths/plan.ts
 * says which, and why not for the others), the built page is opened in a fresh browser context against
 * fresh simulators, every step is performed through the page (typing, clicking, a reload; requests are
 * held until the step that answers them; timers run on the page's paused clock: scripts/ui-paths/
 * walk.ts), and after every step the page must show the expected state: its `data-state` and the screen
 * for it (scripts/ui-paths/screens.ts). UI coverage is computed from an inspector attached to the page's
 * actors (scripts/ui-paths/inspector.ts), and must equal what the walkable paths reach: every state,
 * and every transition a person can cause.
 *
 * By default the covering subset of the walkable paths is walked (greedy set cover over the states,
 * transitions and step labels they reach, see plan.ts); `--all` walks every walkable path.
 * `--grep REGEXP` walks only those of them whose name matches (coverage is then reported, not
 * required); `--pages N` sets how many pages walk at once (default 3).
 *
 * Output: one line per path, a bug report for each failure (the path, the step, the expected and the
 * shown state, what is wrong on screen, a screenshot in test-results/ui-paths/), the coverage per
 * machine, and test-results/ui-paths/report.md with every path walked and every path that cannot be,
 * with the reason. The exit code is non-zero on any failure or missing coverage; the run gives up
 * after 15 minutes whatever happens.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildExample, launchChromium, repo, serveStatic } from './browser.js';
import { UiCoverage } from './ui-paths/inspector.js';
import {
  coveringSubset,
  machines,
  type PlannedPath,
  type Provider,
  planProvider,
  targetOf,
  type Unwalkable,
} from './ui-paths/plan.js';
import { type WalkResult, walk } from './ui-paths/walk.js';

const RUN_LIMIT_MS = 15 * 60_000;
/** A safety net per step on a loaded machine; the page is waited for, never slept on. */
const STEP_TIMEOUT_MS = 20_000;
const results = join(repo, 'test-results', 'ui-paths');
const providers: Provider[] = ['marketiger', 'mrkter'];

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const all = process.argv.includes('--all');
const grep = option('--grep');
const pages = Math.max(1, Number(option('--pages') ?? 3));

interface Walked {
  planned: PlannedPath;
  id: string;
  result: WalkResult;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rel = (file: string) => relative(repo, file);

function printResult({ planned, id, result }: Walked): void {
  const head = `[${planned.provider}] ${planned.path.name}`;
  if (result.ok) {
    console.log(`✔ ${head} (${seconds(result.ms)})`);
    return;
  }
  const f = result.failure;
  const lines = [
    `✘ ${head}`,
    `    path:     ${id}, ${f.steps} steps`,
    `    step ${f.step} of ${f.steps}: ${f.label}`,
    `    expected: ${f.expected}`,
    `    shown:    ${f.shown}`,
    ...f.problems.map((problem) => `    - ${problem}`),
    ...(f.screenshot ? [`    screenshot: ${rel(f.screenshot)}`] : []),
  ];
  console.log(lines.join('\n'));
}

async function walkAll(
  browser: Browser,
  pageUrl: string,
  queue: Array<{ planned: PlannedPath; id: string }>,
  coverage: UiCoverage,
) {
  const walked: Walked[] = [];
  const worker = async () => {
    for (;;) {
      const next = queue.shift();
      if (!next) return;
      const result = await walk(
        { browser, pageUrl, coverage, stepTimeoutMs: STEP_TIMEOUT_MS, screenshots: results },
        next.planned,
        next.id,
      );
      const entry = { ...next, result };
      walked.push(entry);
      printResult(entry);
    }
  };
  await Promise.all(Array.from({ length: pages }, worker));
  return walked;
}

interface MachineReport {
  provider: Provider;
  states: { covered: number; total: number; target: number; missing: string[]; beyond: string[] };
  transitions: { covered: number; total: number; target: number; missing: string[]; beyond: string[] };
  /** Keys of the machine no walkable path takes, with why. */
  reasons: Map<string, string>;
  walkable: number;
  walked: number;
  generated: number;
  unwalkable: Unwalkable[];
}

function coverageReport(
  provider: Provider,
  plan: ReturnType<typeof planProvider>,
  walked: number,
  coverage: UiCoverage,
): MachineReport {
  const target = targetOf(provider, plan);
  const taken = coverage.of(provider);
  const part = (all: string[], want: Set<string>, got: Set<string>) => ({
    covered: all.filter((key) => got.has(key)).length,
    total: all.length,
    target: want.size,
    missing: [...want].filter((key) => !got.has(key)),
    beyond: [...got].filter((key) => !want.has(key)),
  });
  return {
    provider,
    states: part(target.graph.states, target.states, taken.states),
    transitions: part(target.graph.transitions, target.transitions, taken.transitions),
    reasons: target.reasons,
    walkable: plan.walkable.length,
    walked,
    generated: plan.walkable.length + plan.unwalkable.length,
    unwalkable: plan.unwalkable,
  };
}

function printCoverage(report: MachineReport, required: boolean): void {
  const { states, transitions } = report;
  console.log(`\n${report.provider}: UI coverage from the page's inspector`);
  console.log(`  states       ${states.covered}/${states.total} (a person can reach ${states.target})`);
  console.log(
    `  transitions  ${transitions.covered}/${transitions.total} (a person can cause ${transitions.target})`,
  );
  console.log(
    `  paths        ${report.walked} walked of ${report.walkable} walkable; ${report.unwalkable.length} generated paths cannot be walked`,
  );
  if (!required) return;
  for (const key of [...states.missing, ...transitions.missing])
    console.log(`  ✘ not taken by the page: ${key}`);
  const uncovered = [...report.reasons.entries()];
  if (uncovered.length) console.log('  not reachable through the page:');
  for (const [key, reason] of uncovered) console.log(`    ${key}\n      ${reason}`);
}

function markdown(reports: MachineReport[], walked: Walked[], wallMs: number): string {
  const lines = ['# UI paths: the React example driven by generated paths', ''];
  lines.push(
    `Run: ${new Date().toISOString()}, ${seconds(wallMs)}, ${all ? 'every walkable path' : grep ? `paths matching “${grep}”` : 'the covering subset'}.`,
    '',
  );
  for (const report of reports) {
    lines.push(`## ${report.provider}`, '');
    lines.push(
      `- states: ${report.states.covered}/${report.states.total} taken by the page (${report.states.target} reachable by a person)`,
    );
    lines.push(
      `- transitions: ${report.transitions.covered}/${report.transitions.total} taken by the page (${report.transitions.target} a person can cause)`,
    );
    lines.push(
      `- paths: ${report.walked} walked, ${report.walkable} walkable, ${report.unwalkable.length} of the default generation cannot be walked`,
      '',
    );
    lines.push('### Not reachable through the page', '', '| state or transition | why |', '| --- | --- |');
    for (const [key, reason] of report.reasons)
      lines.push(`| \`${key}\` | ${reason.replaceAll('|', '\\|')} |`);
    lines.push('', '### Paths walked', '');
    for (const entry of walked.filter((w) => w.planned.provider === report.provider))
      lines.push(`- ${entry.result.ok ? '✔' : '✘'} ${entry.planned.path.name} (${seconds(entry.result.ms)})`);
    lines.push(
      '',
      '### Generated paths a person cannot walk',
      '',
      '| path | step | why |',
      '| --- | --- | --- |',
    );
    for (const blocked of report.unwalkable)
      lines.push(
        `| ${blocked.path.name} | ${blocked.step.index + 1}: ${blocked.step.label} | ${blocked.reason.replaceAll('|', '\\|')} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}

async function main(cleanup: Array<() => Promise<unknown>>): Promise<boolean> {
  const started = Date.now();
  await rm(results, { recursive: true, force: true });
  await mkdir(results, { recursive: true });

  const plans = Object.fromEntries(providers.map((provider) => [provider, planProvider(provider)])) as Record<
    Provider,
    ReturnType<typeof planProvider>
  >;
  const queue: Array<{ planned: PlannedPath; id: string }> = [];
  for (const provider of providers) {
    const walkable = plans[provider].walkable;
    const pattern = grep === undefined ? undefined : new RegExp(grep);
    const chosen = (all ? walkable : coveringSubset(walkable)).filter(
      (planned) => !pattern || pattern.test(planned.path.name),
    );
    for (const [index, planned] of chosen.entries())
      queue.push({ planned, id: `${provider}-${String(index + 1).padStart(3, '0')}` });
  }
  const counts = providers
    .map((p) => `${p} ${queue.filter((q) => q.planned.provider === p).length}`)
    .join(', ');
  if (queue.length === 0) throw new Error(`no path to walk${grep ? ` matches ${grep}` : ''}`);
  console.log(
    `planned in ${seconds(Date.now() - started)}: ${queue.length} paths to walk (${counts}), ${pages} pages at once`,
  );

  const work = await mkdtemp(join(tmpdir(), 'authcharts-ui-paths-'));
  cleanup.push(() => rm(work, { recursive: true, force: true }));
  const out = join(work, 'react');
  await buildExample('react', out);
  const { url, server } = await serveStatic({ react: out });
  cleanup.push(() => new Promise((done) => server.close(done)));
  console.log(`built the React example in ${seconds(Date.now() - started)}`);

  const browser = await launchChromium();
  cleanup.push(() => browser.close());
  const coverage = new UiCoverage(machines);
  const walked = await walkAll(browser, `${url}/react/index.html`, queue, coverage);

  const reports = providers.map((provider) =>
    coverageReport(
      provider,
      plans[provider],
      walked.filter((w) => w.planned.provider === provider).length,
      coverage,
    ),
  );
  // With --grep only some paths walk: coverage is reported, not required.
  for (const report of reports) printCoverage(report, grep === undefined);
  await writeFile(join(results, 'report.md'), markdown(reports, walked, Date.now() - started));

  const failed = walked.filter((entry) => !entry.result.ok).length;
  const missing = grep
    ? 0
    : reports.reduce((n, r) => n + r.states.missing.length + r.transitions.missing.length, 0);
  for (const key of coverage.unknown)
    console.log(`✘ the page reported a transition the machine does not define: ${key}`);
  console.log(
    `\n${walked.length - failed} passed, ${failed} failed${missing ? `, ${missing} states or transitions not taken` : ''} (${seconds(Date.now() - started)}; report in ${rel(join(results, 'report.md'))})`,
  );
  return failed === 0 && missing === 0 && coverage.unknown.size === 0 && walked.length > 0;
}

async function run(): Promise<number> {
  const cleanup: Array<() => Promise<unknown>> = [];
  let timer: NodeJS.Timeout | undefined;
  let ok = false;
  try {
    ok = (await Promise.race([
      main(cleanup),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`gave up after ${RUN_LIMIT_MS / 60_000} minutes`)),
          RUN_LIMIT_MS,
        );
      }),
    ])) as boolean;
  } catch (error) {
    console.log(
      `✘ the run stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    clearTimeout(timer);
    for (const close of cleanup.reverse()) {
      await Promise.race([close(), new Promise((r) => setTimeout(r, 5_000))]).catch(() => {});
    }
  }
  return ok ? 0 : 1;
}

// process.exit: a stray handle (a keep-alive socket, a held request) must not keep CI waiting.
run().then((code) => process.exit(code));
