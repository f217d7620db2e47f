/**
 * What the benchmarks share: the size presets, keep-alive agents and a signed-in Marketiger actor.
 */
import { Agent } from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import { type Actor, createActor, waitFor } from 'xstate';
import { createUnrefClock } from '../src/clock.js';
import { marketigerMachine } from '../src/machines/marketigerMachine.js';
import { marketigerActors } from '../src/services/marketiger/actors.js';
import { createMarketigerApi } from '../src/services/marketiger/api.js';
import { MARKETIGER_DEMO_USER, type MarketigerSimulator } from '../src/testing/marketigerSimulator.js';

/** Sizes of one run; `--quick` shrinks every one so the whole harness runs in well under a minute. */
export interface Sizes {
  authLayerRounds: number;
  authLayerRequests: number;
  requestRounds: number;
  requestsPerRound: number;
  stormRounds: number;
  stormSize: number;
  flowRounds: number;
  flowsPerRound: number;
  fleetSize: number;
  pathRounds: number;
  importRuns: number;
}

export const fullSizes: Sizes = {
  authLayerRounds: 15,
  authLayerRequests: 5_000,
  requestRounds: 11,
  requestsPerRound: 1_500,
  stormRounds: 5,
  stormSize: 1_000,
  flowRounds: 11,
  flowsPerRound: 60,
  fleetSize: 10_000,
  pathRounds: 7,
  importRuns: 15,
};

export const quickSizes: Sizes = {
  authLayerRounds: 3,
  authLayerRequests: 300,
  requestRounds: 3,
  requestsPerRound: 200,
  stormRounds: 2,
  stormSize: 200,
  flowRounds: 3,
  flowsPerRound: 10,
  fleetSize: 500,
  pathRounds: 3,
  importRuns: 1,
};

/**
 * One keep-alive agent per comparison, shared by every variant in it, so no variant pays for TCP
 * handshakes the others do not. `maxSockets` is unlimited (Node's default) so a burst opens as many
 * connections as it has requests, for every client alike. An idle socket is closed after 5 s, before
 * the simulator closes its side (10 s), so a burst never reuses a socket the server is closing.
 */
export function keepAliveAgent(): Agent {
  return new Agent({ keepAlive: true, timeout: 5_000 });
}

/**
 * Transport options every axios instance in a comparison gets: the same agent, the same timeout, and no
 * redirects (axios then uses `http` directly rather than `follow-redirects`, as the authorized client does).
 */
export function transport(baseURL: string, agent: Agent) {
  return { baseURL, httpAgent: agent, timeout: 15_000, maxRedirects: 0, proxy: false as const };
}

/** A plain axios instance with the comparison's transport, for the straight-line and anchor variants. */
export function plainAxios(
  baseURL: string,
  agent: Agent,
  headers: Record<string, string> = {},
): AxiosInstance {
  return axios.create({ ...transport(baseURL, agent), headers });
}

export type MarketigerActor = Actor<typeof marketigerMachine>;

/** The provided machine over a service whose axios instance uses `agent`. */
export function providedMarketiger(baseURL: string, agent: Agent) {
  const api = createMarketigerApi({ baseURL, axios: plainAxios(baseURL, agent) });
  return marketigerMachine.provide({ actors: marketigerActors(api) });
}

/** Starts a Marketiger actor and signs the demo user in through the simulator. */
export async function signedInMarketiger(sim: MarketigerSimulator, agent: Agent): Promise<MarketigerActor> {
  const actor = createActor(providedMarketiger(sim.baseURL, agent), { clock: createUnrefClock() }).start();
  actor.send({
    type: 'auth.login',
    email: MARKETIGER_DEMO_USER.email,
    password: MARKETIGER_DEMO_USER.password,
  });
  const snapshot = await waitFor(actor, (s) => s.matches({ signedIn: 'active' }) || s.matches('signedOut'), {
    timeout: 10_000,
  });
  if (!snapshot.matches('signedIn')) {
    actor.stop();
    throw new Error(`the benchmark session did not sign in: ${snapshot.context.error?.kind ?? 'unknown'}`);
  }
  return actor;
}

/** Signs the demo user in with a bare POST, for the anchors that keep their own tokens. */
export async function rawMarketigerLogin(
  http: AxiosInstance,
): Promise<{ accessToken: string; refreshToken: string }> {
  const { data } = await http.post('/Auth/Login', {
    email: MARKETIGER_DEMO_USER.email,
    password: MARKETIGER_DEMO_USER.password,
  });
  return data.data;
}
