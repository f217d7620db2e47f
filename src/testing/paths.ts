/**
 * The path generators, one import for all of them: the engine (./paths/engine.ts), the samples both
 * providers share (./paths/samples.ts), each provider's samples and paths, and coverage.
 */
export { atTime, idleScope } from './paths/compat.js';
export type { CoverageCount, CoverageReport } from './paths/coverage.js';
export { activeStateIds, machineGraph, pathCoverage, transitionKey } from './paths/coverage.js';
export type {
  DriverAnswer,
  DriverExpectation,
  DriverStep,
  DriverStepKind,
} from './paths/driverSteps.js';
export { driverStepKind, pathDriverSteps } from './paths/driverSteps.js';
export type {
  GeneratedPath,
  GeneratePathsOptions,
  PathSample,
  PathStep,
  SampleEvent,
} from './paths/engine.js';
export { generatePaths, timerDelay } from './paths/engine.js';
export {
  marketigerEvents,
  marketigerPaths,
  marketigerSamples,
  marketigerStateKey,
} from './paths/marketigerSamples.js';
export { mrkterEvents, mrkterPaths, mrkterSamples, mrkterStateKey } from './paths/mrkterSamples.js';
export type { ProviderPathsOptions } from './paths/samples.js';
export { sampleError } from './paths/samples.js';
