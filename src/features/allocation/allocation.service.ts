/**
 * Allocation: from a call's approved applications, their review ranking and
 * the call's offer, propose who gets what (HiGHS, greedy fallback), let the
 * chair edit with live checks and approve, and execute: split the parent
 * samples and reserve each subsample to its application in one transaction,
 * after checking the proposal again against the inventory as it is then.
 */
import crypto from 'node:crypto';
import type { Actor } from '../../core/actor.js';
import { explainAllocation, type ItemOutcome } from '../../core/allocation/explain.js';
import { itemKey, objectiveValue, validateInput, type AllocationInput, type AllocationRequest, type AllocationRules, type ItemProposal, type PoolSample, type Proposal } from '../../core/allocation/model.js';
import { verifyAllocation, type Violation } from '../../core/allocation/verify.js';
import { DomainError, invalid, notFound, type FieldError } from '../../core/errors.js';
import { shelfStates } from '../../core/ledger.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity, parseQuantity } from '../../core/quantity.js';
import type { DB } from '../../platform/db/database.js';
import { idempotent, inTransaction, type Executor, type Tx } from '../../platform/db/tx.js';
import { createJobRunner, type JobRunner } from '../../platform/jobs.js';
import type { ApplicationsService } from '../applications/applications.service.js';
import { recordAudit } from '../audit/audit.service.js';
import type { CallsService } from '../calls/calls.service.js';
import { ledger } from '../inventory/ledger.js';
import type { ReviewService } from '../review/review.service.js';
import { allocationRepository as repo, type AllocationItemRow, type AllocationLineRow, type AllocationRow, type ShelfSampleRow } from './allocation.repository.js';
import type { AllocationEdit, ProposeInput } from './allocation.schemas.js';
import { solveAllocation, type SolveAllocationOptions } from './solver/solve.js';
import { toAllocation, toExclusion, toSummary, type AllocationView, type Checked } from './allocation.view.js';
import { assertConsentFor, consentForAllocation } from '../pathology/eligibility.service.js';
import type { Exclusion } from '../../core/consent.js';

export type AllocationService = ReturnType<typeof createAllocationService>;

/** Calls whose decisions are taken (or being taken) can have allocations proposed. */
const PROPOSABLE = ['in_review', 'decided'];
/** Material leaves only once the committee's decisions are final. */
const EXECUTABLE = ['decided', 'distributed'];

export interface AllocationDeps {
  calls: CallsService;
  applications: ApplicationsService;
  review: ReviewService;
  /** Overrides for the solver (tests force a timeout; the bench sets limits). */
  solverOptions?: Partial<SolveAllocationOptions>;
  /** Where background proposals report progress; defaults to a runner of its own over the same jobs table. */
  jobs?: JobRunner;
}

/** What a sample on the shelf can give now: unreserved quantity, and only while it is on the shelf. */
function onShelf(rows: ShelfSampleRow[]): PoolSample[] {
  return rows.map((r) => {
    const free = BigInt(r.quantity) - BigInt(r.reserved);
    return { id: r.id, identifier: r.identifier, kind: r.kind, available: (shelfStates as readonly string[]).includes(r.state) && free > 0n ? free : 0n };
  });
}

/** Where a violation of a stored allocation lies, for the problem document's errors. */
const violationField = (v: Violation): string => (v.sampleId ? `sample ${v.sampleId}` : v.kind ? `kind ${v.kind}` : 'allocation');

function rulesOf(row: AllocationRow): AllocationRules {
  const cap = { ...(row.cap_per_kind === null ? {} : { perKind: BigInt(row.cap_per_kind) }), ...(row.cap_total === null ? {} : { total: BigInt(row.cap_total) }) };
  return { minCut: BigInt(row.min_cut), maxPieces: row.max_pieces, ...(Object.keys(cap).length ? { institutionCap: cap } : {}) };
}

function requestsOf(items: AllocationItemRow[]): AllocationRequest[] {
  return items.map((i) => ({ applicationId: i.application_id, itemId: i.kind, institutionId: i.institution_id, kind: i.kind, quantity: BigInt(i.requested), minimum: BigInt(i.minimum), score: i.score, rank: i.rank }));
}

