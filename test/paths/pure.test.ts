/**
 * Every generated path of both machines, replayed with stub actors that answer with the path's own
 * sample payloads, on fake timers. One test per path, named from it; the state is checked after every step.
 */
import { afterEach, describe, it, vi } from 'vitest';
import { type AnyActorRef, type AnyStateMachine, createActor, fromPromise } from 'xstate';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { type GeneratedPath, marketigerPaths, mrkterPaths } from '../../src/testing/paths.js';
import { actorOf, fakeStepClock, kindOf, replay, type StepDriver } from './replay.js';

interface Pending {
  resolve(output: unknown): void;
  reject(error: unknown): void;
}

/** The machine with every actor a stub that waits for the path to say how it answers. */
function withStubs(machine: AnyStateMachine, actorNames: string[]) {
  const pending = new Map<string, Pending>();
  const actors = Object.fromEntries(
    actorNames.map((name) => [
      name,
      fromPromise(() => new Promise((resolve, reject) => pending.set(name, { resolve, reject }))),
    ]),
  );
  return { machine: machine.provide({ actors } as never), pending };
}

function stubDriver(pending: Map<string, Pending>): StepDriver {
  return {
    send: (step, _path, _index, actor) => actor.send(step.event),
    settle: async (step) => {
      const stub = pending.get(actorOf(step));
      if (!stub) throw new Error(`No call of ${actorOf(step)} is waiting for an answer`);
      pending.delete(actorOf(step));
      if (kindOf(step) === 'done') stub.resolve(step.event['output']);
      else stub.reject(step.event['error']);
      await vi.advanceTimersByTimeAsync(0);
    },
  };
}

async function runPure(machine: AnyStateMachine, actorNames: string[], path: GeneratedPath) {
  // Arrange
  fakeStepClock(path.startAt);
  const stubs = withStubs(machine, actorNames);
  const subject: AnyActorRef = createActor(stubs.machine, { input: path.input } as never);
  subject.start();
  try {
    // Act and assert, step by step
    await replay(path, subject, stubDriver(stubs.pending));
  } finally {
    subject.stop();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('marketiger paths (stub actors)', () => {
  for (const path of marketigerPaths()) {
    it(path.name, () => runPure(marketigerMachine, ['login', 'checkProjectAccess', 'refreshTokens'], path));
  }
});

describe('mrkter paths (stub actors)', () => {
  for (const path of mrkterPaths()) {
    it(path.name, () =>
      runPure(mrkterMachine, ['login', 'loadIdentities', 'requestCode', 'verifyCode', 'refreshTokens'], path),
    );
  }
});
