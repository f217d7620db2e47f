/**
 * The Mrkter service: the Auth0 password and refresh grants on the login origin, and the Mrkter API
 * (identities, SMS code, code validation) on the API origin, over the shared HTTP core.
 *
 * Two HTTP clients, one per origin, keep credentials where they belong: the password and the refresh
 * token go only to the Auth0 origin's `/oauth/token`; the access token only to the API origin.
 * What the answers mean is read in `parse.ts`.
 */
import { AuthError } from '../../errors.js';
import type { MrkterApi } from '../../types.js';
import { createHttpClient } from '../http/client.js';
import { assertHeaderValue, bearer, hasControlCharacters } from '../http/headers.js';
import { type HttpOptions, httpDefaults } from '../http/options.js';
import { mrkterHeaderNames } from './credentials.js';
import { parseCodeRequest, parseIdentities, parseSessionId, parseTokenResponse } from './parse.js';

/** Options of {@link createMrkterApi}, and those of the HTTP core; the defaults are the Mrkter sign-in guide's. */
export interface MrkterApiOptions extends HttpOptions {
  /** The Auth0 tenant origin (default: `'https://login.dev.mrkter.io'`). */
  authBaseURL?: string;
  /** The Mrkter API origin (default: `'https://api.dev.mrkter.io'`). */
  apiBaseURL?: string;
  /** The Auth0 application's client id (default: `'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi'`). */
  clientId?: string;
  /** The API audience (default: `'https://dev-mrkter.io'`). */
  audience?: string;
  /** The Auth0 connection (default: `'Username-Password-Authentication'`). */
  connection?: string;
  /**
   * The scope asked for; `offline_access` is what makes Auth0 issue a refresh token. An empty string
   * asks for none (default: `'offline_access'`).
   */
  scope?: string;
}

/** The defaults of {@link MrkterApiOptions}: the Mrkter sign-in guide's values and the HTTP core's defaults. */
export const mrkterApiDefaults = {
  ...httpDefaults,
  authBaseURL: 'https://login.dev.mrkter.io',
  apiBaseURL: 'https://api.dev.mrkter.io',
  clientId: 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi',
  audience: 'https://dev-mrkter.io',
  connection: 'Username-Password-Authentication',
  scope: 'offline_access',
} as const;

/**
 * Creates the Mrkter service. Throws `insecure_url` at once for a base URL that is not https (loopback excepted).
 *
 * @example
 * ```ts
 * const api = createMrkterApi();
 * const tokens = await api.login({ username, password });
 * const identities = await api.loadIdentities({ accessToken: tokens.accessToken });
 * await api.requestCode({ accessToken: tokens.accessToken, phoneNumber: identities[0].verifiedPhoneNumber });
 * const { sessionId } = await api.verifyCode({ accessToken: tokens.accessToken, accountId: identities[0].accountId, code });
 * ```
 */
export function createMrkterApi(options: MrkterApiOptions = {}): MrkterApi {
  const { authBaseURL, apiBaseURL, clientId, audience, connection, scope, ...httpOptions } = options;
  const auth = createHttpClient(authBaseURL ?? mrkterApiDefaults.authBaseURL, httpOptions);
  const api = createHttpClient(apiBaseURL ?? mrkterApiDefaults.apiBaseURL, httpOptions);
  const client_id = clientId ?? mrkterApiDefaults.clientId;

  return {
    authBaseURL: auth.baseURL,
    apiBaseURL: api.baseURL,

    async login({ username, password }, { signal } = {}) {
      // Form data, every parameter of the guide. An empty scope is left out rather than sent empty.
      const form: Record<string, string> = {
        grant_type: 'password',
        username,
        password,
        audience: audience ?? mrkterApiDefaults.audience,
        client_id,
        connection: connection ?? mrkterApiDefaults.connection,
      };
      const wanted = scope ?? mrkterApiDefaults.scope;
      if (wanted) form['scope'] = wanted;
      const response = await auth.request({ method: 'POST', path: '/oauth/token', form, signal });
      return parseTokenResponse(response, 'password');
    },

    async refreshTokens({ refreshToken }, { signal } = {}) {
      const response = await auth.request({
        method: 'POST',
        path: '/oauth/token',
        form: { grant_type: 'refresh_token', client_id, refresh_token: refreshToken },
        signal,
      });
      return parseTokenResponse(response, 'refresh_token');
    },

    async loadIdentities({ accessToken }, { signal } = {}) {
      const response = await api.request({
        method: 'GET',
        path: '/user-identity/me/users',
        headers: bearer(accessToken),
        signal,
      });
      return parseIdentities(response);
    },

    async requestCode({ accessToken, phoneNumber }, { signal } = {}) {
      // An identity without a number cannot get a code; the machine checks first, this guards direct callers.
      if (typeof phoneNumber !== 'string' || !phoneNumber.trim()) throw new AuthError('no_phone_number');
      // The number comes from the server's identity: one with control characters is refused before sending.
      if (hasControlCharacters(phoneNumber)) {
        throw new AuthError('bad_response', { message: 'The phone number contains control characters.' });
      }
      const response = await api.request({
        method: 'POST',
        path: '/verification/sms',
        json: { phoneNumber },
        headers: bearer(accessToken),
        signal,
      });
      parseCodeRequest(response);
    },

    async verifyCode({ accessToken, accountId, code }, { signal } = {}) {
      // Sent as the server gave it (a number in the guide), as text; CR/LF/NUL refused before sending.
      const account = assertHeaderValue(mrkterHeaderNames.accountId, String(accountId));
      const response = await api.request({
        method: 'POST',
        path: '/auth/mfa/phone-number/authenticate',
        json: { code },
        headers: { ...bearer(accessToken), [mrkterHeaderNames.accountId]: account },
        signal,
      });
      return { sessionId: parseSessionId(response) };
    },
  };
}
