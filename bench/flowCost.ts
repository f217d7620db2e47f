/**
 * Where the extra time of a sign-in through the machine goes, by subtraction: the flow benchmark's two
 * variants (through the machine, and the same HTTP calls straight-line), then the parts of the first
 * one timed alone, in a tight loop and in the flow's own surroundings. All in one process, in
 * interleaved rounds (a rotated order each round), medians of wall µs per sign-in.
 *
 *   npx tsx bench/flowCost.ts [--rounds 11] [--flows 40]
 *
 * Rows, for each provider:
 * - `straight`, `through the machine`: as `npm run bench` measures `flow_ratio`.
 * - `machine, tight loop`: the same statechart with actors that answer at once (the answers of a real
 *   sign-in, recorded first), signing in again and again: what XState and the machine's own actions
 *   cost with everything they touch in the CPU's caches. This is how "63 µs" was measured.
 * - `machine, between flows`: the same instant sign-in, timed alone, each one run between two
 *   straight-line flows (not timed): what it costs where it really runs, after the HTTP stack and the
 *   simulator have had the caches.
 * - `machine, after a data walk`: the same, each after reading 32 MB (every cache line once): its
 *   cost with caches that hold none of it.
 * - Marketiger only, the first authorized request, timed alone between flows: on a client made for it
 *   (`createAuthorizedAxios`, as the flow does), on a plain axios instance made for it, and on a plain
 *   instance made once (as the straight-line flow does).
 * - Marketiger only, the floor any statechart starts from, as whole sign-ins beside the others: the
 *   straight-line flow with the login through the service (`createMarketigerApi`) instead of a bare
 *   POST, and the same service call invoked by the smallest statechart that can sign in (three states,
 *   one promise actor, one `assign`; no timers, no root actor) before the same plain GET.
 */
import { parseArgs } from 'node:util';
import axios from 'axios';
import { assign, createActor, fromPromise, setup, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../src/client/createAuthorizedAxios.js';
import { marketigerMachine } from '../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../src/machines/mrkterMachine.js';
import { createMarketigerApi } from '../src/services/marketiger/api.js';
import { mrkterActors } from '../src/services/mrkter/actors.js';
import { createMrkterApi } from '../src/services/mrkter/api.js';
import { MARKETIGER_DEMO_USER, startMarketigerSimulator } from '../src/testing/marketigerSimulator.js';
import { defaultMrkterUsers, startMrkterSimulator } from '../src/testing/mrkterSimulator.js';
import type { MarketigerApi, MrkterIdentity, TokenSet } from '../src/types.js';
import { keepAliveAgent, plainAxios, providedMarketiger, transport } from './common.js';
import {
  type FlowVariants,
  marketigerFlowsOn,
  marketigerSignIn,
  mrkterFlowsOn,
  mrkterSignIn,
} from './flows.js';
import { median, round } from './rounds.js';

/** One measured part: runs once and says how many µs of it count. */
type Part = () => Promise<number>;

const timed =
  (work: () => Promise<unknown>): Part =>
  async () => {
    const started = performance.now();
    await work();
    return (performance.now() - started) * 1000;
  };

const walked = new Float64Array(4 << 20);
// A module-level sum, so that the walk is work the engine cannot drop.
let _walkSum = 0;
/** Reads 32 MB, one value per 64-byte cache line, so that the caches hold none of what ran before. */
function walkData(): void {
  for (let i = 0; i < walked.length; i += 8) _walkSum += walked[i]!;
}

/** Each part `flows` times per round, in a rotated order each round; the median µs per run of each. */
async function measure(parts: Record<string, Part>, rounds: number, flows: number) {
  const names = Object.keys(parts);
  const perRun: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = -1; r < rounds; r++) {
    const order = [...names.slice((r + 1) % names.length), ...names.slice(0, (r + 1) % names.length)];
    for (const name of order) {
      let total = 0;
      for (let i = 0; i < flows; i++) total += await parts[name]!();
      if (r >= 0) perRun[name]!.push(total / flows);
    }
  }
  return Object.fromEntries(names.map((name) => [name, round(median(perRun[name]!), 1)]));
}

/** An instant part between two straight-line flows (which are not counted). */
const between =
  (straight: () => Promise<void>, part: Part): Part =>
  async () => {
    await straight();
    return part();
  };
const afterDataWalk =
  (part: Part): Part =>
  async () => {
    walkData();
    return part();
  };

/** The rows both providers have: the flow's two variants, and the machine alone in three surroundings. */
function machineRows(flow: FlowVariants, machineOnly: Part): Record<string, Part> {
  return {
    straight: timed(flow.straight),
    'through the machine': timed(flow.throughMachine),
    'machine, tight loop': machineOnly,
    'machine, between flows': between(flow.straight, machineOnly),
    'machine, after a data walk': afterDataWalk(machineOnly),
  };
}

/**
 * The smallest statechart that signs in through `api`: what any XState machine costs around the same
 * service call (an actor, a promise actor with the XState `signal`, a transition, an `assign`).
 */
function smallestSignIn(api: MarketigerApi) {
  return setup({
    types: {
      context: {} as { accessToken: string | null },
      events: {} as { type: 'auth.login'; email: string; password: string },
    },
    actors: {
      login: fromPromise<TokenSet, { email: string; password: string }>(({ input, signal }) =>
        api.login(input, { signal }),
      ),
    },
  }).createMachine({
    initial: 'signedOut',
    context: { accessToken: null },
    states: {
      signedOut: { on: { 'auth.login': 'signingIn' } },
      signingIn: {
        invoke: {
          src: 'login',
          input: ({ event }) => ({ email: event.email, password: event.password }),
          onDone: {
            target: 'signedIn',
            actions: assign({ accessToken: ({ event }) => event.output.accessToken }),
          },
        },
      },
      signedIn: {},
    },
  });
}

