/**
 * What the auth layer's CPU per request is made of, on the same adapter that answers at once as
 * `auth_layer_us` (bench/authLayer.ts): clients that each add one of its parts to plain axios, side by
 * side with `createAuthorizedAxios` and axios-auth-refresh. CPU µs per request more than plain axios
 * with a fixed header, medians of interleaved rounds in which the clients take turns in blocks of 100.
 *
 *   npx tsx bench/authLayerParts.ts [--rounds 15] [--requests 5000]
 *
 * Rows:
 * - `header`: the `Authorization` header set per request by a synchronous request interceptor (what
 *   any client that reads a current token does);
 * - `+ deadline`: and a whole-exchange `Deadline` as `config.signal`, disarmed by a response
 *   interceptor (the timer and the promise hop every guarded request needs);
 * - `+ waiting interceptor`: and a second, async interceptor chosen by `runWhen` (the shape
 *   `createAuthorizedAxios` has, so that a request can wait for a refresh);
 * - `authcharts`: `createAuthorizedAxios` itself (the session's verdict, origin check, attempt);
 * - `axios-auth-refresh`: set up as its README does (an async request interceptor and its own).
 */
import { parseArgs } from 'node:util';
import axios, { type AxiosInstance } from 'axios';
import createAuthRefresh from 'axios-auth-refresh';
import { createAuthorizedAxios } from '../src/client/createAuthorizedAxios.js';
import { Deadline } from '../src/time.js';
import { answerAtOnce, BLOCK, sequential, signedInActor } from './authLayer.js';
import { interleavedRounds, median, turnsFor } from './rounds.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, requests: { type: 'string', default: '5000' } },
});
const turns = turnsFor(Number(values.requests), BLOCK);
const { actor, tokens } = await signedInActor();
const transport = {
  baseURL: 'https://api.example.test/v2',
  adapter: answerAtOnce,
  timeout: 15_000,
  maxRedirects: 0,
};
const bearer = `Bearer ${tokens.accessToken}`;

/**
 * A client whose synchronous request interceptor sets the header; with `deadline`, also a `Deadline`
 * as the signal, disarmed by a response interceptor; with `waiting`, also a second, async interceptor
 * that `runWhen` skips, as `createAuthorizedAxios` has one for requests that wait for a refresh.
 */
function partial(parts: { deadline?: boolean; waiting?: boolean }): AxiosInstance {
  const http = axios.create(transport);
  http.interceptors.request.use(
    (request) => {
      request.headers.set('Authorization', bearer);
      if (parts.deadline) request.signal = new Deadline(15_000);
      return request;
    },
    undefined,
    parts.waiting ? { synchronous: true, runWhen: () => true } : { synchronous: true },
  );
  if (parts.waiting)
    http.interceptors.request.use(async (request) => request, undefined, { runWhen: () => false });
  if (parts.deadline)
    http.interceptors.response.use((response) => {
      (response.config.signal as Deadline).disarm();
      return response;
    });
  return http;
}

const anchor = axios.create(transport);
anchor.interceptors.request.use((request) => {
  request.headers.set('Authorization', bearer);
  return request;
});
createAuthRefresh(anchor, async () => {});

const clients: Record<string, AxiosInstance> = {
  'plain axios, fixed header': axios.create({ ...transport, headers: { Authorization: bearer } }),
  header: partial({}),
  '+ deadline': partial({ deadline: true }),
  '+ waiting interceptor': partial({ deadline: true, waiting: true }),
  authcharts: createAuthorizedAxios(actor, transport),
  'axios-auth-refresh': anchor,
};
const names = Object.keys(clients);
try {
  const { cpu } = await interleavedRounds(
    Object.fromEntries(names.map((name) => [name, () => sequential(clients[name]!, BLOCK)])),
    { rounds: Number(values.rounds), warmup: 2, turns },
  );
  const plain = cpu[names[0]!]!;
  const perRequest = (ms: number) => (ms * 1000) / (turns * BLOCK);
  console.log(
    `CPU µs per request, median of ${values.rounds} rounds of ${turns * BLOCK} (turns of ${BLOCK})`,
  );
  for (const name of names) {
    const own = median(cpu[name]!.map(perRequest));
    const more = median(cpu[name]!.map((ms, i) => perRequest(ms - plain[i]!)));
    console.log(
      `  ${name.padEnd(26)} ${own.toFixed(2).padStart(7)}  ${more >= 0 ? '+' : ''}${more.toFixed(2)}`,
    );
  }
} finally {
  actor.stop();
}
