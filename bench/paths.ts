/**
 * Benchmark 6, path generation time per machine: the project's own generators (`marketigerPaths()` and
 * `mrkterPaths()` from `authcharts/testing`, with their default inputs), which give
 * `path_generation_ms`; and for reference a bare `getShortestPaths` from `xstate/graph` over each
 * statechart, with an `events` function that gives every event a state accepts its sample payloads
 * (a success output and several failure kinds for the done/error events XState raises itself), and a
 * state key bounded to the fields that change behaviour.
 */
import {
  __unsafe_getAllOwnEventDescriptors,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { AuthError, type AuthErrorKind } from '../src/errors.js';
import { marketigerMachine } from '../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../src/machines/mrkterMachine.js';
import { marketigerPaths, mrkterPaths } from '../src/testing/paths.js';
import { median, round } from './rounds.js';

export interface PathResult {
  generator: string;
  rounds: number;
  path_generation_ms: { marketiger: number; mrkter: number };
  paths: { marketiger: number; mrkter: number };
  /** The bare `getShortestPaths` walk, for reference. */
  shortest_paths: {
    ms: { marketiger: number; mrkter: number };
    paths: { marketiger: number; mrkter: number };
  };
}

const errorKinds: AuthErrorKind[] = [
  'network',
  'invalid_credentials',
  'invalid_code',
  'session_expired',
  'rate_limited',
];

const identity = (accountId: number, phone: string | null, status = 'ACTIVE') => ({
  accountId,
  status,
  verifiedPhoneNumber: phone,
});

function tokens() {
  return {
    accessToken: 'at-1',
    refreshToken: 'rt-1',
    accessTokenExpiresAt: Date.now() + 3_600_000,
    clockSkewMs: 0,
  };
}

/** Events that carry no payload. */
const bareEvents = new Set(['auth.logout', 'auth.refresh', 'auth.resume', 'identity.change', 'code.resend']);

/** Sample outputs of each invoked actor, by its id (= its src name in both machines). */
function outputsOf(actorId: string): unknown[] {
  switch (actorId) {
    case 'login':
    case 'refreshTokens':
      return [tokens()];
    case 'loadIdentities':
      return [
        [identity(123, '+972531112233'), identity(456, '+972531112244')],
        [identity(789, '+972531112255')],
        [],
      ];
    case 'verifyCode':
      return [{ sessionId: 'session-1' }];
    default:
      return [undefined];
  }
}

/** Every event the snapshot's states accept, each with its sample payloads. */
function sampleEvents(snapshot: AnyMachineSnapshot): EventObject[] {
  const events: EventObject[] = [];
  for (const type of __unsafe_getAllOwnEventDescriptors(snapshot) as string[]) {
    if (type.startsWith('xstate.done.actor.')) {
      for (const output of outputsOf(type.slice('xstate.done.actor.'.length)))
        events.push({ type, output } as EventObject);
    } else if (type.startsWith('xstate.error.actor.')) {
      for (const kind of errorKinds) events.push({ type, error: new AuthError(kind) } as EventObject);
    } else if (type === 'auth.login') {
      events.push({
        type,
        email: 'e@example.test',
        username: 'e@example.test',
        password: 'pw',
      } as EventObject);
    } else if (type === 'auth.tokenRejected') {
      events.push({ type, accessToken: snapshot.context.accessToken ?? 'at-1' } as EventObject);
      events.push({ type, accessToken: 'an-older-token' } as EventObject);
    } else if (type === 'identity.select') {
      const identities = (snapshot.context.identities ?? []) as { accountId: number }[];
      for (const { accountId } of identities) events.push({ type, accountId } as EventObject);
    } else if (type === 'code.submit') {
      events.push({ type, code: '123456' } as EventObject);
    } else if (bareEvents.has(type) || type.startsWith('xstate.after.')) {
      events.push({ type });
    }
    // Any other event (one added to a machine since this was written) is left out: without its payload
    // a guard that reads it would throw.
  }
  return events;
}

/** The state key: the state value and only the context that changes which transitions are enabled. */
function serializeState(snapshot: AnyMachineSnapshot): string {
  const c = snapshot.context;
  return JSON.stringify({
    value: snapshot.value,
    signedIn: c.accessToken !== null,
    error: c.error?.kind ?? null,
    // Refresh attempts only grow (backoff); past a few they change nothing the graph can show.
    attempts: Math.min(c.codeAttempts ?? c.refreshAttempts ?? 0, 3),
    identities: Array.isArray(c.identities) ? c.identities.length : null,
  });
}

function generate(machine: AnyStateMachine): number {
  return getShortestPaths(machine, {
    events: sampleEvents,
    serializeState: (snapshot) => serializeState(snapshot as AnyMachineSnapshot),
    limit: 50_000,
  }).length;
}

type Timed = Record<'marketiger' | 'mrkter', () => number>;

async function timeRounds(generators: Timed, rounds: number) {
  const times = { marketiger: [] as number[], mrkter: [] as number[] };
  const paths = { marketiger: 0, mrkter: 0 };
  // One warm-up round, then interleaved rounds.
  for (let r = 0; r < rounds + 1; r++) {
    for (const name of ['marketiger', 'mrkter'] as const) {
      const started = performance.now();
      paths[name] = generators[name]();
      if (r > 0) times[name].push(performance.now() - started);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    ms: { marketiger: round(median(times.marketiger), 2), mrkter: round(median(times.mrkter), 2) },
    paths,
  };
}

export async function benchPaths(rounds: number): Promise<PathResult> {
  const ours = await timeRounds(
    { marketiger: () => marketigerPaths().length, mrkter: () => mrkterPaths().length },
    rounds,
  );
  const shortest = await timeRounds(
    { marketiger: () => generate(marketigerMachine), mrkter: () => generate(mrkterMachine) },
    rounds,
  );
  return {
    generator: 'marketigerPaths() and mrkterPaths() from authcharts/testing (default inputs)',
    rounds,
    path_generation_ms: ours.ms,
    paths: ours.paths,
    shortest_paths: shortest,
  };
}
