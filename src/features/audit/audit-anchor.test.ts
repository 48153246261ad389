/**
 * An audit trail that survives its own database. Whoever owns the database
 * can switch the append-only triggers off, rewrite an event and recompute
 * every hash and every seal, as a forger who read the code would. Seals are
 * signed with a key kept outside the database, and an anchor (the newest
 * signed seal) is kept outside it too:
 * - a forger without the key cannot sign the rewritten seals (kept, stripped
 *   or replaced signatures are all caught);
 * - a forger who stole the key re-signs everything and fools the signatures,
 *   but not the anchor filed before the rewrite.
 * Event times never go backwards within a stream: the database refuses a
 * backdated event, and verification names one slipped past the triggers.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemActor, type Actor } from '../../core/actor.js';
import { eventHash, sealSigner } from '../../core/audit-chain.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, sqlState } from '../../platform/db/tx.js';
import { createLogger } from '../../platform/logger.js';
import { createTestContext, engine, type TestContext } from '../../../test/harness.js';
import { unique } from '../../../test/factories.js';
import type { AuditAnchor } from './audit.anchor.js';
import { createAuditKeys } from './audit.keys.js';
import type { AuditEventRow } from './audit.repository.js';
import { recordAudit } from './audit.service.js';
import { asOwner, rewriteHistory } from './audit.testkit.js';
import { toStored } from './audit.verify.js';

const actor: Actor = { ...systemActor, userId: crypto.randomUUID() };

async function write(db: DB, stream: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await inTransaction(db, (tx) => recordAudit(tx, actor, { stream, action: 'sample.adjust', entityType: 'sample', entityId: stream, data: { step: i, grams: `0.${i}000` } }));
  }
}

describe(`an audit trail that survives its database (${engine})`, () => {
  let context: TestContext | undefined;
  afterEach(async () => {
    await context?.dispose();
    context = undefined;
  });

  /** A trail of two streams, sealed and signed, and its anchor filed away. */
  async function anchoredTrail(): Promise<{ db: DB; stream: string; anchor: AuditAnchor }> {
    context = await createTestContext();
    const db = context.handle.db;
    const stream = unique('sample:');
    await write(db, stream, 4);
    await write(db, unique('sample:'), 3);
    const anchor = await context.services.audit.anchor(systemActor);
    // More happens after the anchor was filed.
    await write(db, stream, 2);
    const clean = await context.services.audit.verify(systemActor, { anchor });
    expect(clean).toMatchObject({ ok: true, anchor: { seq: Number(anchor.seal.seq), ok: true } });
    expect(clean.signatures!.signed).toBeGreaterThan(0);
    expect(clean.signatures!.unsigned).toBe(0);
    return { db, stream, anchor };
  }

  it('signs every seal and answers an anchor whose own signature checks out', async () => {
    const { anchor } = await anchoredTrail();
    expect(anchor).toMatchObject({ format: 'samplebank-audit-anchor/1', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(anchor.publicKey).toContain('BEGIN PUBLIC KEY');
    expect(anchor.events).toBeGreaterThanOrEqual(7);
    const seal = await context!.handle.db.selectFrom('audit_seals').select(['key_id', 'signature']).where('seq', '=', anchor.seal.seq).executeTakeFirstOrThrow();
    expect(seal).toEqual({ key_id: anchor.keyId, signature: anchor.signature });
    // An anchor whose seal hash was altered no longer matches its signature.
    const altered = { ...anchor, seal: { ...anchor.seal, hash: 'f'.repeat(64) } };
    await expect(context!.services.audit.verify(systemActor, { anchor: altered })).rejects.toMatchObject({ code: 'validation-failed', errors: [{ field: 'anchor.signature' }] });
  });

  it('catches a rewrite by an owner without the key, whatever they do with the signatures', async () => {
    for (const signatures of ['keep', 'strip', { resign: sealSigner(crypto.generateKeyPairSync('ed25519').privateKey) }] as const) {
      const { db, stream, anchor } = await anchoredTrail();
      await rewriteHistory(db, stream, signatures);
      const plain = await context!.services.audit.verify(systemActor);
      const label = typeof signatures === 'string' ? signatures : 'forged key';
      expect(plain.ok, label).toBe(false);
      expect(plain.firstBad!.stream, label).toBe('#seals');
      expect(plain.firstBad!.reason, label).toMatch(
        signatures === 'keep' ? /signature does not match/ : signatures === 'strip' ? /not signed/ : /signed by key [0-9a-f]{16}, which this server does not trust/,
      );
      const anchored = await context!.services.audit.verify(systemActor, { anchor });
      expect(anchored.ok, label).toBe(false);
      await context!.dispose();
      context = undefined;
    }
  }, 300_000);

  it('catches a rewrite by an owner who stole the key only with the anchor kept outside', async () => {
    const { db, stream, anchor } = await anchoredTrail();
    const stolen = sealSigner(crypto.createPrivateKey(fs.readFileSync(process.env.SAMPLEBANK_AUDIT_KEY_FILE ?? context!.config.auditKeyFile)));
    await rewriteHistory(db, stream, { resign: stolen });
    // Every hash and signature is consistent again: without the anchor nothing shows.
    expect(await context!.services.audit.verify(systemActor)).toMatchObject({ ok: true });
    const anchored = await context!.services.audit.verify(systemActor, { anchor });
    expect(anchored).toMatchObject({ ok: false, anchor: { seq: Number(anchor.seal.seq), ok: false } });
    expect(anchored.firstBad).toMatchObject({ stream: '#seals', seq: Number(anchor.seal.seq) });
    expect(anchored.firstBad!.reason).toContain('differs from the anchor kept outside the database');
  });

  it('catches a trail cut short before the anchored seal', async () => {
    const { db, anchor } = await anchoredTrail();
    await asOwner(db, (tx) => tx.deleteFrom('audit_seals').where('seq', '>=', anchor.seal.seq).execute());
    const anchored = await context!.services.audit.verify(systemActor, { anchor });
    expect(anchored.ok).toBe(false);
  });

  it('refuses a backdated event on the application connection, and names one slipped past the triggers', async () => {
    context = await createTestContext();
    const db = context.handle.db;
    const stream = unique('sample:');
    await write(db, stream, 2);
    const last = (await db.selectFrom('audit_events').selectAll().where('stream', '=', stream).orderBy('seq', 'desc').executeTakeFirstOrThrow()) as AuditEventRow;
    const backdated = { ...toStored(last), id: crypto.randomUUID(), seq: 3n, occurredAt: new Date(last.occurred_at.getTime() - 3600_000).toISOString() };
    const row = {
      id: backdated.id,
      stream,
      seq: '3',
      occurred_at: new Date(backdated.occurredAt),
      actor_id: backdated.actorId,
      action: backdated.action,
      entity_type: backdated.entityType,
      entity_id: backdated.entityId,
      data: JSON.stringify(backdated.data),
      request_id: null,
      prev_hash: last.hash,
      hash: eventHash(last.hash, { ...backdated, requestId: null }),
    };
    const refused = await db.insertInto('audit_events').values(row).execute().then(
      () => null,
      (error: unknown) => error,
    );
    expect(sqlState(refused)).toBe('23514');
    // As the owner, past the trigger: verification names the backdated event.
    await asOwner(db, async (tx) => {
      await tx.insertInto('audit_events').values(row).execute();
      await tx.updateTable('audit_streams').set({ seq: '3', head_hash: row.hash }).where('stream', '=', stream).execute();
    });
    const result = await context.services.audit.verify(systemActor);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ stream, seq: 3, eventId: row.id });
    expect(result.firstBad!.reason).toMatch(/before the event it follows/);
  });
});

