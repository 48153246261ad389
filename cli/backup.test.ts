/**
 * `samplebank user add`, `backup` and `restore`, run as a user runs them
 * (node bin/samplebank.js …) against temp DATA_DIRs and fresh PostgreSQL
 * databases: PGlite → PostgreSQL → PGlite gives identical tables (row counts
 * and digests), passwords still sign in, and the audit chain still verifies.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/core/actor.js';
import { compose, type Context } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { summarizeDatabase } from '../src/platform/db/backup.js';
import { SEED_PASSWORD, seedVolume } from '../src/platform/db/backup.testkit.js';
import { createLogger } from '../src/platform/logger.js';
import { adminDatabaseUrl, createPostgresDatabase } from '../test/harness.js';

const root = path.resolve(import.meta.dirname, '..');
const SAMPLES = Number(process.env.BACKUP_TEST_SAMPLES ?? 3000);

function cli(env: Record<string, string>, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/samplebank.js', ...args],
      { cwd: root, env: { ...process.env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'warn', SAMPLEBANK_ADMIN_EMAIL: '', SAMPLEBANK_ADMIN_PASSWORD: '', DATABASE_URL: '', DATA_DIR: '', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input ?? '');
  });
}

async function withContext<T>(env: Record<string, string>, fn: (context: Context) => Promise<T>): Promise<T> {
  const context = await compose({ config: loadConfig({ SAMPLEBANK_AUDIT_KEY_FILE: process.env.SAMPLEBANK_AUDIT_KEY_FILE, ...env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' }), logger: createLogger('silent') });
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const hasPostgres = await postgresReachable();

describe('samplebank user add, backup and restore across engines', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-backup-cli-'));
  const source = { DATA_DIR: path.join(tmp, 'source') };
  const drops: Array<() => Promise<void>> = [];
  let original: Awaited<ReturnType<typeof summarizeDatabase>>;
  let seeded: { email: string };

  beforeAll(async () => {
    seeded = await withContext(source, (context) => seedVolume(context, SAMPLES));
    original = await withContext(source, (context) => summarizeDatabase(context.handle.db));
  }, 300_000);
  afterAll(async () => {
    for (const drop of drops) await drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const freshPostgres = async (): Promise<Record<string, string>> => {
    const database = await createPostgresDatabase('sb_backup');
    drops.push(database.drop);
    return { DATABASE_URL: database.url };
  };

  it('adds users with roles and an institution, reading the password from stdin, and refuses bad options', async () => {
    const env = { DATA_DIR: path.join(tmp, 'users') };
    const code = await withContext(env, async (context) => (await context.services.identity.createInstitution(systemActor, { code: 'IGG', name: 'Institute of Geology' })).code);
    const added = await cli(env, ['user', 'add', '--email', 'curator@igg.test', '--name', 'Zhang San', '--role', 'curator', '--role', 'chair', '--institution', code.toLowerCase(), '--password-stdin'], 'a-long-password\n');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^created user curator@igg\.test \([0-9a-f-]{36}\) with roles curator, chair\n$/);

    const badRole = await cli(env, ['user', 'add', '--email', 'x@igg.test', '--name', 'X', '--role', 'king', '--password-stdin'], 'a-long-password\n');
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('--role: unknown role king');
    const shortPassword = await cli(env, ['user', 'add', '--email', 'y@igg.test', '--name', 'Y', '--role', 'applicant', '--password-stdin'], 'short\n');
    expect(shortPassword.code).toBe(1);
    expect(shortPassword.stderr).toContain('--password');
    const noInstitution = await cli(env, ['user', 'add', '--email', 'z@igg.test', '--name', 'Z', '--role', 'applicant', '--institution', 'NOPE', '--password-stdin'], 'a-long-password\n');
    expect(noInstitution.code).toBe(1);
    expect(noInstitution.stderr).toContain('--institution: no institution with code NOPE');
    const duplicate = await cli(env, ['user', 'add', '--email', 'CURATOR@igg.test', '--name', 'Again', '--role', 'curator', '--password-stdin'], 'a-long-password\n');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('--email: already exists');

    await withContext(env, async (context) => {
      const session = await context.services.identity.login('curator@igg.test', 'a-long-password');
      expect(session.user.roles).toEqual(['curator', 'chair']);
      const users = await context.handle.db.selectFrom('users').select('email').execute();
      expect(users.map((u) => u.email)).toEqual(['curator@igg.test']);
    });
  }, 300_000);

  it('backs up PGlite with a header naming the schema, restores it into PostgreSQL and back, identical table by table', async () => {
    const file = path.join(tmp, 'pglite.jsonl.gz');
    const backup = await cli(source, ['backup', file]);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const totalRows = original.reduce((a, s) => a + s.rows, 0);
    expect(backup.stdout).toContain(`${original.length} tables, ${totalRows} rows`);

    // The file opens with a header naming the format and the schema version.
    const firstLine = await new Promise<string>((resolve) => {
      let text = '';
      const stream = fs.createReadStream(file).pipe(createGunzip());
      stream.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) {
          stream.destroy();
          resolve(text.slice(0, text.indexOf('\n')));
        }
      });
    });
    const header = JSON.parse(firstLine) as { format: string; formatVersion: number; engine: string; migrations: Array<{ version: string }> };
    expect(header).toMatchObject({ format: 'samplebank-backup', formatVersion: 1, engine: 'pglite' });
    expect(header.migrations.map((m) => m.version)).toContain('0035');

    if (!hasPostgres) return; // the cross-engine half needs the PostgreSQL server (CI has it)
    const target = await freshPostgres();
    const restored = await cli(target, ['restore', file]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('every row count and digest matches');
    expect(await withContext(target, (context) => summarizeDatabase(context.handle.db))).toEqual(original);
    const verify = await cli(target, ['audit', 'verify']);
    expect(verify.code, verify.stdout).toBe(0);
    await withContext(target, async (context) => {
      expect((await context.services.identity.login(seeded.email, SEED_PASSWORD)).user.roles).toEqual(['curator', 'auditor']);
      const top = await context.handle.db.selectFrom('samples').select(['quantity', 'attributes']).where('identifier', '=', 'CE5C0000001').executeTakeFirstOrThrow();
      expect(top.quantity).toBe('9223372036854775807');
      // Identity columns continue after the restored rows.
      const next = await context.handle.db.selectFrom('movements').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirstOrThrow();
      expect(Number(next.max)).toBeGreaterThan(0);
    });

    // A non-empty target is refused, and replaced only with --force.
    const again = await cli(target, ['restore', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not empty');
    const forced = await cli(target, ['restore', file, '--force']);
    expect(forced.code, forced.stderr).toBe(0);

    // And back: PostgreSQL → a new PGlite folder.
    const pgFile = path.join(tmp, 'postgres.jsonl');
    expect((await cli(target, ['backup', pgFile])).code).toBe(0);
    const back = { DATA_DIR: path.join(tmp, 'back') };
    const restoredBack = await cli(back, ['restore', pgFile]);
    expect(restoredBack.code, restoredBack.stderr).toBe(0);
    expect(await withContext(back, (context) => summarizeDatabase(context.handle.db))).toEqual(original);
    expect((await cli(back, ['audit', 'verify'])).code).toBe(0);
  }, 600_000);

  it('refuses a damaged or incomplete backup and leaves the target empty', async () => {
    const file = path.join(tmp, 'plain.jsonl');
    expect((await cli(source, ['backup', file])).code).toBe(0);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const rowIndex = lines.findIndex((line, i) => i > 0 && line.startsWith('["') && line.includes('CE5C'));
    const edited = [...lines];
    edited[rowIndex] = edited[rowIndex]!.replace(/CE5C(\d)/, 'CE5X$1');
    fs.writeFileSync(path.join(tmp, 'edited.jsonl'), edited.join('\n'));
    fs.writeFileSync(path.join(tmp, 'cut.jsonl'), lines.slice(0, Math.floor(lines.length / 2)).join('\n'));

    const target = { DATA_DIR: path.join(tmp, 'damaged') };
    const damaged = await cli(target, ['restore', path.join(tmp, 'edited.jsonl')]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/damaged: table samples/);
    const cut = await cli(target, ['restore', path.join(tmp, 'cut.jsonl')]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/ends early|damaged/);
    const notBackup = await cli(target, ['restore', path.join(root, 'package.json')]);
    expect(notBackup.code).toBe(1);
    expect(notBackup.stderr).toContain('not a SampleBank backup');
    const summary = await withContext(target, (context) => summarizeDatabase(context.handle.db));
    expect(summary.every((s) => s.rows === 0)).toBe(true);
  }, 300_000);
});
