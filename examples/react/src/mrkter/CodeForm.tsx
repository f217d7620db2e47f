import type { FormEvent } from 'react';
import { maskPhone, useNow } from '../ui.js';

/**
 * The SMS step. `canResend` is the machine's `awaitingCode.resendReady`; the countdown is only
 * for people, computed from `resendAvailableAt` (an absolute time, so it survives a reload).
 */
export function CodeForm(props: {
  phoneNumber: string | null;
  resendAvailableAt: number | null;
  canResend: boolean;
  onSubmit: (code: string) => void;
  onResend: () => void;
  onChangeIdentity: (() => void) | undefined;
}) {
  const now = useNow();
  const secondsLeft = Math.max(0, Math.ceil(((props.resendAvailableAt ?? now) - now) / 1000));
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    // The code goes into the event and on to the verify actor; the machine never stores it.
    props.onSubmit(String(form.get('code') ?? '').trim());
    event.currentTarget.reset();
  };
  return (
    <form onSubmit={submit}>
      <p>We sent a code by SMS to {maskPhone(props.phoneNumber)}.</p>
      <label>
        Code
        <input
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]*"
          maxLength={8}
          required
        />
      </label>
      <div className="row">
        <button type="submit">Verify</button>
        <button type="button" className="secondary" disabled={!props.canResend} onClick={props.onResend}>
          {props.canResend ? 'Resend code' : `Resend code in ${secondsLeft} s`}
        </button>
        {props.onChangeIdentity && (
          <button type="button" className="secondary" onClick={props.onChangeIdentity}>
            Use another account
          </button>
        )}
      </div>
    </form>
  );
}
