/**
 * An axios instance that keeps requests signed in through a running Marketiger or Mrkter actor.
 *
 * The machine owns the session; this client only reads it and asks it for a refresh. That split is
 * what makes "N concurrent 401s cause one refresh" hold without a lock of our own: every rejected
 * request sends `auth.tokenRejected` with the token it used, the machine refreshes once for the
 * current token (later reports of the same old token fail its `isCurrentToken` guard), and every
 * request waits for the next token and is sent again once.
 */
import axios, {
  AxiosError,
  type AxiosInstance,
  type CreateAxiosDefaults,
  type GenericAbortSignal,
  type InternalAxiosRequestConfig,
} from 'axios';
import { AuthError, type AuthErrorData, isAuthErrorKind } from '../errors.js';
import {
  assertHeaderValue,
  assertSecureBaseUrl,
  DEFAULT_TIMEOUT_MS,
  emitLog,
  type HttpLogger,
  nextLogId,
} from '../services/http.js';
import { redactHeaders, redactUrl, summarizeBody } from '../services/redact.js';
import { type Deadline, startDeadline } from '../time.js';

/** The part of a session snapshot the client reads: both machines' snapshots have this shape. */
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

/** Options of {@link createAuthorizedAxios}: axios defaults (a `baseURL` is required) and these. */
export interface AuthorizedAxiosConfig extends CreateAxiosDefaults {
  /** The API origin and path prefix. Credentials are sent only to this origin. */
  baseURL: string;
  /** How long a request waits for a refresh to finish before it rejects with `timeout`. Default 30 000 ms. */
  refreshWaitMs?: number;
  /**
   * The credential headers for a signed-in context. Default: `Authorization: Bearer <accessToken>`, plus
   * `x-account-id` and `x-session-id` when the context has a session id (Mrkter).
   */
  credentialHeaders?: (context: SessionSnapshot['context']) => Record<string, string>;
  /**
   * Debug logging, with the same entry shape and redaction as the services' `logger`: one entry per
   * attempt as it goes out (credentials attached, then redacted) and one when it ends. A retry after a
   * 401 is a second attempt with entries of its own.
   */
  logger?: HttpLogger;
}

/**
 * Per-request bookkeeping lives in a map, keyed by an opaque id on the config. The config only holds
 * the id: axios copies a config's own string keys when a request is sent again (so the id survives
 * the retry), and anything on the config shows up in `JSON.stringify(error)`: the token must not.
 */
const requestId = '__authchartsRequest';
interface RequestState {
  /** The access token this attempt carried, if credentials were attached. */
  token: string | null;
  retried: boolean;
  /** When the current attempt went out, and its debug log id. */
  startedAt: number;
  logId: number;
  /** The caller's own signal, kept across the retry: each attempt's config carries a signal of ours. */
  callerSignal?: GenericAbortSignal | null;
  /** The current attempt's whole-exchange timeout, when it has one. */
  deadline?: Deadline | undefined;
}
type TrackedConfig = InternalAxiosRequestConfig & { [requestId]?: number };

/** Headers that carry secrets; scrubbed from every error this client lets through. */
const secretHeaders = ['authorization', 'x-session-id'];

