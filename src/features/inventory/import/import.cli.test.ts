/**
 * The CLI contract other tools rely on, run as a user runs it:
 * `node bin/samplebank.js import FILE --collection CODE --map FIELD=COLUMN …`
 * against a DATA_DIR (or a DATABASE_URL on PostgreSQL) the test also opens.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, type Context } from '../../../compose.js';
import { loadConfig } from '../../../platform/config.js';
import { createLogger } from '../../../platform/logger.js';
import { createPostgresDatabase, engine } from '../../../../test/harness.js';
import { APOLLO16, insertCollection, readCsv, units } from './import.testkit.js';

const root = path.resolve(import.meta.dirname, '../../../..');

interface Deployment {
  env: Record<string, string>;
  open(): Promise<Context>;
  drop(): Promise<void>;
}

async function deployment(tmp: string, name: string): Promise<Deployment> {
  const env: Record<string, string> = { SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'warn' };
  let drop = async (): Promise<void> => {};
  if (engine === 'postgres') {
    const database = await createPostgresDatabase('sb_cli');
    env.DATABASE_URL = database.url;
    drop = database.drop;
  } else {
    env.DATA_DIR = path.join(tmp, name);
  }
  return {
    env,
    open: () => compose({ config: loadConfig({ SAMPLEBANK_AUDIT_KEY_FILE: process.env.SAMPLEBANK_AUDIT_KEY_FILE, ...env, LOG_LEVEL: 'silent' }), logger: createLogger('silent') }),
    drop,
  };
}

function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/samplebank.js', ...args], { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** PGlite is one process at a time: the test opens the database only between CLI runs. */
async function withDb<T>(d: Deployment, fn: (context: Context) => Promise<T>): Promise<T> {
  const context = await d.open();
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

async function quantities(d: Deployment, code: string): Promise<Map<string, bigint>> {
  return withDb(d, async (context) => {
    const rows = await context.handle.db
      .selectFrom('samples')
      .innerJoin('collections', 'collections.id', 'samples.collection_id')
      .select(['samples.identifier', 'samples.quantity'])
      .where('collections.code', '=', code)
      .execute();
    return new Map(rows.map((r) => [r.identifier, BigInt(r.quantity)]));
  });
}

describe(`samplebank import and export (CLI) on ${engine}`, () => {
  let tmp: string;
  let main: Deployment;
  let other: Deployment;
  let third: Deployment;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-import-cli-'));
    main = await deployment(tmp, 'main');
    other = await deployment(tmp, 'other');
    third = await deployment(tmp, 'third');
    await withDb(main, async (context) => {
      await insertCollection(context, { code: 'ROCKS', unit: 'g', scale: 4, kinds: ['rock'] });
      await insertCollection(context, { code: 'A16', unit: 'g', scale: 4 });
    });
    await withDb(other, async (context) => {
      await insertCollection(context, { code: 'COPY', unit: 'g', scale: 4 });
    });
    await withDb(third, async (context) => {
      await insertCollection(context, { code: 'XCOPY', unit: 'g', scale: 4 });
    });
  });
  afterAll(async () => {
    await main?.drop();
    await other?.drop();
    await third?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('prints each bad row as row N: COLUMN: message, exits 1 and imports nothing', async () => {
    const file = path.join(tmp, 'bad.csv');
    fs.writeFileSync(file, ['ID,Kind,Grams,Site', 'R-1,rock,1.5,moon', 'R-2,rock,1.23456,moon', 'R-3,ROCK,0,moon', 'R-1,rock,2,moon', 'R 5,rock,1,moon', 'R-6,soil,1,moon', 'R-7,rock,,moon'].join('\n'));
    const run = await cli(main.env, ['import', file, '--collection', 'ROCKS', '--map', 'identifier=ID', '--map', 'kind=Kind', '--map', 'quantity=Grams']);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('row '))).toEqual([
      'row 2: Grams: "1.23456" has 5 decimals; this collection allows at most 4 (use --round half-even to round)',
      'row 3: Grams: is zero (use --allow-zero to register samples with no material)',
      'row 4: ID: "R-1" appears again (first at row 1)',
      'row 5: ID: "R 5" contains white space',
      'row 6: Kind: "soil" is not a kind of this collection (rock)',
      'row 7: Grams: is empty',
    ]);
    expect(run.stdout).not.toMatch(/imported \d+ samples/);
    expect((await quantities(main, 'ROCKS')).size).toBe(0);

    const dry = await cli(main.env, ['import', file, '--collection', 'ROCKS', '--map', 'identifier=ID', '--map', 'kind=Kind', '--map', 'quantity=Grams', '--dry-run']);
    expect(dry.code).toBe(1);
  }, 240_000);

  it('imports the Apollo 16 curation export with a mapping file, every gram exact', async () => {
    const mapping = path.join(tmp, 'a16.json');
    fs.writeFileSync(mapping, JSON.stringify({ identifier: 'GENERIC', kind: 'SAMPLETYPE', quantity: 'ORIGINALWEIGHT' }));
    const rows = readCsv(APOLLO16);
    const zeroRows = rows.flatMap((r, i) => (units(r.ORIGINALWEIGHT!, 4) === 0n ? [i + 1] : []));

    const refused = await cli(main.env, ['import', APOLLO16, '--collection', 'A16', '--mapping', mapping]);
    expect(refused.code).toBe(1);
    expect(refused.stdout.split('\n').filter((l) => l.startsWith('row ')).map((l) => Number(l.split(':')[0]!.slice(4)))).toEqual(zeroRows);

    const dry = await cli(main.env, ['import', APOLLO16, '--collection', 'A16', '--mapping', mapping, '--allow-zero', '--dry-run']);
    expect(dry.code).toBe(0);
    const expected = rows.reduce((sum, r) => sum + units(r.ORIGINALWEIGHT!, 4), 0n);
    const [whole, fraction] = [expected / 10000n, (expected % 10000n).toString().padStart(4, '0')];
    expect(dry.stdout).toContain(`would import ${rows.length} samples, ${whole}.${fraction} g in all`);
    expect((await quantities(main, 'A16')).size).toBe(0);

    const run = await cli(main.env, ['import', APOLLO16, '--collection', 'A16', '--mapping', mapping, '--allow-zero']);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`imported ${rows.length} samples`);
    const stored = await quantities(main, 'A16');
    expect(stored.size).toBe(rows.length);
    for (const r of rows) expect(stored.get(r.GENERIC!), r.GENERIC).toBe(units(r.ORIGINALWEIGHT!, 4));
    expect([...stored.values()].reduce((a, b) => a + b, 0n)).toBe(expected);

    // The same file again: each row is reported, nothing changes.
    const again = await cli(main.env, ['import', APOLLO16, '--collection', 'A16', '--mapping', mapping, '--allow-zero']);
    expect(again.code).toBe(1);
    expect(again.stdout.split('\n').filter((l) => / is already registered$/.test(l))).toHaveLength(rows.length);
    // Four CLI processes, each opening the embedded database: minutes on a loaded two-core machine.
  }, 240_000);

  it('exports CSV and XLSX that import into another collection with the same quantities', async () => {
    const before = await quantities(main, 'A16');
    const csv = path.join(tmp, 'a16.csv');
    const xlsx = path.join(tmp, 'a16.xlsx');
    const toStdout = await cli(main.env, ['export', '--collection', 'A16']);
    expect(toStdout.code).toBe(0);
    fs.writeFileSync(csv, toStdout.stdout);
    expect(toStdout.stdout.split('\r\n')[0]!.startsWith('identifier,kind,quantity,unit,state,parent,location,position,')).toBe(true);
    expect((await cli(main.env, ['export', '--collection', 'A16', '--format', 'xlsx', '--out', xlsx])).code).toBe(0);

    const fields = ['--map', 'identifier=identifier', '--map', 'kind=kind', '--map', 'quantity=quantity', '--map', 'parent=parent', '--ignore', 'unit', '--ignore', 'state', '--ignore', 'position', '--allow-zero'];
    const fromCsv = await cli(other.env, ['import', csv, '--collection', 'COPY', ...fields]);
    expect(fromCsv.stdout).toBe(`imported ${before.size} samples\n`);
    expect(await quantities(other, 'COPY')).toEqual(before);

    const fromXlsx = await cli(third.env, ['import', xlsx, '--collection', 'XCOPY', ...fields]);
    expect(fromXlsx.stdout).toBe(`imported ${before.size} samples\n`);
    expect(await quantities(third, 'XCOPY')).toEqual(before);
  }, 240_000);
});
