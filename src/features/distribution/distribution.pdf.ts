/**
 * Printed documents of a shipment: the packing list and the label sheet (one
 * DataMatrix per sample with its identifier).
 *
 * Fonts. pdf-lib's standard fonts encode only WinAnsi, so for Chinese names,
 * institutions and sample kinds (张文, 中国科学院…, 钻取样) a TrueType CJK font
 * is embedded through @pdf-lib/fontkit, subset to the glyphs the document uses
 * (a few kB per document instead of megabytes). The font is the file named by
 * SAMPLEBANK_PDF_FONT, else the first of a few well-known system paths
 * (WenQuanYi Micro Hei from Debian's fonts-wqy-microhei first; see
 * docs/decisions.md). CJK fonts with CID-keyed PostScript (CFF) outlines, such
 * as Noto Sans CJK, are refused: fontkit's subsetter writes them broken.
 *
 * A string the standard font can encode entirely is still drawn in Helvetica
 * (and Helvetica-Bold): a document in Latin script stays exactly as it was, with
 * a real bold face and no embedded font, and Latin column titles keep one look
 * on every page. Only a string with text outside WinAnsi is drawn, whole, in
 * the embedded font (bold is simulated by stroking the outline, as the CJK
 * fonts ship one weight), and the font is embedded only when the shipment has
 * such text.
 *
 * Without a usable font (none installed, or a SAMPLEBANK_PDF_FONT that cannot
 * be read) a warning is emitted once and text outside the font is written as
 * Unicode code points ([U+5F20 U+6587]) rather than dropped or crashing; the
 * JSON answers always carry the original text.
 */
import { readFile } from 'node:fs/promises';
import fontkit from '@pdf-lib/fontkit';
import bwipjs from 'bwip-js';
import {
  PDFDocument,
  StandardFonts,
  TextRenderingMode,
  popGraphicsState,
  pushGraphicsState,
  rgb,
  setLineWidth,
  setStrokingColor,
  setTextRenderingMode,
  type PDFFont,
  type PDFPage,
} from 'pdf-lib';

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

type FontkitFont = ReturnType<typeof fontkit.create>;
type PdfFontkit = Parameters<PDFDocument['registerFontkit']>[0];

/** A font for text outside WinAnsi, read and parsed once per process (re-parsing a CJK font costs more than the rest of a document). */
export interface UnicodeFont {
  path: string;
  /** PostScript name of the face used (a collection's first non-monospaced face, a simplified-Chinese one when named so). */
  name: string;
  supported: ReadonlySet<number>;
  bytes: Uint8Array;
  /** Hands pdf-lib the parsed font instead of letting it parse the file again for every document. */
  kit: PdfFontkit;
}

const windowsFonts = `${process.env.SystemRoot ?? 'C:\\Windows'}\\Fonts`;

/** Tried in order when SAMPLEBANK_PDF_FONT is unset; all have TrueType outlines, which subset correctly. */
export const WELL_KNOWN_PDF_FONTS: readonly string[] = [
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', // Debian/Ubuntu fonts-wqy-microhei
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', // Debian/Ubuntu fonts-wqy-zenhei
  '/usr/share/fonts/wqy-microhei/wqy-microhei.ttc', // Fedora wqy-microhei-fonts
  '/System/Library/Fonts/STHeiti Medium.ttc', // macOS
  '/System/Library/Fonts/Supplemental/Arial Unicode.ttf', // macOS 10.15 and later
  '/Library/Fonts/Arial Unicode.ttf', // older macOS
  `${windowsFonts}\\msyh.ttc`, // Windows: Microsoft YaHei
  `${windowsFonts}\\simsun.ttc`, // Windows: SimSun
];

interface FontCollection {
  fonts: FontkitFont[];
}

function isCollection(value: unknown): value is FontCollection {
  return typeof value === 'object' && value !== null && Array.isArray((value as { fonts?: unknown }).fonts);
}

async function loadFont(path: string): Promise<UnicodeFont> {
  const bytes: Uint8Array = await readFile(path);
  const parsed: unknown = fontkit.create(bytes);
  let font: FontkitFont;
  if (isCollection(parsed)) {
    const faces = parsed.fonts.filter((f) => !/mono/i.test(f.postscriptName ?? ''));
    const face = faces.find((f) => /(?:SC|CJKsc)(?:-|$)/.test(f.postscriptName ?? '')) ?? faces[0] ?? parsed.fonts[0];
    if (!face) throw new Error('the font collection has no face');
    font = face;
  } else font = parsed as FontkitFont;
  const tables = (font as unknown as { directory: { tables: Record<string, unknown> } }).directory.tables;
  const cff = tables['CFF '] ? (font as unknown as { 'CFF ': { isCIDFont?: boolean } })['CFF '] : null;
  if (tables.CFF2 || cff?.isCIDFont) {
    throw new Error('it has CID-keyed PostScript (CFF) outlines, which the PDF subsetter writes broken; use a TrueType font such as WenQuanYi Micro Hei (fonts-wqy-microhei)');
  }
  if (!font.hasGlyphForCodePoint(0x41)) throw new Error('it has no Latin letters');
  const kit = { create: () => font } as unknown as PdfFontkit;
  return { path, name: font.postscriptName ?? path, supported: new Set(font.characterSet), bytes, kit };
}

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, { code: 'SAMPLEBANK_PDF_FONT' });
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  return error instanceof Error ? error.message : String(error);
}

const FALLBACK = 'PDFs print text outside WinAnsi (Latin-1) as Unicode code points ([U+5F20 U+6587])';