/** The default credential headers: bearer token, and Mrkter's account and session ids once signed in. */
export function defaultCredentialHeaders(context: SessionSnapshot['context']): Record<string, string> {
  const headers: Record<string, string> = { Authorization: `Bearer ${context.accessToken}` };
  if (context.sessionId != null && context.accountId != null) {
    headers['x-account-id'] = String(context.accountId);
    headers['x-session-id'] = context.sessionId;
  }
  return headers;
}

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
    refreshWaitMs = 30_000,
    credentialHeaders = defaultCredentialHeaders,
    logger,
    ...defaults
  } = config;
  const baseURL = assertSecureBaseUrl(config.baseURL);
  const origin = new URL(baseURL).origin;
  const instance = axios.create({ timeout: DEFAULT_TIMEOUT_MS, maxRedirects: 0, ...defaults, baseURL });

  const states = new Map<number, RequestState>();
  let nextId = 0;
  const stateOf = (request: TrackedConfig): RequestState => {
    let id = request[requestId];
    if (id === undefined) {
      id = ++nextId;
      request[requestId] = id;
    }
    let tracked = states.get(id);
    if (!tracked) {
      tracked = { token: null, retried: false, startedAt: Date.now(), logId: 0 };
      states.set(id, tracked);
    }
    return tracked;
  };
  const forget = (request: TrackedConfig | undefined) => {
    if (request?.[requestId] !== undefined) states.delete(request[requestId]);
  };

  instance.interceptors.request.use(async (request: TrackedConfig) => {
    const tracked = stateOf(request);
    if (tracked.callerSignal === undefined) tracked.callerSignal = request.signal ?? null;
    if (!sameOrigin(instance, request, origin, baseURL)) {
      tracked.token = null;
      for (const name of [...secretHeaders, 'x-account-id']) request.headers.delete(name);
      armTimeout(request, tracked);
      logRequest(request, tracked);
      return request;
    }
    try {
      const context = await credentialsFor(
        actor,
        refreshWaitMs,
        tracked.retried ? tracked.token : null,
        tracked.callerSignal ?? undefined,
      );
      for (const [name, value] of Object.entries(credentialHeaders(context))) {
        request.headers.set(name, assertHeaderValue(name, value));
      }
      tracked.token = context.accessToken;
      armTimeout(request, tracked);
      logRequest(request, tracked);
      return request;
    } catch (error) {
      forget(request);
      logEnd(request, undefined, error);
      throw error;
    }
  });

  instance.interceptors.response.use(
    (response) => {
      const id = (response.config as TrackedConfig)[requestId];
      if (id !== undefined) states.get(id)?.deadline?.disarm();
      logEnd(response.config, response);
      forget(response.config as TrackedConfig);
      return response;
    },
    async (error: unknown) => {
      if (!(error instanceof AxiosError) || !error.config) throw error;
      const request = error.config as TrackedConfig;
      const id = request[requestId];
      const tracked = id === undefined ? undefined : states.get(id);
      tracked?.deadline?.disarm();
      if (tracked?.deadline?.timedOut) {
        // Our whole-exchange timer fired: report it as axios reports its own timeout (N7).
        const timeout = new AxiosError(
          `timeout of ${request.timeout}ms exceeded`,
          AxiosError.ECONNABORTED,
          request,
          error.request,
        );
        logEnd(request, undefined, timeout);
        forget(request);
        throw scrub(timeout);
      }
      const status = error.response?.status;
      logEnd(request, error.response, error);
      if (tracked?.token && status === 401 && !tracked.retried) {
        actor.send({ type: 'auth.tokenRejected', accessToken: tracked.token });
        tracked.retried = true;
        return instance.request(request);
      }
      forget(request);
      if (tracked?.token && status === 401) {
        throw new AuthError('session_expired', {
          status: 401,
          message: 'The server refused the request again with a freshly refreshed token.',
          cause: { name: 'HttpStatus', code: '401' },
        });
      }
      if (tracked?.token && status === 403) {
        throw new AuthError('no_permission', { status: 403, cause: { name: 'HttpStatus', code: '403' } });
      }
      throw scrub(error);
    },
  );

  /** Logs an attempt as it goes out; a no-op without a logger. */
  function logRequest(request: TrackedConfig, tracked: RequestState) {
    if (!logger) return;
    tracked.startedAt = Date.now();
    tracked.logId = nextLogId();
    const body = summarizeBody(request.data, String(request.headers.get?.('content-type') ?? ''));
    emitLog(logger, {
      id: tracked.logId,
      phase: 'request',
      ...where(request),
      headers: redactHeaders(request.headers.toJSON?.() as Record<string, unknown>),
      ...(body !== undefined ? { body } : {}),
    });
  }

  /** Logs how an attempt ended: its answer (any status) or the error that kept it from one. */
  function logEnd(
    request: TrackedConfig | undefined,
    response: { status: number; headers: unknown; data: unknown } | undefined,
    error?: unknown,
  ) {
    if (!logger || !request) return;
    const id = request[requestId];
    const tracked = id === undefined ? undefined : states.get(id);
    const startedAt = tracked?.startedAt;
    // An attempt refused before it was logged as sent (signed out) gets an id of its own.
    const logId = tracked?.logId || nextLogId();
    const durationMs = startedAt === undefined ? undefined : Date.now() - startedAt;
    const timing = durationMs !== undefined ? { durationMs } : {};
    if (response) {
      const headers = plainHeaders(response.headers);
      const body = summarizeBody(response.data, headers['content-type'] ?? '');
      emitLog(logger, {
        id: logId,
        phase: 'response',
        ...where(request),
        status: response.status,
        ...timing,
        headers: redactHeaders(headers),
        ...(body !== undefined ? { body } : {}),
      });
      return;
    }
    // Only errors authcharts wrote (safe) or transport errors summarised by kind: never an axios message.
    const failure =
      error instanceof AuthError
        ? error.toData()
        : new AuthError(
            error instanceof AxiosError && error.code === 'ECONNABORTED' ? 'timeout' : 'network',
          ).toData();
    emitLog(logger, { id: logId, phase: 'error', ...where(request), ...timing, error: failure });
  }

  function where(request: InternalAxiosRequestConfig) {
    let url: string;
    try {
      url = instance.getUri(request);
    } catch {
      url = String(request.url ?? '');
    }
    return {
      method: String(request.method ?? 'get').toUpperCase(),
      path: redactUrl(String(request.url ?? '')),
      url: redactUrl(url),
    };
  }

  return instance;
}

