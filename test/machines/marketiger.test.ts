/**
 * The Marketiger statechart's tests, one module per behaviour under test/machines/marketiger/. They
 * run as one file so that the last check can see every transition they took together.
 */
import { afterAll, afterEach, beforeEach, vi } from 'vitest';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { expectEveryTransitionTaken } from './harness.js';
import { T0 } from './marketiger/fixtures.js';
import { marketigerSession } from './session/providers.js';
import { describeSignedInSession } from './session/refresh.js';
import { describeSharedSession } from './session/sharedSession.js';
import './marketiger/contract.js';
import './marketiger/signIn.js';
import './marketiger/refresh.js';
import './marketiger/restore.js';
import './marketiger/actors.js';
import './marketiger/sharedSession.js';

describeSignedInSession(marketigerSession);
describeSharedSession(marketigerSession);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

afterAll(() => {
  // Every transition of the statechart was taken by some test above.
  expectEveryTransitionTaken(marketigerMachine);
});
