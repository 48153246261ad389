/**
 * Backup and restore at realistic size: N root samples made by generate_series
 * (plus split children, one movement each, users and an audit chain; see
 * src/platform/db/backup.testkit.ts) on PostgreSQL.
 *
 *   npx tsx bench/backup.ts [samples=100000]
 *
 * Baseline in the same run: pg_dump -Fc and pg_restore of the same database.
 * Then `samplebank backup` (backupDatabase) and `restore` into a fresh
 * PostgreSQL database and into a fresh PGlite folder; every table's row count
 * and digest must match the source, and the audit chain must verify.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemActor } from '../src/core/actor.js';
import { compose, version, type Context } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { backupDatabase, restoreDatabase, summarizeDatabase } from '../src/platform/db/backup.js';
import { seedVolume } from '../src/platform/db/backup.testkit.js';
import { createLogger } from '../src/platform/logger.js';
import { createPostgresDatabase } from '../test/harness.js';

const samples = Number(process.argv[2] ?? 100_000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-backup-'));
const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
const open = (env: Record<string, string>): Promise<Context> => compose({ config: loadConfig({ ...env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' }), logger: createLogger('silent') });

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, _o, stderr) => (error ? reject(new Error(`${command}: ${stderr || error.message}`)) : resolve())));
}

async function main(): Promise<void> {
  const dbs = [await createPostgresDatabase('sb_bench_bk'), await createPostgresDatabase('sb_bench_bk'), await createPostgresDatabase('sb_bench_bk')];
  const [sourceDb, targetDb, dumpDb] = dbs as [typeof dbs[0], typeof dbs[0], typeof dbs[0]];
  try {
    const source = await open({ DATABASE_URL: sourceDb.url });
    let t = process.hrtime.bigint();
    await seedVolume(source, samples);
    const seedSeconds = seconds(t);
    const original = await summarizeDatabase(source.handle.db);
    const rows = original.reduce((a, s) => a + s.rows, 0);

    const dumpFile = path.join(tmp, 'dump.pgc');
    t = process.hrtime.bigint();
    await run('pg_dump', ['-Fc', '-Z', '6', '-f', dumpFile, sourceDb.url]);
    const pgDump = seconds(t);
    t = process.hrtime.bigint();
    await run('pg_restore', ['--no-owner', '-d', dumpDb.url, dumpFile]);
    const pgRestore = seconds(t);

    const file = path.join(tmp, 'backup.jsonl.gz');
    t = process.hrtime.bigint();
    await backupDatabase(source.handle, file, { app: version });
    const ours = seconds(t);
    await source.close();

    const target = await open({ DATABASE_URL: targetDb.url });
    t = process.hrtime.bigint();
    const restoredPg = await restoreDatabase(target.handle, file, {});
    const oursRestorePg = seconds(t);
    const pgSame = JSON.stringify(await summarizeDatabase(target.handle.db)) === JSON.stringify(original);
    const pgAudit = (await target.services.audit.verify(systemActor)).ok;
    await target.close();

    const lite = await open({ DATA_DIR: path.join(tmp, 'pglite') });
    t = process.hrtime.bigint();
    const restoredLite = await restoreDatabase(lite.handle, file, {});
    const oursRestoreLite = seconds(t);
    const liteSame = JSON.stringify(await summarizeDatabase(lite.handle.db)) === JSON.stringify(original);
    const liteAudit = (await lite.services.audit.verify(systemActor)).ok;
    const liteFile = path.join(tmp, 'from-pglite.jsonl.gz');
    t = process.hrtime.bigint();
    await backupDatabase(lite.handle, liteFile, { app: version });
    const oursBackupLite = seconds(t);
    await lite.close();

    const mb = (f: string): string => (fs.statSync(f).size / 1024 / 1024).toFixed(1);
    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    console.log(`backup/restore, ${samples} root samples (${rows} rows in all, seeded in ${seedSeconds.toFixed(1)} s), Node ${process.version}, ${os.cpus().length} CPUs, load ${load}`);
    console.log('');
    console.log('| run | seconds | rows/s | file MB | ratio to pg_dump/pg_restore |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(`| pg_dump -Fc (baseline) | ${pgDump.toFixed(1)} | ${(rows / pgDump).toFixed(0)} | ${mb(dumpFile)} | 1.00 |`);
    console.log(`| samplebank backup, PostgreSQL | ${ours.toFixed(1)} | ${(rows / ours).toFixed(0)} | ${mb(file)} | ${(pgDump / ours).toFixed(2)} |`);
    console.log(`| pg_restore (baseline) | ${pgRestore.toFixed(1)} | ${(rows / pgRestore).toFixed(0)} | | 1.00 |`);
    console.log(`| samplebank restore → PostgreSQL (load + verify) | ${oursRestorePg.toFixed(1)} | ${(rows / oursRestorePg).toFixed(0)} | | ${(pgRestore / oursRestorePg).toFixed(2)} |`);
    console.log(`| samplebank restore → PGlite (load + verify) | ${oursRestoreLite.toFixed(1)} | ${(rows / oursRestoreLite).toFixed(0)} | | ${(pgRestore / oursRestoreLite).toFixed(2)} |`);
    console.log(`| samplebank backup, PGlite | ${oursBackupLite.toFixed(1)} | ${(rows / oursBackupLite).toFixed(0)} | ${mb(liteFile)} | ${(pgDump / oursBackupLite).toFixed(2)} |`);
    console.log('');
    console.log(`identical table by table (counts + digests): PostgreSQL ${pgSame && restoredPg.ok}, PGlite ${liteSame && restoredLite.ok}; audit verify after restore: PostgreSQL ${pgAudit}, PGlite ${liteAudit}`);
    if (!(pgSame && liteSame && pgAudit && liteAudit)) process.exitCode = 1;
  } finally {
    for (const db of dbs) await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
