/**
 * Model-based test of the ledger: random sequences of splits, reservations,
 * releases, consumption and adjustments run against the inventory service and
 * against a plain in-memory model. After every step the database must agree
 * with the model, every quantity must be non-negative with reserved <=
 * quantity, and conservation (core/ledger checkLineage over the database's
 * own movements) must hold. Runs on both engines.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../core/actor.js';
import { DomainError } from '../../core/errors.js';
import { checkLineage } from '../../core/ledger.js';
import { formatQuantity } from '../../core/quantity.js';
import { createTestContext, engine, type TestContext } from '../../../test/harness.js';
import { unique } from '../../../test/factories.js';
import type { InventoryService } from './inventory.service.js';
import { samplesRepository } from './samples.repository.js';

const SCALE = 2;
const actor: Actor = { userId: null, institutionId: null, roles: ['curator', 'chair'] };
const q = (units: bigint): string => formatQuantity(units, SCALE);

interface ModelSample {
  quantity: bigint;
  reserved: bigint;
  state: string;
}
interface Model {
  samples: Map<string, ModelSample>;
  order: string[];
  reservations: Array<{ id: string; sampleId: string; quantity: bigint; active: boolean }>;
  /** Created plus adjusted, minus consumed and lost: what the lineage must hold. */
  held: bigint;
}
interface Real {
  inventory: InventoryService;
  rootId: string;
}

let context: TestContext;
let collectionId: string;

beforeAll(async () => {
  context = await createTestContext();
  const collection = await context.services.inventory.createCollection(actor, { code: unique('M').toUpperCase(), name: 'Model', unit: 'g', scale: SCALE, humanConsent: false });
  collectionId = collection.id;
});
afterAll(async () => {
  await context.dispose();
});

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

const pick = <T>(list: readonly T[], index: number): T => list[index % list.length]!;
const onShelf = (s: ModelSample) => s.state === 'available' || s.state === 'reserved';
const shelf = (s: ModelSample): string => (!onShelf(s) ? s.state : s.reserved > 0n ? 'reserved' : 'available');

/** After every step: the database equals the model, nothing is negative, and the lineage conserves. */
async function verify(model: Model, real: Real): Promise<void> {
  const db = context.handle.db;
  const samples = await samplesRepository.lineageSamples(db, real.rootId);
  expect(samples.length).toBe(model.samples.size);
  for (const s of samples) {
    const m = model.samples.get(s.id)!;
    expect({ id: s.id, quantity: s.quantity, reserved: s.reserved, state: s.state }).toEqual({ id: s.id, quantity: m.quantity, reserved: m.reserved, state: m.state });
    expect(s.quantity >= 0n && s.reserved >= 0n && s.reserved <= s.quantity).toBe(true);
  }
  expect(samples.reduce((sum, s) => sum + s.quantity, 0n)).toBe(model.held);
  const entries = (await samplesRepository.lineageMovements(db, real.rootId)).map((m) => ({ sampleId: m.sample_id, kind: m.kind, delta: m.delta, reservedDelta: m.reserved_delta }));
  const violations = checkLineage(
    real.rootId,
    samples.map((s) => ({ id: s.id, quantity: s.quantity, reserved: s.reserved, activeReservations: s.active_reservations })),
    entries,
  );
  expect(violations).toEqual([]);
}

class Split implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly at: number,
    readonly parts: bigint[],
    readonly loss: bigint,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const id = pick(model.order, this.at);
    const s = model.samples.get(id)!;
    const total = this.parts.reduce((a, b) => a + b, 0n) + this.loss;
    const outcome = real.inventory.split(actor, id, { parts: this.parts.map((p) => ({ quantity: q(p) })), loss: q(this.loss), reason: 'model' });
    const splittable = ['available', 'reserved', 'returned', 'on_loan'].includes(s.state);
    if (!splittable || total > s.quantity - s.reserved) {
      expect(await refusal(outcome)).toBe(splittable ? 'insufficient-quantity' : 'invalid-state');
    } else {
      const result = await outcome;
      s.quantity -= total;
      model.held -= this.loss;
      for (const child of result.children) {
        model.samples.set(child.id, { quantity: BigInt(child.quantity.replace('.', '')), reserved: 0n, state: 'available' });
        model.order.push(child.id);
      }
    }
    await verify(model, real);
  }
  toString = () => `split(#${this.at}, [${this.parts.map(q).join(', ')}], loss ${q(this.loss)})`;
}

