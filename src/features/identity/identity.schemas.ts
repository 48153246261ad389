import { z } from 'zod';
import { roles } from '../../core/roles.js';

export const limits = {
  name: 200,
  email: 254,
  passwordMin: 8,
  passwordMax: 200,
  code: 32,
} as const;

export const uuid = z.uuid();
export const code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'letters, digits, dot, dash or underscore; at most 32');
export const password = z.string().min(limits.passwordMin, `at least ${limits.passwordMin} characters`).max(limits.passwordMax);
export const email = z.email().max(limits.email);
export const personName = z.string().trim().min(1).max(limits.name);

export const institutionInput = z.strictObject({ code, name: personName, parentBody: z.string().trim().min(1).max(200).optional() });
export const institution = z.object({ id: uuid, code: z.string(), name: z.string(), parentBody: z.string().nullable() });

export const userInput = z.strictObject({
  email,
  name: personName,
  password,
  institutionId: uuid.nullable().optional(),
  roles: z.array(z.enum(roles)).max(6),
});
export const user = z.object({
  id: uuid,
  email: z.string(),
  name: z.string(),
  institutionId: uuid.nullable(),
  roles: z.array(z.enum(roles)),
  disabled: z.boolean().describe('A disabled user cannot sign in; their sessions and API tokens were revoked when they were disabled'),
});

export const userUpdate = z.strictObject({
  name: personName.optional(),
  institutionId: uuid.nullable().optional(),
  roles: z.array(z.enum(roles)).max(6).optional(),
  disabled: z.boolean().optional(),
});

export const passwordResetInput = z.strictObject({ password });

export const userQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
  q: z.string().trim().min(1).max(limits.email).optional().describe('Part of the e-mail address or the name, any case'),
});

export const loginInput = z.strictObject({ email: z.string().min(1).max(limits.email), password: z.string().min(1).max(limits.passwordMax) });
export const loginOutput = z.object({ user, token: z.string(), expiresAt: z.date() });

/** An API token's name and lifetime; `maxDays` is the server's maximum (SAMPLEBANK_API_TOKEN_MAX_DAYS). */
export const tokenInput = (maxDays: number) =>
  z.strictObject({
    name: z.string().trim().min(1).max(100),
    expiresInDays: z
      .int()
      .min(1)
      .max(maxDays, `at most ${maxDays} days, the most this server allows`)
      .optional()
      .describe("Days until the token stops working; the server's default when left out"),
  });
export const passwordChangeInput = z.strictObject({ currentPassword: z.string().min(1).max(limits.passwordMax), newPassword: password });

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});
