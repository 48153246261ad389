/**
 * The inventory: collections, storage locations and samples, and the ledger
 * operations as the API offers them. Parses quantities with the collection's
 * scale (never rounding), authorizes, and runs each change in one transaction
 * (under the request's Idempotency-Key when it has one).
 */
import crypto from 'node:crypto';
import type { z } from 'zod';
import type { Actor } from '../../core/actor.js';
import { cursor, sampleOrderCursor } from '../../core/cursor.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity, parseQuantity, parseSignedQuantity } from '../../core/quantity.js';
import type { SampleState } from '../../core/ledger.js';
import type { DB } from '../../platform/db/database.js';
import { idempotent, inTransaction, isUniqueViolation, type Tx } from '../../platform/db/tx.js';
import type { LocationKind, Unit } from '../../platform/db/schema.js';
import { recordAudit } from '../audit/audit.service.js';
import { collectionsRepository, type CollectionRow } from './collections.repository.js';
import { ledger, type LedgerActor } from './ledger.js';
import { locationsRepository, type LocationRow } from './locations.repository.js';
import { samplesRepository, type MovementRow, type ReservationRow, type SampleRow } from './samples.repository.js';
import type * as s from './inventory.schemas.js';

export type CollectionInput = z.infer<typeof s.collectionInput>;
export type LocationInput = z.infer<typeof s.locationInput>;
export type SampleInput = z.infer<typeof s.sampleInput>;
export type SampleQuery = z.infer<typeof s.sampleQuery>;
export type SplitInput = z.infer<typeof s.splitInput>;
export type ReservationInput = z.infer<typeof s.reservationInput>;
export type MoveInput = z.infer<typeof s.moveInput>;
export type StateInput = z.infer<typeof s.stateInput>;
export type CollectionView = z.infer<typeof s.collection>;
export type SampleView = z.infer<typeof s.sample>;
export type LocationView = z.infer<typeof s.location>;
export type LocationDetailView = z.infer<typeof s.locationDetail>;
export type ReservationView = z.infer<typeof s.reservation>;
export type MovementView = z.infer<typeof s.movement>;
export type Page<T> = { items: T[]; nextCursor: string | null };
interface PageOptions {
  limit: number;
  cursor?: string | undefined;
}

type Scale = { unit: Unit; scale: number };

