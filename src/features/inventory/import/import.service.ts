/**
 * Bulk import of samples from a CSV or XLSX file, in two streaming passes:
 * the first checks every row (nothing is written), the second inserts all rows
 * in one transaction, so an import happens entirely or not at all.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { setImmediate } from 'node:timers/promises';
import type { Actor } from '../../../core/actor.js';
import { eventHash, GENESIS } from '../../../core/audit-chain.js';
import { DomainError, invalid, notFound } from '../../../core/errors.js';
import { isIdentifyingKey } from '../../../core/consent.js';
import { authorize } from '../../../core/policy.js';
import { formatQuantity, type RoundingMode } from '../../../core/quantity.js';
import type { DB } from '../../../platform/db/database.js';
import { inTransaction, isUniqueViolation } from '../../../platform/db/tx.js';
import type { JobHandle, JobRunner } from '../../../platform/jobs.js';
import { auditRepository } from '../../audit/audit.repository.js';
import { checkSpreadsheet, formatOf, openRows, type ByteCounter, type FileFormat } from './import.reader.js';
import { importRepository, type CollectionRow, type ImportBatch, type PreparedBatch } from './import.repository.js';
import { layoutOf, parseRow, type Layout, type Mapping, type ParsedRow, type RowError, type RowRules } from './import.rows.js';

export interface ImportInput {
  /** Path of the file on disk. */
  file: string;
  /** The name the user gave the file (its extension picks the format). */
  fileName?: string;
  format?: FileFormat;
  collection: { id?: string; code?: string };
  mapping: Mapping;
  /** Columns to leave out (neither a field nor an attribute). */
  ignore?: string[];
  dryRun?: boolean;
  rounding?: RoundingMode;
  /** Register rows whose quantity is 0 as samples with no material (otherwise such a row is an error). */
  allowZero?: boolean;
  /** Leave out rows whose identifier is already registered, and list them (otherwise such a row is an error). */
  skipExisting?: boolean;
}

export interface ImportHooks {
  /** Row errors, as they are found (in row order within each batch). */
  onRowErrors?(errors: RowError[]): void;
  onProgress?(phase: 'validating' | 'importing', done: number, total: number): void;
}

export interface ImportResult {
  jobId: string;
  collectionId: string;
  collectionCode: string;
  dryRun: boolean;
  /** Samples created (0 on a dry run or when any row is bad). */
  imported: number;
  /** Samples the file describes that are (or would be) imported. */
  valid: number;
  skipped: number;
  skippedRows: Array<{ row: number; identifier: string }>;
  quantity: string;
  unit: string;
  byKind: Record<string, { samples: number; quantity: string }>;
  errorCount: number;
  /** The first errors (all of them are passed to onRowErrors). */
  errors: RowError[];
}

const BATCH = 1000;
/** Rows per COPY in pass 2: fewer, larger statements keep the database busy while the next batch is hashed and encoded. */
const WRITE_BATCH = 5000;
/** Rows hashed and encoded between two turns of the event loop in pass 2. */
const SLICE = 250;
const KEPT_ERRORS = 1000;

export type ImportService = ReturnType<typeof createImportService>;

export function createImportService(db: DB, jobs: JobRunner) {
  async function prepare(actor: Actor | null, input: ImportInput): Promise<{ collection: CollectionRow; format: FileFormat }> {
    authorize(actor, 'sample.import');
    const format = input.format ?? formatOf(input.fileName ?? input.file);
    if (!format) throw invalid('file', 'must be a .csv or .xlsx file');
    const collection = await importRepository.findCollection(db, input.collection);
    if (!collection) throw notFound(`The collection ${input.collection.code ?? input.collection.id ?? ''}`.trim(), input.collection.code ? 'collection' : 'collectionId');
    // A spreadsheet that declares more than the reader accepts is refused now (413 over HTTP), not in the job.
    await checkSpreadsheet(input.file, format);
    return { collection, format };
  }

  return {
    /** Runs the import to the end (the CLI); row errors are in the result, not thrown. */
    async run(actor: Actor | null, input: ImportInput, hooks: ImportHooks = {}): Promise<ImportResult> {
      authorize(actor, 'sample.import');
      const prepared = await prepare(actor, input);
      const job = await jobs.create('import', actor.userId);
      return execute(db, job, actor, input, prepared, hooks);
    },

    /** Starts the import as a job and answers at once (the API); onSettled runs when it ends. */
    async start(actor: Actor | null, input: ImportInput, onSettled: () => void = () => {}): Promise<{ jobId: string }> {
      let prepared;
      try {
        prepared = await prepare(actor, input);
      } catch (error) {
        onSettled();
        throw error;
      }
      const job = await jobs.create('import', actor!.userId);
      void execute(db, job, actor!, input, prepared, {})
        .catch(() => undefined)
        .finally(onSettled);
      return { jobId: job.id };
    },
  };
}

