import type { AuthErrorData } from 'authcharts';
import type { FormEvent } from 'react';
import { ErrorNote, Spinner } from './ui.js';

/**
 * The first step of both flows. It stays mounted while the machine signs in (`busy` disables it and
 * shows a spinner), so after a wrong password the name is still there and only the password is retyped.
 */
export function CredentialsForm(props: {
  /** 'Email' for Marketiger, 'Username' for Mrkter. */
  nameLabel: string;
  submitLabel: string;
  busy: string | null;
  error: AuthErrorData | null;
  onSubmit: (name: string, password: string) => void;
  onCancel: () => void;
}) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    // The password goes straight into the event: the machine hands it to its login actor and never
    // keeps it in context.
    props.onSubmit(String(form.get('name') ?? ''), String(form.get('password') ?? ''));
  };
  return (
    <form onSubmit={submit}>
      <fieldset disabled={props.busy !== null}>
        <label>
          {props.nameLabel}
          <input name="name" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {!props.busy && <ErrorNote error={props.error} />}
        <button type="submit">{props.submitLabel}</button>
      </fieldset>
      {props.busy && (
        <div className="row">
          <Spinner label={props.busy} />
          <button type="button" className="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      )}
    </form>
  );
}
