/**
 * Donors, their consent and their specimens. A withdrawal of consent
 * quarantines the donor's remaining material, releases what was reserved for
 * it, flags the whole lineage so the database refuses any new reservation,
 * and tells the curators where the rest of the material is.
 */
import crypto from 'node:crypto';
import type { Actor } from '../../core/actor.js';
import { sampleOrderCursor } from '../../core/cursor.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity, parseQuantity } from '../../core/quantity.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, isUniqueViolation, sqlState, type Tx } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import { collectionsRepository } from '../inventory/collections.repository.js';
import { ledger, type LedgerActor } from '../inventory/ledger.js';
import type { NotificationsService } from '../notifications/notifications.service.js';
import { holdingsRepository } from './holdings.repository.js';
import { pathologyRepository as repo, type ConsentRow, type DonorRow, type SpecimenRow } from './pathology.repository.js';
import type { ConsentInput, DonorInput, DonorSpecimen, SpecimenInput } from './pathology.schemas.js';
import { toSpecimenView } from './pathology.view.js';

export interface DonorView {
  id: string;
  code: string;
  collectionId: string;
  collectedOn: string | null;
  collectionSite: string | null;
  diagnoses: string[];
  consentWithdrawnAt: string | null;
  consents: Array<{ id: string; scope: string[]; givenOn: string; formVersion: string; withdrawnAt: string | null }>;
  specimens: number;
  createdAt: string;
}

export type Holdings = Awaited<ReturnType<typeof holdingsRepository.of>> & { donorId: string; consentWithdrawn: boolean };

export interface Withdrawal {
  donor: DonorView;
  quarantined: Array<{ sampleId: string; identifier: string }>;
  releasedReservations: Array<{ reservationId: string; sampleId: string; identifier: string; applicationId: string | null; quantity: string }>;
  holdings: Holdings;
}

const WITHDRAWAL_REASON = 'donor consent withdrawn';
/** States whose material is on the bank's shelf and is quarantined on withdrawal. */
const onShelf = new Set(['available', 'reserved', 'returned']);

export type DonorsService = ReturnType<typeof createDonorsService>;

