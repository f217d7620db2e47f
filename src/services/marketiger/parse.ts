/**
 * The one place that reads Marketiger's answers. Every parser checks the shape and the types of a
 * response before anything is used, and turns everything else into an `AuthError` whose message is
 * written here (never copied from the body) and whose cause holds at most the status and the
 * server's `error.type` code.
 *
 * The Marketiger auth guide documents the envelopes `{ success: true, data }` and
 * `{ success: false, error: { type, message } }`, 400 `AUTHENTICATION` for a wrong password,
 * 401 `AUTHENTICATION` for a missing, invalid or expired access token and 403 `NO_PERMISSION`.
 * Where it is silent, the assumption is written beside the parser that makes it: the API runs on
 * ASP.NET Core (the guide's samples are C#) with JwtBearer authentication and `[ApiController]`,
 * so besides the envelopes it may answer what that stack answers by default: an empty-body 401 with
 * a `WWW-Authenticate: Bearer ...` header (JwtBearerHandler's challenge), a 400
 * `application/problem+json` for model validation (`{ type, title, status, errors, traceId }`), a
 * 415 for a body that is not JSON, and a bare `true`/`false` from an action that returns `bool`.
 */
import { AuthError, type AuthErrorKind } from '../../errors.js';
import type { TokenSet } from '../../types.js';
import { hasControlCharacters } from '../http/headers.js';
import { isObject } from '../http/json.js';
import type { HttpResponse } from '../http/options.js';
import { causeOf, statusError } from '../http/status.js';
import { readJwtExpiry } from '../jwt.js';

/** A Marketiger answer read as the guide's envelope. */
export type MarketigerEnvelope =
  | { success: true; data: unknown }
  | { success: false; errorType: string | undefined }
  | { success: undefined };

/** A JWS compact serialisation: three base64url segments (the signature may be empty only for `alg: none`). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** `error.type` is a code such as `AUTHENTICATION`; anything else is not kept, so no server prose reaches a cause. */
const ERROR_TYPE_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Reads the envelope. `success` must be the boolean `true` or `false` (a string `"true"` is not an
 * envelope); `error.type` is kept only when it looks like a code.
 */
export function readEnvelope(json: unknown): MarketigerEnvelope {
  if (!isObject(json)) return { success: undefined };
  if (json['success'] === true) return { success: true, data: json['data'] };
  if (json['success'] === false) {
    const error = json['error'];
    const type = isObject(error) ? error['type'] : undefined;
    return {
      success: false,
      errorType: typeof type === 'string' && ERROR_TYPE_SHAPE.test(type) ? type : undefined,
    };
  }
  return { success: undefined };
}

function fail(
  kind: AuthErrorKind,
  response: HttpResponse,
  serverError: string | undefined,
  message?: string,
) {
  return new AuthError(kind, {
    status: response.status,
    cause: causeOf(response, serverError),
    ...(message ? { message } : {}),
  });
}

function badShape(response: HttpResponse, what: string, serverError?: string): AuthError {
  return fail(
    'bad_response',
    response,
    serverError,
    `The Marketiger ${what} answer is not in the documented shape.`,
  );
}

function isSuccessStatus(status: number): boolean {
  // The guide documents 200; any 2xx is read as the same envelope rather than refused for its status.
  return status >= 200 && status < 300;
}