async function execute(db: DB, job: JobHandle, actor: Actor, input: ImportInput, prepared: { collection: CollectionRow; format: FileFormat }, hooks: ImportHooks): Promise<ImportResult> {
  try {
    const plan = await validate(db, job, input, prepared, hooks);
    const result = resultOf(job.id, prepared.collection, input, plan);
    if (plan.errorCount > 0) {
      await job.fail({ type: 'validation-failed', message: `${plan.errorCount} row errors; nothing was imported` }, result);
      return result;
    }
    if (input.dryRun) {
      await job.succeed(result, `dry run: ${plan.valid} samples would be imported`);
      return result;
    }
    await insertAll(db, job, actor, input, prepared, plan, hooks);
    const done = { ...result, imported: plan.valid };
    await job.succeed(done, `imported ${plan.valid} samples`);
    return done;
  } catch (error) {
    const failure =
      error instanceof DomainError
        ? { type: error.code, message: error.message, errors: error.errors }
        : { type: 'internal-error', message: 'The import failed; nothing was imported' };
    await job.fail(failure).catch(() => undefined);
    throw error;
  }
}

interface Plan {
  layout: Layout;
  rules: RowRules;
  /** Identifier → data row, for every sample in the file. */
  rows: Map<string, number>;
  /** Child identifier → parent identifier, for every row with a parent. */
  parentOf: Map<string, string>;
  dbParents: Map<string, { id: string; rootId: string }>;
  locations: Map<string, string>;
  skipped: Set<string>;
  skippedRows: Array<{ row: number; identifier: string }>;
  valid: number;
  quantity: bigint;
  byKind: Map<string, { samples: number; quantity: bigint }>;
  errorCount: number;
  errors: RowError[];
}

function rulesOf(collection: CollectionRow, input: ImportInput): RowRules {
  return {
    scale: collection.scale,
    kinds: new Map(collection.kinds.map((k) => [k.toLowerCase(), k])),
    rounding: input.rounding ?? 'reject',
    allowZero: input.allowZero ?? false,
  };
}

