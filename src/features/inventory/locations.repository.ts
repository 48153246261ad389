import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/tx.js';
import type { LocationKind } from '../../platform/db/schema.js';

export interface LocationRow {
  id: string;
  parent_id: string | null;
  kind: LocationKind;
  code: string;
  name: string;
  rows: number | null;
  cols: number | null;
  path: string;
}

const columns = ['id', 'parent_id', 'kind', 'code', 'name', 'rows', 'cols'] as const;

/** The path is built by walking up the tree: locations are a few levels deep. */
const withPath = (ids: string[]) => sql<LocationRow>`
  with recursive up(start_id, id, parent_id, code, depth) as (
    select l.id, l.id, l.parent_id, l.code, 0 from locations l where l.id in (select json_array_elements_text(${JSON.stringify(ids)}::json)::uuid)
    union all
    select up.start_id, p.id, p.parent_id, p.code, up.depth + 1 from up join locations p on p.id = up.parent_id
  )
  select l.id, l.parent_id, l.kind, l.code, l.name, l.rows, l.cols,
    (select string_agg(up.code, '/' order by up.depth desc) from up where up.start_id = l.id) as path
  from locations l where l.id in (select json_array_elements_text(${JSON.stringify(ids)}::json)::uuid)`;

export const locationsRepository = {
  async insert(tx: Tx, row: Omit<LocationRow, 'path'>): Promise<void> {
    await tx.insertInto('locations').values(row).execute();
  },

  async find(db: Executor, id: string): Promise<LocationRow | undefined> {
    return (await withPath([id]).execute(db)).rows[0];
  },

  async findMany(db: Executor, ids: string[]): Promise<LocationRow[]> {
    if (ids.length === 0) return [];
    return (await withPath(ids).execute(db)).rows;
  },

  async list(db: Executor, options: { parentId: string | null; limit: number; afterCode?: string }): Promise<LocationRow[]> {
    let query = db.selectFrom('locations').select(columns);
    query = options.parentId === null ? query.where('parent_id', 'is', null) : query.where('parent_id', '=', options.parentId);
    if (options.afterCode !== undefined) query = query.where(sql<boolean>`code collate "C" > ${options.afterCode}`);
    const rows = await query.orderBy(sql`code collate "C"`).limit(options.limit).execute();
    const paths = new Map((await this.findMany(db, rows.map((r) => r.id))).map((r) => [r.id, r.path]));
    return rows.map((r) => ({ ...r, path: paths.get(r.id) ?? r.code }));
  },

  async occupancy(db: Executor, id: string): Promise<Array<{ position: string; sample_id: string; identifier: string }>> {
    return db
      .selectFrom('samples')
      .select(['position', 'id as sample_id', 'identifier'])
      .where('location_id', '=', id)
      .where('position', 'is not', null)
      .orderBy('position')
      .execute() as Promise<Array<{ position: string; sample_id: string; identifier: string }>>;
  },

  async occupant(db: Executor, locationId: string, position: string): Promise<string | undefined> {
    const row = await db.selectFrom('samples').select('id').where('location_id', '=', locationId).where('position', '=', position).executeTakeFirst();
    return row?.id;
  },
};
