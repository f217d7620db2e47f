/** Where requests may go: `https:` base URLs (plain `http:` on loopback only) and paths relative to them. */
import { AuthError } from '../../errors.js';

const loopbackHosts = new Set(['localhost', '[::1]', '::1']);

/** True for `localhost`, `[::1]` and every address of 127.0.0.0/8. */
export function isLoopbackHost(hostname: string): boolean {
  if (loopbackHosts.has(hostname)) return true;
  return /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(hostname);
}

/** A base URL that passed {@link secureBaseUrl}: without a trailing slash, and its origin. */
export interface SecureBaseUrl {
  href: string;
  origin: string;
  hostname: string;
}

let lastChecked: { url: string; result: SecureBaseUrl } | undefined;

/**
 * Checks that a base URL is `https:`, or `http:` on a loopback host, and returns it without a trailing
 * slash with its origin. Anything else (another scheme, `http://localhost.evil.com`, a malformed URL) is
 * `insecure_url`. The last URL checked is remembered: a client made per task (per sign-in, per job)
 * does not parse the same base URL again.
 */
export function secureBaseUrl(url: string): SecureBaseUrl {
  if (lastChecked?.url === url) return lastChecked.result;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AuthError('insecure_url', { message: 'The base URL is not a valid absolute URL.' });
  }
  const secure =
    parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
  if (!secure || parsed.username || parsed.password) throw new AuthError('insecure_url');
  const result = { href: parsed.href.replace(/\/+$/, ''), origin: parsed.origin, hostname: parsed.hostname };
  lastChecked = { url, result };
  return result;
}

/** {@link secureBaseUrl}'s URL alone. */
export function assertSecureBaseUrl(url: string): string {
  return secureBaseUrl(url).href;
}

/** Refuses anything but a path relative to the base URL: absolute and protocol-relative URLs never go out. */
export function assertRelativePath(path: string): string {
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) {
    throw new AuthError('insecure_url', { message: 'Only paths relative to the base URL are sent.' });
  }
  return path;
}
