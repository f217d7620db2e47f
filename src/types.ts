/**
 * The contracts between the layers: the shapes the services return and the machines' actors consume,
 * and the part of a session actor the authorized client reads. Types only, importing nothing but the
 * error data: machines, services and the client all import these, and none of them imports another
 * for a type (see docs/architecture.md).
 *
 * The services validate every response into these shapes (or throw an `AuthError`); nothing else in
 * authcharts sees HTTP.
 */
import type { AuthErrorData } from './errors.js';

/** Per-call options every service method takes. */
export interface CallOptions {
  /** Cancels the request; the call then rejects with `AuthError` `aborted`. */
  signal?: AbortSignal | undefined;
}

/** A validated token answer (login or refresh), with expiry already in the local clock. */
export interface TokenSet {
  accessToken: string;
  /**
   * The refresh token to use next. `null` when a refresh answer carried none: keep the old one
   * (RFC 6749 §6 lets a server not rotate).
   */
  refreshToken: string | null;
  /**
   * Local epoch ms at which the access token expires (from the JWT `exp` or `expires_in`, corrected
   * for the server's clock); `null` when the server said nothing, and the machine applies its default.
   */
  accessTokenExpiresAt: number | null;
  /** Server clock minus local clock in ms, measured from the answer's `Date` header (0 when absent). */
  clockSkewMs: number;
}

/** The Marketiger service: everything the Marketiger machine and a Node script need. */
export interface MarketigerApi {
  readonly baseURL: string;
  /** POST /Auth/Login. `invalid_credentials` for wrong credentials. */
  login(input: { email: string; password: string }, options?: CallOptions): Promise<TokenSet>;
  /** POST /Auth/RefreshToken. A refused refresh token (400, 401, 403) is `session_expired`. */
  refreshTokens(input: { refreshToken: string }, options?: CallOptions): Promise<TokenSet>;
  /** GET /Project/HasAccesToProject. Resolves when the account may use the project, else `no_project_access`. */
  checkProjectAccess(input: { accessToken: string; projectId: string }, options?: CallOptions): Promise<void>;
  /** GET /Project/GetProjects: the `data` of the answer, as the server sent it. */
  getProjects(input: { accessToken: string }, options?: CallOptions): Promise<unknown>;
}

/**
 * One of a Mrkter user's identities (vendor accounts), as `GET /user-identity/me/users` returns it.
 * Only the fields authcharts reads are typed; every other field the server sends is kept.
 */
export interface MrkterIdentity {
  id?: number | string;
  accountId: number | string;
  status?: string;
  verifiedPhoneNumber?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  companyName?: string | null;
  accountType?: string | null;
  [field: string]: unknown;
}

/** The Mrkter service: the Auth0 password and refresh grants and the Mrkter API. */
export interface MrkterApi {
  readonly authBaseURL: string;
  readonly apiBaseURL: string;
  /** Auth0 password grant (POST /oauth/token) with every parameter of the Mrkter sign-in guide. */
  login(input: { username: string; password: string }, options?: CallOptions): Promise<TokenSet>;
  /** Auth0 refresh_token grant. `invalid_grant` is `session_expired`. */
  refreshTokens(input: { refreshToken: string }, options?: CallOptions): Promise<TokenSet>;
  /** GET /user-identity/me/users. An empty list is `no_identities`. */
  loadIdentities(input: { accessToken: string }, options?: CallOptions): Promise<MrkterIdentity[]>;
  /** POST /verification/sms to the phone number. */
  requestCode(input: { accessToken: string; phoneNumber: string }, options?: CallOptions): Promise<void>;
  /** POST /auth/mfa/phone-number/authenticate; resolves with the session id. A wrong code is `invalid_code`. */
  verifyCode(
    input: { accessToken: string; accountId: number | string; code: string },
    options?: CallOptions,
  ): Promise<{ sessionId: string }>;
}

/** The part of a session snapshot the authorized client reads: both machines' snapshots have this shape. */
export interface SessionSnapshot {
  status: string;
  matches(value: any): boolean;
  context: {
    accessToken: string | null;
    accessTokenExpiresAt: number | null;
    error: AuthErrorData | null;
    accountId?: number | string | null;
    sessionId?: string | null;
  };
}

/** The part of an actor the client uses: `createActor(marketigerMachine…)` and `createActor(mrkterMachine…)` fit. */
export interface SessionActor {
  getSnapshot(): SessionSnapshot;
  subscribe(observer: (snapshot: SessionSnapshot) => void): { unsubscribe(): void };
  send(event: { type: 'auth.tokenRejected'; accessToken: string }): void;
}

/**
 * How a provider's requests carry a signed-in session: the headers for a context. Each provider
 * gives its own (`marketigerCredentialHeaders`, `mrkterCredentialHeaders`); the authorized client
 * attaches what it is given and knows no provider's header names.
 */
export type CredentialHeaders = (context: SessionSnapshot['context']) => Record<string, string>;
