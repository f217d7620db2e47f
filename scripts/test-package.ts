/**
 * `npm run test:package`: the package as users install it. Everything here runs on the packed tarball,
 * never on src/:
 *
 * 1. `npm pack` (prepack builds), then `publint --strict` and `attw` (every resolution: node10,
 *    node16 from CJS and from ESM, bundler) on the tarball;
 * 2. one scratch project installs the tarball with its peers and the consumers in test/consumers/:
 *    ESM compiled with `nodenext` and run, the same ESM type-checked with `bundler` and bundled by
 *    esbuild and run, CommonJS JavaScript type-checked (node10) and run, a Vite + React app type-checked
 *    and built, its sign-in machine built by Vite for Node and run; all with `skipLibCheck: false`;
 * 3. every code block of README.md and docs/ compiled against the installed tarball, the runnable ones
 *    run against the simulators (scripts/snippets.ts);
 * 4. what a bundler keeps: a Marketiger-only import is bundled (xstate and axios external) and must
 *    carry nothing of Mrkter, the coordinators, Redis or the simulators (each marker is first shown to
 *    be found where it belongs), with min+gz sizes per use case;
 * 5. the same consumers with the lowest `xstate`, `axios` and `ioredis` of the peer ranges;
 * 6. the runnable consumers again on the lowest Node of each range of `engines` (Node builds from the npm
 *    registry's `node-<platform>-<arch>` package), with the newest and with the lowest peers.
 *
 * Installs prefer npm's cache (`--prefer-offline`). Flags: `--keep` keeps the scratch directory.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { checkSnippets } from './snippets.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  peerDependencies: Record<string, string>;
};
const keep = process.argv.includes('--keep');
const started = Date.now();
const scratch = mkdtempSync(join(tmpdir(), 'authcharts-package-'));
const work = join(scratch, 'consumers');
let failures = 0;

function step(title: string) {
  console.log(`\n== ${title} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): boolean {
  const t0 = Date.now();
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
  if (process.env['TEST_PACKAGE_TIMES'])
    console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: ${args.slice(0, 3).join(' ')}`);
  if (result.status !== 0) {
    failures++;
    console.log(`✘ ${command} ${args.join(' ')} (in ${cwd}) exited with ${result.status ?? result.signal}`);
    return false;
  }
  return true;
}

type Job = [command: string, args: string[], cwd: string];

/** Runs the jobs two at a time (CI has two cores); each one's output is printed when it ends. */
async function runParallel(jobs: Job[], concurrency = 2): Promise<void> {
  const queue = [...jobs];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const [command, args, cwd] = job;
      const t0 = Date.now();
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk;
        });
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk;
        });
        child.on('close', (exit) => resolve({ code: exit, output }));
      });
      const what = args.map((a) => a.replace(`${work}/`, '')).join(' ');
      if (output.trim()) console.log(output.trimEnd());
      if (code !== 0) failures++;
      console.log(`${code === 0 ? '✔' : '✘'} ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function check(ok: boolean, what: string) {
  if (!ok) failures++;
  console.log(`${ok ? '✔' : '✘'} ${what}`);
}

/** The version the repository has installed: the npm cache holds it, so consumers install offline. */
function installed(name: string): string {
  const file = join(repo, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The lowest version of a range as CI tests it: `^5.33.0` → `5.33.0`; `^20.19.0 || >=22.12.0` → `20.19.0`. */
function lowest(range: string): string {
  const match = /(\d+\.\d+\.\d+)/.exec(range);
  if (!match?.[1]) throw new Error(`no version in range '${range}'`);
  return match[1];
}

/**
 * Strings only the named part of the package contains (string literals survive minification). Each
 * is first shown to be found in a bundle that includes that part, so an absence means something.
 */
const markers = {
  // Not `x-session-id`: the authorized client (shared) names Mrkter's headers to attach and redact.
  mrkter: ['identity.select', 'verifiedPhoneNumber', 'oauth/token', 'Username-Password-Authentication'],
  coordination: ['BroadcastChannel', 'The session was signed out in another window or process.'],
  redis: ['The session store (Redis) could not be reached.', 'cjson.decode'],
  simulators: ['Username or Password are incorrect.', 'sentCodes'],
};

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npmInstall = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const bin = (name: string) => join(work, 'node_modules', '.bin', name);

try {
  step('pack');
  // prepack (the build) writes to stdout too: the JSON report is the last thing, from a line `[`.
  const packOutput = execFileSync(npm, ['pack', '--json', '--pack-destination', scratch], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  const tarball = packed[0];
  if (!tarball) throw new Error('npm pack wrote no tarball');
  const tgz = join(scratch, tarball.filename);
  console.log(
    `${tarball.filename}: ${(tarball.size / 1024).toFixed(1)} KB packed, ${(tarball.unpackedSize / 1024).toFixed(1)} KB unpacked, ${tarball.files.length} files`,
  );
  check(tarball.size <= 200 * 1024, 'the tarball is at most 200 KB');
  check(
    !tarball.files.some(
      (f) => f.path.startsWith('src/') || f.path.endsWith('.map') || f.path.startsWith('test/'),
    ),
    'no src/, test/ or source maps in the tarball',
  );
  check(
    [
      'LICENSE',
      'README.md',
      'dist/index.js',
      'dist/cjs/index.js',
      'dist/index.d.ts',
      'dist/cli/index.js',
    ].every((path) => tarball.files.some((f) => f.path === path)),
    'the tarball has LICENSE, README.md, both builds, the types and the CLI',
  );

  step('publint --strict');
  run(process.execPath, [join(repo, 'node_modules/publint/src/cli.js'), '--strict', tgz], repo);
  step('attw (node10, node16 CJS and ESM, bundler)');
  run(process.execPath, [join(repo, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tgz], repo);

  step('install the tarball into the consumers (newest peers)');
  cpSync(join(repo, 'test/consumers'), work, { recursive: true });
  const devTools = [
    'typescript',
    '@types/node',
    'react',
    'react-dom',
    '@types/react',
    '@types/react-dom',
    '@xstate/react',
    'vite',
    '@vitejs/plugin-react',
    'esbuild',
  ];
  const newest = { xstate: installed('xstate'), axios: installed('axios'), ioredis: installed('ioredis') };
  const dependencies: Record<string, string> = { authcharts: `file:${tgz}`, ...newest };
  for (const name of devTools) dependencies[name] = installed(name);
  // What the README's and docs' code blocks import besides the package (scripts/snippets.ts).
  Object.assign(dependencies, {
    vitest: installed('vitest'),
    '@playwright/test': installed('playwright-core'),
    '@testing-library/react': '16.3.3',
    '@testing-library/dom': '10.4.2',
    '@statelyai/inspect': '0.7.2',
  });
  writeFileSync(join(work, 'package.json'), `${JSON.stringify({ private: true, dependencies }, null, 2)}\n`);
  if (!run(npm, npmInstall, work)) throw new Error('the consumers could not install the tarball');

  const esm = join(work, 'esm');
  const cjs = join(work, 'cjs');
  const vite = join(work, 'vite-react');
  const esbuild = createRequire(join(work, 'package.json'))('esbuild') as typeof import('esbuild');

  /**
   * Type-checks and builds the consumers. With `all` false (the lowest peers) what only repeats the
   * others' checks of the peers' types is left out: the `bundler` and the Vite app's type checks
   * (nodenext and node10 check the same declarations against xstate and axios) and the page build;
   * the Vite app's flow is still built and run.
   */
  async function buildConsumers(label: string, all = true) {
    step(`type-check and build the consumers (${label})`);
    await esbuild.build({
      entryPoints: [join(esm, 'flow.ts')],
      outfile: join(esm, 'out-bundled/flow.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // ioredis is CommonJS with dynamic requires: left to Node, as an app's bundler config would.
      external: ['ioredis'],
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'warning',
    });
    const tsc = (project: string): Job => [process.execPath, [bin('tsc'), '-p', project], work];
    const jobs: Job[] = [
      tsc(join(esm, 'tsconfig.nodenext.json')),
      tsc(join(cjs, 'tsconfig.json')),
      [
        process.execPath,
        [bin('vite'), 'build', '--ssr', 'src/flow.ts', '--outDir', 'out-ssr', '--emptyOutDir'],
        vite,
      ],
    ];
    if (all) {
      jobs.push(tsc(join(esm, 'tsconfig.bundler.json')));
      jobs.push(tsc(join(vite, 'tsconfig.json')));
      jobs.push([process.execPath, [bin('vite'), 'build', '--outDir', 'out-app', '--emptyOutDir'], vite]);
    }
    await runParallel(jobs);
  }

  function runConsumers(node: string, label: string) {
    step(
      `run the consumers on Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()} (${label})`,
    );
    run(node, ['out/flow.js'], esm);
    run(node, ['out-bundled/flow.mjs'], esm);
    run(node, ['flow.js'], cjs);
    run(node, ['out-ssr/flow.js'], vite);
  }

  await buildConsumers(`xstate ${newest.xstate}, axios ${newest.axios}`);
  runConsumers(process.execPath, 'newest peers');
  step('the CLI from the tarball: authcharts demo (both flows against its embedded simulators)');
  run(process.execPath, [bin('authcharts'), 'demo'], work, { NO_COLOR: '1' });

  step('the code blocks of README.md and docs/ (compiled against the installed tarball; runnable ones run)');
  failures += await checkSnippets(repo, work);

  step('what a bundler keeps (esbuild, minified, xstate and axios external)');
  await treeShaking(esbuild, work);
  const built = readdirJs(join(vite, 'out-app/assets'));
  check(
    built.length > 0 && !markers.mrkter.some((m) => built.includes(m)),
    'the Vite + React Marketiger app carries nothing of Mrkter',
  );

  step('cold start: median of 15 fresh Node processes each (a report, not a check)');
  coldStart(work);

  // The lowest version of each range of engines (`^20.19.0 || >=22.12.0`: 20.19.0 and 22.12.0), each a
  // Node build from the registry's node-<platform>-<arch> package, installed in a directory of its own.
  step(`the lowest Node of each range of engines (${pkg.engines.node})`);
  const nodePackage = `node-${process.platform}-${process.arch}`;
  const lowestNodes = [...pkg.engines.node.matchAll(/(\d+\.\d+\.\d+)/g)].map(([version]) => {
    const dir = join(scratch, `node-${version}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
    run(npm, [...npmInstall, `${nodePackage}@${version}`], dir);
    return join(dir, 'node_modules', nodePackage, 'bin', 'node');
  });
  for (const node of lowestNodes) runConsumers(node, 'newest peers');

  const low = {
    xstate: lowest(pkg.peerDependencies['xstate'] ?? ''),
    axios: lowest(pkg.peerDependencies['axios'] ?? ''),
    ioredis: lowest(pkg.peerDependencies['ioredis'] ?? ''),
  };
  step(`install the lowest peers: xstate ${low.xstate}, axios ${low.axios}, ioredis ${low.ioredis}`);
  run(npm, [...npmInstall, `xstate@${low.xstate}`, `axios@${low.axios}`, `ioredis@${low.ioredis}`], work);
  for (const [name, version] of Object.entries(low)) {
    check(
      createRequire(join(work, 'package.json'))(`${name}/package.json`).version === version,
      `${name} ${version} is the one installed`,
    );
  }
  await buildConsumers(`xstate ${low.xstate}, axios ${low.axios}, ioredis ${low.ioredis}`, false);
  runConsumers(process.execPath, 'lowest peers');
  for (const node of lowestNodes) runConsumers(node, 'lowest peers');
} catch (error) {
  failures++;
  console.log(`✘ ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (keep) console.log(`scratch directory kept: ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}

console.log(
  `\ntest:package: ${failures === 0 ? 'passed' : `${failures} failure(s)`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exitCode = failures === 0 ? 0 : 1;

function readdirJs(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
  } catch {
    return '';
  }
}

async function treeShaking(esbuild: typeof import('esbuild'), cwd: string) {
  /** Bundles `contents`; the entry chunk (what loads) and the lazily loaded chunks apart. */
  async function bundle(contents: string, external: string[] = ['xstate', 'axios']) {
    const result = await esbuild.build({
      stdin: { contents, resolveDir: cwd, loader: 'js', sourcefile: 'entry.js' },
      bundle: true,
      splitting: true,
      outdir: join(cwd, 'out-shake'),
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      external,
      write: false,
      logLevel: 'silent',
    });
    const [entry, ...lazy] = result.outputFiles;
    const code = entry?.text ?? '';
    return {
      code,
      /** The entry chunk and the lazily loaded ones. */
      all: result.outputFiles.map((f) => f.text).join('\n'),
      gzip: gzipSync(code, { level: 9 }).byteLength,
      minified: Buffer.byteLength(code),
      lazyGzip: lazy.reduce((sum, f) => sum + gzipSync(f.contents, { level: 9 }).byteLength, 0),
    };
  }
  const root = await bundle("export * from 'authcharts';");
  const testing = await bundle("export * from 'authcharts/testing';", ['xstate', 'axios', 'jose', 'node:*']);
  const redis = await bundle("export * from 'authcharts/redis';", ['xstate', 'axios', 'ioredis']);
  for (const [part, found] of [
    ['mrkter', root.all],
    ['coordination', root.all],
    ['redis', redis.all],
    ['simulators', testing.all],
  ] as const) {
    const missing = markers[part].filter((m) => !found.includes(m));
    check(
      missing.length === 0,
      `the ${part} markers are found where they belong${missing.length ? `: missing ${missing.join(', ')}` : ''}`,
    );
  }

  const useCases = {
    'Marketiger only':
      "export { marketigerMachine, createMarketigerApi, marketigerActors, createAuthorizedAxios } from 'authcharts';",
    'Mrkter only':
      "export { mrkterMachine, createMrkterApi, mrkterActors, createAuthorizedAxios } from 'authcharts';",
    everything: "export * from 'authcharts';",
  };
  for (const [name, contents] of Object.entries(useCases)) {
    const result = await bundle(contents);
    console.log(
      `${name.padEnd(16)} ${(result.gzip / 1024).toFixed(1)} KB min+gz (${(result.minified / 1024).toFixed(1)} KB min)${result.lazyGzip ? `, + ${(result.lazyGzip / 1024).toFixed(1)} KB loaded only with a coordinator` : ''}`,
    );
    if (name === 'Marketiger only') {
      for (const part of ['mrkter', 'coordination', 'redis', 'simulators'] as const) {
        const found = markers[part].filter((m) => result.code.includes(m));
        check(
          found.length === 0,
          `a Marketiger-only bundle carries nothing of ${part}${found.length ? `: found ${found.join(', ')}` : ''}`,
        );
      }
    }
  }
}

/**
 * Wall time of `node -e <code>` in fresh processes, median of 15, next to what axios and xstate cost
 * alone. The cases take turns in each round, so a busy machine slows them alike.
 */
function coldStart(cwd: string) {
  const cases: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ["require('axios') + require('xstate')", ['-e', "require('axios'); require('xstate')"]],
    ["require('authcharts')", ['-e', "require('authcharts')"]],
    ["require('jose') (all of it, as before)", ['-e', "require('jose')"]],
    [
      "import('axios') + import('xstate')",
      ['--input-type=module', '-e', "await import('axios'); await import('xstate')"],
    ],
    ["import('authcharts')", ['--input-type=module', '-e', "await import('authcharts')"]],
  ];
  const times = cases.map((): number[] => []);
  for (let round = 0; round < 15; round++) {
    cases.forEach(([, args], i) => {
      const t0 = process.hrtime.bigint();
      execFileSync(process.execPath, args, { cwd, stdio: 'ignore' });
      times[i]?.push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  cases.forEach(([name], i) => {
    const sorted = (times[i] ?? []).sort((a, b) => a - b);
    console.log(`${name.padEnd(40)} ${(sorted[7] ?? 0).toFixed(0)} ms`);
  });
}