export function createDonorsService(db: DB, deps: { notifications: NotificationsService }) {
  async function view(donor: DonorRow, executor: DB | Tx = db): Promise<DonorView> {
    const consents = await repo.consentsOf(executor, donor.id);
    return toDonorView(donor, consents, await repo.donorSpecimenCount(executor, donor.id));
  }

  async function humanCollection(executor: DB | Tx, id: string, field: string) {
    const collection = await collectionsRepository.find(executor, id);
    if (!collection) throw invalid(field, 'no such collection');
    if (!collection.human_consent) throw invalid(field, 'is not a collection of human material (humanConsent is false)');
    return collection;
  }

  async function insertConsent(tx: Tx, actor: Actor, donorId: string, input: ConsentInput): Promise<ConsentRow> {
    return repo.insertConsent(tx, { id: crypto.randomUUID(), donor_id: donorId, scope: [...new Set(input.scope)].sort(), given_on: input.givenOn, form_version: input.formVersion, recorded_by: actor.userId });
  }

  async function lockedDonor(tx: Tx, id: string): Promise<DonorRow> {
    const donor = await repo.lockDonor(tx, id);
    if (!donor) throw notFound('The donor');
    return donor;
  }

  async function holdingsOf(executor: DB | Tx, donor: DonorRow): Promise<Holdings> {
    return { donorId: donor.id, consentWithdrawn: donor.consent_withdrawn_at !== null, ...(await holdingsRepository.of(executor, donor.id)) };
  }

  return {
    async create(actor: Actor | null, input: DonorInput): Promise<DonorView> {
      authorize(actor, 'donor.manage');
      try {
        return await inTransaction(db, async (tx) => {
          await humanCollection(tx, input.collectionId, 'collectionId');
          const donor = await repo.insertDonor(tx, {
            id: crypto.randomUUID(),
            code: input.code,
            collection_id: input.collectionId,
            collected_on: input.collectedOn ?? null,
            collection_site: input.collectionSite ?? null,
            diagnoses: [...new Set(input.diagnoses ?? [])],
            created_by: actor.userId,
          });
          if (input.consent) await insertConsent(tx, actor, donor.id, input.consent);
          await recordAudit(tx, actor, { stream: `donor:${donor.id}`, action: 'donor.create', entityType: 'donor', entityId: donor.id, data: { collectionId: donor.collection_id, diagnoses: donor.diagnoses, consent: input.consent?.scope ?? null } });
          return view(donor, tx);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('duplicate', `Donor code ${input.code} is already registered`, { errors: [{ field: 'code', message: 'is already used' }] });
        throw error;
      }
    },

    async get(actor: Actor | null, id: string): Promise<DonorView> {
      authorize(actor, 'donor.read');
      const donor = await repo.findDonor(db, id);
      if (!donor) throw notFound('The donor');
      return view(donor);
    },

    async list(actor: Actor | null, query: { collectionId?: string | undefined; limit: number; cursor?: string | undefined }): Promise<{ items: DonorView[]; nextCursor: string | null }> {
      authorize(actor, 'donor.read');
      const rows = await repo.listDonors(db, { collectionId: query.collectionId, afterCode: query.cursor, limit: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      return { items: await Promise.all(page.map((d) => view(d))), nextCursor: rows.length > query.limit ? page.at(-1)!.code : null };
    },

    /** The donor's specimens a page at a time, each with its sample, pre-analytical record and subsample count. */
    async specimens(actor: Actor | null, donorId: string, query: { limit: number; cursor?: string | undefined }): Promise<{ items: DonorSpecimen[]; nextCursor: string | null }> {
      authorize(actor, 'donor.read');
      const donor = await repo.findDonor(db, donorId);
      if (!donor) throw notFound('The donor');
      const after = query.cursor === undefined ? undefined : sampleOrderCursor.decode(query.cursor);
      const rows = await repo.donorSpecimens(db, donor.id, { after, limit: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          sample: {
            id: row.sample_id,
            identifier: row.identifier,
            kind: row.kind,
            quantity: formatQuantity(row.quantity, row.scale),
            unit: row.unit as DonorSpecimen['sample']['unit'],
            state: row.state as DonorSpecimen['sample']['state'],
            locationId: row.location_id,
            position: row.position,
          },
          specimen: toSpecimenView(row),
          descendants: row.descendants,
        })),
        nextCursor: rows.length > query.limit && last ? sampleOrderCursor.encode({ identifier: last.identifier, id: last.sample_id }) : null,
      };
    },

    async addConsent(actor: Actor | null, donorId: string, input: ConsentInput): Promise<DonorView> {
      authorize(actor, 'donor.manage');
      return inTransaction(db, async (tx) => {
        const donor = await lockedDonor(tx, donorId);
        if (donor.consent_withdrawn_at) throw new DomainError('consent-withdrawn', `Donor ${donor.code} withdrew consent; a new consent needs a new donor record`);
        const consent = await insertConsent(tx, actor, donor.id, input);
        await recordAudit(tx, actor, { stream: `donor:${donor.id}`, action: 'consent.record', entityType: 'donor', entityId: donor.id, data: { consentId: consent.id, scope: consent.scope, givenOn: consent.given_on, formVersion: consent.form_version } });
        return view(donor, tx);
      });
    },

    /** Registers a specimen of the donor: links an existing root sample, or creates the sample through the ledger. */
    async addSpecimen(actor: Actor | null, donorId: string, input: SpecimenInput): Promise<SpecimenRow> {
      authorize(actor, 'donor.manage');
      return inTransaction(db, async (tx) => {
        const donor = await lockedDonor(tx, donorId);
        if (donor.consent_withdrawn_at) throw new DomainError('consent-withdrawn', `Donor ${donor.code} withdrew consent; no new specimen can be registered`);
        const who: LedgerActor = { actor };
        let sampleId = input.sampleId;
        if (sampleId === undefined) {
          if (input.kind === undefined || input.quantity === undefined) throw invalid('sampleId', 'give the sampleId of a registered sample, or kind and quantity to register one');
          const collection = await humanCollection(tx, donor.collection_id, 'donorId');
          const quantity = parseQuantity(input.quantity, collection.scale, { field: 'quantity' });
          const sample = await ledger.create(tx, who, { collectionId: collection.id, kind: input.kind, quantity, identifier: input.identifier, locationId: input.locationId, reason: 'specimen registered' });
          sampleId = sample.id;
        } else {
          const sample = await ledger.find(tx, sampleId);
          if (!sample) throw invalid('sampleId', 'no such sample');
          if (sample.parent_id !== null) throw invalid('sampleId', 'is a subsample; register its root sample (subsamples follow it)');
          if (sample.collection_id !== donor.collection_id) throw invalid('sampleId', "belongs to another collection than the donor's");
        }
        let specimen: SpecimenRow;
        try {
          specimen = await repo.insertSpecimen(tx, specimenRow(sampleId, donor.id, input));
        } catch (error) {
          if (isUniqueViolation(error)) throw new DomainError('duplicate', 'This sample is already registered as a specimen', { errors: [{ field: 'sampleId', message: 'is already a specimen' }] });
          throw error;
        }
        await recordAudit(tx, actor, { stream: `donor:${donor.id}`, action: 'specimen.register', entityType: 'sample', entityId: sampleId, data: { fixation: specimen.fixation, sprec: specimen.sprec, biosafetyLevel: specimen.biosafety_level } });
        return specimen;
      });
    },

    async specimen(actor: Actor | null, sampleId: string): Promise<SpecimenRow> {
      authorize(actor, 'sample.read');
      const specimen = await repo.specimenOf(db, sampleId);
      if (!specimen) throw notFound('The specimen record');
      return specimen;
    },

    async holdings(actor: Actor | null, donorId: string): Promise<Holdings> {
      authorize(actor, 'donor.read');
      const donor = await repo.findDonor(db, donorId);
      if (!donor) throw notFound('The donor');
      return holdingsOf(db, donor);
    },

    /** Withdrawal of consent, at any time, in one transaction (retried if a subsample appears meanwhile). */
    async withdraw(actor: Actor | null, donorId: string, reason?: string): Promise<Withdrawal> {
      authorize(actor, 'donor.manage');
      for (let attempt = 1; ; attempt++) {
        try {
          return await inTransaction(db, (tx) => withdrawIn(tx, actor, donorId, reason ?? null));
        } catch (error) {
          // A split committed between our lock and our flag leaves an unlocked child on the shelf: start again.
          if (attempt < 4 && sqlState(error) === '23514') continue;
          throw error;
        }
      }
    },
  };

  async function withdrawIn(tx: Tx, actor: Actor, donorId: string, reason: string | null): Promise<Withdrawal> {
    const donor = await lockedDonor(tx, donorId);
    if (donor.consent_withdrawn_at) throw new DomainError('consent-withdrawn', `Donor ${donor.code} already withdrew consent`, { errors: [{ field: 'donorId', message: 'consent is already withdrawn' }] });
    const who: LedgerActor = { actor };
    const samples = await repo.lockLineages(tx, donor.id);
    const byId = new Map(samples.map((s) => [s.id, s]));
    const scale = (await collectionsRepository.find(tx, donor.collection_id))?.scale ?? 0;
    const released: Withdrawal['releasedReservations'] = [];
    for (const r of await repo.activeReservations(tx, samples.map((s) => s.id))) {
      await ledger.release(tx, who, r.id, WITHDRAWAL_REASON);
      released.push({ reservationId: r.id, sampleId: r.sample_id, identifier: byId.get(r.sample_id)?.identifier ?? '', applicationId: r.application_id, quantity: formatQuantity(r.quantity, scale) });
    }
    const quarantined: Withdrawal['quarantined'] = [];
    for (const sample of samples) {
      if (!onShelf.has(sample.state)) continue;
      await ledger.setState(tx, who, sample.id, { state: 'quarantined', movementKind: 'state', reason: WITHDRAWAL_REASON });
      quarantined.push({ sampleId: sample.id, identifier: sample.identifier });
    }
    await repo.withdrawConsents(tx, donor.id, reason);
    await repo.setDonorWithdrawn(tx, donor.id);
    await repo.flagWithdrawn(tx, donor.id);
    const after = (await repo.findDonor(tx, donor.id))!;
    const holdings = await holdingsOf(tx, after);
    await recordAudit(tx, actor, {
      stream: `donor:${donor.id}`,
      action: 'consent.withdraw',
      entityType: 'donor',
      entityId: donor.id,
      data: { quarantined: quarantined.map((q) => q.sampleId), releasedReservations: released.map((r) => r.reservationId), loans: holdings.loans.length, shipments: holdings.shipments.length },
    });
    await deps.notifications.notify(tx, await repo.curatorIds(tx), withdrawalMessage(after, quarantined, released, holdings));
    return { donor: await view(after, tx), quarantined, releasedReservations: released, holdings };
  }
}

function specimenRow(sampleId: string, donorId: string, input: SpecimenInput): SpecimenRow {
  return {
    sample_id: sampleId,
    donor_id: donorId,
    collection_method: input.collectionMethod ?? null,
    body_site: input.bodySite ?? null,
    collected_at: input.collectedAt ? new Date(input.collectedAt) : null,
    fixation: input.fixation ?? null,
    cold_ischaemia_minutes: input.coldIschaemiaMinutes ?? null,
    storage_temperature_c: input.storageTemperatureC ?? null,
    sprec: input.sprec ?? null,
    biosafety_level: input.biosafetyLevel ?? null,
  };
}

/** The curators' notice: pseudonymous code and sample identifiers only. */
function withdrawalMessage(donor: DonorRow, quarantined: Withdrawal['quarantined'], released: Withdrawal['releasedReservations'], holdings: Holdings) {
  const lines = [
    `Donor ${donor.code} withdrew consent. ${quarantined.length} sample(s) in the bank are quarantined and can no longer be reserved or allocated.`,
  ];
  if (released.length > 0) lines.push(`Reservations released: ${released.map((r) => `${r.identifier} (${r.quantity}${r.applicationId ? `, application ${r.applicationId}` : ''})`).join('; ')}.`);
  if (holdings.shipments.length > 0) lines.push(`In shipments not yet received: ${holdings.shipments.map((s) => `${s.identifier} (${s.reference}, ${s.shipmentState})`).join('; ')}.`);
  if (holdings.loans.length > 0) lines.push(`On open loans (recall or confirm destruction): ${holdings.loans.map((l) => `${l.identifier} (loan ${l.loanId}, due ${l.dueAt})`).join('; ')}.`);
  if (holdings.elsewhere.length > 0) lines.push(`Outside the bank: ${holdings.elsewhere.map((s) => `${s.identifier} (${s.state})`).join('; ')}.`);
  return { kind: 'consent.withdrawn', title: `Consent withdrawn: donor ${donor.code}`, body: lines.join('\n'), entityType: 'donor', entityId: donor.id };
}

export function toDonorView(donor: DonorRow, consents: ConsentRow[], specimens: number): DonorView {
  return {
    id: donor.id,
    code: donor.code,
    collectionId: donor.collection_id,
    collectedOn: donor.collected_on,
    collectionSite: donor.collection_site,
    diagnoses: donor.diagnoses,
    consentWithdrawnAt: donor.consent_withdrawn_at ? new Date(donor.consent_withdrawn_at).toISOString() : null,
    consents: consents.map((c) => ({ id: c.id, scope: c.scope, givenOn: c.given_on, formVersion: c.form_version, withdrawnAt: c.withdrawn_at ? new Date(c.withdrawn_at).toISOString() : null })),
    specimens,
    createdAt: new Date(donor.created_at).toISOString(),
  };
}
