/**
 * Sign in once, then use the session from the terminal: the real CLI as child processes against
 * `authcharts simulate` (also a child process), for both providers. Refreshes are counted from the
 * simulator's own request lines.
 */
import { stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MARKETIGER_DEMO_USER } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers } from '../../src/testing/mrkterSimulator.js';
import {
  cliAndSimulate,
  configFolder,
  editSessionFile,
  type Run,
  readSessionFile,
  run,
  type Simulate,
  start,
  startSimulate,
} from './helpers.js';

const SINGLE = defaultMrkterUsers.find((u) => u.identities.length === 1)!;

const running = cliAndSimulate();

interface Provider {
  name: 'marketiger' | 'mrkter';
  /** The simulator's line for a refresh (Mrkter: every token grant after the sign-in is one). */
  refreshLine: RegExp;
  user: string;
  password: string;
  apiPath: string;
  expectedBody: unknown;
  urlFlags(simulator: Simulate): string[];
  /** The sign-in, from the environment. */
  env: NodeJS.ProcessEnv;
}

const providers: Provider[] = [
  {
    name: 'marketiger',
    refreshLine: /marketiger\s+POST \/v2\/Auth\/RefreshToken 200/,
    user: MARKETIGER_DEMO_USER.email,
    password: MARKETIGER_DEMO_USER.password,
    apiPath: '/Project/GetProjects',
    expectedBody: { success: true, data: [{ id: 'demo-project', name: 'demo-project' }] },
    urlFlags: (simulator) => ['--base-url', simulator.marketigerUrl],
    env: { MARKETIGER_EMAIL: MARKETIGER_DEMO_USER.email, AUTHCHARTS_PASSWORD: MARKETIGER_DEMO_USER.password },
  },
  {
    name: 'mrkter',
    refreshLine: /mrkter\s+POST \/oauth\/token 200/,
    user: SINGLE.username,
    password: SINGLE.password,
    apiPath: '/accounts/current',
    expectedBody: expect.objectContaining({ accountId: 789, companyName: 'Solo Ads', status: 'ACTIVE' }),
    urlFlags: (simulator) => ['--auth-url', simulator.authUrl, '--api-url', simulator.apiUrl],
    env: { MRKTER_USERNAME: SINGLE.username, AUTHCHARTS_PASSWORD: SINGLE.password },
  },
];

describe.concurrent.each(providers)('authcharts with a stored $name session', (provider) => {
  it('signs in without a terminal, then status, api, a refresh written back, token, logout', {
    timeout: 120_000,
  }, async () => {
    // arrange
    const folder = await configFolder();
    const env = { AUTHCHARTS_CONFIG_DIR: folder.dir };
    const printed: string[] = [];
    const cliRun = async (args: string[]) => {
      const result = await run(running.cli.path, args, env);
      printed.push(result.stdout, result.stderr);
      return result;
    };
    try {
      // act + assert: login
      const login = await loginWithCode(provider, env);
      printed.push(login.stdout, login.stderr);
      expect(login.code, login.stderr).toBe(0);
      const file = /stored in\s+(\S+)/.exec(login.stdout)?.[1] ?? '';
      expect(file.startsWith(folder.dir)).toBe(true);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(`${folder.dir}/sessions`)).mode & 0o777).toBe(0o700);
      const first = await readSessionFile(file);
      expect(first.session.status).toBe('signedIn');
      expect(JSON.stringify(first)).not.toContain(provider.password);

      // status
      const status = await cliRun(['status', provider.name]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(provider.user);
      const statusJson = await cliRun(['status', '--json']);
      expect(JSON.parse(statusJson.stdout)).toEqual([
        expect.objectContaining({ provider: provider.name, user: provider.user, file }),
      ]);

      // api GET: 200, the JSON body on stdout (raw: stdout is a pipe)
      const get = await cliRun(['api', provider.name, 'GET', provider.apiPath]);
      expect(get.code, get.stderr).toBe(0);
      expect(JSON.parse(get.stdout)).toEqual(provider.expectedBody);

      // the access token expires: the next api call refreshes once and writes the rotated tokens back
      await editSessionFile(file, (session) => {
        session.accessTokenExpiresAt = Date.now() - 1_000;
      });
      const before = running.sim.count(provider.refreshLine);
      const afterExpiry = await cliRun(['api', provider.name, 'GET', provider.apiPath]);
      expect(afterExpiry.code, afterExpiry.stderr).toBe(0);
      expect(JSON.parse(afterExpiry.stdout)).toEqual(provider.expectedBody);
      expect(running.sim.count(provider.refreshLine) - before).toBe(1);
      const refreshed = await readSessionFile(file);
      expect(refreshed.session.refreshToken).not.toBe(first.session.refreshToken);
      expect(refreshed.session.accessToken).not.toBe(first.session.accessToken);
      expect(refreshed.session.version).toBeGreaterThan(first.session.version);
      expect((await stat(file)).mode & 0o777).toBe(0o600);

      // two commands at once on an expired token: one refresh between them
      await editSessionFile(file, (session) => {
        session.accessTokenExpiresAt = Date.now() - 1_000;
      });
      const beforeBoth = running.sim.count(provider.refreshLine);
      const both = await Promise.all([
        cliRun(['api', provider.name, 'GET', provider.apiPath]),
        cliRun(['api', provider.name, 'GET', provider.apiPath]),
      ]);
      expect(both.map((r) => r.code)).toEqual([0, 0]);
      expect(both.map((r) => JSON.parse(r.stdout))).toEqual([provider.expectedBody, provider.expectedBody]);
      expect(running.sim.count(provider.refreshLine) - beforeBoth).toBe(1);
      const shared = await readSessionFile(file);
      expect(shared.session.refreshToken).not.toBe(refreshed.session.refreshToken);

      // token: the access token alone on stdout
      const token = await run(running.cli.path, ['token', provider.name], env);
      expect(token.code, token.stderr).toBe(0);
      expect(token.stdout).toBe(`${shared.session.accessToken}\n`);
      expect(token.stderr).toBe('');

      // logout, then api says to sign in
      const logout = await cliRun(['logout', provider.name]);
      expect(logout.code).toBe(0);
      expect(logout.stdout).toMatch(/Signed out of/);
      const forgotten = await readSessionFile(file);
      expect(forgotten.session).not.toHaveProperty('accessToken');
      expect(forgotten.session).not.toHaveProperty('refreshToken');
      const afterLogout = await cliRun(['api', provider.name, 'GET', provider.apiPath]);
      expect(afterLogout.code).toBe(1);
      expect(afterLogout.stderr).toMatch(/sign in/i);

      // no command but `token` printed a secret
      const output = printed.join('\n');
      for (const secret of [
        provider.password,
        first.session.accessToken,
        first.session.refreshToken,
        shared.session.accessToken,
        shared.session.refreshToken,
        first.session.sessionId,
      ]) {
        if (typeof secret === 'string') expect(output).not.toContain(secret);
      }
    } finally {
      await folder.remove();
    }
  });
});