/** Pass 1: every row checked, streaming; the database is only read. */
async function validate(db: DB, job: JobHandle, input: ImportInput, prepared: { collection: CollectionRow; format: FileFormat }, hooks: ImportHooks): Promise<Plan> {
  const { collection, format } = prepared;
  const size = fs.statSync(input.file).size;
  const counter: ByteCounter = { bytes: 0 };
  const source = await openRows(input.file, format, counter);
  const layout = layoutOf(source.header, input.mapping, input.ignore);
  if (collection.human_consent) {
    // Unmapped columns become attributes, and attributes are exported: a donor's identity never gets in.
    const leaks = layout.attributes.filter(([, name]) => isIdentifyingKey(name)).map(([, name]) => name);
    if (leaks.length > 0) throw invalid(leaks[0]!, `identifies donors; ${collection.code} holds human material and stores pseudonymous data only (leave the column out with --ignore, or remove it)`);
  }
  const plan: Plan = {
    layout,
    rules: rulesOf(collection, input),
    rows: new Map(),
    parentOf: new Map(),
    dbParents: new Map(),
    locations: new Map(),
    skipped: new Set(),
    skippedRows: [],
    valid: 0,
    quantity: 0n,
    byKind: new Map(),
    errorCount: 0,
    errors: [],
  };
  const badLocations = new Map<string, string>();
  const forward: Array<{ row: number; parent: string }> = [];
  const report = (errors: RowError[]): void => {
    if (errors.length === 0) return;
    errors.sort((a, b) => a.row - b.row);
    plan.errorCount += errors.length;
    for (const e of errors) if (plan.errors.length < KEPT_ERRORS) plan.errors.push(e);
    hooks.onRowErrors?.(errors);
  };

  let batch: ParsedRow[] = [];
  let batchErrors: RowError[] = [];
  let read = 0;
  const flush = async (): Promise<void> => {
    const errors = batchErrors;
    const fail = (row: number, column: string, message: string): void => {
      errors.push({ row, column, message });
    };
    const existing = await importRepository.existingIdentifiers(db, [...new Set(batch.map((s) => s.identifier))]);
    const accepted: ParsedRow[] = [];
    for (const sample of batch) {
      const column = layout.mapping.identifier!;
      if (existing.has(sample.identifier)) {
        if (input.skipExisting) {
          plan.skipped.add(sample.identifier);
          if (plan.skippedRows.length < KEPT_ERRORS) plan.skippedRows.push({ row: sample.row, identifier: sample.identifier });
        } else fail(sample.row, column, `"${sample.identifier}" is already registered`);
        continue;
      }
      const first = plan.rows.get(sample.identifier);
      if (first !== undefined) {
        fail(sample.row, column, `"${sample.identifier}" appears again (first at row ${first})`);
        continue;
      }
      plan.rows.set(sample.identifier, sample.row);
      accepted.push(sample);
    }

    const lookUp = new Set<string>();
    for (const sample of accepted) {
      if (sample.parent === null) continue;
      plan.parentOf.set(sample.identifier, sample.parent);
      if (!plan.rows.has(sample.parent) && !plan.dbParents.has(sample.parent)) lookUp.add(sample.parent);
    }
    const found = new Map((await importRepository.samplesByIdentifier(db, [...lookUp])).map((s) => [s.identifier, s]));
    for (const sample of accepted) {
      if (sample.parent !== null && !plan.rows.has(sample.parent) && !plan.dbParents.has(sample.parent)) {
        const parent = found.get(sample.parent);
        if (!parent) forward.push({ row: sample.row, parent: sample.parent });
        else if (parent.collection_id !== collection.id) fail(sample.row, layout.mapping.parent!, `parent "${sample.parent}" belongs to another collection`);
        else if (parent.consent_withdrawn) fail(sample.row, layout.mapping.parent!, `parent "${sample.parent}": the donor withdrew consent; no subsample of it can be registered`);
        else plan.dbParents.set(sample.parent, { id: parent.id, rootId: parent.root_id });
      }
      if (sample.location !== null && !plan.locations.has(sample.location)) {
        const problem = badLocations.get(sample.location) ?? (await resolveLocation(db, sample.location, plan.locations));
        if (problem) {
          badLocations.set(sample.location, problem);
          fail(sample.row, layout.mapping.location!, problem);
        }
      }
      plan.valid += 1;
      plan.quantity += sample.quantity;
      const kind = plan.byKind.get(sample.kind) ?? { samples: 0, quantity: 0n };
      kind.samples += 1;
      kind.quantity += sample.quantity;
      plan.byKind.set(sample.kind, kind);
    }
    report(errors);
    batch = [];
    batchErrors = [];
    job.progress(counter.bytes, size, `validating: ${read} rows read`);
    hooks.onProgress?.('validating', counter.bytes, size);
  };

  for await (const { row, cells } of source.rows) {
    read = row;
    const parsed = parseRow(layout, plan.rules, row, cells);
    batchErrors.push(...parsed.errors);
    if (parsed.sample) batch.push(parsed.sample);
    if (batch.length + batchErrors.length >= BATCH) await flush();
  }
  await flush();

  const late: RowError[] = [];
  for (const { row, parent } of forward) {
    if (!plan.rows.has(parent)) late.push({ row, column: layout.mapping.parent!, message: `parent "${parent}" is neither in the file nor registered` });
  }
  for (const child of loopsIn(plan)) late.push({ row: plan.rows.get(child)!, column: layout.mapping.parent!, message: `the parents of "${child}" lead back to it` });
  report(late);
  return plan;
}

/** Identifiers whose chain of parents within the file comes back to itself. */
function loopsIn(plan: Plan): string[] {
  const state = new Map<string, 'visiting' | 'done' | 'loop'>();
  const looped: string[] = [];
  for (const start of plan.parentOf.keys()) {
    const path: string[] = [];
    let at: string | undefined = start;
    let inLoop = false;
    while (at !== undefined && plan.rows.has(at) && !state.has(at)) {
      state.set(at, 'visiting');
      path.push(at);
      at = plan.parentOf.get(at);
    }
    if (at !== undefined && state.get(at) === 'visiting') inLoop = true;
    if (at !== undefined && state.get(at) === 'loop') inLoop = true;
    for (const id of path) {
      state.set(id, inLoop ? 'loop' : 'done');
      if (inLoop) looped.push(id);
    }
  }
  return looped;
}

