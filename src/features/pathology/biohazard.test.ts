/** The declaration a packing list prints: each sample's level is its specimen's, else its collection's. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../../../test/harness.js';
import { json } from '../calls/calls.testkit.js';
import { shipmentDeclaration } from './biohazard.js';
import { addDonor, addSpecimen, seedBank } from './pathology.testkit.js';

let server: TestServer;

beforeAll(async () => {
  server = await createTestServer();
});

afterAll(async () => {
  await server.close();
});

describe('shipment biohazard declaration', () => {
  it('takes the highest level in the package, a subsample inheriting its specimen’s level', async () => {
    const { app, context } = server;
    const bank = await seedBank(app, context, { biosafetyLevel: 2 });
    const donor = await addDonor(app, bank);
    const ffpe = await addSpecimen(app, bank, donor.id);
    const fresh = await addSpecimen(app, bank, donor.id, { kind: 'frozen', fixation: 'frozen', storageTemperatureC: -80, biosafetyLevel: 3, sprec: undefined });
    const part = json<{ children: Array<{ id: string; identifier: string }> }>(
      await app.inject({ method: 'POST', url: `/api/v1/samples/${fresh}/split`, headers: bank.curator.headers, payload: { parts: [{ quantity: '1' }], reason: 'aliquot for shipment' } }),
      201,
    ).children[0]!;
    const onlyFfpe = await shipmentDeclaration(context.handle.db, [{ sampleId: ffpe, quantity: '1' }]);
    expect(onlyFfpe).toMatchObject({ required: true, level: 2, unNumber: 'UN3373' });
    const mixed = await shipmentDeclaration(context.handle.db, [{ sampleId: ffpe, quantity: '1' }, { sampleId: part.id, quantity: 1n }]);
    expect(mixed).toMatchObject({ required: true, level: 3, unNumber: 'UN2814', packingInstruction: 'P620' });
    expect(mixed.lines.at(-1)).toContain(`${part.identifier} (frozen, 1 count, BSL-3)`);
    expect(await shipmentDeclaration(context.handle.db, [])).toMatchObject({ required: false });
  });
});
