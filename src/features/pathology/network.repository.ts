/**
 * Networks of institutions and their shared, collection-level catalog:
 * aggregates only (counts by kind, diagnosis and availability), never a
 * donor code, a sample identifier or anything about one person.
 */
import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/tx.js';

export interface NetworkRow {
  id: string;
  code: string;
  name: string;
  created_at: Date;
}

export interface CatalogCollectionRow {
  id: string;
  code: string;
  name: string;
  unit: string;
  scale: number;
  human_consent: boolean;
  biosafety_level: number | null;
  institution_id: string;
  institution_code: string;
  institution_name: string;
}

export const networkRepository = {
  async insert(tx: Tx, row: { id: string; code: string; name: string }): Promise<NetworkRow> {
    return tx.insertInto('networks').values(row).returning(['id', 'code', 'name', 'created_at']).executeTakeFirstOrThrow();
  },

  async find(db: Executor, id: string): Promise<NetworkRow | undefined> {
    return db.selectFrom('networks').select(['id', 'code', 'name', 'created_at']).where('id', '=', id).executeTakeFirst();
  },

  async setMembers(tx: Tx, networkId: string, institutionIds: readonly string[]): Promise<void> {
    await tx.deleteFrom('network_members').where('network_id', '=', networkId).execute();
    if (institutionIds.length > 0) await tx.insertInto('network_members').values(institutionIds.map((institution_id) => ({ network_id: networkId, institution_id }))).execute();
  },

  async members(db: Executor, networkId: string): Promise<Array<{ id: string; code: string; name: string }>> {
    return db
      .selectFrom('network_members as m')
      .innerJoin('institutions as i', 'i.id', 'm.institution_id')
      .select(['i.id', 'i.code', 'i.name'])
      .where('m.network_id', '=', networkId)
      .orderBy(sql`i.code collate "C"`)
      .execute();
  },

  async institutionsExist(db: Executor, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.selectFrom('institutions').select('id').where('id', 'in', [...ids]).execute();
    return new Set(rows.map((r) => r.id));
  },

  async isMember(db: Executor, networkId: string, institutionId: string): Promise<boolean> {
    const row = await db.selectFrom('network_members').select('network_id').where('network_id', '=', networkId).where('institution_id', '=', institutionId).executeTakeFirst();
    return row !== undefined;
  },

  /** Networks the institution belongs to (all of them when institutionId is null: admin, auditor). */
  async list(db: Executor, institutionId: string | null): Promise<NetworkRow[]> {
    let query = db.selectFrom('networks').select(['id', 'code', 'name', 'created_at']);
    if (institutionId !== null) query = query.where('id', 'in', db.selectFrom('network_members').select('network_id').where('institution_id', '=', institutionId));
    return query.orderBy(sql`code collate "C"`).execute();
  },

  async collections(db: Executor, networkId: string): Promise<CatalogCollectionRow[]> {
    const rows = await sql<CatalogCollectionRow>`
      select c.id, c.code, c.name, c.unit, c.scale, c.human_consent, c.biosafety_level, i.id as institution_id, i.code as institution_code, i.name as institution_name
      from collections c join institutions i on i.id = c.institution_id
      where c.institution_id in (select institution_id from network_members where network_id = ${networkId})
      order by i.code collate "C", c.code collate "C"`.execute(db);
    return rows.rows;
  },

  /** Counts per collection, kind and availability; withdrawn material counts as unavailable. */
  async counts(db: Executor, collectionIds: readonly string[]): Promise<Array<{ collection_id: string; kind: string; availability: string; samples: string; quantity: string }>> {
    if (collectionIds.length === 0) return [];
    const rows = await sql<{ collection_id: string; kind: string; availability: string; samples: string; quantity: string }>`
      select collection_id, kind,
             case when consent_withdrawn then 'withdrawn' when state in ('available', 'reserved') and quantity > reserved then 'available' else 'unavailable' end as availability,
             count(*)::bigint as samples, coalesce(sum(quantity - reserved), 0)::bigint as quantity
      from samples
      where collection_id in (select value::uuid from json_array_elements_text(${JSON.stringify(collectionIds)}::json))
        and state not in ('consumed', 'destroyed')
      group by 1, 2, 3 order by collection_id, kind collate "C", availability`.execute(db);
    return rows.rows;
  },

  /** Samples and donors per collection and ICD-10 code (a sample counts under each of its donor's diagnoses). */
  async diagnoses(db: Executor, collectionIds: readonly string[]): Promise<Array<{ collection_id: string; code: string; samples: string; donors: string; available: string }>> {
    if (collectionIds.length === 0) return [];
    const rows = await sql<{ collection_id: string; code: string; samples: string; donors: string; available: string }>`
      select s.collection_id, dx.code, count(*)::bigint as samples, count(distinct d.id)::bigint as donors,
             count(*) filter (where not s.consent_withdrawn and s.state in ('available', 'reserved') and s.quantity > s.reserved)::bigint as available
      from samples s
      join specimens p on p.sample_id = s.root_id
      join donors d on d.id = p.donor_id
      cross join lateral unnest(d.diagnoses) as dx(code)
      where s.collection_id in (select value::uuid from json_array_elements_text(${JSON.stringify(collectionIds)}::json))
        and s.state not in ('consumed', 'destroyed')
      group by 1, 2 order by s.collection_id, dx.code collate "C"`.execute(db);
    return rows.rows;
  },

  async donorCounts(db: Executor, collectionIds: readonly string[]): Promise<Map<string, number>> {
    if (collectionIds.length === 0) return new Map();
    const rows = await sql<{ collection_id: string; donors: string; withdrawn: string }>`
      select collection_id, count(*)::bigint as donors, count(*) filter (where consent_withdrawn_at is not null)::bigint as withdrawn from donors
      where collection_id in (select value::uuid from json_array_elements_text(${JSON.stringify(collectionIds)}::json))
      group by 1`.execute(db);
    return new Map(rows.rows.map((r) => [r.collection_id, Number(r.donors)]));
  },

  async openCalls(db: Executor, collectionIds: readonly string[]): Promise<Array<{ id: string; collection_id: string; title: string; closes_at: Date }>> {
    if (collectionIds.length === 0) return [];
    return db.selectFrom('calls').select(['id', 'collection_id', 'title', 'closes_at']).where('collection_id', 'in', [...collectionIds]).where('state', '=', 'open').orderBy('closes_at').execute();
  },
};
