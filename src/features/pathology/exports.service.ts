/**
 * Standard exports of the pathology bank: FHIR R4 Specimen resources and
 * bundles for hospital systems, a MIABIS-style collection record for network
 * portals, and CSV/XLSX lists of donors and specimens. No export carries
 * anything that identifies a donor: the bank never stores it.
 */
import type { Writable } from 'node:stream';
import type { Actor } from '../../core/actor.js';
import { notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity } from '../../core/quantity.js';
import type { DB } from '../../platform/db/database.js';
import { writeTable, type ExportFormat, type ExportTable } from '../inventory/export/export.service.js';
import { samplesRepository } from '../inventory/samples.repository.js';
import { exportsRepository as repo } from './exports.repository.js';
import { effectiveBiosafety, toBundle, toSpecimen, type FhirResource } from './fhir.js';

const PAGE = 1000;

/** MIABIS 2.0 material types for what the bank knows of a specimen. */
export function miabisMaterial(kind: string, fixation: string | null): string {
  if (fixation === 'formalin') return 'TISSUE_PARAFFIN_EMBEDDED';
  if (fixation === 'frozen' || fixation === 'oct') return 'TISSUE_FROZEN';
  const k = kind.toLowerCase();
  if (k.includes('serum')) return 'SERUM';
  if (k.includes('plasma')) return 'PLASMA';
  if (k.includes('blood')) return 'WHOLE_BLOOD';
  if (k.includes('urine')) return 'URINE';
  if (k.includes('slide')) return 'TISSUE_PARAFFIN_EMBEDDED';
  if (k.includes('rna')) return 'RNA';
  if (k.includes('dna')) return 'DNA';
  return 'OTHER';
}

/** MIABIS 2.0 storage temperature classes. */
export function miabisTemperature(celsius: number | null): string | null {
  if (celsius === null) return null;
  if (celsius >= 15) return 'temperatureRoom';
  if (celsius >= 2) return 'temperature2to10';
  if (celsius >= -35) return 'temperature-18to-35';
  if (celsius >= -85) return 'temperature-60to-85';
  if (celsius <= -150) return 'temperatureLN';
  return 'temperatureOther';
}

export type PathologyExportsService = ReturnType<typeof createPathologyExportsService>;

