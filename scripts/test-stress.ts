/**
 * `npm run test:stress`: the three suites (`npm test`, `npm run test:coordination`,
 * `npm run test:browser`), run again and again while other processes keep every core busy, to find
 * tests that pass only on a quiet machine. Not part of `.ci/run`: it takes about an hour for 20 runs.
 *
 * Load: Debian's `stress-ng --cpu N` when it is installed, otherwise N busy child processes of its
 * own (N = the number of cores unless `--load` says otherwise). A run is green when all three suites
 * exit 0; the output of a suite that failed is kept in test-results/stress/ for reading.
 *
 *   npm run test:stress                       # 20 runs of all three suites, one busy process per core
 *   npm run test:stress -- --runs 3 --suites test,coordination --load 4
 *   npm run test:stress -- --runs 5 --suites ui-paths   # the path-driven browser suite, on request
 *
 * Ends with `N of M runs green` and exits non-zero unless every run was green.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const suites = {
  test: ['npm', ['test']],
  coordination: ['npm', ['run', 'test:coordination']],
  browser: ['npm', ['run', 'test:browser']],
  // On request only (`--suites ui-paths`): a few minutes a run on top of the three.
  'ui-paths': ['npm', ['run', 'test:ui-paths']],
} as const satisfies Record<string, readonly [string, readonly string[]]>;
type Suite = keyof typeof suites;

const repo = fileURLToPath(new URL('..', import.meta.url));
const logs = join(repo, 'test-results', 'stress');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    load: { type: 'string', default: String(availableParallelism()) },
    suites: { type: 'string', default: 'test,coordination,browser' },
  },
});
const runs = Number(values.runs);
const load = Number(values.load);
const chosen = values.suites.split(',').map((name) => name.trim()) as Suite[];
for (const name of chosen) {
  if (!(name in suites)) {
    console.error(`unknown suite '${name}': choose from ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
}
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(load) || load < 0) {
  console.error('--runs takes a whole number ≥ 1, --load a whole number ≥ 0');
  process.exit(2);
}

/** Keeps `count` cores busy until stopped. */
function startLoad(count: number): { what: string; stop(): void } {
  if (count === 0) return { what: 'no load', stop() {} };
  if (spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).status === 0) {
    const child = spawn('stress-ng', ['--cpu', String(count), '--quiet'], { stdio: 'ignore' });
    return { what: `stress-ng --cpu ${count}`, stop: () => child.kill('SIGTERM') };
  }
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ['-e', 'for (;;) Math.sqrt(Math.random())'], { stdio: 'ignore' }));
  }
  return {
    what: `${count} busy node processes`,
    stop() {
      for (const child of children) child.kill('SIGKILL');
    },
  };
}

/** Runs one suite to the end, keeping its output; resolves with whether it exited 0 and how long it took. */
function runSuite(suite: Suite): Promise<{ ok: boolean; seconds: number; output: string }> {
  const [command, args] = suites[suite];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repo, env: { ...process.env, FORCE_COLOR: '0' } });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('close', (code) =>
      resolve({
        ok: code === 0,
        seconds: (performance.now() - started) / 1000,
        output: Buffer.concat(chunks).toString('utf8'),
      }),
    );
  });
}

/** The names of the tests that failed, as vitest and the browser script print them. */
function failures(output: string): string[] {
  const lines = output.split('\n');
  const names = lines.filter((line) => /^\s*(FAIL|✘|×)\s/.test(line)).map((line) => line.trim());
  return [...new Set(names)].slice(0, 10);
}

const loadProcess = startLoad(load);
const stopLoad = () => loadProcess.stop();
process.on('exit', stopLoad);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopLoad();
    process.exit(130);
  });
}

await mkdir(logs, { recursive: true });
console.log(`${runs} runs of ${chosen.join(', ')} under load (${loadProcess.what})`);
let green = 0;
const failedTests = new Map<string, number>();
for (let run = 1; run <= runs; run++) {
  const parts: string[] = [];
  let ok = true;
  for (const suite of chosen) {
    const result = await runSuite(suite);
    parts.push(`${suite} ${result.ok ? 'ok' : 'FAILED'} ${result.seconds.toFixed(0)} s`);
    if (!result.ok) {
      ok = false;
      const file = join(logs, `run-${run}-${suite}.log`);
      await writeFile(file, result.output);
      for (const name of failures(result.output)) failedTests.set(name, (failedTests.get(name) ?? 0) + 1);
      parts.push(`(output in ${file.slice(repo.length)})`);
    }
  }
  if (ok) green++;
  console.log(`run ${run}/${runs}: ${ok ? 'green' : 'RED'}: ${parts.join(', ')}`);
}
stopLoad();
if (failedTests.size > 0) {
  console.log('\nTests that failed at least once:');
  for (const [name, count] of failedTests) console.log(`  ${count}× ${name}`);
}
console.log(`\n${green} of ${runs} runs green`);
process.exit(green === runs ? 0 : 1);
