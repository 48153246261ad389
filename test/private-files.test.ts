/**
 * Files that hold the bank's data are readable by their owner only, even
 * under the usual umask of 022 (which leaves new files world-readable): a
 * backup (every password hash and token digest is in it) and the copy of an
 * uploaded import file spooled to the temp directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCollection, multipart, waitForJob } from '../src/features/inventory/import/import.testkit.js';
import { backupDatabase } from '../src/platform/db/backup.js';
import { signIn } from './factories.js';
import { createTestServer, engine, type TestServer } from './harness.js';

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

describe(`files only their owner can read on ${engine}`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-private-'));
  const umask = process.umask(0o022);
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(async () => {
    await server?.close();
    process.umask(umask);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('writes a backup as 0600, plain or gzip, replacing a readable file of the same name', async () => {
    for (const name of ['backup.jsonl', 'backup.jsonl.gz']) {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, 'an older backup');
      expect(modeOf(file)).toBe(0o644);
      // A partial file left by a crash (and readable by all) is not reused.
      fs.writeFileSync(`${file}.partial`, 'left over');
      await backupDatabase(server.context.handle, file, { app: 'test' });
      expect(modeOf(file), name).toBe(0o600);
      expect(fs.existsSync(`${file}.partial`)).toBe(false);
    }
  });

  it('spools an uploaded import file to the temp directory as 0600, and removes it afterwards', async () => {
    const spool = path.join(tmp, 'spool');
    fs.mkdirSync(spool);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = spool;
    const curator = await signIn(server.app, server.context, ['curator']);
    const collection = await insertCollection(server.context, { unit: 'g', scale: 4 });
    // Enough rows that the job is still reading the file while we look.
    const csv = ['ID,Kind,Q', ...Array.from({ length: 30_000 }, (_, i) => `S${i},rock,1.5`)].join('\n');
    const body = multipart({ collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'Kind', quantity: 'Q' }), dryRun: 'true' }, { name: 'samples.csv', content: csv });
    const modes = new Map<string, number>();
    const look = setInterval(() => {
      for (const name of fs.readdirSync(spool)) {
        try {
          modes.set(name, modeOf(path.join(spool, name)));
        } catch {
          // Removed between the listing and the look.
        }
      }
    }, 1);
    try {
      const response = await server.app.inject({ method: 'POST', url: '/api/v1/imports', headers: { ...curator.headers, ...body.headers }, payload: body.payload });
      expect(response.statusCode, response.body).toBe(202);
      const job = await waitForJob(server.app, curator.headers, (response.json() as { jobId: string }).jobId);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    } finally {
      clearInterval(look);
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    expect([...modes.keys()]).toEqual([expect.stringMatching(/^samplebank-import-[0-9a-f-]{36}\.csv$/)]);
    expect([...modes.values()]).toEqual([0o600]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.readdirSync(spool)).toEqual([]);
  });
});
