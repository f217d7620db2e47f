/**
 * Every TypeScript, TSX and JavaScript code block of README.md and docs/ (docs/api excluded), compiled
 * against the built package as an app installs it, and the runnable ones run. Used by
 * `npm run test:package` in its scratch project (the tarball installed), so new blocks are picked up
 * by themselves.
 *
 * A block compiles as one module on its own (strict, `skipLibCheck: false`, `moduleResolution:
 * bundler`, DOM and Node types). What a block leaves out on purpose is written in an HTML comment right
 * above its fence, invisible on GitHub and npm; nothing else is added:
 *
 *     <!-- snippet run
 *     import { MARKETIGER_DEMO_USER } from 'authcharts/testing';
 *     const { email, password } = MARKETIGER_DEMO_USER;
 *     ---
 *     code run after the block (optional)
 *     -->
 *
 * The first line's words are flags: `run` runs the block (after it compiled) in Node against both
 * simulators, with `createMarketigerApi()` and `createMrkterApi()` defaulting to the simulators'
 * URLs instead of the vendors' (the one thing the run changes); without `run` the block is only
 * compiled. A block with no comment must compile as written.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
  /** e.g. `README.md:170` (the fence's line). */
  where: string;
  file: string;
  run: boolean;
}

const LANGS: Record<string, 'ts' | 'tsx'> = {
  ts: 'ts',
  typescript: 'ts',
  tsx: 'tsx',
  js: 'ts',
  javascript: 'ts',
  mjs: 'ts',
  jsx: 'tsx',
};

function markdownFiles(repo: string): string[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repo, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && path !== join('docs', 'api')) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files;
}

/** Writes one module per block into `outDir`; returns them. */
export function extractSnippets(repo: string, outDir: string): Snippet[] {
  mkdirSync(outDir, { recursive: true });
  const snippets: Snippet[] = [];
  for (const doc of markdownFiles(repo)) {
    const lines = readFileSync(join(repo, doc), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\w+)\s*$/.exec(lines[i] ?? '');
      if (!open) continue;
      const end = lines.findIndex((line, j) => j > i && /^```\s*$/.test(line));
      if (end < 0) throw new Error(`${doc}:${i + 1}: unclosed code block`);
      const lang = LANGS[open[1] ?? ''];
      const body = lines.slice(i + 1, end).join('\n');
      const marker = markerAbove(lines, i);
      const startLine = i + 1;
      i = end;
      if (!lang) continue;
      const name = `${doc.replace(/[/\\.]/g, '_')}_${startLine}.${lang}`;
      const source = [
        `// ${doc}:${startLine}`,
        '// --- elided (from the comment above the block)',
        marker.before,
        '// --- the block',
        body,
        '// --- after',
        marker.after,
        'export {};',
        '',
      ].join('\n');
      writeFileSync(join(outDir, name), source);
      snippets.push({ where: `${doc}:${startLine}`, file: name, run: marker.flags.includes('run') });
    }
  }
  return snippets;
}

/** The `<!-- snippet ... -->` comment that ends on the line above the fence (blank lines allowed). */
function markerAbove(lines: string[], fence: number): { flags: string[]; before: string; after: string } {
  let j = fence - 1;
  while (j >= 0 && (lines[j] ?? '').trim() === '') j--;
  if (j < 0 || !(lines[j] ?? '').trim().endsWith('-->')) return { flags: [], before: '', after: '' };
  let k = j;
  while (k >= 0 && !(lines[k] ?? '').includes('<!--')) k--;
  const comment = lines.slice(k, j + 1).join('\n');
  const match = /<!--\s*snippet\b([^\n]*)\n?([\s\S]*?)-->/.exec(comment);
  if (!match) return { flags: [], before: '', after: '' };
  const [before = '', after = ''] = (match[2] ?? '').split(/^---\s*$/m);
  return { flags: (match[1] ?? '').trim().split(/\s+/).filter(Boolean), before, after };
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: ['node'],
    jsx: 'react-jsx',
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    skipLibCheck: false,
    noEmit: true,
  },
  include: ['*.ts', '*.tsx'],
};

