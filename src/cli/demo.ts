/**
 * `authcharts demo`: both sign-in flows end to end against the embedded simulators, printing every
 * transition as it happens. It also shows a proactive refresh, a 401 recovered by exactly one
 * refresh, a wrong password and a wrong SMS code, and exits non-zero if anything went otherwise.
 */
import pc from 'picocolors';
import { waitFor } from 'xstate';
import { isAuthError } from '../errors.js';
import { createAuthorizedAxios } from '../index.js';
import { MARKETIGER_DEMO_USER, startMarketigerSimulator } from '../testing/marketigerSimulator.js';
import { defaultMrkterUsers, mrkterRoutes, startMrkterSimulator } from '../testing/mrkterSimulator.js';
import { marketigerSession, mrkterSession } from './actors.js';
import { mask, traceTransitions } from './trace.js';

type Write = (line: string) => void;

/** Collects what the demo expected and what happened; the exit code comes from it. */
class Expectations {
  failures: string[] = [];
  constructor(private readonly write: Write) {}
  check(ok: boolean, what: string) {
    this.write(`${ok ? pc.green('  ✔') : pc.red('  ✘')} ${what}`);
    if (!ok) this.failures.push(what);
  }
}

const WAIT = { timeout: 10_000 };

export async function runMarketigerDemo(write: Write, expect: Expectations): Promise<void> {
  write(
    pc.bold('\nMarketiger: email + password, bearer token, proactive and reactive refresh, project access'),
  );
  // Short-lived tokens so that the proactive refresh happens while you watch.
  const sim = await startMarketigerSimulator({ accessTokenTtlMs: 4_000 });
  const { actor } = marketigerSession(
    { baseURL: sim.baseURL },
    { projectId: 'demo-project', refreshLeewayMs: 2_000, refreshJitterMs: 0 },
    traceTransitions({ label: 'marketiger', write }),
  );
  actor.start();
  try {
    actor.send({ type: 'auth.login', email: MARKETIGER_DEMO_USER.email, password: 'not-the-password' });
    await waitFor(actor, (s) => s.matches('signedOut') && s.context.error !== null, WAIT);
    expect.check(
      actor.getSnapshot().context.error?.kind === 'invalid_credentials',
      'a wrong password is invalid_credentials',
    );

    actor.send({
      type: 'auth.login',
      email: MARKETIGER_DEMO_USER.email,
      password: MARKETIGER_DEMO_USER.password,
    });
    await waitFor(actor, (s) => s.matches({ signedIn: 'active' }) || s.matches('signedOut'), WAIT);
    expect.check(actor.getSnapshot().matches('signedIn'), 'signed in, with access to demo-project');
    write(`     access token ${mask(actor.getSnapshot().context.accessToken)}`);

    const http = createAuthorizedAxios(actor, { baseURL: sim.baseURL });
    const projects = await http.get('/Project/GetProjects');
    expect.check(
      projects.status === 200,
      `GET /Project/GetProjects answered ${projects.status} with the bearer token`,
    );

    const firstToken = actor.getSnapshot().context.accessToken;
    await waitFor(
      actor,
      (s) => s.matches({ signedIn: 'active' }) && s.context.accessToken !== firstToken,
      WAIT,
    );
    expect.check(
      sim.refreshCount === 1,
      'the token was refreshed before it expired, without a failed request',
    );

    sim.expireAccessTokens();
    const before = sim.refreshCount;
    const burst = await Promise.all(Array.from({ length: 20 }, () => http.get('/Project/GetProjects')));
    expect.check(
      burst.every((r) => r.status === 200) && sim.refreshCount === before + 1,
      `20 concurrent requests met a revoked token: ${sim.refreshCount - before} refresh, ${burst.length} successes`,
    );

    actor.send({ type: 'auth.logout' });
    const afterLogout = await http.get('/Project/GetProjects').then(
      () => 'sent',
      (e: unknown) => (isAuthError(e) ? e.kind : 'other'),
    );
    expect.check(afterLogout === 'signed_out', 'after logout the client refuses to send (signed_out)');
  } finally {
    actor.stop();
    await sim.close();
  }
}