async function resolveLocation(db: DB, text: string, cache: Map<string, string>): Promise<string | undefined> {
  if (text.includes('/')) {
    let parentId: string | null = null;
    const parts = text.split('/').map((p) => p.trim()).filter((p) => p !== '');
    for (const [i, code] of parts.entries()) {
      const id: string | undefined = await importRepository.childLocation(db, parentId, code);
      if (!id) return `location "${text}": no "${code}" ${i === 0 ? 'site' : `in ${parts.slice(0, i).join('/')}`}`;
      parentId = id;
    }
    if (parentId === null) return `location "${text}" is empty`;
    cache.set(text, parentId);
    return undefined;
  }
  const matches = await importRepository.locationsByCode(db, text);
  if (matches.length === 0) return `location "${text}" does not exist`;
  if (matches.length > 1) return `location code "${text}" is used in ${matches.length} places; give its path (SITE/…/${text})`;
  cache.set(text, matches[0]!.id);
  return undefined;
}

function resultOf(jobId: string, collection: CollectionRow, input: ImportInput, plan: Plan): ImportResult {
  return {
    jobId,
    collectionId: collection.id,
    collectionCode: collection.code,
    dryRun: input.dryRun ?? false,
    imported: 0,
    valid: plan.errorCount > 0 ? 0 : plan.valid,
    skipped: plan.skipped.size,
    skippedRows: plan.skippedRows,
    quantity: formatQuantity(plan.quantity, collection.scale),
    unit: collection.unit,
    byKind: Object.fromEntries([...plan.byKind].map(([kind, v]) => [kind, { samples: v.samples, quantity: formatQuantity(v.quantity, collection.scale) }])),
    errorCount: plan.errorCount,
    errors: plan.errors,
  };
}

/**
 * The id of an imported sample, derived from the job's random id and the
 * identifier: any row can name its parent's id before the parent is inserted,
 * without keeping a map of a million ids.
 */