async function findFont(configured: string): Promise<UnicodeFont | null> {
  if (configured) {
    // An explicit choice that fails is reported, not silently replaced by another font.
    try {
      return await loadFont(configured);
    } catch (error) {
      warnOnce(`SAMPLEBANK_PDF_FONT=${configured} cannot be used (${reason(error)}); ${FALLBACK}.`);
      return null;
    }
  }
  for (const path of WELL_KNOWN_PDF_FONTS) {
    try {
      return await loadFont(path);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') warnOnce(`PDF font ${path} cannot be used (${reason(error)}).`);
    }
  }
  warnOnce(`No CJK font found for PDFs (set SAMPLEBANK_PDF_FONT to a TrueType font, or install fonts-wqy-microhei); ${FALLBACK}.`);
  return null;
}

const fonts = new Map<string, Promise<UnicodeFont | null>>();
const configuredFont = (env: NodeJS.ProcessEnv) => env.SAMPLEBANK_PDF_FONT?.trim() ?? '';

/**
 * The font for text outside WinAnsi: SAMPLEBANK_PDF_FONT, else the first usable
 * of WELL_KNOWN_PDF_FONTS, else null (with one warning). Looked up when a
 * document first needs it and kept for the process, per value of the variable.
 */
export function pdfUnicodeFont(env: NodeJS.ProcessEnv = process.env): Promise<UnicodeFont | null> {
  const configured = configuredFont(env);
  let found = fonts.get(configured);
  if (!found) {
    found = findFont(configured);
    fonts.set(configured, found);
  }
  return found;
}

/** Whether the standard font draws every character of `text` as it is. */
function encodable(text: string, supported: ReadonlySet<number>): boolean {
  for (const char of text.normalize('NFC')) {
    const code = char.codePointAt(0)!;
    if (code !== 0x09 && code !== 0x0a && code !== 0x0d && !(code >= 0x20 && supported.has(code))) return false;
  }
  return true;
}

interface Writer {
  font: PDFFont;
  bold: PDFFont;
  standard: ReadonlySet<number>;
  /** Embedded (subset) for documents with text outside WinAnsi, when a font is available. */
  unicode: { font: PDFFont; supported: ReadonlySet<number> } | null;
}

/** Whether a build may use the Unicode font, and the font it used. */
interface FontUse {
  allow: boolean;
  used?: UnicodeFont;
}

async function writer(doc: PDFDocument, shipment: PrintableShipment, use: FontUse): Promise<Writer> {
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const standard = new Set(font.getCharacterSet());
  let unicode: Writer['unicode'] = null;
  // Every string printed comes from the shipment (the rest is ASCII), so its JSON tells whether the font is needed.
  if (use.allow && !encodable(JSON.stringify(shipment), standard)) {
    const loaded = await pdfUnicodeFont();
    if (loaded) {
      use.used = loaded;
      doc.registerFontkit(loaded.kit);
      unicode = { font: await doc.embedFont(loaded.bytes, { subset: true }), supported: loaded.supported };
    }
  }
  return { font, bold, standard, unicode };
}

/**
 * Builds with the Unicode font; should that font make pdf-lib fail, warns, stops
 * using the font for this process and builds again without it.
 */
async function withFontFallback(build: (use: FontUse) => Promise<Uint8Array>): Promise<Uint8Array> {
  const use: FontUse = { allow: true };
  try {
    return await build(use);
  } catch (error) {
    if (!use.used) throw error;
    const content = await build({ allow: false });
    fonts.set(configuredFont(process.env), Promise.resolve(null));
    warnOnce(`PDF font ${use.used.path} failed (${reason(error)}); ${FALLBACK}.`);
    return content;
  }
}

/**
 * Draws text cut to a width (with an ellipsis) so a long name never runs over
 * the next column: in Helvetica when it can, else whole in the Unicode font.
 */
function drawFitted(page: PDFPage, w: Writer, text: string, options: { x: number; y: number; size: number; maxWidth: number; bold?: boolean }): void {
  const unicode = w.unicode && !encodable(text, w.standard) ? w.unicode : null;
  const font = unicode ? unicode.font : options.bold ? w.bold : w.font;
  const chars = [...pdfSafe(text, unicode ? unicode.supported : w.standard)];
  let value = chars.join('');
  if (font.widthOfTextAtSize(value, options.size) > options.maxWidth) {
    while (chars.length > 1 && font.widthOfTextAtSize(`${chars.join('')}...`, options.size) > options.maxWidth) chars.pop();
    value = `${chars.join('')}...`;
  }
  // The CJK fonts have one weight: bold is the outline stroked as well as filled.
  const fauxBold = unicode !== null && options.bold === true;
  if (fauxBold) page.pushOperators(pushGraphicsState(), setTextRenderingMode(TextRenderingMode.FillAndOutline), setLineWidth(options.size * 0.035), setStrokingColor(rgb(0, 0, 0)));
  page.drawText(value, { x: options.x, y: options.y, size: options.size, font, color: rgb(0, 0, 0) });
  if (fauxBold) page.pushOperators(popGraphicsState());
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;

function iso(date: Date | null): string {
  return date ? date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '-';
}

export async function packingListPdf(shipment: PrintableShipment): Promise<Uint8Array> {
  return withFontFallback((use) => buildPackingList(shipment, use));
}

async function buildPackingList(shipment: PrintableShipment, use: FontUse): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Packing list ${shipment.reference}`);
  doc.setProducer('SampleBank');
  doc.setCreationDate(shipment.createdAt);
  const w = await writer(doc, shipment, use);
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
  return withFontFallback((use) => buildLabels(shipment, use));
}

async function buildLabels(shipment: PrintableShipment, use: FontUse): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Labels ${shipment.reference}`);
  doc.setProducer('SampleBank');
  doc.setCreationDate(shipment.createdAt);
  const w = await writer(doc, shipment, use);
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
