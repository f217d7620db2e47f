/**
 * The client's debug log: the same entry shape and redaction as the services' (`HttpLogEntry`), one
 * entry per attempt as it goes out (credentials attached, then redacted) and one when it ends.
 */
import { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { AuthError } from '../errors.js';
import { flattenHeaders } from '../services/http/headers.js';
import { bodyField, emitLog, type HttpLogger, nextLogId } from '../services/http/log.js';
import { redactHeaders, redactUrl, summarizeBody } from '../services/http/redact.js';
import type { Attempt } from './requests.js';

/** An answer as the log reads it. */
export interface Answer {
  status: number;
  headers: unknown;
  data: unknown;
}

/** The debug log of one client: what `createAuthorizedAxios` calls as an attempt goes out and ends. */
export interface RequestLog {
  sent(request: InternalAxiosRequestConfig, attempt: Attempt): void;
  ended(
    request: InternalAxiosRequestConfig | undefined,
    attempt: Attempt | undefined,
    answer: Answer | undefined,
    error?: unknown,
  ): void;
}

/** The debug log of one client with a logger. */
export function createRequestLog(instance: AxiosInstance, logger: HttpLogger): RequestLog {
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

  return {
    /** Logs an attempt as it goes out. */
    sent(request: InternalAxiosRequestConfig, tracked: Attempt): void {
      tracked.startedAt = Date.now();
      tracked.logId = nextLogId();
      const body = summarizeBody(request.data, String(request.headers.get?.('content-type') ?? ''));
      emitLog(logger, {
        id: tracked.logId,
        phase: 'request',
        ...where(request),
        headers: redactHeaders(request.headers.toJSON?.() as Record<string, unknown>),
        ...bodyField(body),
      });
    },

    /** Logs how an attempt ended: its answer (any status) or the error that kept it from one. */
    ended(
      request: InternalAxiosRequestConfig | undefined,
      tracked: Attempt | undefined,
      answer: Answer | undefined,
      error?: unknown,
    ): void {
      if (!request) return;
      // An attempt refused before it was logged as sent (signed out) gets an id of its own.
      const logId = tracked?.logId || nextLogId();
      const timing = tracked ? { durationMs: Date.now() - tracked.startedAt } : {};
      if (answer) {
        const headers = flattenHeaders(answer.headers);
        const body = summarizeBody(answer.data, headers['content-type'] ?? '');
        emitLog(logger, {
          id: logId,
          phase: 'response',
          ...where(request),
          status: answer.status,
          ...timing,
          headers: redactHeaders(headers),
          ...bodyField(body),
        });
        return;
      }
      emitLog(logger, { id: logId, phase: 'error', ...where(request), ...timing, error: safeFailure(error) });
    },
  };
}

/** Only errors authcharts wrote (safe) or transport errors summarised by kind: never an axios message. */
function safeFailure(error: unknown) {
  if (error instanceof AuthError) return error.toData();
  const timedOut = error instanceof AxiosError && error.code === 'ECONNABORTED';
  return new AuthError(timedOut ? 'timeout' : 'network').toData();
}
