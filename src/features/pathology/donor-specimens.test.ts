/**
 * GET /donors/{id}/specimens: the donor's specimens a page at a time, each
 * with its sample (quantity exactly as stored, in the collection's unit), its
 * pre-analytical record and how many subsamples were cut from it. Read like
 * GET /donors/{id}: curators, admins and auditors; nobody else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../core/roles.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, unique } from '../../../test/factories.js';
import { json } from '../calls/calls.testkit.js';
import { addDonor, addSpecimen, seedBank, type Bank } from './pathology.testkit.js';

interface Item {
  sample: { id: string; identifier: string; kind: string; quantity: string; unit: string; state: string; locationId: string | null; position: string | null };
  specimen: Record<string, unknown>;
  descendants: number;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
}

let server: TestServer;
let bank: Bank;
let donor: { id: string; code: string };
let prefix: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await createTestServer();
  const { app, context } = server;
  bank = await seedBank(app, context);
  donor = await addDonor(app, bank);
  prefix = unique('DS').toUpperCase();
  // Registered out of order: the list is in identifier order, not registration order.
  for (const n of [3, 1, 5, 2, 4]) ids[`B${n}`] = await addSpecimen(app, bank, donor.id, { identifier: `${prefix}-B${n}`, quantity: String(n * 10) });
  // Two slides cut from B1, one of them cut again: three descendants at two depths.
  const split = json<{ children: Array<{ id: string }> }>(
    await app.inject({ method: 'POST', url: `/api/v1/samples/${ids.B1}/split`, headers: bank.curator.headers, payload: { parts: [{ quantity: '2', kind: 'slide' }, { quantity: '3', kind: 'slide' }], reason: 'sections' } }),
    201,
  );
  json(await app.inject({ method: 'POST', url: `/api/v1/samples/${split.children[1]!.id}/split`, headers: bank.curator.headers, payload: { parts: [{ quantity: '1' }], reason: 'recut' } }), 201);
  // Another donor's specimen never shows up in this donor's list.
  const other = await addDonor(app, bank);
  await addSpecimen(app, bank, other.id, { identifier: `${prefix}-B0` });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

const list = (headers: Record<string, string> | undefined, id: string, query = '') => server.app.inject({ method: 'GET', url: `/api/v1/donors/${id}/specimens${query}`, ...(headers ? { headers } : {}) });

describe(`a donor's specimens on ${engine}`, () => {
  it('lists each specimen with its sample, pre-analytical data and subsample count, nothing identifying', async () => {
    const response = await list(bank.curator.headers, donor.id);
    const page = json<Page>(response, 200);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((i) => i.sample.identifier)).toEqual([1, 2, 3, 4, 5].map((n) => `${prefix}-B${n}`));
    const [b1, b2] = page.items;
    // B1 is 10 blocks less the 5 cut off; kept exactly as stored, in the collection's unit.
    expect(b1).toEqual({
      sample: { id: ids.B1, identifier: `${prefix}-B1`, kind: 'block', quantity: '5', unit: 'count', state: 'available', locationId: null, position: null },
      specimen: {
        sampleId: ids.B1,
        donorId: donor.id,
        collectionMethod: 'autopsy',
        bodySite: 'lung, right lower lobe',
        collectedAt: '2020-02-14T09:30:00.000Z',
        fixation: 'formalin',
        coldIschaemiaMinutes: 45,
        storageTemperatureC: 20,
        sprec: 'TIS-ARM-A-B-FOR-S-A',
        biosafetyLevel: null,
      },
      descendants: 3,
    });
    expect(b2).toMatchObject({ sample: { id: ids.B2, quantity: '20' }, descendants: 0 });
    // The specimen record is the same one GET /samples/{id}/specimen answers.
    expect(b1!.specimen).toEqual(json(await server.app.inject({ method: 'GET', url: `/api/v1/samples/${ids.B1}/specimen`, headers: bank.curator.headers }), 200));
    expect(response.body).not.toContain(donor.code);
    expect(Object.keys(b1!).sort()).toEqual(['descendants', 'sample', 'specimen']);
  });

  it('pages with limit and cursor until nextCursor is null', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = json<Page>(await list(bank.curator.headers, donor.id, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.sample.identifier));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => `${prefix}-B${n}`));
    // An exact last page says there is no further one.
    expect(json<Page>(await list(bank.curator.headers, donor.id, '?limit=5'), 200).nextCursor).toBeNull();
  });

  it('is empty, not missing, for a donor without specimens', async () => {
    const fresh = await addDonor(server.app, bank);
    expect(json<Page>(await list(bank.curator.headers, fresh.id), 200)).toEqual({ items: [], nextCursor: null });
  });

  it('is read by curators, admins and auditors only, like the donor', async () => {
    for (const role of roles) {
      const who = await signIn(server.app, server.context, [role]);
      const response = await list(who.headers, donor.id);
      if (role === 'curator' || role === 'admin' || role === 'auditor') expect(json<Page>(response, 200).items).toHaveLength(5);
      else problem(response, 403, 'forbidden');
      // The donor itself answers the same way.
      expect((await server.app.inject({ method: 'GET', url: `/api/v1/donors/${donor.id}`, headers: who.headers })).statusCode).toBe(response.statusCode);
    }
    problem(await list(undefined, donor.id), 401, 'unauthenticated');
  });

  it('answers 404 for an unknown donor and 400 naming the field for a bad id, limit or cursor', async () => {
    expect(problem(await list(bank.curator.headers, '00000000-0000-4000-8000-000000000000'), 404, 'not-found').detail).toMatch(/donor/i);
    expect(problem(await list(bank.curator.headers, 'not-a-uuid'), 400, 'validation-failed').errors[0]?.field).toBe('id');
    expect(problem(await list(bank.curator.headers, donor.id, '?limit=0'), 400, 'validation-failed').errors[0]?.field).toBe('limit');
    expect(problem(await list(bank.curator.headers, donor.id, '?limit=501'), 400, 'validation-failed').errors[0]?.field).toBe('limit');
    expect(problem(await list(bank.curator.headers, donor.id, '?cursor=garbage'), 400, 'validation-failed').errors[0]?.field).toBe('cursor');
    expect(problem(await list(bank.curator.headers, donor.id, '?sort=identifier'), 400, 'validation-failed').errors[0]?.field).toBe('sort');
  });
});
