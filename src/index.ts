export type { AuthorizedAxiosConfig, SessionActor, SessionSnapshot } from './client/createAuthorizedAxios.js';
export { createAuthorizedAxios, defaultCredentialHeaders } from './client/createAuthorizedAxios.js';
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
export { marketigerInputDefaults, marketigerMachine } from './machines/marketigerMachine.js';
export type { MrkterContext, MrkterEvent, MrkterInput } from './machines/mrkterMachine.js';
export { mrkterInputDefaults, mrkterMachine } from './machines/mrkterMachine.js';
export type { SessionContext } from './machines/signedInSession.js';
export { restoreActor } from './restore.js';
export type { HttpLogEntry, HttpLogger, HttpOptions } from './services/http.js';
export { marketigerActors } from './services/marketigerActors.js';
export type { MarketigerApiOptions } from './services/marketigerApi.js';
export { createMarketigerApi } from './services/marketigerApi.js';
export { mrkterActors } from './services/mrkterActors.js';
export type { MrkterApiOptions } from './services/mrkterApi.js';
export { createMrkterApi } from './services/mrkterApi.js';
export { REDACTED, redact } from './services/redact.js';
export type { CallOptions, MarketigerApi, MrkterApi, MrkterIdentity, TokenSet } from './services/types.js';
