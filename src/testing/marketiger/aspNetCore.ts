/**
 * How the Marketiger API answers as ASP.NET Core does by default (the Marketiger auth guide's samples are
 * C#), with JwtBearer authentication and `[ApiController]`: `ProblemDetails` answers, model binding of a
 * JSON body, and JwtBearer's challenge.
 */
import { randomBytes } from 'node:crypto';
import type { SimRequest, SimResponse } from '../simServer.js';

/** A W3C trace context id, as ASP.NET Core puts in `traceId`. */
const traceId = () => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;

/** ASP.NET Core's `ProblemDetails` answer, `application/problem+json; charset=utf-8`. */
function problem(
  status: number,
  title: string,
  type: string,
  extra: Record<string, unknown> = {},
): SimResponse {
  return {
    status,
    text: JSON.stringify({ type, title, status, ...extra, traceId: traceId() }),
    contentType: 'application/problem+json; charset=utf-8',
  };
}

/** `[ApiController]`'s automatic 400 for an invalid model: `ValidationProblemDetails` with `errors` per field. */
export const validationProblem = (errors: Record<string, string[]>): SimResponse =>
  problem(
    400,
    'One or more validation errors occurred.',
    'https://tools.ietf.org/html/rfc9110#section-15.5.1',
    {
      errors,
    },
  );

/** `[ApiController]`'s 415 for a `[FromBody]` that is not JSON. */
const unsupportedMediaType = (): SimResponse =>
  problem(415, 'Unsupported Media Type', 'https://tools.ietf.org/html/rfc9110#section-15.5.16');

/** .NET's `DateTime.ToString(CultureInfo.InvariantCulture)`: `MM/dd/yyyy HH:mm:ss`, here in UTC. */
function invariantDate(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/**
 * JwtBearer's challenge (`JwtBearerHandler.HandleChallengeAsync`): 401, no body, and
 * `WWW-Authenticate: Bearer` alone when no token came, with `error="invalid_token"` when one was
 * refused, and `error_description="The token expired at '<exp>'"` when it had expired.
 */
export function jwtBearerChallenge(failure: 'missing' | 'invalid' | { expiredAt: number }): SimResponse {
  const value =
    failure === 'missing'
      ? 'Bearer'
      : failure === 'invalid'
        ? 'Bearer error="invalid_token"'
        : `Bearer error="invalid_token", error_description="The token expired at '${invariantDate(failure.expiredAt)}'"`;
  return { status: 401, headers: { 'WWW-Authenticate': value } };
}

/**
 * The model binding of a `[FromBody]` DTO whose string properties are non-nullable (so implicitly
 * required): 415 for a body that is not JSON, 400 with `$`/`$.field` errors for JSON that does not
 * deserialize, 400 "The X field is required." for a missing, null or empty field. `fields` are the
 * DTO's C# property names (`Email`), read from camelCase JSON (`email`).
 */
export function bindBody(request: SimRequest, fields: string[]): Record<string, string> | SimResponse {
  if (request.contentType !== 'application/json' && !request.contentType.endsWith('+json')) {
    return unsupportedMediaType();
  }
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody);
  } catch {
    return validationProblem({
      $: ['The input does not contain any JSON tokens or is not valid JSON.'],
      request: ['The request field is required.'],
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return validationProblem({
      $: ['The JSON value could not be converted to the request type.'],
      request: ['The request field is required.'],
    });
  }
  const record = body as Record<string, unknown>;
  const values: Record<string, string> = {};
  const errors: Record<string, string[]> = {};
  for (const field of fields) {
    const json = field[0]!.toLowerCase() + field.slice(1);
    const value = record[json];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      return validationProblem({
        [`$.${json}`]: [`The JSON value could not be converted to System.String. Path: $.${json}.`],
        request: ['The request field is required.'],
      });
    }
    if (typeof value !== 'string' || value === '') errors[field] = [`The ${field} field is required.`];
    else values[json] = value;
  }
  return Object.keys(errors).length > 0 ? validationProblem(errors) : values;
}

export const isAnswer = <T extends object>(value: T | SimResponse): value is SimResponse =>
  typeof (value as SimResponse).status === 'number';
