/**
 * Sample search at 1,000,000 samples on PostgreSQL: p95 latency of varied
 * filtered and identifier-prefix queries through the HTTP API (server
 * listening on a port, GET /api/v1/samples with a bearer token), against the
 * same SQL query issued directly with a pg client, in the same run on a
 * throw-away database.
 *
 *   npx tsx bench/search.ts [samples=1000000] [queries=400]
 *
 * The samples are bulk-inserted with generate_series: 4 collections, 6 kinds,
 * states mostly available (some reserved, on loan, quarantined, consumed),
 * 400 boxes, identifiers `<COLLECTION><7 digits>`. Query mix (random
 * parameters each time, first page of 50 unless noted): collection; collection
 * + kind; collection + kind + state; state (a rare one); location; identifier
 * prefix (q, 1 to 10,000 matches); collection + prefix; a page deep inside a
 * collection (cursor from a random identifier).
 */
import os from 'node:os';
import pg from 'pg';
import { systemActor } from '../src/core/actor.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { buildServer } from '../src/server.js';
import { createPostgresDatabase } from '../test/harness.js';

const total = Number(process.argv[2] ?? 1_000_000);
const queryCount = Number(process.argv[3] ?? 400);
const LIMIT = 50;
const kinds = ['fines', 'chip', 'core', 'breccia', 'regolith', 'glass'];
const states = ['available', 'available', 'available', 'available', 'available', 'available', 'reserved', 'on_loan', 'quarantined', 'consumed'];

interface Query {
  name: string;
  collectionId?: string;
  kind?: string;
  state?: string;
  locationId?: string;
  q?: string;
  after?: { identifier: string; id: string };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const random = (n: number): number => Math.floor(Math.random() * n);
const pad = (n: number): string => String(n).padStart(7, '0');

async function main(): Promise<void> {
  const database = await createPostgresDatabase('sb_bench_search');
  const config = loadConfig({ DATABASE_URL: database.url, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' });
  const context = await compose({ config, logger: createLogger('silent') });
  const app = await buildServer(context);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { identity, inventory } = context.services;
    const institution = await identity.createInstitution(systemActor, { code: 'BENCH', name: 'Bench institute' });
    await identity.createUser(systemActor, { email: 'curator@bench.test', name: 'Curator', password: 'bench-password-1', institutionId: institution.id, roles: ['curator'] });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'curator@bench.test', password: 'bench-password-1' } });
    const { token, user } = login.json() as { token: string; user: { id: string } };
    const curator = { userId: user.id, institutionId: institution.id, roles: ['curator' as const] };
    const codes = ['LUNA', 'LUNB', 'LUNC', 'LUND'];
    const collections = [];
    for (const code of codes) collections.push(await inventory.createCollection(curator, { code, name: code, unit: 'g', scale: 4, humanConsent: false }));
    const site = await inventory.createLocation(curator, { kind: 'site', code: 'SITE', name: 'Site' });
    const freezer = await inventory.createLocation(curator, { parentId: site.id, kind: 'freezer', code: 'F1', name: 'Freezer' });
    const boxes: string[] = [];
    for (let i = 0; i < 400; i++) boxes.push((await inventory.createLocation(curator, { parentId: freezer.id, kind: 'box', code: `B${i}`, name: `Box ${i}`, rows: 10, cols: 10 })).id);

    // --- 1,000,000 samples in bulk ---
    const t0 = Date.now();
    const perCollection = Math.ceil(total / codes.length);
    const batch = 250_000;
    for (const [c, collection] of collections.entries()) {
      for (let start = 1; start <= perCollection; start += batch) {
        const end = Math.min(perCollection, start + batch - 1);
        await client.query(
          `insert into samples (id, collection_id, identifier, kind, quantity, reserved, state, root_id, location_id, position, attributes)
           select id, $1::uuid, $2 || lpad(g::text, 7, '0'), ($3::text[])[1 + (g * 7) % 6], q, case when s = 'reserved' then q / 2 else 0 end, s, id,
                  ($4::uuid[])[1 + (g * 13) % 400], null, '{}'::jsonb
           from (select g, gen_random_uuid() as id, 1 + (g * 7919) % 50000000 as q,
                        ($5::text[])[1 + (g * 31) % 10] as s0 from generate_series($6::int, $7::int) g) x,
                lateral (select case when s0 = 'consumed' then 'available' else s0 end as s) y`,
          [collection.id, codes[c], kinds, boxes, states, start, end],
        );
        process.stdout.write(`\rinserted ${c * perCollection + end} samples`);
      }
    }
    await client.query('analyze samples');
    const loadSeconds = (Date.now() - t0) / 1000;
    console.log(`\rinserted ${perCollection * codes.length} samples in ${loadSeconds.toFixed(0)} s`);