describe.concurrent('a session the refresh cannot save', () => {
  it('is removed by the api command, which exits 1 and says to sign in again', {
    timeout: 60_000,
  }, async () => {
    // arrange: a stored session whose refresh token the server no longer accepts, access token expired
    const folder = await configFolder();
    const env = { AUTHCHARTS_CONFIG_DIR: folder.dir };
    try {
      const login = await loginWithCode(providers[0]!, env);
      expect(login.code, login.stderr).toBe(0);
      const file = /stored in\s+(\S+)/.exec(login.stdout)?.[1] ?? '';
      await editSessionFile(file, (session) => {
        session.refreshToken = 'rt_not-a-token-the-server-issued';
        session.accessTokenExpiresAt = Date.now() - 1_000;
      });

      // act
      const subject = await run(running.cli.path, ['api', 'marketiger', 'GET', '/Project/GetProjects'], env);

      // assert
      expect(subject.code).toBe(1);
      expect(subject.stderr).toMatch(/session_expired/);
      expect(subject.stderr).toMatch(/Sign in again: authcharts login marketiger/);
      expect((await readSessionFile(file)).session.status).toBe('signedOut');
      expect((await run(running.cli.path, ['status'], env)).code).toBe(1);
    } finally {
      await folder.remove();
    }
  });
});

describe.concurrent('a command that waits for the lock', () => {
  it('stays alive until the lock is free, then refreshes and answers', { timeout: 60_000 }, async () => {
    // arrange: the session's lock held by a live process on this host (the test runner) for 1.5 s;
    // a simulator of its own, so that its refresh is not counted by the tests above
    const folder = await configFolder();
    const env = { AUTHCHARTS_CONFIG_DIR: folder.dir };
    const own = await startSimulate(running.cli.path);
    try {
      const login = await loginWithCode(providers[0]!, env, own);
      expect(login.code, login.stderr).toBe(0);
      const file = /stored in\s+(\S+)/.exec(login.stdout)?.[1] ?? '';
      await editSessionFile(file, (session) => {
        session.accessTokenExpiresAt = Date.now() - 1_000;
      });
      const holder = { token: 'test', pid: process.pid, host: hostname(), expiresAt: Date.now() + 1_500 };
      await writeFile(`${file}.lock`, JSON.stringify(holder));

      // act
      const subject = await run(running.cli.path, ['api', 'marketiger', 'GET', '/Project/GetProjects'], env);

      // assert: nothing but the lock's timers was pending while it waited; it did not end early
      expect(subject.code, subject.stderr).toBe(0);
      expect(JSON.parse(subject.stdout)).toEqual(providers[0]!.expectedBody);
      expect(own.count(providers[0]!.refreshLine)).toBe(1);
    } finally {
      await own.stop();
      await folder.remove();
    }
  });
});

/** Signs in without a terminal; for Mrkter the code the simulator printed goes to the login's stdin. */
async function loginWithCode(
  provider: Provider,
  env: NodeJS.ProcessEnv,
  simulator = running.sim,
): Promise<Run> {
  const from = simulator.output.length;
  const login = start(running.cli.path, ['login', provider.name, ...provider.urlFlags(simulator)], {
    ...env,
    ...provider.env,
  });
  if (provider.name === 'marketiger') {
    login.end('');
    return login.done;
  }
  const [, code] = await simulator.waitFor(/SMS to …2255: (\d+)/, from);
  login.end(`${code}\n`);
  return login.done;
}
