/**
 * Allocation: HiGHS (in its worker, with the greedy proposal as its start)
 * against the greedy fallback on the same instances, in the same run. Three
 * sizes: the Chang'e-5 first batch (31 approved applications from 13
 * institutions, scooped and drilled fines at 0.1 mg), ten times that, and the
 * issue's 1,000 applications over 500 pool samples. For each: the value of
 * each proposal (score-weighted share of the offer), the ratio solver/greedy,
 * HiGHS's proven bound and the gap to it (how far from the optimum at most),
 * the times, and whether both proposals pass verification.
 *
 *   npx tsx bench/allocation.ts [timeLimitSeconds=10] [runs=1]
 */
import os from 'node:os';
import { greedyAllocation } from '../src/core/allocation/greedy.js';
import { objectiveValue, type AllocationInput, type AllocationRequest, type AllocationRules, type PoolSample } from '../src/core/allocation/model.js';
import { verifyAllocation } from '../src/core/allocation/verify.js';
import { HighsSolver } from '../src/features/allocation/solver/highs-solver.js';
import { solveAllocation } from '../src/features/allocation/solver/solve.js';

const TIME_LIMIT_S = Number(process.argv[2] ?? 10);
const RUNS = Number(process.argv[3] ?? 1);

/** Deterministic pseudo-random numbers (mulberry32), so every run solves the same instances. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Size {
  name: string;
  applications: number;
  institutions: number;
  samples: number;
  /** Minimum useful quantities of 80–100% of the request and small samples: where taking by rank wastes most. */
  contested?: boolean;
}

/**
 * About twice as much asked as offered: requests of 0.1–2 g (minimum useful
 * 30–100% of it), two items for a third of the applications, samples of
 * 0.2–8 g, 1% of each kind held back in addition to the per-sample limits.
 */
function instance(size: Size, seed: number): { input: AllocationInput; rules: AllocationRules } {
  const random = generator(seed);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const kinds = ['scooped fines', 'drilled fines'];
  const samples: PoolSample[] = [];
  const sampleSize = size.contested ? [2_000, 25_000] : [2_000, 80_000];
  for (let i = 0; i < size.samples; i++) samples.push({ id: `s${i}`, kind: kinds[i % 5 === 4 ? 1 : 0]!, available: BigInt(between(sampleSize[0]!, sampleSize[1]!)) });
  const requests: AllocationRequest[] = [];
  const scores = Array.from({ length: size.applications }, () => random() * 4 - 2);
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const rank = new Map(order.map((a, position) => [a, position + 1]));
  for (let a = 0; a < size.applications; a++) {
    const items = random() < 0.33 ? kinds : [kinds[random() < 0.8 ? 0 : 1]!];
    for (const kind of items) {
      const quantity = BigInt(between(1_000, 20_000));
      const minimum = (quantity * BigInt(size.contested ? between(80, 100) : between(30, 100))) / 100n;
      requests.push({ applicationId: `a${a}`, itemId: kind, institutionId: `i${a % size.institutions}`, kind, quantity, minimum: minimum < 1n ? 1n : minimum, score: scores[a]!, rank: rank.get(a)! });
    }
  }
  const asked = new Map<string, bigint>();
  for (const r of requests) asked.set(r.kind, (asked.get(r.kind) ?? 0n) + r.quantity);
  const held = new Map<string, bigint>();
  for (const s of samples) held.set(s.kind, (held.get(s.kind) ?? 0n) + s.available);
  const offer = kinds.map((kind) => {
    const half = asked.get(kind)! / 2n;
    const most = (held.get(kind)! * 99n) / 100n;
    return { kind, releasable: half < most ? half : most };
  });
  return { input: { samples, kinds: offer, requests, scale: 4, unit: 'g' }, rules: { minCut: 500n, maxPieces: 2, institutionCap: { perKind: BigInt(size.applications > 100 ? 60_000 : 40_000) } } };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const sizes: Size[] = [
    { name: "Chang'e-5 first batch", applications: 31, institutions: 13, samples: 40 },
    { name: '10x', applications: 310, institutions: 130, samples: 400 },
    { name: 'issue: 1,000 applications, 500 samples', applications: 1000, institutions: 200, samples: 500 },
    { name: "Chang'e-5, contested", applications: 31, institutions: 13, samples: 40, contested: true },
    { name: '10x, contested', applications: 310, institutions: 130, samples: 400, contested: true },
    { name: 'issue size, contested', applications: 1000, institutions: 200, samples: 500, contested: true },
  ];
  console.log(`allocation: HiGHS ${TIME_LIMIT_S} s limit vs greedy, median of ${RUNS} runs, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})\n`);
  console.log('| instance | items | formulation | greedy value | HiGHS value | HiGHS / greedy | bound | gap to bound | greedy time | HiGHS run | whole solve | status | valid |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  const solver = new HighsSolver();
  try {
    for (const [index, size] of sizes.entries()) {
      const { input, rules } = instance(size, 1000 + (index % 3));
      const greedyTimes: number[] = [];
      const solveTimes: number[] = [];
      let last: Awaited<ReturnType<typeof solveAllocation>> | undefined;
      let greedyValue = 0;
      let greedyValid = true;
      for (let run = 0; run < RUNS; run++) {
        const t0 = performance.now();
        const greedy = greedyAllocation(input, rules);
        greedyTimes.push(performance.now() - t0);
        greedyValue = objectiveValue(input, greedy);
        greedyValid &&= verifyAllocation(input, rules, greedy).ok;
        const t1 = performance.now();
        last = await solveAllocation(input, { ...rules, solver, timeLimitMs: TIME_LIMIT_S * 1000 });
        solveTimes.push(performance.now() - t1);
      }
      const r = last!;
      const valid = greedyValid && verifyAllocation(input, rules, r.proposal).ok;
      const cells = [
        size.name,
        String(input.requests.length),
        r.formulation,
        greedyValue.toFixed(4),
        r.objective.toFixed(4),
        `${(r.objective / greedyValue).toFixed(4)}x`,
        r.bound === undefined ? 'n/a' : r.bound.toFixed(4),
        r.gap === undefined ? 'n/a' : `${(r.gap * 100).toFixed(3)}%`,
        `${median(greedyTimes).toFixed(1)} ms`,
        r.solverMs === undefined ? 'n/a' : `${(r.solverMs / 1000).toFixed(2)} s`,
        `${(median(solveTimes) / 1000).toFixed(2)} s`,
        `${r.method}${r.solverStatus ? ` (${r.solverStatus})` : ''}${r.fallbackReason ? `: ${r.fallbackReason}` : ''}${r.trimmed ? `, ${r.trimmed} trimmed` : ''}`,
        String(valid),
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
  } finally {
    await solver.close();
  }
}

await main();
