import crypto from 'node:crypto';
import net from 'node:net';
import nodemailer from 'nodemailer';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn } from '../../../test/factories.js';
import { inTransaction } from '../../platform/db/tx.js';
import { buildWorld, hours, json, newApplicant, openCall, submitApplication, type World } from '../calls/calls.testkit.js';
import { createNotificationsService } from './notifications.service.js';

const json_ = (response: { statusCode: number; json(): unknown; body: string }) => json<{ items: Array<{ kind: string; entityType: string | null; body: string }> }>(response as Parameters<typeof json>[0], 200);

const SMTP_PORT = 4510 + (engine === 'postgres' ? 1 : 0);

/** Just enough SMTP to accept mail, recording what arrived. */
function fakeSmtp(port: number): Promise<{ messages: string[]; close(): Promise<void> }> {
  const messages: string[] = [];
  const server = net.createServer((socket) => {
    let buffer = '';
    let data = false;
    socket.write('220 fake ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let index: number;
      while ((index = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        if (data) {
          if (line === '.') {
            data = false;
            socket.write('250 queued\r\n');
          } else messages[messages.length - 1] += `${line}\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 fake\r\n');
        else if (verb === 'DATA') {
          data = true;
          messages.push('');
          socket.write('354 go\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ messages, close: () => new Promise((done) => server.close(() => done())) })));
}

describe(`notifications on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  beforeAll(async () => {
    server = await createTestServer({ smtpUrl: `smtp://127.0.0.1:${SMTP_PORT}` });
    world = await buildWorld(server.app, server.context);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);

  it('keeps mail in the outbox while SMTP is down and delivers it once it is back', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world);
    await submitApplication(server.app, applicant, callId);
    const outbox = () => server.context.services.notifications.outbox();
    const mine = async () => (await outbox()).filter((m) => m.to_address === applicant.user.email);
    expect(await mine()).toMatchObject([{ state: 'pending', attempts: 0 }]);

    // Nothing listens: delivery fails, the message stays with its error.
    const down = await server.context.services.notifications.deliverOutbox();
    expect(down.failed).toBeGreaterThan(0);
    expect(await mine()).toMatchObject([{ state: 'pending', attempts: 1 }]);
    expect((await mine())[0]!.last_error).toBeTruthy();

    const smtp = await fakeSmtp(SMTP_PORT);
    try {
      // Not due yet: back-off.
      expect((await server.context.services.notifications.deliverOutbox()).sent).toBe(0);
      const later = new Date(Date.now() + 10 * 60_000);
      const up = await server.context.services.notifications.deliverOutbox(later);
      expect(up.sent).toBeGreaterThan(0);
      expect(await mine()).toMatchObject([{ state: 'sent', attempts: 1 }]);
      expect(smtp.messages.some((m) => m.includes('Application received'))).toBe(true);
      expect((await server.context.services.notifications.deliverOutbox(later)).sent).toBe(0);
    } finally {
      await smtp.close();
    }
  });

  it('lists only your own notifications, pages them, and marks them read', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world);
    await submitApplication(server.app, applicant, callId);
    await submitApplication(server.app, applicant, callId);
    const first = json<{ items: Array<{ id: string; readAt: string | null }>; nextCursor: string }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=1', headers: applicant.headers }), 200);
    expect(first.items).toHaveLength(1);
    const second = json<{ items: Array<{ id: string }>; nextCursor: string | null }>(await inject({ method: 'GET', url: `/api/v1/notifications?limit=1&cursor=${first.nextCursor}`, headers: applicant.headers }), 200);
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
    const stranger = await signIn(server.app, server.context, ['applicant']);
    problem(await inject({ method: 'POST', url: `/api/v1/notifications/${first.items[0]!.id}/read`, headers: stranger.headers }), 404, 'not-found');
    expect(json<{ items: unknown[] }>(await inject({ method: 'GET', url: '/api/v1/notifications', headers: stranger.headers }), 200).items).toEqual([]);
    expect((await inject({ method: 'POST', url: `/api/v1/notifications/${first.items[0]!.id}/read`, headers: applicant.headers })).statusCode).toBe(204);
    const unread = json<{ items: Array<{ id: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?unread=true', headers: applicant.headers }), 200);
    expect(unread.items.map((n) => n.id)).not.toContain(first.items[0]!.id);
    problem(await inject({ method: 'GET', url: '/api/v1/notifications?cursor=bogus', headers: applicant.headers }), 400, 'validation-failed');
    expect(problem(await inject({ method: 'GET', url: '/api/v1/notifications?limit=0', headers: applicant.headers }), 400, 'validation-failed').errors[0]!.field).toBe('limit');
    expect(problem(await inject({ method: 'POST', url: '/api/v1/notifications/not-a-uuid/read', headers: applicant.headers }), 400, 'validation-failed').errors[0]!.field).toBe('id');
    problem(await inject({ method: 'POST', url: `/api/v1/notifications/${first.items[0]!.id}/read` }), 401, 'unauthenticated');
    problem(await inject({ method: 'GET', url: '/api/v1/notifications' }), 401, 'unauthenticated');
  });
  it('hands nodemailer a complete message with a link back to the thing to act on', async () => {
    const sent: Array<{ envelope: { from: string; to: string[] }; subject: string; text: string }> = [];
    const json = nodemailer.createTransport({ jsonTransport: true });
    const mailer = createNotificationsService(server.context.handle.db, {
      smtpUrl: undefined,
      smtpFrom: 'SampleBank <bank@example.test>',
      publicUrl: 'https://bank.example.test',
      logger: server.context.logger,
      transport: {
        sendMail: async (mail) => {
          const info = await json.sendMail(mail);
          const message = JSON.parse(info.message as string) as { subject: string; text: string };
          sent.push({ envelope: info.envelope as { from: string; to: string[] }, subject: message.subject, text: message.text });
        },
      },
    });
    const user = await signIn(server.app, server.context, ['applicant']);
    const entityId = crypto.randomUUID();
    await inTransaction(server.context.handle.db, (tx) => mailer.notify(tx, [user.user.id, null, user.user.id], { kind: 'test', title: 'Decision on your application', body: 'Approved.', entityType: 'application', entityId }));
    await mailer.deliverOutbox(new Date(Date.now() + 3600_000 * 24 * 365));
    const mine = sent.filter((m) => m.envelope.to.includes(user.user.email));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ subject: '[SampleBank] Decision on your application', envelope: { from: 'bank@example.test' } });
    expect(mine[0]!.text).toBe(`Approved.\n\nhttps://bank.example.test/applications/${entityId}`);
    // One in-app notification per person, however often they were named.
    expect(json_(await inject({ method: 'GET', url: '/api/v1/notifications', headers: user.headers })).items).toHaveLength(1);
  });

  it('gives up after ten failed attempts, keeping the message and its last error', async () => {
    const failing = createNotificationsService(server.context.handle.db, { smtpUrl: undefined, smtpFrom: 'x@example.test', publicUrl: 'http://localhost', logger: server.context.logger, transport: { sendMail: () => Promise.reject(new Error('550 mailbox unavailable')) } });
    const user = await signIn(server.app, server.context, ['reviewer']);
    await inTransaction(server.context.handle.db, (tx) => failing.notify(tx, [user.user.id], { kind: 'test', title: 'Please review', body: 'Due soon.' }));
    const row = async () => (await failing.outbox()).find((m) => m.to_address === user.user.email)!;
    let now = Date.now();
    for (let attempt = 1; attempt <= 10; attempt++) {
      now += 7 * 3600_000; // past any back-off
      await failing.deliverOutbox(new Date(now));
      expect(await row()).toMatchObject({ attempts: attempt, state: attempt < 10 ? 'pending' : 'failed', last_error: '550 mailbox unavailable' });
    }
    await failing.deliverOutbox(new Date(now + 365 * 24 * 3600_000));
    expect((await row()).attempts).toBe(10);
  });

  it('sends each message once when two senders run at the same time', async () => {
    const delivered: string[] = [];
    const slow = { sendMail: async (mail: { to: string }) => { await new Promise((resolve) => setTimeout(resolve, 20)); delivered.push(mail.to); } };
    const senders = [0, 1].map(() => createNotificationsService(server.context.handle.db, { smtpUrl: undefined, smtpFrom: 'x@example.test', publicUrl: 'http://localhost', logger: server.context.logger, transport: slow }));
    const users = await Promise.all(Array.from({ length: 6 }, () => signIn(server.app, server.context, ['reviewer'])));
    await inTransaction(server.context.handle.db, (tx) => senders[0]!.notify(tx, users.map((u) => u.user.id), { kind: 'test', title: 'Reminder', body: 'Due.' }));
    const later = new Date(Date.now() + 400 * 24 * 3600_000);
    await Promise.all([senders[0]!.deliverOutbox(later), senders[1]!.deliverOutbox(later)]);
    for (const user of users) expect(delivered.filter((to) => to === user.user.email)).toHaveLength(1);
    const rows = (await senders[0]!.outbox()).filter((m) => users.some((u) => u.user.email === m.to_address));
    expect(rows.every((m) => m.state === 'sent' && m.attempts === 0)).toBe(true);
  });

  it('runs reminders on a timer once started, as `samplebank serve` does, and stops', async () => {
    const callId = await openCall(server.app, world, { closesAt: hours(1), reviewDeadline: hours(30) });
    const appId = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/transitions`, headers: world.chair.headers, payload: { to: 'closed' } }), 200);
    const reviewer = world.reviewers[0]!;
    json(await inject({ method: 'POST', url: `/api/v1/applications/${appId}/reviews`, headers: world.chair.headers, payload: { reviewerId: reviewer.user.id } }), 201);
    const reminders = async () => json_(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: reviewer.headers })).items.filter((n) => n.kind === 'review.reminder' && n.entityType === 'review');
    expect(await reminders()).toHaveLength(0);
    const { notifications } = server.context.services;
    notifications.start(25);
    try {
      const until = Date.now() + 20_000;
      while ((await reminders()).length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      notifications.stop();
    }
    const got = await reminders();
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toContain('is due by');
  });
});
