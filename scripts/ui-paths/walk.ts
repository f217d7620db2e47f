/**
 * Walks one path through the React example in a fresh browser context, against fresh simulators, as a
 * person would, checking the page after every step.
 *
 * - User steps are typed and clicked (a reload for Mrkter's `auth.resume`: the page restores its
 *   session from `sessionStorage`, and the restored machine sends `auth.resume` itself).
 * - Every request an actor sends is held in the browser (`context.route`) until the step that answers
 *   it: then the simulator is told how to answer (answers.ts: a fault, a revoked token, a provider's
 *   error body; or nothing, when the person's typing produces it) and the request goes on to it. So
 *   the page rests in every state of the path, each is checked on screen, and an answer never races
 *   ahead of the check (over real sockets one answer sets off the next request by itself). A request
 *   the path leaves unanswered is never released; a `timeout` is the page's own deadline, run out on
 *   its clock.
 * - The page's clock is Playwright's, paused: `after` steps run it exactly to the timer the step names
 *   (the inspector knows when each is due), `sleepMs` steps move the wall clock without firing timers.
 *   The simulator's clock moves with it, as a server's does.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page, Route } from 'playwright-core';
import {
  type DriverStep,
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  type MrkterSimulator,
  marketigerRoutes,
  mrkterRoutes,
  startMarketigerSimulator,
  startMrkterSimulator,
} from '../../src/testing/index.js';
import { stateName } from '../../src/testing/paths/naming.js';
import { MAX_TIMER_MS } from '../../src/time.js';
import {
  arrangeMarketigerAnswer,
  arrangeMrkterAnswer,
  JWT_SECRET,
  json,
  marketigerActorRoutes,
  mrkterActorRoutes,
  mrkterUserFor,
  wrongCode,
} from '../../test/paths/answers.js';
import { BINDING, inspectorScript, type PageRecord, type PageTimers, type UiCoverage } from './inspector.js';
import type { PlannedPath, Provider } from './plan.js';
import { describeShown, flowOf, panels, screenProblems } from './screens.js';

export interface WalkEnv {
  browser: Browser;
  /** The built example's page, e.g. `http://127.0.0.1:4321/react/index.html`. */
  pageUrl: string;
  coverage: UiCoverage;
  /** A safety net per step (real time): the page is waited for, never slept on. */
  stepTimeoutMs: number;
  /** Where a failure's screenshot goes. */
  screenshots: string;
}

/** What a failed walk reports: enough to read as a bug report. */
export interface WalkFailure {
  /** 0 for the page as loaded, else the 1-based step. */
  step: number;
  steps: number;
  label: string;
  expected: string;
  shown: string;
  problems: string[];
  screenshot?: string;
}

export type WalkResult = { ok: true; ms: number } | { ok: false; ms: number; failure: WalkFailure };

/** The services' default deadline (`timeoutMs`), which the page keeps unless a path needs a longer one. */
const DEFAULT_TIMEOUT_MS = 15_000;

class StepError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

interface Sims {
  /** Origins whose requests the context sees (held or let through). */
  origins: Set<string>;
  /** Route key of each actor's request. */
  routeOf: Record<string, string>;
  query: Record<string, string>;
  now(): number;
  advance(ms: number): void;
  close(): Promise<void>;
  marketiger?: MarketigerSimulator;
  mrkter?: MrkterSimulator;
}

async function startSims(provider: Provider): Promise<Sims> {
  if (provider === 'marketiger') {
    const sim = await startMarketigerSimulator({ jwtSecret: JWT_SECRET });
    return {
      origins: new Set([new URL(sim.baseURL).origin]),
      routeOf: marketigerActorRoutes,
      query: { marketiger: sim.baseURL },
      now: () => sim.now(),
      advance: (ms) => sim.advanceClock(ms),
      close: () => sim.close(),
      marketiger: sim,
    };
  }
  // No server-side SMS throttle of its own: the paths inject every 429 they need.
  const sim = await startMrkterSimulator({ smsCooldownMs: 0 });
  return {
    origins: new Set([new URL(sim.authUrl).origin, new URL(sim.apiUrl).origin]),
    routeOf: mrkterActorRoutes,
    query: { mrkterAuth: sim.authUrl, mrkterApi: sim.apiUrl, persist: '1' },
    now: () => sim.now(),
    advance: (ms) => sim.advanceClock(ms),
    close: () => sim.close(),
    mrkter: sim,
  };
}

