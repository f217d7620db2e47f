/**
 * Benchmark 4, fleets: many signed-in Marketiger sessions in one process, each an actor with
 * `createUnrefClock()`, signed in through the real simulator over loopback (no stub actors).
 *
 * - Heap per session: the heap (after full GCs) with every session signed in, minus the heap after the
 *   same sessions are stopped and dropped. The simulator, the agent and the module code are there in both
 *   measurements, so the difference is what the sessions themselves keep alive.
 * - Spread of planned refreshes: 10 000 sign-ins cannot all happen within one second here, so sessions are
 *   grouped by the second their access token was issued (JWT `iat`: the server's clock), which is
 *   "signed in within the same second"; the largest such cohort's `context.refreshAt` spread is reported.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decodeJwt } from 'jose';
import { createActor } from 'xstate';
import { createUnrefClock } from '../src/clock.js';
import { MARKETIGER_DEMO_USER, startMarketigerSimulator } from '../src/testing/marketigerSimulator.js';
import { keepAliveAgent, type MarketigerActor, providedMarketiger, type Sizes } from './common.js';
import { pool, round } from './rounds.js';

export interface FleetResult {
  sessions: number;
  sign_in_ms: number;
  session_heap_bytes: number;
  /** The largest group of sessions whose tokens were issued within the same server second. */
  cohort_size: number;
  refresh_spread_s: number;
  /** Seconds of planned lead before expiry (expiry − refreshAt), over all sessions: leeway plus jitter. */
  lead_s: { min: number; max: number };
  /** Buckets of 5 s over the cohort's refreshAt, from its earliest: [start_s, count]. */
  histogram: [number, number][];
}

/** `global.gc` without requiring `--expose-gc` on the command line (or in `npm run bench`). */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settledHeap(gc: () => void): Promise<number> {
  // Several passes with turns of the event loop between them: finalizers and weak references settle.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

export async function benchFleet(sizes: Sizes): Promise<FleetResult> {
  const gc = exposeGc();
  const sim = await startMarketigerSimulator();
  const agent = keepAliveAgent();
  const machine = providedMarketiger(sim.baseURL, agent);
  let actors: MarketigerActor[] = [];
  try {
    const started = performance.now();
    actors = new Array(sizes.fleetSize);
    // Sign-ins go 64 at a time: enough to keep both the client and the simulator busy without a
    // thousand sockets of its own.
    await pool(sizes.fleetSize, 64, async (index) => {
      const actor = createActor(machine, { clock: createUnrefClock() }).start();
      actors[index] = actor;
      await new Promise<void>((resolve, reject) => {
        const subscription = actor.subscribe((snapshot) => {
          if (snapshot.matches({ signedIn: 'active' })) {
            subscription.unsubscribe();
            resolve();
          } else if (snapshot.matches('signedOut') && snapshot.context.error) {
            subscription.unsubscribe();
            reject(new Error(`a fleet session did not sign in: ${snapshot.context.error.kind}`));
          }
        });
        actor.send({
          type: 'auth.login',
          email: MARKETIGER_DEMO_USER.email,
          password: MARKETIGER_DEMO_USER.password,
        });
      });
    });
    const signInMs = performance.now() - started;

    const contexts = actors.map((a) => a.getSnapshot().context);
    const withSessions = await settledHeap(gc);

    const cohorts = new Map<number, number[]>();
    const leads: number[] = [];
    for (const context of contexts) {
      if (context.refreshAt === null || context.accessTokenExpiresAt === null || !context.accessToken)
        continue;
      leads.push(context.accessTokenExpiresAt - context.refreshAt);
      const issued = Number(decodeJwt(context.accessToken).iat);
      const cohort = cohorts.get(issued) ?? [];
      cohort.push(context.refreshAt);
      cohorts.set(issued, cohort);
    }
    const cohort = [...cohorts.values()].reduce((a, b) => (b.length > a.length ? b : a), [] as number[]);
    const first = Math.min(...cohort);
    const last = Math.max(...cohort);
    const histogram = new Map<number, number>();
    for (let start = 0; start <= (last - first) / 1000; start += 5) histogram.set(start, 0);
    for (const at of cohort) {
      const bucket = Math.floor((at - first) / 5000) * 5;
      histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
    }

    for (const actor of actors) actor.stop();
    actors = [];
    contexts.length = 0;
    const without = await settledHeap(gc);

    return {
      sessions: sizes.fleetSize,
      sign_in_ms: round(signInMs, 0),
      session_heap_bytes: Math.round((withSessions - without) / sizes.fleetSize),
      cohort_size: cohort.length,
      refresh_spread_s: round((last - first) / 1000, 1),
      lead_s: { min: round(Math.min(...leads) / 1000, 1), max: round(Math.max(...leads) / 1000, 1) },
      histogram: [...histogram.entries()],
    };
  } finally {
    for (const actor of actors) actor?.stop();
    agent.destroy();
    await sim.close();
  }
}
