import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { inTransaction } from '../../platform/db/tx.js';
import { createTestContext, engine, type TestContext } from '../../../test/harness.js';
import { unique } from '../../../test/factories.js';
import { recordAudit } from './audit.service.js';
import { sealAudit } from './audit.seal.js';
import { verifyAudit } from './audit.verify.js';

describe(`audit chain under concurrent writers on ${engine}`, () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestContext();
  });
  afterAll(async () => context?.dispose());

  it('32 parallel writers on 8 streams, with seals taken meanwhile, leave chains that verify', async () => {
    const db = context.handle.db;
    const streams = Array.from({ length: 8 }, () => unique('sample:'));
    const perWriter = 10;
    let writing = true;
    const sealer = (async () => {
      let seals = 0;
      // No timer between seals: on PGlite the writers' promise chain would starve it.
      while (writing) if (await sealAudit(db)) seals++;
      return seals;
    })();
    await Promise.all(
      Array.from({ length: 32 }, async (_, writer) => {
        const actor = { ...systemActor, userId: crypto.randomUUID() };
        for (let i = 0; i < perWriter; i++) {
          await inTransaction(db, async (tx) => {
            await recordAudit(tx, actor, { stream: streams[writer % 8]!, action: 'sample.adjust', entityType: 'sample', entityId: null, data: { writer, i } });
            // Hold the stream lock across a round trip, as a real business transaction would.
            await sql`select 1`.execute(tx);
          });
        }
      }),
    );
    writing = false;
    expect(await sealer).toBeGreaterThan(0);

    const counts = await db
      .selectFrom('audit_events')
      .select(['stream', (eb) => eb.fn.countAll<string>().as('n'), (eb) => eb.fn.max('seq').as('top')])
      .where('stream', 'in', streams)
      .groupBy('stream')
      .execute();
    expect(counts).toHaveLength(8);
    for (const row of counts) expect([Number(row.n), Number(row.top)]).toEqual([4 * perWriter, 4 * perWriter]);
    const result = await verifyAudit(db, { eventsPage: 50 });
    expect(result).toMatchObject({ ok: true, events: 32 * perWriter });
  });
});
