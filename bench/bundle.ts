/**
 * Benchmark 5, bytes: what each use case of the built package adds to an app, bundled by esbuild for the
 * browser (ESM, minified, es2022) and gzipped at level 9, with xstate and axios external (an app has them
 * anyway: they are peer dependencies). Use cases: Marketiger only and Mrkter only (the imports of
 * DESIGN.md's typical use: the machine, its actors, its service and the authorized client), and
 * everything the root entry exports. The figure is what loads at start: a part the package loads on
 * first use (`import()`: the debug log with its redaction, the coordinated refresh) becomes a chunk of
 * its own in an app's bundle, fetched only when used; each such part is bundled on its own (with what it
 * imports) and listed beside the figure. Also bundled the same way for scale: authcharts with
 * everything included, oidc-client-ts and @supabase/auth-js.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';

export type UseCase = 'marketiger' | 'mrkter' | 'all';

export interface UseCaseBundle {
  /** The imports bundled. */
  imports: string;
  /** Gzipped bytes loaded at start: everything but what the package loads on first use (`import()`). */
  gzip_bytes: number;
  minified_bytes: number;
  /** Gzipped bytes of each part loaded on first use (`import()`), bundled on its own with what it imports. */
  lazy_gzip_bytes: [string, number][];
  /** The five largest inputs of what loads at start, minified bytes each. */
  largest_inputs: [string, number][];
}

export interface BundleResult {
  /** What was bundled as authcharts: `dist/index.js`, or `src/index.ts` in a quick run without a build. */
  entry: string;
  bundle_gzip_bytes: Record<UseCase, number>;
  use_cases: Record<UseCase, UseCaseBundle>;
  /** authcharts (everything) with xstate and axios bundled in. */
  total_gzip_bytes: number;
  oidc_client_ts_gzip_bytes: number;
  supabase_auth_js_gzip_bytes: number;
}

/** The root entry's imports each use case makes. */
export const useCaseImports: Record<UseCase, string> = {
  marketiger: '{ createAuthorizedAxios, createMarketigerApi, marketigerActors, marketigerMachine }',
  mrkter: '{ createAuthorizedAxios, createMrkterApi, mrkterActors, mrkterMachine }',
  all: '*',
};

interface Measured {
  gzip: number;
  minified: number;
  lazy: [string, number][];
  inputs: [string, number][];
}

const bundleOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  logLevel: 'silent',
  metafile: true,
} as const satisfies BuildOptions;

/**
 * Bundles `contents` (an ES module that re-exports) and measures what loads at start; then each module
 * it loads on first use (`import()`), bundled on its own with what it imports.
 */
async function measure(root: string, contents: string, external: string[]): Promise<Measured> {
  const lazyModules = new Set<string>();
  const result = await build({
    ...bundleOptions,
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'use-case.ts' },
    absWorkingDir: root,
    external,
    plugins: [
      {
        name: 'lazy-parts-apart',
        setup(plugin) {
          // What the package loads with `import()` is fetched when first used, not at start.
          plugin.onResolve({ filter: /.*/ }, async (args) => {
            if (args.kind !== 'dynamic-import') return undefined;
            const resolved = await plugin.resolve(args.path, {
              kind: 'import-statement',
              resolveDir: args.resolveDir,
            });
            lazyModules.add(resolved.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const output = Object.values(result.metafile.outputs)[0];
  const inputs = Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path, input]): [string, number] => [path, input.bytesInOutput])
    .sort((a, b) => b[1] - a[1]);
  const lazy: [string, number][] = [];
  for (const path of lazyModules) {
    const part = await build({ ...bundleOptions, entryPoints: [path], absWorkingDir: root, external });
    const bytes = gzipSync(part.outputFiles[0]?.contents ?? new Uint8Array(), { level: 9 }).byteLength;
    lazy.push([path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path, bytes]);
  }
  return {
    gzip: gzipSync(code, { level: 9 }).byteLength,
    minified: code.byteLength,
    lazy: lazy.sort((x, y) => y[1] - x[1]),
    inputs,
  };
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
 * Makes sure `dist/` is the code as it is. A full run builds it when it is missing or older than
 * `src/`; a quick run never builds (it runs inside `npm test`) and says whether `dist/` is there at all.
 */
export function ensureBuilt(root: string, allowBuild: boolean): boolean {
  const dist = join(root, 'dist', 'index.js');
  const fresh = existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(root, 'src'));
  if (fresh) return true;
  if (!allowBuild) return existsSync(dist) && existsSync(join(root, 'dist', 'cjs', 'index.js'));
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  return true;
}

export async function benchBundle(root: string, options: { built: boolean }): Promise<BundleResult> {
  // Without a build (a quick run on a fresh checkout) the source is bundled instead: esbuild compiles it
  // the same way, so the harness still runs; the figures of record come from `dist/`.
  const entry = options.built ? 'dist/index.js' : 'src/index.ts';
  const use_cases = {} as Record<UseCase, UseCaseBundle>;
  for (const [name, imports] of Object.entries(useCaseImports) as [UseCase, string][]) {
    const contents = `export ${imports} from './${entry}';`;
    const measured = await measure(root, contents, ['xstate', 'axios']);
    use_cases[name] = {
      imports,
      gzip_bytes: measured.gzip,
      minified_bytes: measured.minified,
      lazy_gzip_bytes: measured.lazy,
      largest_inputs: measured.inputs.slice(0, Number(process.env.BENCH_INPUTS ?? 5)),
    };
  }
  const total = await measure(root, `export * from './${entry}';`, []);
  const oidc = await measure(root, "export { UserManager } from 'oidc-client-ts';", []);
  const supabase = await measure(root, "export { GoTrueClient } from '@supabase/auth-js';", []);
  return {
    entry,
    bundle_gzip_bytes: {
      marketiger: use_cases.marketiger.gzip_bytes,
      mrkter: use_cases.mrkter.gzip_bytes,
      all: use_cases.all.gzip_bytes,
    },
    use_cases,
    total_gzip_bytes: total.gzip,
    oidc_client_ts_gzip_bytes: oidc.gzip,
    supabase_auth_js_gzip_bytes: supabase.gzip,
  };
}

/**
 * The files to time a cold load of: the built package, or (a quick run without a build) a bundle of
 * `src/` made now, in the package's own node_modules so that it finds axios and xstate.
 */
export async function loadableEntries(
  root: string,
  built: boolean,
): Promise<{ require: string; import: string }> {
  if (built) return { require: join(root, 'dist/cjs/index.js'), import: join(root, 'dist/index.js') };
  const dir = join(root, 'node_modules', '.cache', 'authcharts-bench');
  mkdirSync(dir, { recursive: true });
  const common: BuildOptions = {
    entryPoints: [join(root, 'src/index.ts')],
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'es2022',
    logLevel: 'silent',
  };
  await build({ ...common, format: 'cjs', outfile: join(dir, 'index.cjs') });
  await build({ ...common, format: 'esm', outfile: join(dir, 'index.mjs') });
  return { require: join(dir, 'index.cjs'), import: join(dir, 'index.mjs') };
}