export function importedSampleId(jobId: string, identifier: string): string {
  const h = crypto.createHash('sha256').update(jobId).update('\0').update(identifier).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Pass 2: the same rows again, inserted in batches inside one transaction. */
async function insertAll(db: DB, job: JobHandle, actor: Actor, input: ImportInput, prepared: { collection: CollectionRow; format: FileFormat }, plan: Plan, hooks: ImportHooks): Promise<void> {
  const { collection } = prepared;
  const idOf = (identifier: string): string => importedSampleId(job.id, identifier);
  const rootOf = (identifier: string): string => {
    let at = identifier;
    for (;;) {
      const parent = plan.parentOf.get(at);
      if (parent === undefined) return idOf(at);
      if (!plan.rows.has(parent)) return plan.dbParents.get(parent)!.rootId;
      at = parent;
    }
  };
  const depthOf = (identifier: string): number => {
    let depth = 0;
    for (let at = plan.parentOf.get(identifier); at !== undefined && plan.rows.has(at); at = plan.parentOf.get(at)) depth++;
    return depth;
  };
  const parentIdOf = (parent: string | null): string | null => (parent === null ? null : plan.rows.has(parent) ? idOf(parent) : plan.dbParents.get(parent)!.id);

  try {
    await inTransaction(db, async (tx) => {
      const stream = `import:${job.id}`;
      const head = await auditRepository.lockStreamHead(tx, stream, GENESIS);
      const chain = { seq: head.seq, hash: head.headHash };
      let inserted = 0;
      // One batch is written while the next is read and hashed: the database and the parser work at the same time.
      let pending: Promise<void> = Promise.resolve();
      const context: BatchContext = { actor, collection, jobId: job.id, stream, chain, locations: plan.locations, idOf, rootOf, parentIdOf };
      const write = async (samples: ParsedRow[]): Promise<void> => {
        if (samples.length === 0) return;
        // Hashed and encoded a slice at a time, giving way in between: the connection answers the database's
        // COPY messages at once instead of after the whole batch, so the database is not kept waiting.
        const batch: PreparedBatch[] = [];
        for (let i = 0; i < samples.length; i += SLICE) {
          if (i > 0) await setImmediate();
          batch.push(importRepository.prepareBatch(buildBatch(samples.slice(i, i + SLICE), context)));
        }
        await pending;
        pending = importRepository.insertBatch(tx, batch).then(() => {
          inserted += samples.length;
          job.progress(inserted, plan.valid, `importing: ${inserted} of ${plan.valid} samples`);
          hooks.onProgress?.('importing', inserted, plan.valid);
        });
        pending.catch(() => undefined);
      };

      const source = await openRows(input.file, prepared.format);
      const layout = layoutOf(source.header, input.mapping, input.ignore);
      const deferred: ParsedRow[] = [];
      let batch: ParsedRow[] = [];
      for await (const { row, cells } of source.rows) {
        const { sample, errors } = parseRow(layout, plan.rules, row, cells);
        if (!sample || errors.length > 0) throw new DomainError('conflict', `The file changed while it was being imported (row ${row}); nothing was imported`);
        if (plan.skipped.has(sample.identifier)) continue;
        // A parent further down the file goes in first: its child waits until the end.
        if (sample.parent !== null && (plan.rows.get(sample.parent) ?? 0) > row) deferred.push(sample);
        else batch.push(sample);
        if (batch.length >= WRITE_BATCH) {
          await write(batch);
          batch = [];
        }
      }
      await write(batch);
      deferred.sort((a, b) => depthOf(a.identifier) - depthOf(b.identifier));
      for (let i = 0; i < deferred.length; i += WRITE_BATCH) await write(deferred.slice(i, i + WRITE_BATCH));
      await pending;
      if (inserted !== plan.valid) throw new DomainError('conflict', 'The file changed while it was being imported; nothing was imported');
      await importRepository.setStreamHead(tx, stream, chain.seq, chain.hash);
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new DomainError('duplicate', 'A sample with one of these identifiers was registered while the file was being imported; nothing was imported', {
        errors: [{ field: input.mapping.identifier ?? 'identifier', message: 'already registered' }],
      });
    }
    throw error;
  }
}

interface BatchContext {
  actor: Actor;
  collection: CollectionRow;
  jobId: string;
  stream: string;
  chain: { seq: bigint; hash: string };
  locations: Map<string, string>;
  idOf(identifier: string): string;
  rootOf(identifier: string): string;
  parentIdOf(parent: string | null): string | null;
}

/** The rows of one batch, with each audit event chained to the one before it (in file order). */
function buildBatch(samples: ParsedRow[], c: BatchContext): ImportBatch {
  const batch: ImportBatch = {
    collectionId: c.collection.id,
    stream: c.stream,
    actorId: c.actor.userId,
    requestId: c.actor.requestId ?? null,
    reason: `import ${c.jobId}`,
    samples: [],
    movementIds: [],
    events: [],
  };
  for (const s of samples) {
    const id = c.idOf(s.identifier);
    const rootId = c.rootOf(s.identifier);
    const parentId = c.parentIdOf(s.parent);
    batch.samples.push({
      id,
      identifier: s.identifier,
      kind: s.kind,
      quantity: s.quantity.toString(),
      parent_id: parentId,
      root_id: rootId,
      location_id: s.location === null ? null : locationIdOf(c, s.location),
      attributes: s.attributes,
    });
    batch.movementIds.push(crypto.randomUUID());
    // The same event recordAudit writes, chained here.
    const seq = c.chain.seq + 1n;
    const event = {
      id: crypto.randomUUID(),
      stream: c.stream,
      seq,
      occurredAt: new Date().toISOString(),
      actorId: batch.actorId,
      action: 'sample.import',
      entityType: 'sample',
      entityId: id,
      data: {
        identifier: s.identifier,
        collectionId: c.collection.id,
        kind: s.kind,
        quantity: formatQuantity(s.quantity, c.collection.scale),
        unit: c.collection.unit,
        parentId,
        rootId,
        row: s.row,
      },
      requestId: batch.requestId,
    };
    const hash = eventHash(c.chain.hash, event);
    batch.events.push({ id: event.id, seq: seq.toString(), occurred_at: event.occurredAt, entity_id: id, data: event.data, prev_hash: c.chain.hash, hash });
    c.chain.seq = seq;
    c.chain.hash = hash;
  }
  return batch;
}

function locationIdOf(c: BatchContext, location: string): string {
  const id = c.locations.get(location);
  if (!id) throw new DomainError('conflict', `The location "${location}" disappeared during the import; nothing was imported`);
  return id;
}