function proposalOf(items: AllocationItemRow[], lines: Array<Pick<AllocationLineRow, 'application_id' | 'kind' | 'sample_id' | 'quantity'>>): Proposal {
  return {
    items: items.map((i) => {
      const pieces = lines.filter((l) => l.application_id === i.application_id && l.kind === i.kind).map((l) => ({ sampleId: l.sample_id, quantity: BigInt(l.quantity) }));
      return { applicationId: i.application_id, itemId: i.kind, allocated: pieces.reduce((s, p) => s + p.quantity, 0n), pieces };
    }),
  };
}

/** The column holds 2000 characters; explanations name a few samples only, but a long kind name could still overrun it. */
const clip = (text: string) => (text.length <= 2000 ? text : `${text.slice(0, 1999)}…`);

function outcomesOf(outcomes: ItemOutcome[]) {
  return outcomes.map((o) => ({ application_id: o.applicationId, kind: o.kind, allocated: o.allocated.toString(), outcome: o.outcome, reason: o.reason, params: o.params, explanation: clip(o.explanation), exclusions: o.exclusions }));
}

/**
 * Consent before allocation: the pool with withdrawn and unconsented human
 * material offering nothing, and each request carrying the samples of its
 * kind that its application's intended uses may not draw on.
 */
async function withConsent(executor: Executor, pool: PoolSample[], requests: AllocationRequest[]): Promise<{ samples: PoolSample[]; requests: AllocationRequest[] }> {
  const applications = [...new Map(requests.map((r) => [r.applicationId, { applicationId: r.applicationId, institutionId: r.institutionId }])).values()];
  const { samples, exclusions } = await consentForAllocation(executor, pool, applications);
  if (exclusions.size === 0) return { samples, requests };
  const kindOf = new Map(pool.map((s) => [s.id, s.kind]));
  const own = (r: AllocationRequest, list: readonly Exclusion[]) =>
    list.filter((e) => kindOf.get(e.sampleId) === r.kind).map((e) => ({ sampleId: e.sampleId, reason: e.reason, ...(e.uses ? { uses: e.uses } : {}) }));
  return { samples, requests: requests.map((r) => ({ ...r, exclusions: own(r, exclusions.get(r.applicationId) ?? []) })) };
}

/**
 * The problem document for a proposal that gives a sample to an application
 * its donor's consent does not allow: consent-withdrawn when every such
 * sample's donor withdrew, consent-scope-excluded otherwise.
 */
function consentRefusal(violations: Violation[], fieldOf: (v: Violation) => string, lead: string): DomainError | undefined {
  const consent = violations.filter((v) => v.code === 'consent-excluded');
  if (consent.length === 0) return undefined;
  const code = consent.every((v) => v.reason === 'consent-withdrawn') ? 'consent-withdrawn' : 'consent-scope-excluded';
  return new DomainError(code, `${lead}: ${consent[0]!.message}`, {
    errors: violations.map((v) => ({ field: fieldOf(v), message: v.message })),
    extensions: { violations },
  });
}

function linesOf(allocationId: string, proposal: Proposal) {
  return proposal.items.flatMap((item) =>
    item.pieces.map((p) => ({ id: crypto.randomUUID(), allocation_id: allocationId, application_id: item.applicationId, kind: item.itemId, sample_id: p.sampleId, quantity: p.quantity.toString() })),
  );
}

