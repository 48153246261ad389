import { sql } from 'kysely';
import type { Executor } from '../../../platform/db/tx.js';

export interface ExportRow {
  id: string;
  identifier: string;
  kind: string;
  quantity: string;
  state: string;
  parent_identifier: string | null;
  location_id: string | null;
  position: string | null;
  attributes: Record<string, unknown>;
}

export const exportRepository = {
  findCollection(db: Executor, by: { id?: string; code?: string }) {
    let query = db.selectFrom('collections').select(['id', 'code', 'unit', 'scale']);
    query = by.id ? query.where('id', '=', by.id) : query.where('code', '=', by.code ?? '');
    return query.executeTakeFirst();
  },

  async attributeKeys(db: Executor, collectionId: string): Promise<string[]> {
    const result = await sql<{ key: string }>`
      select distinct k.key from samples s cross join lateral jsonb_object_keys(s.attributes) as k(key)
       where s.collection_id = ${collectionId} order by k.key`.execute(db);
    return result.rows.map((r) => r.key);
  },

  async locations(db: Executor): Promise<Array<{ id: string; parent_id: string | null; code: string }>> {
    return db.selectFrom('locations').select(['id', 'parent_id', 'code']).execute();
  },

  /** One page in identifier order (keyset: after the last identifier answered). */
  page(db: Executor, collectionId: string, after: string | null, limit: number): Promise<ExportRow[]> {
    let query = db
      .selectFrom('samples as s')
      .leftJoin('samples as p', 'p.id', 's.parent_id')
      .select(['s.id', 's.identifier', 's.kind', 's.quantity', 's.state', 'p.identifier as parent_identifier', 's.location_id', 's.position', 's.attributes'])
      .where('s.collection_id', '=', collectionId)
      .orderBy('s.identifier')
      .limit(limit);
    if (after !== null) query = query.where('s.identifier', '>', after);
    return query.execute() as Promise<ExportRow[]>;
  },
};
