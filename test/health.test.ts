import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from './harness.js';

describe(`platform on ${engine}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(async () => server?.close());

  it('answers health with ok', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers liveness with ok, without credentials and without the database', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/health/live' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers an unknown route with a problem document and a request id', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/v1/no-such-thing', headers: { 'x-request-id': 'req-12345678' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['x-request-id']).toBe('req-12345678');
    expect(response.json()).toMatchObject({ type: 'not-found', status: 404, requestId: 'req-12345678' });
  });

  it('serves an OpenAPI 3.1 document and the browsable docs', async () => {
    const document = await server.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(document.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'SampleBank API' } });
    const docs = await server.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('records every migration once', async () => {
    const { sql } = await import('kysely');
    const rows = await sql<{ version: string }>`select version from schema_migrations order by version`.execute(server.context.handle.db);
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(new URL('../migrations/', import.meta.url)).filter((name) => name.endsWith('.sql')).sort();
    expect(rows.rows.map((row) => row.version)).toEqual(files.map((name) => name.slice(0, 4)));
  });
});

describe(`readiness and liveness when the database is gone (${engine})`, () => {
  it('answers readiness 503 unavailable and liveness 200 ok once the database is closed, also to a caller with a token', async () => {
    const server = await createTestServer();
    try {
      const headers = { authorization: 'Bearer sbt_not-a-real-token-but-looks-like-one' };
      expect((await server.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
      await server.context.handle.close();
      for (const request of [{}, { headers }]) {
        const ready = await server.app.inject({ method: 'GET', url: '/api/health', ...request });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toEqual({ status: 'unavailable' });
        const live = await server.app.inject({ method: 'GET', url: '/api/health/live', ...request });
        expect(live.statusCode).toBe(200);
        expect(live.json()).toEqual({ status: 'ok' });
      }
    } finally {
      await server.app.close();
      await server.context.dispose();
    }
  });
});