export function createAllocationService(db: DB, deps: AllocationDeps) {
  const { calls, applications, review } = deps;
  const jobs = deps.jobs ?? createJobRunner(db);

  async function callOf(executor: Executor, callId: string, field?: string) {
    const call = await calls.find(callId, executor);
    if (!call) throw notFound('The call', field);
    return call;
  }

  /** What the call still offers per kind: its releasable quantity less what executed allocations took. */
  async function offerOf(executor: Executor, callId: string, except?: string) {
    const pool = await calls.pool(callId, executor);
    const taken = await repo.executedByKind(executor, callId, except);
    const kinds = pool.kinds.map((k) => {
      const left = k.releasable - (taken.get(k.kind) ?? 0n);
      return { kind: k.kind, releasable: left > 0n ? left : 0n };
    });
    return { pool, kinds };
  }

  /** The approved applications still waiting for material, ranked by the review's normalised scores. */
  async function approvedRequests(executor: Executor, callId: string): Promise<AllocationRequest[]> {
    const approved = await applications.approvedForCall(callId, executor);
    const ranking = await review.ranking(callId, executor);
    const ranked = new Map(ranking.items.map((r) => [r.applicationId, r]));
    const floor = Math.min(0, ...ranking.items.map((r) => r.normalised)) - 1;
    // Unreviewed approvals come last, below every reviewed one, in a stable order.
    const order = [...approved].sort((a, b) => (ranked.get(a.applicationId)?.rank ?? Infinity) - (ranked.get(b.applicationId)?.rank ?? Infinity) || (a.applicationId < b.applicationId ? -1 : 1));
    const requests: AllocationRequest[] = [];
    order.forEach((app, index) => {
      for (const item of app.items) {
        const quantity = item.approved ?? item.quantity;
        if (quantity <= 0n) continue;
        requests.push({
          applicationId: app.applicationId,
          itemId: item.kind,
          institutionId: app.institutionId,
          kind: item.kind,
          quantity,
          minimum: item.minimum < quantity ? item.minimum : quantity,
          score: ranked.get(app.applicationId)?.normalised ?? floor,
          rank: index + 1,
        });
      }
    });
    return requests;
  }

  function parseRules(input: ProposeInput, scale: number): AllocationRules {
    const minCut = input.minCut === undefined ? 1n : parseQuantity(input.minCut, scale, { field: 'minCut' });
    const cap = input.institutionCap ?? {};
    const perKind = cap.perKind === undefined || cap.perKind === null ? undefined : parseQuantity(cap.perKind, scale, { field: 'institutionCap.perKind' });
    const total = cap.total === undefined || cap.total === null ? undefined : parseQuantity(cap.total, scale, { field: 'institutionCap.total' });
    const institutionCap = { ...(perKind === undefined ? {} : { perKind }), ...(total === undefined ? {} : { total }) };
    return { minCut, maxPieces: input.maxPieces ?? 2, ...(Object.keys(institutionCap).length ? { institutionCap } : {}) };
  }

  /** The stored allocation's problem against the inventory now (or the locked rows inside an execution). */
  async function liveProblem(executor: Executor, row: AllocationRow, items: AllocationItemRow[], shelf?: ShelfSampleRow[]): Promise<{ input: AllocationInput; offer: Array<{ kind: string; releasable: bigint }> }> {
    const { pool, kinds } = await offerOf(executor, row.call_id, row.id);
    // Consent applies before the solver sees the pool: withdrawn or unconsented human material offers nothing,
    // and each application may draw only on samples whose consent covers its intended uses.
    const { samples, requests } = await withConsent(executor, onShelf(shelf ?? (await repo.poolSamples(executor, row.call_id))), requestsOf(items));
    return { input: { samples, kinds, requests, scale: pool.scale, unit: pool.unit }, offer: kinds };
  }

  /** Violations with sample identifiers instead of ids, so people can read them. */
  async function readable(executor: Executor, callId: string, violations: Violation[]): Promise<Violation[]> {
    if (violations.length === 0) return violations;
    const names = new Map((await repo.poolSamples(executor, callId)).map((s) => [s.id, s.identifier]));
    return violations.map((v) => {
      let message = v.message;
      for (const [id, identifier] of names) message = message.split(id).join(identifier);
      return { ...v, message };
    });
  }

  async function render(executor: Executor, row: AllocationRow, verification?: Checked | null): Promise<AllocationView> {
    const [items, lines, pool] = await Promise.all([repo.items(executor, row.id), repo.lines(executor, row.id), calls.pool(row.call_id, executor)]);
    let checked: Checked | null;
    if (verification !== undefined) checked = verification;
    else if (row.state === 'executed') checked = { ok: true, checkedAgainst: 'inventory-at-execution', violations: [] };
    else if (row.state === 'superseded') checked = null;
    else {
      const { input } = await liveProblem(executor, row, items);
      const result = verifyAllocation(input, rulesOf(row), proposalOf(items, lines));
      checked = { ok: result.ok, checkedAgainst: 'inventory-now', violations: await readable(executor, row.call_id, result.details) };
    }
    return toAllocation(row, items, lines, { scale: pool.scale, unit: pool.unit }, checked);
  }

  async function findVisible(executor: Executor, id: string): Promise<AllocationRow> {
    const row = await repo.find(executor, id);
    if (!row) throw notFound('The allocation');
    return row;
  }

  async function audit(tx: Tx, actor: Actor, row: { id: string; call_id: string }, action: string, data: Record<string, unknown>): Promise<void> {
    await recordAudit(tx, actor, { stream: `call:${row.call_id}`, action, entityType: 'allocation', entityId: row.id, data: { callId: row.call_id, ...data } });
  }

  /** Turns a chair's edit into a full proposal: the stored lines with the edited items replaced. */
  function applyEdit(items: AllocationItemRow[], lines: AllocationLineRow[], edit: AllocationEdit, scale: number): { proposal: Proposal; fieldOf: (v: Violation) => string } {
    const known = new Set(items.map((i) => itemKey({ applicationId: i.application_id, itemId: i.kind })));
    const replaced = new Map<string, { index: number; pieces: ItemProposal['pieces'] }>();
    edit.items.forEach((item, i) => {
      const key = itemKey({ applicationId: item.applicationId, itemId: item.kind });
      if (!known.has(key)) throw invalid(`items.${i}`, 'is not an item of this allocation (application and kind)');
      if (replaced.has(key)) throw invalid(`items.${i}`, 'is given twice');
      const pieces = item.pieces.map((p, j) => ({ sampleId: p.sampleId, quantity: parseQuantity(p.quantity, scale, { field: `items.${i}.pieces.${j}.quantity` }) }));
      replaced.set(key, { index: i, pieces });
    });
    const base = proposalOf(items, lines);
    const proposal: Proposal = {
      items: base.items.map((item) => {
        const edited = replaced.get(itemKey(item));
        return edited ? { ...item, pieces: edited.pieces, allocated: edited.pieces.reduce((s, p) => s + p.quantity, 0n) } : item;
      }),
    };
    const fieldOf = (v: Violation): string => {
      const at = v.applicationId && v.itemId ? replaced.get(itemKey({ applicationId: v.applicationId, itemId: v.itemId })) : undefined;
      if (!at) return v.kind ? `kind ${v.kind}` : v.institutionId ? 'institutionCap' : v.sampleId ? `sample ${v.sampleId}` : 'items';
      const piece = v.sampleId ? edit.items[at.index]!.pieces.findIndex((p) => p.sampleId === v.sampleId) : -1;
      return piece >= 0 ? `items.${at.index}.pieces.${piece}` : `items.${at.index}`;
    };
    return { proposal, fieldOf };
  }

  async function checkEdit(executor: Executor, row: AllocationRow, edit: AllocationEdit) {
    const [items, lines] = await Promise.all([repo.items(executor, row.id), repo.lines(executor, row.id)]);
    const { input, offer } = await liveProblem(executor, row, items);
    const { proposal, fieldOf } = applyEdit(items, lines, edit, input.scale ?? 0);
    const rules = rulesOf(row);
    const result = verifyAllocation(input, rules, proposal);
    const violations = await readable(executor, row.call_id, result.details);
    return { items, input, offer, rules, proposal, result: { ...result, details: violations }, fieldOf };
  }

  interface Prepared {
    actor: Actor;
    callId: string;
    input: ProposeInput;
    rules: AllocationRules;
    requests: AllocationRequest[];
    problem: AllocationInput;
    kinds: Array<{ kind: string; releasable: bigint }>;
    timeLimitMs: number;
  }

  /** Everything that can refuse a proposal, checked before any solving. */
  async function prepare(actor: Actor | null, callId: string, input: ProposeInput): Promise<Prepared> {
    authorize(actor, 'allocation.propose');
    const call = await callOf(db, callId);
    if (!PROPOSABLE.includes(call.state)) throw new DomainError('invalid-state', `Allocations are proposed once the call is in review or decided (it is ${call.state})`, { errors: [{ field: 'state', message: `call is ${call.state}` }] });
    const { pool, kinds } = await offerOf(db, callId);
    const rules = parseRules(input, pool.scale);
    const approved = await approvedRequests(db, callId);
    if (approved.length === 0) throw new DomainError('invalid-state', 'No approved application of this call is waiting for material', { errors: [{ field: 'applications', message: 'none approved and not yet allocated' }] });
    const { samples, requests } = await withConsent(db, onShelf(await repo.poolSamples(db, callId)), approved);
    const problem: AllocationInput = { samples, kinds, requests, scale: pool.scale, unit: pool.unit };
    validateInput(problem, rules);
    const timeLimitMs = deps.solverOptions?.timeLimitMs ?? (input.timeLimitSeconds ?? 10) * 1000;
    return { actor, callId, input, rules, requests, problem, kinds, timeLimitMs };
  }

  async function solveAndSave(p: Prepared, solved: () => void = () => {}): Promise<AllocationView> {
    const { actor, callId, input, rules, requests, problem, kinds } = p;
    const result = await solveAllocation(problem, { ...rules, ...deps.solverOptions, timeLimitMs: p.timeLimitMs });
    solved();
    const id = crypto.randomUUID();
    const row = await inTransaction(db, async (tx) => {
      await repo.insert(tx, {
        id,
        call_id: callId,
        solver: result.method,
        solver_status: result.solverStatus ?? null,
        fallback_reason: result.fallbackReason?.slice(0, 2000) ?? null,
        objective: result.objective,
        greedy_objective: result.greedyObjective,
        bound: result.bound ?? null,
        elapsed_ms: result.elapsedMs,
        min_cut: rules.minCut.toString(),
        max_pieces: rules.maxPieces ?? 2,
        cap_per_kind: rules.institutionCap?.perKind?.toString() ?? null,
        cap_total: rules.institutionCap?.total?.toString() ?? null,
        note: input.note ?? null,
        offer: JSON.stringify(kinds.map((k) => ({ kind: k.kind, releasable: k.releasable.toString() }))),
        created_by: actor.userId,
      });
      const outcomes = new Map(result.items.map((o) => [itemKey(o), o]));
      await repo.insertItems(
        tx,
        requests.map((r) => {
          const o = outcomes.get(itemKey(r))!;
          return { ...outcomesOf([o])[0]!, allocation_id: id, application_id: r.applicationId, kind: r.kind, institution_id: r.institutionId, requested: r.quantity.toString(), minimum: r.minimum.toString(), score: r.score, rank: r.rank };
        }),
      );
      await repo.replaceLines(tx, id, linesOf(id, result.proposal));
      const allocated = result.proposal.items.reduce((s, i) => s + i.allocated, 0n);
      await audit(tx, actor, { id, call_id: callId }, 'allocation.propose', {
        solver: result.method,
        fallbackReason: result.fallbackReason ?? null,
        objective: result.objective,
        greedyObjective: result.greedyObjective,
        allocated: allocated.toString(),
        rules: { minCut: rules.minCut.toString(), maxPieces: rules.maxPieces, perKind: rules.institutionCap?.perKind?.toString() ?? null, total: rules.institutionCap?.total?.toString() ?? null },
      });
      return (await repo.find(tx, id))!;
    });
    return render(db, row);
  }

  const service = {
    async propose(actor: Actor | null, callId: string, input: ProposeInput): Promise<AllocationView> {
      return solveAndSave(await prepare(actor, callId, input));
    },

    /**
     * The same as a job (`Prefer: respond-async`): the checks answer at once,
     * the solving runs in the background with progress at /jobs/{id}, and the
     * job's result names the allocation.
     */
    async proposeInBackground(actor: Actor | null, callId: string, input: ProposeInput): Promise<{ jobId: string }> {
      const prepared = await prepare(actor, callId, input);
      const job = await jobs.create('allocation', prepared.actor.userId, 100);
      const limit = prepared.timeLimitMs;
      const started = Date.now();
      job.progress(5, 100, 'greedy proposal');
      const timer = setInterval(() => job.progress(Math.min(95, 10 + Math.floor((85 * (Date.now() - started)) / limit)), 100, 'solving'), 250);
      void solveAndSave(prepared, () => {
        clearInterval(timer);
        job.progress(97, 100, 'checking and saving');
      })
        .then((view) => job.succeed({ allocationId: view.id, solver: view.solver, fallbackReason: view.fallbackReason, allocated: view.totals.allocated, unit: view.unit }, `proposed ${view.totals.allocated} ${view.unit} (${view.solver})`))
        .catch((error: unknown) => job.fail(error instanceof DomainError ? { type: error.code, message: error.message } : { type: 'internal-error', message: 'The proposal failed; nothing was saved' }))
        .finally(() => clearInterval(timer))
        .catch(() => undefined);
      return { jobId: job.id };
    },

    async list(actor: Actor | null, callId: string) {
      authorize(actor, 'allocation.read');
      await callOf(db, callId);
      const rows = await repo.listByCall(db, callId);
      return { items: rows.map(toSummary), nextCursor: null };
    },

    async get(actor: Actor | null, id: string): Promise<AllocationView> {
      authorize(actor, 'allocation.read');
      return render(db, await findVisible(db, id));
    },

    /** The live check while the chair edits: what the edit would give, and what it breaks, saving nothing. */
    async check(actor: Actor | null, id: string, edit: AllocationEdit) {
      authorize(actor, 'allocation.edit');
      const row = await findVisible(db, id);
      const { input, rules, proposal, result } = await checkEdit(db, row, edit);
      const explained = explainAllocation(input, rules, proposal);
      const scale = input.scale ?? 0;
      return {
        ok: result.ok,
        violations: result.details,
        objective: objectiveValue(input, proposal),
        items: explained.items.map((o) => ({ applicationId: o.applicationId, kind: o.kind, allocated: formatQuantity(o.allocated, scale), outcome: o.outcome, reason: o.reason, params: o.params, explanation: o.explanation, exclusions: o.exclusions.map(toExclusion) })),
      };
    },

    async update(actor: Actor | null, id: string, edit: AllocationEdit): Promise<AllocationView> {
      authorize(actor, 'allocation.edit');
      return inTransaction(db, async (tx) => {
        const row = await repo.findForUpdate(tx, id);
        if (!row) throw notFound('The allocation');
        if (row.state !== 'draft' && row.state !== 'approved') throw new DomainError('invalid-state', `An ${row.state} allocation cannot be edited`, { errors: [{ field: 'state', message: `is ${row.state}` }] });
        const { input, offer, rules, proposal, result, fieldOf } = await checkEdit(tx, row, edit);
        if (!result.ok) {
          const refusal = consentRefusal(result.details, fieldOf, "The edit gives material the donor's consent does not allow");
          if (refusal) throw refusal;
          const errors: FieldError[] = result.details.map((v) => ({ field: fieldOf(v), message: v.message }));
          throw new DomainError('validation-failed', `The edit breaks ${result.details.length} rule(s): ${result.details[0]!.message}`, { errors, extensions: { violations: result.details } });
        }
        const explained = explainAllocation(input, rules, proposal);
        await repo.replaceLines(tx, id, linesOf(id, proposal));
        await repo.updateOutcomes(tx, id, outcomesOf(explained.items));
        const moved = await repo.transition(tx, id, ['draft', 'approved'], {
          state: 'draft',
          edited: true,
          objective: objectiveValue(input, proposal),
          approved_by: null,
          approved_at: null,
          offer: JSON.stringify(offer.map((k) => ({ kind: k.kind, releasable: k.releasable.toString() }))),
        });
        if (!moved) throw new DomainError('conflict', 'The allocation changed at the same time; reload it');
        await audit(tx, actor, row, 'allocation.edit', {
          wasApproved: row.state === 'approved',
          items: edit.items.map((i) => ({ applicationId: i.applicationId, kind: i.kind, pieces: i.pieces })),
          note: edit.note ?? null,
        });
        return render(tx, moved, { ok: true, checkedAgainst: 'inventory-now', violations: [] });
      });
    },

    async approve(actor: Actor | null, id: string): Promise<AllocationView> {
      authorize(actor, 'allocation.approve');
      return inTransaction(db, async (tx) => {
        const row = await repo.findForUpdate(tx, id);
        if (!row) throw notFound('The allocation');
        if (row.state === 'approved') return render(tx, row);
        if (row.state !== 'draft') throw new DomainError('invalid-state', `An ${row.state} allocation cannot be approved`, { errors: [{ field: 'state', message: `is ${row.state}` }] });
        const [items, lines] = await Promise.all([repo.items(tx, id), repo.lines(tx, id)]);
        const { input } = await liveProblem(tx, row, items);
        const result = verifyAllocation(input, rulesOf(row), proposalOf(items, lines));
        if (!result.ok) {
          const violations = await readable(tx, row.call_id, result.details);
          const refusal = consentRefusal(violations, violationField, "The allocation gives material the donors' consent does not allow");
          if (refusal) throw refusal;
          throw new DomainError('conflict', `The allocation no longer fits the inventory: ${violations[0]!.message}`, { extensions: { violations } });
        }
        await assertConsentFor(tx, lines.map((l) => ({ applicationId: l.application_id, sampleId: l.sample_id })));
        const moved = await repo.transition(tx, id, ['draft'], { state: 'approved', approved_by: actor.userId, approved_at: new Date() });
        if (!moved) throw new DomainError('conflict', 'The allocation changed at the same time; reload it');
        await audit(tx, actor, row, 'allocation.approve', { objective: row.objective });
        return render(tx, moved, { ok: true, checkedAgainst: 'inventory-now', violations: [] });
      });
    },

    /**
     * Splits and reserves, all or nothing. Executing an executed allocation
     * answers it as it is and changes nothing; so does replaying the same
     * Idempotency-Key.
     */
    async execute(actor: Actor | null, id: string, key?: string, requestId?: string): Promise<AllocationView> {
      authorize(actor, 'allocation.execute');
      return idempotent(db, { userId: actor.userId, key, scope: `allocation.execute:${id}`, input: { id } }, async (tx) => {
        const row = await repo.findForUpdate(tx, id);
        if (!row) throw notFound('The allocation');
        if (row.state === 'executed') return render(tx, row);
        if (row.state !== 'approved') {
          throw new DomainError('invalid-state', row.state === 'draft' ? 'Approve the allocation before executing it' : 'This allocation was superseded by another executed allocation of the call', { errors: [{ field: 'state', message: `is ${row.state}` }] });
        }
        // One execution per call at a time; samples are then locked in id order.
        const call = await calls.findForUpdate(tx, row.call_id);
        if (!call || !EXECUTABLE.includes(call.state)) {
          throw new DomainError('invalid-state', `Material is allocated once the call is decided (it is ${call?.state ?? 'gone'})`, { errors: [{ field: 'state', message: `call is ${call?.state ?? 'gone'}` }] });
        }
        const [items, lines] = await Promise.all([repo.items(tx, id), repo.lines(tx, id)]);
        const locked = await repo.lockSamples(tx, lines.map((l) => l.sample_id));
        const { input } = await liveProblem(tx, row, items, locked);
        const result = verifyAllocation(input, rulesOf(row), proposalOf(items, lines));
        if (!result.ok) {
          const violations = await readable(tx, row.call_id, result.details);
          const refusal = consentRefusal(violations, violationField, "The allocation gives material the donors' consent does not allow; nothing was split or reserved");
          if (refusal) throw refusal;
          throw new DomainError('conflict', `The inventory changed since this allocation was approved; nothing was split or reserved. ${violations[0]!.message}`, {
            errors: violations.map((v) => ({ field: violationField(v), message: v.message })),
            extensions: { violations },
          });
        }
        await assertConsentFor(tx, lines.map((l) => ({ applicationId: l.application_id, sampleId: l.sample_id })));
        const who = { actor, ...(requestId ? { requestId } : {}) };
        const bySample = new Map<string, AllocationLineRow[]>();
        for (const line of lines) bySample.set(line.sample_id, [...(bySample.get(line.sample_id) ?? []), line]);
        for (const sampleId of [...bySample.keys()].sort()) {
          const own = bySample.get(sampleId)!;
          const { children } = await ledger.split(tx, who, sampleId, { parts: own.map((l) => ({ quantity: BigInt(l.quantity) })), reason: `allocation ${id}` });
          for (const [i, line] of own.entries()) {
            const child = children[i]!;
            const reservation = await ledger.reserve(tx, who, child.id, { quantity: BigInt(line.quantity), applicationId: line.application_id, note: `allocation ${id}` });
            await repo.recordExecution(tx, line.id, child.id, reservation.id);
          }
        }
        const receiving = [...new Set(lines.map((l) => l.application_id))].sort();
        for (const applicationId of receiving) await applications.advance(tx, actor, applicationId, 'allocated', { allocationId: id });
        const moved = await repo.transition(tx, id, ['approved'], { state: 'executed', executed_by: actor.userId, executed_at: new Date() });
        if (!moved) throw new DomainError('conflict', 'The allocation changed at the same time; reload it');
        const superseded = await repo.supersedeOthers(tx, row.call_id, id);
        const total = lines.reduce((s, l) => s + BigInt(l.quantity), 0n);
        await audit(tx, actor, row, 'allocation.execute', { applications: receiving.length, pieces: lines.length, quantity: total.toString(), superseded });
        return render(tx, moved);
      });
    },

    /** Executed quantities per kind: what the call has distributed, for its statistics. */
    async distributedOf(callId: string): Promise<Map<string, bigint>> {
      const rows = await repo.distributed(db, callId);
      const byKind = new Map<string, bigint>();
      for (const r of rows) byKind.set(r.kind, (byKind.get(r.kind) ?? 0n) + BigInt(r.quantity));
      return byKind;
    },

    /**
     * What the call distributed (its executed allocations), in total, by kind,
     * by institution and by research direction, each split by kind: the
     * statistics' distributed figures in detail, for the committee, curators
     * and auditors.
     */
    async distribution(actor: Actor | null, callId: string) {
      authorize(actor, 'allocation.read');
      await callOf(db, callId);
      const pool = await calls.pool(callId);
      const rows = await repo.distributed(db, callId);
      const q = (v: bigint) => formatQuantity(v, pool.scale);
      const group = (key: (r: (typeof rows)[number]) => string) => {
        const out = new Map<string, Map<string, bigint>>();
        for (const r of rows) {
          const inner = out.get(key(r)) ?? new Map<string, bigint>();
          inner.set(r.kind, (inner.get(r.kind) ?? 0n) + BigInt(r.quantity));
          out.set(key(r), inner);
        }
        return [...out]
          .map(([name, kinds]) => ({ name, total: [...kinds.values()].reduce((a, b) => a + b, 0n), kinds }))
          .sort((a, b) => (a.total === b.total ? (a.name < b.name ? -1 : 1) : a.total > b.total ? -1 : 1))
          .map(({ name, total, kinds }) => ({ name, quantity: q(total), byKind: Object.fromEntries([...kinds].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, q(v)])) }));
      };
      const total = rows.reduce((s, r) => s + BigInt(r.quantity), 0n);
      const byKind = group(() => '')[0]?.byKind ?? {};
      return {
        callId,
        unit: pool.unit,
        quantity: q(total),
        byKind,
        byInstitution: group((r) => r.institution_id).map(({ name, ...rest }) => ({ institutionId: name, ...rest })),
        byResearchDirection: group((r) => r.research_direction ?? '').map(({ name, ...rest }) => ({ direction: name, ...rest })),
      };
    },
  };
  return service;
}
