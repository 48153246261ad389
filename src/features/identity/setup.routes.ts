import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import * as s from './identity.schemas.js';
import type { SetupService } from './setup.service.js';

export const setupInput = z.strictObject({
  token: z.string().min(1).max(200),
  email: s.email,
  name: s.personName,
  password: s.password,
});

/** The first admin, from the one-time setup link the server printed. Needs no sign-in; rate-limited like login. */
export function setupRoutes(setup: SetupService, options: { loginRateLimit: number }) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['identity'];

    app.get('/setup', {
      schema: { tags, summary: 'Whether the first admin still has to be created (no user exists yet)', security: [], response: { 200: z.object({ required: z.boolean() }) } },
      config: { public: true },
    }, async () => ({ required: await setup.required() }));

    app.post('/setup', {
      schema: { tags, summary: 'Create the first admin with the one-time setup token the server printed', security: [], body: setupInput, response: { 201: s.user } },
      config: { public: true, rateLimit: { max: options.loginRateLimit, timeWindow: '1 minute' } },
    }, async (request, reply) => reply.code(201).send(await setup.complete(request.body)));
  };
}

/**
 * The page the setup link opens: a plain form (no build needed, works before
 * the web app is built) that posts to /api/v1/setup and then sends you to sign in.
 */
export function setupPage() {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/setup', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .type('text/html; charset=utf-8')
        .send(SETUP_HTML),
    );
  };
}

const SETUP_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>SampleBank setup</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem;font:inherit}
#message{margin-top:1rem}.error{color:#a00}</style></head>
<body><h1>Create the first administrator</h1>
<p>This link works once. 创建第一个管理员账户（此链接只能使用一次）。</p>
<form id="setup"><label for="name">Name</label><input id="name" name="name" required maxlength="200" autocomplete="name">
<label for="email">E-mail</label><input id="email" name="email" type="email" required maxlength="254" autocomplete="email">
<label for="password">Password (at least 8 characters)</label><input id="password" name="password" type="password" required minlength="8" maxlength="200" autocomplete="new-password">
<button type="submit">Create administrator</button></form><p id="message" role="status"></p>
<script>
const token = new URLSearchParams(location.search).get('token') || '';
history.replaceState(null, '', '/setup');
const message = document.getElementById('message');
document.getElementById('setup').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { token, name: form.get('name'), email: form.get('email'), password: form.get('password') };
  const response = await fetch('/api/v1/setup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status === 201) { message.className = ''; message.textContent = 'Done. Sign in with this e-mail and password.'; setTimeout(() => { location.href = '/'; }, 1500); return; }
  const problem = await response.json().catch(() => ({}));
  message.className = 'error';
  message.textContent = (problem.errors || []).map((e) => e.field + ': ' + e.message).join('; ') || problem.detail || 'Setup failed';
});
</script></body></html>`;
