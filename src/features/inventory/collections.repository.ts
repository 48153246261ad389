import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/tx.js';
import type { Unit } from '../../platform/db/schema.js';

export interface CollectionRow {
  id: string;
  code: string;
  name: string;
  description: string | null;
  unit: Unit;
  scale: number;
  human_consent: boolean;
  kinds: string[];
  biosafety_level: number | null;
  institution_id: string | null;
  created_at: Date;
}

const columns = ['id', 'code', 'name', 'description', 'unit', 'scale', 'human_consent', 'kinds', 'biosafety_level', 'institution_id', 'created_at'] as const;

export const collectionsRepository = {
  async insert(tx: Tx, row: Omit<CollectionRow, 'created_at'>): Promise<CollectionRow> {
    return tx.insertInto('collections').values(row).returning(columns).executeTakeFirstOrThrow();
  },

  async find(db: Executor, id: string): Promise<CollectionRow | undefined> {
    return db.selectFrom('collections').select(columns).where('id', '=', id).executeTakeFirst();
  },

  async list(db: Executor, options: { limit: number; afterCode?: string }): Promise<CollectionRow[]> {
    let query = db.selectFrom('collections').select(columns);
    if (options.afterCode !== undefined) query = query.where(sql<boolean>`code collate "C" > ${options.afterCode}`);
    return query.orderBy(sql`code collate "C"`).limit(options.limit).execute();
  },

  /** The next number for a generated root identifier; the row lock keeps numbers unique. */
  async takeNumber(tx: Tx, id: string): Promise<number> {
    const row = await tx
      .updateTable('collections')
      .set({ next_number: sql`next_number + 1` })
      .where('id', '=', id)
      .returning(sql<number>`next_number - 1`.as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Samples still held (not consumed or destroyed), by kind. */
  async summary(db: Executor, id: string): Promise<Array<{ kind: string; samples: string; quantity: string }>> {
    const rows = await sql<{ kind: string; samples: string; quantity: string }>`
      select kind, count(*)::bigint as samples, coalesce(sum(quantity), 0)::bigint as quantity
      from samples where collection_id = ${id} and state not in ('consumed', 'destroyed')
      group by kind order by kind collate "C"`.execute(db);
    return rows.rows;
  },
};
