/**
 * `npm run test:browser`: the browser examples, built and driven in a real Chromium against the real
 * simulators over loopback.
 *
 * 1. builds examples/react and examples/vanilla with Vite into a temporary directory;
 * 2. starts both simulators and a tiny static server for the built pages, all on 127.0.0.1;
 * 3. drives Debian's Chromium (/usr/bin/chromium; a browser is never downloaded) through the flows,
 *    checking what the pages show and what the simulators received, with a screenshot of each step
 *    in test-results/browser/.
 *
 * One line per check, then `N passed, M failed`; the exit code is non-zero on any failure. Whatever
 * happens, the browser, the servers and the simulators are closed, and the run gives up after 300 s
 * (a safety net: it takes about 30 s on two idle cores, and the Vite build alone took 108 s on two
 * cores under stress-ng and four other builds).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import {
  defaultMrkterUsers,
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MrkterSimulator,
  marketigerRoutes,
  mrkterRoutes,
  type SimLogEntry,
  startMarketigerSimulator,
  startMrkterSimulator,
} from '../src/testing/index.js';
import { buildExample, launchChromiumContext, repo, serveStatic } from './browser.js';

const screenshots = join(repo, 'test-results', 'browser');
const RUN_LIMIT_MS = 300_000;
const STEP_TIMEOUT_MS = 10_000;
/** The Mrkter pages get a short resend cooldown so the resend button can be exercised. */
const RESEND_COOLDOWN_MS = 2_000;

let passed = 0;
let failed = 0;

