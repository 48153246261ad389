/**
 * The exact inventory ledger: every operation that changes a sample's
 * quantity, reservation, state or place, at the level of one transaction.
 * Each one locks the sample row (or updates it conditionally), writes its
 * movement(s) and one audit event in the caller's transaction, and leaves the
 * database CHECKs (reserved <= quantity, quantity >= 0) as the last guard.
 *
 * Quantities are bigint counts of the collection's smallest unit. Callers
 * (the inventory service, allocation, distribution, pathology) parse and
 * authorize; the ledger enforces the rules of the material itself.
 */
import crypto from 'node:crypto';
import type { Actor } from '../../core/actor.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { identifyingPaths } from '../../core/consent.js';
import { finalStates, rootIdentifier, shelfState, shelfStates, splitIdentifier, splittableStates, type SampleState } from '../../core/ledger.js';
import { formatQuantity } from '../../core/quantity.js';
import { isUniqueViolation, sqlState, transactionHooks, type Executor, type Tx } from '../../platform/db/tx.js';
import type { DB } from '../../platform/db/database.js';
import type { MovementKind } from '../../platform/db/schema.js';
import type { LedgerCounters } from '../../platform/metrics.js';
import { recordAudit, type LockedHead } from '../audit/audit.service.js';
import { collectionsRepository, type CollectionRow } from './collections.repository.js';
import { locationsRepository } from './locations.repository.js';
import { samplesRepository, type MovementInsert, type ReservationRow, type SampleRow } from './samples.repository.js';

export type { ReservationRow, SampleRow } from './samples.repository.js';

export interface LedgerActor {
  actor: Actor;
  requestId?: string | undefined;
}

export interface CreateInput {
  collectionId: string;
  kind: string;
  quantity: bigint;
  identifier?: string | undefined;
  locationId?: string | null | undefined;
  position?: string | null | undefined;
  attributes?: Record<string, unknown> | undefined;
  state?: SampleState | undefined;
  /** Why the sample is registered (the create movement's reason). */
  reason?: string | undefined;
}

export interface SplitPartInput {
  quantity: bigint;
  kind?: string | undefined;
  identifier?: string | undefined;
  locationId?: string | null | undefined;
  position?: string | null | undefined;
}

export interface SplitInput {
  parts: SplitPartInput[];
  loss?: bigint | undefined;
  reason: string;
}

export interface ReserveInput {
  quantity: bigint;
  applicationId?: string | null | undefined;
  note?: string | null | undefined;
}

export interface MoveInput {
  locationId: string | null;
  position?: string | null | undefined;
  reason?: string | undefined;
}

export interface SetStateInput {
  state: SampleState;
  movementKind: 'ship' | 'receive' | 'return' | 'state';
  reason: string;
}

const reservableStates = shelfStates;
const isFinal = (state: SampleState): boolean => (finalStates as readonly string[]).includes(state);
const stream = (sample: { root_id: string }): string => `sample:${sample.root_id}`;

function auditActor(who: LedgerActor): Actor {
  const requestId = who.requestId ?? who.actor.requestId;
  return requestId === undefined ? who.actor : { ...who.actor, requestId };
}

function movement(who: LedgerActor, sample: SampleRow, kind: MovementKind, delta: bigint, reservedDelta: bigint, extra: Partial<MovementInsert> = {}): MovementInsert {
  return {
    id: crypto.randomUUID(),
    sample_id: sample.id,
    root_id: sample.root_id,
    kind,
    delta,
    reserved_delta: reservedDelta,
    quantity_after: sample.quantity,
    reserved_after: sample.reserved,
    state_after: sample.state,
    actor_id: who.actor.userId,
    request_id: who.requestId ?? who.actor.requestId ?? null,
    ...extra,
  };
}

async function audit(tx: Tx, who: LedgerActor, sample: SampleRow, action: string, data: Record<string, unknown>, locked?: LockedHead): Promise<void> {
  await recordAudit(tx, auditActor(who), { stream: stream(sample), action, entityType: 'sample', entityId: sample.id, data: { identifier: sample.identifier, ...data } }, locked);
}

async function collectionOf(db: Executor, id: string, field = 'collectionId'): Promise<CollectionRow> {
  const collection = await collectionsRepository.find(db, id);
  if (!collection) throw invalid(field, 'no such collection');
  return collection;
}

