/**
 * The SQL of the pathology bank: donors, consents, specimens and what a
 * withdrawal touches. A donor's material is every sample whose root is one of
 * the donor's registered specimens.
 */
import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/tx.js';

export interface DonorRow {
  id: string;
  code: string;
  collection_id: string;
  collected_on: string | null;
  collection_site: string | null;
  diagnoses: string[];
  consent_withdrawn_at: Date | null;
  created_at: Date;
}

export interface ConsentRow {
  id: string;
  donor_id: string;
  scope: string[];
  given_on: string;
  form_version: string;
  withdrawn_at: Date | null;
  withdrawal_reason: string | null;
  created_at: Date;
}

export interface SpecimenRow {
  sample_id: string;
  donor_id: string;
  collection_method: string | null;
  body_site: string | null;
  collected_at: Date | null;
  fixation: string | null;
  cold_ischaemia_minutes: number | null;
  storage_temperature_c: number | null;
  sprec: string | null;
  biosafety_level: number | null;
}

export interface LineageSample {
  id: string;
  identifier: string;
  state: string;
  quantity: bigint;
  reserved: bigint;
  parent_id: string | null;
  root_id: string;
}

export interface DonorSpecimenRow extends SpecimenRow {
  identifier: string;
  kind: string;
  quantity: bigint;
  state: string;
  location_id: string | null;
  position: string | null;
  unit: string;
  scale: number;
  descendants: number;
}

export interface SampleConsentRow {
  sample_id: string;
  human_consent: boolean;
  holder_institution_id: string | null;
  consent_withdrawn: boolean;
  donor_id: string | null;
  donor_withdrawn: boolean;
  scope: string[] | null;
}

const donorColumns = ['id', 'code', 'collection_id', 'collected_on', 'collection_site', 'diagnoses', 'consent_withdrawn_at', 'created_at'] as const;
const consentColumns = ['id', 'donor_id', 'scope', 'given_on', 'form_version', 'withdrawn_at', 'withdrawal_reason', 'created_at'] as const;
const specimenColumns = ['sample_id', 'donor_id', 'collection_method', 'body_site', 'collected_at', 'fixation', 'cold_ischaemia_minutes', 'storage_temperature_c', 'sprec', 'biosafety_level'] as const;

const jsonList = (ids: readonly string[]) => sql`(select value::uuid from json_array_elements_text(${JSON.stringify(ids)}::json))`;

