/** What is left while a proposal is being built: per sample, kind and institution. */
import type { Stock } from './cutting.js';
import { excludedSamples, kindLimits, minBig, sampleCapacity, type AllocationInput, type AllocationRequest, type AllocationRules, type Piece } from './model.js';

const NO_CAP = BigInt(Number.MAX_SAFE_INTEGER) * 1024n;

export class Ledger {
  private readonly samples = new Map<string, { kind: string; left: bigint }>();
  private readonly kinds: Map<string, bigint>;
  private readonly perKind = new Map<string, bigint>();
  private readonly total = new Map<string, bigint>();

  constructor(
    input: AllocationInput,
    private readonly rules: AllocationRules,
  ) {
    for (const s of input.samples) this.samples.set(s.id, { kind: s.kind, left: sampleCapacity(s) });
    this.kinds = kindLimits(input);
  }

  kindLeft(kind: string): bigint {
    return this.kinds.get(kind) ?? 0n;
  }

  capLeft(request: AllocationRequest): { perKind: bigint; total: bigint } {
    const cap = this.rules.institutionCap ?? {};
    const perKind = cap.perKind === undefined ? NO_CAP : cap.perKind - (this.perKind.get(`${request.institutionId}\u0000${request.kind}`) ?? 0n);
    const total = cap.total === undefined ? NO_CAP : cap.total - (this.total.get(request.institutionId) ?? 0n);
    return { perKind, total };
  }

  /** The most this item may still get before cutting is considered. */
  headroom(request: AllocationRequest): bigint {
    const cap = this.capLeft(request);
    return minBig(request.quantity, this.kindLeft(request.kind), cap.perKind, cap.total);
  }

  stock(kind: string): Stock[] {
    return [...this.samples].filter(([, s]) => s.kind === kind).map(([sampleId, s]) => ({ sampleId, left: s.left }));
  }

  /** The stock a request may draw on: its kind, less the samples excluded for it. */
  stockFor(request: AllocationRequest): Stock[] {
    const excluded = excludedSamples(request);
    return this.stock(request.kind).filter((s) => !excluded.has(s.sampleId));
  }

  take(request: AllocationRequest, pieces: readonly Piece[]): void {
    const quantity = pieces.reduce((sum, p) => sum + p.quantity, 0n);
    for (const piece of pieces) this.samples.get(piece.sampleId)!.left -= piece.quantity;
    this.kinds.set(request.kind, this.kindLeft(request.kind) - quantity);
    const key = `${request.institutionId}\u0000${request.kind}`;
    this.perKind.set(key, (this.perKind.get(key) ?? 0n) + quantity);
    this.total.set(request.institutionId, (this.total.get(request.institutionId) ?? 0n) + quantity);
  }
}
