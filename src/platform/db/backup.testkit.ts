/**
 * A database with realistic volume and awkward values for backup tests and the
 * backup bench: samples made by generate_series (with split children, unicode
 * and nested JSON attributes, microsecond timestamps, the largest bigint), one
 * create movement each (identity seq), users with Argon2 hashes, and a real
 * audit chain.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { systemActor } from '../../core/actor.js';
import type { Context } from '../../compose.js';
import { recordAudit } from '../../features/audit/audit.service.js';
import { inTransaction } from './tx.js';

export const SEED_PASSWORD = 'backup-password-1';

export async function seedVolume(context: Context, samples: number): Promise<{ collectionId: string; email: string }> {
  const { db } = context.handle;
  const institution = await context.services.identity.createInstitution(systemActor, { code: `BK${crypto.randomBytes(3).toString('hex')}`, name: '国家天文台 National Observatory' });
  const email = `${crypto.randomBytes(4).toString('hex')}@backup.samplebank.test`;
  await context.services.identity.createUser(systemActor, { email, name: '李 Wei', password: SEED_PASSWORD, institutionId: institution.id, roles: ['curator', 'auditor'] });
  const collectionId = crypto.randomUUID();
  await db.insertInto('collections').values({ id: collectionId, code: `CE5${crypto.randomBytes(2).toString('hex')}`, name: 'Chang\'e-5 返回样品', unit: 'g', scale: 4, kinds: ['scooped', 'drilled'], human_consent: false, institution_id: institution.id }).execute();
  await sql`
    insert into samples (id, collection_id, identifier, kind, quantity, root_id, attributes, created_at)
    select g.id, ${collectionId}, 'CE5C' || lpad(g.i::text, 7, '0'), case when g.i % 3 = 0 then 'drilled' else 'scooped' end,
           case when g.i = 1 then 9223372036854775807 else (g.i::bigint * 7919) % 100000000 end, g.id,
           jsonb_build_object('note', '月壤 "quoted" \\ back' || g.i, 'depth_cm', g.i * 0.25, 'tags', jsonb_build_array('a', g.i % 7), 'empty', null),
           timestamptz '2026-01-01 00:00:00.123456+08' + g.i * interval '1.000001 second'
    from (select gen_random_uuid() as id, i from generate_series(1, ${samples}) as i) as g`.execute(db);
  await sql`
    insert into samples (id, collection_id, identifier, kind, quantity, parent_id, root_id)
    select gen_random_uuid(), collection_id, identifier || ',0001', kind, 0, id, root_id
    from samples where parent_id is null and quantity % 10 = 3`.execute(db);
  await sql`
    insert into movements (id, sample_id, root_id, kind, delta, quantity_after, reserved_after, state_after, reason)
    select gen_random_uuid(), id, root_id, 'create', quantity, quantity, 0, 'available', case when quantity % 2 = 0 then null else 'registered' end
    from samples`.execute(db);
  for (let i = 0; i < 20; i++) {
    await inTransaction(db, (tx) => recordAudit(tx, systemActor, { stream: `collection:${collectionId}`, action: 'sample.adjust', entityType: 'collection', entityId: collectionId, data: { i, note: '审计 ✓' } }));
  }
  return { collectionId, email };
}
