/**
 * The import rules of src/ (docs/architecture.md), checked on the import lines as plain text: no
 * compiler, no bundler, so the check is fast and reads exactly what a person reads.
 *
 * `npx tsx scripts/architecture.ts` lists the imports that break a rule (exit code 1 when there are
 * any); test/architecture.test.ts runs the same check in `npm test`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One import of one file: where it points (a repo path like `src/errors.ts`, or a package name). */
export interface ImportLine {
  file: string;
  line: number;
  target: string;
  typeOnly: boolean;
}

export interface Rule {
  name: string;
  /** Why the import must not exist: shown with every violation. */
  why: string;
  from: (file: string) => boolean;
  /** True when an import of `target` from `file` breaks the rule. */
  to: (target: string, entry: { file: string; typeOnly: boolean }) => boolean;
}

export interface Violation {
  rule: string;
  why: string;
  file: string;
  line: number;
  target: string;
}

const under = (folder: string) => (path: string) => path === folder || path.startsWith(`${folder}/`);
const either =
  (...tests: ((path: string) => boolean)[]) =>
  (path: string) =>
    tests.some((test) => test(path));
const isPackage = (name: string) => (target: string) => target === name || target.startsWith(`${name}/`);

const machines = under('src/machines');
const services = under('src/services');
const httpCore = under('src/services/http');
const marketiger = under('src/services/marketiger');
const mrkter = under('src/services/mrkter');
const providers = either(marketiger, mrkter);
const client = under('src/client');
const coordination = under('src/coordination');
const redis = under('src/redis');
const testing = under('src/testing');
const cli = under('src/cli');
/** The neutral base every layer may import: the contracts, the error type, time helpers. */
const base = either(
  (path) => path === 'src/types.ts',
  (path) => path === 'src/errors.ts',
  (path) => path === 'src/time.ts',
  (path) => path === 'src/clock.ts',
);
const inSrc = under('src');

/** The rules of docs/architecture.md, in its order. */
export const rules: readonly Rule[] = [
  {
    name: 'machines do no I/O',
    why: 'a machine is a pure statechart: HTTP, Redis and the client are given to it as actors',
    from: machines,
    to: either(isPackage('axios'), isPackage('ioredis'), client, redis),
  },
  {
    name: 'machines do not import services',
    why: 'the contracts machines need are in src/types.ts',
    from: machines,
    to: services,
  },
  {
    name: 'services do not import machines',
    why: "services implement the machines' actors against src/types.ts: an import back is a cycle",
    from: services,
    to: machines,
  },
  {
    name: 'services do not import the client',
    why: 'the client is built on the services, not the other way round',
    from: services,
    to: client,
  },
  {
    name: 'the HTTP core knows no provider',
    why: 'src/services/http is shared by every provider and the client; it imports only itself and the base',
    from: httpCore,
    to: (target) => inSrc(target) && !httpCore(target) && !base(target),
  },
  {
    name: 'providers do not import each other',
    why: 'an app that uses one provider carries none of the other',
    from: providers,
    to: (target, { file }) => (marketiger(file) && mrkter(target)) || (mrkter(file) && marketiger(target)),
  },
  {
    name: 'the client knows no provider',
    why: 'each provider gives the client its credential headers (credentialHeaders); the client imports only the HTTP core, the composed defaults and the base',
    from: client,
    to: either(providers, machines),
  },
  {
    name: 'only the HTTP core and the client import axios',
    why: 'one place sends requests and normalises their errors',
    from: (file) => inSrc(file) && !httpCore(file) && !client(file),
    to: isPackage('axios'),
  },
  {
    name: 'only src/redis imports ioredis',
    why: 'apps without Redis never load it',
    from: (file) => inSrc(file) && !redis(file),
    to: isPackage('ioredis'),
  },
  {
    name: 'coordination sits below the services',
    why: "the services' refresh actor uses coordination; coordination needs only the base",
    from: coordination,
    to: either(services, client, machines, testing),
  },
  {
    name: 'nothing but testing and the CLI imports src/testing',
    why: 'the simulators and path helpers are the "authcharts/testing" entry: the library never loads them',
    from: (file) => inSrc(file) && !testing(file) && !cli(file),
    to: testing,
  },
  {
    name: 'nothing imports the CLI',
    why: 'the CLI is a program on top of the library',
    from: (file) => inSrc(file) && !cli(file),
    to: cli,
  },
  {
    name: 'the base imports only the base',
    why: 'src/types.ts, src/errors.ts, src/time.ts and src/clock.ts are what every layer shares',
    from: base,
    to: (target) => inSrc(target) && !base(target),
  },
];

