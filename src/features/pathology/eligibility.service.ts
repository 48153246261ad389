/**
 * Which samples an application may receive under each donor's consent. The
 * allocation feature calls eligibleSamples() when it builds the solver's
 * input, so excluded samples never reach the solver; the ledger and the
 * database refuse withdrawn material again when an allocation is executed.
 */
import { hasRole, type Actor } from '../../core/actor.js';
import { allocationExclusions, checkEligibility, requiredUses, type Eligibility, type Exclusion, type SampleConsent } from '../../core/consent.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, type Executor } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import { pathologyRepository as repo } from './pathology.repository.js';

export type EligibilityQuery = { applicationId: string } | { uses: readonly string[]; institutionId?: string | null };

export interface EligibilityResult extends Eligibility {
  uses: string[];
}

/** Applications whose intended uses may still change. */
const editableStates = new Set(['draft', 'submitted']);

/** Transaction-level: for the allocation feature's input build (no authorization; the caller has done it). */
export async function eligibleSamples(executor: Executor, query: EligibilityQuery, sampleIds: readonly string[]): Promise<EligibilityResult> {
  const rows = await repo.sampleConsents(executor, [...new Set(sampleIds)]);
  const found = new Set(rows.map((r) => r.sample_id));
  const missing = sampleIds.findIndex((id) => !found.has(id));
  if (missing >= 0) throw invalid(`sampleIds.${missing}`, 'no such sample');
  let uses: string[];
  if ('applicationId' in query) {
    const parties = await repo.applicationParties(executor, query.applicationId);
    if (!parties) throw notFound('The application', 'applicationId');
    uses = requiredUses(await repo.usesOf(executor, query.applicationId), parties.institution_id, parties.holder_institution_id);
  } else {
    uses = [...query.uses];
  }
  const samples: SampleConsent[] = rows.map((r) => ({
    sampleId: r.sample_id,
    humanConsent: r.human_consent,
    consentWithdrawn: r.consent_withdrawn,
    donor: r.donor_id === null ? null : { withdrawn: r.donor_withdrawn, scope: r.scope },
  }));
  // External sharing depends on each sample's holder, for a bare list of uses with an institution.
  if (!('applicationId' in query) && query.institutionId) {
    const perSample = rows.map((r, i) => checkEligibility(requiredUses(uses, query.institutionId ?? null, r.holder_institution_id), [samples[i]!]));
    return { uses, eligible: perSample.flatMap((e) => e.eligible), excluded: perSample.flatMap((e) => e.excluded) };
  }
  return { uses, ...checkEligibility(uses, samples) };
}

/**
 * Consent before allocation, in one pass over the pool: the samples with
 * withdrawn or unrecorded consent offer nothing to anyone (available 0), and
 * for each application the samples its intended uses may not draw on (the
 * solver honours them per application; see core allocationExclusions).
 * Applications are given with their institution (external sharing is needed
 * when it is not the holder's).
 */
export async function consentForAllocation<T extends { id: string; available: bigint }>(
  executor: Executor,
  samples: readonly T[],
  applications: ReadonlyArray<{ applicationId: string; institutionId: string | null }>,
): Promise<{ samples: T[]; exclusions: Map<string, Exclusion[]> }> {
  const rows = samples.length === 0 ? [] : await repo.sampleConsents(executor, samples.map((s) => s.id));
  // Material outside human collections, with nothing withdrawn, needs no consent: no further query.
  if (!rows.some((r) => r.human_consent || r.consent_withdrawn)) return { samples: [...samples], exclusions: new Map() };
  const consents = rows.map((r) => ({
    sampleId: r.sample_id,
    humanConsent: r.human_consent,
    consentWithdrawn: r.consent_withdrawn,
    donor: r.donor_id === null ? null : { withdrawn: r.donor_withdrawn, scope: r.scope },
    holderInstitutionId: r.holder_institution_id,
  }));
  const { excluded } = checkEligibility([], consents);
  const nothing = new Set(excluded.map((e) => e.sampleId));
  const uses = await repo.usesOfApplications(executor, applications.map((a) => a.applicationId));
  const exclusions = allocationExclusions(
    applications.map((a) => ({ applicationId: a.applicationId, institutionId: a.institutionId, uses: uses.get(a.applicationId) ?? [] })),
    consents,
  );
  return { samples: samples.map((s) => (nothing.has(s.id) ? { ...s, available: 0n } : s)), exclusions };
}

