/**
 * The file coordinator holds to the coordinator contract (the lock cases of contract.ts, as the memory
 * coordinator does in coordinator.test.ts; redis.test.ts holds Redis to its own), with what only files
 * need: modes, atomic replacement, a dead holder's lock, notices between instances that share nothing
 * but the folder. Two real processes sharing it through the CLI are in test/cli/session.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileCoordinator, type FileCoordinator, fileNameOf } from '../../src/coordination/file.js';
import type { SessionNotice } from '../../src/coordination/types.js';
import { sharedSession as session } from '../sharedSession.js';
import { itHoldsTheLockContract } from './contract.js';

const HOUR = 60 * 60 * 1000;
const SAFETY_NET_MS = 10_000;

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function folder(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'authcharts-file-')), 'sessions');
  cleanup.push(() => rm(join(dir, '..'), { recursive: true, force: true }));
  return dir;
}

function coordinator(dir: string): FileCoordinator {
  const subject = createFileCoordinator({ dir });
  cleanup.push(() => subject.close());
  return subject;
}

describe('createFileCoordinator', () => {
  it('stores a session in a 0600 file inside a 0700 folder, replaced whole, with versions that grow', async () => {
    // arrange
    const dir = await folder();
    const subject = coordinator(dir);

    // act
    const first = await subject.write('k', session('a'));
    const second = await subject.write('k', session('b'), { ifVersion: 1 });
    const refused = await subject.write('k', session('c'), { ifVersion: 1 });

    // assert
    expect(first).toMatchObject({ status: 'signedIn', version: 1, accessToken: 'a' });
    expect(second).toMatchObject({ version: 2, accessToken: 'b' });
    expect(refused).toBeNull();
    expect(await subject.read('k')).toMatchObject({ version: 2, accessToken: 'b' });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(subject.fileOf('k'))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([fileNameOf('k')]); // no temporary file, lock or mutex left
  });

  it('hands the lock to one holder at a time, each with a larger fencing token', async () => {
    // arrange
    const dir = await folder();
    const [a, b] = [coordinator(dir), coordinator(dir)];
    const first = await a.lock('k');

    // act
    let granted = false;
    const second = b.lock('k', { waitMs: SAFETY_NET_MS }).then((lock) => {
      granted = true;
      return lock;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const grantedWhileHeld = granted;
    await first.release();
    const secondLock = await second;

    // assert
    expect(grantedWhileHeld).toBe(false);
    expect(secondLock.fence).toBeGreaterThan(first.fence);
    await secondLock.release();
    expect((await a.lock('k')).fence).toBeGreaterThan(secondLock.fence);
  });

  itHoldsTheLockContract(async () => coordinator(await folder()));

  it('breaks at once a lock whose holder process on this host is gone (a Ctrl-C during a refresh)', async () => {
    // arrange: a lock file written by a process that has exited, far from its expiry
    const dir = await folder();
    const subject = coordinator(dir);
    await subject.write('k', session('a'));
    const child = execFile(process.execPath, ['-e', '']);
    const pid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    const holder = { token: 'gone', pid, host: hostname(), expiresAt: Date.now() + HOUR };
    await writeFile(`${subject.fileOf('k')}.lock`, JSON.stringify(holder));

    // act
    const lock = await subject.lock('k', { waitMs: 2_000 });

    // assert
    expect(lock.fence).toBeGreaterThan(0);
    await lock.release();
  });

  it('loses no update when two instances write at the same time', async () => {
    // arrange
    const dir = await folder();
    const [a, b] = [coordinator(dir), coordinator(dir)];

    // act
    const written = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).write('k', session(`t${i}`))),
    );

    // assert
    expect(written.map((w) => w?.version).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect((await a.read('k'))?.version).toBe(12);
  });

  it('tells listeners of another instance (another process) through the folder, once per version', async () => {
    // arrange
    const dir = await folder();
    const [writer, reader] = [coordinator(dir), coordinator(dir)];
    await writer.write('other', session('x')); // the folder exists before the watch starts
    const heard: SessionNotice[] = [];
    const signedOut = new Promise<void>((resolve) => {
      reader.subscribe('k', (notice) => {
        heard.push(notice);
        if (notice.type === 'signedOut') resolve();
      });
    });

    // act
    const stored = await writer.write('k', session('a'));
    await writer.publish('k', stored!);
    const cleared = await writer.clear('k');
    await writer.publish('k', cleared);
    await Promise.race([
      signedOut,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no notice')), SAFETY_NET_MS)),
    ]);

    // assert: the sign-in may have been read after the sign-out was written, so only the last is sure
    expect(heard.at(-1)).toMatchObject({ type: 'signedOut', version: 2 });
    expect(new Set(heard.map((n) => JSON.stringify(n))).size).toBe(heard.length);
  });

  it('keeps plain data beside the session, lists every key, and ignores foreign files', async () => {
    // arrange
    const dir = await folder();
    const subject = coordinator(dir);
    await subject.write('mrkter http://a', session('a'));
    await subject.setMeta('mrkter http://a', { user: 'demo@mrkter.test' });
    await subject.write('marketiger http://b', session('b'));
    await writeFile(join(dir, 'notes.json'), '{"hello":1}');

    // act
    const subject2 = await subject.list();
    const cleared = await subject.clear('mrkter http://a');

    // assert
    expect(subject2.map((r) => [r.key, r.meta])).toEqual(
      expect.arrayContaining([
        ['mrkter http://a', { user: 'demo@mrkter.test' }],
        ['marketiger http://b', null],
      ]),
    );
    expect(subject2).toHaveLength(2);
    expect(cleared).toMatchObject({ status: 'signedOut', version: 2 });
    const text = await readFile(subject.fileOf('mrkter http://a'), 'utf8');
    expect(text).not.toContain('refresh-of-a');
  });

  it('names files from the key without leaving the folder', () => {
    expect(fileNameOf('../../etc/passwd')).toMatch(/^etc-passwd\.[0-9a-f]{8}\.json$/);
    expect(fileNameOf('a b')).not.toBe(fileNameOf('a/b'));
  });
});