/** A path whose timer fires while a request is held needs requests that outlast the default deadline. */
function deadlineFor(planned: PlannedPath): number {
  const waitsOnTimerWhileBusy = planned.steps.some(
    (step, index) =>
      step.kind === 'timer' && index > 0 && planned.steps[index - 1]!.expected.tags.includes('busy'),
  );
  return waitsOnTimerWhileBusy ? MAX_TIMER_MS : DEFAULT_TIMEOUT_MS;
}

/** Walks `planned` (see the module comment); never throws. */
export async function walk(env: WalkEnv, planned: PlannedPath, id: string): Promise<WalkResult> {
  const started = Date.now();
  // `UI_PATHS_TRACE=1`: when each phase of the walk ended, to see where the time goes.
  const trace = process.env['UI_PATHS_TRACE']
    ? (what: string) => console.log(`  ${id} ${Date.now() - started} ms ${what}`)
    : () => {};
  const { provider, path, steps } = planned;
  const deadline = deadlineFor(planned);
  const sims = await startSims(provider);
  trace('simulators started');
  let context: BrowserContext | undefined;
  const held: { key: string; route: Route }[] = [];
  const pageErrors: string[] = [];
  let received = 0;
  let page: Page | undefined;
  let current = 0;
  let expected = '';
  try {
    context = await env.browser.newContext({ viewport: { width: 900, height: 900 } });
    context.setDefaultTimeout(env.stepTimeoutMs);
    trace('context');
    await context.exposeBinding(BINDING, (_source, record: PageRecord) => {
      received++;
      env.coverage.record(record);
    });
    await context.addInitScript(inspectorScript);
    const gated = new Set(Object.values(sims.routeOf));
    await context.route(
      (url) => sims.origins.has(url.origin),
      (route) => {
        const request = route.request();
        const key = `${request.method()} ${new URL(request.url()).pathname}`;
        if (gated.has(key)) held.push({ key, route });
        else route.continue().catch(() => {});
      },
    );
    // Paused from the start: nothing on the page runs on time unless a step says so.
    const t0 = Date.now();
    await context.clock.install({ time: t0 - 10_000 });
    await context.clock.pauseAt(t0);
    trace('clock paused');

    page = await context.newPage();
    trace('page opened');
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const query = new URLSearchParams({
      ...sims.query,
      ...((path.input as { projectId?: string } | undefined)?.projectId
        ? { projectId: (path.input as { projectId: string }).projectId }
        : {}),
      ...(deadline !== DEFAULT_TIMEOUT_MS ? { timeoutMs: String(deadline) } : {}),
    });
    await page.goto(`${env.pageUrl}?${query}`);
    const panel = page.locator(panels[provider].selector);
    const driver = new PageDriver(page, panel, provider, sims, held, env.stepTimeoutMs, deadline);
    trace('loaded');
    expected = stateName(path.initialState);
    await driver.expect(expected, null);
    trace('checked initial');
    for (const step of steps) {
      current = step.index + 1;
      expected = step.expected.name;
      await driver.perform(step, steps.slice(step.index + 1));
      trace(`performed ${step.label}`);
      await driver.expect(step.expected.name, step.expected.error);
      trace(`checked ${step.expected.name}`);
    }
    if (pageErrors.length) throw new StepError('the page threw', pageErrors);
    // Every report the page sent has arrived before the walk counts as done.
    await until(
      async () => received >= ((await page!.evaluate('window.__uiPaths.sent()')) as number),
      'the inspector reports',
      env.stepTimeoutMs,
    );
    return { ok: true, ms: Date.now() - started };
  } catch (error) {
    const step = current === 0 ? undefined : steps[current - 1];
    const failure: WalkFailure = {
      step: current,
      steps: steps.length,
      label: step ? `${step.label} (${step.kind})` : 'the page as loaded',
      expected,
      shown: page
        ? await describeShown(provider, page.locator(panels[provider].selector)).catch(() => '?')
        : '?',
      problems: [
        ...(error instanceof StepError
          ? [error.message, ...error.problems]
          : [String(error).split('\n')[0]!]),
        ...(pageErrors.length && !(error instanceof StepError && error.message === 'the page threw')
          ? [`the page threw: ${pageErrors.join('; ')}`]
          : []),
      ],
    };
    if (page) {
      const file = join(env.screenshots, `${id}-step-${current}.png`);
      await page.screenshot({ path: file, fullPage: true }).then(
        () => (failure.screenshot = file),
        () => {},
      );
    }
    return { ok: false, ms: Date.now() - started, failure };
  } finally {
    await context?.close().catch(() => {});
    await sims.close().catch(() => {});
  }
}

