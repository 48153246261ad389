/**
 * Automatic reviewer assignment, as a pure function: every application gets
 * up to N reviewers, never a conflicted one, and the work is spread so no
 * reviewer carries more than needed. Applications with the fewest eligible
 * reviewers are served first, so scarce reviewers go where only they can.
 */

export interface AssignableApplication {
  id: string;
  institutionId: string;
  applicantId: string;
  /** Reviewers already on it (assigned, submitted or recused). */
  current: readonly string[];
  /** Live reviews it already has (assigned or submitted). */
  live: number;
  /** Reviewers who declared a conflict with it. */
  blocked: ReadonlySet<string>;
}

export interface PanelReviewer {
  id: string;
  institutionId: string | null;
}

export interface AssignmentPlan {
  assignments: Array<{ applicationId: string; reviewerId: string }>;
  shortfalls: Array<{ applicationId: string; missing: number }>;
}

export function eligible(reviewer: PanelReviewer, application: AssignableApplication): boolean {
  return (
    reviewer.id !== application.applicantId &&
    (reviewer.institutionId === null || reviewer.institutionId !== application.institutionId) &&
    !application.current.includes(reviewer.id) &&
    !application.blocked.has(reviewer.id)
  );
}

export function planAssignments(applications: readonly AssignableApplication[], panel: readonly PanelReviewer[], perApplication: number, initialLoad: ReadonlyMap<string, number>): AssignmentPlan {
  const load = new Map(panel.map((r) => [r.id, initialLoad.get(r.id) ?? 0]));
  const candidates = new Map(applications.map((a) => [a.id, panel.filter((r) => eligible(r, a))]));
  const order = [...applications].sort((a, b) => candidates.get(a.id)!.length - candidates.get(b.id)!.length || (a.id < b.id ? -1 : 1));
  const plan: AssignmentPlan = { assignments: [], shortfalls: [] };
  for (const application of order) {
    const need = perApplication - application.live;
    if (need <= 0) continue;
    const chosen = [...candidates.get(application.id)!].sort((a, b) => load.get(a.id)! - load.get(b.id)! || (a.id < b.id ? -1 : 1)).slice(0, need);
    for (const reviewer of chosen) {
      plan.assignments.push({ applicationId: application.id, reviewerId: reviewer.id });
      load.set(reviewer.id, load.get(reviewer.id)! + 1);
    }
    if (chosen.length < need) plan.shortfalls.push({ applicationId: application.id, missing: need - chosen.length });
  }
  return plan;
}
