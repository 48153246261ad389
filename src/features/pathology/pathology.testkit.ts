/** Test data for the pathology bank: a human collection held by an institution, donors and specimens through the API. */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../compose.js';
import { createInstitution, signIn, unique, type SignedIn } from '../../../test/factories.js';
import { json } from '../calls/calls.testkit.js';

/** A pseudonymous code that never holds a run of nine digits (random hex alone sometimes does). */
export function donorCode(): string {
  const hex = crypto.randomBytes(6).toString('hex');
  return `D-${hex.slice(0, 4)}x${hex.slice(4, 8)}x${hex.slice(8)}`;
}

export interface Bank {
  institution: { id: string; code: string; name: string };
  collectionId: string;
  curator: SignedIn;
}

export async function seedBank(app: FastifyInstance, context: Context, options: { biosafetyLevel?: number } = {}): Promise<Bank> {
  const institution = await createInstitution(context, `Medical University ${unique()}`);
  const collectionId = crypto.randomUUID();
  await context.handle.db
    .insertInto('collections')
    .values({ id: collectionId, code: unique('PATH').toUpperCase(), name: 'COVID-19 autopsy and biopsy tissue', unit: 'count', scale: 0, human_consent: true, kinds: ['block', 'slide', 'frozen'], biosafety_level: options.biosafetyLevel ?? 2, institution_id: institution.id })
    .execute();
  return { institution, collectionId, curator: await signIn(app, context, ['curator'], institution.id) };
}

export async function addDonor(app: FastifyInstance, bank: Bank, overrides: Record<string, unknown> = {}): Promise<{ id: string; code: string }> {
  return json<{ id: string; code: string }>(
    await app.inject({
      method: 'POST',
      url: '/api/v1/donors',
      headers: bank.curator.headers,
      payload: { code: donorCode(), collectionId: bank.collectionId, collectedOn: '2020-02-14', collectionSite: 'Department of Pathology', diagnoses: ['U07.1', 'J80'], consent: { scope: ['genetic-analysis', 'external-sharing'], givenOn: '2020-02-10', formVersion: 'v2.1' }, ...overrides },
    }),
    201,
  );
}

export async function addSpecimen(app: FastifyInstance, bank: Bank, donorId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const body = json<{ sampleId: string }>(
    await app.inject({
      method: 'POST',
      url: `/api/v1/donors/${donorId}/specimens`,
      headers: bank.curator.headers,
      payload: { kind: 'block', quantity: '10', collectionMethod: 'autopsy', bodySite: 'lung, right lower lobe', collectedAt: '2020-02-14T09:30:00Z', fixation: 'formalin', coldIschaemiaMinutes: 45, storageTemperatureC: 20, sprec: 'TIS-ARM-A-B-FOR-S-A', ...overrides },
    }),
    201,
  );
  return body.sampleId;
}