/** Polls `check` on real time until it holds; `what` names it when the safety net runs out. */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt)
      throw new StepError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The person at the page, and the suite's hold on the network and the clock. */
class PageDriver {
  constructor(
    private readonly page: Page,
    private readonly panel: Locator,
    private readonly provider: Provider,
    private readonly sims: Sims,
    private readonly held: { key: string; route: Route }[],
    private readonly timeoutMs: number,
    private readonly deadline: number,
  ) {}

  /** Waits until the flow's `data-state` is `name`, then checks the screen for it. */
  async expect(name: string, error: DriverStep['expected']['error']): Promise<void> {
    try {
      await flowOf(this.panel)
        .and(this.page.locator(`[data-state="${name}"]`))
        .waitFor({ timeout: this.timeoutMs });
    } catch {
      throw new StepError(`the page did not reach ${name} within ${this.timeoutMs / 1000} s`);
    }
    const problems = await screenProblems(this.provider, this.panel, name, error);
    if (problems.length) throw new StepError(`the screen is wrong for ${name}`, problems);
  }

  async perform(step: DriverStep, rest: DriverStep[]): Promise<void> {
    if (step.sleepMs) await this.moveClock(step.sleepMs, 'sleep');
    if (step.kind === 'timer') return this.fireTimer(step);
    if (step.kind === 'answer') return this.answer(step);
    return this.act(step, rest);
  }

  /** Runs the page's clock (and the simulator's) forward; a sleep moves the wall clock only. */
  private async moveClock(ms: number, how: 'run' | 'sleep'): Promise<void> {
    if (how === 'run') await this.page.clock.runFor(ms);
    else {
      const now = (await this.page.evaluate('Date.now()')) as number;
      await this.page.clock.setSystemTime(now + ms);
    }
    this.sims.advance(ms);
  }

  private async fireTimer(step: DriverStep): Promise<void> {
    const timers = (await this.page.evaluate(
      ([machine, type]) =>
        (window as never as { __uiPaths: { timer(m: string, t: string): unknown } }).__uiPaths.timer(
          machine!,
          type!,
        ),
      [this.provider, step.event.type],
    )) as PageTimers;
    if (timers.remaining === null)
      throw new StepError(
        `no ${step.event.type} timer is pending on the page (pending: ${timers.pending.join(', ') || 'none'})`,
      );
    if (timers.first !== step.event.type && (timers.firstRemaining ?? 0) < timers.remaining)
      throw new StepError(`${timers.first} would fire before ${step.event.type}`);
    await this.moveClock(Math.ceil(timers.remaining), 'run');
  }

  /** The held request of `key`, once the page has sent it. */
  private async takeHeld(key: string): Promise<Route> {
    let found: Route | undefined;
    await until(
      () => {
        const index = this.held.findIndex((entry) => entry.key === key);
        if (index >= 0) found = this.held.splice(index, 1)[0]!.route;
        return found !== undefined;
      },
      `the page's request ${key}`,
      this.timeoutMs,
    );
    return found!;
  }

  private async answer(step: DriverStep): Promise<void> {
    const answer = step.answer!;
    const key = this.sims.routeOf[answer.actor];
    if (!key) throw new StepError(`no route for actor ${answer.actor}`);
    const route = await this.takeHeld(key);
    if (answer.errorKind === 'timeout') {
      // Never answered: the page's own deadline ends it, armed when the request went out (the clock
      // has not moved since).
      await this.moveClock(this.deadline, 'run');
      return;
    }
    if (answer.errorKind === 'network') {
      // The connection breaks under the request. Not the simulator's `drop`: Chromium sends a request
      // again by itself when a reused keep-alive connection closes before any answer, and the second
      // one would succeed.
      await route.abort('connectionreset');
      return;
    }
    if (this.sims.marketiger) {
      // A token the path needs with a lifetime of its own (24 h, already expired) is that long from now
      // on the simulator's clock: sample times are relative to the step's virtual time.
      const expiresAt = (answer.output as { accessTokenExpiresAt?: number } | undefined)
        ?.accessTokenExpiresAt;
      await arrangeMarketigerAnswer(
        this.sims.marketiger,
        answer,
        expiresAt === undefined ? {} : { expiresAt: this.sims.now() + (expiresAt - step.at) },
      );
    } else if (this.sims.mrkter) arrangeMrkterAnswer(this.sims.mrkter, answer, this.sims.now());
    await route.continue();
  }

