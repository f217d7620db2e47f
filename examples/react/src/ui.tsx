/** Small presentational pieces shared by both flows. */
import type { AuthErrorData } from 'authcharts';
import { useEffect, useState } from 'react';
import { describeError } from './errorMessages.js';

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
