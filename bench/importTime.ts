/**
 * Benchmark 7, cold start: how long a fresh Node process takes to `require` and to `import` the built
 * package, next to axios alone (which authcharts loads too, with xstate). Each measurement is a new
 * process that times the one call with `performance.now()`; variants alternate and the median is
 * reported.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median, round } from './rounds.js';

export interface ImportTimeResult {
  /** What was loaded as authcharts: the built package (`dist/`), or a bundle of `src/` made for a quick run. */
  entry: { require: string; import: string };
  runs: number;
  /** Median ms of a cold `require` / `import()` of authcharts (xstate, axios and its own dependencies included). */
  import_ms: { require: number; import: number };
  /** The same for axios alone. */
  axios_ms: { require: number; import: number };
}

/** Milliseconds a new Node process takes for one `require` or `import()` of `specifier`. */
function coldLoad(kind: 'require' | 'import', specifier: string, cwd: string): number {
  const call =
    kind === 'require'
      ? `require(${JSON.stringify(specifier)})`
      : `await import(${JSON.stringify(specifier)})`;
  const script = `const t = performance.now(); ${call}; process.stdout.write(String(performance.now() - t));`;
  const args = kind === 'require' ? ['-e', script] : ['--input-type=module', '-e', script];
  return Number(execFileSync(process.execPath, args, { cwd, encoding: 'utf8' }));
}

/**
 * `entries` are the files to load as authcharts (absolute paths), `root` the directory whose
 * node_modules provide axios.
 */
export function benchImportTime(
  root: string,
  entries: { require: string; import: string },
  runs: number,
): ImportTimeResult {
  const variants = {
    require: () => coldLoad('require', entries.require, root),
    import: () => coldLoad('import', `file://${entries.import}`, root),
    axiosRequire: () => coldLoad('require', 'axios', root),
    axiosImport: () => coldLoad('import', 'axios', root),
  };
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
    keyof typeof variants,
    number[]
  >;
  // One uncounted round warms the file system cache, as on a machine that has run the app before.
  for (let r = 0; r <= runs; r++) {
    const shift = r % names.length;
    for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
      const ms = variants[name]();
      if (r > 0) samples[name].push(ms);
    }
  }
  const ms = (name: keyof typeof variants) => round(median(samples[name]), 1);
  return {
    entry: { require: relative(root, entries.require), import: relative(root, entries.import) },
    runs,
    import_ms: { require: ms('require'), import: ms('import') },
    axios_ms: { require: ms('axiosRequire'), import: ms('axiosImport') },
  };
}

function relative(root: string, path: string): string {
  return path.startsWith(join(root, '/')) ? path.slice(root.length + 1) : path;
}
