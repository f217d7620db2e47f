/**
 * Coordinated refresh across processes: N holder processes share one Marketiger session through a
 * real redis-server; the simulator expires every access token; each process then sends M requests at
 * once. Counts the refreshes the simulator saw (the target is 1 per round), the answers, and the time.
 *
 *   npx tsx bench/coordination.ts [--processes 10] [--requests 100] [--rounds 3] [--docs]
 *
 * `--docs` writes the figures into docs/benchmarks.md, in the section "Coordinated refresh across
 * processes" (replaced between its markers, or appended). `npm run bench` renders the rest of that file.
 *
 * Needs redis-server on the PATH (Debian: apt-get install redis-server); it is started on a free
 * loopback port and stopped at the end.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { formatMarkdown } from '../scripts/formatMarkdown.js';
import { marketigerRoutes, startMarketigerSimulator } from '../src/testing/index.js';
import { type HolderProcess, startHolder } from '../test/coordination/fixtures/processes.js';
import { startRedisServer } from '../test/coordination/fixtures/redisServer.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '10' },
    requests: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    docs: { type: 'boolean', default: false },
  },
});
const PROCESSES = Number(values.processes);
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);

async function until(check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Round {
  refreshes: number;
  ok: number;
  failed: number;
  unauthorized: number;
  ms: number;
  tokens: number;
}

const DOCS = new URL('../docs/benchmarks.md', import.meta.url);
const START = '<!-- coordination:start -->';
const END = '<!-- coordination:end -->';

/** A Markdown table with right-aligned columns, padded as the repository's formatter (Biome) writes it. */
function rightAligned(headers: string[], rows: Array<Array<string | number>>): string[] {
  const cells = rows.map((row) => row.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, 2, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padStart(widths[i]!)).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => `${'-'.repeat(w - 1)}:`).join(' | ')} |`, ...cells.map(line)];
}

/** Replaces (or appends) this benchmark's section of docs/benchmarks.md. */
function writeDocs(rounds: Round[], logins: number) {
  const table = rightAligned(
    [
      'round',
      'refreshes at the simulator',
      'requests',
      'answered 200',
      '401s (each retried once)',
      'distinct access tokens after',
      'ms',
    ],
    rounds.map((r, i) => [
      i + 1,
      `**${r.refreshes}**`,
      PROCESSES * REQUESTS,
      r.ok,
      r.unauthorized,
      r.tokens,
      r.ms,
    ]),
  );
  const section = [
    START,
    '',
    '## Coordinated refresh across processes',
    '',
    `${PROCESSES} Node processes (child processes via tsx), each a Marketiger actor with`,
    '`marketigerActors(api, { coordinator, sessionKey })` and `coordinateSession` on one real redis-server',
    `(\`authcharts/redis\`), share one session: one process signs in (${logins} login request${logins === 1 ? '' : 's'} in all), the others`,
    'start from the stored session. Each round the simulator refuses every access token issued so far',
    `(\`expireAccessTokens()\`), then every process sends ${REQUESTS} requests at once through its`,
    '`createAuthorizedAxios` client. Target: one refresh per round, every request answered 200.',
    '',
    ...table,
    '',
    `Command: \`npx tsx bench/coordination.ts --processes ${PROCESSES} --requests ${REQUESTS} --rounds ${ROUNDS} --docs\`;`,
    `Node ${process.version}, ${cpus().length} CPU(s) shared with other work, ${new Date().toISOString().slice(0, 10)}.`,
    'Without coordination every process refreshes on its own with the same rotating refresh token: the',
    'first wins, the others are refused and their sessions end (the control case in',
    'test/coordination/memory.test.ts).',
    '',
    END,
  ].join('\n');
  let text = '';
  try {
    text = readFileSync(DOCS, 'utf8');
  } catch {
    // no report yet: the section stands alone
  }
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${section}${text.slice(end + END.length)}`
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(DOCS, formatMarkdown('docs/benchmarks.md', next));
  console.log('wrote docs/benchmarks.md (Coordinated refresh across processes)');
}

async function main() {
  const redis = await startRedisServer();
  const sim = await startMarketigerSimulator();
  const holders: HolderProcess[] = [];
  try {
    const env = { REDIS_URL: redis.url, BASE_URL: sim.baseURL, SESSION_KEY: 'bench' };
    for (let i = 0; i < PROCESSES; i++) holders.push(startHolder(env));
    await Promise.all(holders.map((h) => h.next('ready', 120_000)));
    await holders[0]!.ask({ cmd: 'login' });
    // Every other process starts signed in from the stored session: one login for all.
    await until(async () => {
      const states = await Promise.all(holders.map((h) => h.ask({ cmd: 'state' })));
      return states.every((s) => s.state?.includes('signedIn'));
    }, 30_000);
    const logins = sim.requestCount(marketigerRoutes.login);
    console.log(`${PROCESSES} processes signed in with ${logins} login request(s)`);

    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      sim.expireAccessTokens();
      sim.resetCounts();
      const started = Date.now();
      const answers = await Promise.all(
        holders.map((h) => h.ask({ cmd: 'burst', n: REQUESTS, path: '/Project/GetProjects' }, 120_000)),
      );
      const ms = Date.now() - started;
      const statuses = answers.flatMap((a) => a.statuses ?? []);
      const result = {
        refreshes: sim.refreshCount,
        ok: statuses.filter((s) => s === 200).length,
        failed: statuses.filter((s) => s !== 200).length,
        unauthorized: sim.log.filter((e) => e.route === marketigerRoutes.getProjects && e.status === 401)
          .length,
        ms,
        tokens: new Set(answers.map((a) => a.token)).size,
      };
      rounds.push(result);
      console.log(
        `round ${round}: ${result.refreshes} refresh(es) for ${PROCESSES} × ${REQUESTS} requests on an expired token; ` +
          `${result.ok} answered 200, ${result.failed} failed; ${result.unauthorized} 401s retried; ` +
          `${result.tokens} distinct access token(s) across processes; ${ms} ms`,
      );
    }
    const worst = Math.max(...rounds.map((r) => r.refreshes));
    console.log(
      `\nrefreshes per round: ${rounds.map((r) => r.refreshes).join(', ')} (target 1; worst ${worst})`,
    );
    if (values.docs) writeDocs(rounds, logins);
    process.exitCode = worst === 1 && rounds.every((r) => r.failed === 0) ? 0 : 1;
  } finally {
    await Promise.all(holders.map((h) => h.stop()));
    await sim.close();
    await redis.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
