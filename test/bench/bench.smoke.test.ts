/**
 * The benchmark harness runs end to end in quick mode, as a child process the way `npm run bench` runs
 * it, and exits on its own. Only outcomes are asserted, never timings: the storm after
 * `expireAccessTokens()` makes exactly one refresh and every request of it succeeds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const workDir = mkdtempSync(join(tmpdir(), 'authcharts-bench-'));

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function runQuickBench(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out, '--docs', 'none'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
    const subject = await runQuickBench(out);

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
