/**
 * Printed documents of a shipment: the packing list and the label sheet (one
 * DataMatrix per sample with its identifier). pdf-lib's standard fonts encode
 * only WinAnsi, and no font embedder is installed, so text outside it (Chinese
 * names, for instance) is written as Unicode code points ([U+5F20 U+6587])
 * rather than dropped or crashing; the JSON answers carry the original text.
 */
import bwipjs from 'bwip-js';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export interface PrintableItem {
  identifier: string;
  kind: string;
  quantity: string;
  parentIdentifier: string | null;
}

export interface PrintableShipment {
  reference: string;
  state: string;
  createdAt: Date;
  packedAt: Date | null;
  dispatchedAt: Date | null;
  courier: string | null;
  trackingNumber: string | null;
  application: { id: string; title: string };
  recipient: { name: string; email: string; institution: string };
  unit: string;
  total: string;
  items: PrintableItem[];
  /** Biohazard declaration lines (pathology's shipmentDeclaration); printed under the header when present. */
  declaration?: string[];
}

/** Text a standard font can draw: code points outside its character set become [U+XXXX …]. */
export function pdfSafe(text: string, supported: ReadonlySet<number>): string {
  let out = '';
  let run: string[] = [];
  const flush = () => {
    if (run.length) out += `[${run.join(' ')}]`;
    run = [];
  };
  for (const char of text.normalize('NFC')) {
    const code = char.codePointAt(0)!;
    if (code === 0x09 || code === 0x0a || code === 0x0d) {
      flush();
      out += ' ';
    } else if (supported.has(code) && code >= 0x20) {
      flush();
      out += char;
    } else {
      // A letter with a diacritic the font lacks keeps its base letter.
      const base = char.normalize('NFKD').replace(/\p{M}/gu, '');
      if (base && [...base].every((c) => supported.has(c.codePointAt(0)!) && c.codePointAt(0)! >= 0x20)) {
        flush();
        out += base;
      } else run.push(`U+${code.toString(16).toUpperCase().padStart(4, '0')}`);
    }
  }
  flush();
  return out;
}

interface Writer {
  font: PDFFont;
  bold: PDFFont;
  safe(text: string): string;
}

async function writer(doc: PDFDocument): Promise<Writer> {
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const supported = new Set(font.getCharacterSet());
  return { font, bold, safe: (text) => pdfSafe(text, supported) };
}