class Reserve implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly at: number,
    readonly quantity: bigint,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const id = pick(model.order, this.at);
    const s = model.samples.get(id)!;
    const outcome = real.inventory.reserve(actor, id, { quantity: q(this.quantity) });
    if (!onShelf(s)) expect(await refusal(outcome)).toBe('invalid-state');
    else if (this.quantity > s.quantity - s.reserved) expect(await refusal(outcome)).toBe('insufficient-quantity');
    else {
      const reservation = await outcome;
      s.reserved += this.quantity;
      s.state = shelf(s);
      model.reservations.push({ id: reservation.id, sampleId: id, quantity: this.quantity, active: true });
    }
    await verify(model, real);
  }
  toString = () => `reserve(#${this.at}, ${q(this.quantity)})`;
}

class Release implements fc.AsyncCommand<Model, Real> {
  constructor(readonly at: number) {}
  check = (model: Readonly<Model>) => model.reservations.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const r = pick(model.reservations, this.at);
    const outcome = real.inventory.release(actor, r.id);
    if (!r.active) expect(await refusal(outcome)).toBe('invalid-state');
    else {
      await outcome;
      r.active = false;
      const s = model.samples.get(r.sampleId)!;
      s.reserved -= r.quantity;
      s.state = shelf(s);
    }
    await verify(model, real);
  }
  toString = () => `release(#${this.at})`;
}

class Consume implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly at: number,
    readonly quantity: bigint,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const id = pick(model.order, this.at);
    const s = model.samples.get(id)!;
    const outcome = real.inventory.consume(actor, id, { quantity: q(this.quantity), reason: 'model' });
    if (!['available', 'reserved', 'returned', 'on_loan'].includes(s.state)) expect(await refusal(outcome)).toBe('invalid-state');
    else if (this.quantity > s.quantity - s.reserved) expect(await refusal(outcome)).toBe('insufficient-quantity');
    else {
      await outcome;
      s.quantity -= this.quantity;
      model.held -= this.quantity;
      if (s.quantity === 0n) s.state = 'consumed';
    }
    await verify(model, real);
  }
  toString = () => `consume(#${this.at}, ${q(this.quantity)})`;
}

class Adjust implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly at: number,
    readonly delta: bigint,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const id = pick(model.order, this.at);
    const s = model.samples.get(id)!;
    const outcome = real.inventory.adjust(actor, id, { delta: this.delta < 0n ? `-${q(-this.delta)}` : q(this.delta), reason: 'model' });
    if (this.delta === 0n) expect(await refusal(outcome)).toBe('invalid-quantity');
    else if (s.state === 'consumed' || s.state === 'destroyed') expect(await refusal(outcome)).toBe('invalid-state');
    else if (s.quantity + this.delta < s.reserved) expect(await refusal(outcome)).toBe('insufficient-quantity');
    else {
      await outcome;
      s.quantity += this.delta;
      model.held += this.delta;
    }
    await verify(model, real);
  }
  toString = () => `adjust(#${this.at}, ${this.delta < 0n ? '-' : ''}${q(this.delta < 0n ? -this.delta : this.delta)})`;
}

const index = fc.nat({ max: 50 });
const units = (max: number) => fc.bigInt({ min: 1n, max: BigInt(max) });
const commands = [
  fc.tuple(index, fc.array(units(400), { minLength: 1, maxLength: 3 }), fc.bigInt({ min: 0n, max: 20n })).map(([at, parts, loss]) => new Split(at, parts, loss)),
  fc.tuple(index, units(600)).map(([at, quantity]) => new Reserve(at, quantity)),
  index.map((at) => new Release(at)),
  fc.tuple(index, units(500)).map(([at, quantity]) => new Consume(at, quantity)),
  fc.tuple(index, fc.bigInt({ min: -300n, max: 300n })).map(([at, delta]) => new Adjust(at, delta)),
];

describe(`ledger model on ${engine}`, () => {
  it('keeps the database equal to the model, non-negative and conserving after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
        const root = await context.services.inventory.createSample(actor, { collectionId, kind: 'fines', quantity: q(1000n) });
        const model: Model = { samples: new Map([[root.id, { quantity: 1000n, reserved: 0n, state: 'available' }]]), order: [root.id], reservations: [], held: 1000n };
        await fc.asyncModelRun(() => ({ model, real: { inventory: context.services.inventory, rootId: root.id } }), cmds);
      }),
      { numRuns: 25 },
    );
  }, 240_000);
});
