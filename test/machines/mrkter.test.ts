/**
 * The Mrkter statechart's tests, one module per behaviour under test/machines/mrkter/. They run as one
 * file so that the last test can see every transition they took together.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { missingTransitions, recordedCount, transitionKeys } from './harness.js';
import { NOW } from './mrkter/fixtures.js';
import { mrkterSession } from './session/providers.js';
import { describeSignedInSession } from './session/refresh.js';
import { describeSharedSession } from './session/sharedSession.js';
import './mrkter/creation.js';
import './mrkter/signIn.js';
import './mrkter/identities.js';
import './mrkter/code.js';
import './mrkter/session.js';
import './mrkter/secrets.js';
import './mrkter/actors.js';
import './mrkter/sharedSession.js';

describeSignedInSession(mrkterSession);
describeSharedSession(mrkterSession);

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('mrkterMachine: coverage', () => {
  // Runs last: it reads what every test above recorded through `inspect`.
  it('takes every transition of the machine somewhere in this suite', (context) => {
    // Arrange
    // Run on its own (a -t filter), nothing was recorded: there is nothing to judge.
    if (recordedCount(mrkterMachine) === 0) context.skip();

    // Act
    const all = transitionKeys(mrkterMachine);

    // Assert
    expect(all.length).toBeGreaterThan(40);
    expect(missingTransitions(mrkterMachine)).toEqual([]);
  });
});