function report(ok: boolean, what: string, detail?: string) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? '✔' : '✘'} ${what}${detail ? ` — ${detail}` : ''}`);
}

/** Thrown by a failed step: the rest of that flow depends on it, so the flow stops there. */
class StepFailed extends Error {}

/**
 * Runs the steps of one flow in order. A failing step is reported (with a screenshot of the page as
 * it was) and ends the flow; the other flows still run.
 */
async function flow(name: string, page: Page, steps: (step: Step) => Promise<void>) {
  let index = 0;
  const step: Step = async (what, run) => {
    index++;
    try {
      await run();
      report(true, `${name}: ${what}`);
    } catch (error) {
      report(
        false,
        `${name}: ${what}`,
        error instanceof Error ? error.message.split('\n')[0] : String(error),
      );
      await shot(page, `${slug(name)}-failed-at-${index}`);
      throw new StepFailed();
    }
  };
  try {
    await steps(step);
  } catch (error) {
    if (!(error instanceof StepFailed)) report(false, `${name}: the flow stopped`, String(error));
  }
}
type Step = (what: string, run: () => Promise<void> | void) => Promise<void>;

function slug(text: string) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true }).catch(() => {});
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Waits until `locator` has an element whose text contains `text`. */
async function waitForText(locator: Locator, text: string | RegExp) {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

/** Waits until `predicate` holds (for things the simulators record). */
async function until(predicate: () => boolean, what: string, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function header(entry: SimLogEntry, name: string): string | undefined {
  const value = entry.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every bearer token a simulator saw: none of them may appear in a page's text. */
function bearerTokens(log: readonly SimLogEntry[]): string[] {
  return log.flatMap((entry) => {
    const match = /^Bearer\s+(\S+)$/i.exec(header(entry, 'authorization') ?? '');
    return match?.[1] ? [match[1]] : [];
  });
}

/** Fails naming only which kind of secret showed up, never its value. */
async function assertNoSecrets(page: Page, secrets: Record<string, readonly string[]>) {
  const text = (await page.locator('body').textContent()) ?? '';
  const html = await page.content();
  for (const [kind, values] of Object.entries(secrets)) {
    for (const value of values) {
      assert(value.length > 0, `empty ${kind} given to the secrets check`);
      assert(!text.includes(value) && !html.includes(value), `a ${kind} appears in the page`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The flows

async function reactMarketiger(page: Page, sim: MarketigerSimulator) {
  const panel = page.locator('#marketiger');
  await flow('React Marketiger', page, async (step) => {
    await step('shows the sign-in form', async () => {
      await panel.getByLabel('Email').waitFor();
      await shot(page, 'react-01-start');
    });
    await step('a wrong password shows the invalid_credentials message', async () => {
      await panel.getByLabel('Email').fill(MARKETIGER_DEMO_USER.email);
      await panel.getByLabel('Password').fill('not-the-password');
      await panel.getByRole('button', { name: 'Sign in' }).click();
      const alert = panel.locator('[role=alert][data-kind=invalid_credentials]');
      await waitForText(alert, 'do not match');
      await shot(page, 'react-02-marketiger-wrong-password');
    });
    await step('signs in and shows the projects from the authorized GET /Project/GetProjects', async () => {
      await panel.getByLabel('Password').fill(MARKETIGER_DEMO_USER.password);
      await panel.getByRole('button', { name: 'Sign in' }).click();
      await panel.getByRole('heading', { name: 'Signed in' }).waitFor();
      await waitForText(panel.getByTestId('projects').locator('li'), MARKETIGER_DEMO_USER.projects[0] ?? '');
      await shot(page, 'react-03-marketiger-signed-in');
    });
    await step('the simulator saw GetProjects with the bearer token, and answered 200', () => {
      const calls = sim.log.filter((e) => e.route === marketigerRoutes.getProjects);
      assert(calls.length > 0, 'no GET /Project/GetProjects arrived');
      assert(
        calls.every((e) => e.status === 200 && /^Bearer \S+$/.test(header(e, 'authorization') ?? '')),
        `answers ${calls.map((e) => e.status).join(', ')}`,
      );
    });
    await step('no password or token in the page', () =>
      assertNoSecrets(page, { password: [MARKETIGER_DEMO_USER.password], token: bearerTokens(sim.log) }),
    );
    await step('sign out returns to the form', async () => {
      await panel.getByRole('button', { name: 'Sign out' }).click();
      await panel.getByRole('button', { name: 'Sign in' }).waitFor();
    });
  });
}

async function reactMrkter(page: Page, sim: MrkterSimulator) {
  const panel = page.locator('#mrkter');
  const user = defaultMrkterUsers[0]!;
  const chosen = user.identities[0]!;
  const phone = String(chosen.verifiedPhoneNumber);
  const codes: string[] = [];
  await flow('React Mrkter', page, async (step) => {
    await step('credentials lead to the identity picker listing both identities', async () => {
      await panel.getByLabel('Username').fill(user.username);
      await panel.getByLabel('Password').fill(user.password);
      await panel.getByRole('button', { name: 'Continue' }).click();
      await panel.getByText('Choose an account').waitFor();
      const buttons = panel.locator('.identities button');
      assert((await buttons.count()) === user.identities.length, `${await buttons.count()} identities shown`);
      for (const button of await buttons.all()) assert(await button.isEnabled(), 'an identity is disabled');
      await shot(page, 'react-04-mrkter-identities');
    });
    await step(
      'picking an identity sends an SMS and shows the code form with a resend countdown',
      async () => {
        await panel.locator(`li[data-account-id="${chosen.accountId}"] button`).click();
        await panel.getByLabel('Code').waitFor();
        await until(() => sim.lastCode(phone) !== undefined, 'the SMS');
        const resend = panel.getByRole('button', { name: /Resend code in \d+ s/ });
        assert(await resend.isDisabled(), 'resend is enabled during the cooldown');
        await shot(page, 'react-05-mrkter-code');
      },
    );
    await step('a wrong code shows the invalid_code message with the attempts left', async () => {
      const right = sim.lastCode(phone) ?? '';
      await panel.getByLabel('Code').fill(right === '000000' ? '111111' : '000000');
      await panel.getByRole('button', { name: 'Verify' }).click();
      const alert = panel.locator('[role=alert][data-kind=invalid_code]');
      await waitForText(alert, 'not right');
      await waitForText(alert, '2 attempt(s) left');
      await shot(page, 'react-06-mrkter-wrong-code');
    });
    await step('resend is enabled once the cooldown is over, and sends a new SMS', async () => {
      const sent = sim.sentCodes.length;
      await panel.getByRole('button', { name: 'Resend code', exact: true }).click();
      await until(() => sim.sentCodes.length === sent + 1, 'the second SMS');
      await panel.getByLabel('Code').waitFor();
    });
    await step('the right code signs in; the page shows the account from GET /accounts/current', async () => {
      const code = sim.lastCode(phone);
      assert(code !== undefined, 'no code was sent');
      codes.push(...sim.sentCodes.map((c) => c.code));
      await panel.getByLabel('Code').fill(code);
      await panel.getByRole('button', { name: 'Verify' }).click();
      const account = panel.getByTestId('account');
      await waitForText(account, String(chosen.companyName));
      await waitForText(account, `#${chosen.accountId}`);
      await shot(page, 'react-07-mrkter-signed-in');
    });
    await step('the simulator saw Authorization, x-account-id and x-session-id on /accounts/current', () =>
      assertSessionHeaders(sim, chosen.accountId),
    );
    await step('no password, SMS code, token or session id in the page', () =>
      assertNoSecrets(page, {
        password: [user.password],
        'SMS code': codes,
        token: bearerTokens(sim.api.log),
        'session id': sim.sessions.map((s) => s.sessionId),
      }),
    );
    await step('sign out returns to the form', async () => {
      await panel.getByRole('button', { name: 'Sign out' }).click();
      await panel.getByRole('button', { name: 'Continue' }).waitFor();
    });
  });
}

