/**
 * `npm run bench`: every benchmark (issues 7 and 16) one after the other in one process, then
 * bench/results.json and docs/benchmarks.md. The cold-start figures come from child processes.
 *
 *   npm run bench                      full sizes; writes bench/results.json and docs/benchmarks.md
 *   npm run bench -- --quick           small sizes (well under a minute); writes bench/results.quick.json
 *                                      only, so a quick run never replaces the committed full figures
 *   --out <file>  --docs <file>        other places to write to (--docs none: no report)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMarkdown } from '../scripts/formatMarkdown.js';
import { benchAuthLayer } from './authLayer.js';
import { benchBundle, ensureBuilt, loadableEntries } from './bundle.js';
import { fullSizes, quickSizes } from './common.js';
import { benchFleet } from './fleet.js';
import { benchFlows } from './flows.js';
import { benchImportTime } from './importTime.js';
import { benchPaths } from './paths.js';
import { benchPerRequest } from './perRequest.js';
import { renderReport } from './report.js';
import { type BenchResults, machineInfo, targetsOf } from './results.js';
import { benchStorm } from './storm.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv: string[]) {
  const quick = argv.includes('--quick');
  const flagValue = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const out = flagValue('--out') ?? join(root, 'bench', quick ? 'results.quick.json' : 'results.json');
  const docsArg = flagValue('--docs') ?? (quick ? 'none' : join(root, 'docs', 'benchmarks.md'));
  return { quick, out: resolve(out), docs: docsArg === 'none' ? null : resolve(docsArg) };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? quickSizes : fullSizes;
  const started = performance.now();
  const log = (line: string) =>
    console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}`);

  // Built first, so a full run measures the package as it is now; a quick run uses what is there.
  const built = ensureBuilt(root, !args.quick);
  log(`mode ${args.quick ? 'quick' : 'full'}: the auth layer on an adapter that answers at once`);
  const authLayer = await benchAuthLayer(sizes);
  log(`auth_layer_us ${authLayer.auth_layer_us}; per request over loopback`);
  const perRequest = await benchPerRequest(sizes);
  log(`overhead_ratio ${perRequest.overhead_ratio}; refresh storm`);
  const storm = await benchStorm(sizes);
  log(`storm: ${storm.authcharts.refreshes} refresh, ${storm.authcharts.successes} successes; flows`);
  const flows = await benchFlows(sizes);
  log(`flow_ratio ${JSON.stringify(flows.flow_ratio)}; fleet of ${sizes.fleetSize}`);
  const fleet = await benchFleet(sizes);
  log(`session_heap_bytes ${fleet.session_heap_bytes}; bundle`);
  const bundle = await benchBundle(root, { built });
  log(`bundle_gzip_bytes ${JSON.stringify(bundle.bundle_gzip_bytes)}; cold require and import`);
  const importTime = benchImportTime(root, await loadableEntries(root, built), sizes.importRuns);
  log(`import_ms ${JSON.stringify(importTime.import_ms)}; path generation`);
  const paths = await benchPaths(sizes.pathRounds);

  const results: BenchResults = {
    mode: args.quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    command: args.quick ? 'npm run bench -- --quick' : 'npm run bench',
    machine: machineInfo(),
    sizes,
    auth_layer_us: authLayer.auth_layer_us,
    overhead_ratio: perRequest.overhead_ratio,
    axios_auth_refresh_overhead_ratio: perRequest.axios_auth_refresh_overhead_ratio,
    storm: {
      burst: storm.burst,
      rounds: storm.rounds,
      refreshes: storm.authcharts.refreshes,
      successes: storm.authcharts.successes,
      ratio: storm.authcharts.ratio,
      median_ms: storm.authcharts.median_ms,
      per_round: storm.authcharts.per_round,
      axios_auth_refresh: storm.axios_auth_refresh,
      axios_auth_refresh_no_dedup: storm.axios_auth_refresh_no_dedup,
    },
    flow_ratio: flows.flow_ratio,
    session_heap_bytes: fleet.session_heap_bytes,
    refresh_spread_s: fleet.refresh_spread_s,
    bundle_gzip_bytes: bundle.bundle_gzip_bytes,
    import_ms: importTime.import_ms,
    path_generation_ms: paths.path_generation_ms,
    details: {
      auth_layer: authLayer,
      per_request: perRequest,
      flows,
      fleet,
      bundle,
      paths,
      import_time: importTime,
    },
    targets: [],
    duration_s: 0,
  };
  results.targets = targetsOf(results);
  results.duration_s = Math.round((performance.now() - started) / 100) / 10;

  writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${args.out}`);
  if (args.docs) {
    writeFileSync(
      args.docs,
      formatMarkdown('docs/benchmarks.md', keepSections(args.docs, renderReport(results))),
    );
    log(`wrote ${args.docs}`);
  }
  for (const t of results.targets)
    log(`${t.met === null ? '      ' : t.met ? 'met   ' : 'MISSED'} ${t.key} = ${t.value} (${t.target})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * The report with the sections other scripts keep in the same page (between `<!-- name:start -->` and
 * `<!-- name:end -->` markers, e.g. bench/coordination.ts's) carried over from the page on disk.
 */
function keepSections(path: string, report: string): string {
  if (!existsSync(path)) return report;
  const kept = readFileSync(path, 'utf8').match(/<!-- (\w+):start -->[\s\S]*?<!-- \1:end -->/g) ?? [];
  return kept.length === 0 ? report : `${report.trimEnd()}\n\n${kept.join('\n\n')}\n`;
}