  private button(name: string | RegExp): Locator {
    return this.panel.getByRole('button', { name, exact: typeof name === 'string' });
  }

  private async act(step: DriverStep, rest: DriverStep[]): Promise<void> {
    const { type } = step.event;
    const failsWith = (actor: string) => step.setsOff.find((answer) => answer.actor === actor)?.errorKind;
    try {
      switch (type) {
        case 'auth.login': {
          const user =
            this.provider === 'marketiger'
              ? { name: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password, label: 'Email' }
              : (() => {
                  const chosen = mrkterUserFor(rest.map((next) => next.label));
                  return { name: chosen.username, password: chosen.password, label: 'Username' };
                })();
          const wrong = failsWith('login') === 'invalid_credentials';
          await this.panel.getByLabel(user.label).fill(user.name);
          await this.panel.getByLabel('Password').fill(wrong ? 'not-the-password' : user.password);
          await this.button(this.provider === 'marketiger' ? 'Sign in' : 'Continue').click();
          return;
        }
        case 'auth.logout': {
          const cancel = this.button('Cancel');
          await ((await cancel.isVisible()) ? cancel : this.button('Sign out')).click();
          return;
        }
        case 'auth.refresh':
          await this.button('Retry now').click();
          return;
        case 'auth.tokenRejected': {
          // The server refuses the token on the person's next request: the page's client reports it.
          // The data view's own first request must have had its answer, or it could take the 401.
          const data = this.panel
            .locator('[data-testid=projects], [data-testid=account], [role=alert]')
            .first();
          await data.waitFor();
          if (this.sims.marketiger) {
            this.sims.marketiger.injectFault(marketigerRoutes.getProjects, {
              kind: 'status',
              status: 401,
              body: '',
              headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
              times: 1,
            });
            await this.button('Reload projects').click();
          } else {
            this.sims.mrkter!.injectFault(
              mrkterRoutes.currentAccount,
              json(401, { message: 'Unauthorized', statusCode: 401 }),
            );
            await this.button('Reload account').click();
          }
          return;
        }
        case 'auth.resume': {
          // The page saves its session in sessionStorage (`?persist=1`) and restores it on load; the
          // restored machine re-arms its timers with `auth.resume`, and sends again a request that was
          // in flight. The old page's held requests go with it (failing them first would show the old
          // page an error, and it would save that).
          this.held.splice(0);
          await this.page.reload();
          return;
        }
        case 'identity.select':
          await this.panel.locator(`li[data-account-id="${String(step.event['accountId'])}"] button`).click();
          return;
        case 'identity.change':
          await this.button('Use another account').click();
          return;
        case 'code.submit': {
          const sent = this.sims.mrkter!.lastCode() ?? '';
          await this.panel
            .getByLabel('Code')
            .fill(failsWith('verifyCode') === 'invalid_code' ? wrongCode(sent) : sent);
          await this.button('Verify').click();
          return;
        }
        case 'code.resend':
          await this.button('Resend code').click();
          return;
        default:
          throw new StepError(`the suite cannot perform ${type} on the page`);
      }
    } catch (error) {
      if (error instanceof StepError) throw error;
      throw new StepError(`could not ${describeAction(type)}: ${String(error).split('\n')[0]}`);
    }
  }
}

function describeAction(type: string): string {
  const actions: Record<string, string> = {
    'auth.login': 'sign in with the form',
    'auth.logout': 'press Cancel or Sign out',
    'auth.refresh': 'press “Retry now”',
    'auth.tokenRejected': 'reload the data with the token refused',
    'auth.resume': 'reload the page',
    'identity.select': 'pick the account',
    'identity.change': 'press “Use another account”',
    'code.submit': 'enter the code and press Verify',
    'code.resend': 'press “Resend code”',
  };
  return actions[type] ?? type;
}
