import crypto from 'node:crypto';
import { hasRole, type Actor } from '../../core/actor.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { rankApplications, type RankedApplication } from '../../core/ranking.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, isUniqueViolation, type Tx } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import type { ApplicationsService } from '../applications/applications.service.js';
import type { CallRow } from '../calls/calls.repository.js';
import type { CallsService } from '../calls/calls.service.js';
import type { NotificationsService } from '../notifications/notifications.service.js';
import { planAssignments } from './assignment.js';
import { reviewRepository as repo, type ReviewRow } from './review.repository.js';

const REMINDER_HOURS = 48;
const REVIEWABLE_APPLICATION_STATES = ['submitted', 'in_review'];
const SCORABLE_APPLICATION_STATES = ['in_review', 'approved', 'partially_approved', 'rejected'];

export interface ScoreInput {
  scores: Array<{ criterion: string; score: number; comment?: string | undefined }>;
  commentsForApplicant?: string | undefined;
  confidentialNotes?: string | undefined;
}

export interface Ranking {
  callId: string;
  scale: { min: number; max: number };
  criteria: Array<{ key: string; weight: number }>;
  items: Array<RankedApplication & { title: string; state: string }>;
}

export type ReviewService = ReturnType<typeof createReviewService>;

export function createReviewService(db: DB, deps: { calls: CallsService; applications: ApplicationsService; notifications: NotificationsService }) {
  const { calls, applications, notifications } = deps;

  async function audit(tx: Tx, actor: Actor, applicationId: string, action: string, data: Record<string, unknown>): Promise<void> {
    await recordAudit(tx, actor, { stream: `application:${applicationId}`, action, entityType: 'application', entityId: applicationId, data });
  }

  function assigningState(call: CallRow): void {
    if (call.state !== 'closed' && call.state !== 'in_review') {
      throw new DomainError('invalid-state', `Reviewers are assigned once the call has closed and before it is decided (it is ${call.state})`, { errors: [{ field: 'state', message: `call is ${call.state}` }] });
    }
  }

  function conflictOfInterest(message: string): DomainError {
    return new DomainError('conflict-of-interest', message, { errors: [{ field: 'reviewerId', message: 'has a conflict of interest' }] });
  }

  async function notifyAssigned(tx: Tx, reviewerIds: string[], call: CallRow): Promise<void> {
    const deadline = call.review_deadline ? ` Please review by ${call.review_deadline.toISOString()}.` : '';
    await notifications.notify(tx, reviewerIds, { kind: 'review.assigned', title: `New review assignment: ${call.title}`, body: `You were assigned an application to review in "${call.title}".${deadline}`, entityType: 'call', entityId: call.id });
  }

  /**
   * Tells the chair once the last pending review of a call is in: submitted,
   * or removed (unassigned, recused) while every other one was already in.
   */
  async function announceIfAllIn(tx: Tx, call: CallRow, pendingBefore: number): Promise<boolean> {
    if (pendingBefore === 0 || (await repo.countPending(tx, call.id)) > 0 || (await repo.countSubmitted(tx, call.id)) === 0) return false;
    await notifications.notifyChairs(tx, call.chair_id, { kind: 'review.all-in', title: `All reviews are in: ${call.title}`, body: `Every assigned review of "${call.title}" has been submitted; the ranking is ready for the committee.`, entityType: 'call', entityId: call.id });
    return true;
  }

  function reviewsOpen(call: CallRow): void {
    if (['decided', 'distributed', 'archived'].includes(call.state)) throw new DomainError('invalid-state', `The call is ${call.state}; its reviews are closed`, { errors: [{ field: 'state', message: `call is ${call.state}` }] });
  }

  function toReview(row: ReviewRow, scores: Array<{ review_id: string; criterion_key: string; score: number; comment: string | null }>, withReviewer: boolean) {
    return {
      id: row.id,
      callId: row.call_id,
      applicationId: row.application_id,
      ...(withReviewer ? { reviewerId: row.reviewer_id, assignedHow: row.assigned_how } : {}),
      state: row.state,
      scores: scores.filter((s) => s.review_id === row.id).map((s) => ({ criterion: s.criterion_key, score: s.score, comment: s.comment })),
      commentsForApplicant: row.comments_for_applicant,
      confidentialNotes: row.confidential_notes,
      assignedAt: row.assigned_at.toISOString(),
      submittedAt: row.submitted_at?.toISOString() ?? null,
    };
  }

  async function rank(callId: string, executor: DB | Tx = db): Promise<Ranking> {
    const call = await calls.find(callId, executor);
    if (!call) throw notFound('The call');
    const criteria = (await calls.criteria(callId, executor)).map((c) => ({ key: c.key, weight: c.weight }));
    const rows = await repo.submittedScores(executor, callId);
    const reviews = new Map<string, { applicationId: string; reviewerId: string; scores: Record<string, number> }>();
    for (const row of rows) {
      const review = reviews.get(row.review_id) ?? { applicationId: row.application_id, reviewerId: row.reviewer_id, scores: {} };
      review.scores[row.criterion_key] = row.score;
      reviews.set(row.review_id, review);
    }
    const ranked = rankApplications([...reviews.values()], criteria);
    const apps = new Map((await applications.listByCall(callId, undefined, executor)).map((a) => [a.id, a]));
    return {
      callId,
      scale: { min: call.score_min, max: call.score_max },
      criteria,
      items: ranked.map((entry) => ({ ...entry, title: apps.get(entry.applicationId)?.title ?? '', state: apps.get(entry.applicationId)?.state ?? '' })),
    };
  }

  const service = {
    async assign(actor: Actor | null, applicationId: string, reviewerId: string) {
      authorize(actor, 'review.assign');
      const row = await inTransaction(db, async (tx) => {
        // Lock order everywhere: call, then application, then review.
        const peek = await applications.find(applicationId, tx);
        if (!peek || peek.state === 'draft') throw notFound('The application');
        const call = (await calls.findForUpdate(tx, peek.call_id))!;
        const application = (await applications.findForUpdate(tx, applicationId))!;
        assigningState(call);
        if (!REVIEWABLE_APPLICATION_STATES.includes(application.state)) throw new DomainError('invalid-state', `A ${application.state} application is not being reviewed`);
        if (!(await calls.isOnPanel(call.id, reviewerId, tx))) throw invalid('reviewerId', "is not on the call's panel");
        const [reviewer] = await repo.users(tx, [reviewerId]);
        if (!reviewer || reviewer.disabled_at || !reviewer.roles.includes('reviewer')) throw invalid('reviewerId', 'is not an active reviewer');
        if (reviewerId === application.applicant_id) throw conflictOfInterest('A reviewer cannot review their own application');
        if (reviewer.institution_id && reviewer.institution_id === application.institution_id) throw conflictOfInterest("The reviewer belongs to the applicant's institution");
        if (await repo.hasDeclaredConflict(tx, reviewerId, call.id, applicationId, application.institution_id)) throw conflictOfInterest('The reviewer declared a conflict of interest with this application');
        if (await repo.findByPair(tx, applicationId, reviewerId)) throw new DomainError('duplicate', 'This reviewer is already assigned to the application', { errors: [{ field: 'reviewerId', message: 'already assigned' }] });
        const inserted = await repo.insert(tx, { id: crypto.randomUUID(), call_id: call.id, application_id: applicationId, application_institution_id: application.institution_id, reviewer_id: reviewerId, reviewer_institution_id: reviewer.institution_id, assigned_by: actor.userId, assigned_how: 'manual' });
        await audit(tx, actor, applicationId, 'review.assign', { reviewId: inserted.id, reviewerId, how: 'manual' });
        await notifyAssigned(tx, [reviewerId], call);
        return inserted;
      });
      return toReview(row, [], true);
    },

    async autoAssign(actor: Actor | null, callId: string, perApplication?: number) {
      authorize(actor, 'review.assign');
      return inTransaction(db, async (tx) => {
        const call = await calls.findForUpdate(tx, callId);
        if (!call) throw notFound('The call');
        assigningState(call);
        const n = perApplication ?? call.reviewers_per_application;
        const panelIds = await calls.panel(callId, tx);
        const panel = (await repo.users(tx, panelIds)).filter((u) => !u.disabled_at && u.roles.includes('reviewer')).map((u) => ({ id: u.id, institutionId: u.institution_id }));
        const apps = await applications.listByCall(callId, ['submitted', 'in_review'], tx);
        const reviews = await repo.byCall(tx, callId);
        const conflicts = await repo.conflicts(tx, callId);
        const plan = planAssignments(
          apps.map((a) => {
            const mine = reviews.filter((r) => r.application_id === a.id);
            const blocked = conflicts.filter((c) => c.application_id === a.id || c.institution_id === a.institution_id).map((c) => c.reviewer_id);
            return { id: a.id, institutionId: a.institution_id, applicantId: a.applicant_id, current: mine.map((r) => r.reviewer_id), live: mine.filter((r) => r.state !== 'recused').length, blocked: new Set(blocked) };
          }),
          panel,
          n,
          await repo.load(tx, callId),
        );
        const institutionOf = new Map(panel.map((r) => [r.id, r.institutionId]));
        const appInstitution = new Map(apps.map((a) => [a.id, a.institution_id]));
        for (const { applicationId, reviewerId } of plan.assignments) {
          const inserted = await repo.insert(tx, { id: crypto.randomUUID(), call_id: callId, application_id: applicationId, application_institution_id: appInstitution.get(applicationId)!, reviewer_id: reviewerId, reviewer_institution_id: institutionOf.get(reviewerId) ?? null, assigned_by: actor.userId, assigned_how: 'auto' });
          await audit(tx, actor, applicationId, 'review.assign', { reviewId: inserted.id, reviewerId, how: 'auto' });
        }
        const assignedReviewers = [...new Set(plan.assignments.map((a) => a.reviewerId))];
        await notifyAssigned(tx, assignedReviewers, call);
        const load = await repo.load(tx, callId);
        return { assigned: plan.assignments.length, perApplication: n, shortfalls: plan.shortfalls, load: panel.map((r) => ({ reviewerId: r.id, reviews: load.get(r.id) ?? 0 })) };
      });
    },

    async unassign(actor: Actor | null, reviewId: string): Promise<void> {
      authorize(actor, 'review.assign');
      await inTransaction(db, async (tx) => {
        const peek = await repo.find(tx, reviewId);
        if (!peek) throw notFound('The review');
        const call = (await calls.findForUpdate(tx, peek.call_id))!;
        const review = await repo.findForUpdate(tx, reviewId);
        if (!review) throw notFound('The review');
        if (review.state !== 'assigned') throw new DomainError('invalid-state', `A ${review.state} review cannot be unassigned`, { errors: [{ field: 'state', message: `is ${review.state}` }] });
        reviewsOpen(call);
        const pending = await repo.countPending(tx, call.id);
        await repo.delete(tx, reviewId);
        await audit(tx, actor, review.application_id, 'review.unassign', { reviewId, reviewerId: review.reviewer_id });
        await announceIfAllIn(tx, call, pending);
      });
    },

    /** The reviewer declares a conflict with an application they were given: they lose it at once. */
    async declareConflict(actor: Actor | null, applicationId: string, reason: string): Promise<void> {
      authorize(actor, 'conflict.declare');
      const review = await repo.findByPair(db, applicationId, actor.userId ?? '');
      if (!review || review.state === 'recused' || !(await applications.canSee(actor, applicationId))) throw notFound('The application');
      await inTransaction(db, async (tx) => {
        const call = (await calls.findForUpdate(tx, review.call_id))!;
        reviewsOpen(call);
        const pending = await repo.countPending(tx, call.id);
        await repo.insertConflict(tx, { id: crypto.randomUUID(), call_id: review.call_id, reviewer_id: actor.userId!, application_id: applicationId, institution_id: null, reason, declared_by: actor.userId });
        await repo.recuse(tx, { reviewerId: actor.userId!, applicationId });
        await audit(tx, actor, applicationId, 'review.conflict', { reviewId: review.id });
        await notifications.notifyChairs(tx, call.chair_id, { kind: 'review.conflict', title: 'A reviewer declared a conflict of interest', body: `A reviewer in "${call.title}" declared a conflict and was removed from one application; assign another reviewer.`, entityType: 'application', entityId: applicationId });
        await announceIfAllIn(tx, call, pending);
      });
    },

    /** A panel member declares a conflict with a whole institution in a call (e.g. a former affiliation). */
    async declareInstitutionConflict(actor: Actor | null, callId: string, institutionId: string, reason: string) {
      authorize(actor, 'conflict.declare');
      const call = await calls.find(callId);
      if (!call || call.state === 'draft' || !(await calls.isOnPanel(callId, actor.userId ?? ''))) throw notFound('The call');
      reviewsOpen(call);
      if (!(await repo.institutionExists(db, institutionId))) throw invalid('institutionId', 'no such institution');
      return inTransaction(db, async (tx) => {
        const locked = (await calls.findForUpdate(tx, callId))!;
        reviewsOpen(locked);
        // In a blind call, which of your applications such a declaration takes away would tell you where they come from.
        if (locked.blind && ((await repo.load(tx, callId)).get(actor.userId!) ?? 0) > 0) {
          throw new DomainError('invalid-state', 'This call is reviewed blind and you already have applications assigned: declare a conflict with a particular application instead (POST /applications/{id}/conflicts), or ask the chair', {
            errors: [{ field: 'institutionId', message: 'institution conflicts are declared before assignment in a blind call' }],
          });
        }
        const pending = await repo.countPending(tx, callId);
        try {
          await repo.insertConflict(tx, { id: crypto.randomUUID(), call_id: callId, reviewer_id: actor.userId!, application_id: null, institution_id: institutionId, reason, declared_by: actor.userId });
        } catch (error) {
          if (isUniqueViolation(error)) return { recused: 0 };
          throw error;
        }
        const recused = await repo.recuse(tx, { reviewerId: actor.userId!, callId, institutionId });
        for (const r of recused) await audit(tx, actor, r.application_id, 'review.conflict', { reviewId: r.id, institution: true });
        await recordAudit(tx, actor, { stream: `call:${callId}`, action: 'review.conflict.institution', entityType: 'call', entityId: callId, data: { reviewerId: actor.userId, institutionId } });
        if (recused.length > 0) {
          await notifications.notifyChairs(tx, locked.chair_id, { kind: 'review.conflict', title: 'A reviewer declared a conflict of interest', body: `A reviewer in "${locked.title}" declared a conflict with an institution and was removed from ${recused.length} application(s); assign other reviewers.`, entityType: 'call', entityId: callId });
        }
        await announceIfAllIn(tx, locked, pending);
        return { recused: recused.length };
      });
    },

    async conflicts(actor: Actor | null, callId: string) {
      authorize(actor, 'review.read-all');
      const rows = await repo.conflicts(db, callId);
      return { items: rows.map((c) => ({ id: c.id, reviewerId: c.reviewer_id, applicationId: c.application_id, institutionId: c.institution_id, reason: c.reason, createdAt: c.created_at.toISOString() })) };
    },

    async mine(actor: Actor | null, query: { limit: number; cursor?: string | undefined; callId?: string | undefined }) {
      authorize(actor, 'review.write');
      const rows = await repo.mine(db, actor.userId ?? '', actor.institutionId, { limit: query.limit + 1, after: query.cursor, callId: query.callId });
      const page = rows.slice(0, query.limit);
      const scores = await repo.scores(db, page.map((r) => r.id));
      return {
        items: page.map((r) => ({
          id: r.id,
          callId: r.call_id,
          applicationId: r.application_id,
          applicationTitle: r.title,
          applicationState: r.application_state,
          state: r.state,
          scores: scores.filter((s) => s.review_id === r.id).map((s) => ({ criterion: s.criterion_key, score: s.score, comment: s.comment })),
          commentsForApplicant: r.comments_for_applicant,
          confidentialNotes: r.confidential_notes,
          assignedAt: r.assigned_at.toISOString(),
          submittedAt: r.submitted_at?.toISOString() ?? null,
        })),
        nextCursor: rows.length > query.limit ? page.at(-1)!.id : null,
      };
    },

    /** A review: its reviewer (while they may see the application) or the committee. */
    async get(actor: Actor | null, reviewId: string) {
      authorize(actor, 'application.read');
      const review = await repo.find(db, reviewId);
      const committee = hasRole(actor, 'chair', 'auditor', 'admin');
      const own = review?.reviewer_id === actor.userId && review?.state !== 'recused' && (await applications.canSee(actor, review!.application_id));
      if (!review || !(committee || own)) throw notFound('The review');
      return toReview(review, await repo.scores(db, [reviewId]), committee);
    },

    /** Scores a review, or revises it, until the call is decided. */
    async score(actor: Actor | null, reviewId: string, input: ScoreInput) {
      authorize(actor, 'review.write');
      const own = await repo.find(db, reviewId);
      if (!own || own.reviewer_id !== actor.userId || own.state === 'recused' || !(await applications.canSee(actor, own.application_id))) throw notFound('The review');
      let allIn = false;
      await inTransaction(db, async (tx) => {
        const call = (await calls.findForUpdate(tx, own.call_id))!;
        const application = await applications.findForUpdate(tx, own.application_id);
        const review = await repo.findForUpdate(tx, reviewId);
        if (!review || review.state === 'recused') throw notFound('The review');
        if (call.state !== 'in_review') throw new DomainError('invalid-state', call.state === 'closed' ? 'Reviewing starts when the chair puts the call in review' : `Reviews can no longer change: the call is ${call.state}`, { errors: [{ field: 'state', message: `call is ${call.state}` }] });
        if (!application || !SCORABLE_APPLICATION_STATES.includes(application.state)) throw new DomainError('invalid-state', 'The application is no longer being reviewed');
        const criteria = await calls.criteria(call.id, tx);
        const scores = checkScores(input, criteria.map((c) => c.key), call);
        await repo.saveScores(tx, reviewId, scores);
        await repo.submit(tx, reviewId, { comments_for_applicant: input.commentsForApplicant ?? null, confidential_notes: input.confidentialNotes ?? null });
        await audit(tx, actor, review.application_id, review.state === 'submitted' ? 'review.revise' : 'review.submit', { reviewId, scores: Object.fromEntries(scores.map((s) => [s.criterion_key, s.score])) });
        if (review.state === 'assigned') allIn = await announceIfAllIn(tx, call, 1);
      });
      return { ...(await service.get(actor, reviewId)), allReviewsIn: allIn };
    },

    async forApplication(actor: Actor | null, applicationId: string) {
      authorize(actor, 'review.read-all');
      if (!(await applications.find(applicationId))) throw notFound('The application');
      const rows = await repo.byApplication(db, applicationId);
      const scores = await repo.scores(db, rows.map((r) => r.id));
      return { items: rows.map((r) => toReview(r, scores, true)) };
    },

    async rankingReport(actor: Actor | null, callId: string): Promise<Ranking> {
      authorize(actor, 'review.rank');
      return rank(callId);
    },

    /** For the allocation feature: the call's ranking from submitted reviews, normalised per reviewer. */
    ranking: rank,

    /** Tells reviewers whose deadline is near; each review is reminded once. */
    async sendReminders(now = new Date(), callId?: string): Promise<number> {
      const due = (await repo.dueForReminder(db, now, new Date(now.getTime() + REMINDER_HOURS * 3600_000))).filter((r) => !callId || r.call_id === callId);
      if (due.length === 0) return 0;
      return inTransaction(db, async (tx) => {
        // Only the reviews this process marked: several server processes run reminders, each is sent once.
        const mine = await repo.markReminded(tx, due.map((r) => r.id));
        for (const r of due.filter((review) => mine.has(review.id))) {
          await notifications.notify(tx, [r.reviewer_id], { kind: 'review.reminder', title: `Review due ${r.review_deadline!.toISOString()}`, body: `Your review of "${r.title}" in "${r.call_title}" is due by ${r.review_deadline!.toISOString()}.`, entityType: 'review', entityId: r.id });
        }
        return mine.size;
      });
    },
  };

  // Reviewers assigned while the call was closed learn when they can score.
  calls.onTransition('in_review', async (tx, call) => {
    const reviewerIds = [...new Set((await repo.byCall(tx, call.id)).filter((r) => r.state === 'assigned').map((r) => r.reviewer_id))];
    const deadline = call.review_deadline ? ` Reviews are due by ${call.review_deadline.toISOString()}.` : '';
    await notifications.notify(tx, reviewerIds, { kind: 'review.open', title: `Reviewing has started: ${call.title}`, body: `You can now score the applications assigned to you in "${call.title}".${deadline}`, entityType: 'call', entityId: call.id });
  });
  notifications.addPeriodicTask('review-reminders', () => service.sendReminders());
  return service;
}

function checkScores(input: ScoreInput, keys: string[], call: CallRow): Array<{ criterion_key: string; score: number; comment: string | null }> {
  const given = new Map<string, { score: number; comment: string | null; i: number }>();
  input.scores.forEach((s, i) => {
    if (!keys.includes(s.criterion)) throw invalid(`scores.${i}.criterion`, `is not in the rubric (${keys.join(', ')})`);
    if (given.has(s.criterion)) throw invalid(`scores.${i}.criterion`, 'is scored twice');
    if (s.score < call.score_min || s.score > call.score_max) throw invalid(`scores.${i}.score`, `must be between ${call.score_min} and ${call.score_max}`);
    given.set(s.criterion, { score: s.score, comment: s.comment ?? null, i });
  });
  const missing = keys.filter((k) => !given.has(k));
  if (missing.length) throw new DomainError('validation-failed', `Score every criterion (missing: ${missing.join(', ')})`, { errors: missing.map((k) => ({ field: 'scores', message: `missing ${k}` })) });
  return keys.map((k) => ({ criterion_key: k, score: given.get(k)!.score, comment: given.get(k)!.comment }));
}
