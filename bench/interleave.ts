/**
 * What a piece of CPU work costs inside the flow benchmark, against what it costs alone. Variants, in
 * interleaved blocks: the straight-line sign-in; the same preceded by a neutral CPU task (JSON
 * round-trips until `--work` µs of CPU are spent, so the task itself cannot take longer); the neutral
 * task alone; and the machine's sign-in. The figures are CPU µs per sign-in of the whole process
 * (client and simulator), medians over blocks.
 *
 *   npx tsx bench/interleave.ts [marketiger|mrkter] [--work 300] [--blocks 30] [--flows 20]
 *
 * If `straight + task` costs more than `straight` plus `task alone`, work on the path of a sign-in costs
 * more there than in a loop of its own, whatever the work is.
 */
import { startMarketigerSimulator } from '../src/testing/marketigerSimulator.js';
import { startMrkterSimulator } from '../src/testing/mrkterSimulator.js';
import { keepAliveAgent } from './common.js';
import { type FlowVariants, marketigerFlowsOn, mrkterFlowsOn } from './flows.js';
import { median } from './rounds.js';

function argValue(argv: string[], flag: string, fallback: string): string {
  const at = argv.indexOf(flag);
  return at >= 0 ? (argv[at + 1] ?? fallback) : fallback;
}

/** Spends `us` µs of CPU on JSON round-trips. */
function neutralTask(us: number): void {
  const start = process.cpuUsage();
  const sample = { id: 1, name: 'sample', tags: ['a', 'b', 'c'], nested: { value: 4.2 } };
  let sink = 0;
  for (;;) {
    for (let i = 0; i < 50; i++) sink += JSON.stringify(JSON.parse(JSON.stringify(sample))).length;
    const used = process.cpuUsage(start);
    if (used.user + used.system >= us) break;
  }
  if (sink < 0) console.log(sink);
}

async function main() {
  const argv = process.argv.slice(2);
  const provider = argv[0] === 'mrkter' ? 'mrkter' : 'marketiger';
  const work = Number(argValue(argv, '--work', '300'));
  const blocks = Number(argValue(argv, '--blocks', '30'));
  const flows = Number(argValue(argv, '--flows', '20'));
  const agent = keepAliveAgent();
  const sim =
    provider === 'mrkter'
      ? await startMrkterSimulator({ smsCooldownMs: 0 })
      : await startMarketigerSimulator();
  const flow: FlowVariants =
    provider === 'mrkter'
      ? mrkterFlowsOn(sim as Awaited<ReturnType<typeof startMrkterSimulator>>, agent)
      : marketigerFlowsOn(sim as Awaited<ReturnType<typeof startMarketigerSimulator>>, agent);
  const variants: Record<string, () => Promise<void>> = {
    straight: flow.straight,
    'straight + task': async () => {
      neutralTask(work);
      await flow.straight();
    },
    'task alone': async () => neutralTask(work),
    machine: flow.throughMachine,
  };
  const names = Object.keys(variants);
  try {
    for (let i = 0; i < 30; i++) for (const name of names) await variants[name]!();
    const cpu = Object.fromEntries(names.map((name) => [name, [] as number[]]));
    for (let block = 0; block < blocks; block++) {
      const shift = block % names.length;
      for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
        const before = process.cpuUsage();
        for (let i = 0; i < flows; i++) await variants[name]!();
        const used = process.cpuUsage(before);
        cpu[name]!.push((used.user + used.system) / flows);
      }
    }
    const us = Object.fromEntries(names.map((name) => [name, median(cpu[name]!)]));
    console.log(`${provider}: CPU µs per sign-in, median of ${blocks} blocks of ${flows}\n`);
    for (const name of names) console.log(`${name.padEnd(16)} ${us[name]!.toFixed(0).padStart(7)}`);
    const extra = us['straight + task']! - us.straight!;
    console.log(
      `\nthe task costs ${us['task alone']!.toFixed(0)} µs alone and adds ${extra.toFixed(0)} µs to a sign-in (${(extra / us['task alone']!).toFixed(1)}×); the machine adds ${(us.machine! - us.straight!).toFixed(0)} µs`,
    );
  } finally {
    agent.destroy();
    await sim.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
