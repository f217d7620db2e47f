import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiRequest } from '../../src/cli/api.js';
import { runDemo } from '../../src/cli/demo.js';
import { plural } from '../../src/cli/simulate.js';
import { configDir } from '../../src/cli/store.js';
import { MARKETIGER_DEMO_USER } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, startMrkterSimulator } from '../../src/testing/mrkterSimulator.js';
import { buildCli, configFolder, run, startSimulate } from './helpers.js';

let cli: { path: string; remove: () => Promise<void> };
let folder: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  cli = await buildCli();
  folder = await configFolder();
}, 60_000);
afterAll(async () => {
  await cli?.remove();
  await folder?.remove();
});

/** The command, with a config folder of its own (never the user's). */
function authcharts(args: string[], env: Record<string, string> = {}, input = '') {
  return run(cli.path, args, { AUTHCHARTS_CONFIG_DIR: folder.dir, ...env }, input);
}

describe('authcharts demo', () => {
  it('walks both flows, prints every transition with its cause, and reports success', async () => {
    // arrange
    const lines: string[] = [];

    // act
    const subject = await runDemo((line) => lines.push(line));

    // assert (colours are on where CI is set: compare the text)
    const output = stripVTControlCharacters(lines.join('\n'));
    expect(subject).toBe(0);
    for (const expected of [
      /signingIn\s+← auth\.login/,
      /signedOut\s+← login failed.*invalid_credentials/,
      /signedIn\.refreshing\s+← after untilRefresh/,
      /20 concurrent requests met a revoked token: 1 refresh, 20 successes/,
      /selectingIdentity\s+← loadIdentities done/,
      /awaitingCode\.coolingDown\s+← verifyCode failed.*invalid_code/,
      /signedIn\.active\s+← verifyCode done/,
      /Both flows went as expected/,
    ]) {
      expect(output).toMatch(expected);
    }
  });

  it('never prints a password, a token or a session id', async () => {
    const lines: string[] = [];
    await runDemo((line) => lines.push(line));
    const output = stripVTControlCharacters(lines.join('\n'));
    expect(output).not.toContain(MARKETIGER_DEMO_USER.password);
    expect(output).not.toContain(defaultMrkterUsers[0]!.password);
    expect(output).not.toMatch(/eyJ[\w-]+\.[\w-]+/); // no JWT
    expect(output).not.toMatch(/\bv1\.[\w-]{20,}/); // no Auth0 refresh token
  });
});

describe('the authcharts command', { timeout: 60_000 }, () => {
  it('prints help and exits 0', async () => {
    const subject = await authcharts(['--help']);
    expect(subject.code).toBe(0);
    for (const command of ['login', 'status', 'api', 'token', 'logout', 'demo', 'simulate']) {
      expect(subject.stdout).toContain(command);
    }
  });

  it.each(['login', 'status', 'api', 'token', 'logout', 'simulate'])(
    'prints the help of %s, with examples',
    async (command) => {
      const subject = await authcharts([command, '--help']);
      expect(subject.code).toBe(0);
      expect(subject.stdout).toMatch(new RegExp(`^Usage: authcharts ${command}`));
      expect(subject.stdout).toMatch(/Examples?:/);
    },
  );

  it('prints its version with --version and -V', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    for (const flag of ['--version', '-V']) {
      const subject = await authcharts([flag]);
      expect(subject.code).toBe(0);
      expect(subject.stdout.trim()).toBe(version);
    }
  });

  it('exits 2 on bad usage, with one line and a hint instead of the whole help', async () => {
    for (const args of [
      ['login', 'nonesuch'],
      ['api', 'marketiger', 'GET'],
      ['simulate', '--auth-port', 'x'],
    ]) {
      const subject = await authcharts(args);
      expect(subject.code).toBe(2);
      const lines = subject.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[1]).toBe(`Try "authcharts ${args[0]} --help".`);
    }
  });

  it('names the host it could not reach, and under --debug the cause, never a secret', async () => {
    // arrange: a port nothing listens on
    const port = await freePort();
    const env = { MARKETIGER_EMAIL: 'demo@marketiger.test', AUTHCHARTS_PASSWORD: 'a-secret-password' };
    const args = ['login', 'marketiger', '--base-url', `http://127.0.0.1:${port}/v2`];

    // act
    const plain = await authcharts(args, env);
    const debug = await authcharts(['--debug', ...args], env);

    // assert
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim()).toBe(
      `authcharts: network: The server could not be reached. (127.0.0.1:${port})`,
    );
    expect(debug.stderr).toMatch(/cause: \w+ ECONNREFUSED/);
    expect(`${plain.stderr}${debug.stderr}${debug.stdout}`).not.toContain('a-secret-password');
  });

  it('signs in to Mrkter without a TTY from flags, reading the SMS code from stdin, and masks secrets', async () => {
    // arrange: a simulator whose next code is known in advance
    const sim = await startMrkterSimulator({ generateCode: () => '246810' });
    try {
      const user = defaultMrkterUsers.find((u) => u.identities.length === 1)!;
      // act
      const subject = await authcharts(
        ['login', 'mrkter', '--auth-url', sim.authUrl, '--api-url', sim.apiUrl, '--username', user.username],
        { AUTHCHARTS_PASSWORD: user.password },
        '246810\n',
      );
      // assert
      expect(subject.stderr).toBe('');
      expect(subject.code).toBe(0);
      expect(subject.stdout).toMatch(/Signed in to Mrkter \(account 789, Solo Ads\)/);
      expect(subject.stdout).toMatch(/session id\s+\[hidden, \d+ chars\]/);
      expect(subject.stdout).not.toContain(sim.sessions[0]!.sessionId);
      expect(subject.stdout).not.toContain(user.password);
    } finally {
      await sim.close();
    }
  });

  it('exits 1 with the error kind on a wrong password (no terminal: no second try)', async () => {
    const sim = await startMrkterSimulator();
    try {
      const subject = await authcharts(
        [
          'login',
          'mrkter',
          '--auth-url',
          sim.authUrl,
          '--api-url',
          sim.apiUrl,
          '--username',
          'demo@mrkter.test',
        ],
        { AUTHCHARTS_PASSWORD: 'wrong-password' },
      );
      expect(subject.code).toBe(1);
      expect(subject.stderr.trim()).toMatch(/^authcharts: invalid_credentials: /);
      expect(subject.stderr).not.toContain('wrong-password');
      expect(sim.requestCount('POST /oauth/token')).toBe(1);
    } finally {
      await sim.close();
    }
  });

  it('refuses an identity that cannot be used, saying why: inactive is not "no permission"', async () => {
    const sim = await startMrkterSimulator();
    try {
      const subject = await authcharts(
        ['login', 'mrkter', '--auth-url', sim.authUrl, '--api-url', sim.apiUrl, '--account-id', '1002'],
        { MRKTER_USERNAME: 'nophone@mrkter.test', AUTHCHARTS_PASSWORD: 'nophone-password' },
      );
      expect(subject.code).toBe(1);
      expect(subject.stderr.trim()).toBe(
        'authcharts: Identity Dormant Inc (1002) cannot be used: inactive (status INACTIVE).',
      );
      expect(sim.requestCount('POST /verification/sms')).toBe(0);
    } finally {
      await sim.close();
    }
  });
});

