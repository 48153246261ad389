/**
 * First start without SAMPLEBANK_ADMIN_EMAIL/PASSWORD: the server prints a
 * one-time setup link. Its secret is stored only as a hash, expires, and is
 * consumed by a conditional update in the same transaction that creates the
 * first admin, so two people racing with the link cannot both succeed, and no
 * link works once any user exists.
 */
import crypto from 'node:crypto';
import { systemActor } from '../../core/actor.js';
import { DomainError } from '../../core/errors.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, isUniqueViolation } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import { identityRepository } from './identity.repository.js';
import { toUser, type User } from './identity.service.js';
import { hashPassword, hashSecret, newSecret } from './password.js';

export const SETUP_LINK_MINUTES = 60;

export type SetupService = ReturnType<typeof createSetupService>;

export function createSetupService(db: DB) {
  const alreadyDone = (): DomainError => new DomainError('conflict', 'Setup is already done: a user exists. Sign in instead.');
  const badToken = (): DomainError =>
    new DomainError('invalid-credentials', 'The setup link is not valid: it is wrong, expired or already used. Restart the server for a new one.', {
      errors: [{ field: 'token', message: 'is not valid, expired or already used' }],
    });

  return {
    /** Whether the deployment still needs its first admin. */
    async required(): Promise<boolean> {
      return (await identityRepository.countUsers(db)) === 0;
    },

    /**
     * A new setup secret when no user exists (earlier links stop working), else null.
     * Only the hash is stored; the caller shows the secret once.
     */
    async createLink(options: { minutes?: number } = {}): Promise<{ token: string; expiresAt: Date } | null> {
      if ((await identityRepository.countUsers(db)) > 0) return null;
      const { secret, hash } = newSecret('sbsetup');
      const expiresAt = new Date(Date.now() + (options.minutes ?? SETUP_LINK_MINUTES) * 60_000);
      await inTransaction(db, async (tx) => {
        await identityRepository.revokeSetupTokens(tx);
        await identityRepository.insertToken(tx, { id: crypto.randomUUID(), user_id: null, kind: 'setup', name: 'first admin', token_hash: hash, expires_at: expiresAt });
      });
      return { token: secret, expiresAt };
    },

    /** Creates the first admin with a valid setup secret; refused once any user exists. */
    async complete(input: { token: string; email: string; name: string; password: string }): Promise<User> {
      if ((await identityRepository.countUsers(db)) > 0) throw alreadyDone();
      const passwordHash = await hashPassword(input.password);
      try {
        return await inTransaction(db, async (tx) => {
          const consumed = await identityRepository.consumeSetupToken(tx, hashSecret(input.token));
          if (!consumed) {
            if ((await identityRepository.countUsers(tx)) > 0) throw alreadyDone();
            throw badToken();
          }
          // The token row is now locked by this transaction; a user created meanwhile (environment admin) still wins.
          if ((await identityRepository.countUsers(tx)) > 0) throw alreadyDone();
          const row = await identityRepository.insertUser(tx, {
            id: crypto.randomUUID(),
            email: input.email.trim(),
            name: input.name,
            password_hash: passwordHash,
            institution_id: null,
            roles: ['admin'],
          });
          await recordAudit(tx, systemActor, {
            stream: `user:${row.id}`,
            action: 'user.setup',
            entityType: 'user',
            entityId: row.id,
            data: { email: row.email, roles: row.roles, via: 'setup-link' },
          });
          return toUser(row);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw alreadyDone();
        throw error;
      }
    },
  };
}
