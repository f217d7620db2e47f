/**
 * Where the time of a sign-in goes: CPU profiles of the flow benchmark's two variants (through the
 * machine, and the same HTTP calls straight-line), taken in alternating blocks in one process so both
 * see the same machine, then summed by who ran (the profile's self time of each sample, grouped by
 * the file it was in). The difference between the two columns is what the machine's side costs, and
 * where. A profile counts time wherever it went, so the figures are useful on a busy machine too: a
 * group's share does not depend on how fast the core is.
 *
 *   npx tsx bench/profileFlows.ts [marketiger|mrkter] [--blocks 12] [--flows 25] [--functions text] [--interval 250] [--out dir]
 *
 * `--functions xstate` also lists the functions with the most self time in the groups whose name holds
 * the text, for the machine variant.
 * `--out` also writes one `.cpuprofile` per variant (open it in Chrome DevTools, Performance tab).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMarketigerSimulator } from '../src/testing/marketigerSimulator.js';
import { startMrkterSimulator } from '../src/testing/mrkterSimulator.js';
import { keepAliveAgent } from './common.js';
import { type FlowVariants, marketigerFlowsOn, mrkterFlowsOn } from './flows.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Who a sample's function belongs to. */
export function groupOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return 'idle (waiting for I/O)';
    return 'V8 and Node internals (native)';
  }
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (dependency) return dependency === 'jose' ? 'jose (simulator JWTs)' : dependency;
  if (url.includes('/src/testing/')) return 'simulator (src/testing)';
  const own = /\/src\/(.+?)\.[cm]?[jt]s$/.exec(url)?.[1];
  if (own) return `authcharts: src/${own.replace(/\/[^/]+$/, '') || own}`;
  if (url.startsWith('node:internal/crypto') || url.startsWith('node:crypto')) return 'node crypto';
  if (/^node:(_http|http|net|internal\/(streams|stream_base|net|http))/.test(url))
    return 'node http, net, streams';
  if (url.includes('/bench/')) return 'benchmark harness';
  if (url.startsWith('node:')) return 'node (other)';
  return 'other';
}

/**
 * Microseconds of self time per group over every profile, divided by `flows`; with `functions`, per
 * function (`name file`) of the groups whose name holds that text instead.
 */
function perFlow(profiles: Profile[], flows: number, functions?: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, i) => {
      const node = byId.get(id);
      if (!node) return;
      const { url, functionName } = node.callFrame;
      const group = groupOf(url, functionName);
      if (functions !== undefined && !group.includes(functions)) return;
      const key =
        functions === undefined
          ? group
          : `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|src)\//, '$1/')}`;
      totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
  }
  for (const [key, us] of totals) totals.set(key, us / flows);
  return totals;
}

function argValue(argv: string[], flag: string, fallback: string): string {
  const at = argv.indexOf(flag);
  return at >= 0 ? (argv[at + 1] ?? fallback) : fallback;
}

async function main() {
  const argv = process.argv.slice(2);
  const provider = argv[0] === 'mrkter' ? 'mrkter' : 'marketiger';
  const blocks = Number(argValue(argv, '--blocks', '12'));
  const flows = Number(argValue(argv, '--flows', '25'));
  const out = argv.includes('--out') ? resolve(argValue(argv, '--out', '.')) : undefined;
  const functions = argv.includes('--functions') ? argValue(argv, '--functions', '') : undefined;
  // A sample every 250 µs: finer sampling costs the profiled code more than it adds.
  const interval = Number(argValue(argv, '--interval', '250'));

  const agent = keepAliveAgent();
  const sim =
    provider === 'mrkter'
      ? await startMrkterSimulator({ smsCooldownMs: 0 })
      : await startMarketigerSimulator();
  const variants: FlowVariants =
    provider === 'mrkter'
      ? mrkterFlowsOn(sim as Awaited<ReturnType<typeof startMrkterSimulator>>, agent)
      : marketigerFlowsOn(sim as Awaited<ReturnType<typeof startMarketigerSimulator>>, agent);
  const names = ['throughMachine', 'straight'] as const;
  const session = new Session();
  session.connect();
  try {
    // Warm-up: both paths optimised before anything is recorded.
    for (let i = 0; i < 50; i++) for (const name of names) await variants[name]();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval });
    const profiles: Record<(typeof names)[number], Profile[]> = { throughMachine: [], straight: [] };
    for (let block = 0; block < blocks; block++) {
      for (const name of block % 2 ? [...names].reverse() : names) {
        await session.post('Profiler.start');
        for (let i = 0; i < flows; i++) await variants[name]();
        const { profile } = await session.post('Profiler.stop');
        profiles[name].push(profile as Profile);
      }
    }
    const count = blocks * flows;
    const machine = perFlow(profiles.throughMachine, count);
    const straight = perFlow(profiles.straight, count);
    const groups = [...new Set([...machine.keys(), ...straight.keys()])]
      .filter((group) => !group.startsWith('idle'))
      .sort(
        (a, b) =>
          (machine.get(b) ?? 0) - (straight.get(b) ?? 0) - ((machine.get(a) ?? 0) - (straight.get(a) ?? 0)),
      );
    const total = (m: Map<string, number>) =>
      [...m].filter(([group]) => !group.startsWith('idle')).reduce((sum, [, us]) => sum + us, 0);
    console.log(
      `${provider}: ${count} sign-ins per variant, CPU µs per sign-in (sampled, self time by group)\n`,
    );
    console.log(
      `${'group'.padEnd(40)} ${'machine'.padStart(9)} ${'straight'.padStart(9)} ${'difference'.padStart(11)}`,
    );
    for (const group of groups) {
      const a = machine.get(group) ?? 0;
      const b = straight.get(group) ?? 0;
      console.log(
        `${group.padEnd(40)} ${a.toFixed(0).padStart(9)} ${b.toFixed(0).padStart(9)} ${(a - b).toFixed(0).padStart(11)}`,
      );
    }
    const a = total(machine);
    const b = total(straight);
    console.log(
      `${'all but idle'.padEnd(40)} ${a.toFixed(0).padStart(9)} ${b.toFixed(0).padStart(9)} ${(a - b).toFixed(0).padStart(11)}`,
    );
    if (functions !== undefined) {
      console.log(`\nfunctions of "${functions}" by self time, machine variant (µs per sign-in)\n`);
      const top = [...perFlow(profiles.throughMachine, count, functions)].sort((x, y) => y[1] - x[1]);
      for (const [key, us] of top.slice(0, 25)) console.log(`${us.toFixed(1).padStart(8)}  ${key}`);
    }
    if (out) {
      mkdirSync(out, { recursive: true });
      for (const name of names) {
        // The first block's profile of each variant: enough to browse the call tree in DevTools.
        writeFileSync(join(out, `${provider}-${name}.cpuprofile`), JSON.stringify(profiles[name][0]));
      }
    }
  } finally {
    session.disconnect();
    agent.destroy();
    await sim.close();
  }
}

// Run as a script; imported (for `groupOf`), it does nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
