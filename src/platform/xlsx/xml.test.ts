import { describe, expect, it } from 'vitest';
import { XmlError, XmlScanner } from './xml.js';

/** Scans the document fed in pieces of `size` bytes; returns the events as text. */
function events(xml: string, size: number): string[] {
  const out: string[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push(`text ${text}`);
    text = '';
  };
  const scanner = new XmlScanner({
    open(name, attributes, selfClosing) {
      flush();
      out.push(`open ${name} ${JSON.stringify(attributes)}${selfClosing ? ' /' : ''}`);
    },
    close(name) {
      flush();
      out.push(`close ${name}`);
    },
    wantsText: () => true,
    text(piece) {
      text += piece;
    },
  });
  const bytes = Buffer.from(xml);
  for (let at = 0; at < bytes.length; at += size) scanner.write(bytes.subarray(at, at + size));
  scanner.end();
  flush();
  return out;
}

describe('XmlScanner', () => {
  const xml = '<?xml version="1.0"?><!-- a > comment --><x:sst a="1 > 0" b=\'&quot;q&quot;\'><si><t>月 &amp; &#x58;&#65;&lt;</t><t><![CDATA[<raw> & ]]></t><e/></si></x:sst>';
  const expected = [
    'open sst {"a":"1 > 0","b":"\\"q\\""}',
    'open si {}',
    'open t {}',
    'text 月 & XA<',
    'close t',
    'open t {}',
    'text <raw> & ',
    'close t',
    'open e {} /',
    'close e',
    'close si',
    'close sst',
  ];

  it('gives the same events however the bytes are cut (inside characters, entities and tags)', () => {
    for (const size of [1, 2, 3, 5, 7, 1000]) expect(events(xml, size), `pieces of ${size}`).toEqual(expected);
  });

  it('refuses a document type declaration, a tag without end and a broken entity', () => {
    expect(() => events('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', 1000)).toThrow(XmlError);
    expect(() => events(`<x a="${'y'.repeat(2 * 1024 * 1024)}`, 64 * 1024)).toThrow(/longer than/);
    expect(() => events(`<x>&${'a'.repeat(100)}`, 16)).toThrow(/entity/);
  });
});
