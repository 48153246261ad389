/** Checks on an application's content, kept apart from the service's flow. */
import { DomainError, invalid, type FieldError } from '../../core/errors.js';
import { formatQuantity, parseQuantity } from '../../core/quantity.js';
import type { ApplicationRow, ItemRow } from './applications.repository.js';

export interface Offer {
  scale: number;
  unit: string;
  directions: string[];
  releasable: Map<string, bigint>;
}

/** Parses requested items into smallest units; every problem names its field. */
export function parseItems(items: Array<{ kind: string; quantity: string; minimum?: string | undefined }>, offer: Offer): Array<{ kind: string; quantity: bigint; minimum: bigint }> {
  const seen = new Set<string>();
  return items.map((item, i) => {
    const field = `items.${i}`;
    if (seen.has(item.kind)) throw invalid(`${field}.kind`, 'is requested twice; ask for the total once');
    seen.add(item.kind);
    const releasable = offer.releasable.get(item.kind);
    if (releasable === undefined) throw invalid(`${field}.kind`, `is not offered in this call (offered: ${[...offer.releasable.keys()].join(', ') || 'nothing yet'})`);
    const quantity = parseQuantity(item.quantity, offer.scale, { field: `${field}.quantity` });
    const minimum = item.minimum === undefined ? quantity : parseQuantity(item.minimum, offer.scale, { field: `${field}.minimum` });
    if (minimum > quantity) throw invalid(`${field}.minimum`, 'must not exceed the quantity requested');
    if (quantity > releasable) {
      throw new DomainError('insufficient-quantity', `${item.kind}: the call releases at most ${formatQuantity(releasable, offer.scale)} ${offer.unit}`, {
        errors: [{ field: `${field}.quantity`, message: `exceeds the ${formatQuantity(releasable, offer.scale)} ${offer.unit} this call releases` }],
      });
    }
    return { kind: item.kind, quantity, minimum };
  });
}

export function checkDirection(direction: string | null | undefined, offer: Offer): void {
  if (direction && offer.directions.length > 0 && !offer.directions.includes(direction)) {
    throw invalid('researchDirection', `must be one of the call's directions (${offer.directions.join('; ')}); describe anything else in researchDirectionOther`);
  }
}

/** What a submission must contain. */
export function completeness(row: ApplicationRow, items: ItemRow[], humanConsent: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (!row.research_direction && !row.research_direction_other?.trim()) errors.push({ field: 'researchDirection', message: 'choose a research direction or describe one' });
  if (!row.methods?.trim()) errors.push({ field: 'methods', message: 'describe the methods' });
  if (!row.justification?.trim()) errors.push({ field: 'justification', message: 'justify the request' });
  if (items.length === 0) errors.push({ field: 'items', message: 'request at least one item' });
  if (humanConsent && !row.ethics_reference?.trim()) errors.push({ field: 'ethicsReference', message: 'this collection holds human material; give the ethics approval reference' });
  return errors;
}

/**
 * In a blind call the text reviewers read must not name the applicant; a
 * submission that does is sent back rather than leaked.
 */
export function identityLeaks(row: ApplicationRow, identity: string[]): FieldError[] {
  const needles = identity.map((s) => s.trim().toLowerCase()).filter((s) => s.length >= 3);
  const fields: Array<[string, string | null]> = [
    ['title', row.title],
    ['methods', row.methods],
    ['justification', row.justification],
    ['researchDirectionOther', row.research_direction_other],
  ];
  const errors: FieldError[] = [];
  for (const [field, text] of fields) {
    const haystack = (text ?? '').toLowerCase();
    if (needles.some((needle) => haystack.includes(needle))) errors.push({ field, message: 'names you, your team or your institution; this call is reviewed blind' });
  }
  return errors;
}

/** A safe display name: no path, no control characters, always .pdf. */
export function displayName(given: string | undefined): string {
  const base = (given ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f"<>|:*?]/g, '').trim().slice(0, 180);
  if (!cleaned) return 'attachment.pdf';
  return /\.pdf$/i.test(cleaned) ? cleaned : `${cleaned}.pdf`;
}
