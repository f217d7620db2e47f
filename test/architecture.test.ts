/**
 * The import rules of docs/architecture.md hold in src/, and the checker that says so can fail: each
 * rule is shown one synthetic file that breaks it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkArchitecture,
  formatViolation,
  readImports,
  readSourceFiles,
  rules,
} from '../scripts/architecture.js';

const repo = join(import.meta.dirname, '..');

describe('the architecture of src/', () => {
  it('has no import that breaks a rule of docs/architecture.md', () => {
    // arrange
    const files = readSourceFiles(repo);

    // act
    const subject = checkArchitecture(files).map(formatViolation);

    // assert
    expect(files.length).toBeGreaterThan(40);
    expect(subject).toEqual([]);
  });
});

/** One file that breaks each rule: the rule's name, the file's path and its text. */
const breaking: [string, string, string][] = [
  ['machines do no I/O', 'src/machines/bad.ts', "import axios from 'axios';"],
  [
    'machines do not import services',
    'src/machines/bad.ts',
    "import { createMarketigerApi } from '../services/marketiger/api.js';",
  ],
  [
    'services do not import machines',
    'src/services/mrkter/bad.ts',
    "import type { mrkterMachine } from '../../machines/mrkterMachine.js';",
  ],
  [
    'services do not import the client',
    'src/services/bad.ts',
    "import { createAuthorizedAxios } from '../client/createAuthorizedAxios.js';",
  ],
  [
    'the HTTP core knows no provider',
    'src/services/http/bad.ts',
    "import { parseTokenAnswer } from '../marketiger/parse.js';",
  ],
  [
    'providers do not import each other',
    'src/services/marketiger/bad.ts',
    "import { mrkterHeaderNames } from '../mrkter/credentials.js';",
  ],
  [
    'the client knows no provider',
    'src/client/bad.ts',
    "import { mrkterCredentialHeaders } from '../services/mrkter/credentials.js';",
  ],
  [
    'only the HTTP core and the client import axios',
    'src/services/mrkter/bad.ts',
    "import axios from 'axios';",
  ],
  ['only src/redis imports ioredis', 'src/coordination/bad.ts', "const { Redis } = await import('ioredis');"],
  [
    'coordination sits below the services',
    'src/coordination/bad.ts',
    "import type { TokenSet } from '../services/types.js';",
  ],
  [
    'nothing but testing and the CLI imports src/testing',
    'src/index.ts',
    "export { startMrkterSimulator } from './testing/mrkterSimulator.js';",
  ],
  ['nothing imports the CLI', 'src/testing/bad.ts', "import { runDemo } from '../cli/demo.js';"],
  ['the base imports only the base', 'src/errors.ts', "import { redact } from './services/http/redact.js';"],
];

describe('the architecture checker', () => {
  it('has a failing example for every rule', () => {
    expect(breaking.map(([rule]) => rule).sort()).toEqual(rules.map((rule) => rule.name).sort());
  });

  it.each(breaking)('reports a break of "%s" (%s)', (rule, path, text) => {
    // act
    const subject = checkArchitecture([{ path, text }]);

    // assert
    expect(subject.map((violation) => violation.rule)).toContain(rule);
  });

  it('reads imports over several lines, dynamic imports and re-exports, and skips comments', () => {
    // arrange
    const text = [
      '/**',
      " * import axios from 'axios';",
      ' */',
      "// import { x } from '../testing/paths.js';",
      'import {',
      '  createHttpClient,',
      "} from './http/client.js';",
      "export type { TokenSet } from '../types.js';",
      'export function load() {',
      "  return import('../coordination/refresh.js');",
      '}',
    ].join('\n');

    // act
    const subject = readImports('src/services/actorParts.ts', text);

    // assert
    expect(subject).toEqual([
      { file: 'src/services/actorParts.ts', line: 5, target: 'src/services/http/client.ts', typeOnly: false },
      { file: 'src/services/actorParts.ts', line: 8, target: 'src/types.ts', typeOnly: true },
      {
        file: 'src/services/actorParts.ts',
        line: 10,
        target: 'src/coordination/refresh.ts',
        typeOnly: false,
      },
    ]);
  });

  it('allows what the rules allow: a provider its own modules, the client the HTTP core, machines the contracts', () => {
    // arrange
    const files = [
      { path: 'src/services/mrkter/api.ts', text: "import { parseSessionId } from './parse.js';" },
      { path: 'src/client/x.ts', text: "import { assertHeaderValue } from '../services/http/headers.js';" },
      { path: 'src/machines/x.ts', text: "import type { TokenSet } from '../types.js';" },
      { path: 'src/cli/x.ts', text: "import { startMrkterSimulator } from '../testing/mrkterSimulator.js';" },
    ];

    // act
    const subject = checkArchitecture(files);

    // assert
    expect(subject).toEqual([]);
  });
});
