/**
 * A call's statistics, the numbers a lunar sample office publishes with each
 * batch: applications and applicant institutions, approvals and approved
 * institutions, how much was distributed, and the split by research direction.
 * Everyone who can see the call sees the totals; the per-institution table is
 * for the committee, curators and auditors.
 */
import { hasRole, type Actor } from '../../core/actor.js';
import { forbidden } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity } from '../../core/quantity.js';
import type { ApplicationState } from '../../core/workflow.js';
import type { DB } from '../../platform/db/database.js';
import type { CallsService } from '../calls/calls.service.js';
import { applicationsRepository as repo } from './applications.repository.js';
import { csvCell } from './applications.rules.js';

/** States that mean "approved, in whole or in part", including everything that follows approval. */
export const APPROVED_STATES: readonly ApplicationState[] = ['approved', 'partially_approved', 'allocated', 'shipped', 'received', 'reporting', 'closed'];

/** How much of a call has been distributed, per kind, in the call's smallest unit; supplied by distribution once it exists. */
export type DistributedOf = (callId: string) => Promise<Map<string, bigint>>;

export interface CallStatistics {
  callId: string;
  applications: number;
  applicantInstitutions: number;
  approved: number;
  approvedInstitutions: number;
  distributed: { quantity: string; unit: string; byKind: Record<string, string> };
  byResearchDirection: Array<{ direction: string; applications: number; approved: number }>;
  byInstitution?: Array<{ institutionId: string; code: string; name: string; applications: number; approved: number }>;
}

function seesInstitutions(actor: Actor | null): boolean {
  return actor !== null && hasRole(actor, 'admin', 'chair', 'curator', 'auditor');
}

function byCountThenName<T extends { applications: number; approved: number }>(key: (row: T) => string) {
  return (a: T, b: T) => b.applications - a.applications || b.approved - a.approved || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

export async function callStatistics(db: DB, calls: CallsService, actor: Actor | null, callId: string, distributedOf?: DistributedOf): Promise<CallStatistics> {
  authorize(actor, 'call.statistics');
  await calls.get(actor, callId); // not-found for a call this actor cannot see
  const pool = await calls.pool(callId);
  const rows = await repo.statistics(db, callId);
  const approved = rows.filter((row) => APPROVED_STATES.includes(row.state));
  const directions = new Map<string, { direction: string; applications: number; approved: number }>();
  const institutions = new Map<string, { institutionId: string; code: string; name: string; applications: number; approved: number }>();
  for (const row of rows) {
    const isApproved = APPROVED_STATES.includes(row.state) ? 1 : 0;
    const direction = row.research_direction ?? '';
    const d = directions.get(direction) ?? { direction, applications: 0, approved: 0 };
    d.applications += 1;
    d.approved += isApproved;
    directions.set(direction, d);
    const i = institutions.get(row.institution_id) ?? { institutionId: row.institution_id, code: row.code, name: row.name, applications: 0, approved: 0 };
    i.applications += 1;
    i.approved += isApproved;
    institutions.set(row.institution_id, i);
  }
  const distributed = distributedOf ? await distributedOf(callId) : new Map<string, bigint>();
  let total = 0n;
  const byKind: Record<string, string> = {};
  for (const [kind, quantity] of [...distributed].sort(([a], [b]) => (a < b ? -1 : 1))) {
    total += quantity;
    byKind[kind] = formatQuantity(quantity, pool.scale);
  }
  const statistics: CallStatistics = {
    callId,
    applications: rows.length,
    applicantInstitutions: institutions.size,
    approved: approved.length,
    approvedInstitutions: new Set(approved.map((row) => row.institution_id)).size,
    distributed: { quantity: formatQuantity(total, pool.scale), unit: pool.unit, byKind },
    byResearchDirection: [...directions.values()].sort(byCountThenName((row) => row.direction)),
  };
  if (seesInstitutions(actor)) statistics.byInstitution = [...institutions.values()].sort(byCountThenName((row) => row.code));
  return statistics;
}

export async function callStatisticsCsv(db: DB, calls: CallsService, actor: Actor | null, callId: string, distributedOf?: DistributedOf): Promise<string> {
  if (!seesInstitutions(actor)) throw forbidden('The statistics export is for the committee, curators and auditors');
  const s = await callStatistics(db, calls, actor, callId, distributedOf);
  const lines: Array<Array<string | number>> = [
    ['section', 'key', 'name', 'applications', 'approved'],
    ['total', 'applications', '', s.applications, s.approved],
    ['total', 'institutions', '', s.applicantInstitutions, s.approvedInstitutions],
    ['total', `distributed (${s.distributed.unit})`, '', s.distributed.quantity, ''],
    ...Object.entries(s.distributed.byKind).map(([kind, quantity]) => ['distributed', kind, '', quantity, '']),
    ...s.byResearchDirection.map((row) => ['direction', row.direction, '', row.applications, row.approved]),
    ...(s.byInstitution ?? []).map((row) => ['institution', row.code, row.name, row.applications, row.approved]),
  ];
  return `${lines.map((line) => line.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
