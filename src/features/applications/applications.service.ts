import crypto from 'node:crypto';
import { hasRole, type Actor } from '../../core/actor.js';
import { DomainError, forbidden, invalid, notFound, type ErrorCode } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity } from '../../core/quantity.js';
import { applicationTransitions, assertTransition, withdrawableStates, type ApplicationState, type DecisionOutcome } from '../../core/workflow.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, type Tx } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import type { CallRow } from '../calls/calls.repository.js';
import type { CallsService } from '../calls/calls.service.js';
import type { NotificationsService } from '../notifications/notifications.service.js';
import { applicationsRepository as repo, type ApplicationRow, type Viewer, type VisibleRow } from './applications.repository.js';
import { checkDirection, completeness, displayName, identityLeaks, parseItems, type Offer } from './applications.rules.js';
import type { ApplicationInput, ApplicationPatch } from './applications.schemas.js';
import { approvedQuantities, defaultLetter, type DecisionInput } from './applications.decision.js';
import { toApplication, type ApplicationView } from './applications.view.js';
import { stripPdfMetadata, UnreadablePdfError } from './pdf-metadata.js';
import { callStatistics, callStatisticsCsv, type DistributedOf } from './applications.statistics.js';

export type { DecisionInput, DistributedOf };

/** Whether an applicant may start or submit an application now; a refusal names why. */
export type ApplyGateAnswer = { allowed: true } | { allowed: false; message: string; code?: ErrorCode; extensions?: Record<string, unknown> };

/**
 * The gate a later feature (loans: overdue reports or returns) puts on new
 * applications. It runs inside the submitting transaction when there is one.
 */
export type CanApply = (applicantId: string, context: { callId: string; executor: DB | Tx }) => Promise<ApplyGateAnswer>;

/** The default: everyone may apply. */
export const alwaysAllowed: CanApply = () => Promise.resolve({ allowed: true });

const NOBODY = '00000000-0000-0000-0000-000000000000';
const PDF_MAGIC = Buffer.from('%PDF-');
const MAX_ATTACHMENTS = 10;
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export function viewerOf(actor: Actor): Viewer {
  const system = actor.userId === null;
  return {
    userId: actor.userId ?? NOBODY,
    institutionId: actor.institutionId,
    privileged: system || hasRole(actor, 'chair', 'curator', 'admin', 'auditor'),
    seesDrafts: system || hasRole(actor, 'admin', 'auditor'),
    reviewer: hasRole(actor, 'reviewer'),
  };
}

/** What the allocation feature reads: an approved application and what it asked for. */
export interface ApprovedApplication {
  applicationId: string;
  applicantId: string;
  institutionId: string;
  state: ApplicationState;
  decision: DecisionOutcome;
  items: Array<{ kind: string; quantity: bigint; minimum: bigint; approved: bigint | null }>;
}

export type ApplicationsService = ReturnType<typeof createApplicationsService>;

export interface ApplicationsDeps {
  calls: CallsService;
  notifications: NotificationsService;
  /** Gate on new applications (see CanApply); defaults to allowing everyone. */
  canApply?: CanApply;
  /** Distributed quantities per kind for a call's statistics; defaults to none. */
  distributedOf?: DistributedOf;
}

