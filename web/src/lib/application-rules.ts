/**
 * The application form's checks as the applicant types, mirroring the server
 * (src/features/applications/applications.rules.ts): the server still
 * decides, this only tells the applicant sooner. Messages are i18n keys with
 * their values.
 */
import { formatQuantity, parseQuantity } from './quantity';

export interface ItemDraft {
  kind: string;
  quantity: string;
  minimum: string;
}

export interface ApplicationDraft {
  title: string;
  researchDirection: string;
  researchDirectionOther: string;
  methods: string;
  destructive: boolean;
  justification: string;
  ethicsReference: string;
  items: ItemDraft[];
}

export interface Offer {
  scale: number;
  unit: string;
  directions: string[];
  /** Releasable quantity per kind, as the API sent it. */
  releasable: Record<string, string>;
  humanConsent: boolean;
}

export interface Problem {
  key: string;
  values?: Record<string, string | number>;
}
export type Problems = Record<string, Problem>;

export const OTHER = '__other__';

const quantityProblem = (text: string, scale: number): Problem | bigint => {
  const parsed = parseQuantity(text, scale);
  if (parsed.ok) return parsed.value === 0n ? { key: 'apply.err.zero' } : parsed.value;
  if (parsed.reason === 'scale') return scale === 0 ? { key: 'apply.err.whole' } : { key: 'apply.err.scale', values: { scale } };
  return { key: `apply.err.${parsed.reason}` };
};

/** Problems that stop a draft being saved (the server refuses these even in a draft). */
export function draftProblems(draft: ApplicationDraft, offer: Offer): Problems {
  const problems: Problems = {};
  if (!draft.title.trim()) problems.title = { key: 'apply.err.title' };
  else if (draft.title.length > 300) problems.title = { key: 'apply.err.long', values: { max: 300 } };
  const seen = new Set<string>();
  draft.items.forEach((item, i) => {
    const at = `items.${i}`;
    if (!item.kind) problems[`${at}.kind`] = { key: 'apply.err.kind' };
    else if (seen.has(item.kind)) problems[`${at}.kind`] = { key: 'apply.err.twice' };
    seen.add(item.kind);
    const quantity = quantityProblem(item.quantity, offer.scale);
    if (typeof quantity !== 'bigint') {
      problems[`${at}.quantity`] = quantity;
      return;
    }
    const releasable = offer.releasable[item.kind];
    if (releasable !== undefined) {
      const limit = parseQuantity(releasable, offer.scale);
      if (limit.ok && quantity > limit.value) problems[`${at}.quantity`] = { key: 'apply.err.tooMuch', values: { max: formatQuantity(limit.value, offer.scale), unit: offer.unit } };
    }
    if (item.minimum.trim()) {
      const minimum = quantityProblem(item.minimum, offer.scale);
      if (typeof minimum !== 'bigint') problems[`${at}.minimum`] = minimum;
      else if (minimum > quantity) problems[`${at}.minimum`] = { key: 'apply.err.minimum' };
    }
  });
  return problems;
}

/** Everything a submission needs on top of a valid draft. */
export function submitProblems(draft: ApplicationDraft, offer: Offer): Problems {
  const problems = draftProblems(draft, offer);
  const direction = draft.researchDirection === OTHER || offer.directions.length === 0 ? draft.researchDirectionOther.trim() : draft.researchDirection;
  if (!direction) problems.researchDirection = { key: 'apply.err.direction' };
  if (!draft.methods.trim()) problems.methods = { key: 'apply.err.methods' };
  if (!draft.justification.trim()) problems.justification = { key: 'apply.err.justification' };
  if (draft.items.length === 0) problems.items = { key: 'apply.err.items' };
  if (offer.humanConsent && !draft.ethicsReference.trim()) problems.ethicsReference = { key: 'apply.err.ethics' };
  return problems;
}

/** The body the API takes for a draft (create or patch). */
export function toBody(draft: ApplicationDraft, offer: Offer) {
  const other = draft.researchDirection === OTHER || offer.directions.length === 0;
  return {
    title: draft.title.trim(),
    researchDirection: other ? null : draft.researchDirection || null,
    researchDirectionOther: other ? draft.researchDirectionOther.trim() || null : null,
    methods: draft.methods || null,
    destructive: draft.destructive,
    justification: draft.justification || null,
    ethicsReference: draft.ethicsReference.trim() || null,
    items: draft.items.map((item) => ({ kind: item.kind, quantity: item.quantity.trim(), ...(item.minimum.trim() ? { minimum: item.minimum.trim() } : {}) })),
  };
}
