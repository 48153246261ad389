import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DomainError, invalid, type FieldError } from '../../../core/errors.js';
import { authorize } from '../../../core/policy.js';
import { formatOf } from './import.reader.js';
import * as s from './import.schemas.js';
import type { ImportService } from './import.service.js';

/** Uploads above this are refused (413); bigger files go through the CLI, which reads them in place. */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

export function importRoutes(imports: ImportService) {
  return async (root: FastifyInstance): Promise<void> => {
    await root.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 } });
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.post('/imports', {
      schema: {
        tags: ['inventory'],
        summary: 'Import samples from a CSV or XLSX file (multipart: file, collectionId, mapping JSON, dryRun, round, allowZero, skipExisting, ignore); answers a job to follow at /jobs/{id}',
        consumes: ['multipart/form-data'],
        response: { 202: s.importAccepted },
      },
    }, async (request, reply) => {
      // Refuse before reading a large body from someone who may not import.
      authorize(request.actor, 'sample.import');
      const upload = await receive(request);
      try {
        const parsed = s.importFormFields.safeParse(upload.fields);
        if (!parsed.success) {
          const errors: FieldError[] = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
          throw new DomainError('validation-failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
        }
        const form = parsed.data;
        const { jobId } = await imports.start(
          request.actor,
          {
            file: upload.file,
            format: upload.format,
            collection: { id: form.collectionId },
            mapping: form.mapping,
            ignore: form.ignore ?? [],
            dryRun: form.dryRun ?? false,
            rounding: form.round ?? 'reject',
            allowZero: form.allowZero ?? false,
            skipExisting: form.skipExisting ?? false,
          },
          () => fs.rm(upload.file, { force: true }, () => undefined),
        );
        return reply.code(202).header('location', `/api/v1/jobs/${jobId}`).send({ jobId });
      } catch (error) {
        fs.rm(upload.file, { force: true }, () => undefined);
        throw error;
      }
    });
  };
}

interface Upload {
  file: string;
  format: 'csv' | 'xlsx';
  fields: Record<string, string>;
}

/** Saves the uploaded file to a temporary path (the import reads it twice) and collects the text fields. */
async function receive(request: FastifyRequest): Promise<Upload> {
  if (!request.isMultipart()) {
    throw new DomainError('unsupported-media-type', 'Send the file as multipart/form-data', { errors: [{ field: 'Content-Type', message: 'must be multipart/form-data' }] });
  }
  const fields: Record<string, string> = {};
  let saved: { file: string; format: 'csv' | 'xlsx' } | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || saved) {
          part.file.resume();
          throw invalid(part.fieldname, 'send exactly one file, in the field "file"');
        }
        const format = formatOf(part.filename);
        if (!format) {
          part.file.resume();
          throw invalid('file', 'must be a .csv or .xlsx file');
        }
        const file = path.join(os.tmpdir(), `samplebank-import-${crypto.randomUUID()}.${format}`);
        saved = { file, format };
        // The upload is the bank's inventory: readable by this user only (0600, whatever the umask), in a new
        // file ('wx' never reuses or follows something already at that path in a shared temp directory).
        await pipeline(part.file, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (error) {
    if (saved) fs.rm(saved.file, { force: true }, () => undefined);
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new DomainError('payload-too-large', `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB; import it with the CLI (samplebank import)`, { errors: [{ field: 'file', message: 'too large' }] });
    }
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') throw invalid('body', 'too many form fields or files');
    throw error;
  }
  if (!saved) throw invalid('file', 'is required (a .csv or .xlsx file in the field "file")');
  return { ...saved, fields };
}
