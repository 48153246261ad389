/**
 * Ranking a call: 1,000 applications with 3 reviews each (3 criteria, 30
 * reviewers). First the pure ranking against the naive baseline (which
 * rescans every review for each reviewer's mean and spread) in the same run,
 * then the whole service path — reading the scores from the embedded
 * database and ranking — which is what the committee waits for.
 *
 *   npx tsx bench/ranking.ts [applications=1000] [runs=7]
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { rankApplications, rankApplicationsNaive, type ScoredReview } from '../src/core/ranking.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { IN_MEMORY } from '../src/platform/db/database.js';
import { createLogger } from '../src/platform/logger.js';

const APPLICATIONS = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.argv[3] ?? 7);
const REVIEWS_EACH = 3;
const REVIEWERS = 30;
const criteria = [{ key: 'merit', weight: 3 }, { key: 'feasibility', weight: 2 }, { key: 'novelty', weight: 1 }];

/** Deterministic pseudo-random scores (a linear congruential generator), so every run ranks the same data. */
function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function syntheticReviews(): ScoredReview[] {
  const random = generator(42);
  const reviews: ScoredReview[] = [];
  for (let a = 0; a < APPLICATIONS; a++) {
    for (let k = 0; k < REVIEWS_EACH; k++) {
      const reviewer = (a * REVIEWS_EACH + k) % REVIEWERS;
      const bias = (reviewer % 5) - 2;
      const score = () => Math.max(1, Math.min(5, Math.round(3 + bias * 0.5 + (random() - 0.5) * 4)));
      reviews.push({ applicationId: `a${a}`, reviewerId: `r${reviewer}`, scores: { merit: score(), feasibility: score(), novelty: score() } });
    }
  }
  return reviews;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time<T>(fn: () => T): { ms: number; result: T } {
  const started = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

async function seedCall(db: Awaited<ReturnType<typeof compose>>['handle']['db'], reviews: ScoredReview[]): Promise<string> {
  const institutionIds = Array.from({ length: 24 }, () => crypto.randomUUID());
  await db.insertInto('institutions').values(institutionIds.map((id, i) => ({ id, code: `BI${i}`, name: `Bench institute ${i}`, parent_body: null }))).execute();
  // Reviewers sit at institutions 0-3; applicants at 4-23, so no review is conflicted.
  const reviewerIds = Array.from({ length: REVIEWERS }, () => crypto.randomUUID());
  const applicantIds = Array.from({ length: APPLICATIONS }, () => crypto.randomUUID());
  const users = [
    ...reviewerIds.map((id, i) => ({ id, email: `r${i}@bench.test`, name: `Reviewer ${i}`, password_hash: null, institution_id: institutionIds[i % 4]!, roles: ['reviewer' as const] })),
    ...applicantIds.map((id, i) => ({ id, email: `a${i}@bench.test`, name: `Applicant ${i}`, password_hash: null, institution_id: institutionIds[4 + (i % 20)]!, roles: ['applicant' as const] })),
  ];
  for (let i = 0; i < users.length; i += 500) await db.insertInto('users').values(users.slice(i, i + 500)).execute();
  const collectionId = crypto.randomUUID();
  await db.insertInto('collections').values({ id: collectionId, code: 'BENCH', name: 'Bench', unit: 'g', scale: 4, human_consent: false }).execute();
  const callId = crypto.randomUUID();
  await db
    .insertInto('calls')
    .values({ id: callId, collection_id: collectionId, title: 'Bench call', description: null, opens_at: new Date(Date.now() - 7200_000), closes_at: new Date(Date.now() - 3600_000), review_deadline: null, reserve_bp: 7500, blind: true, reviewers_per_application: 3, research_directions: [], score_min: 1, score_max: 5, chair_id: null, state: 'in_review' })
    .execute();
  await db.insertInto('call_criteria').values(criteria.map((c, position) => ({ call_id: callId, key: c.key, name: c.key, description: null, weight: c.weight, position }))).execute();
  const appIds = applicantIds.map(() => crypto.randomUUID());
  const apps = appIds.map((id, i) => ({ id, call_id: callId, applicant_id: applicantIds[i]!, institution_id: institutionIds[4 + (i % 20)]!, state: 'in_review' as const, title: `Application ${i}`, research_direction: null, research_direction_other: null, methods: 'm', destructive: false, justification: 'j', team: '[]', publications: '[]', ethics_reference: null, submitted_at: new Date() }));
  for (let i = 0; i < apps.length; i += 500) await db.insertInto('applications').values(apps.slice(i, i + 500)).execute();
  const reviewRows = reviews.map((r) => {
    const a = Number(r.applicationId.slice(1));
    const k = Number(r.reviewerId.slice(1));
    return { id: crypto.randomUUID(), call_id: callId, application_id: appIds[a]!, application_institution_id: institutionIds[4 + (a % 20)]!, reviewer_id: reviewerIds[k]!, reviewer_institution_id: institutionIds[k % 4]!, state: 'submitted' as const, submitted_at: new Date(), assigned_by: null, assigned_how: 'auto' as const, comments_for_applicant: null, confidential_notes: null };
  });
  for (let i = 0; i < reviewRows.length; i += 500) await db.insertInto('reviews').values(reviewRows.slice(i, i + 500)).execute();
  const scores = reviewRows.flatMap((row, i) => criteria.map((c) => ({ review_id: row.id, criterion_key: c.key, score: reviews[i]!.scores[c.key]!, comment: null })));
  for (let i = 0; i < scores.length; i += 1000) await db.insertInto('review_scores').values(scores.slice(i, i + 1000)).execute();
  return callId;
}

async function main(): Promise<void> {
  const reviews = syntheticReviews();
  console.log(`ranking ${APPLICATIONS} applications x ${REVIEWS_EACH} reviews (${reviews.length} reviews, ${REVIEWERS} reviewers, ${criteria.length} criteria), median of ${RUNS} runs, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
  rankApplications(reviews, criteria); // warm-up
  const fast = Array.from({ length: RUNS }, () => time(() => rankApplications(reviews, criteria)));
  const naive = Array.from({ length: Math.max(3, Math.ceil(RUNS / 2)) }, () => time(() => rankApplicationsNaive(reviews, criteria)));
  const same = fast[0]!.result.every((entry, i) => entry.applicationId === naive[0]!.result[i]!.applicationId);
  const fastMs = median(fast.map((r) => r.ms));
  const naiveMs = median(naive.map((r) => r.ms));
  console.log(`| pure ranking (rankApplications) | ${fastMs.toFixed(1)} ms |`);
  console.log(`| naive baseline (rankApplicationsNaive) | ${naiveMs.toFixed(1)} ms |`);
  console.log(`ratio naive / ranking: ${(naiveMs / fastMs).toFixed(1)}x; same order: ${same}`);

  const config = loadConfig({ LOG_LEVEL: 'silent', SAMPLEBANK_DEMO: '0' });
  const context = await compose({ config: { ...config, dataDir: IN_MEMORY, databaseUrl: undefined }, logger: createLogger('silent') });
  try {
    const callId = await seedCall(context.handle.db, reviews);
    await context.services.review.ranking(callId); // warm-up
    const service = [];
    for (let i = 0; i < RUNS; i++) service.push(await timeAsync(() => context.services.review.ranking(callId)));
    const serviceMs = median(service.map((r) => r.ms));
    const agrees = service[0]!.result.items.length === APPLICATIONS;
    console.log(`| review.ranking(callId) on embedded PGlite: read ${reviews.length * criteria.length} scores + rank | ${serviceMs.toFixed(1)} ms (max ${Math.max(...service.map((r) => r.ms)).toFixed(1)} ms) |`);
    console.log(`ranked ${service[0]!.result.items.length} applications: ${agrees ? 'ok' : 'WRONG COUNT'}; under one second: ${serviceMs < 1000}`);
  } finally {
    await context.close();
  }
}

await main();