export function createApplicationsService(db: DB, deps: ApplicationsDeps) {
  const { calls, notifications } = deps;
  // Later features (loans, distribution) are built after this one, so they may also plug in afterwards.
  let canApply: CanApply = deps.canApply ?? alwaysAllowed;
  let distributedOf: DistributedOf | undefined = deps.distributedOf;

  async function checkMayApply(actor: Actor, callId: string, executor: DB | Tx): Promise<void> {
    const answer = await canApply(actor.userId!, { callId, executor });
    if (answer.allowed) return;
    throw new DomainError(answer.code ?? 'forbidden', answer.message, { extensions: answer.extensions ?? {} });
  }

  async function offerOf(call: CallRow, executor: DB | Tx = db): Promise<Offer & { humanConsent: boolean }> {
    const pool = await calls.pool(call.id, executor);
    const collection = await calls.collection(call.collection_id, executor);
    return {
      scale: pool.scale,
      unit: pool.unit,
      directions: call.research_directions,
      releasable: new Map(pool.kinds.map((k) => [k.kind, k.releasable])),
      humanConsent: collection?.human_consent ?? false,
    };
  }

  async function render(rows: VisibleRow[]): Promise<ApplicationView[]> {
    const ids = rows.map((r) => r.id);
    const [items, attachments, people, institutions] = await Promise.all([
      repo.items(db, ids),
      repo.attachments(db, ids),
      repo.people(db, [...new Set(rows.filter((r) => !(r.access === 'review' && r.blind)).map((r) => r.applicant_id))]),
      repo.institutions(db, [...new Set(rows.filter((r) => !(r.access === 'review' && r.blind)).map((r) => r.institution_id))]),
    ]);
    const units = new Map<string, { unit: string; scale: number }>();
    for (const callId of new Set(rows.map((r) => r.call_id))) {
      const call = await calls.find(callId);
      const collection = call && (await calls.collection(call.collection_id));
      units.set(callId, { unit: collection?.unit ?? 'g', scale: collection?.scale ?? 0 });
    }
    const person = new Map(people.map((p) => [p.id, p]));
    const institution = new Map(institutions.map((i) => [i.id, i]));
    return Promise.all(
      rows.map(async (row) =>
        toApplication(row, {
          access: row.access,
          blind: row.blind,
          ...units.get(row.call_id)!,
          items: items.filter((i) => i.application_id === row.id),
          attachments: attachments.filter((a) => a.application_id === row.id),
          applicant: person.get(row.applicant_id),
          institution: institution.get(row.institution_id),
          ...(row.access === 'own' && row.decided_at ? { reviewComments: await repo.commentsForApplicant(db, row.id) } : {}),
        }),
      ),
    );
  }

  /** The application as the actor may see it, or 404: existence never leaks. */
  async function visible(actor: Actor, id: string): Promise<VisibleRow> {
    const row = await repo.findVisible(db, viewerOf(actor), id);
    if (!row) throw notFound('The application');
    return row;
  }

  async function own(actor: Actor, id: string): Promise<VisibleRow> {
    const row = await visible(actor, id);
    if (row.access !== 'own') throw forbidden('Only the applicant may change an application');
    return row;
  }

  async function openCall(tx: Tx | DB, callId: string, field: string): Promise<CallRow> {
    const call = tx === db ? await calls.find(callId) : await calls.findForUpdate(tx as Tx, callId);
    if (!call || call.state === 'draft') throw notFound('The call', field);
    const now = new Date();
    if (call.state !== 'open' || now >= call.closes_at) {
      throw new DomainError('deadline-passed', `Applications for this call closed at ${call.closes_at.toISOString()}; it no longer accepts them`, {
        errors: [{ field, message: `closed at ${call.closes_at.toISOString()}` }],
        extensions: { closesAt: call.closes_at.toISOString() },
      });
    }
    if (now < call.opens_at) throw new DomainError('invalid-state', `This call opens for applications at ${call.opens_at.toISOString()}`, { errors: [{ field, message: 'not open yet' }] });
    return call;
  }

  async function checkEligible(call: CallRow, actor: Actor, executor: DB | Tx): Promise<void> {
    if (!actor.institutionId) throw invalid('institutionId', 'your account belongs to no institution; ask an administrator');
    const eligible = await calls.eligibleInstitutions(call.id, executor);
    if (eligible.length > 0 && !eligible.includes(actor.institutionId)) throw forbidden('Your institution is not eligible to apply to this call');
  }

  function contentChanges(input: ApplicationPatch): Record<string, unknown> {
    const changes: Record<string, unknown> = {};
    if (input.title !== undefined) changes.title = input.title;
    if (input.researchDirection !== undefined) changes.research_direction = input.researchDirection;
    if (input.researchDirectionOther !== undefined) changes.research_direction_other = input.researchDirectionOther;
    if (input.methods !== undefined) changes.methods = input.methods;
    if (input.destructive !== undefined) changes.destructive = input.destructive;
    if (input.justification !== undefined) changes.justification = input.justification;
    if (input.team !== undefined) changes.team = JSON.stringify(input.team);
    if (input.publications !== undefined) changes.publications = JSON.stringify(input.publications);
    if (input.ethicsReference !== undefined) changes.ethics_reference = input.ethicsReference;
    return changes;
  }

  async function audit(tx: Tx, actor: Actor, id: string, action: string, data: Record<string, unknown> = {}): Promise<void> {
    await recordAudit(tx, actor, { stream: `application:${id}`, action, entityType: 'application', entityId: id, data });
  }

  async function anonymousPdf(content: Buffer): Promise<Buffer> {
    try {
      return await stripPdfMetadata(content);
    } catch (error) {
      if (error instanceof UnreadablePdfError) throw new DomainError('unsupported-media-type', error.message, { errors: [{ field: 'body', message: error.reason === 'encrypted' ? 'is encrypted' : 'is not a readable PDF' }] });
      throw error;
    }
  }

  async function getView(actor: Actor, id: string): Promise<ApplicationView> {
    return (await render([await visible(actor, id)]))[0]!;
  }

  /** Applications enter review with their call, and a call is decided only when all of them are. */
  calls.onTransition('in_review', async (tx, call, _from, actor) => {
    for (const id of await repo.moveAll(tx, call.id, 'submitted', 'in_review')) await audit(tx, actor, id, 'application.transition', { from: 'submitted', to: 'in_review' });
  });
  calls.onTransition('closed', async (tx, call, _from, actor) => {
    // A chair who closes the call knows; when the closing date closes it, tell them it is time to assign reviewers.
    if (actor.userId !== null) return;
    const submitted = await repo.countByState(tx, call.id, 'submitted');
    await notifications.notifyChairs(tx, call.chair_id, { kind: 'call.closed', title: `Applications closed: ${call.title}`, body: `"${call.title}" closed at ${call.closes_at.toISOString()} with ${submitted} submitted application(s). Assign reviewers, then put the call in review.`, entityType: 'call', entityId: call.id });
  });
  notifications.addPeriodicTask('close-calls', () => calls.closeDue());
  calls.onTransition('decided', async (tx, call) => {
    const waiting = await repo.countByState(tx, call.id, 'in_review');
    if (waiting > 0) throw new DomainError('invalid-state', `${waiting} application(s) still await a decision`, { errors: [{ field: 'state', message: `${waiting} undecided` }], extensions: { undecided: waiting } });
  });

  const service = {
    async create(actor: Actor | null, input: ApplicationInput): Promise<ApplicationView> {
      authorize(actor, 'application.create');
      const call = await openCall(db, input.callId, 'callId');
      await checkEligible(call, actor, db);
      await checkMayApply(actor, call.id, db);
      const offer = await offerOf(call);
      checkDirection(input.researchDirection, offer);
      const items = parseItems(input.items ?? [], offer);
      const id = crypto.randomUUID();
      await inTransaction(db, async (tx) => {
        await repo.insert(tx, {
          id,
          call_id: call.id,
          applicant_id: actor.userId!,
          institution_id: actor.institutionId!,
          title: input.title,
          research_direction: input.researchDirection ?? null,
          research_direction_other: input.researchDirectionOther ?? null,
          methods: input.methods ?? null,
          destructive: input.destructive ?? false,
          justification: input.justification ?? null,
          team: JSON.stringify(input.team ?? []),
          publications: JSON.stringify(input.publications ?? []),
          ethics_reference: input.ethicsReference ?? null,
        });
        await repo.replaceItems(tx, id, items);
        await audit(tx, actor, id, 'application.create', { callId: call.id, title: input.title });
      });
      return getView(actor, id);
    },

    async update(actor: Actor | null, id: string, input: ApplicationPatch): Promise<ApplicationView> {
      authorize(actor, 'application.read');
      const row = await own(actor, id);
      if (row.state !== 'draft') throw new DomainError('invalid-state', `A ${row.state} application can no longer be edited; withdraw it instead`, { errors: [{ field: 'state', message: `is ${row.state}` }] });
      const call = (await calls.find(row.call_id))!;
      const offer = await offerOf(call);
      if (input.researchDirection !== undefined) checkDirection(input.researchDirection, offer);
      const items = input.items ? parseItems(input.items, offer) : undefined;
      await inTransaction(db, async (tx) => {
        const updated = await repo.update(tx, id, 'draft', contentChanges(input));
        if (!updated) throw new DomainError('invalid-state', 'The application was submitted or withdrawn meanwhile');
        if (items) await repo.replaceItems(tx, id, items);
        await audit(tx, actor, id, 'application.update', { changed: Object.keys(input) });
      });
      return getView(actor, id);
    },

    async submit(actor: Actor | null, id: string): Promise<ApplicationView> {
      authorize(actor, 'application.read');
      const found = await own(actor, id);
      assertTransition('application', applicationTransitions, found.state, 'submitted');
      await inTransaction(db, async (tx) => {
        const call = await openCall(tx, found.call_id, 'callId');
        await checkEligible(call, actor, tx);
        await checkMayApply(actor, call.id, tx);
        const row = (await repo.findForUpdate(tx, id))!;
        const items = await repo.items(tx, [id]);
        const offer = await offerOf(call, tx);
        const missing = completeness(row, items, offer.humanConsent);
        if (missing.length) throw new DomainError('validation-failed', `The application is incomplete: ${missing.map((e) => e.field).join(', ')}`, { errors: missing });
        parseItems(items.map((i) => ({ kind: i.kind, quantity: formatQuantity(i.quantity, offer.scale), minimum: formatQuantity(i.minimum, offer.scale) })), offer);
        if (call.blind) {
          const [person] = await repo.people(tx, [row.applicant_id]);
          const [institution] = await repo.institutions(tx, [row.institution_id]);
          const leaks = identityLeaks(row, [person?.name ?? '', person?.email ?? '', institution?.name ?? '', institution?.code ?? '', ...row.team.flatMap((m) => [m.name, m.institution ?? ''])]);
          if (leaks.length) throw new DomainError('validation-failed', 'This call is reviewed blind; remove names of you, your team and your institution from the text', { errors: leaks });
        }
        const moved = await repo.update(tx, id, 'draft', { state: 'submitted', submitted_at: new Date() });
        if (!moved) throw new DomainError('invalid-state', 'The application is no longer a draft');
        await audit(tx, actor, id, 'application.submit', { callId: call.id });
        await notifications.notify(tx, [row.applicant_id], { kind: 'application.submitted', title: `Application received: ${row.title}`, body: `Your application "${row.title}" to "${call.title}" was submitted on ${new Date().toISOString()}. You will be told when the committee decides.`, entityType: 'application', entityId: id });
      });
      return getView(actor, id);
    },

    async withdraw(actor: Actor | null, id: string, reason?: string): Promise<ApplicationView> {
      authorize(actor, 'application.read');
      const found = await own(actor, id);
      if (!withdrawableStates.includes(found.state)) throw new DomainError('invalid-state', `A ${found.state} application can no longer be withdrawn (only before allocation)`, { errors: [{ field: 'state', message: `is ${found.state}` }] });
      await inTransaction(db, async (tx) => {
        const moved = await repo.update(tx, id, found.state, { state: 'withdrawn', withdrawn_at: new Date() });
        if (!moved) throw new DomainError('conflict', 'The application changed at the same time; reload and try again');
        await audit(tx, actor, id, 'application.withdraw', { from: found.state, reason: reason ?? null });
        if (found.state !== 'draft') {
          const call = await calls.find(found.call_id, tx);
          await notifications.notifyChairs(tx, call?.chair_id ?? null, { kind: 'application.withdrawn', title: 'An application was withdrawn', body: `An application to "${call?.title ?? ''}" was withdrawn.`, entityType: 'application', entityId: id });
        }
      });
      return getView(actor, id);
    },

    async get(actor: Actor | null, id: string): Promise<ApplicationView> {
      authorize(actor, 'application.read');
      return getView(actor, id);
    },

    async list(actor: Actor | null, query: { limit: number; cursor?: string | undefined; callId?: string | undefined; state?: ApplicationState | undefined; mine?: boolean | undefined }) {
      authorize(actor, 'application.read');
      const rows = await repo.listVisible(db, viewerOf(actor), { limit: query.limit + 1, after: query.cursor, callId: query.callId, state: query.state, mine: query.mine });
      const page = rows.slice(0, query.limit);
      return { items: await render(page), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
    },

    async addAttachment(actor: Actor | null, id: string, name: string | undefined, content: Buffer) {
      authorize(actor, 'application.read');
      const row = await own(actor, id);
      if (row.state !== 'draft') throw new DomainError('invalid-state', 'Attachments can change only while the application is a draft');
      if (content.length > MAX_ATTACHMENT_BYTES) throw new DomainError('payload-too-large', `An attachment may be at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB`);
      if (content.length < PDF_MAGIC.length || !content.subarray(0, PDF_MAGIC.length).equals(PDF_MAGIC)) {
        throw new DomainError('unsupported-media-type', 'Only PDF files are accepted (the file does not start with %PDF-)', { errors: [{ field: 'body', message: 'is not a PDF' }] });
      }
      const existing = await repo.attachments(db, [id]);
      if (existing.length >= MAX_ATTACHMENTS) throw new DomainError('validation-failed', `At most ${MAX_ATTACHMENTS} attachments per application`, { errors: [{ field: 'body', message: 'too many attachments' }] });
      // Reviewers of a blind call download the file: what it says about its author goes before it is stored.
      if (row.blind) content = await anonymousPdf(content);
      if (content.length > MAX_ATTACHMENT_BYTES) throw new DomainError('payload-too-large', `An attachment may be at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB (after removing its author details)`);
      const sha256 = crypto.createHash('sha256').update(content).digest('hex');
      const saved = await inTransaction(db, async (tx) => {
        const inserted = await repo.insertAttachment(tx, { id: crypto.randomUUID(), application_id: id, display_name: displayName(name), media_type: 'application/pdf', size_bytes: content.length, sha256, content, uploaded_by: actor.userId });
        await audit(tx, actor, id, 'application.attachment.add', { attachmentId: inserted.id, sha256, sizeBytes: content.length });
        return inserted;
      });
      return { id: saved.id, name: saved.display_name, sizeBytes: saved.size_bytes, sha256: saved.sha256, createdAt: saved.created_at.toISOString() };
    },

    /** The file, for anyone who may see the application; a blind reviewer gets a neutral file name. */
    async attachment(actor: Actor | null, id: string, attachmentId: string): Promise<{ fileName: string; content: Buffer }> {
      authorize(actor, 'application.read');
      const row = await visible(actor, id);
      const found = await repo.attachmentContent(db, id, attachmentId);
      if (!found) throw notFound('The attachment');
      const anonymous = row.access === 'review' && row.blind;
      return { fileName: anonymous ? `attachment-${attachmentId.slice(0, 8)}.pdf` : found.display_name, content: Buffer.from(found.content) };
    },

    async deleteAttachment(actor: Actor | null, id: string, attachmentId: string): Promise<void> {
      authorize(actor, 'application.read');
      const row = await own(actor, id);
      if (row.state !== 'draft') throw new DomainError('invalid-state', 'Attachments can change only while the application is a draft');
      await inTransaction(db, async (tx) => {
        if (!(await repo.deleteAttachment(tx, id, attachmentId))) throw notFound('The attachment');
        await audit(tx, actor, id, 'application.attachment.delete', { attachmentId });
      });
    },

    async decide(actor: Actor | null, id: string, input: DecisionInput): Promise<ApplicationView> {
      authorize(actor, 'application.decide');
      await inTransaction(db, async (tx) => {
        const peek = await repo.find(tx, id);
        if (!peek || peek.state === 'draft') throw notFound('The application');
        const call = (await calls.findForUpdate(tx, peek.call_id))!;
        const found = (await repo.findForUpdate(tx, id))!;
        if (call.state !== 'in_review') throw new DomainError('invalid-state', `Decisions are taken while the call is in review (it is ${call.state})`, { errors: [{ field: 'state', message: `call is ${call.state}` }] });
        if (found.state !== input.outcome) assertTransition('application', applicationTransitions, found.state, input.outcome);
        const offer = await offerOf(call, tx);
        const items = await repo.items(tx, [id]);
        const approved = approvedQuantities(input, items, offer.scale);
        const letter = input.letter ?? defaultLetter(found, call, input.outcome);
        const moved = await repo.update(tx, id, found.state, { state: input.outcome, decision: input.outcome, decided_at: new Date(), decided_by: actor.userId, decision_rationale: input.rationale, decision_letter: letter });
        if (!moved) throw new DomainError('conflict', 'The application changed at the same time; reload and try again');
        for (const [kind, quantity] of approved) await repo.setApproved(tx, id, kind, quantity);
        await audit(tx, actor, id, 'application.decide', { from: found.state, outcome: input.outcome, approved: Object.fromEntries([...approved].map(([k, v]) => [k, v?.toString() ?? null])) });
        await notifications.notify(tx, [found.applicant_id], { kind: 'application.decided', title: `Decision on your application: ${input.outcome.replace('_', ' ')}`, body: letter, entityType: 'application', entityId: id });
      });
      return getView(actor!, id);
    },

    statistics: (actor: Actor | null, callId: string) => callStatistics(db, calls, actor, callId, distributedOf),
    statisticsCsv: (actor: Actor | null, callId: string) => callStatisticsCsv(db, calls, actor, callId, distributedOf),

    /** The loans feature gates new applications (overdue reports or returns); replaces the previous gate. */
    useApplyGate(gate: CanApply): void {
      canApply = gate;
    },

    /** The distribution feature supplies what a call has distributed, for its statistics. */
    useDistributedOf(source: DistributedOf): void {
      distributedOf = source;
    },

    // ---- for later features (allocation, distribution, loans) ----

    /** Approved and partially approved applications of a call, with what they asked for. */
    async approvedForCall(callId: string, executor: DB | Tx = db): Promise<ApprovedApplication[]> {
      const rows = await repo.listByCall(executor, callId, ['approved', 'partially_approved']);
      const items = await repo.items(executor, rows.map((r) => r.id));
      return rows.map((row) => ({
        applicationId: row.id,
        applicantId: row.applicant_id,
        institutionId: row.institution_id,
        state: row.state,
        decision: row.decision!,
        items: items.filter((i) => i.application_id === row.id).map((i) => ({ kind: i.kind, quantity: BigInt(i.quantity), minimum: BigInt(i.minimum), approved: i.approved === null ? null : BigInt(i.approved) })),
      }));
    },

    /** Moves an application along allocated → shipped → received → reporting → closed, in the caller's transaction. */
    async advance(tx: Tx, actor: Actor, id: string, to: ApplicationState, data: Record<string, unknown> = {}): Promise<void> {
      const row = await repo.findForUpdate(tx, id);
      if (!row) throw notFound('The application');
      assertTransition('application', applicationTransitions, row.state, to);
      if (to === 'withdrawn' || to === 'submitted' || (['approved', 'partially_approved', 'rejected'] as string[]).includes(to)) {
        throw new DomainError('invalid-state', `Use the ${to === 'withdrawn' ? 'withdraw' : to === 'submitted' ? 'submit' : 'decide'} operation for this transition`);
      }
      const moved = await repo.update(tx, id, row.state, { state: to });
      if (!moved) throw new DomainError('conflict', 'The application changed at the same time');
      await audit(tx, actor, id, 'application.transition', { from: row.state, to, ...data });
    },

    /** The row without access checks, for services that checked access themselves. */
    find: (id: string, executor: DB | Tx = db): Promise<ApplicationRow | undefined> => repo.find(executor, id),
    findForUpdate: (tx: Tx, id: string) => repo.findForUpdate(tx, id),
    listByCall: (callId: string, states?: ApplicationState[], executor: DB | Tx = db) => repo.listByCall(executor, callId, states),
    /** Whether the actor may see the application (same rule as GET). */
    async canSee(actor: Actor, id: string): Promise<boolean> {
      return (await repo.findVisible(db, viewerOf(actor), id)) !== undefined;
    },
  };
  return service;
}
