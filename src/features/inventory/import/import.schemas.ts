import { z } from 'zod';
import { importFields } from './import.rows.js';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** The form fields that travel with the uploaded file (all text, as multipart sends them). */
export const importFormFields = z.strictObject({
  collectionId: z.uuid('must be a UUID'),
  mapping: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"identifier":"ID","quantity":"Weight (g)"}' });
        return z.NEVER;
      }
    })
    .pipe(z.partialRecord(z.enum(importFields), z.string().min(1).max(200))),
  ignore: z
    .string()
    .transform((text) => text.split(',').map((c) => c.trim()).filter((c) => c !== ''))
    .optional(),
  dryRun: flag.optional(),
  round: z.enum(['half-even']).optional(),
  allowZero: flag.optional(),
  skipExisting: flag.optional(),
});

export const importAccepted = z.object({ jobId: z.uuid() });