const units = (collection: CollectionRow) => (value: bigint): string => formatQuantity(value, collection.scale);

/** The kind as the collection spells it; any kind when the collection lists none. */
function canonicalKind(collection: CollectionRow, kind: string, field: string): string {
  const trimmed = kind.trim();
  if (trimmed.length === 0 || trimmed.length > 64) throw invalid(field, 'must be 1 to 64 characters');
  if (collection.kinds.length === 0) return trimmed;
  const known = collection.kinds.find((k) => k.toLowerCase() === trimmed.toLowerCase());
  if (known === undefined) throw invalid(field, `"${trimmed}" is not a kind of this collection (${collection.kinds.join(', ')})`);
  return known;
}

/** Row and column of a box position: `A1` → row 1, column 1; `AB12` → row 28, column 12. */
export function positionIndex(position: string): { row: number; col: number } | undefined {
  const match = /^([A-Z]{1,2})([0-9]{1,3})$/.exec(position);
  if (!match) return undefined;
  const letters = match[1]!;
  const row = [...letters].reduce((n, c) => n * 26 + (c.charCodeAt(0) - 64), 0);
  return { row, col: Number(match[2]) };
}

/** Checks a place for a sample: the location exists; a position needs a box, inside its grid, and free. */
async function checkPlace(tx: Tx, locationId: string | null | undefined, position: string | null | undefined, field: string, self?: string): Promise<{ location_id: string | null; position: string | null }> {
  if (locationId === undefined || locationId === null) {
    if (position !== undefined && position !== null) throw invalid(`${field}position`, 'needs a locationId (a box)');
    return { location_id: null, position: null };
  }
  const location = await locationsRepository.find(tx, locationId);
  if (!location) throw invalid(`${field}locationId`, 'no such location');
  if (position === undefined || position === null) return { location_id: locationId, position: null };
  if (location.kind !== 'box' || location.rows === null || location.cols === null) throw invalid(`${field}position`, `location ${location.path} is a ${location.kind}, not a box with positions`);
  const index = positionIndex(position);
  if (!index || index.row < 1 || index.col < 1 || index.row > location.rows || index.col > location.cols) {
    throw invalid(`${field}position`, `"${position}" is outside box ${location.path} (${location.rows} rows × ${location.cols} columns)`);
  }
  const occupant = await locationsRepository.occupant(tx, locationId, position);
  if (occupant !== undefined && occupant !== self) {
    throw new DomainError('location-occupied', `Position ${position} of ${location.path} already holds a sample`, {
      errors: [{ field: `${field}position`, message: 'already holds a sample' }],
      extensions: { occupantId: occupant },
    });
  }
  return { location_id: locationId, position };
}

/** Inserts a sample, turning the unique indexes into errors a person understands. */
async function insertSample(tx: Tx, row: Parameters<typeof samplesRepository.insert>[1], field: string): Promise<SampleRow> {
  try {
    return await samplesRepository.insert(tx, row);
  } catch (error) {
    if (isUniqueViolation(error, 'samples_identifier_key')) throw new DomainError('duplicate', `A sample with identifier ${row.identifier} already exists`, { errors: [{ field: `${field}identifier`, message: 'is already used' }] });
    if (isUniqueViolation(error, 'samples_position_key')) throw new DomainError('location-occupied', `Position ${row.position ?? ''} already holds a sample`, { errors: [{ field: `${field}position`, message: 'already holds a sample' }] });
    throw error;
  }
}

async function lockSample(tx: Tx, id: string): Promise<SampleRow> {
  const sample = await samplesRepository.lock(tx, id);
  if (!sample) throw notFound('The sample');
  return sample;
}

function insufficient(sample: SampleRow, asked: bigint, collection: CollectionRow, what: string, field = 'quantity'): DomainError {
  const fmt = units(collection);
  const available = sample.quantity - sample.reserved;
  return new DomainError(
    'insufficient-quantity',
    `Not enough of ${sample.identifier} is available to ${what} ${fmt(asked)} ${collection.unit}: ${fmt(available)} ${collection.unit} available (${fmt(sample.quantity)} held, ${fmt(sample.reserved)} reserved)`,
    {
      errors: [{ field, message: `at most ${fmt(available)} ${collection.unit} is available` }],
      extensions: { available: fmt(available), requested: fmt(asked), unit: collection.unit },
    },
  );
}

