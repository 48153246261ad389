/** The rows behind FHIR bundles, MIABIS summaries and the pathology lists. */
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tx.js';
import type { FhirSampleRow } from './fhir.js';

type RawFhirRow = Omit<FhirSampleRow, 'quantity'> & { quantity: string };

/** A sample's specimen data is its own record if it has one, else its root's. */
const fhirSelect = sql`
  select s.id, s.identifier, s.kind, s.quantity, s.state, s.parent_id, s.created_at, s.consent_withdrawn,
         c.code as collection_code, c.name as collection_name, c.unit, c.scale, c.biosafety_level as collection_biosafety_level,
         d.code as donor_code, p.collection_method, p.body_site, p.collected_at, p.fixation, p.cold_ischaemia_minutes,
         p.storage_temperature_c, p.sprec, p.biosafety_level
  from samples s
  join collections c on c.id = s.collection_id
  left join lateral (select * from specimens x where x.sample_id in (s.id, s.root_id) order by (x.sample_id = s.id) desc limit 1) p on true
  left join donors d on d.id = p.donor_id`;

const toRow = (r: RawFhirRow): FhirSampleRow => ({ ...r, quantity: BigInt(r.quantity), scale: Number(r.scale) });

export const exportsRepository = {
  async fhirSample(db: Executor, id: string): Promise<FhirSampleRow | undefined> {
    const rows = await sql<RawFhirRow>`${fhirSelect} where s.id = ${id}`.execute(db);
    return rows.rows[0] ? toRow(rows.rows[0]) : undefined;
  },

  /** A page of a collection's samples in identifier order ("C"), after the given identifier. */
  async fhirPage(db: Executor, collectionId: string, after: string | null, limit: number): Promise<FhirSampleRow[]> {
    const rows = await sql<RawFhirRow>`${fhirSelect}
      where s.collection_id = ${collectionId} ${after === null ? sql`` : sql`and s.identifier collate "C" > ${after}`}
      order by s.identifier collate "C" limit ${limit}`.execute(db);
    return rows.rows.map(toRow);
  },

  async collectionIdByCode(db: Executor, code: string): Promise<string | undefined> {
    return (await db.selectFrom('collections').select('id').where('code', '=', code).executeTakeFirst())?.id;
  },

  async collection(db: Executor, id: string) {
    return db
      .selectFrom('collections as c')
      .leftJoin('institutions as i', 'i.id', 'c.institution_id')
      .select(['c.id', 'c.code', 'c.name', 'c.description', 'c.unit', 'c.scale', 'c.human_consent', 'c.biosafety_level', 'c.kinds', 'i.id as institution_id', 'i.code as institution_code', 'i.name as institution_name'])
      .where('c.id', '=', id)
      .executeTakeFirst();
  },

  /** Aggregates for a MIABIS collection record: held samples by kind, fixation and storage temperature. */
  async materials(db: Executor, collectionId: string): Promise<Array<{ kind: string; fixation: string | null; storage_temperature_c: number | null; samples: string }>> {
    const rows = await sql<{ kind: string; fixation: string | null; storage_temperature_c: number | null; samples: string }>`
      select s.kind, p.fixation, p.storage_temperature_c, count(*)::bigint as samples
      from samples s left join specimens p on p.sample_id = s.root_id
      where s.collection_id = ${collectionId} and s.state not in ('consumed', 'destroyed')
      group by 1, 2, 3 order by s.kind collate "C", p.fixation, p.storage_temperature_c`.execute(db);
    return rows.rows;
  },

  async donorStats(db: Executor, collectionId: string): Promise<{ donors: number; withdrawn: number; diagnoses: string[]; firstCollected: string | null; lastCollected: string | null }> {
    const rows = await sql<{ donors: string; withdrawn: string; diagnoses: string[] | null; first: string | null; last: string | null }>`
      select count(*)::bigint as donors, count(*) filter (where consent_withdrawn_at is not null)::bigint as withdrawn,
             (select array_agg(distinct x order by x) from donors d2 cross join lateral unnest(d2.diagnoses) x where d2.collection_id = ${collectionId}) as diagnoses,
             min(collected_on)::text as first, max(collected_on)::text as last
      from donors where collection_id = ${collectionId}`.execute(db);
    const r = rows.rows[0]!;
    return { donors: Number(r.donors), withdrawn: Number(r.withdrawn), diagnoses: r.diagnoses ?? [], firstCollected: r.first, lastCollected: r.last };
  },

  /** Donor list rows: the pseudonym, dates, diagnoses and the current consent; nothing else exists to export. */
  async donorRows(db: Executor, collectionId: string | undefined, after: string | null, limit: number) {
    const rows = await sql<{ code: string; collection_code: string; collected_on: string | null; collection_site: string | null; diagnoses: string[]; consent_withdrawn_at: Date | null; scope: string[] | null; form_version: string | null; given_on: string | null; specimens: string }>`
      select d.code, c.code as collection_code, d.collected_on, d.collection_site, d.diagnoses, d.consent_withdrawn_at,
             k.scope, k.form_version, k.given_on,
             (select count(*) from specimens p where p.donor_id = d.id)::bigint as specimens
      from donors d join collections c on c.id = d.collection_id
      left join lateral (select scope, form_version, given_on from consents where donor_id = d.id order by given_on desc, created_at desc limit 1) k on true
      where true ${collectionId === undefined ? sql`` : sql`and d.collection_id = ${collectionId}`}
        ${after === null ? sql`` : sql`and d.code collate "C" > ${after}`}
      order by d.code collate "C" limit ${limit}`.execute(db);
    return rows.rows;
  },
};
