/**
 * `npm run docs:diagrams`: rewrites docs/machines/*.md and the diagrams section of README.md from the
 * machine definitions. Run it after changing a machine; test/docs/diagrams.test.ts fails until you do.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs, rootDir } from './diagramDocs.js';

for (const [path, content] of generatedDocs()) {
  const file = join(rootDir, path);
  let current: string | null = null;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // A page that does not exist yet is written below.
  }
  if (current === content) {
    console.log(`unchanged ${path}`);
  } else {
    writeFileSync(file, content);
    console.log(`wrote     ${path}`);
  }
}