/** Material whose donor withdrew consent (migrations/0040) is never reserved, split or put back on the shelf. */
async function refuseWithdrawn(tx: Tx, sample: SampleRow): Promise<void> {
  if (!(await samplesRepository.consentWithdrawn(tx, sample.id))) return;
  throw new DomainError('consent-withdrawn', `The donor of ${sample.identifier} withdrew consent; it cannot be reserved, split or allocated`, {
    errors: [{ field: 'sampleId', message: 'the donor withdrew consent' }],
  });
}

function refuseState(sample: SampleRow, what: string, allowed: readonly string[]): never {
  throw new DomainError('invalid-state', `Sample ${sample.identifier} is ${sample.state}; only ${allowed.join(', ')} samples can be ${what}`, {
    errors: [{ field: 'state', message: `is ${sample.state}` }],
    extensions: { state: sample.state },
  });
}

function positive(value: bigint, field: string): void {
  if (value <= 0n) throw new DomainError('invalid-quantity', `${field} must be greater than zero`, { errors: [{ field, message: 'must be greater than zero' }] });
}

/** A fresh identifier: the next number under the root (or collection), skipping any already taken by hand. */
async function freshIdentifier(tx: Tx, next: () => Promise<string>, skip: ReadonlySet<string> = new Set()): Promise<string> {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const candidate = await next();
    if (!skip.has(candidate) && !(await samplesRepository.identifierExists(tx, candidate))) return candidate;
  }
  throw new DomainError('conflict', 'Could not find a free identifier');
}

