#!/usr/bin/env node
/**
 * The `authcharts` command. Exit codes: 0 success, 1 the flow failed (an `AuthError`, or a demo
 * expectation), 2 bad usage, 3 an unexpected error (a bug: run again with --debug for the stack).
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import pc from 'picocolors';
import { isAuthError } from '../errors.js';
import { runDemo } from './demo.js';
import { type DiagramFormat, type DiagramMachineName, runDiagram } from './diagram.js';
import { type LoginOptions, loginMarketiger, loginMrkter } from './login.js';
import { runPaths } from './paths.js';
import { runSimulate } from './simulate.js';

const program = new Command()
  .name('authcharts')
  .description('Marketiger and Mrkter sign-in flows as XState statecharts: demo, real login, simulators.')
  .option('--debug', 'print stacks and every state transition')
  .showHelpAfterError()
  .exitOverride();

program
  .command('demo')
  .description('walk both sign-in flows end to end against embedded simulators, printing each transition')
  .action(async () => {
    process.exitCode = await runDemo();
  });

program
  .command('simulate')
  .description('run both provider simulators on 127.0.0.1 until interrupted, with their URLs and demo users')
  .option('--marketiger-port <port>', 'port of the Marketiger simulator (default: any free port)', Number)
  .action(async (options: { marketigerPort?: number }) => {
    const stop = await runSimulate(options);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stop();
  });

program
  .command('login')
  .description(
    "sign in for real (the vendors' dev endpoints unless pointed elsewhere) and print the outcome, secrets masked",
  )
  .addArgument(new Argument('<provider>', 'marketiger or mrkter').choices(['marketiger', 'mrkter']))
  .option('--base-url <url>', 'Marketiger API base URL (default https://devapi.marketiger3d.com/v2)')
  .option('--auth-url <url>', 'Mrkter Auth0 base URL (default https://login.dev.mrkter.io)')
  .option('--api-url <url>', 'Mrkter API base URL (default https://api.dev.mrkter.io)')
  .addOption(new Option('--email <email>', 'Marketiger email').env('MARKETIGER_EMAIL'))
  .addOption(new Option('--username <username>', 'Mrkter username').env('MRKTER_USERNAME'))
  .addOption(
    new Option('--password <password>', 'the password (prefer the environment variable)').env(
      'AUTHCHARTS_PASSWORD',
    ),
  )
  .addOption(new Option('--account-id <id>', 'Mrkter identity to use').env('MRKTER_ACCOUNT_ID'))
  .addOption(
    new Option('--code <code>', 'Mrkter SMS code (without a TTY it is otherwise read from stdin)').env(
      'MRKTER_CODE',
    ),
  )
  .addOption(
    new Option('--project-id <id>', 'Marketiger project the account must have access to').env(
      'MARKETIGER_PROJECT_ID',
    ),
  )
  .action(async (provider: 'marketiger' | 'mrkter', options: Omit<LoginOptions, 'interactive'>) => {
    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const debug = Boolean(program.opts().debug);
    const run = provider === 'marketiger' ? loginMarketiger : loginMrkter;
    process.exitCode = await run({ ...options, interactive, debug });
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

async function main() {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    const debug = process.argv.includes('--debug');
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (isAuthError(error)) {
      console.error(pc.red(`authcharts: ${error.kind}: ${error.message}`));
      if (debug) console.error(error.stack);
      process.exitCode = 1;
      return;
    }
    console.error(pc.red(`authcharts: ${error instanceof Error ? error.message : String(error)}`));
    if (debug && error instanceof Error) console.error(error.stack);
    process.exitCode = 3;
  }
}

void main();
