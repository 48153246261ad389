import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/core/actor.js';
import { inTransaction } from '../src/platform/db/tx.js';
import { recordAudit } from '../src/features/audit/audit.service.js';
import { createTestContext, engine, type TestContext } from '../test/harness.js';

const bin = fileURLToPath(new URL('../bin/samplebank.js', import.meta.url));

function cli(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'audit', 'verify'], { env: { ...process.env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent', ...env } }, (error, stdout) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout });
    });
  });
}

describe(`samplebank audit verify on ${engine}`, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-audit-cli-'));
  let context: TestContext | undefined;
  // PGlite's folder is locked while open, so the test closes it before the CLI runs; PostgreSQL stays open.
  const open = async (): Promise<TestContext> => (context ??= await createTestContext({ dataDir }));
  const release = async (): Promise<void> => {
    if (engine === 'pglite') {
      await context?.dispose();
      context = undefined;
    }
  };
  const env = (): Record<string, string> => (engine === 'postgres' ? { DATABASE_URL: context!.config.databaseUrl! } : { DATA_DIR: dataDir });
  afterAll(async () => {
    await context?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a summary and exits 0 on a clean trail, then exits 1 naming the first bad event once one is edited', async () => {
    const { handle } = await open();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(await inTransaction(handle.db, (tx) => recordAudit(tx, systemActor, { stream: 'sample:cli', action: 'sample.adjust', entityType: 'sample', data: { i } })));
    }
    const runEnv = env();
    await release();
    const clean = await cli(runEnv);
    expect(clean.stdout).toMatch(/audit trail OK: 4 events, 1 seals/);
    expect(clean.code).toBe(0);

    const { handle: again } = await open();
    await again.db.transaction().execute(async (tx) => {
      await sql`set local session_replication_role = replica`.execute(tx);
      await tx.updateTable('audit_events').set({ data: JSON.stringify({ i: 99 }) }).where('id', '=', ids[1]!).execute();
    });
    await release();
    const broken = await cli(runEnv);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`first bad: stream sample:cli, seq 2, event ${ids[1]}`);
    expect(broken.stdout).toMatch(/edited/);
    // Two CLI processes, each opening PGlite: about 10 s on a quiet machine, over 60 s on a loaded one.
  }, 600_000);
});
