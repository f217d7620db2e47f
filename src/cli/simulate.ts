/**
 * `authcharts simulate`: both provider simulators on loopback until interrupted, with their URLs, demo
 * users, the commands and the example page URL to try them with, every request as it is answered, and
 * the SMS codes as they are "sent", so that a browser page, a test suite or `authcharts login` can be
 * pointed at them.
 */
import pc from 'picocolors';
import { MARKETIGER_DEMO_USER, startMarketigerSimulator } from '../testing/marketigerSimulator.js';
import { defaultMrkterUsers, startMrkterSimulator } from '../testing/mrkterSimulator.js';
import type { SimLogEntry } from '../testing/simServer.js';

export interface SimulateOptions {
  /** Port of the Marketiger simulator (default: any free port). */
  marketigerPort?: number;
  /** Port of the Mrkter Auth0 server (default: any free port). */
  authPort?: number;
  /** Port of the Mrkter API server (default: any free port). */
  apiPort?: number;
  /** The Mrkter SMS throttle per number, in seconds (default: the simulator's 20 s). */
  smsCooldown?: number;
  /** Print no line per request (the SMS codes are still printed). */
  quiet?: boolean;
}

/** "1 identity", "2 identities". */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Starts both simulators and resolves with a function that stops them. */
export async function runSimulate(options: SimulateOptions = {}, write = (l: string) => console.log(l)) {
  // The code of an SMS is known once its request is handled: printed right after the request's line,
  // before the answer goes out, so whoever waits for the code sees it before the client moves on.
  let printed = 0;
  let printCodes = () => {};
  const requestLine = (server: string) => (entry: SimLogEntry) => {
    if (!options.quiet) write(pc.dim(`  ${server.padEnd(10)} ${entry.method} ${entry.path} ${entry.status}`));
    printCodes();
  };
  const marketiger = await startMarketigerSimulator({
    ...(options.marketigerPort ? { port: options.marketigerPort } : {}),
    onRequest: requestLine('marketiger'),
  });
  let mrkter: Awaited<ReturnType<typeof startMrkterSimulator>>;
  try {
    mrkter = await startMrkterSimulator({
      ...(options.authPort ? { authPort: options.authPort } : {}),
      ...(options.apiPort ? { apiPort: options.apiPort } : {}),
      ...(options.smsCooldown !== undefined ? { smsCooldownMs: options.smsCooldown * 1000 } : {}),
      onRequest: requestLine('mrkter'),
    });
  } catch (error) {
    await marketiger.close();
    throw error;
  }
  const demo = MARKETIGER_DEMO_USER;
  write(pc.bold('Marketiger simulator'));
  write(`  baseURL   ${marketiger.baseURL}`);
  write(`  user      ${demo.email} / ${demo.password} (project ${demo.projects.join(', ')})`);
  write(pc.bold('Mrkter simulator'));
  write(`  auth URL  ${mrkter.authUrl}`);
  write(`  API URL   ${mrkter.apiUrl}`);
  for (const user of defaultMrkterUsers) {
    write(
      `  user      ${user.username} / ${user.password} (${plural(user.identities.length, 'identity', 'identities')})`,
    );
  }
  const cooldown = options.smsCooldown ?? 20;
  write(`  SMS       one code per number every ${plural(cooldown, 'second', 'seconds')} (--sms-cooldown)`);
  write(pc.bold('Try'));
  write(`  npm run cli -- login marketiger --base-url ${marketiger.baseURL}`);
  write(`  npm run cli -- login mrkter --auth-url ${mrkter.authUrl} --api-url ${mrkter.apiUrl}`);
  write(`  npm run cli -- api marketiger GET /Project/GetProjects`);
  const page = new URLSearchParams({
    marketiger: marketiger.baseURL,
    mrkterAuth: mrkter.authUrl,
    mrkterApi: mrkter.apiUrl,
    resendCooldownMs: String(Math.max(cooldown * 1000, 1000)),
  });
  write(
    `  npx vite examples/react, then open http://localhost:5173/?${page.toString().replace(/%3A/g, ':').replace(/%2F/g, '/')}`,
  );
  write(pc.dim('  Requests and SMS codes are printed here as they come. Ctrl-C stops both.'));
  const sentCodes = mrkter.sentCodes;
  printCodes = () => {
    for (const sent of sentCodes.slice(printed))
      write(`  SMS to …${sent.phoneNumber.slice(-4)}: ${sent.code}`);
    printed = sentCodes.length;
  };
  return async () => {
    await Promise.all([marketiger.close(), mrkter.close()]);
  };
}
