/**
 * The documented way to grow past one machine: several SampleBank processes
 * behind a reverse proxy over one PostgreSQL. Two real `samplebank serve`
 * processes share one database here, and:
 * - 64 concurrent reservations of one sample, sent alternately to both, give
 *   exactly as many successes as the sample holds and a 409 for every other;
 * - a token revoked through one is refused by the other within
 *   SAMPLEBANK_TOKEN_CACHE_SECONDS;
 * - audit sealing, closing calls on their date, review reminders and the mail
 *   outbox run in both, and each piece of work is still done once: one
 *   unbroken seal chain, one closing, one reminder and one e-mail per reviewer.
 * PostgreSQL only: the embedded database is one process by design (its folder is locked).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { compose, type Context } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { buildServer } from '../src/server.js';
import { buildWorld, hours, json, newApplicant, openCall, submitApplication, type World } from '../src/features/calls/calls.testkit.js';
import { signIn, type SignedIn } from './factories.js';
import { createPostgresDatabase, engine } from './harness.js';
import { startServe, type ServeProcess } from './serve-process.js';
import { startSmtpSink, type SmtpSink } from './fixtures/smtp-sink.js';

const TOKEN_CACHE_SECONDS = 2;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(engine !== 'postgres')('two server processes on one PostgreSQL', () => {
  let drop = async (): Promise<void> => {};
  let smtp: SmtpSink;
  let a: ServeProcess;
  let b: ServeProcess;
  let context: Context;
  let app: FastifyInstance;
  let world: World;
  let curator: SignedIn;

  beforeAll(async () => {
    const database = await createPostgresDatabase('sb_two');
    drop = database.drop;
    smtp = await startSmtpSink();
    const env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '10',
      SMTP_URL: smtp.url,
      SAMPLEBANK_TOKEN_CACHE_SECONDS: String(TOKEN_CACHE_SECONDS),
      SAMPLEBANK_SEAL_INTERVAL_SECONDS: '0.5',
      SAMPLEBANK_WORK_INTERVAL_SECONDS: '0.5',
    };
    // Both start at the same moment on the new database: one runs each migration and creates the admin, the other waits and finds them done.
    [a, b] = await Promise.all([startServe(env), startServe(env)]);
    // The test sets its scene through its own process on the same database (the processes above run the timers; this one does not).
    context = await compose({ config: loadConfig({ SAMPLEBANK_AUDIT_KEY_FILE: process.env.SAMPLEBANK_AUDIT_KEY_FILE, DATABASE_URL: database.url, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent', SAMPLEBANK_LOGIN_RATE_LIMIT: '100000' }), logger: createLogger('silent') });
    app = await buildServer(context);
    await app.ready();
    world = await buildWorld(app, context, { reviewers: 3 });
    curator = world.curator;
  }, 600_000);

  afterAll(async () => {
    for (const serve of [a, b]) {
      if (serve && serve.child.exitCode === null) {
        serve.child.kill('SIGTERM');
        await serve.exited;
      }
    }
    await app?.close();
    await context?.close();
    await smtp?.close();
    await drop();
  });

  const url = (i: number): string => (i % 2 === 0 ? a.url : b.url);

  it('lets exactly as many of 64 concurrent reservations of one sample succeed as it holds, across both processes', async () => {
    const collection = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/collections', headers: curator.headers, payload: { code: 'TWO', name: 'Two processes', unit: 'g', scale: 4, humanConsent: false, kinds: ['scooped'] } }), 201);
    const sample = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/samples', headers: curator.headers, payload: { collectionId: collection.id, kind: 'scooped', quantity: '0.0032', identifier: 'TWO-1' } }), 201);
    const answers = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const response = await fetch(`${url(i)}/api/v1/samples/${sample.id}/reservations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...curator.headers },
          body: JSON.stringify({ quantity: '0.0001', note: `request ${i}` }),
        });
        return { i, status: response.status, body: (await response.json()) as { type?: string } };
      }),
    );
    const won = answers.filter((x) => x.status === 201);
    const lost = answers.filter((x) => x.status !== 201);
    expect(won).toHaveLength(32);
    expect(lost.map((x) => x.status)).toEqual(Array(32).fill(409));
    expect(new Set(lost.map((x) => x.body.type))).toEqual(new Set(['insufficient-quantity']));
    // Both processes served winners: the work was really shared.
    expect(won.some((x) => x.i % 2 === 0) && won.some((x) => x.i % 2 === 1)).toBe(true);
    const after = json<{ quantity: string; reserved: string; available: string }>(await app.inject({ method: 'GET', url: `/api/v1/samples/${sample.id}`, headers: curator.headers }), 200);
    expect(after).toMatchObject({ quantity: '0.0032', reserved: '0.0032', available: '0.0000' });
    const movements = json<{ items: Array<{ kind: string }> }>(await app.inject({ method: 'GET', url: `/api/v1/samples/${sample.id}/movements`, headers: curator.headers }), 200);
    expect(movements.items.filter((m) => m.kind === 'reserve')).toHaveLength(32);
  }, 120_000);

  it('refuses, in the other process, a token revoked through one within the token cache time', async () => {
    const user = await signIn(app, context, ['curator']);
    const created = await fetch(`${a.url}/api/v1/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', ...user.headers }, body: JSON.stringify({ name: 'two processes' }) });
    expect(created.status).toBe(201);
    const token = (await created.json()) as { id: string; token: string };
    const bearer = { authorization: `Bearer ${token.token}` };
    // Process B now knows (and caches) who the token belongs to.
    expect((await fetch(`${b.url}/api/v1/me`, { headers: bearer })).status).toBe(200);
    const revoked = await fetch(`${a.url}/api/v1/auth/tokens/${token.id}`, { method: 'DELETE', headers: user.headers });
    expect(revoked.status).toBe(204);
    const at = Date.now();
    // A, which revoked it, refuses at once.
    expect((await fetch(`${a.url}/api/v1/me`, { headers: bearer })).status).toBe(401);
    await waitFor('process B to refuse the revoked token', async () => ((await fetch(`${b.url}/api/v1/me`, { headers: bearer })).status === 401 ? true : undefined), 10_000);
    expect(Date.now() - at).toBeLessThanOrEqual(TOKEN_CACHE_SECONDS * 1000 + 1000);
  }, 60_000);

  it('closes a call on its date once, sends one review reminder and one e-mail per reviewer, and keeps one unbroken seal chain', async () => {
    // A call closing in two seconds: both processes look for due calls every half second.
    const closing = await openCall(app, world, { closesAt: new Date(Date.now() + 2000).toISOString(), reviewDeadline: hours(24 * 14) });
    const closed = await waitFor('the call to close on its date', async () => {
      const call = json<{ state: string }>(await app.inject({ method: 'GET', url: `/api/v1/calls/${closing}`, headers: world.chair.headers }), 200);
      return call.state === 'closed' ? call : undefined;
    });
    expect(closed.state).toBe('closed');

    // A call in review whose deadline is a day away: each assigned reviewer is due a reminder now.
    const callId = await openCall(app, world, { reviewDeadline: hours(30) });
    const applications = [];
    for (let i = 0; i < 3; i++) applications.push(await submitApplication(app, await newApplicant(app, context), callId));
    json(await app.inject({ method: 'POST', url: `/api/v1/calls/${callId}/transitions`, headers: world.chair.headers, payload: { to: 'closed' } }), 200);
    for (const [i, applicationId] of applications.entries()) {
      json(await app.inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/reviews`, headers: world.chair.headers, payload: { reviewerId: world.reviewers[i]!.user.id } }), 201);
    }
    json(await app.inject({ method: 'POST', url: `/api/v1/calls/${callId}/transitions`, headers: world.chair.headers, payload: { to: 'in_review' } }), 200);
    const reviewerEmails = world.reviewers.map((r) => r.user.email);
    const reminderMail = (email: string) => smtp.received.filter((m) => m.to.includes(email) && /Review due/.test(m.data));
    await waitFor('a reminder e-mail to every reviewer', async () => (reviewerEmails.every((email) => reminderMail(email).length > 0) ? true : undefined));
    // Several more rounds of both processes' timers: nothing is sent twice.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const email of reviewerEmails) expect(reminderMail(email), email).toHaveLength(1);
    for (const reviewer of world.reviewers) {
      const notes = json<{ items: Array<{ kind: string }> }>(await app.inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: reviewer.headers }), 200);
      expect(notes.items.filter((n) => n.kind === 'review.reminder')).toHaveLength(1);
    }
    const outbox = await context.services.notifications.outbox();
    expect(outbox.filter((m) => m.state !== 'sent')).toEqual([]);
    expect(outbox).toHaveLength(smtp.received.length);

    // The call closed once: one transition event.
    const auditor = world.auditor.headers;
    const events = json<{ items: Array<{ action: string; data: { to?: string } }> }>(await app.inject({ method: 'GET', url: `/api/v1/audit/events?entityType=call&entityId=${closing}&limit=100`, headers: auditor }), 200);
    expect(events.items.filter((e) => e.data?.to === 'closed')).toHaveLength(1);

    // Seals: one chain, seq 1, 2, 3… with no gap and no two seals on one seq, and it verifies.
    const seals = await context.handle.db.selectFrom('audit_seals').select(['seq', 'prev_hash', 'hash']).orderBy('seq').execute();
    expect(seals.length).toBeGreaterThan(1);
    seals.forEach((seal, i) => {
      expect(Number(seal.seq)).toBe(i + 1);
      if (i > 0) expect(seal.prev_hash).toBe(seals[i - 1]!.hash);
    });
    const verified = json<{ ok: boolean }>(await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: auditor }), 200);
    expect(verified.ok).toBe(true);
  }, 180_000);
});
