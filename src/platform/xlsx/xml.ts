/**
 * A streaming scanner for the XML of spreadsheet parts, with nothing held
 * beyond what it is told to keep: markup is buffered only up to MAX_MARKUP
 * characters, and text is handed over in pieces (entities decoded) only
 * while the handler asks for it, so a 300 MB text node costs nothing unless
 * someone keeps it (and the sheet reader keeps at most one cell's worth).
 * General-purpose parsers (saxes, under exceljs) accumulate a whole text node
 * in memory before they hand it over. Document type declarations are refused:
 * no spreadsheet has one, and they are how entity expansion bombs start.
 */
import { StringDecoder } from 'node:string_decoder';

export interface XmlHandler {
  /** Element names are given without their namespace prefix (`x:row` is `row`). */
  open(name: string, attributes: Record<string, string>, selfClosing: boolean): void;
  close(name: string): void;
  /** Whether text at this point is wanted; text nobody wants is skipped undecoded. */
  wantsText(): boolean;
  text(piece: string): void;
}

export class XmlError extends Error {
  override name = 'XmlError';
}

/** The longest tag, comment or CDATA section kept in memory while waiting for its end. */
const MAX_MARKUP = 1024 * 1024;
/** The longest entity reference (`&#x0010FFFF;` and a little more). */
const MAX_ENTITY = 32;

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, name: string) => {
    if (name[0] !== '#') return NAMED[name] ?? whole;
    const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

const ATTRIBUTE = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export class XmlScanner {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';

  constructor(private readonly handler: XmlHandler) {}

  write(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    this.scan(false);
  }

  end(): void {
    this.buffer += this.decoder.end();
    this.scan(true);
    if (this.buffer.trim() !== '') throw new XmlError('the XML ends in the middle of a tag');
  }

  private scan(final: boolean): void {
    const b = this.buffer;
    let at = 0;
    while (at < b.length) {
      if (b[at] !== '<') {
        const lt = b.indexOf('<', at);
        let stop = lt < 0 ? b.length : lt;
        if (lt < 0 && !final) {
          // Keep back an entity cut in two by the chunk boundary.
          const amp = b.lastIndexOf('&', stop - 1);
          if (amp >= at && b.indexOf(';', amp) < 0) {
            if (stop - amp > MAX_ENTITY) throw new XmlError('an entity reference is malformed');
            stop = amp;
          }
        }
        if (stop > at && this.handler.wantsText()) this.handler.text(decodeEntities(b.slice(at, stop)));
        at = stop;
        if (lt < 0) break;
        continue;
      }
      const next = this.markup(b, at);
      if (next < 0) {
        if (b.length - at > MAX_MARKUP) throw new XmlError(`a tag is longer than ${MAX_MARKUP} characters`);
        break;
      }
      at = next;
    }
    this.buffer = b.slice(at);
  }

  /** Handles the markup starting at `at`; returns where it ends, or -1 when it is not complete yet. */
  private markup(b: string, at: number): number {
    if (b.startsWith('<?', at)) return endOf(b, '?>', at);
    if (b.startsWith('<!--', at)) return endOf(b, '-->', at);
    if (b.startsWith('<![CDATA[', at)) {
      const end = endOf(b, ']]>', at);
      if (end >= 0 && this.handler.wantsText()) this.handler.text(b.slice(at + 9, end - 3));
      return end;
    }
    if (b.startsWith('<!', at)) {
      if (b.length - at < 9) return -1;
      throw new XmlError('it has a document type declaration, which spreadsheets never have');
    }
    const end = tagEnd(b, at);
    if (end < 0) return -1;
    const tag = b.slice(at + 1, end - 1);
    if (tag.startsWith('/')) {
      this.handler.close(localName(tag.slice(1).trim()));
      return end;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const space = body.search(/\s/);
    const name = localName(space < 0 ? body : body.slice(0, space));
    const attributes: Record<string, string> = {};
    if (space >= 0) {
      for (const m of body.slice(space).matchAll(ATTRIBUTE)) attributes[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
    }
    this.handler.open(name, attributes, selfClosing);
    if (selfClosing) this.handler.close(name);
    return end;
  }
}

function endOf(b: string, terminator: string, at: number): number {
  const i = b.indexOf(terminator, at);
  return i < 0 ? -1 : i + terminator.length;
}

/** A start or end tag after its '<': anything up to the first '>' outside a quoted attribute value (linear, no backtracking). */
const TAG_REST = /[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>/y;

/** Where the tag starting at `at` ends, or -1 when its end is not in the buffer yet. */
function tagEnd(b: string, at: number): number {
  TAG_REST.lastIndex = at + 1;
  return TAG_REST.test(b) ? TAG_REST.lastIndex : -1;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}
