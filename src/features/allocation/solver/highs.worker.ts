/**
 * Runs inside a worker thread: HiGHS is synchronous WebAssembly, so it must
 * never block the server's event loop. One request at a time; after any
 * failure the module is dropped and loaded afresh for the next model.
 */
import { parentPort } from 'node:worker_threads';
import highsModule, { type Highs } from 'highs';
import type { SolveRequest, SolveResponse } from './protocol.js';

// highs ships an ES module whose default export is the loader, but its types
// describe the CommonJS build, so TypeScript sees the namespace; say what it is.
const loadHighs = highsModule as unknown as () => Promise<Highs>;
let highs: Promise<Highs> | null = null;

const statusNames = new Map<number, string>();

async function solve(request: SolveRequest): Promise<SolveResponse> {
  highs ??= loadHighs();
  const h = await highs;
  if (statusNames.size === 0) for (const [name, code] of Object.entries(h.constants.modelStatus)) statusNames.set(code as number, name);
  const { model: lp } = request;
  const infinite = (v: number) => (v === Infinity ? h.infinity : v === -Infinity ? -h.infinity : v);
  const started = Date.now();
  const model = h.createModel({
    numCols: lp.numCols,
    numRows: lp.numRows,
    sense: h.constants.objectiveSense.maximize,
    colCost: lp.colCost,
    colLower: lp.colLower,
    colUpper: lp.colUpper.map(infinite),
    rowLower: lp.rowLower.map(infinite),
    rowUpper: lp.rowUpper.map(infinite),
    matrix: { format: 'csr', numRows: lp.numRows, numCols: lp.numCols, ...lp.matrix },
    integrality: lp.integrality as Array<0 | 1 | 2 | 3 | 4>,
  });
  try {
    model.options.set({
      output_flag: false,
      time_limit: request.timeLimitMs / 1000,
      mip_rel_gap: request.relativeGap,
      mip_abs_gap: absoluteGap(lp.colCost),
      mip_feasibility_tolerance: 1e-9,
      primal_feasibility_tolerance: 1e-9,
      random_seed: 1,
    });
    if (lp.start) model.setSolution({ colValue: lp.start });
    model.run();
    const status = model.getModelStatus();
    const primal = Number(model.info.get('primal_solution_status'));
    const hasSolution = primal === h.constants.solutionStatus.feasible;
    return {
      id: request.id,
      ok: true,
      status: statusNames.get(status) ?? `status ${status}`,
      hasSolution,
      values: hasSolution ? Array.from(model.getSolution().colValue) : [],
      objective: hasSolution ? model.getObjectiveValue() : null,
      bound: numberOrNull(model.info.get('mip_dual_bound')),
      gap: numberOrNull(model.info.get('mip_gap')),
      ms: Date.now() - started,
    };
  } finally {
    model.dispose();
  }
}

/**
 * HiGHS stops once the best solution is within mip_abs_gap (default 1e-6) of
 * its bound. The objective is a share of each kind's offer, so at real
 * magnitudes one unit (0.0001 g of 10 g) is worth about 1e-6: the default would
 * let it leave units unallocated. Close the gap to half the value of the
 * cheapest unit instead, but never below 1e-9, where the LP's own rounding
 * noise would keep it searching until the time limit.
 */
function absoluteGap(costs: readonly number[]): number {
  let cheapest = Infinity;
  for (const cost of costs) if (cost > 0 && cost < cheapest) cheapest = cost;
  return Math.max(1e-9, Math.min(1e-6, cheapest / 2));
}

function numberOrNull(value: unknown): number | null {
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

parentPort!.on('message', (request: SolveRequest) => {
  solve(request).then(
    (response) => parentPort!.postMessage(response),
    (error: unknown) => {
      highs = null;
      parentPort!.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies SolveResponse);
    },
  );
});
