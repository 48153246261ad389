/**
 * Reservations per second through the HTTP API (server listening on a port,
 * 32 concurrent clients with keep-alive) on PostgreSQL, against the same SQL
 * transaction issued directly from this script with 32 pg clients, in the same
 * run on the same throw-away database.
 *
 *   npx tsx bench/reservations.ts [seconds=5] [clients=32] [samples=32] [rounds=3]
 *
 * seconds is per round; each round runs the API, then the direct clients.
 *
 * Each reservation is the ledger's transaction, statement for statement as
 * the server issues it: begin; one statement for the conditional update of the
 * sample, the reservation row, the 'reserve' movement and the lineage's audit
 * stream head locked; the chained audit event appended and the head moved in
 * one statement; commit. Clients spread over `samples` root samples (one each
 * by default); with fewer samples than clients, reservations on the same
 * lineage queue on its row and audit stream in both runs alike.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { systemActor } from '../src/core/actor.js';
import { chainData, eventHash } from '../src/core/audit-chain.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { buildServer } from '../src/server.js';
import { createPostgresDatabase } from '../test/harness.js';

const seconds = Number(process.argv[2] ?? 5);
const clients = Number(process.argv[3] ?? 32);
const sampleCount = Number(process.argv[4] ?? 32);
const rounds = Number(process.argv[5] ?? 3);
const WARMUP_MS = 1500;

interface Run {
  ok: number;
  failed: number;
  latencies: number[];
  elapsed: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `clients` loops of `op` for the duration (after a warm-up whose results are dropped). */
async function drive(op: (client: number) => Promise<boolean>): Promise<Run> {
  const run: Run = { ok: 0, failed: 0, latencies: [], elapsed: 0 };
  const warmupEnd = Date.now() + WARMUP_MS;
  const end = warmupEnd + seconds * 1000;
  let measuring = false;
  let t0 = 0n;
  const timer = setTimeout(() => {
    measuring = true;
    t0 = process.hrtime.bigint();
  }, WARMUP_MS);
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (Date.now() < end) {
        const start = process.hrtime.bigint();
        const ok = await op(client);
        if (!measuring) continue;
        run.latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (ok) run.ok++;
        else run.failed++;
      }
    }),
  );
  clearTimeout(timer);
  run.elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  run.latencies.sort((a, b) => a - b);
  return run;
}

/**
 * The HTTP clients run in a worker thread, so that generating the load does
 * not take CPU from the server's event loop (as separate client machines would not).
 */
