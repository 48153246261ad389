import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/core/actor.js';
import { inTransaction } from '../src/platform/db/tx.js';
import { recordAudit } from '../src/features/audit/audit.service.js';
import { rewriteHistory } from '../src/features/audit/audit.testkit.js';
import { sealSigner } from '../src/core/audit-chain.js';
import { createTestContext, engine, type TestContext } from '../test/harness.js';

const bin = fileURLToPath(new URL('../bin/samplebank.js', import.meta.url));

function cli(env: Record<string, string>, args: string[] = ['audit', 'verify']): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A database of its own, opened by the test and closed (PGlite's folder is locked while open) before the CLI runs. */
function scene() {
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
  const dispose = async (): Promise<void> => {
    await context?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { dataDir, open, release, env, dispose };
}

describe(`samplebank audit verify on ${engine}`, () => {
  const first = scene();
  const second = scene();
  afterAll(async () => {
    await first.dispose();
    await second.dispose();
  });

  it('prints a summary and exits 0 on a clean trail, then exits 1 naming the first bad event once one is edited', async () => {
    const { handle } = await first.open();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(await inTransaction(handle.db, (tx) => recordAudit(tx, systemActor, { stream: 'sample:cli', action: 'sample.adjust', entityType: 'sample', data: { i } })));
    }
    const runEnv = first.env();
    await first.release();
    const clean = await cli(runEnv);
    expect(clean.stdout).toMatch(/audit trail OK: 4 events, 1 seals/);
    expect(clean.code).toBe(0);

    const { handle: again } = await first.open();
    await again.db.transaction().execute(async (tx) => {
      await sql`set local session_replication_role = replica`.execute(tx);
      await tx.updateTable('audit_events').set({ data: JSON.stringify({ i: 99 }) }).where('id', '=', ids[1]!).execute();
    });
    await first.release();
    const broken = await cli(runEnv);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`first bad: stream sample:cli, seq 2, event ${ids[1]}`);
    expect(broken.stdout).toMatch(/edited/);
    // Two CLI processes, each opening PGlite: about 10 s on a quiet machine, over 60 s on a loaded one.
  }, 600_000);

  it('files an anchor, then proves with it that an owner holding the key rewrote history', async () => {
    const { handle } = await second.open();
    const stream = 'sample:anchored';
    for (let i = 0; i < 3; i++) await inTransaction(handle.db, (tx) => recordAudit(tx, systemActor, { stream, action: 'sample.adjust', entityType: 'sample', data: { i } }));
    const runEnv = second.env();
    await second.release();
    const file = path.join(second.dataDir, 'anchor.json');
    const anchored = await cli(runEnv, ['audit', 'anchor', '--out', file]);
    expect(anchored.stderr).toBe('');
    expect(anchored.stdout).toMatch(/^anchored seal \d+ \(\d+ events\) in /);
    const anchor = JSON.parse(fs.readFileSync(file, 'utf8')) as { format: string; seal: { seq: string } };
    expect(anchor.format).toBe('samplebank-audit-anchor/1');
    const extends_ = await cli(runEnv, ['audit', 'verify', '--anchor', file]);
    expect(extends_.stdout).toContain(`the trail still holds seal ${anchor.seal.seq} exactly as anchored`);
    expect(extends_.code).toBe(0);

    // The owner, with the signing key in hand, rewrites the stream and re-signs every seal.
    const again = await second.open();
    const stolen = sealSigner(crypto.createPrivateKey(fs.readFileSync(again.config.auditKeyFile)));
    await rewriteHistory(again.handle.db, stream, { resign: stolen });
    await second.release();
    expect((await cli(runEnv)).code).toBe(0);
    const caught = await cli(runEnv, ['audit', 'verify', '--anchor', file]);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain(`first bad: stream #seals, seq ${anchor.seal.seq}`);
    expect(caught.stdout).toContain('differs from the anchor kept outside the database');

    // A file that is not an anchor is refused before anything is opened.
    fs.writeFileSync(path.join(second.dataDir, 'bad.json'), '{"format":"something else"}');
    const bad = await cli(runEnv, ['audit', 'verify', '--anchor', path.join(second.dataDir, 'bad.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not an anchor file');
  }, 600_000);
});
