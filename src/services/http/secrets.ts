/**
 * Which names hold secrets, and what a redacted value reads: shared by the debug log's redaction
 * (`redact.ts`, loaded only with a logger) and the authorized client's scrubbing of errors (always).
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Names whose values are always secret, compared without case and without `-`/`_`
 * (so `refresh_token`, `refreshToken` and `Refresh-Token` are one name).
 */
const secretNames = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'xsessionid',
  'sessionid',
  'password',
  'code',
  'otp',
  'refreshtoken',
  'accesstoken',
  'idtoken',
  'mfatoken',
  'token',
  'clientsecret',
  'secret',
  'apikey',
  'xapikey',
]);

/** True when a header, field or parameter of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return secretNames.has(name.toLowerCase().replace(/[-_]/g, ''));
}