const clientWorker = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { urls, headers, body, clients, warmupMs, seconds } = workerData;
// node:http with keep-alive rather than fetch: the load generator shares the machine's cores with
// the server and PostgreSQL, and fetch spends several times the CPU per request that http does.
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const post = (url) => new Promise((resolve, reject) => {
  const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
    response.on('data', () => undefined);
    response.on('end', () => resolve(response.statusCode));
    response.on('error', reject);
  });
  request.on('error', reject);
  request.end(body);
});
(async () => {
  const run = { ok: 0, failed: 0, latencies: [], elapsed: 0 };
  const warmupEnd = Date.now() + warmupMs;
  const end = warmupEnd + seconds * 1000;
  let measuring = false;
  let t0 = 0n;
  const timer = setTimeout(() => { measuring = true; t0 = process.hrtime.bigint(); }, warmupMs);
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    while (Date.now() < end) {
      const start = process.hrtime.bigint();
      const status = await post(urls[client % urls.length]).catch(() => 0);
      if (!measuring) continue;
      run.latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (status === 201) run.ok++; else run.failed++;
    }
  }));
  clearTimeout(timer);
  run.elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  parentPort.postMessage(run);
})();
`;

function driveHttp(urls: string[], headers: Record<string, string>, body: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(clientWorker, { eval: true, workerData: { urls, headers, body, clients, warmupMs: WARMUP_MS, seconds } });
    worker.once('message', (run: Run) => {
      run.latencies.sort((a, b) => a - b);
      resolve(run);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/**
 * The ledger's rows of one reservation as the server writes them (sample $1, quantity $2,
 * reservation id $3, actor $4, movement id $5): the conditional update, the reservation, the
 * 'reserve' movement. The direct run adds the audit head; the floor runs it alone.
 */
const ledgerRows = `with s as (
  update samples set reserved = reserved + $2::bigint, state = case when state = 'available' then 'reserved' else state end, updated_at = now()
  where id = $1 and quantity - reserved >= $2::bigint and not consent_withdrawn and state in ('available', 'reserved')
  returning id, root_id, quantity, reserved, state
), r as (
  insert into reservations (id, sample_id, quantity, application_id, note, created_by)
  select $3::uuid, s.id, $2::bigint, null, null, $4::uuid from s returning created_at
), m as (
  insert into movements (id, sample_id, root_id, kind, delta, reserved_delta, quantity_after, reserved_after, state_after, reservation_id, reason, actor_id, request_id)
  select $5::uuid, s.id, s.root_id, 'reserve', 0, $2::bigint, s.quantity, s.reserved, s.state, $3::uuid, null, $4::uuid, null from s
)`;

async function main(): Promise<void> {
  const database = await createPostgresDatabase('sb_bench_reserve');
  // The server gets as many connections as the baseline has clients.
  const config = loadConfig({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: String(clients), SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' });
  const context = await compose({ config, logger: createLogger('silent') });
  const app = await buildServer(context);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const direct: pg.Client[] = [];
  try {
    const { identity, inventory } = context.services;
    const institution = await identity.createInstitution(systemActor, { code: 'BENCH', name: 'Bench institute' });
    await identity.createUser(systemActor, { email: 'curator@bench.test', name: 'Curator', password: 'bench-password-1', institutionId: institution.id, roles: ['curator'] });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'curator@bench.test', password: 'bench-password-1' } });
    const { token, user } = login.json() as { token: string; user: { id: string } };
    const curator = { userId: user.id, institutionId: institution.id, roles: ['curator' as const] };
    const collection = await inventory.createCollection(curator, { code: 'BENCH', name: 'Bench', unit: 'g', scale: 4, humanConsent: false });
    const make = async () => (await inventory.createSample(curator, { collectionId: collection.id, kind: 'fines', quantity: '1000000' })).id;
    const httpSamples = await Promise.all(Array.from({ length: sampleCount }, make));
    const sqlSamples = await Promise.all(Array.from({ length: sampleCount }, make));

    // --- through the API ---
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ quantity: '0.0001' });
    const httpRound = () =>
      driveHttp(
        httpSamples.map((id) => `${base}/api/v1/samples/${id}/reservations`),
        headers,
        body,
      );

    // --- the same transaction, straight from 32 pg clients ---
    for (let i = 0; i < clients; i++) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      direct.push(client);
    }
    const roots = new Map((await context.handle.db.selectFrom('samples').select(['id', 'root_id', 'identifier']).where('id', 'in', sqlSamples).execute()).map((r) => [r.id, r]));
    const rawRound = () => drive(async (i) => {
      const client = direct[i]!;
      const sample = roots.get(sqlSamples[i % sampleCount]!)!;
      const reservationId = crypto.randomUUID();
      try {
        await client.query('begin');
        const updated = await client.query(
          `${ledgerRows}, h as (
             select seq, head_hash from audit_streams where stream = (select 'sample:' || s.root_id::text from s) for update
           )
           select s.quantity, s.reserved, s.state, r.created_at, h.seq, h.head_hash from s cross join r left join h on true`,
          [sample.id, '1', reservationId, user.id, crypto.randomUUID()],
        );
        const row = updated.rows[0] as { quantity: string; reserved: string; state: string; seq: string; head_hash: string } | undefined;
        if (!row) throw new Error('not enough');
        const stream = `sample:${sample.root_id}`;
        const head = { seq: row.seq, head_hash: row.head_hash };
        const seq = BigInt(head.seq) + 1n;
        const occurredAt = new Date();
        const event = {
          id: crypto.randomUUID(),
          stream,
          seq,
          occurredAt: occurredAt.toISOString(),
          actorId: user.id,
          action: 'sample.reserve',
          entityType: 'sample',
          entityId: sample.id,
          data: chainData({ identifier: sample.identifier, reservationId, quantity: '1', applicationId: null, reservedAfter: row.reserved }),
          requestId: null,
        };
        const hash = eventHash(head.head_hash, event);
        await client.query(
          `with event as (
             insert into audit_events (id, stream, seq, occurred_at, actor_id, action, entity_type, entity_id, data, request_id, prev_hash, hash)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           )
           update audit_streams set seq = $3, head_hash = $12 where stream = $2`,
          [event.id, stream, seq.toString(), occurredAt, user.id, event.action, event.entityType, event.entityId, JSON.stringify(event.data), null, head.head_hash, hash],
        );
        await client.query('commit');
        return true;
      } catch {
        await client.query('rollback').catch(() => undefined);
        return false;
      }
    });

    // A floor, not a baseline: the ledger's rows alone in ONE autocommit statement (no begin, no
    // commit, no audit event). What this machine's PostgreSQL needs for a reservation at 32 in flight
    // with the fewest round trips possible; if its p99 misses 50 ms, no server in front of it can meet that.
    const floorSamples = await Promise.all(Array.from({ length: sampleCount }, make));
    const floorRound = () => drive(async (i) => {
      const reservationId = crypto.randomUUID();
      const result = await direct[i]!.query(
        `${ledgerRows}
         select s.reserved, r.created_at from s cross join r`,
        [floorSamples[i % sampleCount]!, '1', reservationId, user.id, crypto.randomUUID()],
      ).catch(() => ({ rows: [] }));
      return result.rows.length === 1;
    });

    // The machine is shared: rounds alternate API, direct and floor so all see the same load.
    const https: Run[] = [];
    const raws: Run[] = [];
    const floors: Run[] = [];
    for (let round = 0; round < rounds; round++) {
      https.push(await httpRound());
      raws.push(await rawRound());
      floors.push(await floorRound());
    }
    const merge = (runs: Run[]): Run => ({
      ok: runs.reduce((n, r) => n + r.ok, 0),
      failed: runs.reduce((n, r) => n + r.failed, 0),
      elapsed: runs.reduce((n, r) => n + r.elapsed, 0),
      latencies: runs.flatMap((r) => r.latencies).sort((a, b) => a - b),
    });
    const http = merge(https);
    const raw = merge(raws);
    const floor = merge(floors);

    // Both runs left a valid ledger and audit chain behind.
    const verification = await context.services.audit.verify(systemActor);

    const rate = (r: Run) => r.ok / r.elapsed;
    const line = (name: string, r: Run) =>
      `| ${name} | ${rate(r).toFixed(0)} | ${percentile(r.latencies, 50).toFixed(1)} ms | ${percentile(r.latencies, 99).toFixed(1)} ms | ${r.failed} |`;
    console.log(`reservations on PostgreSQL, ${clients} concurrent clients over ${sampleCount} samples, ${rounds} alternating rounds of ${seconds} s each (after ${WARMUP_MS} ms warm-up), Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
    console.log('');
    console.log('| run | reservations/s | p50 | p99 | failed |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(line('HTTP API (POST /samples/{id}/reservations)', http));
    console.log(line(`same SQL transaction, ${clients} direct pg clients`, raw));
    console.log(line('floor: ledger rows only, one autocommit statement, no audit (not a baseline)', floor));
    console.log('');
    const ratio = rate(http) / rate(raw);
    console.log(`ratio API / direct: ${ratio.toFixed(2)} (target >= 0.5); API p99 ${percentile(http.latencies, 99).toFixed(1)} ms (target < 50 ms); floor p99 ${percentile(floor.latencies, 99).toFixed(1)} ms; audit chain ok: ${verification.ok}`);
  } finally {
    await Promise.all(direct.map((c) => c.end().catch(() => undefined)));
    await app.close();
    await context.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
