import crypto from 'node:crypto';
import { hasRole, systemActor, type Actor } from '../../core/actor.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity, parseQuantity } from '../../core/quantity.js';
import { assertTransition, callTransitions, type CallState } from '../../core/workflow.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, type Tx } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import { callsRepository, type CallRow, type CriterionRow } from './calls.repository.js';
import type { CallInput, CallPatch } from './calls.schemas.js';
import { toCall, toPool, type CallView, type PoolView } from './calls.view.js';

/** Runs inside a call's transition, in its transaction; throwing refuses the transition. */
export type CallTransitionHook = (tx: Tx, call: CallRow, from: CallState, actor: Actor) => Promise<void>;

/** Who sees drafts, panels and pool samples. */
export function managesCalls(actor: Actor): boolean {
  return hasRole(actor, 'chair', 'curator', 'admin', 'auditor');
}

export interface Pool {
  callId: string;
  collectionId: string;
  unit: string;
  scale: number;
  reserveBp: number;
  kinds: Array<{ kind: string; total: bigint; releasable: bigint; samples: Array<{ sampleId: string; identifier: string; quantity: bigint }> }>;
}

export type CallsService = ReturnType<typeof createCallsService>;

export function createCallsService(db: DB) {
  const hooks = new Map<CallState, CallTransitionHook[]>();

  async function details(call: CallRow, actor: Actor): Promise<CallView> {
    const collection = await callsRepository.collection(db, call.collection_id);
    const criteria = await callsRepository.criteria(db, call.id);
    // A reviewer of a blind call learns nothing about institutions, not even who may apply.
    const showEligible = !call.blind || managesCalls(actor) || hasRole(actor, 'applicant');
    const eligible = showEligible ? await callsRepository.eligibleInstitutions(db, call.id) : [];
    const panel = managesCalls(actor) ? await callsRepository.panel(db, call.id) : undefined;
    return toCall(call, { criteria, eligible, panel, unit: collection?.unit ?? 'g', collectionScale: collection?.scale ?? 0, humanConsent: collection?.human_consent ?? false });
  }

  async function visible(actor: Actor, id: string): Promise<CallRow> {
    const call = await callsRepository.find(db, id);
    if (!call || (call.state === 'draft' && !managesCalls(actor))) throw notFound('The call');
    return call;
  }

  async function checkPanel(tx: Tx, ids: string[], field = 'panel'): Promise<string[]> {
    const unique = [...new Set(ids)];
    const found = await callsRepository.reviewers(tx, unique);
    const reviewers = new Set(found.filter((u) => u.roles.includes('reviewer')).map((u) => u.id));
    const bad = unique.findIndex((id) => !reviewers.has(id));
    if (bad >= 0) throw invalid(`${field}.${ids.indexOf(unique[bad]!)}`, 'is not an active user with the reviewer role');
    return unique;
  }

  async function checkInstitutions(tx: Tx, ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const found = new Set((await callsRepository.institutionsExist(tx, unique)).map((r) => r.id));
    const bad = unique.findIndex((id) => !found.has(id));
    if (bad >= 0) throw invalid(`eligibleInstitutionIds.${ids.indexOf(unique[bad]!)}`, 'no such institution');
    return unique;
  }

  function criteriaOf(input: NonNullable<CallInput['rubric']>): CriterionRow[] {
    const keys = new Set<string>();
    return input.criteria.map((c, i) => {
      if (keys.has(c.key)) throw invalid(`rubric.criteria.${i}.key`, 'is used twice');
      keys.add(c.key);
      return { key: c.key, name: c.name, description: c.description ?? null, weight: c.weight };
    });
  }

  function reserveBp(text: string | undefined, fallback: number): number {
    if (text === undefined) return fallback;
    const bp = Number(parseQuantity(text, 4, { field: 'reserveFraction', allowZero: true }));
    if (bp > 10_000) throw new DomainError('invalid-quantity', 'reserveFraction must be between 0 and 1', { errors: [{ field: 'reserveFraction', message: 'must be between 0 and 1' }] });
    return bp;
  }

  function checkDates(opensAt: Date, closesAt: Date, reviewDeadline: Date | null): void {
    if (closesAt <= opensAt) throw invalid('closesAt', 'must be after opensAt');
    if (reviewDeadline && reviewDeadline <= closesAt) throw invalid('reviewDeadline', 'must be after closesAt');
  }

  async function rebuildPool(tx: Tx, call: CallRow, sampleIds: string[] | null): Promise<void> {
    const ids = sampleIds ?? (await callsRepository.poolSamples(tx, call.id)).map((s) => s.sample_id);
    const found = new Map((await callsRepository.samples(tx, ids)).map((s) => [s.id, s]));
    const kinds = new Map<string, bigint>();
    const rows = ids.map((id, i) => {
      const sample = found.get(id);
      if (!sample) throw invalid(`sampleIds.${i}`, 'no such sample');
      if (sample.collection_id !== call.collection_id) throw invalid(`sampleIds.${i}`, "is not in the call's collection");
      if (['consumed', 'destroyed', 'quarantined'].includes(sample.state)) throw invalid(`sampleIds.${i}`, `is ${sample.state} and cannot be offered`);
      const quantity = BigInt(sample.quantity) - BigInt(sample.reserved);
      kinds.set(sample.kind, (kinds.get(sample.kind) ?? 0n) + quantity);
      return { sample_id: id, kind: sample.kind, quantity };
    });
    const kindRows = [...kinds].map(([kind, total]) => ({ kind, total, releasable: (total * BigInt(10_000 - call.reserve_bp)) / 10_000n }));
    await callsRepository.replacePool(tx, call.id, rows, kindRows);
  }

  const service = {
    managesCalls,

    /** Lets a later feature act inside a call's move into `to` (e.g. applications entering review). */
    onTransition(to: CallState, hook: CallTransitionHook): void {
      hooks.set(to, [...(hooks.get(to) ?? []), hook]);
    },

    async create(actor: Actor | null, input: CallInput): Promise<CallView> {
      authorize(actor, 'call.create');
      const collection = await callsRepository.collection(db, input.collectionId);
      if (!collection) throw invalid('collectionId', 'no such collection');
      const opensAt = new Date(input.opensAt);
      const closesAt = new Date(input.closesAt);
      const reviewDeadline = input.reviewDeadline ? new Date(input.reviewDeadline) : null;
      checkDates(opensAt, closesAt, reviewDeadline);
      const rubric = input.rubric;
      if (rubric.scaleMax <= rubric.scaleMin) throw invalid('rubric.scaleMax', 'must be above scaleMin');
      const criteria = criteriaOf(rubric);
      const call = await inTransaction(db, async (tx) => {
        const row = await callsRepository.insert(tx, {
          id: crypto.randomUUID(),
          collection_id: collection.id,
          title: input.title,
          description: input.description ?? null,
          opens_at: opensAt,
          closes_at: closesAt,
          review_deadline: reviewDeadline,
          reserve_bp: reserveBp(input.reserveFraction, 7500),
          blind: input.blind ?? true,
          reviewers_per_application: input.reviewersPerApplication ?? 3,
          research_directions: [...new Set(input.researchDirections ?? [])],
          score_min: rubric.scaleMin,
          score_max: rubric.scaleMax,
          chair_id: actor.userId,
        });
        await callsRepository.replaceCriteria(tx, row.id, criteria);
        await callsRepository.replaceEligibleInstitutions(tx, row.id, await checkInstitutions(tx, input.eligibleInstitutionIds ?? []));
        await callsRepository.replacePanel(tx, row.id, await checkPanel(tx, input.panel ?? []));
        await recordAudit(tx, actor, { stream: `call:${row.id}`, action: 'call.create', entityType: 'call', entityId: row.id, data: { title: row.title, collectionId: row.collection_id, reserveBp: row.reserve_bp, blind: row.blind } });
        return row;
      });
      return details(call, actor);
    },

    async update(actor: Actor | null, id: string, input: CallPatch): Promise<CallView> {
      authorize(actor, 'call.manage');
      const call = await inTransaction(db, async (tx) => {
        const current = await callsRepository.findForUpdate(tx, id);
        if (!current) throw notFound('The call');
        const onlyDeadlines = Object.keys(input).every((key) => key === 'closesAt' || key === 'reviewDeadline');
        if (current.state !== 'draft' && !(current.state === 'open' && onlyDeadlines)) {
          throw new DomainError('invalid-state', `A call that is ${current.state} can no longer be edited${current.state === 'open' ? ' (only closesAt and reviewDeadline may change while open)' : ''}`, { errors: [{ field: 'state', message: `is ${current.state}` }] });
        }
        const opensAt = input.opensAt ? new Date(input.opensAt) : current.opens_at;
        const closesAt = input.closesAt ? new Date(input.closesAt) : current.closes_at;
        const reviewDeadline = input.reviewDeadline === undefined ? current.review_deadline : input.reviewDeadline ? new Date(input.reviewDeadline) : null;
        checkDates(opensAt, closesAt, reviewDeadline);
        const scaleMin = input.rubric?.scaleMin ?? current.score_min;
        const scaleMax = input.rubric?.scaleMax ?? current.score_max;
        if (scaleMax <= scaleMin) throw invalid('rubric.scaleMax', 'must be above scaleMin');
        const row = (await callsRepository.update(tx, id, {
          title: input.title ?? current.title,
          description: input.description === undefined ? current.description : input.description,
          opens_at: opensAt,
          closes_at: closesAt,
          review_deadline: reviewDeadline,
          reserve_bp: reserveBp(input.reserveFraction, current.reserve_bp),
          blind: input.blind ?? current.blind,
          reviewers_per_application: input.reviewersPerApplication ?? current.reviewers_per_application,
          research_directions: input.researchDirections ? [...new Set(input.researchDirections)] : current.research_directions,
          score_min: scaleMin,
          score_max: scaleMax,
        }))!;
        if (input.rubric) await callsRepository.replaceCriteria(tx, id, criteriaOf(input.rubric));
        if (input.eligibleInstitutionIds) await callsRepository.replaceEligibleInstitutions(tx, id, await checkInstitutions(tx, input.eligibleInstitutionIds));
        if (input.panel) await callsRepository.replacePanel(tx, id, await checkPanel(tx, input.panel));
        if (row.reserve_bp !== current.reserve_bp) await rebuildPool(tx, row, null);
        await recordAudit(tx, actor, { stream: `call:${id}`, action: 'call.update', entityType: 'call', entityId: id, data: { changed: Object.keys(input) } });
        return row;
      });
      return details(call, actor);
    },

    async get(actor: Actor | null, id: string): Promise<CallView> {
      authorize(actor, 'call.read');
      return details(await visible(actor, id), actor);
    },

    async list(actor: Actor | null, options: { limit: number; cursor?: string | undefined; collectionId?: string | undefined; state?: CallState | undefined }): Promise<{ items: CallView[]; nextCursor: string | null }> {
      authorize(actor, 'call.read');
      const rows = await callsRepository.list(db, { includeDrafts: managesCalls(actor), limit: options.limit + 1, after: options.cursor, collectionId: options.collectionId, state: options.state });
      const page = rows.slice(0, options.limit);
      const items = await Promise.all(page.map((row) => details(row, actor)));
      return { items, nextCursor: rows.length > options.limit ? page.at(-1)!.id : null };
    },

    async setPanel(actor: Actor | null, id: string, reviewerIds: string[]): Promise<CallView> {
      authorize(actor, 'call.manage');
      const call = await inTransaction(db, async (tx) => {
        const current = await callsRepository.findForUpdate(tx, id);
        if (!current) throw notFound('The call');
        if (['decided', 'distributed', 'archived'].includes(current.state)) throw new DomainError('invalid-state', `The panel of a ${current.state} call cannot change`, { errors: [{ field: 'state', message: `is ${current.state}` }] });
        const panel = await checkPanel(tx, reviewerIds, 'reviewerIds');
        await callsRepository.replacePanel(tx, id, panel);
        await recordAudit(tx, actor, { stream: `call:${id}`, action: 'call.panel', entityType: 'call', entityId: id, data: { reviewerIds: panel } });
        return current;
      });
      return details(call, actor);
    },

    async setPool(actor: Actor | null, id: string, sampleIds: string[]): Promise<PoolView> {
      authorize(actor, 'call.pool');
      await inTransaction(db, async (tx) => {
        const call = await callsRepository.findForUpdate(tx, id);
        if (!call) throw notFound('The call');
        if (call.state !== 'draft' && call.state !== 'open') throw new DomainError('invalid-state', `The pool of a ${call.state} call cannot change`, { errors: [{ field: 'state', message: `is ${call.state}` }] });
        const unique = [...new Set(sampleIds)];
        if (unique.length !== sampleIds.length) throw invalid('sampleIds', 'lists a sample twice');
        await rebuildPool(tx, call, unique);
        await recordAudit(tx, actor, { stream: `call:${id}`, action: 'call.pool', entityType: 'call', entityId: id, data: { sampleIds: unique } });
      });
      return service.getPool(actor, id);
    },

    async getPool(actor: Actor | null, id: string): Promise<PoolView> {
      authorize(actor, 'call.read');
      await visible(actor, id);
      const pool = await service.pool(id);
      return toPool(pool, managesCalls(actor));
    },

    async transition(actor: Actor | null, id: string, to: CallState, reason?: string): Promise<CallView> {
      authorize(actor, 'call.manage');
      const call = await inTransaction(db, async (tx) => {
        const current = await callsRepository.findForUpdate(tx, id);
        if (!current) throw notFound('The call');
        return move(tx, actor, current, to, reason);
      });
      return details(call, actor);
    },

    /**
     * Closes every open call whose closing date has passed (run periodically by
     * the server): applications were already refused after that instant, and
     * now the chair can assign reviewers. Returns the ids it closed.
     */
    async closeDue(now = new Date()): Promise<string[]> {
      const closed: string[] = [];
      for (const due of await callsRepository.openAndDue(db, now)) {
        const moved = await inTransaction(db, async (tx) => {
          const current = await callsRepository.findForUpdate(tx, due.id);
          if (!current || current.state !== 'open' || current.closes_at > now) return undefined;
          return move(tx, systemActor, current, 'closed', `closing date ${current.closes_at.toISOString()} passed`);
        });
        if (moved) closed.push(moved.id);
      }
      return closed;
    },

    /** For later features (allocation): the call's offer per kind, with the reserve already taken off. */
    async pool(callId: string, executor: DB | Tx = db): Promise<Pool> {
      const call = await callsRepository.find(executor, callId);
      if (!call) throw notFound('The call');
      const collection = await callsRepository.collection(executor, call.collection_id);
      const kinds = await callsRepository.poolKinds(executor, callId);
      const samples = await callsRepository.poolSamples(executor, callId);
      return {
        callId,
        collectionId: call.collection_id,
        unit: collection?.unit ?? 'g',
        scale: collection?.scale ?? 0,
        reserveBp: call.reserve_bp,
        kinds: kinds.map((k) => ({
          kind: k.kind,
          total: BigInt(k.total),
          releasable: BigInt(k.releasable),
          samples: samples.filter((s) => s.kind === k.kind).map((s) => ({ sampleId: s.sample_id, identifier: s.identifier, quantity: BigInt(s.quantity) })),
        })),
      };
    },

    /** For the public catalog: calls past draft (open first, then the most recent), at most `limit`. */
    async published(limit: number, executor: DB | Tx = db): Promise<CallRow[]> {
      const rows = await callsRepository.list(executor, { includeDrafts: false, limit: 5000 });
      const order = (row: CallRow) => (row.state === 'open' ? 0 : 1);
      return rows.sort((a, b) => order(a) - order(b) || b.opens_at.getTime() - a.opens_at.getTime() || (a.id < b.id ? -1 : 1)).slice(0, limit);
    },

    /** For other features: the call row, unchecked (callers enforce their own access). */
    find(callId: string, executor: DB | Tx = db): Promise<CallRow | undefined> {
      return callsRepository.find(executor, callId);
    },
    findForUpdate: (tx: Tx, callId: string) => callsRepository.findForUpdate(tx, callId),
    criteria: (callId: string, executor: DB | Tx = db) => callsRepository.criteria(executor, callId),
    panel: (callId: string, executor: DB | Tx = db) => callsRepository.panel(executor, callId),
    isOnPanel: (callId: string, userId: string, executor: DB | Tx = db) => callsRepository.isOnPanel(executor, callId, userId),
    eligibleInstitutions: (callId: string, executor: DB | Tx = db) => callsRepository.eligibleInstitutions(executor, callId),
    collection: (collectionId: string, executor: DB | Tx = db) => callsRepository.collection(executor, collectionId),
    formatReserve: (bp: number) => formatQuantity(BigInt(bp), 4),
  };

  /** One checked, audited transition of a locked call, with the hooks later features registered. */
  async function move(tx: Tx, actor: Actor, current: CallRow, to: CallState, reason?: string): Promise<CallRow> {
    assertTransition('call', callTransitions, current.state, to);
    if (to === 'open') await checkReadyToOpen(tx, current);
    const moved = await callsRepository.transition(tx, current.id, current.state, to);
    if (!moved) throw new DomainError('conflict', 'The call changed at the same time; reload and try again');
    for (const hook of hooks.get(to) ?? []) await hook(tx, moved, current.state, actor);
    await recordAudit(tx, actor, { stream: `call:${current.id}`, action: 'call.transition', entityType: 'call', entityId: current.id, data: { from: current.state, to, reason: reason ?? null } });
    return moved;
  }

  async function checkReadyToOpen(tx: Tx, call: CallRow): Promise<void> {
    if ((await callsRepository.criteria(tx, call.id)).length === 0) throw new DomainError('invalid-state', 'Give the call a rubric before opening it', { errors: [{ field: 'rubric', message: 'has no criteria' }] });
    if ((await callsRepository.poolKinds(tx, call.id)).length === 0) throw new DomainError('invalid-state', 'Offer material (set the pool) before opening the call', { errors: [{ field: 'pool', message: 'is empty' }] });
    if (call.closes_at <= new Date()) throw new DomainError('invalid-state', 'The closing date has already passed; move it before opening', { errors: [{ field: 'closesAt', message: 'is in the past' }] });
  }

  return service;
}