export const pathologyRepository = {
  async insertDonor(tx: Tx, row: Omit<DonorRow, 'created_at' | 'consent_withdrawn_at'> & { created_by: string | null }): Promise<DonorRow> {
    return tx.insertInto('donors').values(row).returning(donorColumns).executeTakeFirstOrThrow();
  },

  async findDonor(db: Executor, id: string): Promise<DonorRow | undefined> {
    return db.selectFrom('donors').select(donorColumns).where('id', '=', id).executeTakeFirst();
  },

  async lockDonor(tx: Tx, id: string): Promise<DonorRow | undefined> {
    return tx.selectFrom('donors').select(donorColumns).where('id', '=', id).forUpdate().executeTakeFirst();
  },

  async listDonors(db: Executor, filter: { collectionId?: string | undefined; afterCode?: string | undefined; limit: number }): Promise<DonorRow[]> {
    let query = db.selectFrom('donors').select(donorColumns);
    if (filter.collectionId !== undefined) query = query.where('collection_id', '=', filter.collectionId);
    if (filter.afterCode !== undefined) query = query.where(sql<boolean>`code collate "C" > ${filter.afterCode}`);
    return query.orderBy(sql`code collate "C"`).limit(filter.limit).execute();
  },

  async setDonorWithdrawn(tx: Tx, id: string): Promise<void> {
    await tx.updateTable('donors').set({ consent_withdrawn_at: sql`now()` }).where('id', '=', id).execute();
  },

  async insertConsent(tx: Tx, row: Omit<ConsentRow, 'created_at' | 'withdrawn_at' | 'withdrawal_reason'> & { recorded_by: string | null }): Promise<ConsentRow> {
    return tx.insertInto('consents').values(row).returning(consentColumns).executeTakeFirstOrThrow();
  },

  async consentsOf(db: Executor, donorId: string): Promise<ConsentRow[]> {
    return db.selectFrom('consents').select(consentColumns).where('donor_id', '=', donorId).orderBy('given_on').orderBy('created_at').execute();
  },

  async withdrawConsents(tx: Tx, donorId: string, reason: string | null): Promise<void> {
    await tx.updateTable('consents').set({ withdrawn_at: sql`now()`, withdrawal_reason: reason }).where('donor_id', '=', donorId).where('withdrawn_at', 'is', null).execute();
  },

  async insertSpecimen(tx: Tx, row: SpecimenRow): Promise<SpecimenRow> {
    return tx.insertInto('specimens').values(row).returning(specimenColumns).executeTakeFirstOrThrow();
  },

  /** The specimen record of a sample: its own, else its root's (a subsample shares its origin). */
  async specimenOf(db: Executor, sampleId: string): Promise<SpecimenRow | undefined> {
    const rows = await sql<SpecimenRow>`
      select ${sql.join(specimenColumns.map((c) => sql.ref(`p.${c}`)))}
      from samples s join specimens p on p.sample_id in (s.id, s.root_id)
      where s.id = ${sampleId} order by (p.sample_id = s.id) desc limit 1`.execute(db);
    return rows.rows[0];
  },

  async donorSpecimenCount(db: Executor, donorId: string): Promise<number> {
    const row = await db.selectFrom('specimens').select((eb) => eb.fn.countAll<string>().as('n')).where('donor_id', '=', donorId).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /**
   * A page of the donor's specimens with their samples, in the sample list's order
   * (identifier in byte order, then id), and how many samples were cut from each.
   */
  async donorSpecimens(db: Executor, donorId: string, page: { after?: { identifier: string; id: string } | undefined; limit: number }): Promise<DonorSpecimenRow[]> {
    const after = page.after ? sql`and (s.identifier collate "C", s.id) > (${page.after.identifier} collate "C", ${page.after.id}::uuid)` : sql``;
    const rows = await sql<Omit<DonorSpecimenRow, 'quantity' | 'descendants'> & { quantity: string; descendants: string }>`
      select ${sql.join(specimenColumns.map((c) => sql.ref(`p.${c}`)))},
             s.identifier, s.kind, s.quantity, s.state, s.location_id, s.position, c.unit, c.scale,
             (select count(*) from samples d where d.root_id = s.id and d.id <> s.id) as descendants
      from specimens p
      join samples s on s.id = p.sample_id
      join collections c on c.id = s.collection_id
      where p.donor_id = ${donorId} ${after}
      order by s.identifier collate "C", s.id
      limit ${page.limit}`.execute(db);
    return rows.rows.map((r) => ({ ...r, quantity: BigInt(r.quantity), descendants: Number(r.descendants) }));
  },

  /** Every sample of the donor's lineages, locked, in id order (one lock order for everyone). */
  async lockLineages(tx: Tx, donorId: string): Promise<LineageSample[]> {
    const rows = await sql<Omit<LineageSample, 'quantity' | 'reserved'> & { quantity: string; reserved: string }>`
      select id, identifier, state, quantity, reserved, parent_id, root_id from samples
      where root_id in (select sample_id from specimens where donor_id = ${donorId})
      order by id for update`.execute(tx);
    return rows.rows.map((r) => ({ ...r, quantity: BigInt(r.quantity), reserved: BigInt(r.reserved) }));
  },

  async activeReservations(tx: Executor, sampleIds: readonly string[]): Promise<Array<{ id: string; sample_id: string; quantity: bigint; application_id: string | null }>> {
    if (sampleIds.length === 0) return [];
    const rows = await sql<{ id: string; sample_id: string; quantity: string; application_id: string | null }>`
      select id, sample_id, quantity, application_id from reservations
      where state = 'active' and sample_id in ${jsonList(sampleIds)} order by created_at, id`.execute(tx);
    return rows.rows.map((r) => ({ ...r, quantity: BigInt(r.quantity) }));
  },

  /** Flags the donor's roots; the lineage foreign key cascades the flag to every subsample. */
  async flagWithdrawn(tx: Tx, donorId: string): Promise<void> {
    await sql`update samples set consent_withdrawn = true
      where id in (select sample_id from specimens where donor_id = ${donorId}) and not consent_withdrawn`.execute(tx);
  },

  async curatorIds(db: Executor): Promise<string[]> {
    const rows = await sql<{ id: string }>`select id from users where 'curator' = any(roles) and disabled_at is null`.execute(db);
    return rows.rows.map((r) => r.id);
  },

  /** What the consent rules need about each sample. */
  async sampleConsents(db: Executor, sampleIds: readonly string[]): Promise<SampleConsentRow[]> {
    if (sampleIds.length === 0) return [];
    const rows = await sql<SampleConsentRow>`
      select s.id as sample_id, c.human_consent, c.institution_id as holder_institution_id, s.consent_withdrawn,
             d.id as donor_id, coalesce(d.consent_withdrawn_at is not null, false) as donor_withdrawn,
             (select k.scope from consents k where k.donor_id = d.id and k.withdrawn_at is null
              order by k.given_on desc, k.created_at desc limit 1) as scope
      from samples s
      join collections c on c.id = s.collection_id
      left join specimens p on p.sample_id = s.root_id
      left join donors d on d.id = p.donor_id
      where s.id in ${jsonList(sampleIds)}`.execute(db);
    return rows.rows;
  },

  async setUses(tx: Tx, applicationId: string, uses: readonly string[]): Promise<void> {
    await tx.deleteFrom('application_uses').where('application_id', '=', applicationId).execute();
    if (uses.length > 0) await tx.insertInto('application_uses').values(uses.map((use) => ({ application_id: applicationId, use }))).execute();
  },

  async usesOf(db: Executor, applicationId: string): Promise<string[]> {
    const rows = await db.selectFrom('application_uses').select('use').where('application_id', '=', applicationId).orderBy('use').execute();
    return rows.map((r) => r.use);
  },

  /** The declared uses of several applications at once (an application with none is absent). */
  async usesOfApplications(db: Executor, applicationIds: readonly string[]): Promise<Map<string, string[]>> {
    const uses = new Map<string, string[]>();
    if (applicationIds.length === 0) return uses;
    const rows = await db.selectFrom('application_uses').select(['application_id', 'use']).where('application_id', 'in', [...new Set(applicationIds)]).orderBy('application_id').orderBy('use').execute();
    for (const r of rows) uses.set(r.application_id, [...(uses.get(r.application_id) ?? []), r.use]);
    return uses;
  },

  async applicationParties(db: Executor, applicationId: string): Promise<{ institution_id: string; applicant_id: string; state: string; holder_institution_id: string | null } | undefined> {
    const rows = await sql<{ institution_id: string; applicant_id: string; state: string; holder_institution_id: string | null }>`
      select a.institution_id, a.applicant_id, a.state, c.institution_id as holder_institution_id
      from applications a join calls k on k.id = a.call_id join collections c on c.id = k.collection_id
      where a.id = ${applicationId}`.execute(db);
    return rows.rows[0];
  },
};
