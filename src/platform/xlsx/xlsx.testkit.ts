/**
 * Writes small .xlsx files for tests, including hostile ones: parts are
 * streamed through deflate (a 300 MB part never sits in memory, and comes out
 * a few hundred KB), and a part may declare a size other than its real one,
 * as a zip bomb that lies about itself does.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

export interface Part {
  name: string;
  /** The content, in pieces (a generator for large parts). */
  content: Iterable<string | Buffer>;
  /** The inflated size the ZIP claims; the real one when absent. */
  declaredSize?: number;
}

const crc32: (data: Buffer, value?: number) => number = (zlib as unknown as { crc32?: typeof crc32 }).crc32 ?? slowCrc32;

function slowCrc32(data: Buffer, value = 0): number {
  let crc = ~value >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

async function deflate(content: Iterable<string | Buffer>): Promise<{ data: Buffer; size: number; crc: number }> {
  const deflater = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflater.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve, reject) => deflater.on('end', resolve).on('error', reject));
  let size = 0;
  let crc = 0;
  for (const piece of content) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    size += chunk.length;
    crc = crc32(chunk, crc);
    if (!deflater.write(chunk)) await new Promise((resolve) => deflater.once('drain', resolve));
  }
  deflater.end();
  await ended;
  return { data: Buffer.concat(out), size, crc };
}

export async function writeZip(file: string, parts: Part[]): Promise<void> {
  const chunks: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const { data, size, crc } = await deflate(part.content);
    const name = Buffer.from(part.name);
    const declared = part.declaredSize ?? size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(declared, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    chunks.push(local, name, data);
    directory.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const centralDirectory = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  fs.writeFileSync(file, Buffer.concat([...chunks, centralDirectory, end]));
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** An .xlsx of one sheet: `sheetData` is the XML inside <sheetData>, `strings` the XML inside <sst>. */
export async function writeXlsx(file: string, options: { sheetData: Iterable<string>; strings?: Iterable<string>; declaredStrings?: number; declaredSheet?: number }): Promise<void> {
  const parts: Part[] = [
    { name: '[Content_Types].xml', content: [`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`] },
    { name: '_rels/.rels', content: [`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`] },
    { name: 'xl/workbook.xml', content: [`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${MAIN}" xmlns:r="${REL}"><sheets><sheet name="samples" sheetId="1" r:id="rId1"/></sheets></workbook>`] },
    { name: 'xl/_rels/workbook.xml.rels', content: [`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`] },
  ];
  // The shared strings come first, as Excel writes them, so a reader has them before the sheet.
  if (options.strings) parts.push({ name: 'xl/sharedStrings.xml', content: wrap(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="${MAIN}">`, options.strings, '</sst>'), ...(options.declaredStrings === undefined ? {} : { declaredSize: options.declaredStrings }) });
  parts.push({ name: 'xl/worksheets/sheet1.xml', content: wrap(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${MAIN}"><sheetData>`, options.sheetData, '</sheetData></worksheet>'), ...(options.declaredSheet === undefined ? {} : { declaredSize: options.declaredSheet }) });
  await writeZip(file, parts);
}

function* wrap(head: string, body: Iterable<string>, tail: string): Generator<string> {
  yield head;
  yield* body;
  yield tail;
}

/** `count` copies of `piece`, handed out in blocks of about 1 MB. */
export function* repeated(piece: string, count: number): Generator<string> {
  const perBlock = Math.max(1, Math.floor((1024 * 1024) / piece.length));
  const block = piece.repeat(perBlock);
  let left = count;
  while (left >= perBlock) {
    yield block;
    left -= perBlock;
  }
  if (left > 0) yield piece.repeat(left);
}
