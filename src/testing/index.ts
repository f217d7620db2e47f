// The diagram generator, kept here for the users who imported it from `authcharts/testing`.
export * from '../diagram/index.js';
export type {
  MarketigerSimUser,
  MarketigerSimulator,
  MarketigerSimulatorOptions,
} from './marketigerSimulator.js';
export {
  MARKETIGER_DEMO_USER,
  marketigerRoutes,
  marketigerSimulatorDefaults,
  startMarketigerSimulator,
} from './marketigerSimulator.js';
export type {
  MrkterSentCode,
  MrkterSimSession,
  MrkterSimUser,
  MrkterSimulator,
  MrkterSimulatorOptions,
  MrkterTokenRequest,
} from './mrkterSimulator.js';
export {
  defaultMrkterUsers,
  mrkterRoutes,
  mrkterSimulatorDefaults,
  startMrkterSimulator,
} from './mrkterSimulator.js';
export type {
  CoverageCount,
  CoverageReport,
  DriverAnswer,
  DriverExpectation,
  DriverStep,
  DriverStepKind,
  GeneratedPath,
  GeneratePathsOptions,
  PathSample,
  PathStep,
  ProviderPathsOptions,
  SampleEvent,
} from './paths.js';
export {
  activeStateIds,
  atTime,
  driverStepKind,
  generatePaths,
  idleScope,
  machineGraph,
  marketigerEvents,
  marketigerPaths,
  marketigerSamples,
  marketigerStateKey,
  mrkterEvents,
  mrkterPaths,
  mrkterSamples,
  mrkterStateKey,
  pathCoverage,
  pathDriverSteps,
  sampleError,
  timerDelay,
  transitionKey,
} from './paths.js';
export type {
  RouteKey,
  SimCommonOptions,
  SimFault,
  SimHandler,
  SimLogEntry,
  SimRequest,
  SimResponse,
  SimServer,
  SimServerOptions,
} from './simServer.js';
export { HTML_ERROR_PAGE, simServerDefaults, startSimServer } from './simServer.js';
