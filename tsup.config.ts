import { mkdir, writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

/**
 * Three builds of one source tree (`npm run build` empties `dist/` first: the builds run at once).
 *
 * - ESM, one file per source module (`bundle: false`), the CLI included: with `"sideEffects": false`
 *   a bundler drops every module an app does not reach, so a Marketiger-only app carries no Mrkter
 *   machine, simulator or coordinator; and the CLI imports the library's own modules instead of
 *   bundling a second copy.
 * - CommonJS, also one file per module, in `dist/cjs/` (its own `package.json` says `"type": "commonjs"`,
 *   so the `.js` files and their `require('./errors.js')` stay as written): each class exists once, so an
 *   `AuthError` from `authcharts/testing` or `authcharts/redis` is `instanceof` the root's. (tsup's
 *   `splitting` for CommonJS renames classes: `AuthError.name` came out as `_class`.)
 * - Declarations for both formats (`.d.ts`, `.d.cts`), one file per entry plus shared chunks.
 *
 * No source maps: the ESM output is the TypeScript minus its types, module for module, readable as is.
 */
const entry = {
  index: 'src/index.ts',
  'testing/index': 'src/testing/index.ts',
  'redis/index': 'src/redis/index.ts',
};

export default defineConfig([
  {
    entry: ['src/**/*.ts', '!src/**/types.ts'],
    format: ['esm'],
    bundle: false,
    target: 'es2022',
  },
  {
    entry: ['src/**/*.ts', '!src/**/types.ts', '!src/cli/**'],
    format: ['cjs'],
    bundle: false,
    outDir: 'dist/cjs',
    outExtension: () => ({ js: '.js' }),
    target: 'es2022',
    async onSuccess() {
      await mkdir('dist/cjs', { recursive: true });
      await writeFile('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' })}\n`);
    },
  },
  {
    entry,
    format: ['esm', 'cjs'],
    dts: { only: true },
  },
]);
