/**
 * Markdown as the project's formatter writes it. `npm run lint` checks Markdown too (Biome pads table
 * columns), so every generated page goes through this: the generated text and the linted text are
 * then the same, and a regenerated page never fails the lint or looks stale.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `content` formatted as Biome would format the file at `path` (relative to the repository root). */
export function formatMarkdown(path: string, content: string): string {
  const biome = join(rootDir, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const result = spawnSync(process.execPath, [biome, 'format', `--stdin-file-path=${path}`], {
    cwd: rootDir,
    input: content,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`biome format ${path} failed: ${result.stderr}`);
  return result.stdout;
}
