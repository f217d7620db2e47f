/**
 * Property (b), shared by test/properties/sessionModel.test.ts and `npm run soak`: random sequences of
 * login, 401s (expired tokens met by concurrent requests through the client), refresh, logout, stop,
 * restore from a persisted snapshot and server clock jumps, against a real simulator whose refresh
 * route is slow (so races have room), keeping these invariants after every command:
 *
 * - at most one refresh request in flight (counted at the HTTP core through the debug logger);
 * - a rotated refresh token is never sent again (Marketiger: the simulator refuses a spent token with
 *   401, and none is seen; Mrkter: every refresh_token the simulator received is distinct);
 * - no request carries a token after logout or stop;
 * - no secret (password, token, session id, code) in a debug log entry or an error.
 */
import fc from 'fast-check';
import { type AnyActor, type AnyStateMachine, createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../../src/clock.js';
import { isAuthError } from '../../src/errors.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { restoreActor } from '../../src/restore.js';
import type { HttpLogEntry } from '../../src/services/http/log.js';
import { marketigerActors } from '../../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../../src/services/marketiger/api.js';
import { mrkterActors } from '../../src/services/mrkter/actors.js';
import { createMrkterApi } from '../../src/services/mrkter/api.js';
import { marketigerRoutes, startMarketigerSimulator } from '../../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, mrkterRoutes, startMrkterSimulator } from '../../src/testing/mrkterSimulator.js';
import type { SimLogEntry } from '../../src/testing/simServer.js';
import { Evidence, SecretSet, scan } from '../security/scan.js';

const WAIT = { timeout: 10_000 };
/** The refresh route answers this much later: long enough for requests to pile up behind a refresh. */
const REFRESH_LATENCY_MS = 25;
const HOUR = 3_600_000;

/** Sends an event with a payload to an untyped actor (AnyActor's `send` takes a bare EventObject). */
function sendEvent(actor: AnyActor, event: { type: string; [field: string]: unknown }) {
  actor.send(event);
}

/** What differs between the providers. */
interface Provider {
  name: 'marketiger' | 'mrkter';
  machine: AnyStateMachine;
  /** Is this debug log entry a refresh request? */
  isRefresh(entry: HttpLogEntry): boolean;
  signIn(actor: AnyActor): Promise<void>;
  apiPath: string;
  apiBaseURL: string;
  log(): readonly SimLogEntry[];
  expireAccessTokens(): void;
  advanceClock(ms: number): void;
  /** A description of a refresh token sent twice, or `undefined`. */
  reusedRefreshToken(): string | undefined;
  close(): Promise<void>;
}

async function marketiger(secrets: SecretSet, logger: (e: HttpLogEntry) => void): Promise<Provider> {
  const password = 'Model-M-Password-5vT!';
  const sim = await startMarketigerSimulator({
    users: [{ email: 'model@marketiger.test', password, projects: ['p'] }],
    refreshTokenTtlMs: 10_000 * HOUR,
    faults: { [marketigerRoutes.refreshToken]: { kind: 'latency', ms: REFRESH_LATENCY_MS } },
  });
  secrets.add('password', password);
  const api = createMarketigerApi({ baseURL: sim.baseURL, logger });
  return {
    name: 'marketiger',
    machine: marketigerMachine.provide({ actors: marketigerActors(api) }),
    isRefresh: (e) => e.path === '/Auth/RefreshToken',
    async signIn(actor) {
      sendEvent(actor, { type: 'auth.login', email: 'model@marketiger.test', password });
    },
    apiPath: '/Project/GetProjects',
    apiBaseURL: sim.baseURL,
    log: () => sim.log,
    expireAccessTokens: () => sim.expireAccessTokens(),
    advanceClock: (ms) => sim.advanceClock(ms),
    // The simulator spends a refresh token on first use and answers 401 to it afterwards.
    reusedRefreshToken: () =>
      sim.log.some((e) => e.route === marketigerRoutes.refreshToken && e.status === 401)
        ? 'the simulator refused a refresh token (spent or unknown)'
        : undefined,
    close: () => sim.close(),
  };
}

async function mrkter(secrets: SecretSet, logger: (e: HttpLogEntry) => void): Promise<Provider> {
  const password = 'Model-K-Password-8nQ!';
  const user = { ...defaultMrkterUsers[1]!, username: 'model@mrkter.test', password };
  let n = 0;
  const sim = await startMrkterSimulator({
    users: [user],
    smsCooldownMs: 0,
    generateCode: () => {
      const code = `mdl${(++n).toString().padStart(4, '0')}Code`;
      secrets.add('sms code', code);
      return code;
    },
    authFaults: { [mrkterRoutes.token]: { kind: 'latency', ms: REFRESH_LATENCY_MS } },
  });
  secrets.add('password', password);
  const api = createMrkterApi({ authBaseURL: sim.authUrl, apiBaseURL: sim.apiUrl, logger });
  return {
    name: 'mrkter',
    machine: mrkterMachine.provide({ actors: mrkterActors(api) }),
    isRefresh: (e) => e.path === '/oauth/token' && (e.body ?? '').includes('grant_type=refresh_token'),
    async signIn(actor) {
      sendEvent(actor, { type: 'auth.login', username: user.username, password });
      await waitFor(actor, (s) => !s.hasTag('busy'), WAIT);
      if (!actor.getSnapshot().matches('awaitingCode')) return;
      sendEvent(actor, { type: 'code.submit', code: sim.lastCode() ?? '' });
    },
    apiPath: '/accounts/current',
    apiBaseURL: sim.apiUrl,
    log: () => sim.log,
    expireAccessTokens: () => sim.expireAccessTokens(),
    advanceClock: (ms) => sim.advanceClock(ms),
    reusedRefreshToken() {
      const sent = sim.tokenRequests
        .filter((r) => r.params['grant_type'] === 'refresh_token')
        .map((r) => r.params['refresh_token']);
      return new Set(sent).size === sent.length ? undefined : 'a refresh token was sent twice';
    },
    close: () => sim.close(),
  };
}

/** The real system one command sequence runs against. */
class Real {
  actor: AnyActor | undefined;
  http: ReturnType<typeof createAuthorizedAxios> | undefined;
  /** Sim log length at the last logout or stop: requests after it must carry no token, until the next login. */
  quietFrom: number | undefined;
  /** Ids of refresh requests sent and not yet ended. */
  readonly inFlight = new Set<number>();
  maxInFlight = 0;
  readonly evidence = new Evidence();

  constructor(
    readonly provider: Provider,
    readonly secrets: SecretSet,
  ) {}

  /** The debug logger: counts refresh requests in flight, keeps every entry for the secret scan. */
  readonly logger = (entry: HttpLogEntry) => {
    this.evidence.logEntries.push(entry);
    if (entry.phase !== 'request') {
      this.inFlight.delete(entry.id);
    } else if (this.provider.isRefresh(entry)) {
      this.inFlight.add(entry.id);
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    }
  };

  attach(actor: AnyActor) {
    this.actor = actor;
    this.evidence.track(actor, this.secrets);
    this.http = createAuthorizedAxios(actor, {
      baseURL: this.provider.apiBaseURL,
      logger: this.logger,
      refreshWaitMs: 10_000,
    });
  }

  start() {
    const actor = createActor(this.provider.machine, {
      input: { refreshJitterMs: 0, refreshTokenTtlMs: 10_000 * HOUR },
      clock: createUnrefClock(),
      inspect: this.evidence.inspect,
    } as never) as AnyActor;
    actor.start();
    this.attach(actor);
  }

  /** A request through the client: its outcome as `ok`, an AuthError kind, or `http <status>`. */
  async request(): Promise<string> {
    const error = await this.evidence.keepError(this.http!.get(this.provider.apiPath));
    if (error === undefined) return 'ok';
    if (isAuthError(error)) return error.kind;
    return `http ${(error as { response?: { status?: number } }).response?.status ?? 'none'}`;
  }

  /** The invariants that must hold after every command. */
  check() {
    if (this.maxInFlight > 1) throw new Error(`${this.maxInFlight} refresh requests were in flight at once`);
    const reused = this.provider.reusedRefreshToken();
    if (reused) throw new Error(reused);
    if (this.quietFrom !== undefined) {
      const after = this.provider.log().slice(this.quietFrom);
      if (
        after.some((e) => e.headers.authorization !== undefined || e.headers['x-session-id'] !== undefined)
      ) {
        throw new Error('a request carried credentials after logout or stop');
      }
    }
  }
}

interface Model {
  signedIn: boolean;
  /** The actor was stopped (a new one starts at the next login). */
  stopped: boolean;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const settled = (actor: AnyActor) =>
  waitFor(actor, (s) => !s.hasTag('busy') && !s.matches({ signedIn: 'backingOff' }), WAIT);

class Login implements Cmd {
  check = (m: Readonly<Model>) => !m.signedIn;
  async run(m: Model, r: Real) {
    if (m.stopped || !r.actor) {
      r.start();
      m.stopped = false;
    }
    r.quietFrom = undefined;
    await r.provider.signIn(r.actor!);
    await settled(r.actor!);
    if (!r.actor!.getSnapshot().matches('signedIn')) throw new Error('login did not sign in');
    m.signedIn = true;
    r.check();
  }
  toString = () => 'login';
}

class Requests implements Cmd {
  constructor(
    readonly count: number,
    readonly expireFirst: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.signedIn;
  async run(_: Model, r: Real) {
    if (this.expireFirst) r.provider.expireAccessTokens();
    const outcomes = await Promise.all(Array.from({ length: this.count }, () => r.request()));
    if (outcomes.some((o) => o !== 'ok')) throw new Error(`requests answered ${outcomes.join(', ')}`);
    r.check();
  }
  toString = () => `${this.expireFirst ? '401 storm' : 'requests'} x${this.count}`;
}

class Refresh implements Cmd {
  check = (m: Readonly<Model>) => m.signedIn;
  async run(_: Model, r: Real) {
    const before = r.actor!.getSnapshot().context.accessToken;
    r.actor!.send({ type: 'auth.refresh' });
    await settled(r.actor!);
    const after = r.actor!.getSnapshot();
    if (!after.matches('signedIn') || after.context.accessToken === before)
      throw new Error('refresh did not renew');
    r.check();
  }
  toString = () => 'refresh';
}

class Logout implements Cmd {
  check = (m: Readonly<Model>) => m.signedIn;
  async run(m: Model, r: Real) {
    r.actor!.send({ type: 'auth.logout' });
    r.quietFrom = r.provider.log().length;
    m.signedIn = false;
    const outcome = await r.request();
    if (outcome !== 'signed_out') throw new Error(`a request after logout answered ${outcome}`);
    r.check();
  }
  toString = () => 'logout';
}

class Stop implements Cmd {
  check = (m: Readonly<Model>) => !m.stopped;
  async run(m: Model, r: Real) {
    r.actor!.stop();
    r.quietFrom = r.provider.log().length;
    m.signedIn = false;
    m.stopped = true;
    const outcome = await r.request();
    if (outcome !== 'signed_out') throw new Error(`a request after stop answered ${outcome}`);
    r.check();
  }
  toString = () => 'stop';
}

class Restore implements Cmd {
  check = (m: Readonly<Model>) => !m.stopped;
  async run(m: Model, r: Real) {
    // What an app stores and reads back: JSON.
    const saved = JSON.parse(JSON.stringify(r.actor!.getPersistedSnapshot()));
    r.actor!.stop();
    const actor = restoreActor(r.provider.machine, saved, {
      clock: createUnrefClock(),
      inspect: r.evidence.inspect,
    } as never) as AnyActor;
    r.attach(actor);
    await settled(actor);
    if (actor.getSnapshot().matches('signedIn') !== m.signedIn)
      throw new Error('restore changed the session');
    r.check();
  }
  toString = () => 'restore';
}

class ClockJump implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_: Model, r: Real) {
    r.provider.advanceClock(this.ms);
    r.check();
  }
  toString = () => `server clock +${Math.round(this.ms / 60_000)} min`;
}

const commands = [
  fc.constant(new Login()),
  fc.tuple(fc.integer({ min: 1, max: 6 }), fc.boolean()).map(([n, expire]) => new Requests(n, expire)),
  fc.constant(new Refresh()),
  fc.constant(new Logout()),
  fc.constant(new Stop()),
  fc.constant(new Restore()),
  fc.integer({ min: 60_000, max: 3 * HOUR }).map((ms) => new ClockJump(ms)),
];

/**
 * The property for one provider: each run gets a fresh simulator and actor, plays the commands, and
 * then scans every debug log entry and kept error for the secrets seen.
 */
export function sessionModelProperty(providerName: 'marketiger' | 'mrkter', maxCommands = 12) {
  return fc.asyncProperty(fc.commands(commands, { maxCommands }), async (cmds) => {
    const secrets = new SecretSet();
    let real: Real | undefined;
    const logger = (e: HttpLogEntry) => real?.logger(e);
    const provider = await (providerName === 'marketiger' ? marketiger : mrkter)(secrets, logger);
    real = new Real(provider, secrets);
    try {
      await fc.asyncModelRun(() => ({ model: { signedIn: false, stopped: true }, real: real! }), cmds);
      const findings = scan(real.evidence, secrets);
      if (findings.length > 0) throw new Error(`secrets in output: ${findings.join('; ')}`);
    } finally {
      real.actor?.stop();
      await provider.close();
    }
  });
}