/** Response headers as a plain object of strings, lower-cased names. */
function plainHeaders(headers: unknown): Record<string, string> {
  const source =
    headers && typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? (headers as { toJSON(): Record<string, unknown> }).toJSON()
      : ((headers ?? {}) as Record<string, unknown>);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && value !== null)
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/**
 * Bounds the whole exchange of one attempt by the request's `timeout`. Axios's own `timeout` is an idle
 * timer in Node: a server that sends headers and then trickles the body never trips it (N7). The
 * attempt gets a signal of ours, aborted by the timer or by the caller's own signal.
 */
function armTimeout(request: TrackedConfig, tracked: RequestState): void {
  tracked.deadline?.disarm();
  tracked.deadline = undefined;
  const ms = request.timeout;
  if (!ms || !Number.isFinite(ms) || ms <= 0) return;
  tracked.deadline = startDeadline(ms, tracked.callerSignal);
  request.signal = tracked.deadline.signal;
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

/**
 * Resolves with a signed-in context whose access token is usable: at once in `signedIn.active` with an
 * unexpired token; after the refresh otherwise. `rejected` is a token the server already refused: wait
 * for a different one.
 */
function credentialsFor(
  actor: SessionActor,
  waitMs: number,
  rejected: string | null,
  signal: InternalAxiosRequestConfig['signal'],
): Promise<SessionSnapshot['context']> {
  // Ask for a refresh of an expired token at most once per request: if the server hands out a token
  // that is already expired, the request goes with it and the server judges (no refresh loop).
  let askedRefresh = false;
  const decide = (snapshot: SessionSnapshot): SessionSnapshot['context'] | AuthError | 'wait' => {
    const { context } = snapshot;
    if (snapshot.status !== 'active')
      return new AuthError('signed_out', { message: 'The session actor is stopped.' });
    if (snapshot.matches('sessionExpired')) return new AuthError('session_expired');
    if (!snapshot.matches('signedIn') || !context.accessToken) return new AuthError('signed_out');
    if (context.accessToken === rejected) return 'wait';
    const expired = context.accessTokenExpiresAt !== null && context.accessTokenExpiresAt <= Date.now();
    if (snapshot.matches({ signedIn: 'active' })) {
      if (!expired || askedRefresh) return context;
      // The token is past its expiry (a sleeping laptop, a clock jump): refresh first, once.
      askedRefresh = true;
      actor.send({ type: 'auth.tokenRejected', accessToken: context.accessToken });
      return 'wait';
    }
    if (snapshot.matches({ signedIn: 'backingOff' })) {
      // The refresh keeps failing: go on with a token that still works, else report why.
      if (!expired) return context;
      const last = context.error;
      return last && isAuthErrorKind(last.kind)
        ? new AuthError(last.kind, last.status !== undefined ? { status: last.status } : {})
        : new AuthError('network');
    }
    return 'wait';
  };

  const first = decide(actor.getSnapshot());
  if (first instanceof AuthError) return Promise.reject(first);
  if (first !== 'wait') return Promise.resolve(first);

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: SessionSnapshot['context'] | AuthError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
      signal?.removeEventListener?.('abort', onAbort);
      if (outcome instanceof AuthError) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = () => finish(new AuthError('aborted'));
    const timer = setTimeout(
      () => finish(new AuthError('timeout', { message: 'The session did not finish refreshing in time.' })),
      waitMs,
    );
    (timer as { unref?: () => void }).unref?.();
    signal?.addEventListener?.('abort', onAbort);
    let subscription: { unsubscribe(): void } | undefined;
    subscription = actor.subscribe((snapshot) => {
      const next = decide(snapshot);
      if (next !== 'wait') finish(next);
    });
    // The actor may have moved on between the first look and the subscription.
    const now = decide(actor.getSnapshot());
    if (now !== 'wait') finish(now);
    if (settled) subscription.unsubscribe();
  });
}

/** Removes credentials from an axios error before it reaches the caller (axios #2648, #6919). */
function scrub(error: AxiosError): AxiosError {
  for (const headers of [error.config?.headers, error.response?.config?.headers]) {
    if (!headers) continue;
    for (const name of secretHeaders) if (headers.has?.(name)) headers.set(name, '[redacted]');
  }
  // The raw request holds the sent header block as text: keep it reachable but out of logs and JSON.
  for (const holder of [error, error.response].filter(Boolean) as object[]) {
    if ('request' in holder) Object.defineProperty(holder, 'request', { enumerable: false });
  }
  return error;
}
