/** Small presentational pieces shared by both flows. */
import type { AuthErrorData } from 'authcharts';
import { type ReactNode, useEffect, useState } from 'react';
import type { StateValue } from 'xstate';
import { describeError } from './errorMessages.js';
import { stateName } from './testHooks.js';

/** A flow's root: the machine's state in `data-state` (`signedIn.active`), for tests and styles. */
export function Flow({ state, children }: { state: StateValue; children: ReactNode }) {
  return (
    <div className="flow" data-state={stateName(state)}>
      {children}
    </div>
  );
}

/**
 * What a signed-in session is doing by itself: refreshing its access token (a spinner), or waiting
 * to try again after a refresh failed for a passing reason (`signedIn.backingOff`), which a person
 * may cut short.
 */
export function SessionStatus(props: { refreshing: boolean; backingOff: boolean; onRetry: () => void }) {
  if (props.refreshing) return <Spinner label="Refreshing the session…" />;
  if (!props.backingOff) return null;
  return (
    <div className="row" data-testid="refresh-retry">
      <p className="hint">The session could not be refreshed just now; it will try again shortly.</p>
      <button type="button" className="secondary" onClick={props.onRetry}>
        Retry now
      </button>
    </div>
  );
}

/** Shown while the machine is in a state tagged 'busy' (waiting on the network). */
export function Spinner({ label }: { label: string }) {
  return (
    <p className="busy" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** `context.error`, as a sentence for people; `data-kind` lets tests and styles tell kinds apart. */
export function ErrorNote({ error, extra }: { error: AuthErrorData | null; extra?: string | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-kind={error.kind}>
      {describeError(error)}
      {extra ? ` ${extra}` : ''}
    </p>
  );
}

/** Only the last digits: enough for a person to recognise their phone, not enough to leak it. */
export function maskPhone(phone: string | null | undefined): string {
  return phone ? `…${phone.slice(-4)}` : 'no verified phone';
}

/** The current time, updated every `intervalMs`: drives countdowns. */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