export async function runMrkterDemo(write: Write, expect: Expectations): Promise<void> {
  write(pc.bold('\nMrkter: Auth0 password grant → identity → SMS code → session id'));
  const sim = await startMrkterSimulator();
  const user = defaultMrkterUsers[0]!;
  const { actor } = mrkterSession(
    { authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl },
    { resendCooldownMs: 1_000 },
    traceTransitions({ label: 'mrkter', write }),
  );
  actor.start();
  try {
    actor.send({ type: 'auth.login', username: user.username, password: user.password });
    await waitFor(actor, (s) => s.matches('selectingIdentity') || s.matches('signedOut'), WAIT);
    const { identities } = actor.getSnapshot().context;
    expect.check(identities.length === 2, `the user has ${identities.length} identities; choosing the first`);

    const chosen = identities[0]!;
    actor.send({ type: 'identity.select', accountId: chosen.accountId });
    await waitFor(actor, (s) => s.matches('awaitingCode') || s.matches('selectingIdentity'), WAIT);
    const phone = actor.getSnapshot().context.phoneNumber ?? '';
    const code = sim.lastCode(phone);
    expect.check(code !== undefined, `an SMS code went to the identity's phone …${phone.slice(-4)}`);

    const wrong = code === '000000' ? '111111' : '000000';
    actor.send({ type: 'code.submit', code: wrong });
    await waitFor(actor, (s) => s.matches('awaitingCode') && s.context.error !== null, WAIT);
    expect.check(
      actor.getSnapshot().context.error?.kind === 'invalid_code',
      'a wrong code is invalid_code; the user may try again',
    );

    actor.send({ type: 'code.submit', code: code ?? '' });
    await waitFor(actor, (s) => s.matches({ signedIn: 'active' }) || s.matches('signedOut'), WAIT);
    const context = actor.getSnapshot().context;
    expect.check(actor.getSnapshot().matches('signedIn'), `signed in as account ${context.accountId}`);
    write(`     session id ${mask(context.sessionId)}, access token ${mask(context.accessToken)}`);

    const http = createAuthorizedAxios(actor, { baseURL: sim.apiUrl });
    const account = await http.get(mrkterRoutes.currentAccount.replace(/^GET /, ''));
    expect.check(
      account.status === 200,
      'GET /accounts/current answered 200 with Authorization, x-account-id and x-session-id',
    );

    sim.expireAccessTokens();
    const refreshesBefore = sim.tokenRequests.filter(
      (r) => r.params['grant_type'] === 'refresh_token',
    ).length;
    const again = await http.get(mrkterRoutes.currentAccount.replace(/^GET /, ''));
    const refreshes =
      sim.tokenRequests.filter((r) => r.params['grant_type'] === 'refresh_token').length - refreshesBefore;
    expect.check(again.status === 200 && refreshes === 1, 'a 401 was recovered by one refresh_token grant');

    actor.send({ type: 'auth.logout' });
    expect.check(actor.getSnapshot().matches('signedOut'), 'signed out');
  } finally {
    actor.stop();
    await sim.close();
  }
}

/** Runs both demos; resolves with the process exit code. */
export async function runDemo(write: Write = (l) => console.log(l)): Promise<number> {
  const expect = new Expectations(write);
  write(pc.dim('authcharts demo: both providers simulated on 127.0.0.1; every line is a state transition.'));
  for (const run of [runMarketigerDemo, runMrkterDemo]) {
    try {
      await run(write, expect);
    } catch (error) {
      const what = isAuthError(error)
        ? `${error.kind}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
      expect.check(false, `the flow stopped: ${what}`);
    }
  }
  write(
    expect.failures.length === 0
      ? pc.green('\nBoth flows went as expected.')
      : pc.red(`\n${expect.failures.length} expectation(s) failed.`),
  );
  return expect.failures.length === 0 ? 0 : 1;
}
