/**
 * The Marketiger service: the four calls of the Marketiger auth guide over the shared HTTP core.
 * Requests are built here; answers are read by `parse.ts`, the one module that knows the
 * provider's response shapes.
 */
import type { MarketigerApi } from '../../types.js';
import { createHttpClient } from '../http/client.js';
import { bearer } from '../http/headers.js';
import { type HttpOptions, httpDefaults } from '../http/options.js';
import { parseProjectAccess, parseProjects, parseTokenAnswer } from './parse.js';

/** Options of {@link createMarketigerApi}, and those of the HTTP core. */
export interface MarketigerApiOptions extends HttpOptions {
  /**
   * The API base URL, `/v2` included. Must be `https:` (`http:` only on loopback hosts), else
   * creation throws `AuthError` `insecure_url` (default: `'https://devapi.marketiger3d.com/v2'`, the
   * guide's development API).
   */
  baseURL?: string;
}

/** The defaults of {@link MarketigerApiOptions}: the guide's base URL and the HTTP core's defaults. */
export const marketigerApiDefaults = {
  ...httpDefaults,
  baseURL: 'https://devapi.marketiger3d.com/v2',
} as const;

/**
 * Creates the Marketiger service. Every method resolves with validated data or rejects with an
 * `AuthError` (never an axios error, never a secret in the message).
 *
 * @example
 * ```ts
 * const api = createMarketigerApi({ baseURL: sim.baseURL, timeoutMs: 5_000 });
 * const tokens = await api.login({ email, password });
 * await api.checkProjectAccess({ accessToken: tokens.accessToken, projectId: 'demo-project' });
 * const next = await api.refreshTokens({ refreshToken: tokens.refreshToken! });
 * ```
 */
export function createMarketigerApi(options: MarketigerApiOptions = {}): MarketigerApi {
  const http = createHttpClient(options.baseURL ?? marketigerApiDefaults.baseURL, options);

  return {
    baseURL: http.baseURL,

    async login({ email, password }, callOptions = {}) {
      const response = await http.request({
        method: 'POST',
        path: '/Auth/Login',
        json: { email, password },
        signal: callOptions.signal,
      });
      return parseTokenAnswer(response, 'login');
    },

    async refreshTokens({ refreshToken }, callOptions = {}) {
      const response = await http.request({
        method: 'POST',
        path: '/Auth/RefreshToken',
        json: { refreshToken },
        signal: callOptions.signal,
      });
      return parseTokenAnswer(response, 'refresh');
    },

    async checkProjectAccess({ accessToken, projectId }, callOptions = {}) {
      const response = await http.request({
        method: 'GET',
        // The guide's spelling, "HasAcces", is the route's real name.
        path: '/Project/HasAccesToProject',
        params: { projectId },
        headers: bearer(accessToken),
        signal: callOptions.signal,
      });
      parseProjectAccess(response);
    },

    async getProjects({ accessToken }, callOptions = {}) {
      const response = await http.request({
        method: 'GET',
        path: '/Project/GetProjects',
        headers: bearer(accessToken),
        signal: callOptions.signal,
      });
      return parseProjects(response);
    },
  };
}
