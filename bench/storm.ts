/**
 * Benchmark 2, refresh storm: a burst of concurrent GETs right after `sim.expireAccessTokens()`, against
 * the same burst with a valid token. The simulator counts the refresh calls. Measured for
 * `createAuthorizedAxios` and for axios-auth-refresh (its defaults, and with `deduplicateRefresh: false`),
 * each against a simulator of its own so that expiring one client's tokens leaves the others' alone.
 */
import type { AxiosInstance } from 'axios';
import createAuthRefresh from 'axios-auth-refresh';
import { createAuthorizedAxios } from '../src/client/createAuthorizedAxios.js';
import {
  type MarketigerSimulator,
  marketigerRoutes,
  startMarketigerSimulator,
} from '../src/testing/marketigerSimulator.js';
import {
  keepAliveAgent,
  type MarketigerActor,
  plainAxios,
  rawMarketigerLogin,
  type Sizes,
  signedInMarketiger,
  transport,
} from './common.js';
import { median, pairedRatio, round } from './rounds.js';

export interface StormFigures {
  /** Refresh calls the simulator saw per expired burst: the most of any round (target 1). */
  refreshes: number;
  /** Successful requests of the expired burst: the fewest of any round (target = burst size). */
  successes: number;
  /** Median over rounds of (expired burst wall time / valid burst wall time). */
  ratio: number;
  median_ms: { valid: number; expired: number };
  per_round: {
    refreshes: number;
    successes: number;
    /** GETs the simulator received during the expired burst (the burst plus its retries). */
    expired_requests: number;
    valid_ms: number;
    expired_ms: number;
  }[];
}

export interface StormResult {
  burst: number;
  rounds: number;
  authcharts: StormFigures;
  axios_auth_refresh: StormFigures;
  axios_auth_refresh_no_dedup: StormFigures;
}

interface Contender {
  sim: MarketigerSimulator;
  http: AxiosInstance;
  close(): Promise<void>;
}

const path = '/Project/GetProjects';

async function ours(): Promise<Contender> {
  const sim = await startMarketigerSimulator();
  const agent = keepAliveAgent();
  let actor: MarketigerActor | undefined;
  try {
    actor = await signedInMarketiger(sim, agent);
  } catch (error) {
    agent.destroy();
    await sim.close();
    throw error;
  }
  const signedIn = actor;
  return {
    sim,
    http: createAuthorizedAxios(signedIn, transport(sim.baseURL, agent)),
    async close() {
      signedIn.stop();
      agent.destroy();
      await sim.close();
    },
  };
}

async function axiosAuthRefresh(deduplicateRefresh: boolean): Promise<Contender> {
  const sim = await startMarketigerSimulator();
  const agent = keepAliveAgent();
  const tokens = await rawMarketigerLogin(plainAxios(sim.baseURL, agent));
  const http = plainAxios(sim.baseURL, agent);
  http.interceptors.request.use((request) => {
    request.headers.set('Authorization', `Bearer ${tokens.accessToken}`);
    return request;
  });
  // The refresh function its README shows: call the refresh endpoint, store the new tokens; the retried
  // requests pick the new access token up in the request interceptor above.
  createAuthRefresh(
    http,
    async () => {
      const { data } = await plainAxios(sim.baseURL, agent).post('/Auth/RefreshToken', {
        refreshToken: tokens.refreshToken,
      });
      Object.assign(tokens, data.data);
    },
    { deduplicateRefresh },
  );
  return {
    sim,
    http,
    async close() {
      agent.destroy();
      await sim.close();
    },
  };
}

async function burst(http: AxiosInstance, size: number): Promise<number> {
  const outcomes = await Promise.allSettled(Array.from({ length: size }, () => http.get(path)));
  return outcomes.filter((o) => o.status === 'fulfilled' && o.value.status === 200).length;
}

/**
 * One round for one client: an uncounted burst that (re)opens the connections (an idle one is closed after
 * 5 s, and the other clients' rounds may take longer than that), then the valid burst, then the
 * expired one: both timed bursts run on the same warm connections.
 */
async function stormRound(contender: Contender, size: number) {
  await burst(contender.http, size);
  let started = performance.now();
  const validSuccesses = await burst(contender.http, size);
  const validMs = performance.now() - started;
  if (validSuccesses !== size) throw new Error(`the valid burst had ${size - validSuccesses} failures`);
  contender.sim.expireAccessTokens();
  const before = contender.sim.refreshCount;
  const requestsBefore = contender.sim.requestCount(marketigerRoutes.getProjects);
  started = performance.now();
  const successes = await burst(contender.http, size);
  const expiredMs = performance.now() - started;
  return {
    refreshes: contender.sim.refreshCount - before,
    successes,
    expired_requests: contender.sim.requestCount(marketigerRoutes.getProjects) - requestsBefore,
    valid_ms: validMs,
    expired_ms: expiredMs,
  };
}

function figures(perRound: StormFigures['per_round']): StormFigures {
  return {
    refreshes: Math.max(...perRound.map((r) => r.refreshes)),
    successes: Math.min(...perRound.map((r) => r.successes)),
    ratio: round(
      pairedRatio(
        perRound.map((r) => r.expired_ms),
        perRound.map((r) => r.valid_ms),
      ),
    ),
    median_ms: {
      valid: round(median(perRound.map((r) => r.valid_ms)), 1),
      expired: round(median(perRound.map((r) => r.expired_ms)), 1),
    },
    per_round: perRound.map((r) => ({
      ...r,
      valid_ms: round(r.valid_ms, 1),
      expired_ms: round(r.expired_ms, 1),
    })),
  };
}

export async function benchStorm(sizes: Sizes): Promise<StormResult> {
  const contenders = {
    authcharts: await ours(),
    axios_auth_refresh: await axiosAuthRefresh(true),
    axios_auth_refresh_no_dedup: await axiosAuthRefresh(false),
  };
  const names = Object.keys(contenders) as (keyof typeof contenders)[];
  const rounds = Object.fromEntries(names.map((n) => [n, [] as StormFigures['per_round']])) as Record<
    keyof typeof contenders,
    StormFigures['per_round']
  >;
  try {
    // One uncounted warm-up round, then interleaved rounds in a rotated order (see rounds.ts).
    for (let r = 0; r < sizes.stormRounds + 1; r++) {
      const shift = r % names.length;
      for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
        const outcome = await stormRound(contenders[name], sizes.stormSize);
        if (r > 0) rounds[name].push(outcome);
      }
    }
  } finally {
    for (const contender of Object.values(contenders)) await contender.close();
  }
  return {
    burst: sizes.stormSize,
    rounds: sizes.stormRounds,
    authcharts: figures(rounds.authcharts),
    axios_auth_refresh: figures(rounds.axios_auth_refresh),
    axios_auth_refresh_no_dedup: figures(rounds.axios_auth_refresh_no_dedup),
  };
}
