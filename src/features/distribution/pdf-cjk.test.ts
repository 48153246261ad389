/**
 * Chinese text in the packing list and labels: printed with an embedded CJK
 * font and read back verbatim by pdftotext (poppler-utils, which CI installs);
 * without a usable font the documents still render, with [U+XXXX] codes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { InjectOptions } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { createInstitution, type SignedIn } from '../../../test/factories.js';
import { biohazardDeclaration } from '../../core/consent.js';
import { buildWorld, json, newApplicant, type World } from '../calls/calls.testkit.js';
import { labelsPdf, packingListPdf, pdfUnicodeFont, type PrintableShipment } from './distribution.pdf.js';
import { allocatedApplication, pdf } from './distribution.testkit.js';
import type { ShipmentView } from './distribution.service.js';

const run = promisify(execFile);
// pdftotext (poppler-utils) and the Noto CJK font are provisioned by the test command (scripts/test.mjs); missing, these tests fail.

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'samplebank-pdf-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let counter = 0;
/** The text pdftotext reads from the PDF, lines joined by newlines. */
async function pdfText(content: Uint8Array): Promise<string> {
  const file = path.join(scratch, `${++counter}.pdf`);
  await writeFile(file, content);
  return (await run('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout;
}

const INSTITUTION = '中国科学院地质与地球物理研究所';
const RECIPIENT = '张文';
const KIND = '钻取样';

function shipment(overrides: Partial<PrintableShipment> = {}): PrintableShipment {
  const items = [
    { identifier: 'CE5-C0400', kind: KIND, quantity: '0.2500', parentIdentifier: null },
    { identifier: '病理-0001', kind: '石蜡包埋组织', quantity: '1', parentIdentifier: 'CE5-C0400' },
  ];
  return {
    reference: 'SHP-0123456789',
    state: 'packed',
    createdAt: new Date('2025-03-01T08:00:00Z'),
    packedAt: new Date('2025-03-02T08:00:00Z'),
    dispatchedAt: null,
    courier: '顺丰速运',
    trackingNumber: 'SF1234567890',
    application: { id: '00000000-0000-0000-0000-000000000001', title: '嫦娥五号玄武岩年龄 — Ångström' },
    recipient: { name: RECIPIENT, email: 'zhang.wen@example.cn', institution: INSTITUTION },
    unit: 'g',
    total: '1.2500',
    items,
    declaration: biohazardDeclaration(items.map((i) => ({ ...i, biosafetyLevel: 2, unit: 'g' }))).lines,
    ...overrides,
  };
}

describe('PDFs with Chinese text', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('finds a CJK font (CI installs fonts-wqy-microhei)', async () => {
    const font = await pdfUnicodeFont();
    expect(font, 'no CJK font: install fonts-wqy-microhei or set SAMPLEBANK_PDF_FONT').not.toBeNull();
    expect(font!.supported.has(KIND.codePointAt(0)!)).toBe(true);
  });

  it('prints institution, recipient, kinds and the biohazard declaration verbatim', async () => {
    const content = await packingListPdf(shipment());
    // Subset: only the glyphs used are embedded, not the megabytes of the font.
    expect(content.length).toBeLessThan(100_000);
    const text = await pdfText(content);
    expect(text).not.toContain('[U+');
    expect(text).toContain(`Institution: ${INSTITUTION}`);
    expect(text).toContain(`Recipient: ${RECIPIENT} <zhang.wen@example.cn>`);
    expect(text).toContain('Application: 嫦娥五号玄武岩年龄 — Ångström');
    expect(text).toContain('Courier: 顺丰速运');
    expect(text).toContain(KIND);
    expect(text).toContain('BIOHAZARD — UN3373 Biological substance, Category B');
    expect(text).toContain(`Hazardous contents: CE5-C0400 (${KIND}, 0.2500 g, BSL-2); 病理-0001 (石蜡包埋组织, 1 g, BSL-2)`);
  });

  it('prints Chinese identifiers and kinds on the labels', async () => {
    const text = await pdfText(await labelsPdf(shipment()));
    expect(text).toContain('病理-0001');
    expect(text).toContain('石蜡包埋组织');
    expect(text).toContain(KIND);
    expect(text).not.toContain('[U+');
  });

  it('embeds no font in a document whose text Helvetica can draw', async () => {
    const latin = shipment({
      courier: 'SF Express',
      application: { id: 'a', title: 'Ångström-scale weathering' },
      recipient: { name: 'Zhang Wen', email: 'zhang.wen@example.cn', institution: 'Institute of Geology and Geophysics' },
      items: [{ identifier: 'CE5-C0400', kind: 'drilled', quantity: '0.2500', parentIdentifier: null }],
      declaration: [],
    });
    const content = Buffer.from(await packingListPdf(latin));
    expect(content.includes('/FontFile2')).toBe(false);
    expect(await pdfText(content)).toContain('Application: Ångström-scale weathering');
  });

  it('falls back to [U+XXXX] codes, with one warning, when SAMPLEBANK_PDF_FONT names a missing file', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    vi.stubEnv('SAMPLEBANK_PDF_FONT', path.join(tmpdir(), 'samplebank-no-such-font.ttf'));
    const list = await packingListPdf(shipment());
    const labels = await labelsPdf(shipment());
    expect((await PDFDocument.load(list)).getPageCount()).toBe(1);
    expect((await PDFDocument.load(labels)).getPageCount()).toBe(1);
    expect(Buffer.from(list).includes('/FontFile2')).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/SAMPLEBANK_PDF_FONT=.*samplebank-no-such-font\.ttf cannot be used \(no such file\)/);
    const text = await pdfText(list);
    expect(text).toContain('Recipient: [U+5F20 U+6587] <zhang.wen@example.cn>');
    expect(text).toContain('BIOHAZARD — UN3373');
  });

  const noto = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
  it('refuses a CJK font with CID-keyed CFF outlines, which would be embedded broken', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    vi.stubEnv('SAMPLEBANK_PDF_FONT', noto);
    expect(await pdfUnicodeFont()).toBeNull();
    expect(String(warn.mock.calls[0]![0])).toContain('CID-keyed PostScript (CFF) outlines');
    expect((await PDFDocument.load(await packingListPdf(shipment()))).getPageCount()).toBe(1);
  });
});

