/**
 * Benchmark 3, flow overhead: a whole sign-in through the statechart against the same HTTP calls written
 * straight-line with axios, over one keep-alive agent per provider.
 * - Marketiger: login, then the first authorized GET /Project/GetProjects.
 * - Mrkter: password grant, identities, identity chosen, SMS code requested, code (read from
 *   `sim.lastCode()`) validated into a session id.
 */
import type { Agent } from 'node:http';
import { type Actor, createActor, waitFor } from 'xstate';
import { createAuthorizedAxios } from '../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../src/clock.js';
import { mrkterMachine } from '../src/machines/mrkterMachine.js';
import { mrkterActors } from '../src/services/mrkter/actors.js';
import { createMrkterApi } from '../src/services/mrkter/api.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  startMarketigerSimulator,
} from '../src/testing/marketigerSimulator.js';
import {
  defaultMrkterUsers,
  type MrkterSimulator,
  startMrkterSimulator,
} from '../src/testing/mrkterSimulator.js';
import { keepAliveAgent, plainAxios, providedMarketiger, type Sizes, transport } from './common.js';
import { interleavedRounds, pairedRatio, round } from './rounds.js';

export interface FlowResult {
  rounds: number;
  flows_per_round: number;
  median_ms_per_flow: {
    marketiger: { machine: number; straight: number };
    mrkter: { machine: number; straight: number };
  };
  flow_ratio: { marketiger: number; mrkter: number };
  /** The same ratios from the CPU time of each round rather than its wall time. */
  cpu_ratio: { marketiger: number; mrkter: number };
}

const WAIT = { timeout: 10_000 };

/** One sign-in through the machine, and the same HTTP calls written straight-line. */
export interface FlowVariants {
  throughMachine: () => Promise<void>;
  straight: () => Promise<void>;
}

async function times(count: number, flow: () => Promise<void>) {
  for (let i = 0; i < count; i++) await flow();
}

type MarketigerMachine = ReturnType<typeof providedMarketiger>;
type MrkterMachine = typeof mrkterMachine;

/**
 * Starts an actor of `machine` (its actors provided) and signs in with `credentials`; resolves with the
 * signed-in actor (the caller stops it), or stops it and throws.
 */
export async function marketigerSignIn(
  machine: MarketigerMachine,
  credentials: { email: string; password: string },
): Promise<Actor<MarketigerMachine>> {
  const actor = createActor(machine, { clock: createUnrefClock() }).start();
  try {
    actor.send({ type: 'auth.login', ...credentials });
    const snapshot = await waitFor(actor, (s) => s.matches('signedIn') || s.matches('signedOut'), WAIT);
    if (!snapshot.matches('signedIn')) throw new Error('the Marketiger machine did not sign in');
    return actor;
  } catch (error) {
    actor.stop();
    throw error;
  }
}

/**
 * Starts an actor of `machine` (its actors provided) and walks a Mrkter sign-in: credentials, the first
 * identity, the SMS code `codeFor` gives for its phone. Resolves with the signed-in actor (the caller
 * stops it), or stops it and throws.
 */
export async function mrkterSignIn(
  machine: MrkterMachine,
  user: { username: string; password: string },
  codeFor: (phoneNumber: string | undefined) => string | undefined,
): Promise<Actor<MrkterMachine>> {
  const actor = createActor(machine, { clock: createUnrefClock() }).start();
  try {
    actor.send({ type: 'auth.login', username: user.username, password: user.password });
    let snapshot = await waitFor(
      actor,
      (s) => s.matches('selectingIdentity') || s.matches('signedOut'),
      WAIT,
    );
    const identity = snapshot.context.identities[0];
    if (!snapshot.matches('selectingIdentity') || !identity) throw new Error('no identities to choose from');
    actor.send({ type: 'identity.select', accountId: identity.accountId });
    snapshot = await waitFor(actor, (s) => s.matches('awaitingCode') || s.matches('selectingIdentity'), WAIT);
    const code = codeFor(snapshot.context.phoneNumber ?? undefined);
    if (!snapshot.matches('awaitingCode') || !code) throw new Error('no SMS code was sent');
    actor.send({ type: 'code.submit', code });
    snapshot = await waitFor(actor, (s) => s.matches('signedIn') || !s.hasTag('busy'), WAIT);
    if (!snapshot.matches('signedIn')) throw new Error('the Mrkter machine did not sign in');
    return actor;
  } catch (error) {
    actor.stop();
    throw error;
  }
}