/**
 * `?persist=1`: the React page saves the Mrkter session in sessionStorage and, after a reload,
 * restores it with `useMachine(machine, { snapshot })` alone. The access tokens live 10 s, so the
 * machine plans its refresh 5 s after sign-in: the reload comes first, and only the restored
 * machine's own timer can make that refresh.
 */
async function reactMrkterRestore(page: Page, sim: MrkterSimulator) {
  const panel = page.locator('#mrkter');
  const user = defaultMrkterUsers.find((u) => u.identities.length === 1)!;
  const identity = user.identities[0]!;
  const refreshes = () => sim.tokenRequests.filter((r) => r.params['grant_type'] === 'refresh_token').length;
  let signedInAt = 0;
  await flow('React Mrkter restore', page, async (step) => {
    await step('signs in (one identity: the code is sent at once)', async () => {
      await panel.getByLabel('Username').fill(user.username);
      await panel.getByLabel('Password').fill(user.password);
      await panel.getByRole('button', { name: 'Continue' }).click();
      await panel.getByLabel('Code').waitFor();
      await until(() => sim.lastCode() !== undefined, 'the SMS');
      await panel.getByLabel('Code').fill(sim.lastCode()!);
      await panel.getByRole('button', { name: 'Verify' }).click();
      await waitForText(panel.getByTestId('account'), `#${identity.accountId}`);
      signedInAt = Date.now();
    });
    await step('a reload restores the session from sessionStorage, still signed in', async () => {
      assert(refreshes() === 0, 'the first page refreshed before the reload');
      await page.reload();
      await waitForText(panel.getByTestId('account'), `#${identity.accountId}`);
      assert(refreshes() === 0, 'the reload itself made a refresh call');
      await shot(page, 'react-08-mrkter-restored');
    });
    await step('the restored machine refreshes before the access token expires, once', async () => {
      await until(() => refreshes() === 1, 'the refresh');
      assert(Date.now() - signedInAt < 10_000, 'the refresh came after the access token expired');
      assert(refreshes() === 1, `${refreshes()} refreshes`);
    });
    await step('sign out returns to the form', async () => {
      await panel.getByRole('button', { name: 'Sign out' }).click();
      await panel.getByRole('button', { name: 'Continue' }).waitFor();
    });
  });
}

async function vanillaMrkter(page: Page, sim: MrkterSimulator) {
  const panel = page.locator('#app');
  // The user whose identities include one without a verified phone and one INACTIVE.
  const user = defaultMrkterUsers.find((u) => u.identities.length === 3)!;
  const usable = user.identities.find((i) => i.status === 'ACTIVE' && i.verifiedPhoneNumber)!;
  const phone = String(usable.verifiedPhoneNumber);
  await flow('Vanilla Mrkter', page, async (step) => {
    await step(
      'credentials lead to the identity picker, unusable identities marked and disabled',
      async () => {
        await panel.getByLabel('Username').fill(user.username);
        await panel.getByLabel('Password').fill(user.password);
        await panel.getByRole('button', { name: 'Continue' }).click();
        await panel.getByText('Choose an account').waitFor();
        for (const identity of user.identities) {
          const button = panel.locator(`li[data-account-id="${identity.accountId}"] button`);
          const unusable = identity !== usable;
          assert((await button.isDisabled()) === unusable, `identity ${identity.accountId} enabled wrongly`);
          const marked = (await button.locator('.unavailable').count()) === 1;
          assert(marked === unusable, `identity ${identity.accountId} marked wrongly`);
        }
        await shot(page, 'vanilla-01-identities');
      },
    );
    await step('the usable identity leads to the code form', async () => {
      await panel.locator(`li[data-account-id="${usable.accountId}"] button`).click();
      await panel.getByLabel('Code').waitFor();
      await until(() => sim.lastCode(phone) !== undefined, 'the SMS');
      await shot(page, 'vanilla-02-code');
    });
    await step('the right code signs in; the page shows the account from GET /accounts/current', async () => {
      await panel.getByLabel('Code').fill(sim.lastCode(phone) ?? '');
      await panel.getByRole('button', { name: 'Verify' }).click();
      await waitForText(panel.getByTestId('account'), String(usable.companyName));
      await shot(page, 'vanilla-03-signed-in');
    });
    await step('the simulator saw the three headers for this identity', () =>
      assertSessionHeaders(sim, usable.accountId),
    );
    await step('no password, SMS code, token or session id in the page', () =>
      assertNoSecrets(page, {
        password: [user.password],
        'SMS code': sim.sentCodes.filter((c) => c.phoneNumber === phone).map((c) => c.code),
        token: bearerTokens(sim.api.log),
        'session id': sim.sessions.map((s) => s.sessionId),
      }),
    );
  });
}

