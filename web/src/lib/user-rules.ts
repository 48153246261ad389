/**
 * The admin's user and institution forms: their checks as the admin types,
 * mirroring the server (src/features/identity/identity.schemas.ts: e-mail,
 * name, password length, institution code, name and parent body), the bodies
 * they send, and the page's own words for the server's refusals. The server still decides; this only tells the admin sooner.
 * Messages are i18n keys (users.err) with their values.
 */
import type { FieldError } from '../api/client';
import type { Problems } from './application-rules';

export const allRoles = ['admin', 'curator', 'reviewer', 'chair', 'applicant', 'auditor'] as const;
export type UserRole = (typeof allRoles)[number];

export const limits = { name: 200, email: 254, passwordMin: 8, passwordMax: 200, code: 32, parentBody: 200 } as const;

/** An institution's code, as the server accepts it: a letter or digit, then letters, digits, dot, dash or underscore. */
const codePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** The e-mail shape the server accepts (zod's). */
const emailPattern = /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;

export interface NewUserDraft {
  email: string;
  name: string;
  institutionId: string;
  roles: UserRole[];
  password: string;
}

export interface UserEditDraft {
  name: string;
  institutionId: string;
  roles: UserRole[];
}

export interface InstitutionDraft {
  code: string;
  name: string;
  parentBody: string;
}

/** A new password for a user who lost theirs, typed twice. */
export interface PasswordDraft {
  password: string;
  again: string;
}

export const emptyUser = (): NewUserDraft => ({ email: '', name: '', institutionId: '', roles: [], password: '' });

export function emailProblem(text: string): Problems[string] | undefined {
  const email = text.trim();
  if (email === '') return { key: 'users.err.email' };
  if (email.length > limits.email) return { key: 'users.err.long', values: { max: limits.email } };
  if (!emailPattern.test(email)) return { key: 'users.err.emailShape' };
  return undefined;
}

function nameProblem(text: string): Problems[string] | undefined {
  const name = text.trim();
  if (name === '') return { key: 'users.err.name' };
  if (name.length > limits.name) return { key: 'users.err.long', values: { max: limits.name } };
  return undefined;
}

export function passwordProblem(password: string): Problems[string] | undefined {
  if (password.length < limits.passwordMin) return { key: 'users.err.passwordShort', values: { min: limits.passwordMin, length: password.length } };
  if (password.length > limits.passwordMax) return { key: 'users.err.long', values: { max: limits.passwordMax } };
  return undefined;
}

/** What is wrong with a code the pattern refuses: a character it cannot hold (a space said as such), or its first one. */
function codeShapeProblem(code: string): Problems[string] {
  const bad = [...code].find((char) => !/[A-Za-z0-9._-]/.test(char));
  if (bad !== undefined) return /\s/.test(bad) ? { key: 'users.err.codeSpace' } : { key: 'users.err.codeChar', values: { char: bad } };
  return { key: 'users.err.codeStart' };
}

/** A new institution's problems, in the order of the form's fields: code, name, parent body (optional). */
export function institutionProblems(draft: InstitutionDraft): Problems {
  const problems: Problems = {};
  const code = draft.code.trim();
  if (code === '') problems.code = { key: 'users.err.code' };
  else if (code.length > limits.code) problems.code = { key: 'users.err.long', values: { max: limits.code } };
  else if (!codePattern.test(code)) problems.code = codeShapeProblem(code);
  const name = draft.name.trim();
  if (name === '') problems.name = { key: 'users.err.institutionName' };
  else if (name.length > limits.name) problems.name = { key: 'users.err.long', values: { max: limits.name } };
  if (draft.parentBody.trim().length > limits.parentBody) problems.parentBody = { key: 'users.err.long', values: { max: limits.parentBody } };
  return problems;
}

/** Trimmed; a blank parent body is left out (the server takes none rather than an empty one). */
export function institutionBody(draft: InstitutionDraft): { code: string; name: string; parentBody?: string } {
  const parentBody = draft.parentBody.trim();
  return { code: draft.code.trim(), name: draft.name.trim(), ...(parentBody ? { parentBody } : {}) };
}

/** The new password's length, then the second typing: the same password. */
export function passwordResetProblems(draft: PasswordDraft): Problems {
  const problems: Problems = {};
  const password = passwordProblem(draft.password);
  if (password) problems.password = password;
  if (draft.again === '') problems.again = { key: 'users.err.again' };
  else if (draft.again !== draft.password) problems.again = { key: 'users.err.mismatch' };
  return problems;
}

/** The new user's problems, in the order of the form's fields. */
export function newUserProblems(draft: NewUserDraft): Problems {
  const problems: Problems = {};
  const email = emailProblem(draft.email);
  if (email) problems.email = email;
  const name = nameProblem(draft.name);
  if (name) problems.name = name;
  const password = passwordProblem(draft.password);
  if (password) problems.password = password;
  return problems;
}

export function editProblems(draft: UserEditDraft): Problems {
  const name = nameProblem(draft.name);
  return name ? { name } : {};
}

/** Roles in the usual order, each once. */
export const inRoleOrder = (roles: readonly string[]): UserRole[] => allRoles.filter((role) => roles.includes(role));

export function newUserBody(draft: NewUserDraft): { email: string; name: string; password: string; institutionId: string | null; roles: UserRole[] } {
  return { email: draft.email.trim(), name: draft.name.trim(), password: draft.password, institutionId: draft.institutionId || null, roles: inRoleOrder(draft.roles) };
}

/** Only what changed: an unchanged user sends nothing. */
export function editBody(before: { name: string; institutionId: string | null; roles: readonly string[] }, draft: UserEditDraft): { name?: string; institutionId?: string | null; roles?: UserRole[] } {
  const body: { name?: string; institutionId?: string | null; roles?: UserRole[] } = {};
  const name = draft.name.trim();
  if (name !== before.name) body.name = name;
  const institutionId = draft.institutionId || null;
  if (institutionId !== before.institutionId) body.institutionId = institutionId;
  const roles = inRoleOrder(draft.roles);
  const was = inRoleOrder(before.roles);
  if (roles.length !== was.length || roles.some((role, index) => role !== was[index])) body.roles = roles;
  return body;
}

/**
 * The i18n key for a refusal the page knows, so it reads in the admin's
 * language (the taken e-mail or institution code, the last enabled admin,
 * disabling oneself, setting one's own password here);
 * undefined for any other, whose message the server's words carry.
 */
export function refusalKey(type: string, error: FieldError): string | undefined {
  if (type === 'duplicate' && error.field === 'email') return 'users.err.emailTaken';
  if (type === 'duplicate' && error.field === 'code') return 'users.err.codeTaken';
  if (type === 'conflict' && error.field === 'password') return 'users.err.ownPassword';
  if (type === 'conflict' && /no enabled admin/.test(error.message)) return 'users.err.lastAdmin';
  if (type === 'conflict' && error.field === 'disabled') return 'users.err.self';
  if (error.field === 'institutionId') return 'users.err.noInstitution';
  return undefined;
}