/** The two variants of a Marketiger sign-in against `sim`, over `agent`. */
export function marketigerFlowsOn(sim: MarketigerSimulator, agent: Agent): FlowVariants {
  const machine = providedMarketiger(sim.baseURL, agent);
  const credentials = { email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password };

  const throughMachine = async () => {
    const actor = await marketigerSignIn(machine, credentials);
    try {
      const http = createAuthorizedAxios(actor, transport(sim.baseURL, agent));
      const response = await http.get('/Project/GetProjects');
      if (response.status !== 200) throw new Error('the first authorized request failed');
    } finally {
      actor.stop();
    }
  };

  const straight = async () => {
    const http = plainAxios(sim.baseURL, agent);
    const login = await http.post('/Auth/Login', credentials);
    const response = await http.get('/Project/GetProjects', {
      headers: { Authorization: `Bearer ${login.data.data.accessToken}` },
    });
    if (response.status !== 200) throw new Error('the first authorized request failed');
  };
  return { throughMachine, straight };
}

/**
 * Both variants of one provider's sign-in in interleaved rounds, against a simulator `start` starts for
 * them, over one keep-alive agent.
 */
async function flowRounds<S extends { close(): Promise<void> }>(
  sizes: Sizes,
  start: () => Promise<S>,
  flowsOn: (sim: S, agent: Agent) => FlowVariants,
) {
  const sim = await start();
  const agent = keepAliveAgent();
  const { throughMachine, straight } = flowsOn(sim, agent);
  try {
    return await interleavedRounds(
      {
        machine: () => times(sizes.flowsPerRound, throughMachine),
        straight: () => times(sizes.flowsPerRound, straight),
      },
      { rounds: sizes.flowRounds, warmup: 1 },
    );
  } finally {
    agent.destroy();
    await sim.close();
  }
}

/** The two variants of a Mrkter sign-in against `sim`, over `agent`. */
export function mrkterFlowsOn(sim: MrkterSimulator, agent: Agent): FlowVariants {
  const user = defaultMrkterUsers[0]!;
  const api = createMrkterApi({
    authBaseURL: sim.authUrl,
    apiBaseURL: sim.apiUrl,
    axios: plainAxios(sim.authUrl, agent),
  });
  const machine = mrkterMachine.provide({ actors: mrkterActors(api) });

  const throughMachine = async () => {
    const actor = await mrkterSignIn(machine, user, (phone) => sim.lastCode(phone));
    actor.stop();
  };

  const auth = plainAxios(sim.authUrl, agent);
  const mrkter = plainAxios(sim.apiUrl, agent);
  const straight = async () => {
    const tokens = await auth.post(
      '/oauth/token',
      new URLSearchParams({
        grant_type: 'password',
        username: user.username,
        password: user.password,
        audience: 'https://dev-mrkter.io',
        client_id: 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi',
        connection: 'Username-Password-Authentication',
        scope: 'offline_access',
      }).toString(),
      { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
    );
    const bearer = { Authorization: `Bearer ${tokens.data.access_token}` };
    const identities = await mrkter.get('/user-identity/me/users', { headers: bearer });
    const identity = identities.data[0];
    await mrkter.post(
      '/verification/sms',
      { phoneNumber: identity.verifiedPhoneNumber },
      { headers: bearer },
    );
    const code = sim.lastCode(identity.verifiedPhoneNumber);
    const session = await mrkter.post(
      '/auth/mfa/phone-number/authenticate',
      { code },
      { headers: { ...bearer, 'x-account-id': String(identity.accountId) } },
    );
    if (session.status !== 200 && session.status !== 201) throw new Error('the code was refused');
  };
  return { throughMachine, straight };
}

export async function benchFlows(sizes: Sizes): Promise<FlowResult> {
  const marketiger = await flowRounds(sizes, () => startMarketigerSimulator(), marketigerFlowsOn);
  // No SMS cooldown: the benchmark asks for a code per sign-in, many times a second, for the same phone.
  const mrkter = await flowRounds(sizes, () => startMrkterSimulator({ smsCooldownMs: 0 }), mrkterFlowsOn);
  const perFlow = (ms: number) => round(ms / sizes.flowsPerRound, 3);
  return {
    rounds: sizes.flowRounds,
    flows_per_round: sizes.flowsPerRound,
    median_ms_per_flow: {
      marketiger: {
        machine: perFlow(marketiger.medians.machine),
        straight: perFlow(marketiger.medians.straight),
      },
      mrkter: { machine: perFlow(mrkter.medians.machine), straight: perFlow(mrkter.medians.straight) },
    },
    flow_ratio: {
      marketiger: round(pairedRatio(marketiger.samples.machine, marketiger.samples.straight)),
      mrkter: round(pairedRatio(mrkter.samples.machine, mrkter.samples.straight)),
    },
    cpu_ratio: {
      marketiger: round(pairedRatio(marketiger.cpu.machine, marketiger.cpu.straight)),
      mrkter: round(pairedRatio(mrkter.cpu.machine, mrkter.cpu.straight)),
    },
  };
}
