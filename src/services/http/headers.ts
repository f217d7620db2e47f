/**
 * Header values in and out of the HTTP core: control characters refused before anything is sent, and
 * any header map (axios's, Node's, a plain object) read as one flat map of strings.
 */
import { AuthError } from '../../errors.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** True when `text` holds CR, LF, NUL or another control character: unusable in a header or a token. */
export function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTERS.test(text);
}

/** Refuses CR, LF, NUL and other control characters in a header value (header injection). */
export function assertHeaderValue(name: string, value: string): string {
  if (hasControlCharacters(value)) {
    throw new AuthError('bad_response', { message: `The ${name} header value contains control characters.` });
  }
  return value;
}

/**
 * Any header map as a plain object of strings with lower-cased names: axios's `AxiosHeaders` (whose own
 * keys are the header names), a Node header object, a plain record. A list (`set-cookie`) is joined
 * with `, `; numbers and `true` are written out; absent values and `false` (axios's "not set") are left
 * out.
 */
export function flattenHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return out;
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, unknown>)[name];
    const text = Array.isArray(value) ? value.join(', ') : scalar(value);
    if (text !== undefined) out[name.toLowerCase()] = text;
  }
  return out;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || value === true) return String(value);
  return undefined;
}

/** The `Authorization` header of a bearer token (RFC 6750 §2.1); its value is checked like every header on the way out. */
export function bearer(accessToken: string | null): { Authorization: string } {
  return { Authorization: `Bearer ${accessToken}` };
}
