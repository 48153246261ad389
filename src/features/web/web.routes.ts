/**
 * Serves the built web app (web/dist) from memory: hashed assets with a
 * year-long immutable cache, index.html for every other non-API path (the
 * app routes on the client) with no-cache so a new build shows at once.
 * /api paths that match no route keep the API's problem+json 404.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const defaultDist = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  immutable: boolean;
}

function loadAssets(dist: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      // Dotfiles (the build's source digest) are not part of the app.
      if (name.startsWith('.')) continue;
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) {
        walk(file);
        continue;
      }
      const body = readFileSync(file);
      const type = types[path.extname(name)] ?? 'application/octet-stream';
      const compressible = /text|javascript|json|svg/.test(type) && body.length > 1024;
      const urlPath = `/${path.relative(dist, file).split(path.sep).join('/')}`;
      assets.set(urlPath, {
        body,
        gzip: compressible ? gzipSync(body, { level: 9 }) : null,
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        // Vite puts content-hashed files under /assets/.
        immutable: urlPath.startsWith('/assets/'),
      });
    }
  };
  walk(dist);
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply
    .header('content-type', asset.type)
    .header('etag', asset.etag)
    .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  if (asset.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
    return reply.header('content-encoding', 'gzip').send(asset.gzip);
  }
  return reply.send(asset.body);
}

const notBuilt = `<!doctype html><html lang="en"><meta charset="utf-8"><title>SampleBank</title>
<p>The web app is not built yet. Run <code>npm run build:web</code> and restart; the API is at <a href="/api/docs">/api/docs</a>.</p></html>`;

export function webRoutes(options: { dist?: string } = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    const dist = options.dist ?? defaultDist;
    const assets = existsSync(path.join(dist, 'index.html')) ? loadAssets(dist) : new Map<string, Asset>();
    const index = assets.get('/index.html');

    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      let urlPath: string;
      try {
        urlPath = decodeURIComponent(request.url.split('?')[0] ?? '/');
      } catch {
        return reply.callNotFound();
      }
      if (urlPath === '/api' || urlPath.startsWith('/api/')) return reply.callNotFound();
      const asset = assets.get(urlPath);
      if (asset) return send(request, reply, asset);
      // A missing hashed asset is a real 404, not the app shell.
      if (urlPath.startsWith('/assets/')) return reply.callNotFound();
      if (!index) return reply.code(503).type('text/html; charset=utf-8').send(notBuilt);
      return send(request, reply, index);
    });
  };
}
