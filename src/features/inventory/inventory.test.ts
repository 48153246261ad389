import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, type SignedIn } from '../../../test/factories.js';
import { expectUnchanged, getSample, json, newCollection, newSample, type CollectionJson, type ReservationJson, type SampleJson } from './inventory.testkit.js';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface LocationJson {
  id: string;
  code: string;
  path: string;
  kind: string;
  children?: LocationJson[];
  occupancy?: Array<{ position: string; sampleId: string; identifier: string }>;
}
interface MovementJson {
  kind: string;
  delta: string;
  reservedDelta: string;
  quantityAfter: string;
  reservedAfter: string;
  reason: string | null;
}

describe(`inventory API on ${engine}`, () => {
  let server: TestServer;
  let admin: SignedIn, curator: SignedIn, chair: SignedIn, applicant: SignedIn, reviewer: SignedIn, auditor: SignedIn;
  let rocks: CollectionJson;
  beforeAll(async () => {
    server = await createTestServer();
    const sign = (roles: Parameters<typeof signIn>[2]) => signIn(server.app, server.context, roles);
    [admin, curator, chair, applicant, reviewer, auditor] = await Promise.all([sign(['admin']), sign(['curator']), sign(['chair']), sign(['applicant']), sign(['reviewer']), sign(['auditor'])]);
    rocks = await newCollection(server.app, curator, { kinds: ['fines', 'chip'] });
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const post = (url: string, who: SignedIn | null, payload: unknown, headers: Record<string, string> = {}) =>
    inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...(who?.headers ?? {}), ...headers }, payload: payload as InjectOptions['payload'] });
  const get = (url: string, who: SignedIn | null) => inject({ method: 'GET', url: `/api/v1${url}`, headers: who?.headers ?? {} });
  const fieldOf = (response: Awaited<ReturnType<typeof inject>>, status: number, type?: string) => problem(response, status, type).errors[0]?.field;
  const sample = (body: Record<string, unknown> = {}) => newSample(server.app, curator, rocks.id, body);
  const movements = async (id: string) => json<Page<MovementJson>>(await get(`/samples/${id}/movements?limit=500`, curator), 200).items;

  describe('collections', () => {
    it('lets an admin or curator create one, and nobody else', async () => {
      const byAdmin = await newCollection(server.app, admin, { unit: 'mL', scale: 3, humanConsent: true });
      expect(byAdmin).toMatchObject({ unit: 'mL', scale: 3, humanConsent: true, kinds: [] });
      for (const who of [chair, applicant, reviewer, auditor]) {
        problem(await post('/collections', who, { code: 'NOPE', name: 'x', unit: 'g', scale: 4, humanConsent: false }), 403, 'forbidden');
      }
      problem(await post('/collections', null, { code: 'NOPE', name: 'x', unit: 'g', scale: 4, humanConsent: false }), 401, 'unauthenticated');
      expect(fieldOf(await post('/collections', curator, { code: rocks.code, name: 'x', unit: 'g', scale: 4, humanConsent: false }), 409, 'duplicate')).toBe('code');
    });

    it('refuses bad collections naming the field', async () => {
      const good = { code: 'GOOD1', name: 'Good', unit: 'g', scale: 4, humanConsent: false };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ scale: 7 }, 'scale'],
        [{ scale: -1 }, 'scale'],
        [{ scale: '4' }, 'scale'],
        [{ scale: 1.5 }, 'scale'],
        [{ unit: 'kg' }, 'unit'],
        [{ unit: 'count', scale: 2 }, 'scale'],
        [{ code: 'has space' }, 'code'],
        [{ code: '' }, 'code'],
        [{ name: '' }, 'name'],
        [{ name: 'x'.repeat(201) }, 'name'],
        [{ humanConsent: 'yes' }, 'humanConsent'],
        [{ kinds: ['a', 'a'] }, 'kinds'],
        [{ institutionId: '00000000-0000-4000-8000-000000000000' }, 'institutionId'],
        [{ extra: 1 }, 'extra'],
      ];
      for (const [change, field] of cases) {
        const response = await post('/collections', curator, { ...good, ...change });
        expect(response.statusCode, JSON.stringify(change)).toBe(400);
        expect(problem(response, 400).errors.map((e) => e.field).join(' '), JSON.stringify(change)).toContain(field);
      }
      problem(await inject({ method: 'POST', url: '/api/v1/collections', headers: { ...curator.headers, 'content-type': 'application/json' }, payload: '{"code":' }), 400, 'malformed-request');
      problem(await inject({ method: 'POST', url: '/api/v1/collections', headers: { ...curator.headers, 'content-type': 'text/plain' }, payload: 'code=X' }), 415, 'unsupported-media-type');
      problem(await get('/collections/GOOD1', curator), 400, 'validation-failed');
      expect((await get('/collections?limit=500', curator)).json().items.some((c: CollectionJson) => c.code === 'GOOD1')).toBe(false);
    });

    it('lists, pages, shows and summarises collections for everyone signed in', async () => {
      await newCollection(server.app, curator);
      for (const who of [admin, curator, chair, applicant, reviewer, auditor]) {
        expect(json<CollectionJson>(await get(`/collections/${rocks.id}`, who), 200).code).toBe(rocks.code);
      }
      problem(await get('/collections', null), 401);
      const first = json<Page<CollectionJson>>(await get('/collections?limit=1', applicant), 200);
      expect(first.items).toHaveLength(1);
      const second = json<Page<CollectionJson>>(await get(`/collections?limit=1&cursor=${first.nextCursor}`, applicant), 200);
      expect(second.items[0]!.code > first.items[0]!.code).toBe(true);
      problem(await get('/collections?limit=0', applicant), 400);
      problem(await get('/collections?cursor=%%%', applicant), 400);
      problem(await get('/collections/00000000-0000-4000-8000-000000000000', applicant), 404, 'not-found');

      const summed = await newCollection(server.app, curator, { scale: 4 });
      await newSample(server.app, curator, summed.id, { kind: 'fines', quantity: '1.2345' });
      await newSample(server.app, curator, summed.id, { kind: 'fines', quantity: '0.0005' });
      const gone = await newSample(server.app, curator, summed.id, { kind: 'chip', quantity: '3' });
      await newSample(server.app, curator, summed.id, { kind: 'chip', quantity: '2' });
      json(await post(`/samples/${gone.id}/destroy`, curator, { reason: 'broken' }), 200);
      expect(json(await get(`/collections/${summed.id}/summary`, applicant), 200)).toEqual({
        samples: 3,
        quantity: '3.2350',
        unit: 'g',
        byKind: { chip: { samples: 1, quantity: '2.0000' }, fines: { samples: 2, quantity: '1.2350' } },
      });
    });
  });

  describe('locations', () => {
    let site: LocationJson, freezer: LocationJson, box: LocationJson;
    beforeAll(async () => {
      site = json<LocationJson>(await post('/locations', curator, { kind: 'site', code: 'LAB', name: 'Lab' }), 201);
      freezer = json<LocationJson>(await post('/locations', admin, { parentId: site.id, kind: 'freezer', code: 'F1', name: 'Freezer 1' }), 201);
      box = json<LocationJson>(await post('/locations', curator, { parentId: freezer.id, kind: 'box', code: 'B1', name: 'Box 1', rows: 2, cols: 3 }), 201);
    });

    it('builds a tree with paths, and only admins and curators change it', async () => {
      expect(box.path).toBe('LAB/F1/B1');
      for (const who of [chair, applicant, reviewer, auditor]) problem(await post('/locations', who, { kind: 'site', code: 'X', name: 'X' }), 403, 'forbidden');
      problem(await post('/locations', null, { kind: 'site', code: 'X', name: 'X' }), 401);
      expect(fieldOf(await post('/locations', curator, { parentId: site.id, kind: 'freezer', code: 'F1', name: 'again' }), 409, 'duplicate')).toBe('code');
    });

    it('refuses bad locations naming the field', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ kind: 'site', code: 'S2', name: 'x', parentId: site.id }, 'parentId'],
        [{ kind: 'rack', code: 'R', name: 'x' }, 'parentId'],
        [{ kind: 'box', code: 'B', name: 'x', parentId: freezer.id }, 'rows'],
        [{ kind: 'rack', code: 'R', name: 'x', parentId: freezer.id, rows: 2, cols: 2 }, 'rows'],
        [{ kind: 'freezer', code: 'F9', name: 'x', parentId: box.id }, 'kind'],
        [{ kind: 'room', code: 'R', name: 'x', parentId: '00000000-0000-4000-8000-000000000000' }, 'parentId'],
        [{ kind: 'closet', code: 'R', name: 'x', parentId: site.id }, 'kind'],
        [{ kind: 'box', code: 'B', name: 'x', parentId: freezer.id, rows: 0, cols: 2 }, 'rows'],
        [{ kind: 'box', code: 'B', name: 'x', parentId: freezer.id, rows: 2, cols: 101 }, 'cols'],
        [{ kind: 'room', code: 'R'.repeat(40), name: 'x', parentId: site.id }, 'code'],
      ];
      for (const [body, field] of cases) expect(fieldOf(await post('/locations', curator, body), 400), JSON.stringify(body)).toBe(field);
      problem(await inject({ method: 'POST', url: '/api/v1/locations', headers: { ...curator.headers, 'content-type': 'application/json' }, payload: '[' }), 400, 'malformed-request');
      const children = json<Page<LocationJson>>(await get(`/locations?parentId=${freezer.id}`, curator), 200).items;
      expect(children.map((c) => c.path)).toEqual(['LAB/F1/B1']);
    });

    it('shows children and box occupancy, one sample per position, to curators, admins and auditors only', async () => {
      const a = await sample({ locationId: box.id, position: 'A1' });
      expect(fieldOf(await post('/samples', curator, { collectionId: rocks.id, kind: 'fines', quantity: '1', locationId: box.id, position: 'A1' }), 409, 'location-occupied')).toBe('position');
      expect(fieldOf(await post('/samples', curator, { collectionId: rocks.id, kind: 'fines', quantity: '1', locationId: box.id, position: 'C1' }), 400)).toBe('position');
      expect(fieldOf(await post('/samples', curator, { collectionId: rocks.id, kind: 'fines', quantity: '1', locationId: freezer.id, position: 'A1' }), 400)).toBe('position');
      const b = await sample({ locationId: box.id, position: 'B3' });
      const detail = json<LocationJson>(await get(`/locations/${box.id}`, auditor), 200);
      expect(detail.occupancy).toEqual([
        { position: 'A1', sampleId: a.id, identifier: a.identifier },
        { position: 'B3', sampleId: b.id, identifier: b.identifier },
      ]);
      expect(json<LocationJson>(await get(`/locations/${freezer.id}`, admin), 200).children!.map((c) => c.code)).toEqual(['B1']);
      expect(json<Page<LocationJson>>(await get('/locations', curator), 200).items.map((l) => l.path)).toContain('LAB');
      for (const who of [chair, applicant, reviewer]) {
        problem(await get(`/locations/${box.id}`, who), 403);
        problem(await get('/locations', who), 403);
      }
      problem(await get('/locations/00000000-0000-4000-8000-000000000000', curator), 404);

      // Moving: into an occupied position is refused and changes nothing; to a free one works.
      expect(fieldOf(await post(`/samples/${b.id}/move`, curator, { locationId: box.id, position: 'A1' }), 409, 'location-occupied')).toBe('position');
      await expectUnchanged(server.app, curator, b);
      for (const who of [chair, applicant, admin, auditor]) problem(await post(`/samples/${b.id}/move`, who, { locationId: box.id, position: 'A2' }), 403);
      const moved = json<SampleJson>(await post(`/samples/${b.id}/move`, curator, { locationId: box.id, position: 'A2', reason: 'reorganised' }), 200);
      expect([moved.locationId, moved.position]).toEqual([box.id, 'A2']);
      expect(fieldOf(await post(`/samples/${b.id}/move`, curator, { locationId: '00000000-0000-4000-8000-000000000000' }), 400)).toBe('locationId');
      expect(fieldOf(await post(`/samples/${b.id}/move`, curator, { locationId: box.id, position: 'a1' }), 400)).toBe('position');
      expect((await movements(b.id)).map((m) => m.kind)).toEqual(['create', 'move']);
    });
  });

  describe('samples', () => {
    it('lets a curator register samples with generated identifiers, and nobody else', async () => {
      const s = await sample({ kind: 'Fines', quantity: '17.4764', attributes: { mission: 'CE5' } });
      expect(s).toMatchObject({ kind: 'fines', quantity: '17.4764', reserved: '0.0000', available: '17.4764', unit: 'g', state: 'available', parentId: null, rootId: s.id, attributes: { mission: 'CE5' } });
      expect(s.identifier).toMatch(new RegExp(`^${rocks.code}\\d{4}$`));
      for (const who of [admin, chair, applicant, reviewer, auditor]) problem(await post('/samples', who, { collectionId: rocks.id, kind: 'fines', quantity: '1' }), 403, 'forbidden');
      problem(await post('/samples', null, { collectionId: rocks.id, kind: 'fines', quantity: '1' }), 401);
      const named = await sample({ identifier: 'CE5C0400' });
      expect(fieldOf(await post('/samples', curator, { collectionId: rocks.id, kind: 'fines', quantity: '1', identifier: 'CE5C0400' }), 409, 'duplicate')).toBe('identifier');
      expect(json<SampleJson>(await get(`/samples/${named.id}`, chair), 200).identifier).toBe('CE5C0400');
    });

    it('refuses bad samples naming the field, and registers nothing', async () => {
      const before = json<Page<SampleJson>>(await get(`/samples?collectionId=${rocks.id}&limit=500`, curator), 200).items.length;
      const good = { collectionId: rocks.id, kind: 'fines', quantity: '1.5' };
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ quantity: '1.00001' }, 'quantity', 'invalid-quantity'],
        [{ quantity: '-1' }, 'quantity', 'invalid-quantity'],
        [{ quantity: '0' }, 'quantity', 'invalid-quantity'],
        [{ quantity: '1e3' }, 'quantity', 'invalid-quantity'],
        [{ quantity: '' }, 'quantity', 'validation-failed'],
        [{ quantity: '9'.repeat(41) }, 'quantity', 'validation-failed'],
        [{ quantity: '9'.repeat(30) }, 'quantity', 'invalid-quantity'],
        [{ quantity: 1.5 }, 'quantity', 'validation-failed'],
        [{ quantity: null }, 'quantity', 'validation-failed'],
        [{ kind: '' }, 'kind', 'validation-failed'],
        [{ kind: 'x'.repeat(65) }, 'kind', 'validation-failed'],
        [{ kind: 'basalt' }, 'kind', 'validation-failed'],
        [{ collectionId: 'rocks' }, 'collectionId', 'validation-failed'],
        [{ collectionId: '00000000-0000-4000-8000-000000000000' }, 'collectionId', 'validation-failed'],
        [{ identifier: 'has space' }, 'identifier', 'validation-failed'],
        [{ identifier: 'x'.repeat(65) }, 'identifier', 'validation-failed'],
        [{ position: 'A1' }, 'position', 'validation-failed'],
        [{ locationId: '00000000-0000-4000-8000-000000000000' }, 'locationId', 'validation-failed'],
        [{ attributes: { deep: { nested: true } } }, 'attributes.deep', 'validation-failed'],
        [{ unknown: true }, 'unknown', 'validation-failed'],
      ];
      for (const [change, field, type] of cases) {
        const response = await post('/samples', curator, { ...good, ...change });
        expect(problem(response, 400, type).errors.map((e) => e.field).join(' '), JSON.stringify(change)).toContain(field);
      }
      problem(await inject({ method: 'POST', url: '/api/v1/samples', headers: { ...curator.headers, 'content-type': 'application/json' }, payload: '{"quantity": "1",' }), 400, 'malformed-request');
      problem(await inject({ method: 'POST', url: '/api/v1/samples', headers: { ...curator.headers, 'content-type': 'text/csv' }, payload: 'a,b' }), 415, 'unsupported-media-type');
      problem(await inject({ method: 'POST', url: '/api/v1/samples', headers: curator.headers }), 400);
      const after = json<Page<SampleJson>>(await get(`/samples?collectionId=${rocks.id}&limit=500`, curator), 200).items.length;
      expect(after).toBe(before);
    });

    it('shows a sample to admins, curators, chairs and auditors, not to applicants or reviewers', async () => {
      const s = await sample();
      for (const who of [admin, curator, chair, auditor]) expect(json<SampleJson>(await get(`/samples/${s.id}`, who), 200).id).toBe(s.id);
      for (const who of [applicant, reviewer]) {
        for (const path of ['', '/movements', '/lineage', '/reservations', '/fhir']) problem(await get(`/samples/${s.id}${path}`, who), 403);
        problem(await get('/samples', who), 403);
      }
      problem(await get(`/samples/${s.id}`, null), 401);
      for (const path of ['', '/movements', '/lineage', '/reservations', '/fhir']) {
        problem(await get(`/samples/00000000-0000-4000-8000-000000000000${path}`, curator), 404, 'not-found');
        expect(fieldOf(await get(`/samples/not-a-uuid${path}`, curator), 400)).toBe('id');
      }
    });

    it('searches by collection, kind, state, location and identifier prefix, paging by identifier', async () => {
      const c = await newCollection(server.app, curator, { code: 'PGX', kinds: [] });
      const made: SampleJson[] = [];
      for (let i = 0; i < 7; i++) made.push(await newSample(server.app, curator, c.id, { kind: i % 2 ? 'odd' : 'even', quantity: '1', identifier: `PG_${i}` }));
      await newSample(server.app, curator, c.id, { kind: 'even', quantity: '1', identifier: 'PGA1' });
      const walk: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Page<SampleJson> = json(await get(`/samples?collectionId=${c.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`, chair), 200);
        walk.push(...page.items.map((s) => s.identifier));
        cursor = page.nextCursor;
      } while (cursor);
      // Byte order ("C"): 'A' (0x41) sorts before '_' (0x5F).
      expect(walk).toEqual(['PGA1', 'PG_0', 'PG_1', 'PG_2', 'PG_3', 'PG_4', 'PG_5', 'PG_6']);
      // '_' in q is a literal, not a LIKE wildcard.
      expect(json<Page<SampleJson>>(await get(`/samples?q=PG_&limit=50`, curator), 200).items.map((s) => s.identifier)).toEqual(['PG_0', 'PG_1', 'PG_2', 'PG_3', 'PG_4', 'PG_5', 'PG_6']);
      expect(json<Page<SampleJson>>(await get(`/samples?collectionId=${c.id}&kind=odd`, curator), 200).items.map((s) => s.identifier)).toEqual(['PG_1', 'PG_3', 'PG_5']);
      json(await post(`/samples/${made[2]!.id}/reservations`, curator, { quantity: '0.5' }), 201);
      expect(json<Page<SampleJson>>(await get(`/samples?collectionId=${c.id}&state=reserved`, auditor), 200).items.map((s) => s.identifier)).toEqual(['PG_2']);
      expect(json<Page<SampleJson>>(await get(`/samples?q=NOTHING`, auditor), 200)).toEqual({ items: [], nextCursor: null });
      for (const bad of ['state=lost', 'limit=0', 'limit=501', 'limit=abc', 'collectionId=x', 'locationId=x', 'cursor=abc', `q=${'x'.repeat(65)}`, 'q=', 'other=1']) {
        const response = await get(`/samples?${bad}`, curator);
        problem(response, 400);
      }
    });
  });

  describe('split', () => {
    it('splits parts and a recorded loss off a sample in the PARENT,SPLIT convention; the parent keeps the remainder', async () => {
      const s = await sample({ identifier: 'CE5C0500', quantity: '10.0000' });
      const result = json<{ parent: SampleJson; children: SampleJson[] }>(
        await post(`/samples/${s.id}/split`, curator, { parts: [{ quantity: '1.5' }, { quantity: '0.25', kind: 'chip' }], loss: '0.0001', reason: 'allocation' }),
        201,
      );
      expect(result.parent.quantity).toBe('8.2499');
      expect(result.children.map((c) => [c.identifier, c.quantity, c.kind, c.parentId, c.rootId])).toEqual([
        ['CE5C0500,0001', '1.5000', 'fines', s.id, s.id],
        ['CE5C0500,0002', '0.2500', 'chip', s.id, s.id],
      ]);
      const grand = json<{ children: SampleJson[] }>(await post(`/samples/${result.children[0]!.id}/split`, curator, { parts: [{ quantity: '0.5', identifier: 'CE5C0500,0100' }, { quantity: '0.5' }], reason: 'again' }), 201);
      expect(grand.children.map((c) => [c.identifier, c.rootId])).toEqual([
        ['CE5C0500,0100', s.id],
        ['CE5C0500,0003', s.id],
      ]);
      const lineage = json<{ ancestors: SampleJson[]; descendants: Array<SampleJson & { depth: number }> }>(await get(`/samples/${grand.children[0]!.id}/lineage`, auditor), 200);
      expect(lineage.ancestors.map((a) => a.identifier)).toEqual(['CE5C0500', 'CE5C0500,0001']);
      const fromRoot = json<{ ancestors: SampleJson[]; descendants: Array<SampleJson & { depth: number }> }>(await get(`/samples/${s.id}/lineage`, chair), 200);
      expect(fromRoot.ancestors).toEqual([]);
      expect(fromRoot.descendants.map((d) => [d.identifier, d.depth])).toEqual([
        ['CE5C0500,0001', 1],
        ['CE5C0500,0002', 1],
        ['CE5C0500,0003', 2],
        ['CE5C0500,0100', 2],
      ]);
      expect((await movements(s.id)).map((m) => [m.kind, m.delta, m.quantityAfter])).toEqual([
        ['create', '10.0000', '10.0000'],
        ['split-out', '-1.5000', '8.5000'],
        ['split-out', '-0.2500', '8.2500'],
        ['loss', '-0.0001', '8.2499'],
      ]);
    });

    it('refuses bad splits naming the field, and changes nothing', async () => {
      const s = await sample({ quantity: '2.0000' });
      json(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.5' }), 201);
      const before = await getSample(server.app, curator, s.id);
      const cases: Array<[unknown, number, string]> = [
        [{ parts: [{ quantity: '1' }, { quantity: '0.00001' }], reason: 'x' }, 400, 'parts.1.quantity'],
        [{ parts: [{ quantity: '1' }], loss: '0.00001', reason: 'x' }, 400, 'loss'],
        [{ parts: [{ quantity: '-1' }], reason: 'x' }, 400, 'parts.0.quantity'],
        [{ parts: [{ quantity: '0' }], reason: 'x' }, 400, 'parts.0.quantity'],
        [{ parts: [{ quantity: 1 }], reason: 'x' }, 400, 'parts.0.quantity'],
        [{ parts: [], reason: 'x' }, 400, 'parts'],
        [{ parts: [{ quantity: '1' }] }, 400, 'reason'],
        [{ parts: [{ quantity: '1' }], reason: '' }, 400, 'reason'],
        [{ parts: [{ quantity: '1' }], reason: 'x'.repeat(2001) }, 400, 'reason'],
        [{ parts: [{ quantity: '1', kind: 'basalt' }], reason: 'x' }, 400, 'parts.0.kind'],
        [{ parts: [{ quantity: '1', identifier: 'A' }, { quantity: '0.1', identifier: 'A' }], reason: 'x' }, 400, 'parts.1.identifier'],
        [{ parts: [{ quantity: '1', identifier: before.identifier }], reason: 'x' }, 409, 'parts.0.identifier'],
        [{ parts: [{ quantity: '1', locationId: '00000000-0000-4000-8000-000000000000' }], reason: 'x' }, 400, 'parts.0.locationId'],
        // 2 held, 0.5 reserved: 1.5 can be split, not 1.5001.
        [{ parts: [{ quantity: '1' }, { quantity: '0.5' }], loss: '0.0001', reason: 'x' }, 409, 'parts'],
        [{ parts: new Array(201).fill({ quantity: '0.0001' }), reason: 'x' }, 400, 'parts'],
      ];
      for (const [body, status, field] of cases) expect(fieldOf(await post(`/samples/${s.id}/split`, curator, body), status), JSON.stringify(body).slice(0, 80)).toBe(field);
      for (const who of [admin, chair, applicant, reviewer, auditor]) problem(await post(`/samples/${s.id}/split`, who, { parts: [{ quantity: '1' }], reason: 'x' }), 403);
      problem(await post(`/samples/${s.id}/split`, null, { parts: [{ quantity: '1' }], reason: 'x' }), 401);
      problem(await post('/samples/00000000-0000-4000-8000-000000000000/split', curator, { parts: [{ quantity: '1' }], reason: 'x' }), 404);
      problem(await inject({ method: 'POST', url: `/api/v1/samples/${s.id}/split`, headers: { ...curator.headers, 'content-type': 'application/json' }, payload: '{"parts":[' }), 400, 'malformed-request');
      problem(await inject({ method: 'POST', url: `/api/v1/samples/${s.id}/split`, headers: { ...curator.headers, 'content-type': 'text/plain' }, payload: 'x' }), 415);
      await expectUnchanged(server.app, curator, before);
      expect((await movements(s.id)).map((m) => m.kind)).toEqual(['create', 'reserve']);
      expect(json<SampleJson>(await post(`/samples/${s.id}/split`, curator, { parts: [{ quantity: '1' }, { quantity: '0.5' }], reason: 'exactly the rest' }), 201)).toBeDefined();
    });
  });

  describe('reservations', () => {
    it('reserves, says how much is available when there is not enough, and releases', async () => {
      const s = await sample({ quantity: '1.0000' });
      const r = json<ReservationJson>(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.6', note: 'for app 1' }), 201);
      expect(r).toMatchObject({ sampleId: s.id, quantity: '0.6000', state: 'active' });
      const refused = problem(await post(`/samples/${s.id}/reservations`, chair, { quantity: '0.4001' }), 409, 'insufficient-quantity');
      expect(refused.detail).toContain('0.4000 g available');
      expect(refused.errors[0]).toEqual({ field: 'quantity', message: 'at most 0.4000 g is available' });
      const r2 = json<ReservationJson>(await post(`/samples/${s.id}/reservations`, chair, { quantity: '0.4' }), 201);
      expect(await getSample(server.app, curator, s.id)).toMatchObject({ quantity: '1.0000', reserved: '1.0000', available: '0.0000', state: 'reserved' });
      const list = json<Page<ReservationJson>>(await get(`/samples/${s.id}/reservations`, auditor), 200);
      expect(list.items.map((x) => x.id)).toEqual([r.id, r2.id]);
      for (const who of [admin, applicant, reviewer, auditor]) {
        problem(await post(`/samples/${s.id}/reservations`, who, { quantity: '0.1' }), 403);
        problem(await inject({ method: 'DELETE', url: `/api/v1/reservations/${r.id}`, headers: who.headers }), 403);
      }
      problem(await inject({ method: 'DELETE', url: `/api/v1/reservations/${r.id}` }), 401);
      expect(json<ReservationJson>(await inject({ method: 'DELETE', url: `/api/v1/reservations/${r.id}`, headers: chair.headers }), 200).state).toBe('released');
      problem(await inject({ method: 'DELETE', url: `/api/v1/reservations/${r.id}`, headers: chair.headers }), 409, 'invalid-state');
      problem(await inject({ method: 'DELETE', url: '/api/v1/reservations/00000000-0000-4000-8000-000000000000', headers: chair.headers }), 404);
      expect(fieldOf(await inject({ method: 'DELETE', url: '/api/v1/reservations/nope', headers: chair.headers }), 400)).toBe('id');
      expect(await getSample(server.app, curator, s.id)).toMatchObject({ reserved: '0.4000', available: '0.6000', state: 'reserved' });
      expect((await movements(s.id)).map((m) => [m.kind, m.reservedDelta, m.reservedAfter])).toEqual([
        ['create', '0.0000', '0.0000'],
        ['reserve', '0.6000', '0.6000'],
        ['reserve', '0.4000', '1.0000'],
        ['release', '-0.6000', '0.4000'],
      ]);
    });

    it('refuses bad reservations naming the field, and changes nothing', async () => {
      const s = await sample({ quantity: '1.0000' });
      const cases: Array<[unknown, number, string]> = [
        [{ quantity: '0.00001' }, 400, 'quantity'],
        [{ quantity: '-0.1' }, 400, 'quantity'],
        [{ quantity: '0' }, 400, 'quantity'],
        [{ quantity: 0.1 }, 400, 'quantity'],
        [{ quantity: '' }, 400, 'quantity'],
        [{ quantity: 'x'.repeat(100) }, 400, 'quantity'],
        [{ quantity: '0.1', applicationId: 'abc' }, 400, 'applicationId'],
        [{ quantity: '0.1', note: 'x'.repeat(1001) }, 400, 'note'],
        [{}, 400, 'quantity'],
        [{ quantity: '1.0001' }, 409, 'quantity'],
      ];
      for (const [body, status, field] of cases) expect(fieldOf(await post(`/samples/${s.id}/reservations`, curator, body), status), JSON.stringify(body).slice(0, 60)).toBe(field);
      problem(await post('/samples/00000000-0000-4000-8000-000000000000/reservations', curator, { quantity: '0.1' }), 404);
      problem(await inject({ method: 'POST', url: `/api/v1/samples/${s.id}/reservations`, headers: { ...curator.headers, 'content-type': 'application/json' }, payload: 'quantity' }), 400, 'malformed-request');
      problem(await inject({ method: 'POST', url: `/api/v1/samples/${s.id}/reservations`, headers: { ...curator.headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'quantity=1' }), 415);
      await expectUnchanged(server.app, curator, s);
      const quarantined = json<SampleJson>(await post(`/samples/${s.id}/state`, curator, { state: 'quarantined', reason: 'consent withdrawn' }), 200);
      problem(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.1' }), 409, 'invalid-state');
      await expectUnchanged(server.app, curator, quarantined);
    });

    it('replays an Idempotency-Key and changes nothing more; the same key with another body is refused', async () => {
      const s = await sample({ quantity: '1.0000' });
      const headers = { 'idempotency-key': 'reserve-once-1' };
      const first = json<ReservationJson>(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.3' }, headers), 201);
      const again = json<ReservationJson>(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.3' }, headers), 201);
      expect(again).toEqual(first);
      expect((await getSample(server.app, curator, s.id)).reserved).toBe('0.3000');
      problem(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.4' }, headers), 422, 'idempotency-key-reuse');
      // Every quantity-changing request honours the key.
      const split1 = json(await post(`/samples/${s.id}/split`, curator, { parts: [{ quantity: '0.1' }], reason: 'r' }, { 'idempotency-key': 'split-1' }), 201);
      expect(json(await post(`/samples/${s.id}/split`, curator, { parts: [{ quantity: '0.1' }], reason: 'r' }, { 'idempotency-key': 'split-1' }), 201)).toEqual(split1);
      for (const [path, body] of [
        ['consume', { quantity: '0.1', reason: 'used' }],
        ['adjust', { delta: '0.05', reason: 'reweighed' }],
      ] as const) {
        const one = json(await post(`/samples/${s.id}/${path}`, curator, body, { 'idempotency-key': `${path}-1` }), 200);
        expect(json(await post(`/samples/${s.id}/${path}`, curator, body, { 'idempotency-key': `${path}-1` }), 200)).toEqual(one);
      }
      const released = json(await inject({ method: 'DELETE', url: `/api/v1/reservations/${first.id}`, headers: { ...curator.headers, 'idempotency-key': 'release-1' } }), 200);
      expect(json(await inject({ method: 'DELETE', url: `/api/v1/reservations/${first.id}`, headers: { ...curator.headers, 'idempotency-key': 'release-1' } }), 200)).toEqual(released);
      expect(await getSample(server.app, curator, s.id)).toMatchObject({ quantity: '0.8500', reserved: '0.0000' });
      expect((await movements(s.id)).map((m) => m.kind)).toEqual(['create', 'reserve', 'split-out', 'consume', 'adjust', 'release']);
      problem(await post(`/samples/${s.id}/consume`, curator, { quantity: '0.1', reason: 'x' }, { 'idempotency-key': '' }), 400);
    });
  });

  describe('consume, adjust, destroy, state', () => {
    it('consumes unreserved material; at zero the sample is consumed', async () => {
      const s = await sample({ quantity: '1.0000' });
      json(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.2' }), 201);
      expect(fieldOf(await post(`/samples/${s.id}/consume`, curator, { quantity: '0.8001', reason: 'x' }), 409, 'insufficient-quantity')).toBe('quantity');
      for (const [body, field] of [
        [{ quantity: '0.00001', reason: 'x' }, 'quantity'],
        [{ quantity: '-1', reason: 'x' }, 'quantity'],
        [{ quantity: '0.1' }, 'reason'],
        [{ quantity: '0.1', reason: '   ' }, 'reason'],
      ] as const) {
        expect(fieldOf(await post(`/samples/${s.id}/consume`, curator, body), 400)).toBe(field);
      }
      for (const who of [admin, chair, applicant, reviewer, auditor]) problem(await post(`/samples/${s.id}/consume`, who, { quantity: '0.1', reason: 'x' }), 403);
      problem(await post('/samples/00000000-0000-4000-8000-000000000000/consume', curator, { quantity: '0.1', reason: 'x' }), 404);
      expect(json<SampleJson>(await post(`/samples/${s.id}/consume`, curator, { quantity: '0.8', reason: 'analysis' }), 200)).toMatchObject({ quantity: '0.2000', reserved: '0.2000', state: 'reserved' });
      const t = await sample({ quantity: '0.5' });
      expect(json<SampleJson>(await post(`/samples/${t.id}/consume`, curator, { quantity: '0.5', reason: 'all of it' }), 200)).toMatchObject({ quantity: '0.0000', state: 'consumed' });
      problem(await post(`/samples/${t.id}/consume`, curator, { quantity: '0.1', reason: 'x' }), 409, 'invalid-state');
    });

    it('adjusts by a signed delta with a reason (curator only), never below what is reserved', async () => {
      const s = await sample({ quantity: '1.0000' });
      json(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.5' }), 201);
      expect(json<SampleJson>(await post(`/samples/${s.id}/adjust`, curator, { delta: '-0.0003', reason: 'reweighed' }), 200).quantity).toBe('0.9997');
      expect(json<SampleJson>(await post(`/samples/${s.id}/adjust`, curator, { delta: '0.0013', reason: 'reweighed' }), 200).quantity).toBe('1.0010');
      const before = await getSample(server.app, curator, s.id);
      expect(fieldOf(await post(`/samples/${s.id}/adjust`, curator, { delta: '-0.5011', reason: 'x' }), 409, 'insufficient-quantity')).toBe('delta');
      for (const [body, field] of [
        [{ delta: '-0.00001', reason: 'x' }, 'delta'],
        [{ delta: '0', reason: 'x' }, 'delta'],
        [{ delta: '--1', reason: 'x' }, 'delta'],
        [{ delta: 1, reason: 'x' }, 'delta'],
        [{ delta: '0.1' }, 'reason'],
        [{ delta: '0.1', reason: '' }, 'reason'],
      ] as const) {
        expect(fieldOf(await post(`/samples/${s.id}/adjust`, curator, body), 400), JSON.stringify(body)).toBe(field);
      }
      for (const who of [admin, chair, applicant, reviewer, auditor]) problem(await post(`/samples/${s.id}/adjust`, who, { delta: '0.1', reason: 'x' }), 403);
      await expectUnchanged(server.app, curator, before);
      const m = await movements(s.id);
      expect(m.slice(-2).map((x) => [x.kind, x.delta, x.reason])).toEqual([
        ['adjust', '-0.0003', 'reweighed'],
        ['adjust', '0.0013', 'reweighed'],
      ]);
    });

    it('destroys what is left, refused while reserved; quarantine blocks reservation and split', async () => {
      const s = await sample({ quantity: '1.0000' });
      const r = json<ReservationJson>(await post(`/samples/${s.id}/reservations`, curator, { quantity: '0.5' }), 201);
      problem(await post(`/samples/${s.id}/destroy`, curator, { reason: 'contaminated' }), 409, 'invalid-state');
      expect(fieldOf(await post(`/samples/${s.id}/destroy`, curator, {}), 400)).toBe('reason');
      for (const who of [admin, chair, applicant, reviewer, auditor]) problem(await post(`/samples/${s.id}/destroy`, who, { reason: 'x' }), 403);
      json(await inject({ method: 'DELETE', url: `/api/v1/reservations/${r.id}`, headers: curator.headers }), 200);
      expect(json<SampleJson>(await post(`/samples/${s.id}/destroy`, curator, { reason: 'contaminated' }), 200)).toMatchObject({ quantity: '0.0000', state: 'destroyed' });
      problem(await post(`/samples/${s.id}/destroy`, curator, { reason: 'again' }), 409, 'invalid-state');
      expect((await movements(s.id)).at(-1)).toMatchObject({ kind: 'destroy', delta: '-1.0000', quantityAfter: '0.0000' });

      const q = await sample({ quantity: '1.0000' });
      for (const who of [admin, chair, applicant, reviewer, auditor]) problem(await post(`/samples/${q.id}/state`, who, { state: 'quarantined', reason: 'x' }), 403);
      expect(fieldOf(await post(`/samples/${q.id}/state`, curator, { state: 'destroyed', reason: 'x' }), 400)).toBe('state');
      expect(fieldOf(await post(`/samples/${q.id}/state`, curator, { state: 'quarantined' }), 400)).toBe('reason');
      json(await post(`/samples/${q.id}/state`, curator, { state: 'quarantined', reason: 'consent withdrawn' }), 200);
      problem(await post(`/samples/${q.id}/split`, curator, { parts: [{ quantity: '0.1' }], reason: 'x' }), 409, 'invalid-state');
      problem(await post(`/samples/${q.id}/reservations`, curator, { quantity: '0.1' }), 409, 'invalid-state');
      expect(json<SampleJson>(await post(`/samples/${q.id}/state`, curator, { state: 'available', reason: 'cleared' }), 200).state).toBe('available');
    });
  });

  describe('movements and FHIR', () => {
    it('pages the movements oldest first', async () => {
      const s = await sample({ quantity: '1.0000' });
      for (let i = 0; i < 4; i++) json(await post(`/samples/${s.id}/adjust`, curator, { delta: `0.000${i + 1}`, reason: `step ${i}` }), 200);
      const one = json<Page<MovementJson>>(await get(`/samples/${s.id}/movements?limit=2`, auditor), 200);
      const two = json<Page<MovementJson>>(await get(`/samples/${s.id}/movements?limit=2&cursor=${one.nextCursor}`, auditor), 200);
      const three = json<Page<MovementJson>>(await get(`/samples/${s.id}/movements?limit=2&cursor=${two.nextCursor}`, auditor), 200);
      expect([...one.items, ...two.items, ...three.items].map((m) => m.reason)).toEqual([null, 'step 0', 'step 1', 'step 2', 'step 3']);
      expect(three.nextCursor).toBeNull();
      problem(await get(`/samples/${s.id}/movements?cursor=${Buffer.from('x').toString('base64url')}`, auditor), 400);
    });

    it('answers a FHIR R4 Specimen with the exact quantity', async () => {
      const s = await sample({ quantity: '17.4764', kind: 'fines' });
      const child = json<{ children: SampleJson[] }>(await post(`/samples/${s.id}/split`, curator, { parts: [{ quantity: '0.0001' }], reason: 'x' }), 201).children[0]!;
      const response = await get(`/samples/${child.id}/fhir`, auditor);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(response.body).toContain('"value":0.0001');
      const fhir = response.json();
      expect(fhir).toMatchObject({ resourceType: 'Specimen', id: child.id, status: 'available', type: { text: 'fines' }, parent: [{ reference: `Specimen/${s.id}` }] });
      expect(fhir.identifier).toEqual([{ system: 'urn:samplebank:sample-identifier', value: child.identifier }]);
      expect((await get(`/samples/${s.id}/fhir`, curator)).body).toContain('"value":17.4763');
    });
  });
});
