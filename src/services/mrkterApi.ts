/**
 * The Mrkter service: the Auth0 password and refresh grants on the login origin, and the Mrkter API
 * (identities, SMS code, code validation) on the API origin, over the shared HTTP core.
 *
 * Two HTTP clients, one per origin, keep credentials where they belong: the password and the refresh
 * token go only to the Auth0 origin's `/oauth/token`; the access token only to the API origin.
 * What the answers mean is read in `mrkterParse.ts`.
 */
import { AuthError } from '../errors.js';
import { assertHeaderValue, createHttpClient, type HttpOptions } from './http.js';
import { parseCodeRequest, parseIdentities, parseSessionId, parseTokenResponse } from './mrkterParse.js';
import type { MrkterApi } from './types.js';

/** Options of {@link createMrkterApi}; defaults are the seed's. */
export interface MrkterApiOptions extends HttpOptions {
  /** The Auth0 tenant origin. Default `https://login.dev.mrkter.io`. */
  authBaseURL?: string;
  /** The Mrkter API origin. Default `https://api.dev.mrkter.io`. */
  apiBaseURL?: string;
  /** The Auth0 application's client id. Default `IuNTe8fftpw3a0KJKxsxBET8t3C6agZi`. */
  clientId?: string;
  /** The API audience. Default `https://dev-mrkter.io`. */
  audience?: string;
  /** The Auth0 connection. Default `Username-Password-Authentication`. */
  connection?: string;
  /** The scope asked for; `offline_access` (the default) is what makes Auth0 issue a refresh token. */
  scope?: string;
}

/** The seed's values. */
export const mrkterDefaults = {
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
  const auth = createHttpClient(authBaseURL ?? mrkterDefaults.authBaseURL, httpOptions);
  const api = createHttpClient(apiBaseURL ?? mrkterDefaults.apiBaseURL, httpOptions);
  const client_id = clientId ?? mrkterDefaults.clientId;
  const bearer = (accessToken: string) => ({ Authorization: `Bearer ${accessToken}` });

  return {
    authBaseURL: auth.baseURL,
    apiBaseURL: api.baseURL,

    async login({ username, password }, { signal } = {}) {
      // Form data, every parameter of the seed. An empty scope is left out rather than sent empty.
      const form: Record<string, string> = {
        grant_type: 'password',
        username,
        password,
        audience: audience ?? mrkterDefaults.audience,
        client_id,
        connection: connection ?? mrkterDefaults.connection,
      };
      const wanted = scope ?? mrkterDefaults.scope;
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
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
      if (/[\u0000-\u001f\u007f]/.test(phoneNumber)) {
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
      // Sent as the server gave it (a number in the seed), as text; CR/LF/NUL refused before sending.
      const account = assertHeaderValue('x-account-id', String(accountId));
      const response = await api.request({
        method: 'POST',
        path: '/auth/mfa/phone-number/authenticate',
        json: { code },
        headers: { ...bearer(accessToken), 'x-account-id': account },
        signal,
      });
      return { sessionId: parseSessionId(response) };
    },
  };
}
