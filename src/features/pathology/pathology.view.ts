import type { SpecimenRow } from './pathology.repository.js';

export function toSpecimenView(row: SpecimenRow) {
  return {
    sampleId: row.sample_id,
    donorId: row.donor_id,
    collectionMethod: row.collection_method,
    bodySite: row.body_site,
    collectedAt: row.collected_at ? new Date(row.collected_at).toISOString() : null,
    fixation: row.fixation,
    coldIschaemiaMinutes: row.cold_ischaemia_minutes,
    storageTemperatureC: row.storage_temperature_c,
    sprec: row.sprec,
    biosafetyLevel: row.biosafety_level,
  };
}
