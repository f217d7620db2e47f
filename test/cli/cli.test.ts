import { execFile } from 'node:child_process';
import { promisify, stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { MARKETIGER_DEMO_USER } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, startMrkterSimulator } from '../../src/testing/mrkterSimulator.js';

const run = promisify(execFile);
const cli = ['node_modules/.bin/tsx', 'src/cli/index.ts'];

async function authcharts(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(cli[0]!, [cli[1]!, ...args], {
      env: { ...process.env, ...env, NO_COLOR: '1' },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
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

describe('the authcharts command', () => {
  it('prints help and exits 0', async () => {
    const subject = await authcharts(['--help']);
    expect(subject.code).toBe(0);
    expect(subject.stdout).toMatch(/demo/);
    expect(subject.stdout).toMatch(/login/);
  });

  it('exits 2 on bad usage, with one clear line', async () => {
    const subject = await authcharts(['login', 'nonesuch']);
    expect(subject.code).toBe(2);
    expect(subject.stderr).toMatch(/nonesuch/);
  });

  it('signs in to Mrkter without a TTY from flags, reading the SMS code from stdin, and masks secrets', async () => {
    // arrange: a simulator whose next code is known in advance
    const sim = await startMrkterSimulator({ generateCode: () => '246810' });
    try {
      const user = defaultMrkterUsers.find((u) => u.identities.length === 1)!;
      // act
      const subject = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (resolve) => {
          const child = execFile(
            cli[0]!,
            [
              cli[1]!,
              'login',
              'mrkter',
              '--auth-url',
              sim.authUrl,
              '--api-url',
              sim.apiUrl,
              '--username',
              user.username,
            ],
            { env: { ...process.env, AUTHCHARTS_PASSWORD: user.password, NO_COLOR: '1' }, timeout: 30_000 },
            (error, stdout, stderr) =>
              resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
          child.stdin?.end('246810\n');
        },
      );
      // assert
      expect(subject.stderr).toBe('');
      expect(subject.code).toBe(0);
      expect(subject.stdout).toMatch(/Signed in to Mrkter \(account 789\)/);
      expect(subject.stdout).toMatch(/session id\s+\[hidden, \d+ chars\]/);
      expect(subject.stdout).not.toContain(sim.sessions[0]!.sessionId);
      expect(subject.stdout).not.toContain(user.password);
    } finally {
      await sim.close();
    }
  });

  it('exits 1 with the error kind on a wrong password', async () => {
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
    } finally {
      await sim.close();
    }
  });
});
