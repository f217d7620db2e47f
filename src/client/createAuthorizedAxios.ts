/**
 * An axios instance that keeps requests signed in through a running Marketiger or Mrkter actor.
 *
 * The machine owns the session; this client only reads it and asks it for a refresh. Its three jobs
 * each have a module: the credentials of a request (`credentials.ts`), the one retry after a 401
 * (`retry.ts`), and keeping credentials out of errors and off other origins (`scrub.ts`); around
 * them, per-request bookkeeping and timeouts (`requests.ts`) and the debug log (`requestLog.ts`).
 * Which headers carry a session is the provider's business (`credentialHeaders`).
 */
import axios, { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { assertSecureBaseUrl } from '../services/http/urls.js';
import type { SessionActor } from '../types.js';
import { attachCredentials, credentialsFor } from './credentials.js';
import { type AuthorizedAxiosConfig, authorizedAxiosDefaults } from './options.js';
import { createRequestLog } from './requestLog.js';
import { armTimeout, createRequestTracker, type TrackedConfig } from './requests.js';
import { afterRefusal } from './retry.js';
import { scrub, stripCredentials } from './scrub.js';

/**
 * Creates an axios instance whose requests carry the actor's current credentials.
 *
 * - waits while the machine refreshes, and refreshes first when the token is already past its expiry;
 * - on a 401 sends `auth.tokenRejected` with the token it used, waits for the next token and retries once;
 *   a second 401 rejects (`session_expired`, status 401): no loop;
 * - a 403 rejects with `no_permission` and triggers no refresh;
 * - rejects with `signed_out` or `session_expired` without sending when the session is gone;
 * - sends credentials only to `baseURL`'s origin, and scrubs them from every error it passes on.
 *
 * @example
 * ```ts
 * const http = createAuthorizedAxios(actor, { baseURL: 'https://devapi.marketiger3d.com/v2' });
 * const { data } = await http.get('/Project/GetProjects');
 * ```
 */
export function createAuthorizedAxios(actor: SessionActor, config: AuthorizedAxiosConfig): AxiosInstance {
  const {
    refreshWaitMs = authorizedAxiosDefaults.refreshWaitMs,
    credentialHeaders = authorizedAxiosDefaults.credentialHeaders,
    logger,
    ...defaults
  } = config;
  const baseURL = assertSecureBaseUrl(config.baseURL);
  const origin = new URL(baseURL).origin;
  const instance = axios.create({
    timeout: authorizedAxiosDefaults.timeout,
    maxRedirects: authorizedAxiosDefaults.maxRedirects,
    ...defaults,
    baseURL,
  });
  const requests = createRequestTracker();
  const log = createRequestLog(instance, logger);
  /** The names of every credential header this client attached: kept off other origins. */
  const attached = new Set<string>();

  instance.interceptors.request.use(async (request: TrackedConfig) => {
    const tracked = requests.stateOf(request);
    if (tracked.callerSignal === undefined) tracked.callerSignal = request.signal ?? null;
    if (!sameOrigin(instance, request, origin, baseURL)) {
      tracked.token = null;
      stripCredentials(request.headers, attached);
    } else {
      try {
        const rejected = tracked.retried ? tracked.token : null;
        const context = await credentialsFor(
          actor,
          refreshWaitMs,
          rejected,
          tracked.callerSignal ?? undefined,
        );
        attachCredentials(request.headers, context, credentialHeaders, attached);
        tracked.token = context.accessToken;
      } catch (error) {
        requests.forget(request);
        log.ended(request, undefined, undefined, error);
        throw error;
      }
    }
    armTimeout(request, tracked);
    log.sent(request, tracked);
    return request;
  });

  instance.interceptors.response.use(
    (response) => {
      const tracked = requests.find(response.config);
      tracked?.deadline?.disarm();
      log.ended(response.config, tracked, response);
      requests.forget(response.config);
      return response;
    },
    async (error: unknown) => {
      if (!(error instanceof AxiosError) || !error.config) throw error;
      const request = error.config as TrackedConfig;
      const tracked = requests.find(request);
      tracked?.deadline?.disarm();
      if (tracked?.deadline?.timedOut) {
        // Our whole-exchange timer fired: report it as axios reports its own timeout (N7).
        const timeout = new AxiosError(
          `timeout of ${request.timeout}ms exceeded`,
          AxiosError.ECONNABORTED,
          request,
          error.request,
        );
        log.ended(request, tracked, undefined, timeout);
        requests.forget(request);
        throw scrub(timeout);
      }
      log.ended(request, tracked, error.response, error);
      const next = afterRefusal(tracked?.token, tracked?.retried ?? false, error.response?.status);
      if (next === 'retry' && tracked?.token) {
        actor.send({ type: 'auth.tokenRejected', accessToken: tracked.token });
        tracked.retried = true;
        return instance.request(request);
      }
      requests.forget(request);
      if (next) throw next;
      throw scrub(error);
    },
  );

  return instance;
}

function sameOrigin(
  instance: AxiosInstance,
  request: InternalAxiosRequestConfig,
  origin: string,
  baseURL: string,
): boolean {
  // The common case without building and parsing the URL (about half of this client's own cost per
  // request): a path starting with one '/' on the instance's own base URL. axios joins the two with a
  // '/' (combineURLs), so the authority stays the base URL's: the answer the slow path would give.
  const url = request.url;
  if (request.baseURL === baseURL && typeof url === 'string' && url[0] === '/' && url[1] !== '/') return true;
  try {
    return new URL(instance.getUri(request)).origin === origin;
  } catch {
    return false;
  }
}