describe(`packing list route with Chinese names on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context, { reviewers: 0 });
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const call = (method: 'GET' | 'POST', who: SignedIn, url: string) => inject({ method, url: `/api/v1${url}`, headers: who.headers });

  it('serves a packing list whose Chinese institution, recipient, kind and declaration read back verbatim', async () => {
    const { db } = server.context.handle;
    const institution = await createInstitution(server.context, INSTITUTION);
    const recipient = await newApplicant(server.app, server.context, { id: institution.id, code: institution.code, name: institution.name });
    await db.updateTable('users').set({ name: RECIPIENT }).where('id', '=', recipient.user.id).execute();
    const { applicationId, reservations } = await allocatedApplication(server.app, server.context, world, recipient, { whole: [100n] });
    await db.updateTable('samples').set({ kind: KIND }).where('id', '=', reservations[0]!.sampleId).execute();
    await db.updateTable('collections').set({ biosafety_level: 2 }).where('id', '=', world.collectionId).execute();
    const created = json<ShipmentView>(await inject({ method: 'POST', url: '/api/v1/shipments', headers: world.curator.headers, payload: { applicationId } }), 201);
    json(await call('POST', world.curator, `/shipments/${created.id}/pack`), 200);

    const text = await pdfText(pdf(await call('GET', world.curator, `/shipments/${created.id}/packing-list.pdf`)));
    expect(text).not.toContain('[U+');
    expect(text).toContain(`Institution: ${INSTITUTION}`);
    expect(text).toContain(`Recipient: ${RECIPIENT} <`);
    expect(text).toContain('BIOHAZARD — UN3373');
    expect(text).toMatch(new RegExp(`Hazardous contents: \\S+ \\(${KIND}, [0-9.]+ \\S+, BSL-2\\)`));
    expect(await pdfText(pdf(await call('GET', recipient, `/shipments/${created.id}/labels.pdf`)))).toContain(KIND);
  });
});
