/** Test helpers for imports and exports: collections, uploads, job polling, exact sums computed independently. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import type { Context } from '../../../compose.js';

const DATA = process.env.SAMPLEBANK_REAL_DATA ?? '/work/shared/data';
export const APOLLO = `${DATA}/apollo-rocksamples.csv`;
export const APOLLO16 = `${DATA}/apollo16-samples.csv`;

/** The inventory feature owns collections; until a test needs its rules, a row is enough. */
export async function insertCollection(context: Context, values: { code?: string; unit?: 'g' | 'mg' | 'mL' | 'count'; scale?: number; kinds?: string[] } = {}) {
  const row = {
    id: crypto.randomUUID(),
    code: values.code ?? `C${crypto.randomBytes(4).toString('hex')}`,
    name: 'Imported samples',
    unit: values.unit ?? 'g',
    scale: values.scale ?? 4,
    kinds: values.kinds ?? [],
    human_consent: false,
  };
  await context.handle.db.insertInto('collections').values(row).execute();
  return row;
}

/** Decimal text to units of 10^-scale with BigInt only (no parseQuantity, no floats). */
export function units(text: string, scale: number): bigint {
  const [whole, fraction = ''] = text.trim().split('.') as [string, string?];
  if (fraction.length > scale) throw new Error(`${text} has more than ${scale} decimals`);
  return BigInt(whole + fraction.padEnd(scale, '0'));
}

export function readCsv(file: string): Array<Record<string, string>> {
  return parse(fs.readFileSync(file), { columns: true, bom: true, skip_empty_lines: true }) as Array<Record<string, string>>;
}

export function multipart(fields: Record<string, string>, file?: { name: string; content: Buffer | string }): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----sb${crypto.randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    chunks.push(Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export interface JobView {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  done: number;
  total: number | null;
  message: string | null;
  result: {
    imported: number;
    valid: number;
    skipped: number;
    skippedRows: Array<{ row: number; identifier: string }>;
    quantity: string;
    errorCount: number;
    errors: Array<{ row: number; column: string; message: string }>;
    byKind: Record<string, { samples: number; quantity: string }>;
  } | null;
  error: { type: string; message: string } | null;
}

export async function waitForJob(app: FastifyInstance, headers: Record<string, string>, jobId: string, timeoutMs = 120_000): Promise<JobView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const response = await app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers });
    if (response.statusCode !== 200) throw new Error(`job ${jobId}: ${response.statusCode} ${response.body}`);
    const job = response.json() as JobView;
    if (job.state === 'succeeded' || job.state === 'failed') return job;
    if (Date.now() > until) throw new Error(`job ${jobId} still ${job.state}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function quantitiesOf(context: Context, collectionId: string): Promise<Map<string, bigint>> {
  const rows = await context.handle.db.selectFrom('samples').select(['identifier', 'quantity']).where('collection_id', '=', collectionId).execute();
  return new Map(rows.map((r) => [r.identifier, BigInt(r.quantity)]));
}
