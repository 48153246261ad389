/**
 * Label sheets for samples chosen by the curator (one sample, or a selection
 * from the sample list): the same A4 sheet of DataMatrix labels a shipment
 * prints, made by distribution's label generator.
 */
import { invalid } from '../../core/errors.js';
import type { Actor } from '../../core/actor.js';
import { authorize } from '../../core/policy.js';
import { labelsPdf } from '../distribution/distribution.pdf.js';
import type { InventoryService } from '../inventory/inventory.service.js';

export const MAX_LABELS = 240;

export type LabelsService = ReturnType<typeof createLabelsService>;

export function createLabelsService(deps: { inventory: InventoryService; now?: () => Date }) {
  const { inventory } = deps;
  const clock = deps.now ?? (() => new Date());
  return {
    /** A PDF with one label per sample, in the order given (duplicates printed once). */
    async sheet(actor: Actor | null, sampleIds: string[]): Promise<{ fileName: string; content: Uint8Array }> {
      authorize(actor, 'sample.read');
      const ids = [...new Set(sampleIds)];
      if (ids.length === 0) throw invalid('ids', 'name at least one sample');
      if (ids.length > MAX_LABELS) throw invalid('ids', `at most ${MAX_LABELS} samples a sheet`);
      const samples = [];
      for (const id of ids) samples.push(await inventory.getSample(actor, id)); // 404 for an unknown sample
      const now = clock();
      const content = await labelsPdf({
        reference: `SampleBank ${now.toISOString().slice(0, 10)}`,
        state: 'labels',
        createdAt: now,
        packedAt: null,
        dispatchedAt: null,
        courier: null,
        trackingNumber: null,
        application: { id: '', title: '' },
        recipient: { name: '', email: '', institution: '' },
        // Samples of several collections may share a sheet, so each quantity carries its own unit.
        unit: '',
        total: '',
        items: samples.map((s) => ({ identifier: s.identifier, kind: s.kind, quantity: `${s.quantity} ${s.unit}`, parentIdentifier: null })),
      });
      const fileName = samples.length === 1 ? `${samples[0]!.identifier.replace(/[^A-Za-z0-9._-]+/g, '_')}-label.pdf` : `labels-${samples.length}.pdf`;
      return { fileName, content };
    },
  };
}
