/**
 * The benchmark harness runs end to end in quick mode, as a child process the way `npm run bench` runs
 * it, and exits on its own. Only outcomes are asserted, never timings: the storm after
 * `expireAccessTokens()` makes exactly one refresh and every request of it succeeds. The scripts that
 * take a figure apart by hand (docs/benchmarks.md) run too, at the smallest sizes, and print every row.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const workDir = mkdtempSync(join(tmpdir(), 'authcharts-bench-'));

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs a benchmark script (`bench/<script>` and its arguments) as `npx tsx` would. */
function runBench(script: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code, output }));
  });
}

describe('npm run bench -- --quick', () => {
  it('runs every benchmark, exits by itself, and the storm makes one refresh with every request succeeding', async () => {
    // Arrange
    const out = join(workDir, 'results.json');

    // Act
    const subject = await runBench(['bench/run.ts', '--quick', '--out', out, '--docs', 'none']);

    // Assert
    expect(subject.code, subject.output).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.mode).toBe('quick');
    expect(results.storm.refreshes).toBe(1);
    expect(results.storm.successes).toBe(results.storm.burst);
    // The stable keys of bench/results.json, each a number (the auth layer's difference may be below 0 on
    // a tiny quick run; everything else is positive).
    expect(typeof results.auth_layer_us).toBe('number');
    for (const key of [
      'overhead_ratio',
      'axios_auth_refresh_overhead_ratio',
      'session_heap_bytes',
      'refresh_spread_s',
      'flow_ratio.marketiger',
      'flow_ratio.mrkter',
      'bundle_gzip_bytes.marketiger',
      'bundle_gzip_bytes.mrkter',
      'bundle_gzip_bytes.all',
      'import_ms.require',
      'import_ms.import',
      'path_generation_ms.marketiger',
      'path_generation_ms.mrkter',
    ]) {
      const value = key.split('.').reduce((at, part) => at?.[part], results);
      expect(value, key).toBeGreaterThan(0);
    }
    // A use case loads less than everything.
    expect(results.bundle_gzip_bytes.marketiger).toBeLessThan(results.bundle_gzip_bytes.all);
  }, 300_000);
});

describe('the scripts that take a figure apart', () => {
  it.each([
    {
      script: ['bench/flowCost.ts', '--rounds', '1', '--flows', '1'],
      rows: ['through the machine', 'smallest statechart around the service', 'machine, after a data walk'],
    },
    {
      script: ['bench/authLayerParts.ts', '--rounds', '1', '--requests', '100'],
      rows: ['+ deadline', '+ waiting interceptor', 'authcharts', 'axios-auth-refresh'],
    },
    {
      script: ['bench/interleave.ts', 'mrkter', '--blocks', '1', '--flows', '1', '--work', '10'],
      rows: ['straight + task', 'task alone', 'the machine adds'],
    },
    {
      script: ['bench/profileFlows.ts', 'marketiger', '--blocks', '1', '--flows', '1'],
      rows: ['xstate', 'all but idle'],
    },
  ])(
    '$script.0 runs at its smallest sizes and prints its rows',
    async ({ script, rows }) => {
      // Act
      const subject = await runBench(script);

      // Assert
      expect(subject.code, subject.output).toBe(0);
      for (const row of rows) expect(subject.output, row).toContain(row);
    },
    120_000,
  );
});
