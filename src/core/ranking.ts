/**
 * Ranking of applications from reviewers' rubric scores. Each review's score is
 * the weighted mean of its criteria; each reviewer's scores are turned into
 * z-scores against that reviewer's own mean and spread, so a harsh and a
 * lenient reviewer count alike. An application's rank comes from the mean of
 * its z-scores; the spread of those z-scores shows the committee where the
 * reviewers disagree.
 */

export interface Criterion {
  key: string;
  weight: number;
}

export interface ScoredReview {
  applicationId: string;
  reviewerId: string;
  scores: Readonly<Record<string, number>>;
}

export interface ReviewerStanding {
  reviewerId: string;
  weighted: number;
  normalised: number;
}

export interface RankedApplication {
  rank: number;
  applicationId: string;
  reviews: number;
  /** Mean of the weighted scores on the rubric's scale. */
  rawMean: number;
  /** Mean of the per-reviewer z-scores. */
  normalised: number;
  /** The normalised mean mapped back onto the rubric's scale, for reading. */
  normalisedOnScale: number;
  spread: { sd: number; min: number; max: number; rawMin: number; rawMax: number };
  reviewers: ReviewerStanding[];
}

export function weightedScore(scores: Readonly<Record<string, number>>, criteria: readonly Criterion[]): number {
  let sum = 0;
  let weights = 0;
  for (const criterion of criteria) {
    const score = scores[criterion.key];
    if (score === undefined) continue;
    sum += score * criterion.weight;
    weights += criterion.weight;
  }
  return weights === 0 ? 0 : sum / weights;
}

interface Moments {
  n: number;
  mean: number;
  sd: number;
}

function moments(values: readonly number[]): Moments {
  const n = values.length;
  if (n === 0) return { n, mean: 0, sd: 0 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { n, mean, sd: Math.sqrt(squares / n) };
}

const EPSILON = 1e-9;

/**
 * A reviewer with fewer than two reviews or no spread cannot be normalised
 * against themself; their scores are then placed against the whole panel.
 */
function zScore(value: number, own: Moments, panel: Moments): number {
  if (own.n >= 2 && own.sd > EPSILON) return (value - own.mean) / own.sd;
  if (panel.sd > EPSILON) return (value - panel.mean) / panel.sd;
  return 0;
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;

/** Ranks in O(n log n) for n reviews. Ties are broken by raw mean, then by application id. */
export function rankApplications(reviews: readonly ScoredReview[], criteria: readonly Criterion[]): RankedApplication[] {
  const weighted = reviews.map((review) => weightedScore(review.scores, criteria));
  const byReviewer = new Map<string, number[]>();
  reviews.forEach((review, i) => {
    const list = byReviewer.get(review.reviewerId);
    if (list) list.push(weighted[i]!);
    else byReviewer.set(review.reviewerId, [weighted[i]!]);
  });
  const reviewerMoments = new Map<string, Moments>();
  for (const [reviewerId, values] of byReviewer) reviewerMoments.set(reviewerId, moments(values));
  const panel = moments(weighted);

  const byApplication = new Map<string, ReviewerStanding[]>();
  reviews.forEach((review, i) => {
    const standing = { reviewerId: review.reviewerId, weighted: weighted[i]!, normalised: zScore(weighted[i]!, reviewerMoments.get(review.reviewerId)!, panel) };
    const list = byApplication.get(review.applicationId);
    if (list) list.push(standing);
    else byApplication.set(review.applicationId, [standing]);
  });

  const ranked = [...byApplication].map(([applicationId, standings]) => summarise(applicationId, standings, panel));
  ranked.sort((a, b) => b.normalised - a.normalised || b.rawMean - a.rawMean || (a.applicationId < b.applicationId ? -1 : 1));
  return ranked.map((entry, i) => ({ ...entry, rank: i + 1, ...rounded(entry) }));
}

function summarise(applicationId: string, reviewers: ReviewerStanding[], panel: Moments): RankedApplication {
  const z = moments(reviewers.map((r) => r.normalised));
  const raw = reviewers.map((r) => r.weighted);
  return {
    rank: 0,
    applicationId,
    reviews: reviewers.length,
    rawMean: moments(raw).mean,
    normalised: z.mean,
    normalisedOnScale: panel.mean + z.mean * panel.sd,
    spread: { sd: z.sd, min: Math.min(...reviewers.map((r) => r.normalised)), max: Math.max(...reviewers.map((r) => r.normalised)), rawMin: Math.min(...raw), rawMax: Math.max(...raw) },
    reviewers,
  };
}

function rounded(entry: RankedApplication): Partial<RankedApplication> {
  return {
    rawMean: round(entry.rawMean),
    normalised: round(entry.normalised),
    normalisedOnScale: round(entry.normalisedOnScale),
    spread: { sd: round(entry.spread.sd), min: round(entry.spread.min), max: round(entry.spread.max), rawMin: round(entry.spread.rawMin), rawMax: round(entry.spread.rawMax) },
    reviewers: entry.reviewers.map((r) => ({ reviewerId: r.reviewerId, weighted: round(r.weighted), normalised: round(r.normalised) })),
  };
}

/**
 * The obvious implementation, kept as the benchmark's baseline and as an
 * oracle in tests: for every review it rescans all reviews to find its
 * reviewer's mean and spread.
 */
export function rankApplicationsNaive(reviews: readonly ScoredReview[], criteria: readonly Criterion[]): Array<{ applicationId: string; normalised: number; rawMean: number }> {
  const all = reviews.map((r) => weightedScore(r.scores, criteria));
  const panel = moments(all);
  const applications = [...new Set(reviews.map((r) => r.applicationId))];
  const result = applications.map((applicationId) => {
    const zs: number[] = [];
    const raws: number[] = [];
    for (const review of reviews) {
      if (review.applicationId !== applicationId) continue;
      const own = moments(reviews.filter((r) => r.reviewerId === review.reviewerId).map((r) => weightedScore(r.scores, criteria)));
      const value = weightedScore(review.scores, criteria);
      zs.push(zScore(value, own, panel));
      raws.push(value);
    }
    return { applicationId, normalised: moments(zs).mean, rawMean: moments(raws).mean };
  });
  result.sort((a, b) => b.normalised - a.normalised || b.rawMean - a.rawMean || (a.applicationId < b.applicationId ? -1 : 1));
  return result;
}
