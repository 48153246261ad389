/**
 * The public catalog: what the bank holds per collection and kind, and what
 * each call (release batch) past draft offers. It is read signed out, so it
 * carries nothing personal: no sample identifiers, locations, donors,
 * applicants, reviewers or panels; only collections, kinds, counts and exact
 * quantities, and the calls' public terms.
 */
import { systemActor } from '../../core/actor.js';
import { formatQuantity } from '../../core/quantity.js';
import type { CallsService } from '../calls/calls.service.js';
import type { InventoryService } from '../inventory/inventory.service.js';

export interface CatalogView {
  collections: Array<{
    id: string;
    code: string;
    name: string;
    description: string | null;
    unit: string;
    scale: number;
    humanConsent: boolean;
    biosafetyLevel: number | null;
    samples: number;
    quantity: string;
    byKind: Record<string, { samples: number; quantity: string }>;
  }>;
  calls: Array<{
    id: string;
    collectionId: string;
    title: string;
    description: string | null;
    state: string;
    opensAt: string;
    closesAt: string;
    blind: boolean;
    researchDirections: string[];
    unit: string;
    offer: Array<{ kind: string; releasable: string }>;
  }>;
}

export type CatalogService = ReturnType<typeof createCatalogService>;

export function createCatalogService(deps: { inventory: InventoryService; calls: CallsService }) {
  const { inventory, calls } = deps;
  return {
    /** Anyone may read it, signed in or not. */
    async catalog(): Promise<CatalogView> {
      const collections = (await inventory.listCollections(systemActor, { limit: 200 })).items;
      const summaries = await Promise.all(collections.map((c) => inventory.collectionSummary(systemActor, c.id)));
      const rows = await calls.published(200);
      const offers = await Promise.all(rows.map((row) => calls.pool(row.id)));
      return {
        collections: collections.map((c, i) => ({
          id: c.id,
          code: c.code,
          name: c.name,
          description: c.description,
          unit: c.unit,
          scale: c.scale,
          humanConsent: c.humanConsent,
          biosafetyLevel: c.biosafetyLevel,
          samples: summaries[i]!.samples,
          quantity: summaries[i]!.quantity,
          byKind: summaries[i]!.byKind,
        })),
        calls: rows.map((row, i) => {
          const pool = offers[i]!;
          return {
            id: row.id,
            collectionId: row.collection_id,
            title: row.title,
            description: row.description,
            state: row.state,
            opensAt: row.opens_at.toISOString(),
            closesAt: row.closes_at.toISOString(),
            blind: row.blind,
            researchDirections: row.research_directions,
            unit: pool.unit,
            offer: pool.kinds.map((k) => ({ kind: k.kind, releasable: formatQuantity(k.releasable, pool.scale) })),
          };
        }),
      };
    },
  };
}