function breaks(rule: Rule, entry: ImportLine): boolean {
  return rule.from(entry.file) && rule.to(entry.target, entry);
}

/**
 * The imports of one file, read from its text: `import … from`, `export … from`, `import('…')`,
 * statements over several lines included, comments left out. Relative targets become repo paths
 * (`../errors.js` from `src/services/x.ts` is `src/errors.ts`); packages stay as named.
 */
export function readImports(file: string, text: string): ImportLine[] {
  const found: ImportLine[] = [];
  let statement = '';
  let startLine = 0;
  const lines = text.split('\n');
  let inComment = false;
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (inComment) {
      if (line.includes('*/')) inComment = false;
      continue;
    }
    if (line.startsWith('/*')) {
      inComment = !line.includes('*/');
      continue;
    }
    if (line.startsWith('//') || line.startsWith('*')) continue;
    for (const match of line.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      found.push({ file, line: index + 1, target: resolve(file, match[1] as string), typeOnly: false });
    }
    if (!statement && /^(?:import|export)\b/.test(line) && !/^import\s*\(/.test(line)) {
      statement = line;
      startLine = index + 1;
    } else if (statement) {
      statement += ` ${line}`;
    }
    if (!statement) continue;
    const from = /\bfrom\s+['"]([^'"]+)['"]/.exec(statement) ?? /^import\s+['"]([^'"]+)['"]/.exec(statement);
    if (from) {
      const typeOnly = /^(?:import|export)\s+type\b/.test(statement);
      found.push({ file, line: startLine, target: resolve(file, from[1] as string), typeOnly });
      statement = '';
    } else if (!/^(?:import\b|export\s+(?:type\s+)?[{*])/.test(statement)) {
      // A declaration (`export function …`), not an import that goes on over lines.
      statement = '';
    }
  }
  return found;
}

function resolve(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const joined = posix.normalize(posix.join(posix.dirname(file), specifier));
  return joined.replace(/\.js$/, '.ts');
}

/** Every violation of the rules among these files (paths relative to the repo, `src/…`). */
export function checkArchitecture(files: readonly { path: string; text: string }[]): Violation[] {
  const violations: Violation[] = [];
  for (const { path, text } of files) {
    for (const entry of readImports(path, text)) {
      for (const rule of rules) {
        if (breaks(rule, entry)) {
          violations.push({
            rule: rule.name,
            why: rule.why,
            file: entry.file,
            line: entry.line,
            target: entry.target,
          });
        }
      }
    }
  }
  return violations;
}

/** The TypeScript files of src/, as repo paths and text. */
export function readSourceFiles(repo: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        out.push({ path: relative(repo, full).split('\\').join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(join(repo, 'src'));
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** One line per violation: `file:line imports target: rule (why)`. */
export function formatViolation(violation: Violation): string {
  return `${violation.file}:${violation.line} imports ${violation.target}: ${violation.rule} (${violation.why})`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
  const violations = checkArchitecture(readSourceFiles(repo));
  for (const violation of violations) console.error(formatViolation(violation));
  console.log(
    violations.length === 0
      ? 'architecture: every import follows the rules'
      : `${violations.length} violation(s)`,
  );
  process.exitCode = violations.length === 0 ? 0 : 1;
}