const operations = {
  async create(tx: Tx, who: LedgerActor, input: CreateInput): Promise<SampleRow> {
    const collection = await collectionOf(tx, input.collectionId);
    const kind = canonicalKind(collection, input.kind, 'kind');
    // Human material is pseudonymous: attributes never carry a donor's name, id number, birth date or contact.
    const identifying = collection.human_consent ? identifyingPaths(input.attributes ?? {}) : [];
    if (identifying.length > 0) throw invalid(`attributes.${identifying[0]}`, 'identifies a donor; a collection of human material stores pseudonymous data only');
    if (input.quantity < 0n) throw new DomainError('invalid-quantity', 'quantity must not be negative', { errors: [{ field: 'quantity', message: 'must not be negative' }] });
    const state = input.state ?? 'available';
    if (state === 'reserved' || isFinal(state)) throw invalid('state', `a new sample cannot start ${state}`);
    const place = await checkPlace(tx, input.locationId, input.position, '');
    let identifier = input.identifier;
    if (identifier !== undefined) {
      if (await samplesRepository.identifierExists(tx, identifier)) throw new DomainError('duplicate', `A sample with identifier ${identifier} already exists`, { errors: [{ field: 'identifier', message: 'is already used' }] });
    } else {
      identifier = await freshIdentifier(tx, async () => rootIdentifier(collection.code, await collectionsRepository.takeNumber(tx, collection.id)));
    }
    const id = crypto.randomUUID();
    const sample = await insertSample(
      tx,
      { id, collection_id: collection.id, identifier, kind, quantity: input.quantity, state, parent_id: null, root_id: id, ...place, attributes: input.attributes ?? {} },
      '',
    );
    await samplesRepository.insertMovements(tx, [movement(who, sample, 'create', sample.quantity, 0n, { reason: input.reason ?? null })]);
    await audit(tx, who, sample, 'sample.create', { collectionId: collection.id, kind, quantity: sample.quantity.toString(), state, locationId: place.location_id, position: place.position });
    return sample;
  },

  /**
   * Splits parts (and an optional recorded loss) off a sample's unreserved
   * quantity; the parent keeps the remainder. Children are numbered under the
   * root (`PARENT,SPLIT`) unless given an identifier, and inherit the
   * collection, the kind (unless given), the place and the root.
   */
  async split(tx: Tx, who: LedgerActor, sampleId: string, input: SplitInput): Promise<{ parent: SampleRow; children: SampleRow[] }> {
    if (input.parts.length === 0) throw invalid('parts', 'at least one part');
    input.parts.forEach((part, i) => positive(part.quantity, `parts.${i}.quantity`));
    const loss = input.loss ?? 0n;
    if (loss < 0n) throw new DomainError('invalid-quantity', 'loss must not be negative', { errors: [{ field: 'loss', message: 'must not be negative' }] });
    let parent = await lockSample(tx, sampleId);
    await refuseWithdrawn(tx, parent);
    if (!(splittableStates as readonly string[]).includes(parent.state)) refuseState(parent, 'split', splittableStates);
    const collection = await collectionOf(tx, parent.collection_id);
    const total = input.parts.reduce((sum, part) => sum + part.quantity, 0n) + loss;
    if (total > parent.quantity - parent.reserved) throw insufficient(parent, total, collection, 'split', 'parts');
    const givenIdentifiers = new Set<string>();
    input.parts.forEach((part, i) => {
      if (part.identifier === undefined) return;
      if (givenIdentifiers.has(part.identifier)) throw invalid(`parts.${i}.identifier`, 'is used twice');
      givenIdentifiers.add(part.identifier);
    });
    const positions = new Set<string>();
    const childState: SampleState = parent.state === 'on_loan' || parent.state === 'returned' ? parent.state : 'available';
    const movements: MovementInsert[] = [];
    const children: SampleRow[] = [];
    let remaining = parent.quantity;
    for (const [i, part] of input.parts.entries()) {
      const field = `parts.${i}.`;
      const kind = part.kind === undefined ? parent.kind : canonicalKind(collection, part.kind, `${field}kind`);
      const locationId = part.locationId === undefined ? parent.location_id : part.locationId;
      const place = await checkPlace(tx, locationId, part.position, field);
      if (place.position !== null) {
        const key = `${place.location_id}/${place.position}`;
        if (positions.has(key)) throw new DomainError('location-occupied', `Two parts go to position ${place.position}`, { errors: [{ field: `${field}position`, message: 'is given to another part too' }] });
        positions.add(key);
      }
      let identifier = part.identifier;
      if (identifier !== undefined) {
        if (await samplesRepository.identifierExists(tx, identifier)) throw new DomainError('duplicate', `A sample with identifier ${identifier} already exists`, { errors: [{ field: `${field}identifier`, message: 'is already used' }] });
      } else {
        identifier = await freshIdentifier(
          tx,
          async () => {
            const { identifier: root, n } = await samplesRepository.takeSplitNumber(tx, parent.root_id);
            return splitIdentifier(root, n);
          },
          givenIdentifiers,
        );
      }
      const child = await insertSample(
        tx,
        { id: crypto.randomUUID(), collection_id: parent.collection_id, identifier, kind, quantity: part.quantity, state: childState, parent_id: parent.id, root_id: parent.root_id, ...place, attributes: {} },
        field,
      );
      children.push(child);
      remaining -= part.quantity;
      const parentAfter = { ...parent, quantity: remaining };
      movements.push(movement(who, parentAfter, 'split-out', -part.quantity, 0n, { counterpart_id: child.id, reason: input.reason }));
      movements.push(movement(who, child, 'split-in', part.quantity, 0n, { counterpart_id: parent.id, reason: input.reason }));
    }
    if (loss > 0n) {
      remaining -= loss;
      movements.push(movement(who, { ...parent, quantity: remaining }, 'loss', -loss, 0n, { reason: input.reason }));
    }
    parent = await samplesRepository.update(tx, parent.id, { quantity: remaining });
    await samplesRepository.insertMovements(tx, movements);
    await audit(tx, who, parent, 'sample.split', {
      reason: input.reason,
      parts: children.map((c) => ({ id: c.id, identifier: c.identifier, kind: c.kind, quantity: c.quantity.toString() })),
      loss: loss.toString(),
      quantityAfter: parent.quantity.toString(),
    });
    return { parent, children };
  },

  /** Reserves from the unreserved quantity; 'insufficient-quantity' (409) when not enough is left. */
  async reserve(tx: Tx, who: LedgerActor, sampleId: string, input: ReserveInput): Promise<ReservationRow> {
    positive(input.quantity, 'quantity');
    // One statement (update, reservation, movement, the audit head locked): the row lock is held for as few round trips as possible.
    const reserved = await samplesRepository.reserveWithEntries(tx, {
      sampleId,
      quantity: input.quantity,
      states: reservableStates,
      reservationId: crypto.randomUUID(),
      movementId: crypto.randomUUID(),
      applicationId: input.applicationId ?? null,
      note: input.note ?? null,
      actorId: who.actor.userId,
      requestId: who.requestId ?? who.actor.requestId ?? null,
    });
    if (!reserved) {
      const current = await samplesRepository.find(tx, sampleId);
      if (!current) throw notFound('The sample');
      await refuseWithdrawn(tx, current);
      if (!(reservableStates as readonly string[]).includes(current.state)) refuseState(current, 'reserved', reservableStates);
      throw insufficient(current, input.quantity, await collectionOf(tx, current.collection_id), 'reserve');
    }
    const { sample, reservation, head } = reserved;
    await audit(tx, who, sample, 'sample.reserve', { reservationId: reservation.id, quantity: input.quantity.toString(), applicationId: reservation.application_id, reservedAfter: sample.reserved.toString() }, head);
    return reservation;
  },

  /** Ends an active reservation; its quantity is available again. */
  async release(tx: Tx, who: LedgerActor, reservationId: string, reason?: string): Promise<ReservationRow> {
    return closeReservation(tx, who, reservationId, 'released', reason ?? null);
  },

  /** The reservation is taken by a shipment: reserved goes down; the quantity itself moves with the sample's state. */
  async fulfil(tx: Tx, who: LedgerActor, reservationId: string): Promise<ReservationRow> {
    return closeReservation(tx, who, reservationId, 'fulfilled', 'fulfilled by a shipment');
  },

  /** Uses up part of the unreserved quantity; at zero the sample is consumed. */
  async consume(tx: Tx, who: LedgerActor, sampleId: string, quantity: bigint, reason: string): Promise<SampleRow> {
    positive(quantity, 'quantity');
    const sample = await lockSample(tx, sampleId);
    if (!(splittableStates as readonly string[]).includes(sample.state)) refuseState(sample, 'consumed', splittableStates);
    if (quantity > sample.quantity - sample.reserved) throw insufficient(sample, quantity, await collectionOf(tx, sample.collection_id), 'consume');
    const left = sample.quantity - quantity;
    const after = await samplesRepository.update(tx, sample.id, left === 0n ? { quantity: 0n, state: 'consumed', position: null } : { quantity: left });
    await samplesRepository.insertMovements(tx, [movement(who, after, 'consume', -quantity, 0n, { reason })]);
    await audit(tx, who, after, 'sample.consume', { quantity: quantity.toString(), quantityAfter: after.quantity.toString(), reason });
    return after;
  },

  /** A signed correction of the quantity (a weighing, a count); never below what is reserved. */
  async adjust(tx: Tx, who: LedgerActor, sampleId: string, delta: bigint, reason: string): Promise<SampleRow> {
    if (delta === 0n) throw new DomainError('invalid-quantity', 'delta must not be zero', { errors: [{ field: 'delta', message: 'must not be zero' }] });
    const sample = await lockSample(tx, sampleId);
    if (isFinal(sample.state)) refuseState(sample, 'adjusted', sampleStatesExcept(finalStates));
    const after = sample.quantity + delta;
    if (after < sample.reserved) {
      const collection = await collectionOf(tx, sample.collection_id);
      throw insufficient(sample, -delta, collection, 'remove', 'delta');
    }
    if (after > 999_999_999_999_999_999n) throw new DomainError('invalid-quantity', 'delta makes the quantity too large', { errors: [{ field: 'delta', message: 'makes the quantity too large' }] });
    const updated = await samplesRepository.update(tx, sample.id, { quantity: after });
    await samplesRepository.insertMovements(tx, [movement(who, updated, 'adjust', delta, 0n, { reason })]);
    await audit(tx, who, updated, 'sample.adjust', { delta: delta.toString(), quantityAfter: updated.quantity.toString(), reason });
    return updated;
  },

  /** Destroys what is left (refused while anything is reserved); the position is freed. */
  async destroy(tx: Tx, who: LedgerActor, sampleId: string, reason: string): Promise<SampleRow> {
    const sample = await lockSample(tx, sampleId);
    if (isFinal(sample.state)) refuseState(sample, 'destroyed', sampleStatesExcept(finalStates));
    if (sample.reserved > 0n) {
      const collection = await collectionOf(tx, sample.collection_id);
      throw new DomainError('invalid-state', `Sample ${sample.identifier} has ${formatQuantity(sample.reserved, collection.scale)} ${collection.unit} reserved; release the reservations first`, {
        errors: [{ field: 'reserved', message: 'must be zero' }],
      });
    }
    const after = await samplesRepository.update(tx, sample.id, { quantity: 0n, state: 'destroyed', position: null });
    await samplesRepository.insertMovements(tx, [movement(who, after, 'destroy', -sample.quantity, 0n, { reason })]);
    await audit(tx, who, after, 'sample.destroy', { quantity: sample.quantity.toString(), reason });
    return after;
  },

  async move(tx: Tx, who: LedgerActor, sampleId: string, input: MoveInput): Promise<SampleRow> {
    const sample = await lockSample(tx, sampleId);
    if (isFinal(sample.state)) refuseState(sample, 'moved', sampleStatesExcept(finalStates));
    const place = await checkPlace(tx, input.locationId, input.position, '', sample.id);
    let after: SampleRow;
    try {
      after = await samplesRepository.update(tx, sample.id, place);
    } catch (error) {
      if (isUniqueViolation(error, 'samples_position_key')) throw new DomainError('location-occupied', `Position ${place.position ?? ''} already holds a sample`, { errors: [{ field: 'position', message: 'already holds a sample' }] });
      throw error;
    }
    await samplesRepository.insertMovements(tx, [movement(who, after, 'move', 0n, 0n, { reason: input.reason ?? null })]);
    await audit(tx, who, after, 'sample.move', {
      from: { locationId: sample.location_id, position: sample.position },
      to: { locationId: after.location_id, position: after.position },
      reason: input.reason ?? null,
    });
    return after;
  },

  /**
   * Changes a sample's custody state (shipped, received, returned, quarantined,
   * back on the shelf). Quantity and reservations are untouched; consumed and
   * destroyed are final and reached only through consume and destroy.
   */
  async setState(tx: Tx, who: LedgerActor, sampleId: string, input: SetStateInput): Promise<SampleRow> {
    const sample = await lockSample(tx, sampleId);
    if (isFinal(sample.state)) refuseState(sample, 'changed', sampleStatesExcept(finalStates));
    if (isFinal(input.state)) throw invalid('state', `use ${input.state === 'consumed' ? 'consume' : 'destroy'} to make a sample ${input.state}`);
    let state = input.state;
    // "available" and "reserved" are one shelf state told apart by the reservation.
    if (state === 'available' || state === 'reserved') {
      await refuseWithdrawn(tx, sample);
      state = sample.reserved > 0n ? 'reserved' : 'available';
    }
    const after = await samplesRepository.update(tx, sample.id, { state });
    await samplesRepository.insertMovements(tx, [movement(who, after, input.movementKind, 0n, 0n, { reason: input.reason })]);
    await audit(tx, who, after, 'sample.state', { from: sample.state, to: after.state, movementKind: input.movementKind, reason: input.reason });
    return after;
  },

  async find(executor: Executor, id: string): Promise<SampleRow | undefined> {
    return samplesRepository.find(executor, id);
  },

  /** The sample locked for the rest of the transaction; 'not-found' if there is none. */
  async forUpdate(tx: Tx, id: string): Promise<SampleRow> {
    return lockSample(tx, id);
  },

  async findReservation(executor: Executor, id: string): Promise<ReservationRow | undefined> {
    return samplesRepository.findReservation(executor, id);
  },
};

