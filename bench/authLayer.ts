/**
 * Benchmark 1a, the auth layer's own CPU per request: `createAuthorizedAxios` against plain axios with a
 * fixed `Authorization` header, and against axios-auth-refresh set up as its README does, all three on an
 * axios `adapter` that answers at once. Without a network the difference per request is the layer's own
 * work: its interceptors, the credentials, the whole-exchange deadline, the promise hops axios adds for
 * them. CPU time (`process.cpuUsage`) rather than wall time, so a slice of another process's time on a
 * shared core is not counted; rounds interleaved, and within a round the clients take turns in blocks of
 * 100 requests; the figure is the median of the per-round differences.
 */
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';
import createAuthRefresh from 'axios-auth-refresh';
import { createActor, fromPromise } from 'xstate';
import { createAuthorizedAxios } from '../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../src/clock.js';
import { marketigerMachine } from '../src/machines/marketigerMachine.js';
import type { TokenSet } from '../src/types.js';
import type { Sizes } from './common.js';
import { interleavedRounds, median, round, turnsFor } from './rounds.js';

export interface AuthLayerResult {
  rounds: number;
  requests_per_round: number;
  /** Within a round the clients take turns, this many requests each. */
  requests_per_turn: number;
  /** Median CPU µs per request, per client. */
  cpu_us_per_request: { authcharts: number; plain_axios: number; axios_auth_refresh: number };
  /** Median over rounds of (authcharts − plain axios) CPU µs per request. */
  auth_layer_us: number;
  /** The same for axios-auth-refresh, the anchor. */
  axios_auth_refresh_us: number;
}

const baseURL = 'https://api.example.test/v2';
const path = '/Project/GetProjects';

/** An adapter that answers every request at once with an empty 200: no socket, no timer. */
export const answerAtOnce: AxiosAdapter = (config) =>
  Promise.resolve({ data: '', status: 200, statusText: 'OK', headers: {}, config, request: {} });

/** A Marketiger actor signed in through an actor that answers at once (no simulator: nothing to wait for). */
export async function signedInActor() {
  const tokens: TokenSet = {
    accessToken: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl',
    refreshToken: 'rt_bench_0123456789',
    accessTokenExpiresAt: Date.now() + 60 * 60 * 1000,
    clockSkewMs: 0,
  };
  const machine = marketigerMachine.provide({ actors: { login: fromPromise(async () => tokens) } });
  const actor = createActor(machine, { clock: createUnrefClock() }).start();
  actor.send({ type: 'auth.login', email: 'bench@example.test', password: 'bench' });
  for (let i = 0; i < 10 && !actor.getSnapshot().matches({ signedIn: 'active' }); i++)
    await Promise.resolve();
  if (!actor.getSnapshot().matches({ signedIn: 'active' }))
    throw new Error('the benchmark actor did not sign in');
  return { actor, tokens };
}

/** Requests per turn: the clients take turns in blocks this long within each round. */
export const BLOCK = 100;

export async function sequential(http: AxiosInstance, count: number) {
  for (let i = 0; i < count; i++) {
    const response = await http.get(path);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  }
}

export async function benchAuthLayer(sizes: Sizes): Promise<AuthLayerResult> {
  const { actor, tokens } = await signedInActor();
  try {
    const transport = { baseURL, adapter: answerAtOnce, timeout: 15_000, maxRedirects: 0 };
    const clients = {
      authcharts: createAuthorizedAxios(actor, transport),
      plain_axios: axios.create({ ...transport, headers: { Authorization: `Bearer ${tokens.accessToken}` } }),
      axios_auth_refresh: axios.create(transport),
    };
    clients.axios_auth_refresh.interceptors.request.use((request) => {
      request.headers.set('Authorization', `Bearer ${tokens.accessToken}`);
      return request;
    });
    createAuthRefresh(clients.axios_auth_refresh, async () => {});

    const turns = turnsFor(sizes.authLayerRequests, BLOCK);
    const n = turns * BLOCK;
    // Two uncounted rounds let V8 optimise all three paths before anything is counted.
    const { cpu } = await interleavedRounds(
      {
        authcharts: () => sequential(clients.authcharts, BLOCK),
        plain_axios: () => sequential(clients.plain_axios, BLOCK),
        axios_auth_refresh: () => sequential(clients.axios_auth_refresh, BLOCK),
      },
      { rounds: sizes.authLayerRounds, warmup: 2, turns },
    );
    // CPU ms per round, as µs per request.
    const perRequest = (name: keyof typeof clients) => cpu[name].map((ms) => (ms * 1000) / n);
    const samples = {
      authcharts: perRequest('authcharts'),
      plain_axios: perRequest('plain_axios'),
      axios_auth_refresh: perRequest('axios_auth_refresh'),
    };
    const difference = (name: keyof typeof clients) =>
      round(median(samples[name].map((us, i) => us - samples.plain_axios[i]!)), 2);
    return {
      rounds: sizes.authLayerRounds,
      requests_per_round: n,
      requests_per_turn: BLOCK,
      cpu_us_per_request: {
        authcharts: round(median(samples.authcharts), 2),
        plain_axios: round(median(samples.plain_axios), 2),
        axios_auth_refresh: round(median(samples.axios_auth_refresh), 2),
      },
      auth_layer_us: difference('authcharts'),
      axios_auth_refresh_us: difference('axios_auth_refresh'),
    };
  } finally {
    actor.stop();
  }
}
