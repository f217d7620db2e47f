/**
 * Helpers of the secret scans: a set of secrets collected while flows run (canaries we chose, and
 * tokens and session ids read from the actors and simulators as they appear), and the views of a
 * thrown error a log or a bug report could show.
 */
import { inspect } from 'node:util';
import type { AnyActor } from 'xstate';
import type { HttpLogEntry } from '../../src/services/http/log.js';

/** Secrets by value, each with a label that says what it was (the label, not the value, goes in failure messages). */
export class SecretSet {
  private readonly values = new Map<string, string>();

  /** Adds a secret; values shorter than 6 characters are too likely to occur by chance and are refused loudly. */
  add(label: string, value: unknown): void {
    if (typeof value !== 'string' || value === '') return;
    if (value.length < 6) throw new Error(`secret ${label} is too short to scan for`);
    if (!this.values.has(value)) this.values.set(value, label);
  }

  get size(): number {
    return this.values.size;
  }

  labels(): string[] {
    return [...new Set(this.values.values())];
  }

  /** The labels of the secrets found in `text` (never the values). */
  findIn(text: string, only?: (label: string) => boolean): string[] {
    const found: string[] = [];
    for (const [value, label] of this.values) {
      if (only && !only(label)) continue;
      if (text.includes(value)) found.push(label);
    }
    return found;
  }
}

/** What a thrown error shows in logs: message, stack, JSON and `util.inspect` (depth 10). */
export function errorViews(error: unknown): string[] {
  const views: string[] = [];
  if (error instanceof Error) {
    views.push(error.message, error.stack ?? '');
  } else {
    views.push(String(error));
  }
  try {
    views.push(JSON.stringify(error) ?? '');
  } catch (e) {
    views.push(`JSON.stringify threw ${String(e)}`);
  }
  views.push(inspect(error, { showHidden: false, depth: 10 }));
  return views;
}

/** Everything one scan looks at, by where it came from. */
export class Evidence {
  readonly logEntries: HttpLogEntry[] = [];
  readonly errors: unknown[] = [];
  readonly console: string[] = [];
  /** Persisted snapshots as JSON, one per emitted snapshot of every tracked actor. */
  readonly snapshots: string[] = [];

  /** A debug logger that keeps every entry. */
  readonly logger = (entry: HttpLogEntry): void => {
    this.logEntries.push(entry);
  };

  /** An `inspect` observer for `createActor`: keeps the error of every failed invoked actor (what reaches the machine). */
  readonly inspect = (event: { type: string; event?: { type?: string; error?: unknown } }): void => {
    if (event.type === '@xstate.event' && event.event?.type?.startsWith('xstate.error.actor')) {
      this.errors.push(event.event.error);
    }
  };

  /** Runs `promise`, keeps what it throws, and resolves with the error (or `undefined`). */
  async keepError(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
      return undefined;
    } catch (error) {
      this.errors.push(error);
      return error;
    }
  }

  /**
   * Follows an actor: every snapshot's persisted form is kept, and the tokens and session id of its
   * context are added to the secrets as they appear (so a token seen once is searched for everywhere).
   */
  track(actor: AnyActor, secrets: SecretSet): void {
    const look = () => {
      const snapshot = actor.getSnapshot() as { context?: Record<string, unknown> };
      const context = snapshot.context ?? {};
      secrets.add('access token', context['accessToken']);
      secrets.add('refresh token', context['refreshToken']);
      secrets.add('session id', context['sessionId']);
      this.snapshots.push(JSON.stringify(actor.getPersistedSnapshot()));
    };
    look();
    actor.subscribe({ next: look, error: () => {} });
  }
}

/** Every value under a key named `error` anywhere in a snapshot (the context's, and failed children's), as JSON. */
function errorsWithin(value: unknown, out: string[] = []): string[] {
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, item] of Object.entries(value)) {
    if (key === 'error' && item !== null && item !== undefined) out.push(JSON.stringify(item));
    else errorsWithin(item, out);
  }
  return out;
}

/**
 * The findings of a scan as readable strings (`where: label`), empty when clean. Passwords and codes
 * are searched for everywhere; tokens and session ids in snapshots only inside an `error` (the context's or a child's),
 * since a signed-in snapshot legitimately holds the session it restores (README: Restoring a session).
 */
export function scan(evidence: Evidence, secrets: SecretSet): string[] {
  const findings: string[] = [];
  const note = (where: string, labels: string[]) => {
    for (const label of labels) findings.push(`${where}: ${label}`);
  };
  for (const [i, line] of evidence.console.entries()) note(`console[${i}]`, secrets.findIn(line));
  for (const [i, entry] of evidence.logEntries.entries()) {
    note(`log[${i}] ${entry.phase} ${entry.method} ${entry.path}`, secrets.findIn(JSON.stringify(entry)));
  }
  for (const [i, error] of evidence.errors.entries()) {
    for (const view of errorViews(error)) note(`error[${i}]`, secrets.findIn(view));
  }
  const personal = (label: string) => /password|code|mfa/.test(label);
  for (const [i, json] of evidence.snapshots.entries()) {
    note(`snapshot[${i}]`, secrets.findIn(json, personal));
    for (const error of errorsWithin(JSON.parse(json))) note(`snapshot[${i}] error`, secrets.findIn(error));
  }
  return [...new Set(findings)];
}
