import { invalid } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const refused = () => invalid('cursor', 'is not a cursor this list gave out');

/** Opaque cursors: base64url of the last item's sort key. */
export const cursor = {
  encode: (...parts: string[]): string => Buffer.from(parts.join('\n')).toString('base64url'),
  decode(text: string, count: number): string[] {
    const parts = Buffer.from(text, 'base64url').toString('utf8').split('\n');
    if (parts.length !== count || parts.some((p) => p.length === 0)) throw refused();
    return parts;
  },
};

/** The cursor of a list in the sample list's order: identifier, then id. */
export const sampleOrderCursor = {
  encode: (last: { identifier: string; id: string }): string => cursor.encode(last.identifier, last.id),
  decode(text: string): { identifier: string; id: string } {
    const [identifier, id] = cursor.decode(text, 2) as [string, string];
    if (!UUID.test(id)) throw refused();
    return { identifier, id };
  },
};

/**
 * The cursor of a list ordered by a lower-cased name, then id (users). JSON
 * inside, since a name may hold any character, a line break included.
 */
export const nameOrderCursor = {
  encode: (last: { name: string; id: string }): string => cursor.encode(JSON.stringify([last.name, last.id])),
  decode(text: string): { name: string; id: string } {
    let key: unknown;
    try {
      key = JSON.parse(cursor.decode(text, 1)[0]!);
    } catch {
      throw refused();
    }
    if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== 'string' || typeof key[1] !== 'string' || !UUID.test(key[1])) throw refused();
    return { name: key[0], id: key[1] };
  },
};