/** The run harness: both simulators up, the services' defaults pointed at them, then the block. */
const HARNESS = `
import { MARKETIGER_DEMO_USER, startMarketigerSimulator, startMrkterSimulator } from 'authcharts/testing';
const marketiger = await startMarketigerSimulator({
  users: [{ ...MARKETIGER_DEMO_USER, projects: [...MARKETIGER_DEMO_USER.projects, 'my-project'] }],
});
const mrkter = await startMrkterSimulator();
globalThis.__snippetSimulators = { marketiger, mrkter };
const limit = setTimeout(() => {
  console.error('the block did not finish within 15 s');
  process.exit(1);
}, 15_000);
try {
  await import(process.argv[2]);
} finally {
  clearTimeout(limit);
  await marketiger.close();
  await mrkter.close();
}
process.exit(0);
`;

const SHIM = `
export * from 'authcharts';
import { createMarketigerApi as marketigerApi, createMrkterApi as mrkterApi } from 'authcharts';
const sims = globalThis.__snippetSimulators;
export function createMarketigerApi(options = {}) {
  return marketigerApi({ baseURL: sims.marketiger.baseURL, ...options });
}
export function createMrkterApi(options = {}) {
  return mrkterApi({ authBaseURL: sims.mrkter.authUrl, apiBaseURL: sims.mrkter.apiUrl, ...options });
}
`;

/**
 * Compiles every block (one `tsc` program, each block its own module) and runs the runnable ones.
 * `work` is a project with the tarball installed; returns the number of failures.
 */
export async function checkSnippets(repo: string, work: string): Promise<number> {
  const dir = join(work, 'snippets');
  const snippets = extractSnippets(repo, dir);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(dir, 'package.json'), '{"private":true,"type":"module"}\n');
  let failures = 0;
  const tsc = spawnSync(
    process.execPath,
    [join(work, 'node_modules/.bin/tsc'), '-p', '.', '--pretty', 'false'],
    {
      // Errors then name the block's file as extracted (`README_md_176.ts(3,1): ...`).
      cwd: dir,
      encoding: 'utf8',
    },
  );
  const errors = `${tsc.stdout}${tsc.stderr}`.trim();
  for (const snippet of snippets) {
    const own = errors.split('\n').filter((line) => line.startsWith(snippet.file));
    if (own.length) failures++;
    console.log(`${own.length ? '✘' : '✔'} ${snippet.where} compiles${snippet.run ? '' : ' (not run)'}`);
    for (const line of own) console.log(`    ${line}`);
  }
  if (tsc.status !== 0 && failures === 0) {
    failures++;
    console.log(`✘ tsc failed outside the blocks:\n${errors}`);
  }

  const runnable = snippets.filter((s) => s.run);
  if (runnable.length === 0) return failures;
  const { build } = (await import(
    join(work, 'node_modules/esbuild/lib/main.js')
  )) as typeof import('esbuild');
  writeFileSync(join(dir, 'harness.mjs'), HARNESS);
  writeFileSync(join(dir, 'shim.mjs'), SHIM);
  for (const snippet of runnable) {
    const out = join(dir, `${snippet.file}.mjs`);
    await build({
      entryPoints: [join(dir, snippet.file)],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      plugins: [
        {
          name: 'services-default-to-the-simulators',
          setup(b) {
            b.onResolve({ filter: /^authcharts$/ }, (args) =>
              args.importer.endsWith('shim.mjs')
                ? { path: 'authcharts', external: true }
                : { path: join(dir, 'shim.mjs') },
            );
            b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
          },
        },
      ],
    });
    const result = spawnSync(process.execPath, [join(dir, 'harness.mjs'), out], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const ok = result.status === 0;
    if (!ok) failures++;
    console.log(`${ok ? '✔' : '✘'} ${snippet.where} runs against the simulators`);
    if (!ok) console.log(`${result.stdout}${result.stderr}`.replace(/^/gm, '    '));
  }
  console.log(`${snippets.length} blocks compiled from README.md and docs/, ${runnable.length} run`);
  return failures;
}