/** What the metrics count: each operation, and setState by its movement (ship, receive, return, state). */
export const ledgerOperationKinds = ['create', 'split', 'reserve', 'release', 'fulfil', 'consume', 'adjust', 'destroy', 'move', 'ship', 'receive', 'return', 'state'] as const;
type OperationKind = (typeof ledgerOperationKinds)[number];

/** Who counts the operations on each database: compose.ts registers the context's metrics (one registry per context). */
const counters = new WeakMap<DB, LedgerCounters>();

export function countLedgerOperations(db: DB, to: LedgerCounters): void {
  counters.set(db, to);
}

/** The problem type a refusal gets at the HTTP edge: the DomainError code, or what server.ts makes of a database refusal. */
function refusalReason(error: unknown): string | undefined {
  if (error instanceof DomainError) return error.code;
  const state = sqlState(error);
  if ((state === '23514' || state === '23503') && ((error as { constraint?: string }).constraint ?? (error as Error).message).startsWith('samples_consent')) return 'consent-withdrawn';
  if (state === '23514' || state === '40001' || state === '40P01' || state === '55P03') return 'conflict';
  if (state === '23505') return 'duplicate';
  // Anything else (the database gone, a bug) is a failure, not a refusal: the HTTP metrics show it as a 500.
  return undefined;
}

