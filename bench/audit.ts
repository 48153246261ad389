/**
 * Audit-event throughput on PostgreSQL: 32 concurrent writers on 32 distinct
 * streams (what per-stream chains allow) against the same writers on ONE
 * stream (the serialised baseline a single global chain would impose), in the
 * same run, on a throw-away database. A third run adds a sealer sealing
 * continuously, to show that seals do not hold writers back.
 *
 *   npx tsx bench/audit.ts [seconds-per-run=5] [rounds=2]
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { systemActor } from '../src/core/actor.js';
import { recordAudit } from '../src/features/audit/audit.service.js';
import { sealAudit } from '../src/features/audit/audit.seal.js';
import { verifyAudit } from '../src/features/audit/audit.verify.js';
import { openDatabase, type DB } from '../src/platform/db/database.js';
import { migrate } from '../src/platform/db/migrate.js';
import { inTransaction } from '../src/platform/db/tx.js';
import { createPostgresDatabase } from '../test/harness.js';

const WRITERS = 32;
const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 2);

interface Run {
  events: number;
  perSecond: number;
  p50: number;
  p99: number;
  seals: number;
}

async function run(db: DB, streamOf: (writer: number) => string, durationMs: number, sealing = false): Promise<Run> {
  const latencies: number[] = [];
  const until = Date.now() + durationMs;
  const started = process.hrtime.bigint();
  let seals = 0;
  const sealer = sealing
    ? (async () => {
        while (Date.now() < until) if (await sealAudit(db)) seals++;
      })()
    : Promise.resolve();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      const actor = { ...systemActor, userId: crypto.randomUUID() };
      while (Date.now() < until) {
        const t0 = process.hrtime.bigint();
        await inTransaction(db, (tx) => recordAudit(tx, actor, { stream: streamOf(writer), action: 'sample.adjust', entityType: 'sample', entityId: null, data: { writer } }));
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  await sealer;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { events: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), seals };
}

function line(name: string, r: Run): string {
  return `| ${name} | ${r.events} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.seals || '—'} |`;
}

async function main(): Promise<void> {
  const database = await createPostgresDatabase('sb_bench_audit');
  const handle = await openDatabase({ dataDir: '', databaseUrl: database.url, poolSize: WRITERS + 2 });
  try {
    await migrate(handle);
    const { db } = handle;
    const tag = crypto.randomBytes(3).toString('hex');
    await run(db, (w) => `warmup:${tag}:${w}`, 1000);
    const rows: string[] = [];
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const distinct = await run(db, (w) => `sample:${tag}:${round}:${w}`, seconds * 1000);
      const one = await run(db, () => `sample:${tag}:${round}:one`, seconds * 1000);
      const sealed = await run(db, (w) => `sample:${tag}:${round}:sealed:${w}`, seconds * 1000, true);
      ratios.push(distinct.perSecond / one.perSecond);
      rows.push(line(`round ${round}: 32 streams`, distinct), line(`round ${round}: 1 stream`, one), line(`round ${round}: 32 streams + continuous sealing`, sealed));
    }
    const verify = Date.now();
    const result = await verifyAudit(db);
    const verifyMs = Date.now() - verify;
    const pg = (await db.selectNoFrom((eb) => eb.fn<string>('version', []).as('v')).executeTakeFirstOrThrow()).v.split(' ').slice(0, 2).join(' ');
    console.log(`audit throughput, ${WRITERS} writers, ${seconds} s per run, ${pg}, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})\n`);
    console.log('| run | events | events/s | p50 ms | p99 ms | seals |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const row of rows) console.log(row);
    console.log(`\nratio 32 streams / 1 stream: ${ratios.map((r) => r.toFixed(1)).join(', ')} (per round)`);
    console.log(`verify afterwards: ok=${result.ok}, ${result.events} events, ${result.seals} seals, ${verifyMs} ms (${((result.events / verifyMs) * 1000).toFixed(0)} events/s)`);
    if (!result.ok) process.exitCode = 1;
  } finally {
    await handle.close();
    await database.drop();
  }
}

await main();
