import type { AuthErrorData, AuthErrorKind } from 'authcharts';

/**
 * What to tell a person for each kind of failure. A `Record` over the union makes the compiler
 * point at this table when authcharts adds a kind. Branch on `kind`, never on `message` text.
 */
export const errorMessages: Record<AuthErrorKind, string> = {
  invalid_credentials: 'That email or username and password do not match. Check them and try again.',
  invalid_code: 'That code is not right, or it has expired. Check the SMS and try again.',
  too_many_attempts: 'Too many attempts. Wait a little, then sign in again.',
  rate_limited: 'Too many requests. Wait a moment before trying again.',
  session_expired: 'Your session has ended. Please sign in again.',
  signed_out: 'You are signed out.',
  no_permission: 'This account is not allowed to do that.',
  no_project_access: 'This account has no access to the project.',
  no_identities: 'This user has no accounts to sign in with.',
  no_phone_number: 'This account has no verified phone number to send a code to.',
  network: 'The server cannot be reached. Check your connection and try again.',
  timeout: 'The server took too long to answer. Try again.',
  server: 'The server had a problem. Try again in a moment.',
  bad_response: 'The server sent an answer we did not understand.',
  insecure_url: 'The server address must use https (or be on this computer).',
  aborted: 'The request was cancelled.',
};

export function describeError(error: AuthErrorData): string {
  const text = errorMessages[error.kind];
  // The server said how long to wait: say it too.
  if (error.kind === 'rate_limited' && error.retryAfterMs !== undefined) {
    return `${text} (about ${Math.ceil(error.retryAfterMs / 1000)} s)`;
  }
  return text;
}
