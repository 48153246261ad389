/**
 * The shared-string table of a workbook, kept compactly: the text of every
 * string as UTF-8 in 1 MiB slabs, with offsets and lengths in typed arrays.
 * Memory is then about the table's own size, whatever its shape; a million
 * JavaScript strings would cost several times that, and a slice of a parsed
 * chunk keeps the whole chunk alive.
 */
const SLAB = 1024 * 1024;

export class StringTable {
  private readonly slabs: Buffer[] = [];
  private used = SLAB;
  private starts = new Uint32Array(1024);
  private lengths = new Uint32Array(1024);
  count = 0;

  add(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (bytes > SLAB) throw new RangeError('a shared string is longer than a slab');
    if (this.used + bytes > SLAB) {
      this.slabs.push(Buffer.allocUnsafe(SLAB));
      this.used = 0;
    }
    if (this.count === this.starts.length) {
      this.starts = grow(this.starts);
      this.lengths = grow(this.lengths);
    }
    this.slabs.at(-1)!.write(text, this.used);
    this.starts[this.count] = (this.slabs.length - 1) * SLAB + this.used;
    this.lengths[this.count] = bytes;
    this.count++;
    this.used += bytes;
  }

  /** The string at index, or undefined past the end. */
  get(index: number): string | undefined {
    if (!(index >= 0 && index < this.count)) return undefined;
    const start = this.starts[index]!;
    const offset = start % SLAB;
    return this.slabs[Math.floor(start / SLAB)]!.toString('utf8', offset, offset + this.lengths[index]!);
  }
}

function grow(array: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const next = new Uint32Array(array.length * 2);
  next.set(array);
  return next;
}