async function marketiger(rounds: number, flows: number) {
  const sim = await startMarketigerSimulator();
  const agent = keepAliveAgent();
  try {
    const { throughMachine, straight } = marketigerFlowsOn(sim, agent);
    const credentials = { email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password };
    // The answer of a real sign-in, given back at once by the instant machine.
    const real = await marketigerSignIn(providedMarketiger(sim.baseURL, agent), credentials);
    const { accessToken, refreshToken, accessTokenExpiresAt } = real.getSnapshot().context;
    real.stop();
    const tokens: TokenSet = {
      accessToken: accessToken ?? '',
      refreshToken,
      accessTokenExpiresAt,
      clockSkewMs: 0,
    };
    const instant = marketigerMachine.provide({ actors: { login: fromPromise(async () => tokens) } });
    const machineOnly = timed(async () => (await marketigerSignIn(instant, credentials)).stop());

    // One signed-in actor for the request rows: the client is made per request, as the flow makes one per sign-in.
    const signedIn = await marketigerSignIn(instant, credentials);
    const headers = { Authorization: `Bearer ${accessToken}` };
    const longLived = plainAxios(sim.baseURL, agent);
    // The floor rows: the same GET as the straight-line flow, after a login through the service.
    const api = createMarketigerApi({ baseURL: sim.baseURL, axios: plainAxios(sim.baseURL, agent) });
    const smallest = smallestSignIn(api);
    const firstGet = (accessToken: string | null) =>
      plainAxios(sim.baseURL, agent).get('/Project/GetProjects', {
        headers: { Authorization: `Bearer ${accessToken}` },
      });
    try {
      return await measure(
        {
          ...machineRows({ straight, throughMachine }, machineOnly),
          'first GET, authorized client made for it': between(
            straight,
            timed(() =>
              createAuthorizedAxios(signedIn, transport(sim.baseURL, agent)).get('/Project/GetProjects'),
            ),
          ),
          'first GET, plain axios instance made for it': between(
            straight,
            timed(() => axios.create(transport(sim.baseURL, agent)).get('/Project/GetProjects', { headers })),
          ),
          'GET on a plain instance made once': between(
            straight,
            timed(() => longLived.get('/Project/GetProjects', { headers })),
          ),
          'straight, login through the service': timed(async () =>
            firstGet((await api.login(credentials)).accessToken),
          ),
          'smallest statechart around the service': timed(async () => {
            const actor = createActor(smallest).start();
            try {
              actor.send({ type: 'auth.login', ...credentials });
              const done = await waitFor(actor, (state) => state.matches('signedIn'), { timeout: 10_000 });
              await firstGet(done.context.accessToken);
            } finally {
              actor.stop();
            }
          }),
        },
        rounds,
        flows,
      );
    } finally {
      signedIn.stop();
    }
  } finally {
    agent.destroy();
    await sim.close();
  }
}

async function mrkter(rounds: number, flows: number) {
  const sim = await startMrkterSimulator({ smsCooldownMs: 0 });
  const agent = keepAliveAgent();
  try {
    const { throughMachine, straight } = mrkterFlowsOn(sim, agent);
    const user = defaultMrkterUsers[0]!;
    const api = createMrkterApi({
      authBaseURL: sim.authUrl,
      apiBaseURL: sim.apiUrl,
      axios: plainAxios(sim.authUrl, agent),
    });
    const real = await mrkterSignIn(mrkterMachine.provide({ actors: mrkterActors(api) }), user, (phone) =>
      sim.lastCode(phone),
    );
    const context = real.getSnapshot().context;
    real.stop();
    const tokens: TokenSet = {
      accessToken: context.accessToken ?? '',
      refreshToken: context.refreshToken,
      accessTokenExpiresAt: context.accessTokenExpiresAt,
      clockSkewMs: 0,
    };
    const identities: MrkterIdentity[] = context.identities;
    const sessionId = context.sessionId ?? '';
    const instant = mrkterMachine.provide({
      actors: {
        login: fromPromise(async () => tokens),
        loadIdentities: fromPromise(async () => identities),
        requestCode: fromPromise(async (): Promise<void> => {}),
        verifyCode: fromPromise(async () => ({ sessionId })),
      },
    });
    const machineOnly = timed(async () => (await mrkterSignIn(instant, user, () => '123456')).stop());
    return await measure(machineRows({ straight, throughMachine }, machineOnly), rounds, flows);
  } finally {
    agent.destroy();
    await sim.close();
  }
}

function print(provider: string, rows: Record<string, number>) {
  const straight = rows['straight'] ?? Number.NaN;
  console.log(`\n${provider}: wall µs per sign-in (or per request), median of the rounds`);
  for (const [name, us] of Object.entries(rows)) {
    const share = name === 'straight' ? '' : ` (${((100 * us) / straight).toFixed(1)} % of straight)`;
    console.log(`  ${name.padEnd(46)} ${us.toFixed(1).padStart(9)}${share}`);
  }
}

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '11' }, flows: { type: 'string', default: '40' } },
});
const rounds = Number(values.rounds);
const flows = Number(values.flows);
print('marketiger', await marketiger(rounds, flows));
print('mrkter', await mrkter(rounds, flows));