/** 429 and 5xx mean the same on every route, whatever the body says (often an HTML page). */
function isWeatherStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Reads a login or refresh answer into a {@link TokenSet}.
 *
 * Assumptions where the guide is silent: the access token must be a JWT (the guide says "Bearer token
 * authentication (JWT)"), so anything else is `bad_response`; the refresh token is any non-empty
 * string without control characters (the guide shows an opaque "refresh_token_string_here") and is
 * required in both answers, since the guide's refresh answer always carries a new one. A JWT
 * without `exp` gives `accessTokenExpiresAt: null` and the machine applies its default lifetime.
 */
export function parseTokenAnswer(response: HttpResponse, what: 'login' | 'refresh'): TokenSet {
  const envelope = readEnvelope(response.json);
  if (!isSuccessStatus(response.status) || envelope.success === false) {
    const serverError = envelope.success === false ? envelope.errorType : undefined;
    throw what === 'login' ? loginError(response, serverError) : refreshError(response, serverError);
  }
  if (envelope.success !== true || !isObject(envelope.data)) throw badShape(response, what);
  const { accessToken, refreshToken } = envelope.data;
  if (typeof accessToken !== 'string' || !JWT_SHAPE.test(accessToken)) throw badShape(response, what);
  if (typeof refreshToken !== 'string' || refreshToken.length === 0 || hasControlCharacters(refreshToken)) {
    throw badShape(response, what);
  }
  const expiresAt = readJwtExpiry(accessToken);
  // Three segments that do not decode (bad base64, a payload that is not a JSON object) are no JWT either.
  if (expiresAt === undefined) throw badShape(response, what);
  return {
    accessToken,
    refreshToken,
    // `exp` is on the server's clock; subtracting the skew puts it on ours.
    accessTokenExpiresAt: expiresAt === null ? null : expiresAt - response.clockSkewMs,
    clockSkewMs: response.clockSkewMs,
  };
}

/**
 * An RFC 9457 problem details object, as ASP.NET Core's `[ApiController]` answers a model validation
 * failure (`ValidationProblemDetails`): labelled `application/problem+json`, or labelled JSON with
 * the problem's own `status` equal to the HTTP status and a `title`. Nothing of it is read further.
 */
function isProblemDetails(response: HttpResponse): boolean {
  const json = response.json;
  if (!isObject(json)) return false;
  const contentType = (response.headers['content-type'] ?? '').trim().toLowerCase();
  if (contentType.startsWith('application/problem+json')) return true;
  return json['status'] === response.status && typeof json['title'] === 'string';
}

/**
 * A refused login. The guide documents 400 `AUTHENTICATION` for wrong credentials; we read
 * `AUTHENTICATION` the same at 401 and in a 200 with `success: false`, and any 401 as refused
 * credentials too (a login has no session that could have expired; JwtBearer's 401 has no body).
 * A 400 problem details answer is ASP.NET Core's model validation refusing the email or password
 * as typed (empty, too long, not an email): `invalid_credentials`, since the person must retype
 * them. `NO_PERMISSION` is `no_permission`. Everything else (a 400 of any other shape included)
 * goes to the shared status fallback, typed and with its status.
 */
function loginError(response: HttpResponse, serverError: string | undefined): AuthError {
  const { status } = response;
  if (isWeatherStatus(status)) return statusError(response, serverError);
  if (serverError === 'AUTHENTICATION' || status === 401 || (status === 400 && isProblemDetails(response))) {
    return fail('invalid_credentials', response, serverError);
  }
  if (serverError === 'NO_PERMISSION' || status === 403) return fail('no_permission', response, serverError);
  if (isSuccessStatus(status)) return badShape(response, 'login', serverError);
  return statusError(response, serverError);
}

/**
 * A refused refresh. The guide does not say how the refresh endpoint refuses a token; authcharts
 * settles it (README, "Errors"): 400, 401 and 403 (whatever the body) mean the refresh token is no good and the session is
 * over, `session_expired`, never retried. So do `AUTHENTICATION` and `NO_PERMISSION` in a 200 with
 * `success: false`. 429 and 5xx stay retryable.
 */
function refreshError(response: HttpResponse, serverError: string | undefined): AuthError {
  const { status } = response;
  if (isWeatherStatus(status)) return statusError(response, serverError);
  const refused =
    status === 400 ||
    status === 401 ||
    status === 403 ||
    (isSuccessStatus(status) && (serverError === 'AUTHENTICATION' || serverError === 'NO_PERMISSION'));
  if (refused) return fail('session_expired', response, serverError);
  if (isSuccessStatus(status)) return badShape(response, 'refresh', serverError);
  return statusError(response, serverError);
}

/**
 * Reads `GET /Project/HasAccesToProject`. The guide shows the request, not the answer. An ASP.NET
 * Core action returning `bool` answers a bare JSON `true` or `false`; one returning the guide's
 * envelope answers `{ success: true, data: true }`. Both are accepted: `true` is access, `false` is
 * none. A 403 on this route is the guide's "User has no permission for this project", so it is
 * `no_project_access` too, as is `NO_PERMISSION` in a 200 with `success: false`. Anything else (a
 * string `"true"`, an object, an envelope whose `data` is not a boolean) is `bad_response`: a yes/no
 * question answered with something else is not a yes.
 */
export function parseProjectAccess(response: HttpResponse): void {
  const envelope = readEnvelope(response.json);
  const serverError = envelope.success === false ? envelope.errorType : undefined;
  if (!isSuccessStatus(response.status) || envelope.success === false) {
    if (response.status === 403 || serverError === 'NO_PERMISSION') {
      throw fail('no_project_access', response, serverError);
    }
    throw apiError(response, serverError, 'project access');
  }
  const answer =
    typeof response.json === 'boolean'
      ? response.json
      : envelope.success === true
        ? envelope.data
        : undefined;
  if (typeof answer !== 'boolean') throw badShape(response, 'project access');
  if (!answer) throw fail('no_project_access', response, undefined);
}

/**
 * Reads `GET /Project/GetProjects`. The guide shows the request, not the answer; we require the
 * success envelope and hand back its `data` as sent (any JSON value but absent), since authcharts
 * does not interpret projects.
 */
export function parseProjects(response: HttpResponse): unknown {
  const envelope = readEnvelope(response.json);
  if (!isSuccessStatus(response.status) || envelope.success === false) {
    throw apiError(response, envelope.success === false ? envelope.errorType : undefined, 'projects');
  }
  if (envelope.success !== true || envelope.data === undefined) throw badShape(response, 'projects');
  return envelope.data;
}

/**
 * A refused call with an access token: 401 (the guide: missing, invalid or expired token; with the
 * guide's JSON or, as JwtBearer sends it, with an empty body and `WWW-Authenticate`) and
 * `AUTHENTICATION` are `session_expired`; 403 and `NO_PERMISSION` are `no_permission`; the rest the
 * shared fallback.
 */
function apiError(response: HttpResponse, serverError: string | undefined, what: string): AuthError {
  const { status } = response;
  if (isWeatherStatus(status)) return statusError(response, serverError);
  if (status === 401 || serverError === 'AUTHENTICATION')
    return fail('session_expired', response, serverError);
  if (status === 403 || serverError === 'NO_PERMISSION') return fail('no_permission', response, serverError);
  if (isSuccessStatus(status)) return badShape(response, what, serverError);
  return statusError(response, serverError);
}
