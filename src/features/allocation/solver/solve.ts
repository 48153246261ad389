/**
 * solveAllocation: the greedy proposal first (always valid, and the start the
 * solver improves on), then HiGHS in its worker, then every answer checked by
 * verifyAllocation. Any failure, timeout, invalid or worse answer falls back
 * to the greedy proposal and says why.
 */
import { explainAllocation, type ApplicationOutcome, type ItemOutcome } from '../../../core/allocation/explain.js';
import { buildModel, DecodeError, decodeSolution, itemBounds, type Formulation } from '../../../core/allocation/formulation.js';
import { greedyAllocation } from '../../../core/allocation/greedy.js';
import { kindLimits, objectiveValue, sampleCapacity, validateInput, type AllocationInput, type AllocationRules, type Proposal } from '../../../core/allocation/model.js';
import { verifyAllocation } from '../../../core/allocation/verify.js';
import { HighsSolver, SolverFailure, type SolverAnswer } from './highs-solver.js';

export interface SolveAllocationOptions extends AllocationRules {
  /** HiGHS's own time limit; the worker is killed if it overruns by `graceMs`. Default 10 s. */
  timeLimitMs?: number;
  graceMs?: number;
  /** Relative MIP gap at which HiGHS may stop; default 1e-4 (proving 1e-6 took seven times as long on the Chang'e-5 instance for no better answer). */
  relativeGap?: number;
  /** `auto` picks `pieces` up to `piecesModelPairs` (item, sample) pairs, else `aggregate`. */
  formulation?: 'auto' | Formulation;
  piecesModelPairs?: number;
  /** Reuse a worker across solves; otherwise one is started and stopped here. */
  solver?: HighsSolver;
}

export interface AllocationResult {
  method: 'highs' | 'greedy';
  fallbackReason?: string;
  formulation: Formulation;
  /** HiGHS's model status (`optimal`, `timeLimit`, …) when it answered. */
  solverStatus?: string;
  /** Σ weight · allocated / releasable-of-kind of the returned proposal. */
  objective: number;
  greedyObjective: number;
  /** Proven upper bound on the objective over all valid proposals, when HiGHS gave one. */
  bound?: number;
  /** (bound − objective) / bound for the returned proposal. */
  gap?: number;
  /** Aggregate totals that had to be trimmed to be cut from samples. */
  trimmed: number;
  elapsedMs: number;
  solverMs?: number;
  proposal: Proposal;
  items: ItemOutcome[];
  applications: ApplicationOutcome[];
  kinds: Array<{ kind: string; releasable: bigint; allocated: bigint }>;
}

export const DEFAULT_PIECES_MODEL_PAIRS = 400;
export const DEFAULT_RELATIVE_GAP = 1e-4;

export async function solveAllocation(input: AllocationInput, options: SolveAllocationOptions): Promise<AllocationResult> {
  const started = Date.now();
  validateInput(input, options);
  const greedy = greedyAllocation(input, options);
  const greedyCheck = verifyAllocation(input, options, greedy);
  if (!greedyCheck.ok) throw new Error(`greedy allocation broke a rule: ${greedyCheck.violations.join('; ')}`);
  const greedyObjective = objectiveValue(input, greedy);
  const formulation = chooseFormulation(input, options);
  const attempt = await trySolver(input, options, formulation, greedy);

  let chosen: Proposal = greedy;
  let fallbackReason = attempt.failure;
  let objective = greedyObjective;
  if (attempt.proposal) {
    const candidate = objectiveValue(input, attempt.proposal);
    if (candidate + 1e-9 * Math.max(1, Math.abs(greedyObjective)) < greedyObjective) {
      fallbackReason = `the solver's answer (${candidate.toFixed(6)}) is worse than the greedy one (${greedyObjective.toFixed(6)})`;
    } else {
      chosen = attempt.proposal;
      objective = candidate;
      fallbackReason = undefined;
    }
  }
  const bound = attempt.answer?.bound ?? undefined;
  const explained = explainAllocation(input, options, chosen);
  return {
    method: fallbackReason === undefined ? 'highs' : 'greedy',
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
    formulation,
    ...(attempt.answer ? { solverStatus: attempt.answer.status, solverMs: attempt.answer.ms } : {}),
    objective,
    greedyObjective,
    ...(bound === undefined ? {} : { bound, gap: bound > 0 ? Math.max(0, (bound - objective) / bound) : 0 }),
    trimmed: attempt.trimmed,
    elapsedMs: Date.now() - started,
    proposal: chosen,
    ...explained,
    kinds: kindTotals(input, chosen),
  };
}

export function chooseFormulation(input: AllocationInput, options: SolveAllocationOptions): Formulation {
  if (options.formulation && options.formulation !== 'auto') return options.formulation;
  const bounds = itemBounds(input, options);
  const samplesPerKind = new Map<string, number>();
  for (const s of input.samples) if (sampleCapacity(s) >= options.minCut) samplesPerKind.set(s.kind, (samplesPerKind.get(s.kind) ?? 0) + 1);
  const pairs = input.requests.reduce((sum, r, i) => sum + (bounds[i] ? (samplesPerKind.get(r.kind) ?? 0) : 0), 0);
  return pairs <= (options.piecesModelPairs ?? DEFAULT_PIECES_MODEL_PAIRS) ? 'pieces' : 'aggregate';
}

interface Attempt {
  proposal?: Proposal;
  answer?: SolverAnswer;
  failure?: string;
  trimmed: number;
}

async function trySolver(input: AllocationInput, options: SolveAllocationOptions, formulation: Formulation, greedy: Proposal): Promise<Attempt> {
  const built = buildModel(input, options, formulation, greedy);
  if (built.model.numCols === 0) return { failure: 'no item can receive anything, so there was nothing to optimise', trimmed: 0 };
  const solver = options.solver ?? new HighsSolver();
  try {
    const answer = await solver.solve(built.model, {
      timeLimitMs: options.timeLimitMs ?? 10_000,
      relativeGap: options.relativeGap ?? DEFAULT_RELATIVE_GAP,
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    });
    if (!answer.hasSolution) return { answer, failure: `HiGHS stopped (${answer.status}) without a solution`, trimmed: 0 };
    const decoded = decodeSolution(input, options, built, answer.values);
    const check = verifyAllocation(input, options, decoded.proposal);
    if (!check.ok) return { answer, failure: `HiGHS's answer failed verification: ${check.violations.slice(0, 3).join('; ')}`, trimmed: decoded.trimmed };
    return { answer, proposal: decoded.proposal, trimmed: decoded.trimmed };
  } catch (error) {
    if (error instanceof SolverFailure) return { failure: error.kind === 'timeout' ? `timeout: ${error.message}` : `HiGHS failed: ${error.message}`, trimmed: 0 };
    if (error instanceof DecodeError) return { failure: `HiGHS's answer is not exact: ${error.message}`, trimmed: 0 };
    throw error;
  } finally {
    if (!options.solver) await solver.close();
  }
}

function kindTotals(input: AllocationInput, proposal: Proposal): AllocationResult['kinds'] {
  const allocated = new Map<string, bigint>();
  const kindOf = new Map(input.requests.map((r) => [`${r.applicationId}\u0000${r.itemId}`, r.kind]));
  for (const item of proposal.items) {
    const kind = kindOf.get(`${item.applicationId}\u0000${item.itemId}`)!;
    allocated.set(kind, (allocated.get(kind) ?? 0n) + item.allocated);
  }
  return [...kindLimits(input)].map(([kind, releasable]) => ({ kind, releasable, allocated: allocated.get(kind) ?? 0n }));
}
