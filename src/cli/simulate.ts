/**
 * `authcharts simulate`: both provider simulators on loopback until interrupted, with their URLs and
 * demo users, so that a browser page, a test suite or `authcharts login` can be pointed at them.
 */
import pc from 'picocolors';
import { MARKETIGER_DEMO_USER, startMarketigerSimulator } from '../testing/marketigerSimulator.js';
import { defaultMrkterUsers, startMrkterSimulator } from '../testing/mrkterSimulator.js';

export interface SimulateOptions {
  marketigerPort?: number;
}

/** Starts both simulators and resolves with a function that stops them. */
export async function runSimulate(options: SimulateOptions = {}, write = (l: string) => console.log(l)) {
  const marketiger = await startMarketigerSimulator(
    options.marketigerPort ? { port: options.marketigerPort } : {},
  );
  const mrkter = await startMrkterSimulator();
  write(pc.bold('Marketiger simulator'));
  write(`  baseURL   ${marketiger.baseURL}`);
  write(
    `  user      ${MARKETIGER_DEMO_USER.email} / ${MARKETIGER_DEMO_USER.password} (project ${MARKETIGER_DEMO_USER.projects.join(', ')})`,
  );
  write(pc.bold('Mrkter simulator'));
  write(`  auth URL  ${mrkter.authUrl}`);
  write(`  API URL   ${mrkter.apiUrl}`);
  for (const user of defaultMrkterUsers) {
    write(`  user      ${user.username} / ${user.password} (${user.identities.length} identities)`);
  }
  write(pc.dim('  SMS codes are printed here as they are sent. Ctrl-C stops both.'));
  let printed = 0;
  const poll = setInterval(() => {
    for (const sent of mrkter.sentCodes.slice(printed))
      write(`  SMS to …${sent.phoneNumber.slice(-4)}: ${sent.code}`);
    printed = mrkter.sentCodes.length;
  }, 200);
  return async () => {
    clearInterval(poll);
    await Promise.all([marketiger.close(), mrkter.close()]);
  };
}
