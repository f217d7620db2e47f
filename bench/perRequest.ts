/**
 * Benchmark 1, per request: sequential authorized GETs through `createAuthorizedAxios` (a signed-in
 * Marketiger actor) against plain axios with a fixed Authorization header and against axios-auth-refresh,
 * all three over one keep-alive agent to the same simulator. Within each round the clients take turns in
 * blocks of 20 requests, so a slow spell of the machine falls on all three alike.
 */
import type { AxiosInstance } from 'axios';
import createAuthRefresh from 'axios-auth-refresh';
import { createAuthorizedAxios } from '../src/client/createAuthorizedAxios.js';
import { startMarketigerSimulator } from '../src/testing/marketigerSimulator.js';
import {
  keepAliveAgent,
  plainAxios,
  rawMarketigerLogin,
  type Sizes,
  signedInMarketiger,
  transport,
} from './common.js';
import { interleavedRounds, pairedRatio, round, turnsFor } from './rounds.js';

export interface PerRequestResult {
  rounds: number;
  requests_per_round: number;
  /** Within a round the clients take turns, this many requests each. */
  requests_per_turn: number;
  median_ms_per_request: { authcharts: number; plain_axios: number; axios_auth_refresh: number };
  overhead_ratio: number;
  axios_auth_refresh_overhead_ratio: number;
  /** The same ratios from the CPU time of each round rather than its wall time. */
  cpu_ratio: { authcharts: number; axios_auth_refresh: number };
}

const path = '/Project/GetProjects';
/** Requests per turn: the clients take turns in blocks this long within each round. */
const BLOCK = 20;

async function sequential(http: AxiosInstance, count: number) {
  for (let i = 0; i < count; i++) {
    const response = await http.get(path);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  }
}

export async function benchPerRequest(sizes: Sizes): Promise<PerRequestResult> {
  const sim = await startMarketigerSimulator();
  const agent = keepAliveAgent();
  const actor = await signedInMarketiger(sim, agent);
  try {
    const ours = createAuthorizedAxios(actor, transport(sim.baseURL, agent));

    const plain = plainAxios(sim.baseURL, agent, {
      Authorization: `Bearer ${actor.getSnapshot().context.accessToken}`,
    });

    // axios-auth-refresh as its README sets it up: a request interceptor that attaches the current token,
    // and the refresh interceptor on the same instance. Its tokens come from a login of its own.
    const tokens = await rawMarketigerLogin(plainAxios(sim.baseURL, agent));
    const anchor = plainAxios(sim.baseURL, agent);
    anchor.interceptors.request.use((request) => {
      request.headers.set('Authorization', `Bearer ${tokens.accessToken}`);
      return request;
    });
    createAuthRefresh(anchor, async () => {
      const { data } = await plainAxios(sim.baseURL, agent).post('/Auth/RefreshToken', {
        refreshToken: tokens.refreshToken,
      });
      Object.assign(tokens, data.data);
    });

    const turns = turnsFor(sizes.requestsPerRound, BLOCK);
    const n = turns * BLOCK;
    const result = await interleavedRounds(
      {
        authcharts: () => sequential(ours, BLOCK),
        plain_axios: () => sequential(plain, BLOCK),
        axios_auth_refresh: () => sequential(anchor, BLOCK),
      },
      { rounds: sizes.requestRounds, warmup: 1, turns },
    );
    return {
      rounds: sizes.requestRounds,
      requests_per_round: n,
      requests_per_turn: BLOCK,
      median_ms_per_request: {
        authcharts: round(result.medians.authcharts / n, 4),
        plain_axios: round(result.medians.plain_axios / n, 4),
        axios_auth_refresh: round(result.medians.axios_auth_refresh / n, 4),
      },
      overhead_ratio: round(pairedRatio(result.samples.authcharts, result.samples.plain_axios)),
      axios_auth_refresh_overhead_ratio: round(
        pairedRatio(result.samples.axios_auth_refresh, result.samples.plain_axios),
      ),
      cpu_ratio: {
        authcharts: round(pairedRatio(result.cpu.authcharts, result.cpu.plain_axios)),
        axios_auth_refresh: round(pairedRatio(result.cpu.axios_auth_refresh, result.cpu.plain_axios)),
      },
    };
  } finally {
    actor.stop();
    agent.destroy();
    await sim.close();
  }
}