/**
 * Runs one operation and counts it once its transaction is over: committed
 * when the transaction commits (not when it is rolled back or retried), refused
 * when the transaction ends after the operation threw (a retried attempt does
 * not count). Transactions not opened by inTransaction are not counted.
 */
async function counted<T>(tx: Tx, kind: OperationKind, run: () => Promise<T>): Promise<T> {
  const hooks = transactionHooks(tx);
  const counter = hooks && counters.get(hooks.db);
  if (!hooks || !counter) return run();
  try {
    const result = await run();
    hooks.afterCommit(() => counter.committed(kind));
    return result;
  } catch (error) {
    const reason = refusalReason(error);
    if (reason !== undefined) hooks.afterEnd(() => counter.refused(kind, reason));
    throw error;
  }
}

export const ledger = {
  ...operations,
  create: (tx: Tx, who: LedgerActor, input: CreateInput) => counted(tx, 'create', () => operations.create(tx, who, input)),
  split: (tx: Tx, who: LedgerActor, sampleId: string, input: SplitInput) => counted(tx, 'split', () => operations.split(tx, who, sampleId, input)),
  reserve: (tx: Tx, who: LedgerActor, sampleId: string, input: ReserveInput) => counted(tx, 'reserve', () => operations.reserve(tx, who, sampleId, input)),
  release: (tx: Tx, who: LedgerActor, reservationId: string, reason?: string) => counted(tx, 'release', () => operations.release(tx, who, reservationId, reason)),
  fulfil: (tx: Tx, who: LedgerActor, reservationId: string) => counted(tx, 'fulfil', () => operations.fulfil(tx, who, reservationId)),
  consume: (tx: Tx, who: LedgerActor, sampleId: string, quantity: bigint, reason: string) => counted(tx, 'consume', () => operations.consume(tx, who, sampleId, quantity, reason)),
  adjust: (tx: Tx, who: LedgerActor, sampleId: string, delta: bigint, reason: string) => counted(tx, 'adjust', () => operations.adjust(tx, who, sampleId, delta, reason)),
  destroy: (tx: Tx, who: LedgerActor, sampleId: string, reason: string) => counted(tx, 'destroy', () => operations.destroy(tx, who, sampleId, reason)),
  move: (tx: Tx, who: LedgerActor, sampleId: string, input: MoveInput) => counted(tx, 'move', () => operations.move(tx, who, sampleId, input)),
  setState: (tx: Tx, who: LedgerActor, sampleId: string, input: SetStateInput) => counted(tx, input.movementKind, () => operations.setState(tx, who, sampleId, input)),
};

