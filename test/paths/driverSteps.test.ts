/**
 * `pathDriverSteps`: a generated path as the steps a page driver performs, with the answers each step
 * sets off, the requests it leaves unanswered, and what the page should show after it.
 */
import { describe, expect, it } from 'vitest';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import {
  driverStepKind,
  type GeneratedPath,
  marketigerPaths,
  mrkterPaths,
  pathDriverSteps,
} from '../../src/testing/index.js';

const mrkter = mrkterPaths();
const marketiger = marketigerPaths();
/** Paths through the events a person on a page can cause: no other tab, no refresh button. */
const byHand = marketigerPaths({
  filter: (sample) => !sample.event.type.startsWith('session.') && sample.event.type !== 'auth.refresh',
});
const named = (paths: GeneratedPath[], name: string) => {
  const path = paths.find((candidate) => candidate.name === name);
  if (!path) throw new Error(`no path named ${name}`);
  return path;
};

describe('pathDriverSteps', () => {
  it('says what the chain of answers a sign-in sets off must be, before the step that starts it', () => {
    // Arrange
    const path = named(
      mrkter,
      'auth.login → login ✓ tokens → loadIdentities ✓ single identities → requestCode ✓ sent → auth.logout ⇒ signedOut',
    );

    // Act
    const subject = pathDriverSteps(mrkterMachine, path);

    // Assert
    expect(subject.map((step) => step.kind)).toEqual(['user', 'answer', 'answer', 'answer', 'user']);
    expect(subject[0]!.setsOff.map((answer) => [answer.index, answer.actor, answer.outcome])).toEqual([
      [1, 'login', 'done'],
      [2, 'loadIdentities', 'done'],
      [3, 'requestCode', 'done'],
    ]);
    expect(subject[0]!.starts).toEqual(['login']);
    expect(subject[2]!.starts).toEqual(['requestCode']);
    expect(subject.slice(1).every((step) => step.setsOff.length === 0)).toBe(true);
    expect(subject[3]!.answer).toMatchObject({ actor: 'requestCode', outcome: 'done' });
    expect(subject[3]!.expected).toMatchObject({ name: 'awaitingCode.coolingDown', error: null, tags: [] });
  });

  it('names the request a path leaves unanswered, on the step whose chain starts it', () => {
    // Arrange
    const path = named(
      mrkter,
      'auth.login → login ✓ tokens → loadIdentities ✓ single identities → auth.logout ⇒ signedOut',
    );

    // Act
    const subject = pathDriverSteps(mrkterMachine, path);

    // Assert: the single identity is chosen by itself, and its SMS request never answers.
    expect(subject[0]!.unanswered).toEqual(['requestCode']);
    expect(subject[2]!.expected).toMatchObject({ name: 'requestingCode', tags: ['busy'] });
    expect(subject[3]!.kind).toBe('user');
    expect(subject[3]!.unanswered).toEqual([]);
  });

  it('gives the error kind the page should say after a failed answer', () => {
    // Arrange
    const path = named(mrkter, 'auth.login → login ✗ invalid_credentials ⇒ signedOut');

    // Act
    const subject = pathDriverSteps(mrkterMachine, path);

    // Assert
    expect(subject[0]!.setsOff[0]).toMatchObject({
      actor: 'login',
      outcome: 'error',
      errorKind: 'invalid_credentials',
    });
    expect(subject[1]!.expected).toMatchObject({ name: 'signedOut', error: 'invalid_credentials' });
  });

  it('names the delay and state node of a timer step, and keeps a sleep', () => {
    // Arrange
    const path = named(
      byHand,
      'auth.login → login ✓ tokens → after untilRefresh, late: the device slept past the session end ⇒ sessionExpired',
    );

    // Act
    const subject = pathDriverSteps(marketigerMachine, path);

    // Assert
    const timer = subject[2]!;
    expect(timer.kind).toBe('timer');
    expect(timer.timer).toEqual({
      delay: 'untilRefresh',
      stateNode: 'marketiger.signedIn.active',
      afterMs: path.steps[2]!.afterMs,
    });
    expect(timer.sleepMs).toBeGreaterThan(12 * 60 * 60 * 1000);
    expect(timer.expected).toMatchObject({ name: 'sessionExpired', error: 'session_expired' });
    expect(timer.expected.stateIds).toEqual(['marketiger.sessionExpired']);
    expect(timer.at).toBe(path.steps[2]!.at);
  });

  it('agrees with every generated path of both machines, state by state', () => {
    for (const [machine, paths] of [
      [marketigerMachine, marketiger],
      [mrkterMachine, mrkter],
    ] as const) {
      for (const path of paths) {
        const subject = pathDriverSteps(machine, path);
        expect(subject.map((step) => step.expected.value)).toEqual(path.steps.map((step) => step.state));
        expect(subject.map((step) => step.kind)).toEqual(path.steps.map(driverStepKind));
      }
    }
  });

  it('reaches the session through the events kept by a filter, never through one it drops', () => {
    // Arrange
    const subject = byHand;

    // Act
    const events = new Set(subject.flatMap((path) => path.steps.map((step) => step.event.type)));

    // Assert
    expect([...events].filter((type) => type.startsWith('session.') || type === 'auth.refresh')).toEqual([]);
    expect(subject.some((path) => path.steps.at(-1)?.state === 'sessionExpired')).toBe(true);
    expect(
      subject.some((path) => JSON.stringify(path.steps.at(-1)?.state) === '{"signedIn":"backingOff"}'),
    ).toBe(true);
  });

  it('refuses a path generated from another machine', () => {
    // Arrange
    const path = marketiger[0]!;

    // Act and assert
    expect(() => pathDriverSteps(mrkterMachine, path)).toThrow(/generated from 'marketiger'/);
  });
});
