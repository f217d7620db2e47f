#!/usr/bin/env node
/**
 * The `authcharts` command: sign in once (`login`), then `status`, `api`, `token`, `logout`, like
 * `gh auth` and `gh api`; plus the demo, the simulators, the diagrams and the path suites.
 *
 * Exit codes: 0 success, 1 the flow or the request failed (an `AuthError`, an HTTP status other than
 * 2xx, not signed in), 2 bad usage, 3 an unexpected error (a bug: run again with --debug for the
 * stack), 130 interrupted (Ctrl-C).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { runApi, runToken } from './api.js';
import { runDemo } from './demo.js';
import { type DiagramFormat, type DiagramMachineName, runDiagram } from './diagram.js';
import { beforeInterruptedExit, EXIT, reportFailure } from './failure.js';
import { type LoginOptions, loginMarketiger, loginMrkter } from './login.js';
import { runPaths } from './paths.js';
import { runSimulate } from './simulate.js';
import { runLogout, runStatus } from './status.js';
import type { Provider } from './store.js';

const program = new Command()
  .name('authcharts')
  .description(
    'Sign in to Marketiger or Mrkter once, then call their APIs from the terminal; plus the demo, simulators and diagrams.',
  )
  .version(packageVersion(), '-V, --version', 'print the version')
  .option('--debug', 'print state transitions, requests (redacted), error causes and stacks')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(pc.red(text)) });

const debug = () => Boolean(program.opts().debug);
const interactive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY);

const providerArgument = (required: boolean) =>
  new Argument(required ? '<provider>' : '[provider]', 'marketiger or mrkter').choices([
    'marketiger',
    'mrkter',
  ]);

/** The flags that say which servers (and which stored session) a command means. */
function serverOptions(command: Command): Command {
  return command
    .option('--base-url <url>', 'Marketiger API base URL (default https://devapi.marketiger3d.com/v2)')
    .option('--auth-url <url>', 'Mrkter Auth0 base URL (default https://login.dev.mrkter.io)')
    .option('--api-url <url>', 'Mrkter API base URL (default https://api.dev.mrkter.io)')
    .option('--profile <name>', 'a name for the session, to keep several per server (default "default")');
}

serverOptions(
  program
    .command('login')
    .description('sign in (prompts on a terminal, flags or environment otherwise) and store the session')
    .addArgument(providerArgument(true)),
)
  .addOption(new Option('--email <email>', 'Marketiger email').env('MARKETIGER_EMAIL'))
  .addOption(new Option('--username <username>', 'Mrkter username').env('MRKTER_USERNAME'))
  .addOption(
    new Option('--password <password>', 'the password (prefer the environment variable)').env(
      'AUTHCHARTS_PASSWORD',
    ),
  )
  .addOption(new Option('--account-id <id>', 'Mrkter identity to use').env('MRKTER_ACCOUNT_ID'))
  .addOption(
    new Option('--code <code>', 'Mrkter SMS code (without a terminal it is otherwise read from stdin)').env(
      'MRKTER_CODE',
    ),
  )
  .addOption(
    new Option('--project-id <id>', 'Marketiger project the account must have access to').env(
      'MARKETIGER_PROJECT_ID',
    ),
  )
  .addOption(
    new Option('--resend-cooldown <seconds>', 'Mrkter: wait before "resend" is offered (default 30)')
      .argParser(nonNegative('--resend-cooldown'))
      .hideHelp(),
  )
  .addHelpText(
    'after',
    `
The session is stored in $AUTHCHARTS_CONFIG_DIR, else $XDG_CONFIG_HOME/authcharts, else
~/.config/authcharts (a folder only you can open, a file only you can read), one per provider,
server and --profile. Passwords and SMS codes are never stored or printed.

Examples:
  $ authcharts login marketiger
  $ MARKETIGER_EMAIL=me@example.com AUTHCHARTS_PASSWORD=... authcharts login marketiger
  $ authcharts login mrkter --auth-url http://127.0.0.1:4020 --api-url http://127.0.0.1:4030`,
  )
  .action(async (provider: Provider, options: Omit<LoginOptions, 'interactive'>) => {
    const run = provider === 'marketiger' ? loginMarketiger : loginMrkter;
    process.exitCode = await run({ ...options, interactive: interactive(), debug: debug() });
  });

serverOptions(
  program
    .command('status')
    .description('show who is signed in where, and until when (never a token)')
    .addArgument(providerArgument(false)),
)
  .option('--json', 'print the sessions as JSON')
  .addHelpText(
    'after',
    `
Exit code 1 when no session is stored.

Examples:
  $ authcharts status
  $ authcharts status mrkter --json`,
  )
  .action(async (provider: Provider | undefined, options: { json?: boolean }) => {
    process.exitCode = await runStatus(provider, options);
  });

serverOptions(
  program
    .command('api')
    .description('send one request with the stored session (refreshed when needed) and print the answer')
    .addArgument(providerArgument(true))
    .argument('<method>', 'GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS')
    .argument('<path>', 'the path below the API base URL, e.g. /Project/GetProjects'),
)
  .option('-d, --data <json>', 'a JSON body, or @file (@- reads standard input)')
  .option('-H, --header <name:value>', 'a request header (repeatable)', collect, [] as string[])
  .option('--json', 'print {"status": ..., "body": ...} instead of the body alone')
  .addHelpText(
    'after',
    `
The body is printed as received (pretty JSON on a terminal). Exit code 0 for a 2xx answer, 1 for
any other (the status on stderr). Tokens refreshed on the way are written back to the stored
session; a session the refresh cannot save is removed, with word to sign in again.

Examples:
  $ authcharts api marketiger GET /Project/GetProjects
  $ authcharts api mrkter GET /accounts/current
  $ authcharts api marketiger POST /Project/Create --data '{"name":"demo"}'
  $ authcharts api marketiger POST /Project/Create --data @project.json -H 'X-Request-Id: 42'`,
  )
  .action(async (provider: Provider, method: string, path: string, options: object) => {
    process.exitCode = await runApi(provider, method, path, { ...options, debug: debug() });
  });

