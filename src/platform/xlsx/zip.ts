/**
 * Just enough of ZIP to read the parts of an .xlsx lying on disk, with every
 * size bounded: the central directory is read from the end of the file (so
 * parts are opened in the order we choose, and none is ever spooled to a temp
 * file), and each part is inflated as a stream that fails as soon as it yields
 * more bytes than its directory entry declared. Declared sizes can therefore be
 * checked against limits before a single byte is inflated, and a zip bomb that
 * lies about them is stopped at the lie.
 */
import fs from 'node:fs';
import { pipeline, Readable, Transform } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  /** What the directory says the part inflates to; the stream never yields more. */
  size: number;
  localHeaderOffset: number;
}

/** The file is not a ZIP we read (corrupt, encrypted, another compression…). */
export class ZipError extends Error {
  override name = 'ZipError';
}

/** More entries than any spreadsheet has; the directory is never read beyond this. */
const MAX_ENTRIES = 10_000;
const MAX_DIRECTORY_BYTES = 16 * 1024 * 1024;
/** Small reads keep an inflate burst (up to ~1000× its input) small too. */
const READ_CHUNK = 16 * 1024;

async function readAt(handle: fs.promises.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new ZipError('the file ends too early');
  return buffer;
}

const u64 = (buffer: Buffer, at: number): number => {
  const value = buffer.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('a size is out of range');
  return Number(value);
};

/** The entries of the central directory (ZIP64 included). */
export async function readEntries(file: string): Promise<ZipEntry[]> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const tailLength = Math.min(fileSize, 22 + 0xffff);
    if (tailLength < 22) throw new ZipError('it is not a ZIP file (an .xlsx is one)');
    const tail = await readAt(handle, fileSize - tailLength, tailLength);
    let end = -1;
    for (let at = tail.length - 22; at >= 0; at--) {
      if (tail.readUInt32LE(at) === 0x06054b50) {
        end = at;
        break;
      }
    }
    if (end < 0) throw new ZipError('it is not a ZIP file (an .xlsx is one)');
    let count = tail.readUInt16LE(end + 10);
    let directorySize = tail.readUInt32LE(end + 12);
    let directoryOffset = tail.readUInt32LE(end + 16);
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locatorAt = fileSize - tailLength + end - 20;
      const locator = locatorAt >= 0 ? await readAt(handle, locatorAt, 20) : undefined;
      if (!locator || locator.readUInt32LE(0) !== 0x07064b50) throw new ZipError('its ZIP64 directory is missing');
      const record = await readAt(handle, u64(locator, 8), 56);
      if (record.readUInt32LE(0) !== 0x06064b50) throw new ZipError('its ZIP64 directory is corrupt');
      count = u64(record, 32);
      directorySize = u64(record, 40);
      directoryOffset = u64(record, 48);
    }
    if (count > MAX_ENTRIES || directorySize > MAX_DIRECTORY_BYTES) throw new ZipError(`it has more than ${MAX_ENTRIES} parts`);
    const directory = await readAt(handle, directoryOffset, directorySize);
    const entries: ZipEntry[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > directory.length || directory.readUInt32LE(at) !== 0x02014b50) throw new ZipError('its directory is corrupt');
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const entry: ZipEntry = {
        name: directory.toString('utf8', at + 46, at + 46 + nameLength),
        flags: directory.readUInt16LE(at + 8),
        method: directory.readUInt16LE(at + 10),
        compressedSize: directory.readUInt32LE(at + 20),
        size: directory.readUInt32LE(at + 24),
        localHeaderOffset: directory.readUInt32LE(at + 42),
      };
      applyZip64(entry, directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength));
      entries.push(entry);
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await handle.close();
  }
}

/** A ZIP64 extra field holds, in this order, the 64-bit values of the fields that are all ones. */
function applyZip64(entry: ZipEntry, extra: Buffer): void {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      let field = at + 4;
      const next = (): number => {
        if (field + 8 > at + 4 + length) throw new ZipError('its ZIP64 sizes are corrupt');
        const value = u64(extra, field);
        field += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
      return;
    }
    at += 4 + length;
  }
}

/**
 * The inflated bytes of one entry, failing once they exceed what the directory
 * declared. `onRead` sees the compressed bytes read from the file (progress).
 */
export async function openEntry(file: string, entry: ZipEntry, onRead: (bytes: number) => void = () => {}): Promise<Readable> {
  if (entry.flags & 0x1) throw new ZipError('it is encrypted');
  if (entry.method !== 0 && entry.method !== 8) throw new ZipError(`its part ${entry.name} uses a compression other than deflate`);
  const handle = await fs.promises.open(file, 'r');
  let start: number;
  try {
    const local = await readAt(handle, entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== 0x04034b50) throw new ZipError(`its part ${entry.name} is corrupt`);
    start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    await handle.close();
  }
  if (entry.compressedSize === 0) return Readable.from([]);
  const raw = fs.createReadStream(file, { start, end: start + entry.compressedSize - 1, highWaterMark: READ_CHUNK });
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onRead(chunk.length);
      callback(null, chunk);
    },
  });
  let inflated = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      if (inflated > entry.size) callback(new ZipError(`its part ${entry.name} inflates to more than the ${entry.size} bytes it declares (the file is damaged, or built to exhaust memory)`));
      else callback(null, chunk);
    },
  });
  // pipeline destroys every stage when one fails or the reader stops early (destroys the guard): the file and the inflater are released.
  const done = (): void => {};
  if (entry.method === 8) pipeline(raw, counted, createInflateRaw(), guard, done);
  else pipeline(raw, counted, guard, done);
  return guard;
}
