/** The pathology demo builds through the services: counts, the withdrawal and its consequences, the network call. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { createTestServer, type TestServer } from '../../../test/harness.js';
import { buildPathologyDemo, type PathologyDemo } from './demo.js';
import { eligibleSamples } from './eligibility.service.js';

let server: TestServer;
let demo: PathologyDemo;

beforeAll(async () => {
  server = await createTestServer();
  demo = await buildPathologyDemo(server.context.services, { donors: 8, seed: 7 });
}, 300_000);

afterAll(async () => {
  await server.close();
});

describe('pathology demo', () => {
  it('builds donors, specimens and subsamples in a human collection held by the first university', async () => {
    expect(demo).toMatchObject({ donors: 8, specimens: 48, samples: 72 });
    const { db } = server.context.handle;
    const count = await db.selectFrom('samples').select((eb) => eb.fn.countAll<string>().as('n')).where('collection_id', '=', demo.collectionId).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(72);
    expect(demo.accounts.map((a) => a.email)).toContain('pathology-curator@demo.samplebank.test');
  });

  it("quarantines the withdrawn donor's material, which no application may then receive", async () => {
    const { db } = server.context.handle;
    const theirs = await db.selectFrom('samples').select(['id', 'state', 'consent_withdrawn']).where('root_id', 'in', db.selectFrom('specimens').select('sample_id').where('donor_id', '=', demo.withdrawnDonorId)).execute();
    expect(theirs).toHaveLength(9);
    expect(demo.quarantined).toBe(9);
    expect(theirs.every((s) => s.state === 'quarantined' && s.consent_withdrawn)).toBe(true);
    const result = await eligibleSamples(db, { applicationId: demo.applications[0]! }, theirs.map((s) => s.id));
    expect(result.eligible).toEqual([]);
  });

  it('opens a call to the three universities of the network, with an application from each', async () => {
    const call = await server.context.services.calls.get(systemActor, demo.callId);
    expect(call.state).toBe('open');
    expect(new Set(call.eligibleInstitutionIds)).toEqual(new Set(demo.institutions.map((i) => i.id)));
    const rows = await server.context.handle.db.selectFrom('applications').select(['institution_id', 'state', 'ethics_reference']).where('call_id', '=', demo.callId).execute();
    expect(new Set(rows.map((r) => r.institution_id))).toEqual(new Set(demo.institutions.map((i) => i.id)));
    expect(rows.every((r) => r.state === 'submitted' && r.ethics_reference)).toBe(true);
    const catalog = await server.context.services.networks.catalog(systemActor, demo.networkId);
    expect(catalog.collections[0]?.availability.withdrawn).toBe(9);
  });
});
