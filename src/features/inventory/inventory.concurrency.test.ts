/**
 * No over-commitment under a real race: 64 clients reserve from one sample at
 * once over real sockets. On PostgreSQL the requests run in parallel
 * connections and genuinely race on the row; PGlite is one connection, so
 * there the same requests are served one after another (no race can show,
 * but the arithmetic is checked the same way).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { signIn, type SignedIn } from '../../../test/factories.js';
import { getSample, json, newCollection, newSample } from './inventory.testkit.js';

const CLIENTS = 64;

describe(`concurrent reservations on ${engine}`, () => {
  let server: TestServer;
  let curator: SignedIn;
  let chair: SignedIn;
  let base: string;
  beforeAll(async () => {
    server = await createTestServer();
    curator = await signIn(server.app, server.context, ['curator']);
    chair = await signIn(server.app, server.context, ['chair']);
    base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => server?.close());

  async function race(quantity: string, each: string): Promise<{ sampleId: string; statuses: number[]; bodies: Array<{ type?: string; quantity?: string; detail?: string }> }> {
    const collection = await newCollection(server.app, curator, { scale: 4 });
    const sample = await newSample(server.app, curator, collection.id, { quantity });
    const headers = [curator, chair];
    // Sockets opened first, then every request released at the same moment.
    let go!: () => void;
    const start = new Promise<void>((resolve) => (go = resolve));
    const requests = Array.from({ length: CLIENTS }, async (_, i) => {
      await start;
      const response = await fetch(`${base}/api/v1/samples/${sample.id}/reservations`, {
        method: 'POST',
        headers: { ...headers[i % 2]!.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ quantity: each, note: `client ${i}` }),
      });
      return { status: response.status, body: (await response.json()) as { type?: string; quantity?: string; detail?: string } };
    });
    go();
    const results = await Promise.all(requests);
    const after = await getSample(server.app, curator, sample.id);
    return { sampleId: sample.id, statuses: results.map((r) => r.status), bodies: [...results.map((r) => r.body), after as never] };
  }

  it(`lets exactly floor(quantity / q) of ${CLIENTS} simultaneous reservations succeed; the rest get 409 insufficient-quantity`, async () => {
    // 1.0000 g, 0.0700 g each: 14 fit (0.98 g), 50 are refused.
    const { sampleId, statuses, bodies } = await race('1.0000', '0.0700');
    const after = bodies.pop() as unknown as { reserved: string; available: string; quantity: string };
    const won = statuses.filter((s) => s === 201).length;
    expect(won).toBe(14);
    expect(statuses.filter((s) => s === 409).length).toBe(CLIENTS - 14);
    expect(bodies.filter((b) => b.type !== undefined).every((b) => b.type === 'insufficient-quantity')).toBe(true);
    const sum = bodies.filter((b) => b.quantity !== undefined).reduce((total, b) => total + Number(b.quantity!.replace('.', '')), 0);
    expect(after).toMatchObject({ quantity: '1.0000', reserved: '0.9800', available: '0.0200' });
    expect(sum).toBe(9800);
    // The ledger agrees: one reserve movement per success, each with the running total.
    const movements = await server.context.handle.db
      .selectFrom('movements')
      .select(['kind', 'reserved_after'])
      .where('sample_id', '=', sampleId)
      .orderBy('seq')
      .execute();
    expect(movements.filter((m) => m.kind === 'reserve').map((m) => Number(m.reserved_after))).toEqual(Array.from({ length: 14 }, (_, i) => (i + 1) * 700));
  });

  it('gives the last 0.5 g to exactly one of two simultaneous requests', async () => {
    const { statuses } = await race('0.5000', '0.5000');
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(CLIENTS - 1);
  });

  it.runIf(engine === 'postgres')('really ran in parallel on PostgreSQL (several server connections busy at once)', async () => {
    const collection = await newCollection(server.app, curator, { scale: 4 });
    const sample = await newSample(server.app, curator, collection.id, { quantity: '100' });
    const db = server.context.handle.db;
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await (await import('kysely')).sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and state <> 'idle'`.execute(db);
        peak = Math.max(peak, Number(rows[0]!.n));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const responses = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const response = await fetch(`${base}/api/v1/samples/${sample.id}/reservations`, { method: 'POST', headers: { ...curator.headers, 'content-type': 'application/json' }, body: JSON.stringify({ quantity: '1' }) });
        return `${response.status} ${await response.text()}`;
      }),
    );
    expect(responses.filter((r) => !r.startsWith('201'))).toEqual([]);
    sampling = false;
    await sampler;
    expect(peak).toBeGreaterThan(2);
    expect((await getSample(server.app, curator, sample.id)).reserved).toBe('64.0000');
    json(await server.app.inject({ method: 'GET', url: `/api/v1/samples/${sample.id}`, headers: curator.headers }), 200);
  });
});
