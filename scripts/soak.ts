/**
 * `npm run soak`: 1 000 complete flows per provider under 10 % mixed faults, then the property tests
 * with soak-sized run counts. Prints one summary line per provider and the property figures.
 *
 * Checks, each a non-zero exit code when broken: every flow ends signed in or with a typed
 * `AuthError` within the bound; no unhandled rejection; the heap after all flows is within 10 % of
 * the heap after 100; the properties hold; and at the end no timer or socket is left, so the process
 * exits on its own (it never calls `process.exit` on success).
 *
 * Environment: SOAK_FLOWS (1 000), SOAK_PROPERTY_RUNS (10 000), SOAK_MODEL_SECONDS (120, per provider).
 * Run with `--expose-gc` (the npm script does) so heap figures are measured after a collection.
 */
import fc from 'fast-check';
import { anyAnswerProperty, startAnyAnswer } from '../test/properties/anyAnswer.js';
import { sessionModelProperty } from '../test/properties/sessionModel.js';
import { type SoakResult, soakMarketiger, soakMrkter, summaryLine } from './soak/flows.js';

const FLOWS = Number(process.env['SOAK_FLOWS'] ?? 1_000);
const PROPERTY_RUNS = Number(process.env['SOAK_PROPERTY_RUNS'] ?? 10_000);
const MODEL_SECONDS = Number(process.env['SOAK_MODEL_SECONDS'] ?? 120);
const HEAP_SAMPLE_AT = 100;

const problems: string[] = [];
let unhandled = 0;
process.on('unhandledRejection', (reason) => {
  unhandled++;
  // The reason's name only: a rejection reason could carry anything.
  problems.push(`unhandled rejection: ${(reason as { name?: unknown })?.name ?? typeof reason}`);
});

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('soak: run with --expose-gc for heap figures measured after a collection');

/** Heap used in MiB after a full collection (when available). */
function heapMiB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function soak(run: typeof soakMarketiger): Promise<void> {
  let heapAt100: number | undefined;
  const unhandledBefore = unhandled;
  const result: SoakResult = await run({
    flows: FLOWS,
    concurrency: 8,
    faultProbability: 0.1,
    timeoutMs: 300,
    flowBoundMs: 15_000,
    onFlowDone(done) {
      if (done === HEAP_SAMPLE_AT) heapAt100 = heapMiB();
    },
  });
  // Let the last sockets close before the final sample.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const heapAtEnd = heapMiB();
  const growth = heapAt100 === undefined ? 0 : (heapAtEnd - heapAt100) / heapAt100;
  const heap =
    heapAt100 === undefined
      ? ''
      : `; heap ${heapAt100.toFixed(1)} MiB after ${HEAP_SAMPLE_AT} vs ${heapAtEnd.toFixed(1)} MiB after ${result.flows} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %)`;
  console.log(summaryLine(result, `; unhandled rejections ${unhandled - unhandledBefore}${heap}`));
  for (const violation of result.violations.slice(0, 10)) problems.push(`${result.provider}: ${violation}`);
  if (result.violations.length > 10)
    problems.push(`${result.provider}: ${result.violations.length - 10} more violations`);
  if (gc && growth > 0.1)
    problems.push(`${result.provider}: heap grew ${(growth * 100).toFixed(1)} % from flow 100 to ${FLOWS}`);
}

async function properties(): Promise<void> {
  const server = await startAnyAnswer();
  try {
    const started = Date.now();
    const details = await fc.check(anyAnswerProperty(server.check), { numRuns: PROPERTY_RUNS });
    console.log(
      `property any-answer: ${details.numRuns} runs in ${((Date.now() - started) / 1000).toFixed(1)} s, ${details.failed ? 'FAILED' : 'held'}`,
    );
    if (details.failed)
      problems.push(
        `any-answer: ${String(details.errorInstance)} on ${fc.stringify(details.counterexample)}`,
      );
  } finally {
    await server.close();
  }
  for (const provider of ['marketiger', 'mrkter'] as const) {
    const started = Date.now();
    const details = await fc.check(sessionModelProperty(provider, 15), {
      numRuns: 1_000_000,
      interruptAfterTimeLimit: MODEL_SECONDS * 1000,
      markInterruptAsFailure: false,
    });
    console.log(
      `property session-model ${provider}: ${details.numRuns} runs (up to 15 commands each) in ${((Date.now() - started) / 1000).toFixed(1)} s, ${details.failed ? 'FAILED' : 'held'}`,
    );
    if (details.failed) {
      problems.push(
        `session-model ${provider}: ${String(details.errorInstance)} on ${fc.stringify(details.counterexample)}`,
      );
    }
  }
}

async function main(): Promise<void> {
  await soak(soakMarketiger);
  await soak(soakMrkter);
  await properties();
  // Give closing sockets a tick, then look for anything that would keep the process alive.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const left = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
  console.log(`active resources at the end: ${left.length === 0 ? 'none' : left.join(', ')}`);
  if (left.length > 0) problems.push(`resources left: ${left.join(', ')}`);
  if (problems.length > 0) {
    for (const problem of problems) console.error(`soak: ${problem}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error('soak: crashed:', error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
