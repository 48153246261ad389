import { PDFDocument, PDFName } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { pdfWithAuthor } from '../calls/calls.testkit.js';
import { stripPdfMetadata, UnreadablePdfError } from './pdf-metadata.js';

const NAME = 'Zhang Secretname';


describe('PDF metadata for blind review', () => {
  it('removes the author from the info dictionary, XMP, comments and orphaned objects, keeping the pages', async () => {
    for (const objectStreams of [false, true]) {
      const original = await pdfWithAuthor(NAME, { objectStreams });
      if (!objectStreams) expect(original.toString('latin1')).toContain(NAME);
      const stripped = await stripPdfMetadata(original);
      expect(stripped.toString('latin1')).not.toContain('Secretname');
      const reread = await PDFDocument.load(stripped, { updateMetadata: false });
      expect(reread.getPageCount()).toBe(1);
      expect(reread.getAuthor()).toBeUndefined();
      expect(reread.getCreator()).toBeUndefined();
      expect(reread.catalog.get(PDFName.of('Metadata'))).toBeUndefined();
      expect(stripped.subarray(0, 5).toString()).toBe('%PDF-');
    }
  });

  it('refuses what it cannot read instead of passing it through', async () => {
    await expect(stripPdfMetadata(Buffer.from('%PDF-1.4\n%%EOF\n'))).rejects.toBeInstanceOf(UnreadablePdfError);
    await expect(stripPdfMetadata(Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage'))).rejects.toBeInstanceOf(UnreadablePdfError);
  });
});
