/**
 * The interactive sign-in as a person sees it: the real CLI in a pseudo-terminal (node-pty), typing
 * into its prompts, against `authcharts simulate`. A wrong password asks again, the identity picker
 * shows the identities that cannot be used with the reason, the SMS step counts down to `resend`,
 * refuses it while too early, says when a new code was sent and how many attempts are left.
 */
import { stripVTControlCharacters } from 'node:util';
import pty from '@lydell/node-pty';
import { describe, expect, it } from 'vitest';
import { cliAndSimulate, configFolder, repo, run, SAFETY_NET_MS } from './helpers.js';

const running = cliAndSimulate();

/** The CLI in a terminal: what it shows (colours and cursor moves taken out), and typing. */
function terminal(args: string[], env: NodeJS.ProcessEnv) {
  const subject = pty.spawn(process.execPath, [running.cli.path, ...args], {
    name: 'xterm',
    cols: 120,
    rows: 40,
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', ...env } as Record<string, string>,
  });
  let screen = '';
  let read = 0;
  const wakers = new Set<() => void>();
  subject.onData((data) => {
    screen += stripVTControlCharacters(data);
    for (const wake of [...wakers]) wake();
  });
  const exited = new Promise<number>((resolve) => subject.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    exited,
    get screen() {
      return screen;
    },
    type(text: string) {
      subject.write(text);
    },
    /** Waits for `pattern` in what was shown since the last match; then reads on from there. */
    expect(pattern: RegExp): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = screen.slice(read).match(pattern);
          if (!match) return false;
          read += (match.index ?? 0) + match[0].length;
          wakers.delete(check);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; the screen shows:\n${screen.slice(read)}`));
        }, SAFETY_NET_MS);
        if (!check()) wakers.add(check);
      });
    },
    kill() {
      subject.kill();
    },
  };
}

/** The last code the simulator sent to a phone number ending in `last4`. */
function lastCode(last4: string): string {
  const codes = [...running.sim.output.matchAll(new RegExp(`SMS to …${last4}: (\\d+)`, 'g'))];
  return codes.at(-1)?.[1] ?? '';
}

describe('authcharts login at a terminal', () => {
  it('asks again after a wrong password, picks an identity, refuses an early resend, resends, counts attempts', {
    timeout: 90_000,
  }, async () => {
    // arrange: a user with three identities, two of which cannot be used; resend offered after 6 s
    // (a wait long enough that "resend" at the first prompt is early, however loaded the machine)
    const folder = await configFolder();
    const env = { AUTHCHARTS_CONFIG_DIR: folder.dir };
    const subject = terminal(
      [
        'login',
        'mrkter',
        '--auth-url',
        running.sim.authUrl,
        '--api-url',
        running.sim.apiUrl,
        '--resend-cooldown',
        '6',
      ],
      env,
    );
    try {
      // act + assert: a wrong password, then the right one (the username kept)
      await subject.expect(/Username/);
      subject.type('nophone@mrkter.test\r');
      await subject.expect(/Password/);
      subject.type('not-the-password\r');
      await subject.expect(/2 tries left/);
      await subject.expect(/Username/);
      subject.type('\r');
      await subject.expect(/Password/);
      subject.type('nophone-password\r');

      // the picker: unusable identities shown, disabled, with the reason; inactive is not "no permission"
      await subject.expect(/Which identity\?/);
      await subject.expect(/Working Co \(1003\)/);
      expect(subject.screen).toMatch(/Unverified Ltd \(1001\).*no verified phone number/);
      expect(subject.screen).toMatch(/Dormant Inc \(1002\).*inactive \(status INACTIVE\)/);
      expect(subject.screen).not.toMatch(/no permission/i);
      subject.type('\r'); // the cursor starts on the first usable identity

      // the code prompt counts down to resend; "resend" too early says how long
      await subject.expect(/Code sent by SMS to …2288 \(type "resend" for a new one, in \d s\)/);
      const firstCode = lastCode('2288');
      subject.type('resend\r');
      await subject.expect(/A new code can be sent in \d s\./);
      // Enter again until the machine offers the resend (its cooldown is real time here): the wait
      // ends on what the terminal shows, bounded by the safety net.
      const sent = subject.expect(/A new code was sent to …2288\./);
      const retry = setInterval(() => subject.type('\r'), 400);
      await sent.finally(() => clearInterval(retry));
      const secondCode = lastCode('2288');
      expect(secondCode).not.toBe('');
      expect(running.sim.count(/POST \/verification\/sms 201/)).toBeGreaterThanOrEqual(2);

      // a wrong code: the attempts left, then the right one
      await subject.expect(/Code sent by SMS/);
      subject.type(`${wrongCode(secondCode, firstCode)}\r`);
      await subject.expect(/That code is not right\. 2 attempts left\./);
      await subject.expect(/Code sent by SMS/);
      subject.type(`${secondCode}\r`);
      await subject.expect(/Signed in to Mrkter \(account 1003, Working Co\)/);
      expect(await subject.exited).toBe(0);
      expect(subject.screen).not.toContain('nophone-password');

      // the session is stored and usable
      const status = await run(running.cli.path, ['status', 'mrkter'], env);
      expect(status.stdout).toMatch(/account\s+1003 \(Working Co\)/);

      // and on a terminal `api` prints the JSON body pretty
      const api = terminal(['api', 'mrkter', 'GET', '/accounts/current'], env);
      await api.expect(/\{\r?\n {2}"accountId": 1003,\r?\n {2}"companyName": "Working Co"/);
      expect(await api.exited).toBe(0);
    } finally {
      subject.kill();
      await folder.remove();
    }
  });

  it('exits 130 on Ctrl-C at a prompt, and stores nothing', { timeout: 60_000 }, async () => {
    const folder = await configFolder();
    const env = { AUTHCHARTS_CONFIG_DIR: folder.dir };
    const subject = terminal(['login', 'marketiger', '--base-url', running.sim.marketigerUrl], env);
    try {
      await subject.expect(/Email/);
      subject.type('\u0003');
      expect(await subject.exited).toBe(130);
      expect((await run(running.cli.path, ['status'], env)).code).toBe(1);
    } finally {
      subject.kill();
      await folder.remove();
    }
  });
});

/** A six-digit code that is neither of the codes sent. */
function wrongCode(...sent: string[]): string {
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!sent.includes(candidate)) return candidate;
  }
}
