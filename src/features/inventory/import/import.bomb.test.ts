/**
 * A zip bomb sent to the import (a 700 KB .xlsx whose shared-string table
 * inflates to 300 MB) is refused with a problem a person understands, through
 * the API and through the reader, with memory growth bounded and nothing
 * imported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../../core/errors.js';
import { XLSX_LIMITS } from '../../../platform/xlsx/workbook.js';
import { repeated, writeXlsx } from '../../../platform/xlsx/xlsx.testkit.js';
import { problem, signIn, type SignedIn } from '../../../../test/factories.js';
import { createTestServer, engine, type TestServer } from '../../../../test/harness.js';
import { openRows } from './import.reader.js';
import { insertCollection, multipart, quantitiesOf, waitForJob } from './import.testkit.js';

const MB = 1024 * 1024;

/** Runs fn while sampling the resident set; returns the peak growth over the start, in MB. */
async function peakGrowth(fn: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return (Math.max(peak, process.memoryUsage().rss) - start) / MB;
}

describe(`an XLSX zip bomb sent to the import on ${engine}`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bomb-'));
  const bomb = path.join(tmp, 'bomb.xlsx');
  const lying = path.join(tmp, 'lying.xlsx');
  let server: TestServer;
  let curator: SignedIn;
  const mapping = JSON.stringify({ identifier: 'ID', kind: 'Kind', quantity: 'Q' });
  beforeAll(async () => {
    const si = `<si><t>${'A'.repeat(1000)}</t></si>`;
    const strings = () => ['<si><t>ID</t></si><si><t>Kind</t></si><si><t>Q</t></si>', ...repeated(si, Math.ceil((300 * MB) / si.length))];
    const sheetData = ['<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>', '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>3</v></c><c r="C2"><v>1</v></c></row>'];
    await writeXlsx(bomb, { strings: strings(), sheetData });
    await writeXlsx(lying, { strings: strings(), sheetData, declaredStrings: XLSX_LIMITS.sharedStringsBytes - 1 });
    server = await createTestServer();
    curator = await signIn(server.app, server.context, ['curator']);
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const upload = (collectionId: string, file: string) => {
    const body = multipart({ collectionId, mapping }, { name: 'samples.xlsx', content: fs.readFileSync(file) });
    return server.app.inject({ method: 'POST', url: '/api/v1/imports', headers: { ...curator.headers, ...body.headers }, payload: body.payload });
  };

  it('is a file of a few hundred KB', () => {
    expect(fs.statSync(bomb).size).toBeLessThan(2 * MB);
  });

  it('is refused by the API at once (413 on the field "file"), with nothing imported and memory flat', async () => {
    const collection = await insertCollection(server.context);
    let response: Awaited<ReturnType<typeof upload>> | undefined;
    const growth = await peakGrowth(async () => (response = await upload(collection.id, bomb)));
    const body = problem(response!, 413, 'payload-too-large');
    expect(body.detail).toBe('The text of the spreadsheet expands to more than 64 MB; split it into smaller files, or save it as CSV');
    expect(body.errors).toEqual([{ field: 'file', message: body.detail }]);
    expect(growth).toBeLessThan(150);
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);
  });

  it('fails the job when the file lies about its size, with memory bounded and nothing imported', async () => {
    const collection = await insertCollection(server.context);
    let job: Awaited<ReturnType<typeof waitForJob>> | undefined;
    const growth = await peakGrowth(async () => {
      const response = await upload(collection.id, lying);
      expect(response.statusCode, response.body).toBe(202);
      job = await waitForJob(server.app, curator.headers, (response.json() as { jobId: string }).jobId);
    });
    console.info(`lying bomb through the API on ${engine}: peak RSS growth ${growth.toFixed(1)} MB`);
    expect(job!.state).toBe('failed');
    expect(job!.error).toMatchObject({ type: 'validation-failed', errors: [{ field: 'file' }] });
    expect(job!.error!.message).toMatch(/inflates to more than the \d+ bytes it declares/);
    expect(growth).toBeLessThan(150);
    expect((await quantitiesOf(server.context, collection.id)).size).toBe(0);
  }, 60_000);

  it('is refused by the reader itself, as a problem on the field "file"', async () => {
    let error: unknown;
    const growth = await peakGrowth(async () => {
      try {
        const source = await openRows(bomb, 'xlsx');
        for await (const row of source.rows) void row;
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'payload-too-large', errors: [{ field: 'file' }] });
    expect(growth).toBeLessThan(150);
  });
});
