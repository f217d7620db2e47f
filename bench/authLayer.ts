/**
 * Benchmark 1a, the auth layer's own CPU per request: `createAuthorizedAxios` against plain axios with a
 * fixed `Authorization` header, and against axios-auth-refresh set up as its README does, all three on an
 * axios `adapter` that answers at once. Without a network the difference per request is the layer's own
 * work: its interceptors, the credentials, the whole-exchange deadline, the promise hops axios adds for
 * them. CPU time (`process.cpuUsage`) rather than wall time, so a slice of another process's time on a
 * shared core is not counted; rounds interleaved, the figure is the median of the per-round differences.
 */
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';
import createAuthRefresh from 'axios-auth-refresh';
import { createActor, fromPromise } from 'xstate';
import { createAuthorizedAxios } from '../src/client/createAuthorizedAxios.js';
import { createUnrefClock } from '../src/clock.js';
import { marketigerMachine } from '../src/machines/marketigerMachine.js';
import type { TokenSet } from '../src/types.js';
import type { Sizes } from './common.js';
import { median, round } from './rounds.js';

export interface AuthLayerResult {
  rounds: number;
  requests_per_round: number;
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
const answerAtOnce: AxiosAdapter = (config) =>
  Promise.resolve({ data: '', status: 200, statusText: 'OK', headers: {}, config, request: {} });

/** A Marketiger actor signed in through an actor that answers at once (no simulator: nothing to wait for). */
async function signedInActor() {
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

async function sequential(http: AxiosInstance, count: number) {
  for (let i = 0; i < count; i++) {
    const response = await http.get(path);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  }
}

/** CPU µs (user + system) that `work` takes. */
async function cpuMicros(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
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

    const n = sizes.authLayerRequests;
    const names = Object.keys(clients) as (keyof typeof clients)[];
    const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
      keyof typeof clients,
      number[]
    >;
    // Two uncounted rounds let V8 optimise all three paths before anything is counted.
    for (let r = 0; r < sizes.authLayerRounds + 2; r++) {
      const shift = r % names.length;
      for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
        const us = await cpuMicros(() => sequential(clients[name], n));
        if (r >= 2) samples[name].push(us / n);
      }
    }
    const difference = (name: keyof typeof clients) =>
      round(median(samples[name].map((us, i) => us - samples.plain_axios[i]!)), 2);
    return {
      rounds: sizes.authLayerRounds,
      requests_per_round: n,
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
