/**
 * The donor and specimen registration forms' checks as the curator types,
 * mirroring the server (src/core/consent.ts and
 * src/features/pathology/pathology.schemas.ts): the server still decides,
 * this only tells the curator sooner. Messages are i18n keys (register.err)
 * with their values.
 */
import type { Problem, Problems } from './application-rules';
import { parseQuantity } from './quantity';

export const collectionMethods = ['autopsy', 'biopsy', 'resection', 'aspiration', 'swab', 'venipuncture', 'lavage', 'other'] as const;
export const fixations = ['none', 'formalin', 'alcohol', 'frozen', 'oct', 'rnalater', 'other'] as const;
export const biosafetyLevels = ['1', '2', '3', '4'] as const;

const icd10Pattern = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;
const sprecPattern = /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]-[A-Z0-9]-([A-Z0-9]|[A-Z0-9]{3})-[A-Z0-9]-[A-Z0-9]$/;
const integer = /^[+-]?\d+$/;

export interface DonorDraft {
  code: string;
  collectionId: string;
  collectedOn: string;
  collectionSite: string;
  /** ICD-10 codes as typed, separated by commas, semicolons or spaces. */
  diagnoses: string;
}

export const emptyDonor = (collectionId = ''): DonorDraft => ({ code: '', collectionId, collectedOn: '', collectionSite: '', diagnoses: '' });

/** The server's donor code rule (donorCodeProblem): a pseudonym, never a number from an identity document. */
export function donorCodeProblem(code: string): Problem | undefined {
  if (code === '') return { key: 'register.err.code' };
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/.test(code)) return { key: 'register.err.codeFormat' };
  if (!/[A-Za-z]/.test(code)) return { key: 'register.err.codeLetter' };
  if (/[0-9]{9}/.test(code)) return { key: 'register.err.codeDigits' };
  return undefined;
}

/** The diagnosis codes in a typed list, upper-cased as the server stores them. */
export function diagnosisCodes(text: string): string[] {
  return text
    .split(/[\s,;，；、]+/)
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);
}

export function donorProblems(draft: DonorDraft): Problems {
  const problems: Problems = {};
  const code = donorCodeProblem(draft.code.trim());
  if (code) problems.code = code;
  if (!draft.collectionId) problems.collectionId = { key: 'register.err.collection' };
  if (draft.collectedOn && !/^\d{4}-\d{2}-\d{2}$/.test(draft.collectedOn)) problems.collectedOn = { key: 'register.err.date' };
  if (draft.collectionSite.trim().length > 200) problems.collectionSite = { key: 'apply.err.long', values: { max: 200 } };
  const codes = diagnosisCodes(draft.diagnoses);
  const wrong = codes.filter((c) => !icd10Pattern.test(c));
  if (wrong.length > 0) problems.diagnoses = { key: 'register.err.icd10', values: { codes: wrong.join(', ') } };
  else if (codes.length > 50) problems.diagnoses = { key: 'register.err.tooManyCodes', values: { max: 50 } };
  return problems;
}

/** The POST /donors body: only the fields the curator filled in. */
export function donorBody(draft: DonorDraft): { code: string; collectionId: string; collectedOn?: string; collectionSite?: string; diagnoses?: string[] } {
  const codes = [...new Set(diagnosisCodes(draft.diagnoses))];
  return {
    code: draft.code.trim(),
    collectionId: draft.collectionId,
    ...(draft.collectedOn ? { collectedOn: draft.collectedOn } : {}),
    ...(draft.collectionSite.trim() ? { collectionSite: draft.collectionSite.trim() } : {}),
    ...(codes.length > 0 ? { diagnoses: codes } : {}),
  };
}

export interface SpecimenDraft {
  kind: string;
  quantity: string;
  identifier: string;
  collectionMethod: string;
  bodySite: string;
  /** As an <input type="datetime-local"> gives it: local time without a zone. */
  collectedAt: string;
  fixation: string;
  coldIschaemiaMinutes: string;
  storageTemperatureC: string;
  sprec: string;
  biosafetyLevel: string;
}