serverOptions(
  program
    .command('token')
    .description('print the access token of the stored session (refreshed when due), for scripts')
    .addArgument(providerArgument(true)),
)
  .addHelpText(
    'after',
    `
Only the token is printed on stdout. Mrkter requests also need x-account-id and x-session-id:
"authcharts api" sends them for you.

Example:
  $ curl -H "Authorization: Bearer $(authcharts token marketiger)" https://devapi.marketiger3d.com/v2/Project/GetProjects`,
  )
  .action(async (provider: Provider, options: object) => {
    process.exitCode = await runToken(provider, { ...options, debug: debug() });
  });

serverOptions(
  program
    .command('logout')
    .description('forget the stored session (of one provider, or --all)')
    .addArgument(providerArgument(false)),
)
  .option('--all', 'forget every stored session')
  .addHelpText(
    'after',
    `
Examples:
  $ authcharts logout marketiger
  $ authcharts logout --all`,
  )
  .action(async (provider: Provider | undefined, options: { all?: boolean }) => {
    process.exitCode = await runLogout(provider, options);
  });

program
  .command('demo')
  .description('walk both sign-in flows end to end against embedded simulators, printing each transition')
  .action(async () => {
    process.exitCode = await runDemo();
  });

program
  .command('simulate')
  .description('run both provider simulators on 127.0.0.1 until interrupted, with their URLs and demo users')
  .option('--marketiger-port <port>', 'port of the Marketiger simulator (default: any free port)', port)
  .option('--auth-port <port>', 'port of the Mrkter Auth0 simulator (default: any free port)', port)
  .option('--api-port <port>', 'port of the Mrkter API simulator (default: any free port)', port)
  .option(
    '--sms-cooldown <seconds>',
    'Mrkter: one SMS per number this often (default 20; 0 for none)',
    nonNegative('--sms-cooldown'),
  )
  .option('--quiet', 'print no line per request')
  .addHelpText(
    'after',
    `
Example:
  $ authcharts simulate --marketiger-port 4010 --auth-port 4020 --api-port 4030 --sms-cooldown 5`,
  )
  .action(async (options: Parameters<typeof runSimulate>[0]) => {
    // Listening first: a Ctrl-C right after the URLs are printed stops the servers too.
    const stopped = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    const stop = await runSimulate(options);
    const signal = await stopped;
    await stop();
    process.exitCode = signal === 'SIGINT' ? EXIT.interrupted : EXIT.ok;
  });

program
  .command('diagram')
  .description(
    'print the statechart of a machine as a Mermaid diagram or as JSON, derived from its definition',
  )
  .addArgument(
    new Argument('[machine]', 'marketiger or mrkter (default: both)').choices(['marketiger', 'mrkter']),
  )
  .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'json']).default('mermaid'))
  .action((machine: DiagramMachineName | undefined, options: { format: DiagramFormat }) => {
    process.exitCode = runDiagram(machine, options);
  });

program
  .command('paths [machine]')
  .description(
    'generate the path suites of the statecharts and print the states, transitions and paths covered',
  )
  .option('--json', 'print {"machines": {...}} as JSON')
  .action((machine: string | undefined, options: { json?: boolean }) => {
    process.exitCode = runPaths(machine, options);
  });

// A usage error is one line and a hint, not the whole help.
for (const command of [program, ...program.commands]) {
  const name = command === program ? 'authcharts' : `authcharts ${command.name()}`;
  command.showHelpAfterError(pc.dim(`Try "${name} --help".`));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    throw new InvalidArgumentError('A port is a number from 1 to 65535.');
  }
  return n;
}

function nonNegative(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${flag} takes seconds (0 or more).`);
    }
    return n;
  };
}

/** The version in the package.json above this file (src/cli, dist/cli or a bundle in node_modules/.cache). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'authcharts' && pkg.version) return pkg.version;
    } catch {
      // not here: one folder up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * Ctrl-C outside a prompt (prompts turn it into a cancel of their own): exit 130, as shells expect,
 * once a refresh in flight has landed (at most 5 s); a second Ctrl-C exits at once.
 */
function exitOnInterrupt() {
  process.once('SIGINT', () => {
    process.stderr.write('\n');
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
    const pending = [...beforeInterruptedExit].map((finish) => finish());
    const cap = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
    void Promise.race([Promise.all(pending), cap]).finally(() => process.exit(EXIT.interrupted));
  });
}

async function main() {
  const isSimulate = process.argv.slice(2).includes('simulate');
  if (!isSimulate) exitOnInterrupt();
  // The machines' clock (createUnrefClock) does not keep Node alive, so that a library's idle session
  // lets a script exit; the command itself must stay until it is done, whatever it waits on (a
  // machine's backoff timer included). The waits the library's callers await keep Node alive already.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; commander has already printed the one-line error and the hint.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.exitCode = reportFailure(error, { debug: process.argv.includes('--debug') });
  } finally {
    clearInterval(keepAlive);
  }
}

void main();