function sampleStatesExcept(excluded: readonly string[]): string[] {
  return ['available', 'reserved', 'on_loan', 'in_transit', 'returned', 'quarantined'].filter((s) => !excluded.includes(s));
}

async function closeReservation(tx: Tx, who: LedgerActor, reservationId: string, to: 'released' | 'fulfilled', reason: string | null): Promise<ReservationRow> {
  // Sample first, then reservation: the same lock order as reserve(), so the two never deadlock.
  const peek = await samplesRepository.findReservation(tx, reservationId);
  if (!peek) throw notFound('The reservation');
  const sample = await lockSample(tx, peek.sample_id);
  const reservation = await samplesRepository.lockReservation(tx, reservationId);
  if (!reservation) throw notFound('The reservation');
  if (reservation.state !== 'active') {
    throw new DomainError('invalid-state', `The reservation is already ${reservation.state}`, { errors: [{ field: 'reservation', message: `is ${reservation.state}` }], extensions: { state: reservation.state } });
  }
  const reserved = sample.reserved - reservation.quantity;
  const after = await samplesRepository.update(tx, sample.id, { reserved, state: shelfState(sample.state, reserved) });
  const closed = await samplesRepository.closeReservation(tx, reservation.id, to);
  await samplesRepository.insertMovements(tx, [movement(who, after, 'release', 0n, -reservation.quantity, { reservation_id: reservation.id, reason })]);
  await audit(tx, who, after, to === 'released' ? 'sample.release' : 'sample.fulfil', { reservationId: reservation.id, quantity: reservation.quantity.toString(), reservedAfter: after.reserved.toString(), reason });
  return closed;
}
