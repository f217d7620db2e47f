/**
 * How the Mrkter API answers as NestJS on Express does by default: `HttpException` bodies, the guard's
 * 401, Nest's 404, `ValidationPipe`'s messages, and `@nestjs/throttler`'s storage.
 */
import { STATUS_CODES } from 'node:http';
import type { SimResponse } from '../simServer.js';

interface ThrottleRecord {
  /** When each counted hit stops counting (simulator clock). */
  hits: number[];
  /** End of the current window (`X-RateLimit-Reset`). */
  expiresAt: number;
  blockExpiresAt: number;
  blocked: boolean;
}

/**
 * NestJS's answer to a built-in `HttpException` thrown with a message, e.g.
 * `new BadRequestException('Invalid code')` or, from `ValidationPipe`, with an array of messages:
 * `HttpException.createBody` writes `{ message, error, statusCode }` (in that order), `error`
 * being the status's reason phrase. The guide shows no error body; its errors look like Nest's.
 */
export function nestError(status: number, message: string | string[]): SimResponse {
  return { status, json: { message, error: STATUS_CODES[status] ?? 'Error', statusCode: status } };
}

/**
 * A built-in exception thrown without arguments (`new UnauthorizedException()`,
 * `new ForbiddenException()`): `{ message: <reason phrase>, statusCode }`.
 */
export function nestBareError(status: 401 | 403): SimResponse {
  return { status, json: { message: STATUS_CODES[status], statusCode: status } };
}

/**
 * What `ValidationPipe` answers for a DTO field declared `@IsNotEmpty() @IsString()` (the messages
 * `class-validator` writes): `@IsNotEmpty()` refuses '', null and undefined; `@IsString()` any
 * non-string.
 */
export function validationMessages(field: string, value: unknown): string[] {
  const messages: string[] = [];
  if (value === '' || value === null || value === undefined) messages.push(`${field} should not be empty`);
  if (typeof value !== 'string') messages.push(`${field} must be a string`);
  return messages;
}

/**
 * The answer to a missing, unknown, expired or revoked bearer token or session: the
 * `UnauthorizedException()` an `AuthGuard` (from `@nestjs/passport`) throws.
 */
export const unauthorized = (): SimResponse => nestBareError(401);

/** The answer of Nest on Express to a route it does not have: `NotFoundException('Cannot GET /x')`. */
export const nestNotFound = (request: { method: string; path: string }): SimResponse =>
  nestError(404, `Cannot ${request.method} ${request.path}`);

/** One request on `key`: the `Retry-After` seconds when blocked, else the `X-RateLimit-Reset` seconds. */
export type Throttle = (key: string) => { retryAfterSeconds?: number; resetSeconds: number };

/** A throttler with its own storage, on the simulator's clock. */
export function createThrottler(ttlMs: number, now: () => number): Throttle {
  const throttles = new Map<string, ThrottleRecord>();

  /**
   * `@nestjs/throttler`'s default storage, for one request on `key` with `limit: 1` and
   * `ttl = blockDuration = ttlMs`: a second hit within the ttl blocks the key for a whole
   * `blockDuration` from that hit (a retry during the block does not extend it); once the block has
   * passed the key starts afresh. Answers the `Retry-After` seconds when blocked, and the
   * `X-RateLimit-Reset` seconds otherwise.
   */
  function throttle(key: string): { retryAfterSeconds?: number; resetSeconds: number } {
    const at = now();
    const ttl = ttlMs;
    let record = throttles.get(key);
    if (!record) {
      record = { hits: [], expiresAt: at + ttl, blockExpiresAt: 0, blocked: false };
      throttles.set(key, record);
    }
    record.hits = record.hits.filter((expiresAt) => expiresAt > at);
    if (record.expiresAt <= at) record.expiresAt = at + ttl;
    const resetSeconds = Math.ceil((record.expiresAt - at) / 1000);
    if (!record.blocked) record.hits.push(at + ttl);
    if (record.hits.length > 1 && !record.blocked) {
      record.blocked = true;
      record.blockExpiresAt = at + ttl;
    }
    const blockSeconds = Math.ceil((record.blockExpiresAt - at) / 1000);
    if (record.blocked && blockSeconds <= 0) {
      record.blocked = false;
      record.hits = [at + ttl];
    }
    return record.blocked ? { retryAfterSeconds: blockSeconds, resetSeconds } : { resetSeconds };
  }
  return throttle;
}