    // --- the query mix ---
    const pick = <T>(list: readonly T[]): T => list[random(list.length)]!;
    const queries: Query[] = [];
    for (let i = 0; i < queryCount; i++) {
      const c = random(codes.length);
      const collectionId = collections[c]!.id;
      const n = 1 + random(perCollection);
      switch (i % 8) {
        case 0:
          queries.push({ name: 'collection', collectionId });
          break;
        case 1:
          queries.push({ name: 'collection + kind', collectionId, kind: pick(kinds) });
          break;
        case 2:
          queries.push({ name: 'collection + kind + state', collectionId, kind: pick(kinds), state: pick(['reserved', 'on_loan', 'quarantined']) });
          break;
        case 3:
          queries.push({ name: 'state (rare)', state: pick(['quarantined', 'on_loan']) });
          break;
        case 4:
          queries.push({ name: 'location', locationId: pick(boxes) });
          break;
        case 5:
          // 1 to 10,000 matches: LUNA00123 matches 100, LUNA0012 1,000, LUNA001 10,000.
          queries.push({ name: 'identifier prefix', q: `${codes[c]}${pad(n).slice(0, 3 + random(5))}` });
          break;
        case 6:
          queries.push({ name: 'collection + prefix', collectionId, q: `${codes[c]}${pad(n).slice(0, 4)}` });
          break;
        default: {
          const { rows } = await client.query<{ identifier: string; id: string }>('select identifier, id from samples where identifier = $1', [`${codes[c]}${pad(n)}`]);
          queries.push({ name: 'deep page (cursor)', collectionId, after: rows[0]! });
        }
      }
    }

    const headers = { authorization: `Bearer ${token}` };
    const viaApi = async (query: Query): Promise<number> => {
      const params = new URLSearchParams({ limit: String(LIMIT) });
      if (query.collectionId) params.set('collectionId', query.collectionId);
      if (query.kind) params.set('kind', query.kind);
      if (query.state) params.set('state', query.state);
      if (query.locationId) params.set('locationId', query.locationId);
      if (query.q) params.set('q', query.q);
      if (query.after) params.set('cursor', Buffer.from(`${query.after.identifier}\n${query.after.id}`).toString('base64url'));
      const response = await fetch(`${base}/api/v1/samples?${params}`, { headers });
      const body = (await response.json()) as { items: unknown[] };
      if (response.status !== 200) throw new Error(`search failed: ${JSON.stringify(body)}`);
      return body.items.length;
    };
    // The statement the repository builds (samplesRepository.list), straight to PostgreSQL.
    const viaSql = async (query: Query): Promise<number> => {
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (clause: (n: number) => string, value: unknown) => {
        values.push(value);
        where.push(clause(values.length));
      };
      if (query.collectionId) add((n) => `collection_id = $${n}`, query.collectionId);
      if (query.kind) add((n) => `kind = $${n}`, query.kind);
      if (query.state) add((n) => `state = $${n}`, query.state);
      if (query.locationId) add((n) => `location_id = $${n}`, query.locationId);
      if (query.q) {
        add((n) => `identifier collate "C" >= $${n}`, query.q);
        add((n) => `identifier collate "C" < $${n}`, `${query.q}\u{10FFFF}`);
        add((n) => `identifier like $${n}`, `${query.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`);
      }
      if (query.after) {
        values.push(query.after.identifier, query.after.id);
        where.push(`(identifier collate "C", id) > ($${values.length - 1} collate "C", $${values.length}::uuid)`);
      }
      values.push(LIMIT + 1);
      const leading = query.collectionId ? (query.kind ? 'collection_id, kind, ' : 'collection_id, ') : query.locationId ? 'location_id, ' : query.state ? 'state, ' : '';
      const text = `select id, collection_id, identifier, kind, quantity, reserved, state, parent_id, root_id, next_split, location_id, position, attributes, created_at, updated_at
        from samples ${where.length ? `where ${where.join(' and ')}` : ''} order by ${leading}identifier collate "C", id limit $${values.length}`;
      return (await client.query(text, values)).rows.length;
    };

    // Warm both paths (plans, caches), then alternate them query by query.
    for (const query of queries.slice(0, 40)) {
      await viaApi(query);
      await viaSql(query);
    }
    const api = new Map<string, number[]>();
    const raw = new Map<string, number[]>();
    const time = async (fn: () => Promise<number>, into: Map<string, number[]>, name: string) => {
      const start = process.hrtime.bigint();
      await fn();
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      into.set(name, [...(into.get(name) ?? []), ms]);
      into.set('all', [...(into.get('all') ?? []), ms]);
    };
    for (const query of queries) {
      await time(() => viaApi(query), api, query.name);
      await time(() => viaSql(query), raw, query.name);
    }

    console.log('');
    console.log(`sample search on PostgreSQL over ${perCollection * codes.length} samples, ${queryCount} queries (first page of ${LIMIT} unless noted), Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
    console.log('');
    console.log('| query | API p50 | API p95 | SQL p50 | SQL p95 |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const name of [...api.keys()].filter((k) => k !== 'all').concat('all')) {
      const a = api.get(name)!.sort((x, y) => x - y);
      const r = raw.get(name)!.sort((x, y) => x - y);
      console.log(`| ${name === 'all' ? '**all**' : name} | ${percentile(a, 50).toFixed(1)} ms | ${percentile(a, 95).toFixed(1)} ms | ${percentile(r, 50).toFixed(1)} ms | ${percentile(r, 95).toFixed(1)} ms |`);
    }
    const a = api.get('all')!;
    const r = raw.get('all')!;
    console.log('');
    console.log(`API p95 ${percentile(a, 95).toFixed(1)} ms (target < 50 ms); ratio API p95 / SQL p95: ${(percentile(a, 95) / percentile(r, 95)).toFixed(2)}`);
  } finally {
    await client.end();
    await app.close();
    await context.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
