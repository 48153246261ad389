import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.js';
import { createHttpServer } from '../../platform/http/server.js';
import { webRoutes } from './web.routes.js';

const INDEX = '<!doctype html><html><body><div id="root"></div><script src="/assets/index-abc123.js"></script></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(5000))});`;

async function serverOver(dist: string): Promise<FastifyInstance> {
  const app = await createHttpServer({
    logger: createLogger('silent'),
    version: 'test',
    authenticate: async () => null,
    health: async () => undefined,
    api: [],
    root: [webRoutes({ dist })],
  });
  await app.ready();
  return app;
}

describe('serving the web app', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sb-web-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), INDEX);
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), SCRIPT);
    app = await serverOver(dir);
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers any app path with index.html, never cached', async () => {
    for (const url of ['/', '/samples', '/samples/0f6c1a4e-1111-4222-8333-944445555666?tab=x', '/storage/abc']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toBe(INDEX);
    }
  });

  it('serves hashed assets with a year-long immutable cache, gzipped when asked, and 304 on a matching etag', async () => {
    const plain = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toContain('text/javascript');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body).toBe(SCRIPT);
    const gzipped = await app.inject({ method: 'GET', url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.rawPayload.length).toBeLessThan(SCRIPT.length / 10);
    const again = await app.inject({ method: 'GET', url: '/assets/index-abc123.js', headers: { 'if-none-match': String(plain.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('keeps problem+json 404s for unknown API paths and missing assets', async () => {
    for (const url of ['/api/v1/no-such-thing', '/api/nothing', '/assets/index-gone.js']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ type: 'not-found' });
    }
    const health = await app.inject({ method: 'GET', url: '/api/health' });
    expect(health.json()).toEqual({ status: 'ok' });
  });

  it('says how to build the app when web/dist is missing', async () => {
    const bare = await serverOver(path.join(dir, 'nothing-here'));
    try {
      const response = await bare.inject({ method: 'GET', url: '/samples' });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('npm run build:web');
    } finally {
      await bare.close();
    }
  });
});
