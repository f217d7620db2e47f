/**
 * `npm run soak:coordination`: 10 holder processes share one Marketiger session through a real
 * redis-server for 10 minutes, time compressed by 4 s access tokens, while Redis is restarted (with and
 * without its data), made to refuse writes, emptied and has its connections killed at random moments.
 * Prints the figures; exits non-zero unless every holder ends on the same newest session with 0
 * `session_expired`, 0 redeemed refresh tokens resent (counted at the simulator) and 0 unhandled errors.
 *
 * Environment: SOAK_PROCESSES (10), SOAK_SECONDS (600), SOAK_SEED (random, printed: replays the fault
 * schedule), SOAK_FAULT_GAP_MS (6 000, the mean pause between faults). Needs redis-server on the PATH.
 * See test/coordination/fixtures/soak.ts for what it does.
 */
import { runCoordinationSoak, soakFailures, soakReport } from '../test/coordination/fixtures/soak.js';

const env = process.env;
const started = Date.now();
const figures = await runCoordinationSoak({
  processes: Number(env['SOAK_PROCESSES'] ?? 10),
  durationMs: Number(env['SOAK_SECONDS'] ?? 600) * 1000,
  ...(env['SOAK_SEED'] ? { seed: Number(env['SOAK_SEED']) } : {}),
  ...(env['SOAK_FAULT_GAP_MS'] ? { meanFaultGapMs: Number(env['SOAK_FAULT_GAP_MS']) } : {}),
  onProgress: (line) => console.log(`[${Math.round((Date.now() - started) / 1000)} s] ${line}`),
});
console.log(soakReport(figures));
const failures = soakFailures(figures);
if (failures.length > 0) {
  console.error(`soak:coordination FAILED:\n- ${failures.join('\n- ')}`);
  process.exitCode = 1;
} else {
  console.log(`soak:coordination passed in ${Math.round((Date.now() - started) / 1000)} s`);
}
