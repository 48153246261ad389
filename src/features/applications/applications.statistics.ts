/**
 * A call's statistics, the numbers a lunar sample office publishes with each
 * batch: applications and applicant institutions, approvals and approved
 * institutions, how much was distributed, and the split by research direction
 * and by institution. They are public: anyone, signed in or not, reads the
 * statistics of a call that is no longer a draft. Nothing personal is in them
 * (no applicant, reviewer or donor); institution names and counts are what the
 * agency publishes, but only once the call is decided: before, while a blind
 * review runs, only the committee, curators and auditors see the
 * per-institution split.
 */
import { hasRole, type Actor } from '../../core/actor.js';
import { csvLine, type CsvColumn } from '../../core/csv.js';
import { forbidden, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity } from '../../core/quantity.js';
import type { ApplicationState } from '../../core/workflow.js';
import type { DB } from '../../platform/db/database.js';
import type { CallsService } from '../calls/calls.service.js';
import { applicationsRepository as repo } from './applications.repository.js';

/** States that mean "approved, in whole or in part", including everything that follows approval. */
export const APPROVED_STATES: readonly ApplicationState[] = ['approved', 'partially_approved', 'allocated', 'shipped', 'received', 'reporting', 'closed'];

/** One group of what a call distributed, in the call's smallest unit (the allocation feature's executed lines). */
export interface DistributedRow {
  kind: string;
  institution_id: string;
  research_direction: string | null;
  quantity: bigint | string;
}

/** How much of a call has been distributed, per kind, institution and research direction; supplied by allocation once it exists. */
export type DistributedOf = (callId: string) => Promise<DistributedRow[]>;

/** Call states whose statistics show institutions to everyone: the committee has decided, the figures are published. */
export const PUBLISHED_STATES: readonly string[] = ['decided', 'distributed', 'archived'];

export interface CallStatistics {
  callId: string;
  applications: number;
  applicantInstitutions: number;
  approved: number;
  approvedInstitutions: number;
  distributed: { quantity: string; unit: string; byKind: Record<string, string> };
  /** Per research direction: applications, approvals, and what was distributed (in total and per kind; sums exactly to distributed). */
  byResearchDirection: Array<{ direction: string; applications: number; approved: number; distributed: string; distributedByKind: Record<string, string> }>;
  /** Per institution, the same; public once the call is decided. */
  byInstitution?: Array<{ institutionId: string; code: string; name: string; applications: number; approved: number; distributed: string; distributedByKind: Record<string, string> }>;
}

function seesInstitutions(actor: Actor | null): boolean {
  return actor !== null && hasRole(actor, 'admin', 'chair', 'curator', 'auditor');
}

/** Sums quantities per key and per kind, largest first (ties by key), as exact decimal strings. */
function groupQuantities(rows: DistributedRow[], key: (row: DistributedRow) => string, scale: number) {
  const groups = new Map<string, Map<string, bigint>>();
  for (const row of rows) {
    const kinds = groups.get(key(row)) ?? new Map<string, bigint>();
    kinds.set(row.kind, (kinds.get(row.kind) ?? 0n) + BigInt(row.quantity));
    groups.set(key(row), kinds);
  }
  return [...groups]
    .map(([name, kinds]) => ({ name, total: [...kinds.values()].reduce((a, b) => a + b, 0n), kinds }))
    .sort((a, b) => (a.total === b.total ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.total > b.total ? -1 : 1))
    .map(({ name, total, kinds }) => ({
      name,
      units: total,
      quantity: formatQuantity(total, scale),
      byKind: Object.fromEntries([...kinds].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([kind, units]) => [kind, formatQuantity(units, scale)])),
    }));
}

/** The call, if this caller may read its statistics: anonymous callers and applicants never see a draft. */
async function statisticsCall(calls: CallsService, actor: Actor | null, callId: string): Promise<{ state: string }> {
  if (actor) {
    authorize(actor, 'call.statistics');
    return calls.get(actor, callId); // not-found for a call this actor cannot see
  }
  const call = await calls.find(callId);
  if (!call || call.state === 'draft') throw notFound('The call');
  return call;
}

function byCountThenName<T extends { applications: number; approved: number }>(key: (row: T) => string) {
  return (a: T, b: T) => b.applications - a.applications || b.approved - a.approved || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

export async function callStatistics(db: DB, calls: CallsService, actor: Actor | null, callId: string, distributedOf?: DistributedOf): Promise<CallStatistics> {
  const call = await statisticsCall(calls, actor, callId);
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
  const distributed = distributedOf ? await distributedOf(callId) : [];
  const total = distributed.reduce((sum, row) => sum + BigInt(row.quantity), 0n);
  const byKind = groupQuantities(distributed, () => '', pool.scale)[0]?.byKind ?? {};
  const zero = formatQuantity(0n, pool.scale);
  const perDirection = groupQuantities(distributed, (row) => row.research_direction ?? '', pool.scale);
  const perInstitution = groupQuantities(distributed, (row) => row.institution_id, pool.scale);
  const statistics: CallStatistics = {
    callId,
    applications: rows.length,
    applicantInstitutions: institutions.size,
    approved: approved.length,
    approvedInstitutions: new Set(approved.map((row) => row.institution_id)).size,
    distributed: { quantity: formatQuantity(total, pool.scale), unit: pool.unit, byKind },
    byResearchDirection: [...directions.values()].sort(byCountThenName((row) => row.direction)).map((row) => {
      const given = perDirection.find((d) => d.name === row.direction);
      return { ...row, distributed: given?.quantity ?? zero, distributedByKind: given?.byKind ?? {} };
    }),
  };
  if (seesInstitutions(actor) || PUBLISHED_STATES.includes(call.state)) {
    statistics.byInstitution = [...institutions.values()].sort(byCountThenName((row) => row.code)).map((row) => {
      const given = perInstitution.find((i) => i.name === row.institutionId);
      return { ...row, distributed: given?.quantity ?? zero, distributedByKind: given?.byKind ?? {} };
    });
  }
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
    ...s.byResearchDirection.map((row) => [`distributed-direction (${s.distributed.unit})`, row.direction, '', row.distributed, '']),
    ...(s.byInstitution ?? []).map((row) => [`distributed-institution (${s.distributed.unit})`, row.code, row.name, row.distributed, '']),
  ];
  // Kinds, directions and institution names are what people typed; the last two columns hold counts and quantities the product formats.
  const columns: CsvColumn[] = ['text', 'text', 'text', 'number', 'number'];
  return lines.map((line) => csvLine(line, columns)).join('');
}
