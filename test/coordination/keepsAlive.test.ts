/**
 * A wait someone awaits keeps Node alive until it ends: a script whose only pending work is a wait for
 * a session lock, or a request waiting for a refresh, gets its answer (or its timeout), rather than
 * ending with the promise never settled. Each case runs `fixtures/waiter.ts` in its own process, where
 * nothing else keeps the event loop alive; before the fix each ended with exit code 13 and without its
 * last line.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileCoordinator } from '../../src/coordination/file.js';
import { fixtureBundle } from './fixtures/processes.js';

const SAFETY_NET_MS = 20_000;

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface Run {
  /** Resolves with the first line the script prints. */
  firstLine: Promise<string>;
  /** Resolves when it exits, with its exit code and every line it printed. */
  exited: Promise<{ code: number | null; lines: string[] }>;
}

async function runWaiter(env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [await fixtureBundle('waiter')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.push(() => child.kill('SIGKILL'));
  let out = '';
  let onFirst: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => {
    onFirst = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('\n')) onFirst(out.slice(0, out.indexOf('\n')));
  });
  const exited = new Promise<{ code: number | null; lines: string[] }>((resolve) => {
    child.on('exit', (code) => resolve({ code, lines: out.split('\n').filter(Boolean) }));
  });
  return { firstLine, exited };
}

describe('a wait for the session lock keeps a script alive', () => {
  it('waits for a file lock another process holds, and gets it when that process lets go', async () => {
    // arrange: this process holds the lock of `k` in a folder the script shares
    const dir = join(await mkdtemp(join(tmpdir(), 'authcharts-alive-')), 'sessions');
    cleanup.push(() => rm(join(dir, '..'), { recursive: true, force: true }));
    const holder = createFileCoordinator({ dir });
    cleanup.push(() => holder.close());
    const lock = await holder.lock('k', { ttlMs: SAFETY_NET_MS });

    // act: the script starts waiting; the lock is held a while longer, then released
    const script = await runWaiter({ MODE: 'file', DIR: dir, WAIT_MS: String(SAFETY_NET_MS) });
    expect(await script.firstLine).toBe('waiting');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lock.release();
    const { code, lines } = await script.exited;

    // assert: it got the next lock (a larger fence) and ended on its own
    expect(lines).toEqual(['waiting', `got fence ${lock.fence + 1}`]);
    expect(code).toBe(0);
  });

  it('rejects a memory lock wait with a timeout once waitMs has passed, rather than ending unanswered', async () => {
    // act
    const script = await runWaiter({ MODE: 'memory', WAIT_MS: '300' });
    const { code, lines } = await script.exited;

    // assert
    expect(lines).toEqual(['waiting', 'rejected timeout']);
    expect(code).toBe(0);
  });
});

describe('a request waiting for a refresh keeps a script alive', () => {
  it('rejects with a timeout once refreshWaitMs has passed, rather than ending unanswered', async () => {
    // act: the machine's own timers are unref'd; only the request's wait is left
    const script = await runWaiter({ MODE: 'refresh', WAIT_MS: '300' });
    const { code, lines } = await script.exited;

    // assert
    expect(lines).toEqual(['waiting', 'rejected timeout']);
    expect(code).toBe(0);
  });
});
