/**
 * `authcharts api <provider> <METHOD> <path>` and `authcharts token <provider>`: the stored session
 * put to use, like `gh api` and `gh auth token`. One request through `createAuthorizedAxios` (refresh
 * when needed, one retry after a 401), the rotated tokens written back before the command exits.
 */
import { readFile } from 'node:fs/promises';
import pc from 'picocolors';
import { createAuthorizedAxios } from '../client/createAuthorizedAxios.js';
import { isAuthError, toAuthError } from '../errors.js';
import { debugLogger, EXIT, hostOf, reportFailure, usageError } from './failure.js';
import { freshContext, type OpenSession, openSession, printSignInAgain } from './session.js';
import { openStore, type Provider, type Selection } from './store.js';

export interface ApiOptions extends Selection {
  data?: string;
  header?: string[];
  json?: boolean;
  debug?: boolean;
  env?: NodeJS.ProcessEnv;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** What the command line asked for, checked before anything is sent. */
interface ApiRequest {
  method: string;
  path: string;
  data?: unknown;
  headers: Record<string, string>;
}

/** Parses and checks the request; a problem is a usage error (exit 2). */
export async function parseApiRequest(
  method: string,
  path: string,
  options: ApiOptions,
): Promise<ApiRequest> {
  const upper = method.toUpperCase();
  if (!METHODS.includes(upper))
    throw usageError(`Unknown method "${method}" (${METHODS.join(', ')}).`, 'api');
  if (!path.startsWith('/') || path.startsWith('//')) {
    // An absolute URL would leave the session's API, and the client would send it without credentials.
    throw usageError(`The path must start with one "/" (relative to the API's base URL): "${path}".`, 'api');
  }
  const headers: Record<string, string> = {};
  for (const header of options.header ?? []) {
    const colon = header.indexOf(':');
    const name = colon > 0 ? header.slice(0, colon).trim() : '';
    const value = colon > 0 ? header.slice(colon + 1).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw usageError(`A header is "name: value" on one line: "${header}".`, 'api');
    }
    headers[name] = value;
  }
  const request: ApiRequest = { method: upper, path, headers };
  if (options.data !== undefined) {
    let text = options.data;
    if (text.startsWith('@')) {
      const file = text.slice(1);
      try {
        text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      } catch {
        throw usageError(`Cannot read --data file "${file}".`, 'api');
      }
    }
    try {
      request.data = JSON.parse(text);
    } catch {
      throw usageError('--data is not JSON (give JSON, or @file with JSON in it).', 'api');
    }
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
  }
  return request;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** `authcharts api`: resolves with the exit code. */
export async function runApi(
  provider: Provider,
  method: string,
  path: string,
  options: ApiOptions,
): Promise<number> {
  const request = await parseApiRequest(method, path, options);
  const debug = Boolean(options.debug);
  const store = openStore(options.env);
  let session: OpenSession | undefined;
  try {
    session = await openSession(store, provider, options, debug);
    const http = createAuthorizedAxios(session.actor, {
      baseURL: session.apiBaseURL,
      // The body as the server sent it: printed raw when piped, pretty when it is JSON on a terminal.
      responseType: 'text',
      transformResponse: [(body: unknown) => body],
      ...(debug ? { logger: debugLogger } : {}),
    });
    let status: number;
    let statusText: string;
    let body: string;
    try {
      const response = await http.request({
        method: request.method,
        url: request.path,
        headers: request.headers,
        ...(request.data !== undefined ? { data: JSON.stringify(request.data) } : {}),
      });
      ({ status, statusText } = response);
      body = String(response.data ?? '');
    } catch (error) {
      const response = answerOf(error);
      if (!response) throw error;
      ({ status, statusText } = response);
      body = String(response.data ?? '');
    }
    printBody(body, status, Boolean(options.json));
    if (status >= 200 && status < 300) return EXIT.ok;
    console.error(pc.red(`authcharts: HTTP ${status}${statusText ? ` ${statusText}` : ''}`));
    return EXIT.failed;
  } catch (error) {
    return await failed(error, provider, session, store, debug);
  } finally {
    await session?.close();
    store.close();
  }
}

/** `authcharts token`: prints the access token (refreshed first when due) and nothing else on stdout. */
export async function runToken(
  provider: Provider,
  options: Selection & { debug?: boolean; env?: NodeJS.ProcessEnv },
) {
  const debug = Boolean(options.debug);
  const store = openStore(options.env);
  let session: OpenSession | undefined;
  try {
    session = await openSession(store, provider, options, debug);
    const { accessToken } = await freshContext(session.actor);
    process.stdout.write(`${accessToken}\n`);
    return EXIT.ok;
  } catch (error) {
    return await failed(error, provider, session, store, debug);
  } finally {
    await session?.close();
    store.close();
  }
}

/**
 * Reports a failure; a session the refresh cannot save (the refresh refused, a 401 after a fresh
 * token) is removed from the store, with word to sign in again.
 */
async function failed(
  error: unknown,
  provider: Provider,
  session: OpenSession | undefined,
  store: ReturnType<typeof openStore>,
  debug: boolean,
): Promise<number> {
  const authError = isAuthError(error) ? error : answerOf(error) ? undefined : toAuthError(error);
  const ended =
    authError?.kind === 'session_expired' || session?.actor.getSnapshot().matches('sessionExpired');
  if (ended && session) await store.forget(session.entry.key);
  // A request's own failure is about the API's host; a refresh's about the token server's.
  const requestFailed = typeof error === 'object' && error !== null && 'config' in error;
  const host = requestFailed ? hostOf(session?.apiBaseURL) : (session?.refreshHost ?? undefined);
  const code = reportFailure(error, { ...(host ? { host } : {}), debug });
  if (ended) printSignInAgain(provider);
  return code;
}

/** The answer carried by an axios error (a non-2xx status), without importing axios. */
function answerOf(error: unknown): { status: number; statusText: string; data: unknown } | undefined {
  if (typeof error !== 'object' || error === null || isAuthError(error)) return undefined;
  const response = (error as { response?: { status?: unknown; statusText?: unknown; data?: unknown } })
    .response;
  if (!response || typeof response.status !== 'number') return undefined;
  return { status: response.status, statusText: String(response.statusText ?? ''), data: response.data };
}

/** Pretty JSON on a terminal, the bytes as received when piped; `--json` wraps status and body. */
function printBody(body: string, status: number, json: boolean): void {
  let parsed: unknown;
  let isJson = false;
  try {
    parsed = body === '' ? undefined : JSON.parse(body);
    isJson = body !== '';
  } catch {
    isJson = false;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ status, body: isJson ? parsed : body }, null, 2)}\n`);
    return;
  }
  if (body === '') return;
  if (process.stdout.isTTY && isJson) {
    process.stdout.write(`${JSON.stringify(parsed, null, 2)}\n`);
    return;
  }
  process.stdout.write(body.endsWith('\n') || !process.stdout.isTTY ? body : `${body}\n`);
}