describe('the signing key file', () => {
  it('is created on first use, readable by its owner only, with a warning to back it up; processes starting at once share it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-key-'));
    try {
      const file = path.join(dir, 'keys', 'audit-signing-key.pem');
      const lines: string[] = [];
      const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
      const keys = Array.from({ length: 4 }, () => createAuditKeys({ keyFile: file, trustedKeyFiles: [], logger }));
      // Created by the first to get there, noting the trail's newest seal at that moment (17 unsigned ones, say).
      await Promise.all(keys.map((k) => k.load(async () => 17n)));
      const ids = keys.map((k) => k.signer().keyId);
      expect(keys.map((k) => k.unsignedUpTo())).toEqual([17n, 17n, 17n, 17n]);
      expect(new Set(ids).size).toBe(1);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(lines.filter((l) => l.includes('created the audit signing key'))).toHaveLength(1);
      expect(lines[0]).toContain('back this file up');
      expect(fs.readdirSync(path.dirname(file))).toEqual(['audit-signing-key.pem']);
      // A later start reads the same key and the same note, whatever the trail holds by then.
      const later = createAuditKeys({ keyFile: file, trustedKeyFiles: [], logger });
      await later.load(async () => 99n);
      expect([later.signer().keyId, later.unsignedUpTo()]).toEqual([ids[0], 17n]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trusts the public keys listed besides its own', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-key-'));
    try {
      const old = crypto.generateKeyPairSync('ed25519');
      const oldFile = path.join(dir, 'old.pub.pem');
      fs.writeFileSync(oldFile, old.publicKey.export({ type: 'spki', format: 'pem' }));
      const keys = createAuditKeys({ keyFile: path.join(dir, 'key.pem'), trustedKeyFiles: [oldFile], logger: createLogger('silent') });
      await keys.load(async () => 0n);
      expect([...keys.trusted().keys()]).toEqual([keys.signer().keyId, sealSigner(old.privateKey).keyId]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
