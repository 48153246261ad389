import fs from 'node:fs';
import type { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { version } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { backupDatabase, BackupError, restoreDatabase, type Progress, type TableSummary } from '../src/platform/db/backup.js';
import { openDatabase, type DatabaseHandle } from '../src/platform/db/database.js';
import { migrate } from '../src/platform/db/migrate.js';

/** The deployment's database, migrated, without the server's first-start side effects. */
async function open(): Promise<DatabaseHandle> {
  const config = loadConfig();
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: 2 });
  try {
    await migrate(handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** A progress bar on a terminal; nothing when the output is piped. */
function progressBar(): { onProgress: Progress; stop(): void } {
  if (!process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new SingleBar({ stream: process.stderr, format: '{phase} [{bar}] {value}/{total} rows {table}', hideCursor: true }, Presets.shades_classic);
  let started = false;
  let phase = '';
  return {
    onProgress: (event) => {
      const total = event.total > 0 ? event.total : Math.max(event.done, 1);
      if (!started || phase !== event.phase) {
        if (started) bar.stop();
        bar.start(total, event.done, { phase: event.phase.padEnd(8), table: event.table ?? '' });
        started = true;
        phase = event.phase;
      } else {
        bar.setTotal(total);
        bar.update(event.done, { table: event.table ?? '' });
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function printSummary(summaries: TableSummary[]): void {
  const width = Math.max(...summaries.map((s) => s.table.length), 5);
  for (const s of summaries) process.stdout.write(`  ${s.table.padEnd(width)}  ${String(s.rows).padStart(9)}  ${s.digest.slice(0, 16)}\n`);
}

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('write a logical backup of the whole database (JSON lines; gzip if FILE ends in .gz) that restores on either engine')
    .argument('<file>', 'where to write the backup')
    .option('--summary', 'list every table with its row count and digest')
    .action(async (file: string, options: { summary?: boolean }) => {
      const handle = await open();
      const bar = progressBar();
      try {
        const t0 = Date.now();
        const summaries = await backupDatabase(handle, file, { app: version, onProgress: bar.onProgress });
        bar.stop();
        const rows = summaries.reduce((a, s) => a + s.rows, 0);
        process.stdout.write(`backup ${file}: ${summaries.length} tables, ${rows} rows, ${(fs.statSync(file).size / 1024 / 1024).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s (${handle.engine})\n`);
        if (options.summary) printSummary(summaries);
      } finally {
        bar.stop();
        await handle.close();
      }
    });

  program
    .command('restore')
    .description('restore a backup into this (empty) database, then compare every table\'s row count and digest with the backup')
    .argument('<file>', 'a file written by samplebank backup')
    .option('--force', 'replace the contents of a database that is not empty')
    .option('--summary', 'list every table with its row count and digest')
    .action(async (file: string, options: { force?: boolean; summary?: boolean }) => {
      if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
      const handle = await open();
      const bar = progressBar();
      try {
        const t0 = Date.now();
        const result = await restoreDatabase(handle, file, { force: options.force ?? false, onProgress: bar.onProgress });
        bar.stop();
        const rows = result.actual.reduce((a, s) => a + s.rows, 0);
        if (options.summary) printSummary(result.actual);
        if (!result.ok) {
          const expected = new Map(result.expected.map((e) => [e.table, e]));
          for (const a of result.actual) {
            const e = expected.get(a.table);
            if (!e || e.rows !== a.rows || e.digest !== a.digest) process.stdout.write(`MISMATCH ${a.table}: backup ${e?.rows ?? 0} rows ${e?.digest.slice(0, 16) ?? '-'}, restored ${a.rows} rows ${a.digest.slice(0, 16)}\n`);
          }
          process.exitCode = 1;
          return;
        }
        process.stdout.write(
          `restored ${file} (made by SampleBank ${result.header.app} on ${result.header.engine}, ${result.header.createdAt}) into ${handle.engine}: ` +
            `${result.actual.length} tables, ${rows} rows, every row count and digest matches, ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
            `run "samplebank audit verify" to check the audit chain\n`,
        );
      } catch (error) {
        if (error instanceof BackupError) {
          process.stderr.write(`${error.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw error;
      } finally {
        bar.stop();
        await handle.close();
      }
    });
}
