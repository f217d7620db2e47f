/** The route keys of both Mrkter servers, for `requestCount` and `injectFault`. */
export const mrkterRoutes = {
  /** Auth0 (auth server): the password and refresh_token grants. */
  token: 'POST /oauth/token',
  /** Mrkter API: the user's identities. */
  identities: 'GET /user-identity/me/users',
  /** Mrkter API: send an SMS code. */
  sms: 'POST /verification/sms',
  /** Mrkter API: validate the code; answers the session id. */
  authenticate: 'POST /auth/mfa/phone-number/authenticate',
  /** Mrkter API: a protected route that needs `Authorization`, `x-account-id` and `x-session-id`. */
  currentAccount: 'GET /accounts/current',
} as const;
