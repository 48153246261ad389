import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problem, signIn, type SignedIn } from '../../../../test/factories.js';
import { createTestServer, engine, type TestServer } from '../../../../test/harness.js';
import { insertCollection, multipart, quantitiesOf, waitForJob } from '../import/import.testkit.js';

describe(`sample export over the API on ${engine}`, () => {
  let server: TestServer;
  let curator: SignedIn;
  let collection: { id: string; code: string };
  const tag = crypto.randomBytes(3).toString('hex');
  const id = (name: string): string => `${name}-${tag}`;
  beforeAll(async () => {
    server = await createTestServer();
    curator = await signIn(server.app, server.context, ['curator']);
    collection = await insertCollection(server.context, { unit: 'mL', scale: 3 });
    const db = server.context.handle.db;
    const site = crypto.randomUUID();
    const freezer = crypto.randomUUID();
    await db.insertInto('locations').values([
      { id: site, parent_id: null, kind: 'site', code: 'SITE1', name: 'Site' },
      { id: freezer, parent_id: site, kind: 'freezer', code: 'F2', name: 'Freezer' },
    ]).execute();
    const csv = [
      'ID,Kind,mL,From,Where,Donor,Note',
      `${id('P')},plasma,10.125,,SITE1/F2,D-17,"comma, and ""quotes"""`,
      `${id('C')},plasma,0.001,${id('P')},F2,D-17,`,
      `${id('Q')},serum,123456789.999,,,,`,
    ].join('\n');
    const body = multipart({ collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'Kind', quantity: 'mL', parent: 'From', location: 'Where' }) }, { name: 's.csv', content: csv });
    const response = await server.app.inject({ method: 'POST', url: '/api/v1/imports', headers: { ...curator.headers, ...body.headers }, payload: body.payload });
    const job = await waitForJob(server.app, curator.headers, (response.json() as { jobId: string }).jobId);
    if (job.state !== 'succeeded') throw new Error(JSON.stringify(job));
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);

  it('streams every sample as CSV with exact quantities, parents, location paths and attribute columns', async () => {
    const response = await inject({ method: 'GET', url: `/api/v1/samples/export?collectionId=${collection.id}&format=csv`, headers: curator.headers });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.headers['content-disposition']).toContain(`${collection.code}-samples.csv`);
    const rows = parse(response.body, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toEqual([
      { identifier: id('C'), kind: 'plasma', quantity: '0.001', unit: 'mL', state: 'available', parent: id('P'), location: 'SITE1/F2', position: '', Donor: 'D-17', Note: '' },
      { identifier: id('P'), kind: 'plasma', quantity: '10.125', unit: 'mL', state: 'available', parent: '', location: 'SITE1/F2', position: '', Donor: 'D-17', Note: 'comma, and "quotes"' },
      { identifier: id('Q'), kind: 'serum', quantity: '123456789.999', unit: 'mL', state: 'available', parent: '', location: '', position: '', Donor: '', Note: '' },
    ]);
  });

  it('streams XLSX with quantities as text cells, and the file imports back with the same quantities', async () => {
    const response = await inject({ method: 'GET', url: `/api/v1/samples/export?collectionId=${collection.id}&format=xlsx`, headers: curator.headers });
    expect(response.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(response.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.getRow(1).values).toEqual([undefined, 'identifier', 'kind', 'quantity', 'unit', 'state', 'parent', 'location', 'position', 'Donor', 'Note']);
    expect(sheet.getRow(4).getCell(3).value).toBe('123456789.999');

    // Round trip: identifiers are unique in a deployment, so the copy gets new ones through a rewritten identifier column.
    const file = path.join(os.tmpdir(), `sb-export-${tag}.xlsx`);
    sheet.eachRow((row, n) => {
      if (n === 1) return;
      for (const column of [1, 6]) {
        const value = row.getCell(column).value;
        if (value) row.getCell(column).value = `${String(value)}-copy`;
      }
    });
    await workbook.xlsx.writeFile(file);
    const copy = await insertCollection(server.context, { unit: 'mL', scale: 3 });
    const body = multipart(
      { collectionId: copy.id, mapping: JSON.stringify({ identifier: 'identifier', kind: 'kind', quantity: 'quantity', parent: 'parent', location: 'location' }), ignore: 'unit,state,position' },
      { name: 'copy.xlsx', content: fs.readFileSync(file) },
    );
    fs.rmSync(file, { force: true });
    const started = await inject({ method: 'POST', url: '/api/v1/imports', headers: { ...curator.headers, ...body.headers }, payload: body.payload });
    const job = await waitForJob(server.app, curator.headers, (started.json() as { jobId: string }).jobId);
    expect(job.state, JSON.stringify(job)).toBe('succeeded');
    const original = await quantitiesOf(server.context, collection.id);
    const copied = await quantitiesOf(server.context, copy.id);
    expect(new Map([...copied].map(([k, v]) => [k.replace(/-copy$/, ''), v]))).toEqual(original);
    const child = await server.context.handle.db.selectFrom('samples').select(['parent_id', 'location_id']).where('identifier', '=', `${id('C')}-copy`).executeTakeFirstOrThrow();
    const parent = await server.context.handle.db.selectFrom('samples').select(['id', 'location_id']).where('identifier', '=', `${id('P')}-copy`).executeTakeFirstOrThrow();
    expect(child.parent_id).toBe(parent.id);
    expect(child.location_id).toBe(parent.location_id);
  });

  it('lets curators, admins and auditors export, and nobody else', async () => {
    const url = `/api/v1/samples/export?collectionId=${collection.id}`;
    for (const role of ['admin', 'auditor'] as const) {
      const who = await signIn(server.app, server.context, [role]);
      expect((await inject({ method: 'GET', url, headers: who.headers })).statusCode).toBe(200);
    }
    for (const role of ['applicant', 'reviewer', 'chair'] as const) {
      const who = await signIn(server.app, server.context, [role]);
      problem(await inject({ method: 'GET', url, headers: who.headers }), 403, 'forbidden');
    }
    problem(await inject({ method: 'GET', url }), 401, 'unauthenticated');
    problem(await inject({ method: 'GET', url: `${url}&format=pdf`, headers: curator.headers }), 400, 'validation-failed');
    problem(await inject({ method: 'GET', url: '/api/v1/samples/export?collectionId=00000000-0000-4000-8000-000000000000', headers: curator.headers }), 404, 'not-found');
  });
});
