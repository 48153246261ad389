/**
 * Bulk-import throughput on PostgreSQL, against a raw `COPY samples FROM STDIN`
 * of the same rows in the same run (psql's \copy streams the file as COPY FROM
 * STDIN), on a throw-away database; then the peak RSS of a 1,000,000-row import
 * through the real CLI, measured by /usr/bin/time.
 *
 *   npx tsx bench/import.ts [rows=200000] [bigRows=1000000]
 *
 * The import does more than COPY: it parses and checks every row (pass 1, with
 * identifier look-ups in batches), then writes each sample, its 'create'
 * movement and its chained audit event (pass 2), all in one transaction.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { systemActor } from '../src/core/actor.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { createPostgresDatabase } from '../test/harness.js';

const rows = Number(process.argv[2] ?? 200_000);
const bigRows = Number(process.argv[3] ?? 1_000_000);
const root = path.resolve(import.meta.dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-import-'));

/** Deterministic sample rows: identifier, kind, exact quantity (4 decimals), two attribute columns. */
function* sampleRows(prefix: string, count: number): Generator<[string, string, string, string, string]> {
  let seed = 42;
  for (let i = 1; i <= count; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const units = 1 + (seed % 50_000_000);
    yield [`${prefix}${i}`, i % 3 === 0 ? 'soil' : 'rock', `${Math.floor(units / 10000)}.${String(units % 10000).padStart(4, '0')}`, `Apollo${11 + (i % 7)}`, `bag ${i % 997}`];
  }
}

async function writeFile(file: string, lines: Iterable<string>): Promise<void> {
  const out = fs.createWriteStream(file);
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

function* csvLines(prefix: string, count: number): Generator<string> {
  yield 'ID,Type,Weight (g),Mission,Bag\n';
  for (const r of sampleRows(prefix, count)) yield `${r.join(',')}\n`;
}

/** The same rows as COPY text for samples(id, collection_id, identifier, kind, quantity, root_id, attributes). */
function* copyLines(prefix: string, count: number, collectionId: string): Generator<string> {
  for (const [identifier, kind, quantity, mission, bag] of sampleRows(prefix, count)) {
    const id = crypto.randomUUID();
    yield `${id}\t${collectionId}\t${identifier}\t${kind}\t${quantity.replace('.', '')}\t${id}\t${JSON.stringify({ Mission: mission, Bag: bag })}\n`;
  }
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: root, env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} failed: ${stderr || error.message}`)) : resolve({ stdout, stderr }),
    );
  });
}

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

async function main(): Promise<void> {
  const database = await createPostgresDatabase('sb_bench_import');
  const config = loadConfig({ DATABASE_URL: database.url, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' });
  const context = await compose({ config, logger: createLogger('silent') });
  const db = context.handle.db;
  try {
    const collection = { id: crypto.randomUUID(), code: 'BENCH', name: 'bench', unit: 'g' as const, scale: 4, kinds: [], human_consent: false };
    await db.insertInto('collections').values(collection).execute();
    const csv = path.join(tmp, 'rows.csv');
    const copy = path.join(tmp, 'rows.copy');
    await writeFile(csv, csvLines('S', rows));
    await writeFile(copy, copyLines('S', rows, collection.id));

    // Baseline: raw COPY of the same rows into the same table with the same indexes.
    const t0 = process.hrtime.bigint();
    await run('psql', [database.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy samples (id, collection_id, identifier, kind, quantity, root_id, attributes) from '${copy}'`]);
    const copySeconds = seconds(t0);
    await sql`truncate samples cascade`.execute(db);
    await sql`vacuum analyze samples`.execute(db);

    const t1 = process.hrtime.bigint();
    const result = await context.services.imports.run(systemActor, {
      file: csv,
      collection: { code: 'BENCH' },
      mapping: { identifier: 'ID', kind: 'Type', quantity: 'Weight (g)' },
    });
    const importSeconds = seconds(t1);
    if (result.imported !== rows) throw new Error(`imported ${result.imported} of ${rows}: ${JSON.stringify(result.errors.slice(0, 3))}`);
    const counts = await sql<{ samples: string; movements: string; events: string }>`
      select (select count(*) from samples) as samples, (select count(*) from movements where kind = 'create') as movements,
             (select count(*) from audit_events where stream = ${`import:${result.jobId}`}) as events`.execute(db);

    // The big file through the real CLI, in its own process, so its peak RSS is the import's alone.
    const big = path.join(tmp, 'big.csv');
    await writeFile(big, csvLines('M', bigRows));
    const bigSize = fs.statSync(big).size;
    const t2 = process.hrtime.bigint();
    const cliRun = await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, 'bin/samplebank.js', 'import', big, '--collection', 'BENCH', '--map', 'identifier=ID', '--map', 'kind=Type', '--map', 'quantity=Weight (g)'], {
      DATABASE_URL: database.url,
      SAMPLEBANK_DEMO: '0',
      LOG_LEVEL: 'warn',
    });
    const bigSeconds = seconds(t2);
    const rss = Number(/maxrss_kb=(\d+)/.exec(cliRun.stderr)?.[1] ?? NaN) / 1024;
    if (!cliRun.stdout.startsWith(`imported ${bigRows} samples`)) throw new Error(`big import: ${cliRun.stdout}`);

    const copyRate = rows / copySeconds;
    const importRate = rows / importSeconds;
    const version = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(db)).rows[0]!.v;
    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    console.log(`import throughput, PostgreSQL ${version}, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${load}`);
    console.log('');
    console.log('| run | rows | seconds | rows/s |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| raw COPY samples FROM STDIN (psql \\copy) | ${rows} | ${copySeconds.toFixed(2)} | ${copyRate.toFixed(0)} |`);
    console.log(`| samplebank import (validate + samples + movements + audit, one transaction) | ${rows} | ${importSeconds.toFixed(2)} | ${importRate.toFixed(0)} |`);
    console.log(`| ratio import / COPY | | | ${(importRate / copyRate).toFixed(2)} |`);
    console.log('');
    console.log(`rows written by the import: ${counts.rows[0]!.samples} samples, ${counts.rows[0]!.movements} create movements, ${counts.rows[0]!.events} audit events`);
    console.log(`1,000,000-row import through the CLI: ${bigRows} rows (${(bigSize / 1024 / 1024).toFixed(0)} MB CSV) in ${bigSeconds.toFixed(1)} s (${(bigRows / bigSeconds).toFixed(0)} rows/s), peak RSS ${rss.toFixed(0)} MB`);
  } finally {
    await context.close();
    await database.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
