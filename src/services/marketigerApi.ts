/**
 * The Marketiger service: the four calls of the auth guide (seeds/000) over the shared HTTP core.
 * Requests are built here; answers are read by `marketigerParse.ts`, the one module that knows the
 * provider's response shapes.
 */
import { assertHeaderValue, createHttpClient, type HttpOptions } from './http.js';
import { parseProjectAccess, parseProjects, parseTokenAnswer } from './marketigerParse.js';
import type { MarketigerApi } from './types.js';

/** The guide's base URL (the development API). */
export const MARKETIGER_DEFAULT_BASE_URL = 'https://devapi.marketiger3d.com/v2';

/** Options of {@link createMarketigerApi}. */
export interface MarketigerApiOptions extends HttpOptions {
  /**
   * The API base URL, `/v2` included. Default `https://devapi.marketiger3d.com/v2`. Must be `https:`
   * (`http:` only on loopback hosts), else creation throws `AuthError` `insecure_url`.
   */
  baseURL?: string;
}

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
  const http = createHttpClient(options.baseURL ?? MARKETIGER_DEFAULT_BASE_URL, options);

  const bearer = (accessToken: string) => ({
    Authorization: assertHeaderValue('Authorization', `Bearer ${accessToken}`),
  });

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
