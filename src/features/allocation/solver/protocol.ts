/** Messages between the solver wrapper and its worker thread. */
import type { LinearModel } from '../../../core/allocation/formulation.js';

export interface SolveRequest {
  id: number;
  model: LinearModel;
  timeLimitMs: number;
  relativeGap: number;
}

export type SolveResponse =
  | {
      id: number;
      ok: true;
      /** HiGHS model status, e.g. `optimal`, `timeLimit`. */
      status: string;
      hasSolution: boolean;
      values: number[];
      objective: number | null;
      /** Best proven bound on the objective (MIP). */
      bound: number | null;
      gap: number | null;
      ms: number;
    }
  | { id: number; ok: false; error: string };