describe('authcharts api request parsing', () => {
  it('reads a JSON body from --data or @file, takes headers, and refuses what would leave the API', async () => {
    // arrange
    const file = join(folder.dir, 'body.json');
    await writeFile(file, '{"name":"demo"}');

    // act
    const subject = await parseApiRequest('post', '/Project/Create', {
      data: `@${file}`,
      header: ['X-Request-Id: 42'],
    });

    // assert
    expect(subject).toEqual({
      method: 'POST',
      path: '/Project/Create',
      data: { name: 'demo' },
      headers: { 'X-Request-Id': '42', 'Content-Type': 'application/json' },
    });
    for (const [path, options] of [
      ['https://elsewhere.example/x', {}],
      ['//elsewhere.example/x', {}],
      ['/x', { data: '{not json' }],
      ['/x', { header: ['no colon'] }],
      ['/x', { header: ['X-A: b\r\nX-Injected: 1'] }],
      ['/x', { data: '@/no/such/file.json' }],
    ] as const) {
      await expect(parseApiRequest('GET', path, options as never)).rejects.toMatchObject({ exitCode: 2 });
    }
  });
});

describe('where sessions are stored', () => {
  it('takes AUTHCHARTS_CONFIG_DIR, else an absolute XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configDir({ AUTHCHARTS_CONFIG_DIR: '/a', XDG_CONFIG_HOME: '/x' })).toBe('/a');
    expect(configDir({ XDG_CONFIG_HOME: '/x' })).toBe(join('/x', 'authcharts'));
    expect(configDir({ XDG_CONFIG_HOME: 'relative' })).toBe(join(homedir(), '.config', 'authcharts'));
    expect(configDir({})).toBe(join(homedir(), '.config', 'authcharts'));
  });
});

describe('authcharts simulate', () => {
  it('listens on the ports given for all three servers, prints a ready example URL, and exits 130 on Ctrl-C', {
    timeout: 60_000,
  }, async () => {
    // arrange: three ports the OS says are free
    const [marketiger, auth, api] = [await freePort(), await freePort(), await freePort()];

    // act
    const subject = await startSimulate(cli.path, [
      '--marketiger-port',
      String(marketiger),
      '--auth-port',
      String(auth),
      '--api-port',
      String(api),
      '--sms-cooldown',
      '5',
    ]);
    subject.child.kill('SIGINT');
    const code = await subject.exited;

    // assert
    expect(subject.marketigerUrl).toBe(`http://127.0.0.1:${marketiger}/v2`);
    expect(subject.authUrl).toBe(`http://127.0.0.1:${auth}`);
    expect(subject.apiUrl).toBe(`http://127.0.0.1:${api}`);
    expect(subject.output).toContain(
      `http://localhost:5173/?marketiger=http://127.0.0.1:${marketiger}/v2&mrkterAuth=http://127.0.0.1:${auth}&mrkterApi=http://127.0.0.1:${api}&resendCooldownMs=5000`,
    );
    expect(subject.output).toMatch(/single@mrkter\.test \/ single-password \(1 identity\)/);
    expect(subject.output).toMatch(/every 5 seconds/);
    expect(code).toBe(130);
  });

  it('counts identities in words that agree with the number', () => {
    expect(plural(1, 'identity', 'identities')).toBe('1 identity');
    expect(plural(3, 'identity', 'identities')).toBe('3 identities');
  });
});

/** A loopback port nothing listens on (taken from the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
