/**
 * The server process as it really runs: graceful shutdown on SIGTERM closes
 * the database cleanly; a SIGKILL in the middle of a stream of writes loses no
 * acknowledged write (DESIGN.md invariant 7); the embedded database's folder
 * is locked against a second process. PGlite by default, PostgreSQL with
 * SAMPLEBANK_TEST_ENGINE=postgres.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/core/actor.js';
import { compose, type Context } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { createLogger } from '../src/platform/logger.js';
import { createPostgresDatabase, engine } from './harness.js';
import { adminToken, root, startServe } from './serve-process.js';

describe(`the server process on ${engine}`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-lifecycle-'));
  let env: Record<string, string> = {};
  let drop = async (): Promise<void> => {};
  const dataDir = path.join(tmp, 'data');

  beforeAll(async () => {
    if (engine === 'postgres') {
      const database = await createPostgresDatabase('sb_lifecycle');
      env = { DATABASE_URL: database.url };
      drop = database.drop;
    } else {
      env = { DATA_DIR: dataDir };
    }
  });
  afterAll(async () => {
    await drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The deployment opened in this process (only while no server runs on a PGlite folder). */
  async function withContext<T>(fn: (context: Context) => Promise<T>): Promise<T> {
    const context = await compose({ config: loadConfig({ SAMPLEBANK_AUDIT_KEY_FILE: process.env.SAMPLEBANK_AUDIT_KEY_FILE, ...env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' }), logger: createLogger('silent') });
    try {
      return await fn(context);
    } finally {
      await context.close();
    }
  }

  const institutionCodes = (context: Context): Promise<Set<string>> =>
    context.handle.db.selectFrom('institutions').select('code').execute().then((rows) => new Set(rows.map((r) => r.code)));

  async function createInstitution(url: string, token: string, code: string): Promise<number> {
    const response = await fetch(`${url}/api/v1/institutions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ code, name: `Institute ${code}` }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  it('closes the server and then the database cleanly on SIGTERM, and the data is there on the next open', async () => {
    const serve = await startServe(env);
    const token = await adminToken(serve.url);
    const codes = ['TERM1', 'TERM2', 'TERM3'];
    for (const code of codes) expect(await createInstitution(serve.url, token, code)).toBe(201);
    if (engine === 'pglite') expect(fs.readFileSync(path.join(dataDir, 'samplebank.lock'), 'utf8')).toBe(String(serve.child.pid));

    serve.child.kill('SIGTERM');
    const exit = await serve.exited;
    expect(exit.code, serve.output()).toBe(0);
    expect(serve.output()).toContain('shutting down');
    expect(serve.output()).toContain('database closed');
    if (engine === 'pglite') expect(fs.existsSync(path.join(dataDir, 'samplebank.lock'))).toBe(false);

    await withContext(async (context) => {
      const present = await institutionCodes(context);
      for (const code of codes) expect(present.has(code)).toBe(true);
      expect((await context.services.audit.verify(systemActor)).ok).toBe(true);
    });
  }, 600_000);

  it('keeps every acknowledged write when the process is killed with SIGKILL in the middle of a stream of writes', async () => {
    const serve = await startServe(env);
    const token = await adminToken(serve.url);
    // A curator and a collection, so the stream mixes institutions with samples (ledger + movement + audit).
    const post = async (path: string, bearer: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const response = await fetch(`${serve.url}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify(body) });
      return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
    };
    const curatorEmail = `curator-${crypto.randomBytes(3).toString('hex')}@lifecycle.samplebank.test`;
    expect((await post('/users', token, { email: curatorEmail, name: 'Curator', password: 'lifecycle-password', roles: ['curator'] })).status).toBe(201);
    const curator = await fetch(`${serve.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: curatorEmail, password: 'lifecycle-password' }) });
    const curatorToken = ((await curator.json()) as { token: string }).token;
    const collection = await post('/collections', curatorToken, { code: `KILL${crypto.randomBytes(2).toString('hex')}`, name: 'Crash test', unit: 'g', scale: 4, humanConsent: false });
    expect(collection.status, JSON.stringify(collection.json)).toBe(201);
    const collectionId = collection.json.id as string;

    const acknowledged: string[] = [];
    const acknowledgedSamples: Array<{ id: string; quantity: string }> = [];
    const attempted: string[] = [];
    let killed = false;
    const writer = async (n: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        const code = `K${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
        attempted.push(code);
        try {
          if ((n + i) % 2 === 0) {
            if ((await createInstitution(serve.url, token, code)) === 201) acknowledged.push(code);
          } else {
            const quantity = `${1 + (i % 50)}.${String(1000 + n).slice(1)}7`;
            const sample = await post('/samples', curatorToken, { collectionId, kind: 'regolith', quantity, identifier: code });
            if (sample.status === 201) acknowledgedSamples.push({ id: sample.json.id as string, quantity });
          }
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, n) => writer(n));
    // Let the stream run, then kill the process while requests are in flight.
    while (acknowledged.length < 20 || acknowledgedSamples.length < 20) await new Promise((resolve) => setTimeout(resolve, 20));
    serve.child.kill('SIGKILL');
    killed = true;
    const exit = await serve.exited;
    expect(exit.signal).toBe('SIGKILL');
    await Promise.all(writers);
    expect(attempted.length).toBeGreaterThan(acknowledged.length);

    // A new server starts on the same data (the dead process's lock is taken over) and has every acknowledged write.
    const again = await startServe(env);
    const token2 = await adminToken(again.url);
    const list = await fetch(`${again.url}/api/v1/institutions`, { headers: { authorization: `Bearer ${token2}` } });
    const present = new Set(((await list.json()) as { items: Array<{ code: string }> }).items.map((i) => i.code));
    const lost = acknowledged.filter((code) => !present.has(code));
    expect(lost, `acknowledged but lost after SIGKILL: ${lost.join(', ')}`).toEqual([]);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);

    await withContext(async (context) => {
      // Nothing half-written: every institution that exists has its audit event, and the chains verify.
      const events = await context.handle.db.selectFrom('audit_events').select('entity_id').where('action', '=', 'institution.create').execute();
      const withEvent = new Set(events.map((e) => e.entity_id));
      const rows = await context.handle.db.selectFrom('institutions').select(['id', 'code']).execute();
      for (const row of rows) expect(withEvent.has(row.id), row.code).toBe(true);
      // Every acknowledged sample is there with its exact quantity and its create movement.
      const samples = await context.handle.db.selectFrom('samples').select(['id', 'quantity']).where('collection_id', '=', collectionId).execute();
      const quantities = new Map(samples.map((row) => [row.id, String(row.quantity)]));
      const creates = new Set((await context.handle.db.selectFrom('movements').select('sample_id').where('kind', '=', 'create').execute()).map((m) => m.sample_id));
      for (const sample of acknowledgedSamples) {
        expect(quantities.get(sample.id), `sample ${sample.id}`).toBe(sample.quantity.replace('.', '').replace(/^0+/, ''));
        expect(creates.has(sample.id)).toBe(true);
      }
      expect((await context.services.audit.verify(systemActor)).ok).toBe(true);
    });
  }, 600_000);

  it.runIf(engine === 'pglite')('refuses a second process, and a second open in this process, on the same data folder', async () => {
    const serve = await startServe(env);
    try {
      const second = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(process.execPath, ['bin/samplebank.js', 'audit', 'verify'], { cwd: root, env: { ...process.env, ...env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' } }, (error, _stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`is in use by process ${serve.child.pid}`);
      await expect(openDatabase({ dataDir })).rejects.toThrow(/in use by process/);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    const first = await openDatabase({ dataDir });
    try {
      await expect(openDatabase({ dataDir })).rejects.toThrow(/already open in this process/);
    } finally {
      await first.close();
    }
  }, 600_000);
});