/**
 * Refuses an allocation that would give an application a sample its donor's
 * consent does not cover for that application's uses (or whose donor
 * withdrew): called before an allocation is approved and again when it is executed.
 */
export async function assertConsentFor(executor: Executor, lines: ReadonlyArray<{ applicationId: string; sampleId: string }>): Promise<void> {
  const byApplication = new Map<string, string[]>();
  for (const line of lines) byApplication.set(line.applicationId, [...(byApplication.get(line.applicationId) ?? []), line.sampleId]);
  const excluded: Array<Exclusion & { applicationId: string }> = [];
  for (const [applicationId, sampleIds] of [...byApplication].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const result = await eligibleSamples(executor, { applicationId }, [...new Set(sampleIds)]);
    excluded.push(...result.excluded.map((e) => ({ ...e, applicationId })));
  }
  if (excluded.length === 0) return;
  const first = excluded[0]!;
  const code = excluded.every((e) => e.reason === 'consent-withdrawn') ? 'consent-withdrawn' : 'conflict';
  throw new DomainError(code, `The allocation gives material the donors' consent does not allow: sample ${first.sampleId} for application ${first.applicationId}: ${first.message}`, {
    errors: excluded.map((e) => ({ field: `sample ${e.sampleId}`, message: `application ${e.applicationId}: ${e.message}` })),
    extensions: { exclusions: excluded },
  });
}

export type EligibilityService = ReturnType<typeof createEligibilityService>;

export function createEligibilityService(db: DB, deps: { canSeeApplication(actor: Actor, id: string): Promise<boolean> }) {
  return {
    async check(actor: Actor | null, query: EligibilityQuery, sampleIds: readonly string[]): Promise<EligibilityResult> {
      authorize(actor, 'eligibility.check');
      return eligibleSamples(db, query, sampleIds);
    },

    async uses(actor: Actor | null, applicationId: string): Promise<{ applicationId: string; uses: string[]; required: string[] }> {
      if (!actor) throw new DomainError('unauthenticated', 'Sign in first');
      if (!(await deps.canSeeApplication(actor, applicationId))) throw notFound('The application');
      const parties = await repo.applicationParties(db, applicationId);
      if (!parties) throw notFound('The application');
      const uses = await repo.usesOf(db, applicationId);
      return { applicationId, uses, required: requiredUses(uses, parties.institution_id, parties.holder_institution_id) };
    },

    /** The applicant declares what the material will be used for, while the application can still change. */
    async setUses(actor: Actor | null, applicationId: string, uses: readonly string[]): Promise<{ applicationId: string; uses: string[]; required: string[] }> {
      if (!actor) throw new DomainError('unauthenticated', 'Sign in first');
      const parties = await repo.applicationParties(db, applicationId);
      if (!parties || !hasRole(actor, 'applicant') || parties.applicant_id !== actor.userId) {
        if (parties && (await deps.canSeeApplication(actor, applicationId))) throw new DomainError('forbidden', 'Only the applicant declares the intended uses');
        throw notFound('The application');
      }
      if (!editableStates.has(parties.state)) throw new DomainError('invalid-state', `The application is ${parties.state}; intended uses can change only while it is a draft or submitted`);
      const unique = [...new Set(uses)].sort();
      await inTransaction(db, async (tx) => {
        await repo.setUses(tx, applicationId, unique);
        await recordAudit(tx, actor, { stream: `application:${applicationId}`, action: 'application.uses', entityType: 'application', entityId: applicationId, data: { uses: unique } });
      });
      return { applicationId, uses: unique, required: requiredUses(unique, parties.institution_id, parties.holder_institution_id) };
    },
  };
}
