/**
 * How the CLI reports what went wrong: one line on stderr that names the error kind and, for a
 * server that could not be reached, which host; under `--debug` the cause's code (`ECONNREFUSED`,
 * `ENOTFOUND`) and the stack. Only `AuthError` messages (written by authcharts, never copied from a
 * server or an axios error) are printed, so no secret reaches the terminal.
 *
 * Exit codes: 0 success, 1 the flow or the request failed, 2 bad usage, 3 an unexpected error (a bug),
 * 130 interrupted (Ctrl-C).
 */
import pc from 'picocolors';
import { type AuthError, isAuthError, toAuthError } from '../errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, bug: 3, interrupted: 130 } as const;

/**
 * What must finish before an interrupted command exits: a refresh in flight, whose rotated tokens
 * would otherwise be lost (the old refresh token is already spent). Bounded by the caller.
 */
export const beforeInterruptedExit = new Set<() => Promise<void>>();

/** A failure the CLI itself explains (not signed in, a choice to make, bad input): exit 1 unless said. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The `--debug` request log: one redacted entry per line on stderr (src/services/http/redact.ts). */
export function debugLogger(entry: unknown): void {
  console.error(pc.dim(JSON.stringify(entry)));
}

/** Bad usage found after parsing (a malformed `--data`, a header without a colon): exit 2 with a hint. */
export function usageError(message: string, command: string): CliError {
  return new CliError(message, EXIT.usage, `Try "authcharts ${command} --help".`);
}

/** `host:port` of a URL, for messages; the URL itself when it cannot be parsed. */
export function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The lines that describe `error` (an `AuthError` or anything that can become one). */
export function describeFailure(error: unknown, options: { host?: string; debug?: boolean } = {}): string[] {
  const authError: AuthError = isAuthError(error) ? error : toAuthError(error);
  const lines: string[] = [];
  const where =
    options.host && (authError.kind === 'network' || authError.kind === 'timeout')
      ? ` (${options.host})`
      : '';
  lines.push(`authcharts: ${authError.kind}: ${authError.message}${where}`);
  if (options.debug) {
    const cause = authError.cause;
    if (cause) lines.push(`  cause: ${cause.name}${cause.code ? ` ${cause.code}` : ''}`);
    if (authError.status !== undefined) lines.push(`  status: ${authError.status}`);
  }
  return lines;
}

/** Prints a failure on stderr and returns its exit code. */
export function reportFailure(
  error: unknown,
  options: { host?: string; debug?: boolean; write?: (line: string) => void } = {},
): number {
  const write = options.write ?? ((line: string) => console.error(line));
  if (error instanceof CliError) {
    write(pc.red(`authcharts: ${error.message}`));
    if (error.hint) write(pc.dim(error.hint));
    return error.exitCode;
  }
  if (isAuthError(error) || isTransportError(error)) {
    const authError = isAuthError(error) ? error : toAuthError(error);
    for (const line of describeFailure(authError, options)) write(pc.red(line));
    if (options.debug && authError.stack) write(pc.dim(authError.stack));
    return authError.kind === 'aborted' ? EXIT.interrupted : EXIT.failed;
  }
  write(pc.red(`authcharts: ${error instanceof Error ? error.message : String(error)}`));
  if (options.debug && error instanceof Error && error.stack) write(pc.dim(error.stack));
  else write(pc.dim('This is a bug: run again with --debug for the stack, and report it.'));
  return EXIT.bug;
}

/** An error from the network layer (a Node or axios error with a code): reported as its `AuthError`. */
function isTransportError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { name?: unknown }).name !== 'CommanderError'
  );
}
