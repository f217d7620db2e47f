/**
 * An axios instance that keeps requests signed in through a running Marketiger or Mrkter actor.
 *
 * The machine owns the session; this client only reads it and asks it for a refresh. Its three jobs
 * each have a module: the credentials of a request (`credentials.ts`), the one retry after a 401
 * (`retry.ts`), and keeping credentials out of errors and off other origins (`scrub.ts`); around
 * them, per-request bookkeeping and timeouts (`requests.ts`) and the debug log (`requestLog.ts`, loaded
 * only for a client that has a logger).
 * Which headers carry a session is the provider's business (`credentialHeaders`).
 */
import axios, { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { AuthError } from '../errors.js';
import { secureBaseUrl } from '../services/http/urls.js';
import type { SessionActor, SessionSnapshot } from '../types.js';
import { createSessionReader, credentialsFor } from './credentials.js';
import { type AuthorizedAxiosConfig, authorizedAxiosDefaults } from './options.js';
import type { RequestLog } from './requestLog.js';
import { type Attempt, attemptOf, startAttempt } from './requests.js';
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
  const { href: baseURL, origin } = secureBaseUrl(config.baseURL);
  const instance = axios.create({
    timeout: authorizedAxiosDefaults.timeout,
    maxRedirects: authorizedAxiosDefaults.maxRedirects,
    ...defaults,
    baseURL,
  });
  const session = createSessionReader(credentialHeaders);
  let log: RequestLog = noLog;
  // The debug log (and redaction with it) is loaded only for a client that has a logger; its requests
  // wait for it (`atOnce` sends them the async way until it is there).
  let logLoading = logger
    ? import('./requestLog.js').then((module) => {
        log = module.createRequestLog(instance, logger);
        logLoading = undefined;
      })
    : undefined;

  /** Sets the credentials (or strips them, for another origin) and starts the attempt's deadline. */
  function send(request: InternalAxiosRequestConfig, context: SessionSnapshot['context'] | null) {
    const headers = request.headers;
    if (context) for (const [name, value] of session.headersOf(context)) headers.set(name, value);
    else stripCredentials(headers, session.attached);
    const attempt = startAttempt(request);
    attempt.carry(context ? context.accessToken : null);
    log.sent(request, attempt);
    return request;
  }

  /**
   * What a request can go with at once: the session's context, `null` for another origin (no
   * credentials), the error to reject with; `undefined` when it must wait (a refresh, the retry).
   */
  function atOnce(request: InternalAxiosRequestConfig) {
    if (logLoading) return undefined;
    if (!sameOrigin(instance, request, origin, baseURL)) return null;
    if (attemptOf(request)?.isResent()) return undefined;
    const verdict = session.verdict(actor.getSnapshot(), null);
    return verdict === 'wait' || verdict === 'stale' ? undefined : verdict;
  }
  // Both `runWhen`s and then the synchronous interceptor ask about the same request in the same tick:
  // judged once, and the interceptor takes the judgement.
  let judged: InternalAxiosRequestConfig | undefined;
  let judgement: ReturnType<typeof atOnce>;
  function goesAtOnce(request: InternalAxiosRequestConfig): boolean {
    if (request !== judged) {
      judged = request;
      judgement = atOnce(request);
    }
    return judgement !== undefined;
  }

  // Two request interceptors, one of which runs for each request. When the credentials are there now
  // (nearly always), a synchronous one: axios then sends in the same tick, without a promise per
  // interceptor. When the request must wait (a refresh, the retry after a 401), an async one.
  instance.interceptors.request.use(
    (request) => {
      // Judged by `runWhen` just before, in the same tick, unless an async interceptor of the caller's
      // own made axios's chain async: then a few microtasks have passed, and the request goes as it
      // would have gone a moment earlier.
      const now = request === judged ? judgement : atOnce(request);
      judged = undefined;
      judgement = undefined;
      if (now instanceof AuthError) {
        log.ended(request, undefined, undefined, now);
        throw now;
      }
      // Only reachable from an async chain, where a promise is what axios expects.
      return now === undefined ? waitAndSend(request) : send(request, now);
    },
    undefined,
    { synchronous: true, runWhen: goesAtOnce },
  );
  instance.interceptors.request.use(waitAndSend, undefined, {
    runWhen: (request) => !goesAtOnce(request),
  });

  async function waitAndSend(request: InternalAxiosRequestConfig) {
    await logLoading;
    if (!sameOrigin(instance, request, origin, baseURL)) return send(request, null);
    const previous = attemptOf(request);
    const rejected = previous?.isResent() ? previous.carried() : null;
    try {
      const context = await credentialsFor(
        actor,
        session,
        refreshWaitMs,
        rejected,
        previous ? previous.caller : request.signal,
      );
      return send(request, context);
    } catch (error) {
      log.ended(request, undefined, undefined, error);
      throw error;
    }
  }

  instance.interceptors.response.use(
    (response) => {
      const attempt = attemptOf(response.config);
      attempt?.disarm();
      log.ended(response.config, attempt, response);
      return response;
    },
    async (error: unknown) => {
      if (!(error instanceof AxiosError) || !error.config) throw error;
      const request = error.config;
      const attempt: Attempt | undefined = attemptOf(request);
      attempt?.disarm();
      if (attempt?.timedOut) {
        // Our whole-exchange timer fired: report it as axios reports its own timeout (N7).
        const timeout = new AxiosError(
          `timeout of ${request.timeout}ms exceeded`,
          AxiosError.ECONNABORTED,
          request,
          error.request,
        );
        log.ended(request, attempt, undefined, timeout);
        throw scrub(timeout);
      }
      log.ended(request, attempt, error.response, error);
      const token = attempt?.carried();
      const next = afterRefusal(token, attempt?.retried ?? false, error.response?.status);
      if (next === 'retry' && attempt && token) {
        actor.send({ type: 'auth.tokenRejected', accessToken: token });
        attempt.resend();
        return instance.request(request);
      }
      if (next) throw next;
      throw scrub(error);
    },
  );

  return instance;
}

/** The log of a client without a logger. */
const noLog: RequestLog = { sent() {}, ended() {} };

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