export function toCollection(row: CollectionRow): CollectionView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    description: row.description,
    unit: row.unit,
    scale: row.scale,
    humanConsent: row.human_consent,
    kinds: row.kinds,
    biosafetyLevel: row.biosafety_level,
    institutionId: row.institution_id,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export function toSample(row: SampleRow, c: Scale): SampleView {
  return {
    id: row.id,
    identifier: row.identifier,
    collectionId: row.collection_id,
    kind: row.kind,
    quantity: formatQuantity(row.quantity, c.scale),
    reserved: formatQuantity(row.reserved, c.scale),
    available: formatQuantity(row.quantity - row.reserved, c.scale),
    unit: c.unit,
    state: row.state,
    parentId: row.parent_id,
    rootId: row.root_id,
    locationId: row.location_id,
    position: row.position,
    attributes: row.attributes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toReservation(row: ReservationRow, c: Scale): ReservationView {
  return {
    id: row.id,
    sampleId: row.sample_id,
    quantity: formatQuantity(row.quantity, c.scale),
    applicationId: row.application_id,
    note: row.note,
    state: row.state,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function toMovement(row: MovementRow, c: Scale): MovementView {
  return {
    id: row.id,
    sampleId: row.sample_id,
    kind: row.kind,
    delta: formatQuantity(row.delta, c.scale),
    reservedDelta: formatQuantity(row.reserved_delta, c.scale),
    quantityAfter: formatQuantity(row.quantity_after, c.scale),
    reservedAfter: formatQuantity(row.reserved_after, c.scale),
    counterpartId: row.counterpart_id,
    reservationId: row.reservation_id,
    stateAfter: row.state_after,
    reason: row.reason,
    actorId: row.actor_id,
    occurredAt: new Date(row.occurred_at).toISOString(),
  };
}

function toLocation(row: LocationRow): LocationView {
  return { id: row.id, parentId: row.parent_id, kind: row.kind, code: row.code, name: row.name, rows: row.rows, cols: row.cols, path: row.path };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where each location kind sits in the tree; a child sits strictly below its parent. */
const locationRank: Record<LocationKind, number> = { site: 0, room: 1, freezer: 2, cabinet: 2, rack: 3, shelf: 3, box: 4 };

export type InventoryService = ReturnType<typeof createInventoryService>;

export interface IdempotencyKey {
  key?: string | undefined;
}

export function createInventoryService(db: DB) {
  /** Unit and scale never change once a collection exists, so they are cached. */
  const scales = new Map<string, Scale>();

  async function scaleOf(collectionId: string): Promise<Scale> {
    const cached = scales.get(collectionId);
    if (cached) return cached;
    const row = await collectionsRepository.find(db, collectionId);
    if (!row) throw notFound('The collection');
    const scale = { unit: row.unit, scale: row.scale };
    scales.set(collectionId, scale);
    return scale;
  }

  async function view(row: SampleRow): Promise<SampleView> {
    return toSample(row, await scaleOf(row.collection_id));
  }

  async function views<T extends SampleRow>(rows: T[]): Promise<SampleView[]> {
    return Promise.all(rows.map(view));
  }

  /** A sample's collection never changes: remembered, so a hot reservation path skips a round trip. */
  const sampleCollections = new Map<string, string>();
  async function scaleOfSample(id: string): Promise<Scale> {
    let collectionId = sampleCollections.get(id);
    if (collectionId === undefined) {
      collectionId = (await existingSample(id)).collection_id;
      if (sampleCollections.size >= 100_000) sampleCollections.clear();
      sampleCollections.set(id, collectionId);
    }
    return scaleOf(collectionId);
  }

  async function existingSample(id: string): Promise<SampleRow> {
    const sample = await samplesRepository.find(db, id);
    if (!sample) throw notFound('The sample');
    return sample;
  }

  const who = (actor: Actor): LedgerActor => ({ actor, requestId: actor.requestId });

  /** Runs a change once per Idempotency-Key (same key and body replay the first answer). */
  function once<T>(actor: Actor, key: string | undefined, scope: string, input: unknown, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return idempotent(db, { userId: actor.userId, key, scope, input }, fn);
  }

  const service = {
    // ---- collections ----
    async createCollection(actor: Actor | null, input: CollectionInput): Promise<CollectionView> {
      authorize(actor, 'collection.create');
      if (input.unit === 'count' && input.scale !== 0) throw invalid('scale', 'a count has no decimals: use scale 0');
      const kinds = [...new Set((input.kinds ?? []).map((k) => k.trim()))];
      if (kinds.length !== (input.kinds ?? []).length) throw invalid('kinds', 'lists a kind twice');
      try {
        return await inTransaction(db, async (tx) => {
          if (input.institutionId && !(await tx.selectFrom('institutions').select('id').where('id', '=', input.institutionId).executeTakeFirst())) {
            throw invalid('institutionId', 'no such institution');
          }
          const row = await collectionsRepository.insert(tx, {
            id: crypto.randomUUID(),
            code: input.code,
            name: input.name,
            description: input.description ?? null,
            unit: input.unit,
            scale: input.scale,
            human_consent: input.humanConsent,
            kinds,
            biosafety_level: input.biosafetyLevel ?? null,
            institution_id: input.institutionId ?? null,
          });
          await recordAudit(tx, actor, { stream: `collection:${row.id}`, action: 'collection.create', entityType: 'collection', entityId: row.id, data: { code: row.code, unit: row.unit, scale: row.scale } });
          return toCollection(row);
        });
      } catch (error) {
        if (isUniqueViolation(error, 'collections_code_key')) throw new DomainError('duplicate', `A collection with code ${input.code} already exists`, { errors: [{ field: 'code', message: 'is already used' }] });
        throw error;
      }
    },

    async listCollections(actor: Actor | null, options: PageOptions): Promise<Page<CollectionView>> {
      authorize(actor, 'collection.read');
      const after = options.cursor === undefined ? undefined : cursor.decode(options.cursor, 1)[0];
      const rows = await collectionsRepository.list(db, { limit: options.limit + 1, ...(after === undefined ? {} : { afterCode: after }) });
      const items = rows.slice(0, options.limit);
      return { items: items.map(toCollection), nextCursor: rows.length > options.limit ? cursor.encode(items[items.length - 1]!.code) : null };
    },

    async getCollection(actor: Actor | null, id: string): Promise<CollectionView> {
      authorize(actor, 'collection.read');
      const row = await collectionsRepository.find(db, id);
      if (!row) throw notFound('The collection');
      return toCollection(row);
    },

    async collectionSummary(actor: Actor | null, id: string): Promise<z.infer<typeof s.collectionSummary>> {
      authorize(actor, 'collection.read');
      const row = await collectionsRepository.find(db, id);
      if (!row) throw notFound('The collection');
      const kinds = await collectionsRepository.summary(db, id);
      let samples = 0;
      let quantity = 0n;
      const byKind: Record<string, { samples: number; quantity: string }> = {};
      for (const k of kinds) {
        samples += Number(k.samples);
        quantity += BigInt(k.quantity);
        byKind[k.kind] = { samples: Number(k.samples), quantity: formatQuantity(BigInt(k.quantity), row.scale) };
      }
      return { samples, quantity: formatQuantity(quantity, row.scale), unit: row.unit, byKind };
    },

    // ---- locations ----
    async createLocation(actor: Actor | null, input: LocationInput): Promise<LocationView> {
      authorize(actor, 'location.manage');
      const parentId = input.parentId ?? null;
      if (input.kind === 'box' && (input.rows === undefined || input.cols === undefined)) throw invalid(input.rows === undefined ? 'rows' : 'cols', 'a box needs rows and cols');
      if (input.kind !== 'box' && (input.rows !== undefined || input.cols !== undefined)) throw invalid(input.rows !== undefined ? 'rows' : 'cols', 'only a box has rows and cols');
      if (input.kind === 'site' && parentId !== null) throw invalid('parentId', 'a site is the top of the tree and has no parent');
      if (input.kind !== 'site' && parentId === null) throw invalid('parentId', `a ${input.kind} needs a parent location`);
      try {
        return await inTransaction(db, async (tx) => {
          if (parentId !== null) {
            const parent = await locationsRepository.find(tx, parentId);
            if (!parent) throw invalid('parentId', 'no such location');
            if (locationRank[input.kind] <= locationRank[parent.kind]) throw invalid('kind', `a ${input.kind} cannot be inside a ${parent.kind}`);
          }
          const id = crypto.randomUUID();
          await locationsRepository.insert(tx, { id, parent_id: parentId, kind: input.kind, code: input.code, name: input.name, rows: input.rows ?? null, cols: input.cols ?? null });
          await recordAudit(tx, actor, { stream: `location:${id}`, action: 'location.create', entityType: 'location', entityId: id, data: { parentId, kind: input.kind, code: input.code } });
          return toLocation((await locationsRepository.find(tx, id))!);
        });
      } catch (error) {
        if (isUniqueViolation(error, 'locations_code_in_parent')) throw new DomainError('duplicate', `A location with code ${input.code} already exists there`, { errors: [{ field: 'code', message: 'is already used under this parent' }] });
        throw error;
      }
    },

    async listLocations(actor: Actor | null, options: PageOptions & { parentId?: string | undefined }): Promise<Page<LocationView>> {
      authorize(actor, 'location.read');
      const after = options.cursor === undefined ? undefined : cursor.decode(options.cursor, 1)[0];
      const rows = await locationsRepository.list(db, { parentId: options.parentId ?? null, limit: options.limit + 1, ...(after === undefined ? {} : { afterCode: after }) });
      const items = rows.slice(0, options.limit);
      return { items: items.map(toLocation), nextCursor: rows.length > options.limit ? cursor.encode(items[items.length - 1]!.code) : null };
    },

    async getLocation(actor: Actor | null, id: string): Promise<LocationDetailView> {
      authorize(actor, 'location.read');
      const row = await locationsRepository.find(db, id);
      if (!row) throw notFound('The location');
      const children = await locationsRepository.list(db, { parentId: id, limit: 1000 });
      const occupancy = await locationsRepository.occupancy(db, id);
      return { ...toLocation(row), children: children.map(toLocation), occupancy: occupancy.map((o) => ({ position: o.position, sampleId: o.sample_id, identifier: o.identifier })) };
    },

    // ---- samples ----
    async createSample(actor: Actor | null, input: SampleInput, idem: IdempotencyKey = {}): Promise<SampleView> {
      authorize(actor, 'sample.create');
      const scale = await scaleOf(input.collectionId).catch(() => {
        throw invalid('collectionId', 'no such collection');
      });
      const quantity = parseQuantity(input.quantity, scale.scale, { field: 'quantity' });
      const sample = await once(actor, idem.key, 'POST /samples', input, async (tx) =>
        toSample(
          await ledger.create(tx, who(actor), {
            collectionId: input.collectionId,
            kind: input.kind,
            quantity,
            identifier: input.identifier,
            locationId: input.locationId,
            position: input.position,
            attributes: input.attributes,
          }),
          scale,
        ),
      );
      return sample;
    },

    async getSample(actor: Actor | null, id: string): Promise<SampleView> {
      authorize(actor, 'sample.read');
      return view(await existingSample(id));
    },

    async listSamples(actor: Actor | null, query: SampleQuery): Promise<Page<SampleView>> {
      authorize(actor, 'sample.read');
      const after = query.cursor === undefined ? undefined : sampleOrderCursor.decode(query.cursor);
      const rows = await samplesRepository.list(db, { collectionId: query.collectionId, kind: query.kind, state: query.state, locationId: query.locationId, q: query.q, after, limit: query.limit + 1 });
      const items = rows.slice(0, query.limit);
      const last = items[items.length - 1];
      return { items: await views(items), nextCursor: rows.length > query.limit && last ? sampleOrderCursor.encode(last) : null };
    },

    async movements(actor: Actor | null, id: string, options: PageOptions): Promise<Page<MovementView>> {
      authorize(actor, 'sample.read');
      const sample = await existingSample(id);
      const scale = await scaleOf(sample.collection_id);
      let afterSeq: bigint | undefined;
      if (options.cursor !== undefined) {
        const [seq] = cursor.decode(options.cursor, 1);
        if (!/^[0-9]{1,18}$/.test(seq ?? '')) throw invalid('cursor', 'is not a cursor this list gave out');
        afterSeq = BigInt(seq!);
      }
      const rows = await samplesRepository.movements(db, id, { limit: options.limit + 1, afterSeq });
      const items = rows.slice(0, options.limit);
      const last = items[items.length - 1];
      return { items: items.map((m) => toMovement(m, scale)), nextCursor: rows.length > options.limit && last ? cursor.encode(last.seq.toString()) : null };
    },

    async lineage(actor: Actor | null, id: string): Promise<z.infer<typeof s.lineage>> {
      authorize(actor, 'sample.read');
      await existingSample(id);
      const [ancestors, descendants] = await Promise.all([samplesRepository.ancestors(db, id), samplesRepository.descendants(db, id, 5000)]);
      return { ancestors: await views(ancestors), descendants: await Promise.all(descendants.map(async (d) => ({ ...(await view(d)), depth: d.depth }))) };
    },

    async reservations(actor: Actor | null, id: string, options: PageOptions): Promise<Page<ReservationView>> {
      authorize(actor, 'sample.read');
      const sample = await existingSample(id);
      const scale = await scaleOf(sample.collection_id);
      let after: { createdAt: Date; id: string } | undefined;
      if (options.cursor !== undefined) {
        const [at, rid] = cursor.decode(options.cursor, 2) as [string, string];
        const createdAt = new Date(at);
        if (Number.isNaN(createdAt.getTime()) || !UUID.test(rid)) throw invalid('cursor', 'is not a cursor this list gave out');
        after = { createdAt, id: rid };
      }
      const rows = await samplesRepository.reservations(db, id, { limit: options.limit + 1, after });
      const items = rows.slice(0, options.limit);
      const last = items[items.length - 1];
      return { items: items.map((r) => toReservation(r, scale)), nextCursor: rows.length > options.limit && last ? cursor.encode(new Date(last.created_at).toISOString(), last.id) : null };
    },

    async split(actor: Actor | null, id: string, input: SplitInput, idem: IdempotencyKey = {}): Promise<{ parent: SampleView; children: SampleView[] }> {
      authorize(actor, 'sample.split');
      const sample = await existingSample(id);
      const scale = await scaleOf(sample.collection_id);
      const parts = input.parts.map((part, i) => ({
        quantity: parseQuantity(part.quantity, scale.scale, { field: `parts.${i}.quantity` }),
        kind: part.kind,
        identifier: part.identifier,
        locationId: part.locationId,
        position: part.position,
      }));
      const loss = input.loss === undefined ? undefined : parseQuantity(input.loss, scale.scale, { field: 'loss', allowZero: true });
      return once(actor, idem.key, `POST /samples/${id}/split`, input, async (tx) => {
        const result = await ledger.split(tx, who(actor), id, { parts, loss, reason: input.reason });
        return { parent: toSample(result.parent, scale), children: result.children.map((c) => toSample(c, scale)) };
      });
    },

    async reserve(actor: Actor | null, id: string, input: ReservationInput, idem: IdempotencyKey = {}): Promise<ReservationView> {
      authorize(actor, 'sample.reserve');
      const scale = await scaleOfSample(id);
      const quantity = parseQuantity(input.quantity, scale.scale, { field: 'quantity' });
      return once(actor, idem.key, `POST /samples/${id}/reservations`, input, async (tx) =>
        toReservation(await ledger.reserve(tx, who(actor), id, { quantity, applicationId: input.applicationId, note: input.note }), scale),
      );
    },

    async release(actor: Actor | null, reservationId: string, idem: IdempotencyKey = {}): Promise<ReservationView> {
      authorize(actor, 'sample.release');
      const reservation = await samplesRepository.findReservation(db, reservationId);
      if (!reservation) throw notFound('The reservation');
      const sample = await existingSample(reservation.sample_id);
      const scale = await scaleOf(sample.collection_id);
      return once(actor, idem.key, `DELETE /reservations/${reservationId}`, {}, async (tx) => toReservation(await ledger.release(tx, who(actor), reservationId), scale));
    },

    async consume(actor: Actor | null, id: string, input: { quantity: string; reason: string }, idem: IdempotencyKey = {}): Promise<SampleView> {
      authorize(actor, 'sample.consume');
      const scale = await scaleOf((await existingSample(id)).collection_id);
      const quantity = parseQuantity(input.quantity, scale.scale, { field: 'quantity' });
      return once(actor, idem.key, `POST /samples/${id}/consume`, input, async (tx) => toSample(await ledger.consume(tx, who(actor), id, quantity, input.reason), scale));
    },

    async adjust(actor: Actor | null, id: string, input: { delta: string; reason: string }, idem: IdempotencyKey = {}): Promise<SampleView> {
      authorize(actor, 'sample.adjust');
      const scale = await scaleOf((await existingSample(id)).collection_id);
      const delta = parseSignedQuantity(input.delta, scale.scale, { field: 'delta' });
      return once(actor, idem.key, `POST /samples/${id}/adjust`, input, async (tx) => toSample(await ledger.adjust(tx, who(actor), id, delta, input.reason), scale));
    },

    async destroy(actor: Actor | null, id: string, input: { reason: string }, idem: IdempotencyKey = {}): Promise<SampleView> {
      authorize(actor, 'sample.destroy');
      const scale = await scaleOf((await existingSample(id)).collection_id);
      return once(actor, idem.key, `POST /samples/${id}/destroy`, input, async (tx) => toSample(await ledger.destroy(tx, who(actor), id, input.reason), scale));
    },

    async move(actor: Actor | null, id: string, input: MoveInput, idem: IdempotencyKey = {}): Promise<SampleView> {
      authorize(actor, 'sample.move');
      const scale = await scaleOf((await existingSample(id)).collection_id);
      return once(actor, idem.key, `POST /samples/${id}/move`, input, async (tx) =>
        toSample(await ledger.move(tx, who(actor), id, { locationId: input.locationId, position: input.position, reason: input.reason }), scale),
      );
    },

    async setState(actor: Actor | null, id: string, input: StateInput, idem: IdempotencyKey = {}): Promise<SampleView> {
      authorize(actor, 'sample.state');
      const scale = await scaleOf((await existingSample(id)).collection_id);
      const movementKind = input.state === 'returned' ? 'return' : 'state';
      return once(actor, idem.key, `POST /samples/${id}/state`, input, async (tx) =>
        toSample(await ledger.setState(tx, who(actor), id, { state: input.state as SampleState, movementKind, reason: input.reason }), scale),
      );
    },

    /** The sample as a FHIR R4 Specimen, as JSON text (its quantity an exact decimal literal). */
    async fhir(actor: Actor | null, id: string): Promise<string> {
      authorize(actor, 'sample.read');
      const sample = await existingSample(id);
      const collection = (await collectionsRepository.find(db, sample.collection_id))!;
      return fhirSpecimen(sample, collection);
    },
  };
  return service;
}

const ucum: Record<Unit, string> = { g: 'g', mg: 'mg', mL: 'mL', count: '{count}' };
const fhirStatus = (state: SampleState): 'available' | 'unavailable' => (state === 'available' || state === 'reserved' || state === 'returned' ? 'available' : 'unavailable');

/**
 * FHIR R4 Specimen. FHIR decimals are JSON numbers; they are written as the
 * exact decimal literal, never through a float.
 */
export function fhirSpecimen(sample: SampleRow, collection: CollectionRow): string {
  const DECIMAL = '\u0000decimal:';
  const quantity = formatQuantity(sample.quantity, collection.scale);
  const resource = {
    resourceType: 'Specimen',
    id: sample.id,
    meta: { lastUpdated: sample.updated_at.toISOString() },
    identifier: [{ system: 'urn:samplebank:sample-identifier', value: sample.identifier }],
    accessionIdentifier: { system: `urn:samplebank:collection:${collection.code}`, value: sample.identifier },
    status: fhirStatus(sample.state),
    type: { text: sample.kind },
    ...(sample.parent_id ? { parent: [{ reference: `Specimen/${sample.parent_id}` }] } : {}),
    receivedTime: sample.created_at.toISOString(),
    container: [
      {
        identifier: sample.location_id ? [{ system: 'urn:samplebank:location', value: `${sample.location_id}${sample.position ? `#${sample.position}` : ''}` }] : undefined,
        specimenQuantity: { value: `${DECIMAL}${quantity}`, unit: collection.unit, system: 'http://unitsofmeasure.org', code: ucum[collection.unit] },
      },
    ],
    extension: [
      { url: 'urn:samplebank:fhir:sample-state', valueCode: sample.state },
      { url: 'urn:samplebank:fhir:collection', valueString: collection.code },
    ],
  };
  return JSON.stringify(resource).replace(/"\\u0000decimal:([0-9.]+)"/g, '$1');
}
