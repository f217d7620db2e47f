/**
 * Printing a machine's transitions as they happen: the state, the event that caused it, the time
 * since the start, and one line on what the state means. Used by `authcharts demo` and `login --debug`.
 */
import pc from 'picocolors';
import type { InspectionEvent } from 'xstate';

/** `{ signedIn: 'active' }` → `signedIn.active`. */
export function stateToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, child]) => {
        const rest = stateToString(child);
        return rest ? `${key}.${rest}` : key;
      })
      .join(', ');
  }
  return '';
}

/** What each state means to a person watching, keyed by `stateToString` of the value. */
export const stateMeanings: Record<string, string> = {
  signedOut: 'no session',
  signingIn: 'sending email and password to /Auth/Login',
  checkingProject: 'asking /Project/HasAccesToProject whether the account may use the project',
  'signedIn.active': 'signed in: requests carry the access token',
  'signedIn.refreshing': 'trading the refresh token for new tokens',
  'signedIn.backingOff': 'the refresh failed for a passing reason; waiting before the next try',
  sessionExpired: 'the refresh token is spent or refused: sign in again',
  authenticating: 'Auth0 password grant at /oauth/token',
  loadingIdentities: 'loading the identities (accounts) of the user',
  selectingIdentity: 'waiting for the user to choose an identity',
  requestingCode: 'asking for an SMS code to the identity’s verified phone',
  'awaitingCode.coolingDown': 'waiting for the code; resend locked until the cooldown ends',
  'awaitingCode.resendReady': 'waiting for the code; resend available',
  verifyingCode: 'validating the code; the answer is the session id',
};

/** Event types worth naming; XState's own long names are shortened for reading. */
export function eventToString(type: string): string {
  const done = /^xstate\.done\.actor\.(.+)$/.exec(type);
  if (done) return `${done[1]} done`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(type);
  if (error) return `${error[1]} failed`;
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return `after ${after[1]}`;
  return type;
}

export interface TraceOptions {
  label: string;
  write?: (line: string) => void;
  start?: number;
}

/**
 * An `inspect` callback for `createActor` that prints every change of the root actor's state,
 * with the error kind when the context carries one. Never prints context values that are secrets.
 */
export function traceTransitions({ label, write = (l) => console.log(l), start = Date.now() }: TraceOptions) {
  let previous = '';
  return (inspection: InspectionEvent) => {
    if (inspection.type !== '@xstate.snapshot') return;
    if (inspection.actorRef.sessionId !== inspection.rootId) return;
    const snapshot = inspection.snapshot as {
      value?: unknown;
      context?: { error?: { kind?: string } | null };
    };
    const state = stateToString(snapshot.value);
    if (!state || state === previous) return;
    previous = state;
    const elapsed = `+${Date.now() - start}ms`.padStart(8);
    const kind = snapshot.context?.error?.kind;
    const meaning = stateMeanings[state] ?? '';
    write(
      `${pc.dim(elapsed)}  ${pc.cyan(label.padEnd(10))} ${pc.bold(state.padEnd(26))} ${pc.dim(`← ${eventToString(inspection.event.type)}`.padEnd(28))} ${meaning}${kind ? pc.yellow(` [${kind}]`) : ''}`,
    );
  };
}

/** Says that a secret is there and how long it is; never any of its characters. */
export function mask(secret: string | null | undefined): string {
  if (!secret) return '(none)';
  return `[hidden, ${secret.length} chars]`;
}
