/**
 * Interleaved rounds: every variant runs once per round, in a rotated order (A B C, B C A, C A B, ...),
 * so that noise from other processes on a shared machine and drift over the run (JIT, GC, sockets)
 * fall on all variants alike. Ratios are taken per round (variant / baseline of the same round) and
 * then their median is reported: a paired ratio cancels the slow spells that hit both.
 */

/** One variant of a comparison: `run` does one round's work and resolves when it is done. */
export type Variant = () => Promise<void>;

export interface RoundsResult<K extends string> {
  /** Milliseconds per round, per variant (warm-up rounds excluded). */
  samples: Record<K, number[]>;
  /**
   * CPU milliseconds of the process per round, per variant: client and simulator alike. On a machine
   * shared with other work, wall time also counts the slices other processes took; CPU time does not.
   */
  cpu: Record<K, number[]>;
  /** Median milliseconds per round, per variant. */
  medians: Record<K, number>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs `warmup` uncounted rounds, then `rounds` counted ones; a round's time for a variant is its wall
 * time. Each round is `turns` turns (default 1), and in each turn every variant runs once, in an order
 * rotated turn by turn; a round's sample is the sum of its turns. Many short turns put every variant
 * in the same moments of a round, so a slow spell of the machine (another process, a CPU's frequency)
 * falls on all alike instead of on the one variant that was running.
 */
export async function interleavedRounds<K extends string>(
  variants: Record<K, Variant>,
  options: { rounds: number; warmup: number; turns?: number },
): Promise<RoundsResult<K>> {
  const turns = options.turns ?? 1;
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  const cpu = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    const wall = Object.fromEntries(names.map((name) => [name, 0])) as Record<K, number>;
    const used = Object.fromEntries(names.map((name) => [name, 0])) as Record<K, number>;
    for (let turn = 0; turn < turns; turn++) {
      const shift = (round * turns + turn) % names.length;
      for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        await variants[name]();
        const cpuUsed = process.cpuUsage(cpuBefore);
        wall[name] += performance.now() - started;
        used[name] += (cpuUsed.user + cpuUsed.system) / 1000;
      }
    }
    if (round >= options.warmup) {
      for (const name of names) {
        samples[name].push(wall[name]);
        cpu[name].push(used[name]);
      }
    }
  }
  const medians = Object.fromEntries(names.map((name) => [name, median(samples[name])])) as Record<K, number>;
  return { samples, cpu, medians };
}

/** How many turns of `block` units make a round of about `units` (at least one). */
export function turnsFor(units: number, block: number): number {
  return Math.max(1, Math.round(units / block));
}

/** The median over rounds of `samples[a][i] / samples[b][i]`: a ratio paired round by round. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) ratios.push(a[i]! / b[i]!);
  return median(ratios);
}

/** Rounds a figure for the report: enough digits to compare, not more than the noise allows. */
export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Runs `task` for 0..count-1 with at most `limit` in flight. */
export async function pool(count: number, limit: number, task: (index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
