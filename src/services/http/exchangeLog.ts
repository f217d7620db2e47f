/**
 * The debug log of one exchange of the HTTP core: the entry as it goes out, then its answer or its
 * failure, all redacted. Loaded by the core on first use, so an app without a logger does not carry
 * redaction (`redact.ts`) at all.
 */
import type { AuthError } from '../../errors.js';
import { bodyField, emitLog, type HttpLogger, nextLogId } from './log.js';
import type { HttpRequest, HttpResponse } from './options.js';
import { redactHeaders, redactUrl, summarizeBody } from './redact.js';

export function exchangeLog(base: string, req: HttpRequest, logger: HttpLogger) {
  const startedAt = Date.now();
  const query = req.params ? `?${new URLSearchParams(stringParams(req.params)).toString()}` : '';
  const where = {
    id: nextLogId(),
    method: req.method,
    path: redactUrl(req.path),
    url: redactUrl(base + req.path + query),
  };
  return {
    sent(headers: Record<string, string>, data: unknown) {
      const body = summarizeBody(data, headers['Content-Type']);
      emitLog(logger, { phase: 'request', ...where, headers: redactHeaders(headers), ...bodyField(body) });
    },
    answered(response: HttpResponse) {
      const body = summarizeBody(response.text, response.headers['content-type']);
      emitLog(logger, {
        phase: 'response',
        ...where,
        status: response.status,
        durationMs: response.receivedAt - startedAt,
        headers: redactHeaders(response.headers),
        ...bodyField(body),
      });
    },
    failed(failure: AuthError) {
      emitLog(logger, {
        phase: 'error',
        ...where,
        durationMs: Date.now() - startedAt,
        error: failure.toData(),
      });
    },
  };
}

function stringParams(params: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
}
