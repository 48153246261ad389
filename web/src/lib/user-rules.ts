/**
 * The admin's user forms: their checks as the admin types, mirroring the
 * server (src/features/identity/identity.schemas.ts: e-mail, name, password
 * length), the bodies they send, and the page's own words for the server's
 * refusals. The server still decides; this only tells the admin sooner.
 * Messages are i18n keys (users.err) with their values.
 */
import type { FieldError } from '../api/client';
import type { Problems } from './application-rules';

export const allRoles = ['admin', 'curator', 'reviewer', 'chair', 'applicant', 'auditor'] as const;
export type UserRole = (typeof allRoles)[number];

export const limits = { name: 200, email: 254, passwordMin: 8, passwordMax: 200 } as const;

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
 * language (the taken e-mail, the last enabled admin, disabling oneself);
 * undefined for any other, whose message the server's words carry.
 */
export function refusalKey(type: string, error: FieldError): string | undefined {
  if (type === 'duplicate' && error.field === 'email') return 'users.err.emailTaken';
  if (type === 'conflict' && /no enabled admin/.test(error.message)) return 'users.err.lastAdmin';
  if (type === 'conflict' && error.field === 'disabled') return 'users.err.self';
  if (error.field === 'institutionId') return 'users.err.noInstitution';
  return undefined;
}