export function createPathologyExportsService(db: DB) {
  async function collectionOrThrow(id: string) {
    const collection = await repo.collection(db, id);
    if (!collection) throw notFound('The collection', 'collectionId');
    return collection;
  }

  return {
    async specimen(actor: Actor | null, sampleId: string): Promise<FhirResource> {
      authorize(actor, 'pathology.export');
      const row = await repo.fhirSample(db, sampleId);
      if (!row) throw notFound('The sample');
      return toSpecimen(row);
    },

    /** The sample with its parent, grandparent… up to the root, as one Bundle (parents referenced inside it). */
    async lineageBundle(actor: Actor | null, sampleId: string): Promise<FhirResource> {
      authorize(actor, 'pathology.export');
      const sample = await repo.fhirSample(db, sampleId);
      if (!sample) throw notFound('The sample');
      const ancestors = await samplesRepository.ancestors(db, sampleId);
      const rows = await Promise.all(ancestors.map((a) => repo.fhirSample(db, a.id)));
      return toBundle([...rows.filter((r): r is NonNullable<typeof r> => r !== undefined), sample]);
    },

    /** One page of a collection's samples as a FHIR collection Bundle, with the cursor of the next. */
    async bundle(actor: Actor | null, collectionId: string, page: { limit: number; cursor?: string | undefined }): Promise<{ bundle: FhirResource; nextCursor: string | null }> {
      authorize(actor, 'pathology.export');
      await collectionOrThrow(collectionId);
      const rows = await repo.fhirPage(db, collectionId, page.cursor ?? null, page.limit + 1);
      const items = rows.slice(0, page.limit);
      return { bundle: toBundle(items), nextCursor: rows.length > page.limit ? items.at(-1)!.identifier : null };
    },

    /** Every sample of a collection as one FHIR Bundle, streamed page by page (the CLI). */
    async writeBundle(actor: Actor | null, by: { id?: string; code?: string }, out: Writable): Promise<{ samples: number }> {
      authorize(actor, 'pathology.export');
      const id = by.id ?? (await repo.collectionIdByCode(db, by.code ?? ''));
      if (!id) throw notFound(`The collection ${by.code ?? ''}`.trim(), 'collection');
      await collectionOrThrow(id);
      const send = async (text: string): Promise<void> => {
        if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
      };
      const ref = (sampleId: string): string => `urn:uuid:${sampleId}`;
      await send(`{"resourceType":"Bundle","type":"collection","timestamp":${JSON.stringify(new Date().toISOString())},"entry":[`);
      let samples = 0;
      let after: string | null = null;
      for (;;) {
        const rows = await repo.fhirPage(db, id, after, PAGE);
        const chunk = rows.map((row) => JSON.stringify({ fullUrl: ref(row.id), resource: toSpecimen(row, ref) })).join(',');
        if (chunk) await send(`${samples > 0 ? ',' : ''}${chunk}`);
        samples += rows.length;
        if (rows.length < PAGE) break;
        after = rows.at(-1)!.identifier;
      }
      await send(']}\n');
      return { samples };
    },

    /** A MIABIS-style collection record (aggregates only). */
    async miabis(actor: Actor | null, collectionId: string) {
      authorize(actor, 'network.catalog');
      const c = await collectionOrThrow(collectionId);
      const [materials, donors] = await Promise.all([repo.materials(db, collectionId), repo.donorStats(db, collectionId)]);
      const materialTypes = new Map<string, number>();
      const temperatures = new Set<string>();
      let size = 0;
      for (const m of materials) {
        const n = Number(m.samples);
        size += n;
        const type = miabisMaterial(m.kind, m.fixation);
        materialTypes.set(type, (materialTypes.get(type) ?? 0) + n);
        const t = miabisTemperature(m.storage_temperature_c);
        if (t) temperatures.add(t);
      }
      return {
        standard: 'MIABIS 2.0 collection (core attributes)',
        biobank: c.institution_id ? { id: c.institution_id, acronym: c.institution_code, name: c.institution_name } : null,
        collection: {
          id: c.id,
          acronym: c.code,
          name: c.name,
          description: c.description,
          type: c.human_consent ? ['DISEASE_SPECIFIC', 'SAMPLE'] : ['SAMPLE'],
          dataCategories: c.human_consent ? ['BIOLOGICAL_SAMPLES', 'MEDICAL_RECORDS'] : ['BIOLOGICAL_SAMPLES'],
          size,
          numberOfDonors: donors.donors,
          donorsWithdrawn: donors.withdrawn,
          materialTypes: Object.fromEntries(materialTypes),
          storageTemperatures: [...temperatures].sort(),
          diagnosisAvailable: donors.diagnoses.map((code) => `urn:miriam:icd:${code}`),
          collectedFrom: donors.firstCollected,
          collectedTo: donors.lastCollected,
          biosafetyLevel: c.biosafety_level,
          consentRequired: c.human_consent,
        },
      };
    },

    async donorsTable(actor: Actor | null, collectionId?: string): Promise<ExportTable> {
      authorize(actor, 'pathology.export');
      const collection = collectionId ? await collectionOrThrow(collectionId) : null;
      const header = ['donor_code', 'collection', 'collected_on', 'collection_site', 'diagnoses', 'consent_scope', 'consent_form_version', 'consent_given_on', 'consent_withdrawn_at', 'specimens'];
      async function* rows(): AsyncGenerator<string[]> {
        let after: string | null = null;
        for (;;) {
          const page = await repo.donorRows(db, collectionId, after, PAGE);
          for (const d of page) {
            yield [d.code, d.collection_code, d.collected_on ?? '', d.collection_site ?? '', d.diagnoses.join(' '), (d.scope ?? []).join(' '), d.form_version ?? '', d.given_on ?? '', d.consent_withdrawn_at ? new Date(d.consent_withdrawn_at).toISOString() : '', String(d.specimens)];
          }
          if (page.length < PAGE) return;
          after = page.at(-1)!.code;
        }
      }
      // Only the count is the product's own figure; codes, sites and diagnoses are what curators typed (neutralised in CSV).
      return { collection: collection ? { id: collection.id, code: collection.code, unit: collection.unit, scale: collection.scale } : { id: '', code: 'all', unit: '', scale: 0 }, header, numeric: ['specimens'], rows: rows() };
    },

    async specimensTable(actor: Actor | null, collectionId: string): Promise<ExportTable> {
      authorize(actor, 'pathology.export');
      const c = await collectionOrThrow(collectionId);
      const header = ['identifier', 'kind', 'quantity', 'unit', 'state', 'parent', 'donor_code', 'collection_method', 'body_site', 'collected_at', 'fixation', 'cold_ischaemia_minutes', 'storage_temperature_c', 'sprec', 'biosafety_level', 'consent_withdrawn'];
      async function* rows(): AsyncGenerator<string[]> {
        let after: string | null = null;
        const identifiers = new Map<string, string>();
        for (;;) {
          const page = await repo.fhirPage(db, collectionId, after, PAGE);
          for (const s of page) identifiers.set(s.id, s.identifier);
          for (const s of page) {
            yield [
              s.identifier, s.kind, formatQuantity(s.quantity, s.scale), s.unit, s.state, s.parent_id ? (identifiers.get(s.parent_id) ?? s.parent_id) : '', s.donor_code ?? '',
              s.collection_method ?? '', s.body_site ?? '', s.collected_at ? new Date(s.collected_at).toISOString() : '', s.fixation ?? '',
              s.cold_ischaemia_minutes === null ? '' : String(s.cold_ischaemia_minutes), s.storage_temperature_c === null ? '' : String(s.storage_temperature_c),
              s.sprec ?? '', String(effectiveBiosafety(s) ?? ''), s.consent_withdrawn ? 'yes' : 'no',
            ];
          }
          if (page.length < PAGE) return;
          after = page.at(-1)!.identifier;
        }
      }
      // Figures the product formats (a storage temperature is often negative, -80): kept as numbers in CSV.
      return { collection: { id: c.id, code: c.code, unit: c.unit, scale: c.scale }, header, numeric: ['quantity', 'cold_ischaemia_minutes', 'storage_temperature_c', 'biosafety_level'], rows: rows() };
    },

    write(table: ExportTable, format: ExportFormat, out: Writable): Promise<{ samples: number }> {
      return writeTable(table, format, out);
    },
  };
}
