import fs from 'node:fs';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { systemActor } from '../src/core/actor.js';
import { DomainError } from '../src/core/errors.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { importFields, type ImportField, type Mapping } from '../src/features/inventory/import/import.rows.js';
import type { ImportHooks, ImportResult } from '../src/features/inventory/import/import.service.js';

interface ImportOptions {
  collection: string;
  map: string[];
  mapping?: string;
  dryRun?: boolean;
  round?: 'half-even';
  allowZero?: boolean;
  skipExisting?: boolean;
  ignore: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import samples from a CSV or XLSX file: every row is checked first, then all are imported in one transaction, or none')
    .argument('<file>', 'a .csv or .xlsx file with a header row')
    .requiredOption('--collection <code>', 'the collection the samples join')
    .option('--map <field=column>', `which column holds a field (${importFields.join(', ')}); repeat it`, collect, [])
    .option('--mapping <file.json>', 'the mapping as JSON, e.g. {"identifier":"ID","quantity":"Weight (g)"}')
    .option('--dry-run', 'check every row and print what would be imported; change nothing')
    .option('--round <mode>', 'round quantities with more decimals than the collection allows (only: half-even)')
    .option('--allow-zero', 'register rows whose quantity is 0 as samples with no material (otherwise they are errors)')
    .option('--skip-existing', 'leave out rows whose identifier is already registered, and list them (otherwise they are errors)')
    .option('--ignore <column>', 'a column to leave out (not an attribute); repeat it', collect, [])
    .action(async (file: string, options: ImportOptions) => {
      if (options.round !== undefined && options.round !== 'half-even') throw new Error(`--round: only "half-even" is supported (got "${options.round}")`);
      const mapping = mappingOf(options);
      if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
      const config = loadConfig();
      const context = await compose({ config, logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel) });
      const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: '{phase} [{bar}] {percentage}% | {value}/{total}' }, Presets.shades_classic) : undefined;
      let phase: string | undefined;
      const hooks: ImportHooks = {
        onRowErrors: (errors) => {
          for (const e of errors) process.stdout.write(`row ${e.row}: ${e.column}: ${e.message}\n`);
        },
        onProgress: (next, done, total) => {
          if (!bar) return;
          if (phase !== next) {
            if (phase) bar.stop();
            phase = next;
            bar.start(total, done, { phase: next.padEnd(10) });
          } else bar.update(done);
        },
      };
      try {
        const result = await context.services.imports.run(
          systemActor,
          {
            file,
            collection: { code: options.collection },
            mapping,
            ignore: options.ignore,
            dryRun: options.dryRun ?? false,
            rounding: options.round ?? 'reject',
            allowZero: options.allowZero ?? false,
            skipExisting: options.skipExisting ?? false,
          },
          hooks,
        );
        bar?.stop();
        printResult(result);
      } catch (error) {
        bar?.stop();
        if (error instanceof DomainError) {
          process.stdout.write(`${error.errors.length > 0 ? error.errors.map((e) => `${e.field}: ${e.message}`).join('\n') : error.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw error;
      } finally {
        await context.close();
      }
    });
}

function mappingOf(options: ImportOptions): Mapping {
  const mapping: Mapping = {};
  if (options.mapping) {
    const parsed = JSON.parse(fs.readFileSync(options.mapping, 'utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${options.mapping}: must be a JSON object such as {"identifier":"ID"}`);
    for (const [field, column] of Object.entries(parsed)) setField(mapping, field, column);
  }
  for (const pair of options.map) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--map ${pair}: write FIELD=COLUMN`);
    setField(mapping, pair.slice(0, at), pair.slice(at + 1));
  }
  return mapping;
}

function setField(mapping: Mapping, field: string, column: unknown): void {
  if (!(importFields as readonly string[]).includes(field)) throw new Error(`unknown field "${field}" (fields: ${importFields.join(', ')})`);
  if (typeof column !== 'string' || column === '') throw new Error(`the column for ${field} must be a column name`);
  mapping[field as ImportField] = column;
}

function printResult(result: ImportResult): void {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const err = (line: string): boolean => process.stderr.write(`${line}\n`);
  if (result.errorCount > 0) {
    out(`${result.errorCount} row errors; nothing was imported`);
    process.exitCode = 1;
    return;
  }
  if (result.dryRun) {
    out(`dry run: would import ${result.valid} samples, ${result.quantity} ${result.unit} in all`);
    for (const [kind, v] of Object.entries(result.byKind)) out(`  ${kind}: ${v.samples} samples, ${v.quantity} ${result.unit}`);
  } else {
    out(`imported ${result.imported} samples`);
    err(`total ${result.quantity} ${result.unit} into collection ${result.collectionCode} (job ${result.jobId})`);
  }
  if (result.skipped > 0) {
    out(`skipped ${result.skipped} rows whose identifier is already registered:`);
    for (const s of result.skippedRows) out(`row ${s.row}: ${s.identifier}: skipped (already registered)`);
    if (result.skipped > result.skippedRows.length) out(`… and ${result.skipped - result.skippedRows.length} more`);
  }
}
