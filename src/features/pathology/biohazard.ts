/**
 * The biohazard declaration a packing list carries: the distribution feature
 * calls shipmentDeclaration() with the shipment's samples and prints its lines.
 */
import { sql } from 'kysely';
import { biohazardDeclaration, type BiohazardDeclaration } from '../../core/consent.js';
import { formatQuantity } from '../../core/quantity.js';
import type { Executor } from '../../platform/db/tx.js';

/** Each sample's biosafety level: its specimen record's (own, else its root's), else its collection's. */
export async function shipmentDeclaration(executor: Executor, items: ReadonlyArray<{ sampleId: string; quantity: bigint | string }>): Promise<BiohazardDeclaration> {
  if (items.length === 0) return biohazardDeclaration([]);
  const rows = await sql<{ id: string; identifier: string; kind: string; unit: string; scale: number; level: number | null }>`
    select s.id, s.identifier, s.kind, c.unit, c.scale,
           coalesce((select x.biosafety_level from specimens x where x.sample_id in (s.id, s.root_id) and x.biosafety_level is not null
                     order by (x.sample_id = s.id) desc limit 1), c.biosafety_level) as level
    from samples s join collections c on c.id = s.collection_id
    where s.id in (select value::uuid from json_array_elements_text(${JSON.stringify(items.map((i) => i.sampleId))}::json))`.execute(executor);
  const byId = new Map(rows.rows.map((r) => [r.id, r]));
  return biohazardDeclaration(
    items.flatMap((item) => {
      const row = byId.get(item.sampleId);
      if (!row) return [];
      return [{ identifier: row.identifier, kind: row.kind, biosafetyLevel: row.level === null ? null : Number(row.level), quantity: typeof item.quantity === 'string' ? item.quantity : formatQuantity(item.quantity, Number(row.scale)), unit: row.unit }];
    }),
  );
}
