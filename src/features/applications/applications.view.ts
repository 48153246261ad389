/**
 * What an application looks like to whoever asks. A reviewer of a blind call
 * gets no field that names the applicant: no applicant, institution, team,
 * publications, ethics reference or attachment file name.
 */
import { formatQuantity } from '../../core/quantity.js';
import type { DecisionOutcome } from '../../core/workflow.js';
import type { ApplicationRow, Access, ItemRow } from './applications.repository.js';

export interface ApplicationView {
  id: string;
  callId: string;
  state: ApplicationRow['state'];
  title: string;
  researchDirection: string | null;
  researchDirectionOther: string | null;
  methods: string | null;
  destructive: boolean;
  justification: string | null;
  items: Array<{ kind: string; quantity: string; minimum: string; approved: string | null }>;
  unit: string;
  attachments: Array<{ id: string; name: string; sizeBytes: number; sha256: string; createdAt: string }>;
  submittedAt: string | null;
  withdrawnAt: string | null;
  createdAt: string;
  updatedAt: string;
  applicantId?: string;
  institutionId?: string;
  applicant?: { id: string; name: string; email?: string };
  institution?: { id: string; code: string; name: string };
  team?: ApplicationRow['team'];
  publications?: ApplicationRow['publications'];
  ethicsReference?: string | null;
  decision?: { outcome: DecisionOutcome; decidedAt: string; letter: string | null; rationale?: string | null; reviewComments?: string[] };
}

export interface ViewContext {
  access: Access;
  blind: boolean;
  unit: string;
  scale: number;
  items: ItemRow[];
  attachments: Array<{ id: string; display_name: string; size_bytes: number; sha256: string; created_at: Date }>;
  applicant?: { id: string; name: string; email: string } | undefined;
  institution?: { id: string; code: string; name: string } | undefined;
  reviewComments?: string[];
}

/** States at or after a decision: the applicant may read the letter. */
const afterDecision = new Set(['approved', 'partially_approved', 'rejected', 'allocated', 'shipped', 'received', 'reporting', 'closed']);

export function toApplication(row: ApplicationRow, ctx: ViewContext): ApplicationView {
  const anonymous = ctx.access === 'review' && ctx.blind;
  const q = (units: string | null): string | null => (units === null ? null : formatQuantity(units, ctx.scale));
  const view: ApplicationView = {
    id: row.id,
    callId: row.call_id,
    state: row.state,
    title: row.title,
    researchDirection: row.research_direction,
    researchDirectionOther: row.research_direction_other,
    methods: row.methods,
    destructive: row.destructive,
    justification: row.justification,
    items: ctx.items.map((item) => ({ kind: item.kind, quantity: q(item.quantity)!, minimum: q(item.minimum)!, approved: ctx.access === 'review' ? null : q(item.approved) })),
    unit: ctx.unit,
    attachments: ctx.attachments.map((a, i) => ({ id: a.id, name: anonymous ? `attachment-${i + 1}.pdf` : a.display_name, sizeBytes: a.size_bytes, sha256: a.sha256, createdAt: a.created_at.toISOString() })),
    submittedAt: row.submitted_at?.toISOString() ?? null,
    withdrawnAt: row.withdrawn_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
  if (anonymous) return view;
  view.applicantId = row.applicant_id;
  view.institutionId = row.institution_id;
  if (ctx.applicant) view.applicant = ctx.access === 'review' ? { id: ctx.applicant.id, name: ctx.applicant.name } : ctx.applicant;
  if (ctx.institution) view.institution = ctx.institution;
  view.team = row.team;
  view.publications = row.publications;
  view.ethicsReference = row.ethics_reference;
  const outcome = decisionOf(row);
  if (outcome && ctx.access !== 'review' && row.decided_at) {
    view.decision = {
      outcome,
      decidedAt: row.decided_at.toISOString(),
      letter: row.decision_letter,
      ...(ctx.access === 'full' ? { rationale: row.decision_rationale } : {}),
      ...(ctx.reviewComments ? { reviewComments: ctx.reviewComments } : {}),
    };
  }
  return view;
}

/** The outcome stays readable after the application moves on to allocation and loan. */
function decisionOf(row: ApplicationRow): DecisionOutcome | null {
  if (!afterDecision.has(row.state)) return null;
  return row.decision;
}