/** The last GET /accounts/current answered 200 and carried the session's three headers. */
function assertSessionHeaders(sim: MrkterSimulator, accountId: number | string) {
  const call = sim.api.log.filter((e) => e.route === mrkterRoutes.currentAccount).at(-1);
  assert(call, 'no GET /accounts/current arrived');
  assert(call.status === 200, `it answered ${call.status}`);
  const session = sim.sessions.at(-1);
  assert(/^Bearer \S+$/.test(header(call, 'authorization') ?? ''), 'no bearer Authorization');
  assert(header(call, 'x-account-id') === String(accountId), 'x-account-id is not the chosen identity');
  assert(session && header(call, 'x-session-id') === session.sessionId, 'x-session-id is not the session');
}

// ---------------------------------------------------------------------------------------------

async function main(cleanup: Array<() => Promise<unknown>>) {
  const started = Date.now();
  // Screenshots of this run only: a failure picture from an earlier run would mislead.
  await rm(screenshots, { recursive: true, force: true });
  await mkdir(screenshots, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'authcharts-browser-'));
  cleanup.push(() => rm(work, { recursive: true, force: true }));

  const out = { react: join(work, 'react'), vanilla: join(work, 'vanilla') };
  try {
    await buildExample('react', out.react);
    await buildExample('vanilla', out.vanilla);
    report(true, `built both examples with Vite in ${Date.now() - started} ms`);
  } catch (error) {
    report(false, 'built both examples with Vite', String(error));
    return;
  }

  const marketiger = await startMarketigerSimulator();
  cleanup.push(() => marketiger.close());
  // A short server-side SMS cooldown, below the page's own, so a resend is not refused with 429.
  const mrkter = await startMrkterSimulator({ smsCooldownMs: RESEND_COOLDOWN_MS / 2 });
  cleanup.push(() => mrkter.close());
  const { url, server } = await serveStatic(out);
  cleanup.push(() => new Promise((done) => server.close(done)));

  const profile = join(work, 'chromium-profile');
  const context: BrowserContext = await launchChromiumContext(profile);
  // Closed before the temporary directory (with the profile) is removed: cleanup runs in reverse.
  cleanup.push(() => context.close());
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageErrors: string[] = [];
  context.on('weberror', (error) => pageErrors.push(error.error().message));

  const query = new URLSearchParams({
    marketiger: marketiger.baseURL,
    mrkterAuth: mrkter.authUrl,
    mrkterApi: mrkter.apiUrl,
    resendCooldownMs: String(RESEND_COOLDOWN_MS),
  });

  const react = await context.newPage();
  await react.goto(`${url}/react/index.html?${query}`);
  await reactMarketiger(react, marketiger);
  await reactMrkter(react, mrkter);

  // Its own simulator: 10 s access tokens, and a token count of its own.
  const shortLived = await startMrkterSimulator({ accessTokenTtlSeconds: 10 });
  cleanup.push(() => shortLived.close());
  const restoring = await context.newPage();
  const restoreQuery = new URLSearchParams({
    marketiger: marketiger.baseURL,
    mrkterAuth: shortLived.authUrl,
    mrkterApi: shortLived.apiUrl,
    persist: '1',
  });
  await restoring.goto(`${url}/react/index.html?${restoreQuery}`);
  await reactMrkterRestore(restoring, shortLived);

  const vanilla = await context.newPage();
  await vanilla.goto(`${url}/vanilla/index.html?${query}`);
  await vanillaMrkter(vanilla, mrkter);

  report(pageErrors.length === 0, 'no uncaught errors in the pages', pageErrors.join('; '));
}

async function run(): Promise<number> {
  const cleanup: Array<() => Promise<unknown>> = [];
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  try {
    await Promise.race([
      main(cleanup),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`gave up after ${RUN_LIMIT_MS / 1000} s`)), RUN_LIMIT_MS);
      }),
    ]);
  } catch (error) {
    report(false, 'the run finished', error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    // Newest first: the browser before the servers it talks to, the profile directory last.
    for (const close of cleanup.reverse()) {
      await Promise.race([close(), new Promise((r) => setTimeout(r, 5_000))]).catch(() => {});
    }
  }
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in test-results/browser/)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

// process.exit: a stray handle (a keep-alive socket, a timer in a page's library) must not keep CI waiting.
run().then((code) => process.exit(code));