export const emptySpecimen = (kind = ''): SpecimenDraft => ({
  kind,
  quantity: '',
  identifier: '',
  collectionMethod: '',
  bodySite: '',
  collectedAt: '',
  fixation: '',
  coldIschaemiaMinutes: '',
  storageTemperatureC: '',
  sprec: '',
  biosafetyLevel: '',
});

function integerProblem(text: string, min: number, max: number): Problem | undefined {
  const trimmed = text.trim();
  if (!integer.test(trimmed)) return { key: 'register.err.integer' };
  const value = Number(trimmed);
  if (value < min || value > max) return { key: 'register.err.range', values: { min, max } };
  return undefined;
}

export function specimenProblems(draft: SpecimenDraft, collection: { scale: number }): Problems {
  const problems: Problems = {};
  if (!draft.kind) problems.kind = { key: 'apply.err.kind' };
  const quantity = parseQuantity(draft.quantity, collection.scale);
  if (!quantity.ok) {
    problems.quantity = quantity.reason === 'scale' ? (collection.scale === 0 ? { key: 'apply.err.whole' } : { key: 'apply.err.scale', values: { scale: collection.scale } }) : { key: `apply.err.${quantity.reason}` };
  } else if (quantity.value === 0n) {
    problems.quantity = { key: 'apply.err.zero' };
  }
  const identifier = draft.identifier.trim();
  if (/\s/.test(identifier)) problems.identifier = { key: 'register.err.spaces' };
  else if (identifier.length > 64) problems.identifier = { key: 'apply.err.long', values: { max: 64 } };
  if (draft.bodySite.trim().length > 200) problems.bodySite = { key: 'apply.err.long', values: { max: 200 } };
  if (draft.collectedAt && Number.isNaN(new Date(draft.collectedAt).getTime())) problems.collectedAt = { key: 'register.err.date' };
  if (draft.coldIschaemiaMinutes.trim()) {
    const problem = integerProblem(draft.coldIschaemiaMinutes, 0, 100_000);
    if (problem) problems.coldIschaemiaMinutes = problem;
  }
  if (draft.storageTemperatureC.trim()) {
    const problem = integerProblem(draft.storageTemperatureC, -273, 60);
    if (problem) problems.storageTemperatureC = problem;
  }
  if (draft.sprec.trim() && !sprecPattern.test(draft.sprec.trim().toUpperCase())) problems.sprec = { key: 'register.err.sprec' };
  return problems;
}

export type SpecimenBody = {
  kind: string;
  quantity: string;
  identifier?: string;
  collectionMethod?: (typeof collectionMethods)[number];
  bodySite?: string;
  collectedAt?: string;
  fixation?: (typeof fixations)[number];
  coldIschaemiaMinutes?: number;
  storageTemperatureC?: number;
  sprec?: string;
  biosafetyLevel?: number;
};

/** The POST /donors/{id}/specimens body (a new sample of the donor): only the fields filled in. */
export function specimenBody(draft: SpecimenDraft): SpecimenBody {
  const method = collectionMethods.find((m) => m === draft.collectionMethod);
  const fixation = fixations.find((f) => f === draft.fixation);
  return {
    kind: draft.kind,
    quantity: draft.quantity.trim(),
    ...(draft.identifier.trim() ? { identifier: draft.identifier.trim() } : {}),
    ...(method ? { collectionMethod: method } : {}),
    ...(draft.bodySite.trim() ? { bodySite: draft.bodySite.trim() } : {}),
    ...(draft.collectedAt ? { collectedAt: new Date(draft.collectedAt).toISOString() } : {}),
    ...(fixation ? { fixation } : {}),
    ...(draft.coldIschaemiaMinutes.trim() ? { coldIschaemiaMinutes: Number(draft.coldIschaemiaMinutes.trim()) } : {}),
    ...(draft.storageTemperatureC.trim() ? { storageTemperatureC: Number(draft.storageTemperatureC.trim()) } : {}),
    ...(draft.sprec.trim() ? { sprec: draft.sprec.trim().toUpperCase() } : {}),
    ...(draft.biosafetyLevel ? { biosafetyLevel: Number(draft.biosafetyLevel) } : {}),
  };
}
