/**
 * The main-thread side of the HiGHS worker. HiGHS gets the time limit as an
 * option; a wall-clock timer a little longer than it terminates the worker in
 * case HiGHS does not stop (or the module hangs), and the next solve starts a
 * fresh worker with a freshly loaded module.
 */
import { Worker } from 'node:worker_threads';
import type { LinearModel } from '../../../core/allocation/formulation.js';
import type { SolveResponse } from './protocol.js';

export type SolverAnswer = Extract<SolveResponse, { ok: true }>;

export class SolverFailure extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'crash' | 'error',
  ) {
    super(message);
    this.name = 'SolverFailure';
  }
}

export interface SolveSettings {
  timeLimitMs: number;
  relativeGap: number;
  /** Extra wall-clock time beyond `timeLimitMs` before the worker is killed. */
  graceMs?: number;
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

export class HighsSolver {
  private worker: Worker | null = null;
  private nextId = 1;

  async solve(model: LinearModel, settings: SolveSettings): Promise<SolverAnswer> {
    const worker = (this.worker ??= new Worker(WORKER_URL));
    const id = this.nextId++;
    const grace = settings.graceMs ?? Math.max(2000, settings.timeLimitMs);
    return new Promise<SolverAnswer>((resolve, reject) => {
      const fail = (error: SolverFailure) => {
        cleanup();
        void this.discard(worker);
        reject(error);
      };
      const timer = setTimeout(() => fail(new SolverFailure(`no answer within ${settings.timeLimitMs + grace} ms; the solver was stopped`, 'timeout')), settings.timeLimitMs + grace);
      const onMessage = (response: SolveResponse) => {
        if (response.id !== id) return;
        cleanup();
        if (response.ok) resolve(response);
        else reject(new SolverFailure(response.error, 'error'));
      };
      const onError = (error: Error) => fail(new SolverFailure(`the solver crashed: ${error.message}`, 'crash'));
      const onExit = (code: number) => fail(new SolverFailure(`the solver exited with code ${code}`, 'crash'));
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, model, timeLimitMs: settings.timeLimitMs, relativeGap: settings.relativeGap });
    });
  }

  async close(): Promise<void> {
    if (this.worker) await this.discard(this.worker);
  }

  private async discard(worker: Worker): Promise<void> {
    if (this.worker === worker) this.worker = null;
    await worker.terminate();
  }
}
