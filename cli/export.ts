import fs from 'node:fs';
import type { Command } from 'commander';
import { systemActor } from '../src/core/actor.js';
import { DomainError } from '../src/core/errors.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import type { ExportFormat } from '../src/features/inventory/export/export.service.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write a collection's samples as CSV or XLSX (quantities as exact decimal text), or as a FHIR R4 Bundle of Specimens (--format fhir)")
    .requiredOption('--collection <code>', 'the collection to export')
    .option('--format <format>', 'csv, xlsx or fhir (default: from --out, else csv)')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (options: { collection: string; format?: string; out?: string }) => {
      if (options.format === 'fhir') return exportFhir(options.collection, options.out);
      const format = (options.format ?? (options.out?.toLowerCase().endsWith('.xlsx') ? 'xlsx' : 'csv')) as ExportFormat;
      if (format !== 'csv' && format !== 'xlsx') throw new Error(`--format: csv, xlsx or fhir (got "${String(format)}")`);
      if (format === 'xlsx' && !options.out && process.stdout.isTTY) throw new Error('an XLSX file is binary; give --out FILE');
      // A reader that stops early (| head) is not an error.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0);
        throw error;
      });
      const config = loadConfig();
      const context = await compose({ config, logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel) });
      try {
        const out = options.out ? fs.createWriteStream(options.out) : process.stdout;
        const { samples } = await context.services.exports.write(systemActor, { code: options.collection }, format, out);
        if (options.out) {
          await new Promise<void>((resolve, reject) => {
            const file = out as fs.WriteStream;
            file.once('error', reject);
            if (file.writableFinished) resolve();
            else file.once('finish', () => resolve());
            if (!file.writableEnded) file.end();
          });
        }
        if (options.out) process.stderr.write(`exported ${samples} samples to ${options.out}\n`);
      } catch (error) {
        if (error instanceof DomainError) {
          process.stderr.write(`${error.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw error;
      } finally {
        await context.close();
      }
    });
}

/** The collection as one FHIR R4 Bundle (JSON), streamed to the file or standard output. */
async function exportFhir(collection: string, out: string | undefined): Promise<void> {
  const config = loadConfig();
  const context = await compose({ config, logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel) });
  try {
    const target = out ? fs.createWriteStream(out) : process.stdout;
    const { samples } = await context.services.pathologyExports.writeBundle(systemActor, { code: collection }, target);
    if (out) {
      await new Promise<void>((resolve, reject) => {
        const file = target as fs.WriteStream;
        file.once('error', reject);
        file.once('finish', () => resolve());
        file.end();
      });
      process.stderr.write(`exported ${samples} samples as FHIR Specimens to ${out}\n`);
    }
  } catch (error) {
    if (error instanceof DomainError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    await context.close();
  }
}
