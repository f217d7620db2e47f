/**
 * Where the CLI keeps signed-in sessions: one file per provider, base URL and profile in the user's
 * config folder, through the file coordinator, so that two commands running at once share one
 * session (one refresh, the rotated refresh token written back under the lock).
 *
 * A file holds the coordination layer's shared session (the tokens, their ends, the Mrkter account
 * and session ids: what a machine needs to go on signed in, nothing of the sign-in's progress) and
 * plain data for `status` (who, where). A command loads it into a fresh machine with
 * `session.updated`, which re-arms the refresh timer from the absolute expiry times.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createFileCoordinator, type FileCoordinator, type FileRecord } from '../coordination/file.js';
import type { SharedSession, StoredSession } from '../coordination/types.js';
import { marketigerApiDefaults, mrkterApiDefaults } from '../index.js';
import { CliError } from './failure.js';

export type Provider = 'marketiger' | 'mrkter';
export const providers: readonly Provider[] = ['marketiger', 'mrkter'];
export const providerNames: Record<Provider, string> = { marketiger: 'Marketiger', mrkter: 'Mrkter' };

/** The servers of a session: Marketiger's one base URL, Mrkter's Auth0 and API origins. */
export type ProviderUrls =
  | { provider: 'marketiger'; baseURL: string }
  | { provider: 'mrkter'; authBaseURL: string; apiBaseURL: string };

/** What the command line says about which servers and profile: every field optional. */
export interface Selection {
  profile?: string;
  baseUrl?: string;
  authUrl?: string;
  apiUrl?: string;
}

/** The plain data kept beside a session: never a secret. */
export interface SessionMeta {
  provider: Provider;
  profile: string;
  urls: ProviderUrls;
  /** The email (Marketiger) or username (Mrkter) that signed in. */
  user: string;
  /** Mrkter: the identity chosen. */
  account?: { accountId: number | string; companyName?: string | null };
  signedInAt: string;
}

/** A stored session that is signed in, with its key and data. */
export interface StoredEntry {
  key: string;
  meta: SessionMeta;
  session: Extract<StoredSession, { status: 'signedIn' }>;
}

export const DEFAULT_PROFILE = 'default';

/**
 * The config folder: `AUTHCHARTS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/authcharts` (when absolute, as
 * the XDG spec requires), else `~/.config/authcharts`.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AUTHCHARTS_CONFIG_DIR) return env.AUTHCHARTS_CONFIG_DIR;
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'authcharts');
  return join(homedir(), '.config', 'authcharts');
}

/** The servers a command means: the flags, else the vendors' defaults. */
export function urlsFor(provider: Provider, selection: Selection): ProviderUrls {
  return provider === 'marketiger'
    ? { provider, baseURL: trimSlash(selection.baseUrl ?? marketigerApiDefaults.baseURL) }
    : {
        provider,
        authBaseURL: trimSlash(selection.authUrl ?? mrkterApiDefaults.authBaseURL),
        apiBaseURL: trimSlash(selection.apiUrl ?? mrkterApiDefaults.apiBaseURL),
      };
}

/** The URL API requests go to. */
export function apiUrlOf(urls: ProviderUrls): string {
  return urls.provider === 'marketiger' ? urls.baseURL : urls.apiBaseURL;
}

/** One session per provider, servers and profile. */
export function sessionKey(urls: ProviderUrls, profile: string): string {
  const where = urls.provider === 'marketiger' ? urls.baseURL : `${urls.authBaseURL} ${urls.apiBaseURL}`;
  return `${urls.provider} ${where} ${profile}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** A session that cannot be used: no stored session, or several and the flags do not say which. */
export class SessionChoiceError extends CliError {}

/** The CLI's session files. */
export function openStore(env: NodeJS.ProcessEnv = process.env) {
  const dir = join(configDir(env), 'sessions');
  const coordinator: FileCoordinator = createFileCoordinator({ dir });

  async function entries(): Promise<StoredEntry[]> {
    const records = await coordinator.list();
    return records.flatMap((record) => {
      const entry = entryOf(record);
      return entry ? [entry] : [];
    });
  }

  return {
    dir,
    coordinator,
    entries,

    /** The signed-in sessions of `provider` (all providers when none) that fit the selection. */
    async matching(provider: Provider | undefined, selection: Selection): Promise<StoredEntry[]> {
      return (await entries()).filter((entry) => fits(entry, provider, selection));
    },

    /** The one session a command uses, or a {@link SessionChoiceError} that says how to get one. */
    async find(provider: Provider, selection: Selection): Promise<StoredEntry> {
      let found = (await entries()).filter((entry) => fits(entry, provider, selection));
      if (found.length > 1 && selection.profile === undefined) {
        const defaults = found.filter((entry) => entry.meta.profile === DEFAULT_PROFILE);
        if (defaults.length === 1) found = defaults;
      }
      const name = providerNames[provider];
      if (found.length === 0) {
        const profile = selection.profile ? ` (profile ${selection.profile})` : '';
        throw new SessionChoiceError(
          `Not signed in to ${name}${profile}: sign in with "authcharts login ${provider}".`,
        );
      }
      if (found.length > 1) {
        const choices = found.map((entry) => `${entry.meta.profile} at ${apiUrlOf(entry.meta.urls)}`);
        throw new SessionChoiceError(
          `Several ${name} sessions (${choices.join('; ')}): choose one with --profile or the URL flags.`,
        );
      }
      return found[0]!;
    },

    /** Stores a new sign-in, replacing whatever the key held. */
    async save(meta: SessionMeta, session: SharedSession): Promise<string> {
      const key = sessionKey(meta.urls, meta.profile);
      await coordinator.write(key, session);
      await coordinator.setMeta(key, meta as unknown as Record<string, unknown>);
      return key;
    },

    /**
     * Forgets a session: its tokens are replaced by a sign-out (kept, so that a refresh in flight in
     * another command sees it and does not bring the session back) and its plain data removed.
     */
    async forget(key: string): Promise<void> {
      const stored = await coordinator.clear(key);
      await coordinator.publish(key, stored);
      await coordinator.setMeta(key, null);
    },

    close() {
      coordinator.close();
    },
  };
}

export type Store = ReturnType<typeof openStore>;

function entryOf(record: FileRecord): StoredEntry | null {
  const meta = record.meta as Partial<SessionMeta> | null;
  const session = record.session;
  if (!meta || !session || session.status !== 'signedIn') return null;
  if (!meta.provider || !providers.includes(meta.provider) || !meta.urls || typeof meta.profile !== 'string')
    return null;
  if (meta.urls.provider !== meta.provider) return null;
  return { key: record.key, meta: meta as SessionMeta, session };
}

function fits(entry: StoredEntry, provider: Provider | undefined, selection: Selection): boolean {
  const { meta } = entry;
  if (provider && meta.provider !== provider) return false;
  if (selection.profile !== undefined && meta.profile !== selection.profile) return false;
  const urls = meta.urls;
  if (urls.provider === 'marketiger') {
    if (selection.baseUrl && trimSlash(selection.baseUrl) !== urls.baseURL) return false;
  } else {
    if (selection.authUrl && trimSlash(selection.authUrl) !== urls.authBaseURL) return false;
    if (selection.apiUrl && trimSlash(selection.apiUrl) !== urls.apiBaseURL) return false;
  }
  return true;
}
