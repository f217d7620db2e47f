/**
 * Benchmark 5, bundle size: the built root entry bundled with esbuild for the browser, minified and
 * gzipped, with xstate and axios external (an app has them anyway) and with everything included; and
 * oidc-client-ts and @supabase/auth-js bundled the same way, from entries that import their main class.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleResult {
  /** What was bundled as "authcharts": `dist/index.js`, or `src/index.ts` in quick mode without a fresh build. */
  entry: string;
  bundle_gzip_bytes: number;
  bundle_minified_bytes: number;
  /** authcharts with xstate, axios and jose all bundled in. */
  total_gzip_bytes: number;
  oidc_client_ts_gzip_bytes: number;
  supabase_auth_js_gzip_bytes: number;
  /**
   * The largest source modules of the authcharts bundle (xstate and axios external), minified bytes each:
   * from bundling `src/index.ts` the same way, since `dist/` merges modules into shared chunks.
   */
  largest_inputs: [string, number][];
}

interface Entry {
  file?: string;
  contents?: string;
  external?: string[];
}

async function gzippedSize(
  root: string,
  entry: Entry,
): Promise<{ minified: number; gzip: number; inputs: [string, number][] }> {
  const result = await build({
    ...(entry.file
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents ?? '', resolveDir: root, loader: 'js' } }),
    absWorkingDir: root,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: entry.external ?? [],
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const output = Object.values(result.metafile.outputs)[0];
  const inputs = Object.entries(output?.inputs ?? {})
    .map(([path, input]): [string, number] => [path, input.bytesInOutput])
    .sort((a, b) => b[1] - a[1]);
  return { minified: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, inputs };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    newest = Math.max(newest, name.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The entry to measure. A full run builds `dist/` when it is missing or older than `src/`, so the
 * figure is of the code as it is; quick mode never builds (it runs inside `npm test`) and falls back to
 * bundling `src/index.ts` directly, which esbuild compiles the same way.
 */
function rootEntry(root: string, allowBuild: boolean): string {
  const dist = join(root, 'dist', 'index.js');
  const fresh = existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(root, 'src'));
  if (fresh) return 'dist/index.js';
  if (!allowBuild) return 'src/index.ts';
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  return 'dist/index.js';
}

export async function benchBundle(root: string, options: { allowBuild: boolean }): Promise<BundleResult> {
  const entry = rootEntry(root, options.allowBuild);
  const ours = await gzippedSize(root, { file: entry, external: ['xstate', 'axios'] });
  const bySource = await gzippedSize(root, { file: 'src/index.ts', external: ['xstate', 'axios'] });
  const total = await gzippedSize(root, { file: entry });
  const oidc = await gzippedSize(root, { contents: "export { UserManager } from 'oidc-client-ts';" });
  const supabase = await gzippedSize(root, { contents: "export { GoTrueClient } from '@supabase/auth-js';" });
  return {
    entry,
    bundle_gzip_bytes: ours.gzip,
    bundle_minified_bytes: ours.minified,
    total_gzip_bytes: total.gzip,
    oidc_client_ts_gzip_bytes: oidc.gzip,
    supabase_auth_js_gzip_bytes: supabase.gzip,
    largest_inputs: bySource.inputs.slice(0, 10),
  };
}
