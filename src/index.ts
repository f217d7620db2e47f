export { createAuthorizedAxios } from './client/createAuthorizedAxios.js';
export type { AuthorizedAxiosConfig } from './client/options.js';
export { authorizedAxiosDefaults } from './client/options.js';
export type { TimerClock } from './clock.js';
export { createUnrefClock } from './clock.js';
export type {
  BrowserCoordinator,
  BrowserCoordinatorOptions,
  SessionStorageLike,
  WebLocksLike,
} from './coordination/browser.js';
export { createBrowserCoordinator, memoryStorage } from './coordination/browser.js';
export type {
  CoordinatedActor,
  CoordinatedContext,
  CoordinatedSession,
  CoordinateSessionOptions,
  SessionEndedEvent,
  SessionUpdatedEvent,
} from './coordination/coordinateSession.js';
export { coordinateSession } from './coordination/coordinateSession.js';
export { createMemoryCoordinator } from './coordination/memory.js';
export type {
  CoordinationOptions,
  LockOptions,
  SessionCoordinator,
  SessionLock,
  SessionNotice,
  SharedSession,
  StoredSession,
  WriteConditions,
} from './coordination/types.js';
export type { AuthErrorCause, AuthErrorData, AuthErrorKind, AuthErrorOptions } from './errors.js';
export { AuthError, authErrorKinds, isAuthError, isAuthErrorKind, toAuthError } from './errors.js';
export { identityProblem } from './machines/identity.js';
export type { MarketigerContext, MarketigerEvent, MarketigerInput } from './machines/marketigerMachine.js';
export { marketigerMachine } from './machines/marketigerMachine.js';
export type { MrkterContext, MrkterEvent, MrkterInput } from './machines/mrkterMachine.js';
export { mrkterMachine } from './machines/mrkterMachine.js';
export { restoreActor } from './restore.js';
export { defaultCredentialHeaders } from './services/credentials.js';
export type { HttpLogEntry, HttpLogger } from './services/http/log.js';
export type { HttpOptions } from './services/http/options.js';
export { httpDefaults } from './services/http/options.js';
export { REDACTED, redact } from './services/http/redact.js';
export { marketigerActors } from './services/marketiger/actors.js';
export type { MarketigerApiOptions } from './services/marketiger/api.js';
export { createMarketigerApi, marketigerApiDefaults } from './services/marketiger/api.js';
export { marketigerCredentialHeaders } from './services/marketiger/credentials.js';
export { mrkterActors } from './services/mrkter/actors.js';
export type { MrkterApiOptions } from './services/mrkter/api.js';
export { createMrkterApi, mrkterApiDefaults } from './services/mrkter/api.js';
export { mrkterCredentialHeaders } from './services/mrkter/credentials.js';
export type {
  CallOptions,
  CredentialHeaders,
  MarketigerApi,
  MrkterApi,
  MrkterIdentity,
  SessionActor,
  SessionSnapshot,
  TokenSet,
} from './types.js';
