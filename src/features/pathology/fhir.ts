/**
 * A sample as a FHIR R4 Specimen. The donor appears only as the bank's
 * pseudonymous code; nothing that identifies a person is ever mapped. Pure.
 */
import { formatQuantity } from '../../core/quantity.js';

export interface FhirSampleRow {
  id: string;
  identifier: string;
  kind: string;
  quantity: bigint;
  state: string;
  parent_id: string | null;
  created_at: Date;
  consent_withdrawn: boolean;
  collection_code: string;
  collection_name: string;
  unit: string;
  scale: number;
  collection_biosafety_level: number | null;
  donor_code: string | null;
  collection_method: string | null;
  body_site: string | null;
  collected_at: Date | null;
  fixation: string | null;
  cold_ischaemia_minutes: number | null;
  storage_temperature_c: number | null;
  sprec: string | null;
  biosafety_level: number | null;
}

export type FhirResource = Record<string, unknown> & { resourceType: string };

export const SYSTEM = {
  sample: 'urn:samplebank:sample',
  donor: 'urn:samplebank:donor',
  collection: 'urn:samplebank:collection',
  extension: 'urn:samplebank:fhir:extension',
} as const;

const ucum: Record<string, string> = { g: 'g', mg: 'mg', mL: 'mL', count: '{count}' };
const fixationText: Record<string, string> = {
  none: 'not fixed',
  formalin: 'formalin-fixed, paraffin-embedded',
  alcohol: 'alcohol-fixed',
  frozen: 'snap-frozen',
  oct: 'frozen in OCT compound',
  rnalater: 'stabilised in RNAlater',
  other: 'other fixation',
};

/** available and reserved material is on the shelf; everything else is not available to a hospital system. */
export function fhirStatus(state: string, consentWithdrawn: boolean): 'available' | 'unavailable' {
  return !consentWithdrawn && (state === 'available' || state === 'reserved') ? 'available' : 'unavailable';
}

/** A quantity as a JSON number, only when the number prints back as the same decimal (FHIR decimals are JSON numbers). */
export function fhirDecimal(units: bigint, scale: number): number | undefined {
  const text = formatQuantity(units, scale);
  const value = Number(text);
  const canonical = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return String(value) === canonical ? value : undefined;
}

export function effectiveBiosafety(row: Pick<FhirSampleRow, 'biosafety_level' | 'collection_biosafety_level'>): number | null {
  return row.biosafety_level ?? row.collection_biosafety_level;
}

export function toSpecimen(row: FhirSampleRow, reference: (id: string) => string = (id) => `Specimen/${id}`): FhirResource {
  const extension: Array<Record<string, unknown>> = [];
  const biosafety = effectiveBiosafety(row);
  if (biosafety !== null) extension.push({ url: `${SYSTEM.extension}:biosafety-level`, valueInteger: biosafety });
  if (row.cold_ischaemia_minutes !== null) extension.push({ url: `${SYSTEM.extension}:cold-ischaemia-minutes`, valueInteger: row.cold_ischaemia_minutes });
  if (row.storage_temperature_c !== null) extension.push({ url: `${SYSTEM.extension}:storage-temperature-celsius`, valueInteger: row.storage_temperature_c });
  if (row.sprec !== null) extension.push({ url: `${SYSTEM.extension}:sprec`, valueCode: row.sprec });
  const value = fhirDecimal(row.quantity, row.scale);
  const collection: Record<string, unknown> = {};
  if (row.collected_at) collection.collectedDateTime = new Date(row.collected_at).toISOString();
  if (row.collection_method) collection.method = { text: row.collection_method };
  if (row.body_site) collection.bodySite = { text: row.body_site };
  const resource: FhirResource = {
    resourceType: 'Specimen',
    id: row.id,
    ...(extension.length > 0 ? { extension } : {}),
    identifier: [{ system: SYSTEM.sample, value: row.identifier }],
    accessionIdentifier: { system: `${SYSTEM.collection}:${row.collection_code}`, value: row.identifier },
    status: fhirStatus(row.state, row.consent_withdrawn),
    type: { text: row.kind },
    ...(row.donor_code ? { subject: { type: 'Patient', identifier: { system: SYSTEM.donor, value: row.donor_code } } } : {}),
    receivedTime: new Date(row.created_at).toISOString(),
    ...(row.parent_id ? { parent: [{ reference: reference(row.parent_id) }] } : {}),
    ...(Object.keys(collection).length > 0 ? { collection } : {}),
    ...(row.fixation ? { processing: [{ description: fixationText[row.fixation] ?? row.fixation }] } : {}),
    container: [
      {
        description: `${row.collection_name} (${row.collection_code})`,
        specimenQuantity: { ...(value !== undefined ? { value } : {}), unit: row.unit, system: 'http://unitsofmeasure.org', code: ucum[row.unit] ?? row.unit },
      },
    ],
    ...(row.consent_withdrawn ? { condition: [{ text: 'consent withdrawn: quarantined, not for use' }] } : row.state === 'quarantined' ? { condition: [{ text: 'quarantined' }] } : {}),
    note: [{ text: `state: ${row.state}; quantity ${formatQuantity(row.quantity, row.scale)} ${row.unit}` }],
  };
  return resource;
}

/** A collection bundle: each entry has a urn:uuid fullUrl, and parents are referenced the same way. */
export function toBundle(rows: readonly FhirSampleRow[], timestamp = new Date()): FhirResource {
  const ref = (id: string): string => `urn:uuid:${id}`;
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: timestamp.toISOString(),
    entry: rows.map((row) => ({ fullUrl: ref(row.id), resource: toSpecimen(row, ref) })),
  };
}
