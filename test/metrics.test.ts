/**
 * GET /metrics: Prometheus text from the real server, its protection (a
 * bearer token on the main port, or a separate port), and what it reports
 * after real requests: request durations by route pattern, ledger operations
 * and refusals counted exactly, and the backlogs read from the database.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../src/platform/metrics.js';
import { createPostgresDatabase, createTestServer, engine, type TestServer } from './harness.js';
import { problem, signIn, type SignedIn } from './factories.js';
import { startServe } from './serve-process.js';
import { json, newCollection, newSample, type ReservationJson } from '../src/features/inventory/inventory.testkit.js';

const TOKEN = `metrics-${crypto.randomBytes(12).toString('hex')}`;
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (label values here never hold quotes or commas). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

describe(`GET /metrics on ${engine}`, () => {
  let server: TestServer;
  let curator: SignedIn;
  beforeAll(async () => {
    server = await createTestServer({ metricsToken: TOKEN });
    curator = await signIn(server.app, server.context, ['curator']);
  });
  afterAll(async () => server?.close());

  const scrape = async (target: TestServer = server): Promise<Sample[]> => {
    const response = await target.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe(CONTENT_TYPE);
    return parse(response.body);
  };

  it('counts requests by route pattern and status, ledger operations and refusals exactly, and reads the backlogs', async () => {
    const { db } = server.context.handle;
    // Backlogs an operator alerts on: a mail waiting two minutes, a job running for one, and a fresh seal.
    await db
      .insertInto('mail_outbox')
      .values({ id: crypto.randomUUID(), to_address: 'someone@test.samplebank', subject: 'Waiting', body: 'x', created_at: new Date(Date.now() - 120_000) })
      .execute();
    await db.insertInto('jobs').values({ id: crypto.randomUUID(), kind: 'import', state: 'running', done: 0, created_at: new Date(Date.now() - 60_000) }).execute();

    const before = await scrape();
    const collection = await newCollection(server.app, curator);
    const sample = await newSample(server.app, curator, collection.id, { quantity: '10.0000' });
    const reserve = (quantity: string) => server.app.inject({ method: 'POST', url: `/api/v1/samples/${sample.id}/reservations`, headers: curator.headers, payload: { quantity } });
    const reservation = json<ReservationJson>(await reserve('4.0000'), 201);
    problem(await reserve('7.0000'), 409, 'insufficient-quantity');
    expect((await server.app.inject({ method: 'DELETE', url: `/api/v1/reservations/${reservation.id}`, headers: curator.headers })).statusCode).toBe(200);
    problem(await server.app.inject({ method: 'DELETE', url: `/api/v1/reservations/${reservation.id}`, headers: curator.headers }), 409, 'invalid-state');
    expect((await server.app.inject({ method: 'GET', url: `/api/v1/samples/${sample.id}`, headers: curator.headers })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/no-such-route', headers: curator.headers })).statusCode).toBe(404);
    await server.context.services.audit.seal();
    const after = await scrape();

    // Durations: one series per route pattern, never per URL.
    const count = (labels: Record<string, string>) => value(after, 'samplebank_http_request_duration_seconds_count', labels) ?? 0;
    expect(count({ method: 'GET', route: '/api/v1/samples/:id', status: '200' })).toBe(1);
    expect(count({ method: 'POST', route: '/api/v1/samples/:id/reservations', status: '201' })).toBe(1);
    expect(count({ method: 'POST', route: '/api/v1/samples/:id/reservations', status: '409' })).toBe(1);
    expect(count({ method: 'DELETE', route: '/api/v1/reservations/:id', status: '409' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(value(after, 'samplebank_http_request_duration_seconds_bucket', { method: 'GET', route: '/api/v1/samples/:id', status: '200', le: '10' })).toBe(1);
    expect(value(after, 'samplebank_http_request_duration_seconds_bucket', { method: 'GET', route: '/api/v1/samples/:id', status: '200', le: '0.005' })).toBeDefined();
    expect(after.some((s) => (s.labels.route ?? '').includes(sample.id))).toBe(false);

    // The ledger: exactly what was done, each refusal under its problem type.
    const moved = (name: string, labels: Record<string, string>) => (value(after, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    const operations = Object.fromEntries(
      ['create', 'split', 'reserve', 'release', 'fulfil', 'consume', 'adjust', 'destroy', 'move', 'ship', 'receive', 'return', 'state'].map((kind) => [kind, moved('samplebank_ledger_operations_total', { kind })]),
    );
    expect(operations).toEqual({ create: 1, split: 0, reserve: 1, release: 1, fulfil: 0, consume: 0, adjust: 0, destroy: 0, move: 0, ship: 0, receive: 0, return: 0, state: 0 });
    expect(value(before, 'samplebank_ledger_operations_total', { kind: 'split' })).toBe(0);
    expect(moved('samplebank_ledger_refusals_total', { kind: 'reserve', reason: 'insufficient-quantity' })).toBe(1);
    expect(moved('samplebank_ledger_refusals_total', { kind: 'release', reason: 'invalid-state' })).toBe(1);
    expect(after.filter((s) => s.name === 'samplebank_ledger_refusals_total').reduce((sum, s) => sum + s.value, 0)).toBe(2);

    // Read from the database at scrape time.
    expect(value(after, 'samplebank_database_up')).toBe(1);
    expect(value(after, 'samplebank_mail_outbox_pending')).toBe(1);
    expect(value(after, 'samplebank_mail_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(119);
    expect(value(after, 'samplebank_mail_outbox_oldest_pending_age_seconds')).toBeLessThan(600);
    expect(value(after, 'samplebank_jobs', { state: 'running' })).toBe(1);
    expect(value(after, 'samplebank_jobs', { state: 'queued' })).toBe(0);
    expect(value(after, 'samplebank_jobs_oldest_age_seconds', { state: 'running' })).toBeGreaterThanOrEqual(59);
    expect(value(after, 'samplebank_jobs_oldest_age_seconds', { state: 'running' })).toBeLessThan(600);
    expect(value(after, 'samplebank_jobs_oldest_age_seconds', { state: 'queued' })).toBe(0);
    expect(value(after, 'samplebank_audit_last_seal_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(after, 'samplebank_audit_last_seal_age_seconds')).toBeLessThan(60);
    const connections = (state: string) => value(after, 'samplebank_db_connections', { engine, state });
    expect(connections('total')).toBeGreaterThanOrEqual(1);
    expect(connections('idle')).toBeGreaterThanOrEqual(0);
    expect(connections('idle')).toBeLessThanOrEqual(connections('total')!);
    expect(connections('waiting')).toBe(0);
    expect(value(after, 'samplebank_db_connections_max', { engine })).toBe(engine === 'pglite' ? 1 : 20);
    expect(value(after, 'samplebank_info', { engine })).toBe(1);
    // Node process metrics, on its own registry.
    expect(value(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('refuses a scrape without the token, or with another, as 401 problem+json', async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, 'Bearer ']) {
      const response = await server.app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
      problem(response, 401, 'unauthenticated');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(response.body).not.toContain('samplebank_');
    }
    // A user's own bearer token is not the metrics token.
    problem(await server.app.inject({ method: 'GET', url: '/metrics', headers: curator.headers }), 401, 'unauthenticated');
  });

  it('keeps /metrics and the health probes out of the OpenAPI document', async () => {
    const document = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).length).toBeGreaterThan(10);
    expect(Object.keys(document.paths).filter((p) => p.includes('metrics') || p.startsWith('/api/health'))).toEqual([]);
  });

  it('still answers 200 when the database does not: samplebank_database_up 0 and no database series', async () => {
    const other = await createTestServer({ metricsToken: TOKEN });
    try {
      expect(value(await scrape(other), 'samplebank_database_up')).toBe(1);
      await other.context.handle.close();
      const samples = await scrape(other);
      expect(value(samples, 'samplebank_database_up')).toBe(0);
      for (const name of ['samplebank_jobs', 'samplebank_jobs_oldest_age_seconds', 'samplebank_mail_outbox_pending', 'samplebank_mail_outbox_oldest_pending_age_seconds', 'samplebank_audit_last_seal_age_seconds']) {
        expect(samples.filter((s) => s.name === name), name).toEqual([]);
      }
      expect(value(samples, 'samplebank_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '200' })).toBe(1);
      expect(value(samples, 'samplebank_ledger_operations_total', { kind: 'reserve' })).toBe(0);
    } finally {
      await other.app.close();
      await other.context.dispose();
    }
  });

  it('answers within its time limit when the database hangs', async () => {
    const never = new Promise<never>(() => {});
    const metrics = createMetrics({
      version: 'test',
      engine: 'postgres',
      connections: () => ({ total: 20, idle: 0, waiting: 7, max: 20 }),
      readings: { jobs: () => never, mailOutbox: () => never, lastSealAgeSeconds: () => never },
      readTimeoutMs: 100,
    });
    const started = Date.now();
    const samples = parse(await metrics.render());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(value(samples, 'samplebank_database_up')).toBe(0);
    expect(samples.filter((s) => s.name.startsWith('samplebank_jobs') || s.name.startsWith('samplebank_mail') || s.name.startsWith('samplebank_audit'))).toEqual([]);
    expect(value(samples, 'samplebank_db_connections', { state: 'waiting' })).toBe(7);
    // Without processMetrics, no Node process series.
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeUndefined();
  });

  it('is off (404) without a token, also when a metrics port is set', async () => {
    for (const overrides of [{}, { metricsPort: 0 }]) {
      const other = await createTestServer(overrides);
      try {
        problem(await other.app.inject({ method: 'GET', url: '/metrics' }), 404, 'not-found');
        problem(await other.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } }), 404, 'not-found');
      } finally {
        await other.close();
      }
    }
  });
});

describe(`samplebank serve with SAMPLEBANK_METRICS_PORT (${engine})`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-metrics-'));
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await drop?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('serves /metrics on the metrics port without a token, 404 on the main port, and closes both on SIGTERM', async () => {
    let env: Record<string, string> = { DATA_DIR: path.join(tmp, 'data') };
    if (engine === 'postgres') {
      const database = await createPostgresDatabase('sb_metrics');
      drop = database.drop;
      env = { DATABASE_URL: database.url };
    }
    const serve = await startServe({ ...env, SAMPLEBANK_METRICS_PORT: '0', SAMPLEBANK_METRICS_HOST: '127.0.0.1' });
    try {
      const address = /"address":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*metrics are served/.exec(serve.output())?.[1];
      expect(address, serve.output()).toBeDefined();
      expect(address).not.toBe(serve.url);

      expect((await fetch(`${serve.url}/api/health/live`)).status).toBe(200);
      const main = await fetch(`${serve.url}/metrics`);
      expect(main.status).toBe(404);
      expect(main.headers.get('content-type')).toContain('application/problem+json');
      await main.arrayBuffer();

      const response = await fetch(`${address!}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(CONTENT_TYPE);
      const samples = parse(await response.text());
      expect(value(samples, 'samplebank_database_up')).toBe(1);
      expect(value(samples, 'samplebank_http_request_duration_seconds_count', { method: 'GET', route: '/api/health/live', status: '200' })).toBe(1);
      expect(value(samples, 'samplebank_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
      expect(value(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect((await fetch(`${address!}/api/health`)).status).toBe(404);

      serve.child.kill('SIGTERM');
      const exit = await serve.exited;
      expect(exit.code).toBe(0);
      await expect(fetch(`${address!}/metrics`)).rejects.toThrow();
    } finally {
      if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
    }
  }, 300_000);
});
