/**
 * Removing what a PDF says about its author, for blind review. A word
 * processor writes the author's name, the organisation and the software into
 * the document information dictionary and the XMP metadata stream; comment
 * annotations carry their author's name. In a blind call those go before the
 * file is stored, so no reviewer can read them.
 *
 * The document is rewritten from its live objects only: earlier revisions of
 * an incrementally saved file (which may hold an older author) and any
 * orphaned object are dropped, because pdf-lib would otherwise write every
 * object it parsed. What the pages themselves say is the applicant's
 * responsibility and is not inspected.
 */
import { EncryptedPDFError, PDFArray, PDFDict, PDFDocument, PDFName, PDFRef, PDFStream, type PDFObject } from 'pdf-lib';

export class UnreadablePdfError extends Error {
  constructor(readonly reason: 'encrypted' | 'unreadable', message: string) {
    super(message);
    this.name = 'UnreadablePdfError';
  }
}

const METADATA = PDFName.of('Metadata');
const PIECE_INFO = PDFName.of('PieceInfo');
const ANNOTS = PDFName.of('Annots');
const AUTHOR_OF_ANNOTATION = PDFName.of('T');
const SUBTYPE = PDFName.of('Subtype');
const WIDGET = PDFName.of('Widget');

/** Returns the PDF without document metadata, XMP streams, page piece info or annotation authors. */
export async function stripPdfMetadata(content: Uint8Array): Promise<Buffer> {
  try {
    return await strip(content);
  } catch (error) {
    if (error instanceof UnreadablePdfError) throw error;
    // A file pdf-lib half-understands (no catalog, broken page tree) is refused, never passed through.
    throw new UnreadablePdfError('unreadable', 'The PDF could not be read, so its author details could not be removed. Export it again as a standard PDF.');
  }
}

async function strip(content: Uint8Array): Promise<Buffer> {
  let document: PDFDocument;
  try {
    document = await PDFDocument.load(content, { updateMetadata: false, throwOnInvalidObject: true });
  } catch (error) {
    if (error instanceof EncryptedPDFError) {
      throw new UnreadablePdfError('encrypted', 'The PDF is encrypted; a blind call needs a file whose author details can be removed. Save it again without a password.');
    }
    throw new UnreadablePdfError('unreadable', 'The PDF could not be read, so its author details could not be removed. Export it again as a standard PDF.');
  }
  const { context } = document;
  context.trailerInfo.Info = undefined;
  context.trailerInfo.ID = undefined;
  document.catalog.delete(METADATA);
  document.catalog.delete(PIECE_INFO);
  for (const page of document.getPages()) {
    page.node.delete(METADATA);
    page.node.delete(PIECE_INFO);
    const annotations = page.node.lookupMaybe(ANNOTS, PDFArray);
    for (let i = 0; annotations && i < annotations.size(); i++) {
      const annotation = annotations.lookupMaybe(i, PDFDict);
      // A form field's /T is its name, not an author; leave fields working.
      if (annotation && annotation.get(SUBTYPE) !== WIDGET) annotation.delete(AUTHOR_OF_ANNOTATION);
    }
  }
  // Any other stream that declares itself metadata (XMP on images, fonts, ...).
  for (const [, object] of context.enumerateIndirectObjects()) {
    const dict = object instanceof PDFStream ? object.dict : object instanceof PDFDict ? object : undefined;
    if (dict?.has(METADATA)) dict.delete(METADATA);
  }
  keepOnlyReachable(document);
  return Buffer.from(await document.save({ useObjectStreams: false, addDefaultPage: false, updateFieldAppearances: false }));
}

/** Deletes every indirect object not reachable from the catalog. */
function keepOnlyReachable(document: PDFDocument): void {
  const { context } = document;
  const root = context.trailerInfo.Root;
  if (!root) throw new UnreadablePdfError('unreadable', 'The PDF has no document catalog. Export it again as a standard PDF.');
  const seen = new Set<string>();
  const stack: PDFObject[] = [root];
  while (stack.length > 0) {
    const object = stack.pop()!;
    if (object instanceof PDFRef) {
      const key = object.toString();
      if (seen.has(key)) continue;
      seen.add(key);
      const target = context.lookup(object);
      if (target) stack.push(target);
    } else if (object instanceof PDFDict) {
      for (const [, value] of object.entries()) stack.push(value);
    } else if (object instanceof PDFStream) {
      stack.push(object.dict);
    } else if (object instanceof PDFArray) {
      for (let i = 0; i < object.size(); i++) stack.push(object.get(i));
    }
  }
  for (const [ref] of context.enumerateIndirectObjects()) if (!seen.has(ref.toString())) context.delete(ref);
}
