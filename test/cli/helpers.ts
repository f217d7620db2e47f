/**
 * Driving the real `authcharts` command as child processes. The CLI is bundled once per test file
 * (tsup, as `npm run build` makes dist/cli, in one file): starting it then costs a plain `node` start,
 * not a TypeScript transform of the whole tree per command (about 2 s each under load).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'tsup';
import { afterAll, beforeAll } from 'vitest';

export const repo = join(import.meta.dirname, '..', '..');
/** A generous bound for things that happen in well under a second on an idle machine. */
export const SAFETY_NET_MS = 20_000;

/** Bundles src/cli/index.ts into node_modules/.cache (where its dependencies resolve); resolves with its path. */
export async function buildCli(): Promise<{ path: string; remove: () => Promise<void> }> {
  const outDir = join(repo, 'node_modules', '.cache', 'authcharts-cli-test', randomUUID());
  await build({
    entry: { cli: join(repo, 'src/cli/index.ts') },
    format: ['esm'],
    outDir,
    platform: 'node',
    target: 'node20',
    dts: false,
    sourcemap: false,
    splitting: false,
    silent: true,
    config: false,
  });
  return { path: join(outDir, 'cli.js'), remove: () => rm(outDir, { recursive: true, force: true }) };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command to its end; `input` is written to its stdin (then closed). */
export function run(cli: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  const command = start(cli, args, env);
  command.end(input);
  return command.done;
}

/** Starts one command and hands back its stdin and its result, for a command that waits for input. */
export function start(cli: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, end: (text: string) => child.stdin.end(text) };
}

/** A child whose output is watched as it comes. */
export class Watched {
  output = '';
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    const add = (d: Buffer) => {
      this.output += d.toString();
      for (const wake of [...this.#waiters]) wake();
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
    this.exited = new Promise((resolve) => child.on('close', resolve));
  }

  /** Resolves with the first match of `pattern` in the output after `from`, waiting for it (bounded). */
  waitFor(pattern: RegExp, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.output.slice(from).match(pattern);
        if (!match) return false;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(match);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${pattern} in:\n${this.output.slice(from)}`));
      }, SAFETY_NET_MS);
      if (!check()) this.#waiters.add(check);
    });
  }

  /** How many lines match `pattern`. */
  count(pattern: RegExp): number {
    return this.output.split('\n').filter((line) => pattern.test(line)).length;
  }
}

export interface Simulate extends Watched {
  marketigerUrl: string;
  authUrl: string;
  apiUrl: string;
  stop(): Promise<void>;
}

/** Starts `authcharts simulate` (every request printed, SMS throttle off) and reads its URLs. */
export async function startSimulate(cli: string, args: string[] = []): Promise<Simulate> {
  const child = spawn(process.execPath, [cli, 'simulate', '--sms-cooldown', '0', ...args], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watched = new Watched(child) as Simulate;
  try {
    await watched.waitFor(/Ctrl-C stops both/);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const url = (label: string) => new RegExp(`${label}\\s+(http://\\S+)`).exec(watched.output)?.[1] ?? '';
  watched.marketigerUrl = url('baseURL');
  watched.authUrl = url('auth URL');
  watched.apiUrl = url('API URL');
  watched.stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await watched.exited;
  };
  return watched;
}

/** A config folder of its own (AUTHCHARTS_CONFIG_DIR), removed after the test. */
export async function configFolder(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'authcharts-cli-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Reads a stored session file as JSON. */
export async function readSessionFile(path: string): Promise<{
  session: Record<string, unknown> & { accessToken?: string; refreshToken?: string; version: number };
  meta: Record<string, unknown> | null;
}> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** Changes a stored session file in place (a test's way to make its tokens expire or break). */
export async function editSessionFile(
  path: string,
  change: (session: Record<string, unknown>) => void,
): Promise<void> {
  const record = JSON.parse(await readFile(path, 'utf8'));
  change(record.session);
  await writeFile(path, JSON.stringify(record));
}

/**
 * The CLI bundled once and one `authcharts simulate` for a test file: started before its tests, stopped
 * and removed after them. Read `cli` and `sim` inside tests (they exist once `beforeAll` has run).
 */
export function cliAndSimulate(): { readonly cli: { path: string }; readonly sim: Simulate } {
  let cli: { path: string; remove: () => Promise<void> } | undefined;
  let sim: Simulate | undefined;
  beforeAll(async () => {
    cli = await buildCli();
    sim = await startSimulate(cli.path);
  }, 60_000);
  afterAll(async () => {
    await sim?.stop();
    await cli?.remove();
  });
  return {
    get cli() {
      if (!cli) throw new Error('the CLI is built in beforeAll');
      return cli;
    },
    get sim() {
      if (!sim) throw new Error('authcharts simulate is started in beforeAll');
      return sim;
    },
  };
}
