import fs from 'node:fs';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash, GENESIS } from '../../../core/audit-chain.js';
import { problem, signIn, type SignedIn } from '../../../../test/factories.js';
import { createTestServer, engine, type TestServer } from '../../../../test/harness.js';
import { APOLLO, APOLLO16, insertCollection, multipart, quantitiesOf, readCsv, units, waitForJob } from './import.testkit.js';

describe(`sample import over the API on ${engine}`, () => {
  let server: TestServer;
  let curator: SignedIn;
  let admin: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    curator = await signIn(server.app, server.context, ['curator']);
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const upload = (who: SignedIn | null, fields: Record<string, string>, file?: { name: string; content: Buffer | string }) => {
    const body = multipart(fields, file);
    return inject({ method: 'POST', url: '/api/v1/imports', headers: { ...(who?.headers ?? {}), ...body.headers }, payload: body.payload });
  };
  const startImport = async (who: SignedIn, fields: Record<string, string>, file: { name: string; content: Buffer | string }) => {
    const response = await upload(who, fields, file);
    expect(response.statusCode, response.body).toBe(202);
    return waitForJob(server.app, who.headers, (response.json() as { jobId: string }).jobId);
  };
  const apolloMapping = JSON.stringify({ identifier: 'ID', kind: 'Type', quantity: 'Weight (g)' });
  const apollo16Mapping = JSON.stringify({ identifier: 'GENERIC', kind: 'SAMPLETYPE', quantity: 'ORIGINALWEIGHT' });

  it('imports every Apollo sample with every gram exact, zero-weight rows only when asked for', async () => {
    const collection = await insertCollection(server.context, { unit: 'g', scale: 4 });
    const file = { name: 'apollo-rocksamples.csv', content: fs.readFileSync(APOLLO) };
    const rows = readCsv(APOLLO);
    const zeroRows = rows.flatMap((r, i) => (units(r['Weight (g)']!, 4) === 0n ? [i + 1] : []));
    expect(zeroRows.length).toBe(35);

    // By default a row without material is an error, so nothing is imported and each such row is named.
    const refused = await startImport(curator, { collectionId: collection.id, mapping: apolloMapping }, file);
    expect(refused.state).toBe('failed');
    expect(refused.result!.imported).toBe(0);
    expect(refused.result!.errors.map((e) => e.row)).toEqual(zeroRows);
    expect(refused.result!.errors.every((e) => e.column === 'Weight (g)' && /zero/.test(e.message))).toBe(true);
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);

    const job = await startImport(curator, { collectionId: collection.id, mapping: apolloMapping, allowZero: 'true' }, file);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result!.imported).toBe(rows.length);
    const stored = await quantitiesOf(server.context, collection.id);
    expect(stored.size).toBe(rows.length);
    let expected = 0n;
    for (const row of rows) {
      const want = units(row['Weight (g)']!, 4);
      expected += want;
      expect(stored.get(row.ID!), row.ID).toBe(want);
    }
    const total = [...stored.values()].reduce((a, b) => a + b, 0n);
    expect(total).toBe(expected);
    expect(units(job.result!.quantity, 4)).toBe(expected);

    // Unmapped columns are attributes, verbatim (casing included).
    const sample = await server.context.handle.db.selectFrom('samples').selectAll().where('identifier', '=', '60001').executeTakeFirstOrThrow();
    expect(sample.attributes).toEqual({ Mission: 'Apollo16', Subtype: 'unsieved', 'Pristine (%)': '45.49' });
    expect(sample.kind).toBe('Core');
  });

  it('reports every identifier of the second Apollo file that is already registered, or skips them only when asked', async () => {
    const collection = await insertCollection(server.context, { unit: 'g', scale: 4 });
    const rows = readCsv(APOLLO16);
    const file = { name: 'apollo16-samples.csv', content: fs.readFileSync(APOLLO16) };
    const registered = new Set(readCsv(APOLLO).map((r) => r.ID!));
    const duplicateRows = rows.flatMap((r, i) => (registered.has(r.GENERIC!) ? [i + 1] : []));
    expect(duplicateRows.length).toBe(767);
    const before = await quantitiesOf(server.context, (await server.context.handle.db.selectFrom('samples').select('collection_id').where('identifier', '=', '61505').executeTakeFirstOrThrow()).collection_id);

    const refused = await startImport(curator, { collectionId: collection.id, mapping: apollo16Mapping, allowZero: 'true' }, file);
    expect(refused.state).toBe('failed');
    expect(refused.result!.errorCount).toBe(767);
    expect(refused.result!.errors.map((e) => e.row)).toEqual(duplicateRows);
    expect(refused.result!.errors[0]).toMatchObject({ column: 'GENERIC', message: expect.stringContaining('already registered') });
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);

    const job = await startImport(curator, { collectionId: collection.id, mapping: apollo16Mapping, allowZero: 'true', skipExisting: 'true' }, file);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result!.imported).toBe(rows.length - 767);
    expect(job.result!.skipped).toBe(767);
    expect(job.result!.skippedRows.map((s) => s.row)).toEqual(duplicateRows);
    const stored = await quantitiesOf(server.context, collection.id);
    let expected = 0n;
    for (const row of rows.filter((r) => !registered.has(r.GENERIC!))) {
      expected += units(row.ORIGINALWEIGHT!, 4);
      expect(stored.get(row.GENERIC!)).toBe(units(row.ORIGINALWEIGHT!, 4));
    }
    expect([...stored.values()].reduce((a, b) => a + b, 0n)).toBe(expected);
    // The registered samples keep their own weights: nothing was overwritten (61505 is 1.65 g there, 1.651 g here).
    const after = await server.context.handle.db.selectFrom('samples').select(['quantity', 'collection_id']).where('identifier', '=', '61505').executeTakeFirstOrThrow();
    expect(BigInt(after.quantity)).toBe(before.get('61505'));
    expect(BigInt(after.quantity)).toBe(16500n);
  });

  it('writes one create movement and one chained audit event per imported sample', async () => {
    const collection = await insertCollection(server.context, { unit: 'mg', scale: 1, kinds: ['blood', 'serum'] });
    const csv = 'id,what,mg,from,note\nL-1,Blood,10.5,,first\nL-2,serum,2.5,L-1,\nL-3,SERUM,1.0,L-2,x\n';
    const job = await startImport(curator, { collectionId: collection.id, mapping: JSON.stringify({ identifier: 'id', kind: 'what', quantity: 'mg', parent: 'from' }) }, { name: 'l.csv', content: csv });
    expect(job.state, JSON.stringify(job)).toBe('succeeded');
    const db = server.context.handle.db;
    const samples = await db.selectFrom('samples').selectAll().where('collection_id', '=', collection.id).orderBy('identifier').execute();
    expect(samples.map((s) => [s.identifier, s.kind, s.quantity])).toEqual([
      ['L-1', 'blood', '105'],
      ['L-2', 'serum', '25'],
      ['L-3', 'serum', '10'],
    ]);
    const [one, two, three] = samples as [(typeof samples)[0], (typeof samples)[0], (typeof samples)[0]];
    expect(two.parent_id).toBe(one.id);
    expect(three.parent_id).toBe(two.id);
    expect(new Set(samples.map((s) => s.root_id))).toEqual(new Set([one.id]));
    const movements = await db.selectFrom('movements').selectAll().where('root_id', '=', one.id).execute();
    expect(movements.map((m) => [m.kind, m.delta, m.quantity_after]).sort()).toEqual([
      ['create', '10', '10'],
      ['create', '105', '105'],
      ['create', '25', '25'],
    ]);

    const events = await db.selectFrom('audit_events').selectAll().where('stream', '=', `import:${job.id}`).orderBy('seq').execute();
    expect(events.map((e) => e.entity_id)).toEqual([one.id, two.id, three.id]);
    let prev = GENESIS;
    for (const e of events) {
      expect(e.prev_hash).toBe(prev);
      const hash = eventHash(prev, {
        id: e.id, stream: e.stream, seq: BigInt(e.seq), occurredAt: e.occurred_at.toISOString(), actorId: e.actor_id,
        action: e.action, entityType: e.entity_type, entityId: e.entity_id, data: e.data, requestId: e.request_id,
      });
      expect(hash).toBe(e.hash);
      prev = hash;
    }
    expect(events[0]!.actor_id).toBe(curator.user.id);
    const head = await db.selectFrom('audit_streams').selectAll().where('stream', '=', `import:${job.id}`).executeTakeFirstOrThrow();
    expect([head.seq, head.head_hash]).toEqual(['3', prev]);
    const verify = await inject({ method: 'GET', url: '/api/v1/audit/verify', headers: admin.headers });
    expect(verify.json()).toMatchObject({ ok: true });
  });

  it('stores attributes exactly as the file has them, whatever characters they hold, and the chain verifies', async () => {
    const collection = await insertCollection(server.context, { unit: 'g', scale: 2 });
    const nasty = [
      'tab\there',
      'line\nbreak',
      'windows\r\nline',
      'back\\slash \\N \\. \\t \\x41 \\101 ends\\',
      '{"json": "with \\"quotes\\", \\\\ and \\n", "n": [1, null]}',
      '"quoted", \'single\'',
      '中文 日本語 한국어 🧪🌕 é',
      'form\ffeed vertical\vtab back\bspace \u0001 \u007f',
      '\u2028\u2029 \u202e \u200b',
    ];
    const header = ['ID', 'Kind', 'Grams', ...nasty.map((v, i) => `#${i} ${v}`)];
    const quote = (cell: string): string => `"${cell.replaceAll('"', '""')}"`;
    const rows = Array.from({ length: 1500 }, (_, r) => [`N-${r}`, r % 2 ? '玄武岩' : 'rock\\soil', '1.25', ...nasty.map((v, i) => ((r + i) % 3 === 0 ? '' : `${v} ${r}`))]);
    const csv = [header, ...rows].map((cells) => cells.map(quote).join(',')).join('\r\n');
    const job = await startImport(curator, { collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'Kind', quantity: 'Grams' }) }, { name: 'nasty.csv', content: csv });
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result!.imported).toBe(1500);

    const db = server.context.handle.db;
    const stored = await db.selectFrom('samples').select(['identifier', 'kind', 'attributes']).where('collection_id', '=', collection.id).execute();
    const byIdentifier = new Map(stored.map((s) => [s.identifier, s]));
    expect(byIdentifier.size).toBe(1500);
    for (const [identifier, kind, , ...values] of rows) {
      const expected = Object.fromEntries(values.flatMap((v, i) => (v === '' ? [] : [[header[i + 3]!, v]])));
      expect(byIdentifier.get(identifier!)).toEqual({ identifier, kind, attributes: expected });
    }
    const events = await db.selectFrom('audit_events').select(['data']).where('stream', '=', `import:${job.id}`).orderBy('seq').execute();
    expect(events.map((e) => (e.data as { identifier: string; kind: string }).kind)).toEqual(rows.map((r) => r[1]));
    const verify = await inject({ method: 'GET', url: '/api/v1/audit/verify', headers: admin.headers });
    expect(verify.json()).toMatchObject({ ok: true });
  });

  it('writes nothing at all when the database refuses a row of a later batch, and imports again afterwards', async () => {
    const collection = await insertCollection(server.context, { unit: 'g', scale: 2 });
    const mapping = JSON.stringify({ identifier: 'ID', kind: 'Kind', quantity: 'Grams' });
    const lines = Array.from({ length: 12_000 }, (_, r) => `F-${r},rock,1,${r === 11_000 ? 'nul \u0000 here' : `note ${r}`}`);
    const failed = await startImport(curator, { collectionId: collection.id, mapping }, { name: 'f.csv', content: `ID,Kind,Grams,Note\n${lines.join('\n')}\n` });
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ type: 'internal-error' });
    const db = server.context.handle.db;
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);
    expect(await db.selectFrom('audit_events').select('id').where('stream', '=', `import:${failed.id}`).execute()).toEqual([]);
    expect(await db.selectFrom('movements').select('id').where('reason', '=', `import ${failed.id}`).execute()).toEqual([]);

    const again = await startImport(curator, { collectionId: collection.id, mapping }, { name: 'f.csv', content: `ID,Kind,Grams,Note\n${lines.filter((_, r) => r !== 11_000).join('\n')}\n` });
    expect(again.state, JSON.stringify(again.error)).toBe('succeeded');
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(11_999);
    expect((await db.selectFrom('movements').select('id').where('reason', '=', `import ${again.id}`).execute()).length).toBe(11_999);
  });

  it('lists every bad row and imports nothing when any row is bad', async () => {
    const collection = await insertCollection(server.context, { unit: 'g', scale: 4, kinds: ['rock'] });
    const csv = [
      'ID,Kind,Grams,Parent',
      'B-1,rock,1.5,',
      'B-2,rock,1.23456,', // too many decimals
      'B-3,soil,2,', // kind not in the collection
      'B-1,rock,3,', // repeated identifier
      ',rock,3,', // no identifier
      'B-6,rock,-1,', // negative
      'B-7,rock,abc,', // not a number
      'B-8,rock,1,NOPE', // parent nowhere
      'B-9,rock,1,B-10', // parent later in the file: fine
      'B-10,rock,1,',
    ].join('\n');
    const job = await startImport(curator, { collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'Kind', quantity: 'Grams', parent: 'Parent' }) }, { name: 'bad.csv', content: csv });
    expect(job.state).toBe('failed');
    expect(job.result!.errors.map((e) => [e.row, e.column])).toEqual([
      [2, 'Grams'],
      [3, 'Kind'],
      [4, 'ID'],
      [5, 'ID'],
      [6, 'Grams'],
      [7, 'Grams'],
      [8, 'Parent'],
    ]);
    expect(job.result!.errors[0]!.message).toMatch(/5 decimals/);
    expect(job.error).toMatchObject({ type: 'validation-failed' });
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);
  });

  it('rounds half-even only when asked, and refuses an unknown rounding mode', async () => {
    const collection = await insertCollection(server.context, { unit: 'g', scale: 4 });
    const csv = 'ID,Kind,Grams\nR-1,rock,2.00005\nR-2,rock,2.00015\nR-3,rock,1.23456\n';
    const mapping = JSON.stringify({ identifier: 'ID', kind: 'Kind', quantity: 'Grams' });
    const refused = await startImport(curator, { collectionId: collection.id, mapping }, { name: 'r.csv', content: csv });
    expect(refused.result!.errorCount).toBe(3);
    problem(await upload(curator, { collectionId: collection.id, mapping, round: 'up' }, { name: 'r.csv', content: csv }), 400, 'validation-failed');
    const job = await startImport(curator, { collectionId: collection.id, mapping, round: 'half-even' }, { name: 'r.csv', content: csv });
    expect(job.state).toBe('succeeded');
    const stored = await quantitiesOf(server.context, collection.id);
    expect(Object.fromEntries(stored)).toEqual({ 'R-1': 20000n, 'R-2': 20002n, 'R-3': 12346n });
  });

  it('checks without writing on a dry run', async () => {
    const collection = await insertCollection(server.context, { unit: 'g', scale: 2 });
    const job = await startImport(curator, { collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'K', quantity: 'Q' }), dryRun: 'true' }, { name: 'd.csv', content: 'ID,K,Q\nD-1,a,1.25\nD-2,b,2\n' });
    expect(job.state).toBe('succeeded');
    expect(job.result).toMatchObject({ imported: 0, valid: 2, quantity: '3.25', byKind: { a: { samples: 1, quantity: '1.25' }, b: { samples: 1, quantity: '2.00' } } });
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);
  });

  it('lets curators and admins import, and nobody else; bad requests are problems', async () => {
    const collection = await insertCollection(server.context);
    const fields = { collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'K', quantity: 'Q' }) };
    const file = { name: 'w.csv', content: 'ID,K,Q\nW-1,a,1\n' };
    problem(await upload(null, fields, file), 401, 'unauthenticated');
    for (const role of ['applicant', 'reviewer', 'chair', 'auditor'] as const) {
      const who = await signIn(server.app, server.context, [role]);
      problem(await upload(who, fields, file), 403, 'forbidden');
    }
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);
    const byAdmin = await startImport(admin, fields, file);
    expect(byAdmin.state).toBe('succeeded');

    expect(problem(await upload(curator, fields, { name: 'w.txt.exe', content: 'x' }), 400, 'validation-failed').errors[0]!.field).toBe('file');
    expect(problem(await upload(curator, fields), 400, 'validation-failed').errors[0]!.field).toBe('file');
    expect(problem(await upload(curator, { ...fields, mapping: '{"identifier":' }, file), 400, 'validation-failed').errors[0]!.field).toBe('mapping');
    expect(problem(await upload(curator, { ...fields, mapping: '{"colour":"x"}' }, file), 400, 'validation-failed').errors[0]!.field).toMatch(/^mapping/);
    problem(await upload(curator, { ...fields, collectionId: '00000000-0000-4000-8000-000000000000' }, file), 404, 'not-found');
    problem(await inject({ method: 'POST', url: '/api/v1/imports', headers: curator.headers, payload: { collectionId: collection.id } }), 415, 'unsupported-media-type');
    // A mapping naming a column the file does not have fails the job with the reason.
    const missing = await startImport(curator, { ...fields, mapping: JSON.stringify({ identifier: 'ID', kind: 'K', quantity: 'Weight' }) }, { name: 'm.csv', content: 'ID,K,Q\nM-1,a,1\n' });
    expect(missing.state).toBe('failed');
    expect(missing.error).toMatchObject({ type: 'validation-failed', message: expect.stringContaining('"Weight" is not in the file') });
  });

  it('fails the job with a reason, not an internal error, when the file cannot be read', async () => {
    const collection = await insertCollection(server.context);
    const fields = { collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'K', quantity: 'Q' }) };
    const csv = await startImport(curator, fields, { name: 'broken.csv', content: 'ID,K,Q\nA,"x,1\nB,y,2\n' });
    expect(csv.state).toBe('failed');
    expect(csv.error).toMatchObject({ type: 'validation-failed', errors: [{ field: 'file' }] });
    const xlsx = await startImport(curator, fields, { name: 'broken.xlsx', content: 'ID,K,Q\nA,x,1\n' });
    expect(xlsx.state).toBe('failed');
    expect(xlsx.error).toMatchObject({ type: 'validation-failed', errors: [{ field: 'file' }] });
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);
  });

  it('shows a job to whoever started it and to admins, and to nobody else', async () => {
    const collection = await insertCollection(server.context);
    const response = await upload(curator, { collectionId: collection.id, mapping: JSON.stringify({ identifier: 'ID', kind: 'K', quantity: 'Q' }) }, { name: 'j.csv', content: 'ID,K,Q\nJ-1,a,1\n' });
    const { jobId } = response.json() as { jobId: string };
    const mine = await waitForJob(server.app, curator.headers, jobId);
    expect(mine).toMatchObject({ id: jobId, state: 'succeeded', result: { imported: 1 } });
    expect((await inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: admin.headers })).statusCode).toBe(200);
    const otherCurator = await signIn(server.app, server.context, ['curator']);
    problem(await inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: otherCurator.headers }), 404, 'not-found');
    problem(await inject({ method: 'GET', url: `/api/v1/jobs/${jobId}` }), 401, 'unauthenticated');
    problem(await inject({ method: 'GET', url: '/api/v1/jobs/nope', headers: admin.headers }), 400, 'validation-failed');
  });
});
