import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedDocs, rootDir } from '../../scripts/diagramDocs.js';

// The diagrams and tables are generated from the machines: a machine changed without
// `npm run docs:diagrams` leaves docs that describe another machine.
describe('generated machine docs', () => {
  for (const [path, expected] of generatedDocs()) {
    it(`${path} is up to date with the machine definitions`, () => {
      let onDisk = '';
      try {
        onDisk = readFileSync(join(rootDir, path), 'utf8');
      } catch {
        // A missing file is as stale as an old one.
      }

      expect(onDisk, `${path} is stale: run \`npm run docs:diagrams\` and commit the result`).toBe(expected);
    });
  }
});