/** Draws text cut to a width (with an ellipsis) so a long name never runs over the next column. */
function drawFitted(page: PDFPage, w: Writer, text: string, options: { x: number; y: number; size: number; maxWidth: number; bold?: boolean }): void {
  const font = options.bold ? w.bold : w.font;
  let value = w.safe(text);
  if (font.widthOfTextAtSize(value, options.size) > options.maxWidth) {
    while (value.length > 1 && font.widthOfTextAtSize(`${value}...`, options.size) > options.maxWidth) value = value.slice(0, -1);
    value = `${value}...`;
  }
  page.drawText(value, { x: options.x, y: options.y, size: options.size, font, color: rgb(0, 0, 0) });
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;

function iso(date: Date | null): string {
  return date ? date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '-';
}

export async function packingListPdf(shipment: PrintableShipment): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Packing list ${shipment.reference}`);
  doc.setProducer('SampleBank');
  doc.setCreationDate(shipment.createdAt);
  const w = await writer(doc);
  const width = A4[0] - 2 * MARGIN;
  let page = doc.addPage(A4);
  let y = A4[1] - MARGIN;
  const line = (text: string, size = 10, bold = false) => {
    drawFitted(page, w, text, { x: MARGIN, y, size, maxWidth: width, bold });
    y -= size + 6;
  };
  line('SampleBank - packing list', 16, true);
  line(`Shipment ${shipment.reference} (${shipment.state})`, 12, true);
  y -= 4;
  line(`Application: ${shipment.application.title}`);
  line(`Application id: ${shipment.application.id}`, 8);
  line(`Recipient: ${shipment.recipient.name} <${shipment.recipient.email}>`);
  line(`Institution: ${shipment.recipient.institution}`);
  line(`Prepared: ${iso(shipment.createdAt)}   Packed: ${iso(shipment.packedAt)}   Dispatched: ${iso(shipment.dispatchedAt)}`, 9);
  if (shipment.courier) line(`Courier: ${shipment.courier}   Tracking number: ${shipment.trackingNumber ?? '-'}`);
  if (shipment.declaration && shipment.declaration.length > 0) {
    y -= 4;
    shipment.declaration.forEach((text, i) => line(text, i === 0 ? 12 : 9, i === 0));
  }
  y -= 8;
  const columns = [
    { title: '#', x: 0, width: 24 },
    { title: 'Identifier', x: 24, width: 150 },
    { title: 'Kind', x: 174, width: 110 },
    { title: `Quantity (${shipment.unit})`, x: 284, width: 90 },
    { title: 'Split from', x: 374, width: width - 374 },
  ];
  const header = () => {
    for (const c of columns) drawFitted(page, w, c.title, { x: MARGIN + c.x, y, size: 9, maxWidth: c.width - 4, bold: true });
    y -= 4;
    page.drawLine({ start: { x: MARGIN, y }, end: { x: MARGIN + width, y }, thickness: 0.5 });
    y -= 12;
  };
  header();
  shipment.items.forEach((item, i) => {
    if (y < MARGIN + 80) {
      page = doc.addPage(A4);
      y = A4[1] - MARGIN;
      header();
    }
    const cells = [String(i + 1), item.identifier, item.kind, item.quantity, item.parentIdentifier ?? '-'];
    cells.forEach((text, c) => drawFitted(page, w, text, { x: MARGIN + columns[c]!.x, y, size: 9, maxWidth: columns[c]!.width - 4 }));
    y -= 14;
  });
  page.drawLine({ start: { x: MARGIN, y: y + 8 }, end: { x: MARGIN + width, y: y + 8 }, thickness: 0.5 });
  y -= 4;
  line(`${shipment.items.length} sample(s), total ${shipment.total} ${shipment.unit}`, 10, true);
  if (y < MARGIN + 70) {
    page = doc.addPage(A4);
    y = A4[1] - MARGIN;
  }
  y -= 24;
  line('Packed by (name, signature, date): ______________________________________');
  y -= 12;
  line('Received by (name, signature, date): ____________________________________');
  y -= 8;
  line('On receipt, confirm the quantities and condition found in SampleBank; any difference opens an incident.', 8);
  return doc.save();
}

/** bwip-js reads a string as bytes (one per char code); non-Latin-1 identifiers go in as their UTF-8 bytes. */
function barcodeText(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

export async function dataMatrixPng(text: string): Promise<Buffer> {
  return bwipjs.toBuffer({ bcid: 'datamatrix', text: barcodeText(text), scale: 4, paddingwidth: 1, paddingheight: 1 });
}

const LABEL = { cols: 3, rows: 8, width: 178, height: 96, gapX: 6, gapY: 4 };

/** A4 sheets of labels, 24 a page: DataMatrix of the identifier, the identifier, kind, quantity and shipment. */
export async function labelsPdf(shipment: PrintableShipment): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Labels ${shipment.reference}`);
  doc.setProducer('SampleBank');
  doc.setCreationDate(shipment.createdAt);
  const w = await writer(doc);
  const perPage = LABEL.cols * LABEL.rows;
  const left = (A4[0] - (LABEL.cols * LABEL.width + (LABEL.cols - 1) * LABEL.gapX)) / 2;
  const top = A4[1] - (A4[1] - (LABEL.rows * LABEL.height + (LABEL.rows - 1) * LABEL.gapY)) / 2;
  let page: PDFPage | undefined;
  for (const [i, item] of shipment.items.entries()) {
    if (i % perPage === 0) page = doc.addPage(A4);
    const slot = i % perPage;
    const x = left + (slot % LABEL.cols) * (LABEL.width + LABEL.gapX);
    const y = top - (Math.floor(slot / LABEL.cols) + 1) * LABEL.height - Math.floor(slot / LABEL.cols) * LABEL.gapY;
    page!.drawRectangle({ x, y, width: LABEL.width, height: LABEL.height, borderWidth: 0.3, borderColor: rgb(0.6, 0.6, 0.6) });
    const image = await doc.embedPng(await dataMatrixPng(item.identifier));
    const side = 64;
    page!.drawImage(image, { x: x + 8, y: y + (LABEL.height - side) / 2, width: side, height: side });
    const tx = x + side + 16;
    const maxWidth = LABEL.width - side - 22;
    drawFitted(page!, w, item.identifier, { x: tx, y: y + LABEL.height - 24, size: 10, maxWidth, bold: true });
    drawFitted(page!, w, item.kind, { x: tx, y: y + LABEL.height - 40, size: 8, maxWidth });
    drawFitted(page!, w, `${item.quantity} ${shipment.unit}`, { x: tx, y: y + LABEL.height - 54, size: 8, maxWidth });
    drawFitted(page!, w, shipment.reference, { x: tx, y: y + 12, size: 7, maxWidth });
  }
  if (shipment.items.length === 0) doc.addPage(A4);
  return doc.save();
}
