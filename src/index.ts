export { createAuthorizedAxios } from './client/createAuthorizedAxios.js';
export { type AuthorizedAxiosConfig, authorizedAxiosDefaults } from './client/options.js';
export { createUnrefClock, type TimerClock } from './clock.js';
export {
  type BrowserCoordinator,
  type BrowserCoordinatorOptions,
  createBrowserCoordinator,
  memoryStorage,
  type SessionStorageLike,
  type WebLocksLike,
} from './coordination/browser.js';
export { lockDefaults, syncDefaults } from './coordination/common.js';
export {
  type CoordinatedActor,
  type CoordinatedContext,
  type CoordinatedSession,
  type CoordinateSessionOptions,
  coordinateSession,
  type SessionEndedEvent,
  type SessionUpdatedEvent,
} from './coordination/coordinateSession.js';
export { createMemoryCoordinator } from './coordination/memory.js';
export type * from './coordination/types.js';
export {
  AuthError,
  type AuthErrorCause,
  type AuthErrorData,
  type AuthErrorKind,
  type AuthErrorOptions,
  authErrorKinds,
  isAuthError,
  isAuthErrorKind,
  toAuthError,
} from './errors.js';
export { identityProblem } from './machines/identity.js';
export {
  type MarketigerContext,
  type MarketigerEvent,
  type MarketigerInput,
  marketigerInputDefaults,
  marketigerMachine,
} from './machines/marketigerMachine.js';
export {
  type MrkterContext,
  type MrkterEvent,
  type MrkterInput,
  mrkterInputDefaults,
  mrkterMachine,
} from './machines/mrkterMachine.js';
export type { SessionContext } from './machines/signedInSession.js';
export { restoreActor } from './restore.js';
export { defaultCredentialHeaders } from './services/credentials.js';
export type { HttpLogEntry, HttpLogger } from './services/http/log.js';
export { type HttpOptions, httpDefaults } from './services/http/options.js';
export { REDACTED, redact } from './services/http/redact.js';
export { marketigerActors } from './services/marketiger/actors.js';
export {
  createMarketigerApi,
  type MarketigerApiOptions,
  marketigerApiDefaults,
} from './services/marketiger/api.js';
export { marketigerCredentialHeaders } from './services/marketiger/credentials.js';
export { mrkterActors } from './services/mrkter/actors.js';
export { createMrkterApi, type MrkterApiOptions, mrkterApiDefaults } from './services/mrkter/api.js';
export { mrkterCredentialHeaders } from './services/mrkter/credentials.js';
export type * from './types.js';
