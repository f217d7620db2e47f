/**
 * `authcharts status [provider]` and `authcharts logout [provider]`: who is signed in where and until
 * when, and forgetting it. Neither prints a token: only who, where and the ends of the tokens.
 */
import pc from 'picocolors';
import { marketigerInputDefaults } from '../index.js';
import { EXIT } from './failure.js';
import {
  apiUrlOf,
  openStore,
  type Provider,
  providerNames,
  type Selection,
  SessionChoiceError,
  type StoredEntry,
} from './store.js';

export interface StatusOptions extends Selection {
  json?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** One session as `status --json` prints it: times as ISO strings, never a token. */
export interface SessionStatus {
  provider: Provider;
  profile: string;
  user: string;
  urls: Record<string, string>;
  account?: { accountId: number | string; companyName?: string | null };
  accessTokenExpiresAt: string | null;
  /** `null` when the provider gives the refresh token no known end (Auth0). */
  refreshTokenExpiresAt: string | null;
  signedInAt: string;
  file: string;
}

function statusOf(entry: StoredEntry, file: string): SessionStatus {
  const { meta, session } = entry;
  const { provider: _, ...urls } = meta.urls;
  // A rotated Marketiger refresh token lives 12 h from its issue: the machine's own rule.
  const refreshEnd =
    session.refreshTokenExpiresAt ??
    (meta.provider === 'marketiger' && session.refreshToken
      ? session.issuedAt + marketigerInputDefaults.refreshTokenTtlMs
      : null);
  return {
    provider: meta.provider,
    profile: meta.profile,
    user: meta.user,
    urls,
    ...(meta.account ? { account: meta.account } : {}),
    accessTokenExpiresAt: iso(session.accessTokenExpiresAt),
    refreshTokenExpiresAt: iso(refreshEnd),
    signedInAt: meta.signedInAt,
    file,
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** `authcharts status`: resolves with the exit code (1 when nothing is signed in). */
export async function runStatus(provider: Provider | undefined, options: StatusOptions): Promise<number> {
  const store = openStore(options.env);
  try {
    const entries = await store.matching(provider, options);
    const statuses = entries.map((entry) => statusOf(entry, store.coordinator.fileOf(entry.key)));
    if (options.json) {
      process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      return statuses.length > 0 ? EXIT.ok : EXIT.failed;
    }
    if (statuses.length === 0) {
      const which = provider ? providerNames[provider] : 'Marketiger or Mrkter';
      console.error(
        `Not signed in to ${which}. Sign in with "authcharts login ${provider ?? '<provider>'}".`,
      );
      return EXIT.failed;
    }
    for (const status of statuses) printStatus(status);
    return EXIT.ok;
  } finally {
    store.close();
  }
}

function printStatus(status: SessionStatus) {
  const name = providerNames[status.provider];
  const profile = status.profile === 'default' ? '' : pc.dim(` (profile ${status.profile})`);
  console.log(`${pc.bold(name)}  ${status.user}${profile}`);
  if (status.account) {
    const company = status.account.companyName ? ` (${status.account.companyName})` : '';
    console.log(`  account        ${status.account.accountId}${company}`);
  }
  for (const [name, url] of Object.entries(status.urls)) console.log(`  ${urlLabel(name).padEnd(15)}${url}`);
  console.log(`  access token   ${until(status.accessTokenExpiresAt)}`);
  console.log(
    `  refresh token  ${status.refreshTokenExpiresAt ? until(status.refreshTokenExpiresAt) : 'no fixed end (the server decides)'}`,
  );
  console.log(pc.dim(`  file           ${status.file}`));
}

function urlLabel(name: string): string {
  return name === 'baseURL' ? 'API' : name === 'authBaseURL' ? 'auth' : 'API';
}

/** "valid until <time> (in 59 min)" or "expired <time> (refreshed on next use)". */
function until(isoTime: string | null): string {
  if (!isoTime) return 'no known end';
  const left = Date.parse(isoTime) - Date.now();
  if (left <= 0) return `expired ${isoTime} ${pc.dim('(refreshed on next use)')}`;
  return `valid until ${isoTime} ${pc.dim(`(in ${duration(left)})`)}`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export interface LogoutOptions extends Selection {
  all?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** `authcharts logout`: forgets the stored session(s) and says which; resolves with the exit code. */
export async function runLogout(provider: Provider | undefined, options: LogoutOptions): Promise<number> {
  const store = openStore(options.env);
  try {
    let entries: StoredEntry[];
    if (options.all) entries = await store.matching(provider, {});
    else if (provider) {
      try {
        entries = [await store.find(provider, options)];
      } catch (error) {
        if (!(error instanceof SessionChoiceError) || !error.message.startsWith('Not signed in')) throw error;
        entries = [];
      }
    } else {
      entries = await store.matching(undefined, options);
      if (entries.length > 1) {
        throw new SessionChoiceError(
          `Signed in to several (${entries.map((e) => providerNames[e.meta.provider]).join(', ')}): name a provider, or pass --all.`,
        );
      }
    }
    if (entries.length === 0) {
      console.error(`Not signed in${provider ? ` to ${providerNames[provider]}` : ''}: nothing to forget.`);
      return EXIT.ok;
    }
    for (const entry of entries) {
      await store.forget(entry.key);
      const profile = entry.meta.profile === 'default' ? '' : ` (profile ${entry.meta.profile})`;
      console.log(
        `Signed out of ${providerNames[entry.meta.provider]}: ${entry.meta.user} at ${apiUrlOf(entry.meta.urls)}${profile}. The stored session is forgotten.`,
      );
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}
