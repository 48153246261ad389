import crypto from 'node:crypto';
import { systemActor, type Actor } from '../../core/actor.js';
import { nameOrderCursor } from '../../core/cursor.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import type { Role } from '../../core/roles.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, isUniqueViolation } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import { identityRepository, type UserRow } from './identity.repository.js';
import { LOCAL_CLIENT, LOGIN_THROTTLE, accountKey, addressKey } from './login-throttle.js';
import { dummyPasswordHash, hashPassword, hashSecret, newSecret, verifyPassword } from './password.js';
import { createTokenCache } from './token-cache.js';

export const SESSION_DAYS = 7;

export interface User {
  id: string;
  email: string;
  name: string;
  institutionId: string | null;
  roles: Role[];
  disabled: boolean;
}

export interface UserChange {
  name?: string | undefined;
  institutionId?: string | null | undefined;
  roles?: Role[] | undefined;
  disabled?: boolean | undefined;
}

export interface Institution {
  id: string;
  code: string;
  name: string;
  parentBody: string | null;
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, institutionId: row.institution_id, roles: row.roles, disabled: row.disabled_at !== null };
}

function toInstitution(row: { id: string; code: string; name: string; parent_body: string | null }): Institution {
  return { id: row.id, code: row.code, name: row.name, parentBody: row.parent_body };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

export interface IdentityOptions {
  /** How long this process remembers who a token belongs to (0: ask the database on every request). */
  tokenCacheMs?: number;
  /** Days an API token lives when its creator does not say (SAMPLEBANK_API_TOKEN_DAYS). */
  apiTokenDays?: number;
  /** The most days a creator may ask for (SAMPLEBANK_API_TOKEN_MAX_DAYS). */
  apiTokenMaxDays?: number;
}

const DAY_MS = 24 * 3600 * 1000;

export function createIdentityService(db: DB, options: IdentityOptions = {}) {
  const tokens = createTokenCache({ ttlMs: options.tokenCacheMs ?? 0 });
  const apiTokenMaxDays = options.apiTokenMaxDays ?? 365;
  const apiTokenDays = Math.min(options.apiTokenDays ?? 90, apiTokenMaxDays);
  const service = {
    /** What POST /auth/tokens accepts as expiresInDays, and what it gives when none is asked for. */
    apiTokenDays: { default: apiTokenDays, max: apiTokenMaxDays },

    async createInstitution(actor: Actor | null, input: { code: string; name: string; parentBody?: string | undefined }): Promise<Institution> {
      authorize(actor, 'institution.create');
      try {
        return await inTransaction(db, async (tx) => {
          const row = await identityRepository.insertInstitution(tx, {
            id: crypto.randomUUID(),
            code: input.code,
            name: input.name,
            parent_body: input.parentBody ?? null,
          });
          await recordAudit(tx, actor, { stream: `institution:${row.id}`, action: 'institution.create', entityType: 'institution', entityId: row.id, data: { code: row.code, name: row.name } });
          return toInstitution(row);
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new DomainError('duplicate', `An institution with code ${input.code} already exists`, { errors: [{ field: 'code', message: 'already exists' }] });
        }
        throw error;
      }
    },

    async listInstitutions(actor: Actor | null): Promise<Institution[]> {
      authorize(actor, 'institution.list');
      return (await identityRepository.listInstitutions(db)).map(toInstitution);
    },

    async createUser(
      actor: Actor | null,
      input: { email: string; name: string; password: string; institutionId?: string | null | undefined; roles: Role[] },
    ): Promise<User> {
      authorize(actor, 'user.create');
      if (input.institutionId && !(await identityRepository.findInstitution(db, input.institutionId))) {
        throw new DomainError('validation-failed', 'The institution does not exist', { errors: [{ field: 'institutionId', message: 'no such institution' }] });
      }
      const passwordHash = await hashPassword(input.password);
      try {
        return await inTransaction(db, async (tx) => {
          const row = await identityRepository.insertUser(tx, {
            id: crypto.randomUUID(),
            email: input.email.trim(),
            name: input.name,
            password_hash: passwordHash,
            institution_id: input.institutionId ?? null,
            roles: [...new Set(input.roles)],
          });
          await recordAudit(tx, actor, { stream: `user:${row.id}`, action: 'user.create', entityType: 'user', entityId: row.id, data: { email: row.email, roles: row.roles, institutionId: row.institution_id } });
          return toUser(row);
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new DomainError('duplicate', `A user with e-mail ${input.email} already exists`, { errors: [{ field: 'email', message: 'already exists' }] });
        }
        throw error;
      }
    },

    async getUser(actor: Actor | null, id: string): Promise<User> {
      if (actor?.userId !== id) authorize(actor, 'user.read');
      const row = await identityRepository.findUser(db, id);
      if (!row) throw notFound('The user');
      return toUser(row);
    },

    /** The user with this sign-in address, any case (the operator's CLI names users by e-mail). */
    async getUserByEmail(actor: Actor | null, email: string): Promise<User> {
      authorize(actor, 'user.read');
      const row = await identityRepository.findUserByEmail(db, email.trim());
      if (!row) throw notFound('The user', 'email');
      return toUser(row);
    },

    async listUsers(actor: Actor | null, options: { limit: number; cursor?: string | undefined; q?: string | undefined }): Promise<{ items: User[]; nextCursor: string | null }> {
      authorize(actor, 'user.list');
      const after = options.cursor === undefined ? undefined : nameOrderCursor.decode(options.cursor);
      const rows = await identityRepository.listUsers(db, { limit: options.limit + 1, after, q: options.q });
      const page = rows.slice(0, options.limit);
      const last = page.at(-1);
      return { items: page.map(toUser), nextCursor: rows.length > options.limit && last ? nameOrderCursor.encode({ name: last.sort_name, id: last.id }) : null };
    },

    /**
     * Renames a user, moves them to another institution, changes their roles,
     * or disables (enables) their account. Disabling revokes every session
     * and API token they hold. The system always keeps one enabled admin, and
     * an admin cannot disable themselves. One audit event names what changed.
     */
    async updateUser(actor: Actor | null, id: string, change: UserChange): Promise<User> {
      authorize(actor, 'user.update');
      if (change.name === undefined && change.institutionId === undefined && change.roles === undefined && change.disabled === undefined) {
        throw invalid('body', 'names nothing to change (name, institutionId, roles or disabled)');
      }
      if (change.institutionId && !(await identityRepository.findInstitution(db, change.institutionId))) {
        throw invalid('institutionId', 'no such institution');
      }
      if (change.disabled === true && actor.userId === id) {
        throw new DomainError('conflict', 'You cannot disable your own account; ask another admin', { errors: [{ field: 'disabled', message: 'is your own account' }] });
      }
      const updated = await inTransaction(db, async (tx) => {
        // Admins first, then the user: the same lock order for every change, so two never wait on each other in a circle.
        const admins = await identityRepository.lockActiveAdmins(tx);
        const before = await identityRepository.lockUser(tx, id);
        if (!before) throw notFound('The user');
        const set: { name?: string; institution_id?: string | null; roles?: Role[]; disabled_at?: Date | null } = {};
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        if (change.name !== undefined && change.name !== before.name) {
          set.name = change.name;
          changes.name = { from: before.name, to: change.name };
        }
        if (change.institutionId !== undefined && change.institutionId !== before.institution_id) {
          set.institution_id = change.institutionId;
          changes.institutionId = { from: before.institution_id, to: change.institutionId };
        }
        if (change.roles !== undefined) {
          const roles = [...new Set(change.roles)];
          if (roles.length !== before.roles.length || roles.some((r) => !before.roles.includes(r))) {
            set.roles = roles;
            changes.roles = { from: before.roles, to: roles };
          }
        }
        const wasDisabled = before.disabled_at !== null;
        if (change.disabled !== undefined && change.disabled !== wasDisabled) {
          set.disabled_at = change.disabled ? new Date() : null;
          changes.disabled = { from: wasDisabled, to: change.disabled };
        }
        if (Object.keys(changes).length === 0) return before;
        const staysAdmin = (set.roles ?? before.roles).includes('admin') && (set.disabled_at === undefined ? !wasDisabled : set.disabled_at === null);
        if (admins.includes(id) && !staysAdmin && admins.length === 1) {
          const field = changes.roles ? 'roles' : 'disabled';
          throw new DomainError('conflict', 'This is the last enabled admin; make another user an admin first', { errors: [{ field, message: 'would leave no enabled admin' }] });
        }
        const after = await identityRepository.updateUser(tx, id, set);
        const revoked = change.disabled === true && !wasDisabled ? await identityRepository.revokeUserTokens(tx, id) : 0;
        const action = changes.disabled ? (change.disabled ? 'user.disable' : 'user.enable') : 'user.update';
        await recordAudit(tx, actor, { stream: `user:${id}`, action, entityType: 'user', entityId: id, data: { email: after.email, changes, ...(revoked > 0 ? { tokensRevoked: revoked } : {}) } });
        return after;
      });
      // Cached actors carry roles and the institution; a disabled user's tokens are gone.
      tokens.clear();
      return toUser(updated);
    },

    /**
     * Sets a new password for a user who lost theirs (an admin, or the
     * operator's CLI). Every session and API token they hold is revoked and
     * their failed sign-ins are forgiven. Your own password changes under
     * POST /me/password, with the current one.
     */
    async resetPassword(actor: Actor | null, id: string, password: string): Promise<void> {
      authorize(actor, 'user.update');
      if (actor.userId === id) {
        throw new DomainError('conflict', 'Change your own password with your current one (POST /api/v1/me/password)', { errors: [{ field: 'password', message: 'is your own' }] });
      }
      const passwordHash = await hashPassword(password);
      const email = await inTransaction(db, async (tx) => {
        const user = await identityRepository.lockUser(tx, id);
        if (!user) throw notFound('The user');
        await identityRepository.updatePassword(tx, id, passwordHash);
        const revoked = await identityRepository.revokeUserTokens(tx, id);
        await recordAudit(tx, actor, { stream: `user:${id}`, action: 'user.password-reset', entityType: 'user', entityId: id, data: { email: user.email, tokensRevoked: revoked } });
        return user.email;
      });
      tokens.clear();
      await identityRepository.clearLoginFailures(db, accountKey(email));
    },

    /** Enabled accounts at an e-mail domain (the demo's, for one). */
    accountsAtDomain: async (domain: string): Promise<User[]> => (await identityRepository.activeUsersAtDomain(db, domain)).map(toUser),

    /**
     * Retires every enabled account at an e-mail domain for good (the demo's
     * published accounts on a real deployment): disabled, password removed,
     * every session and API token revoked. The rows stay, because records
     * and the audit trail name them. Refused when it would leave no enabled admin.
     */
    async retireAccountsAtDomain(actor: Actor | null, domain: string): Promise<User[]> {
      authorize(actor, 'user.update');
      const retired = await inTransaction(db, async (tx) => {
        const admins = await identityRepository.lockActiveAdmins(tx);
        const accounts = await identityRepository.activeUsersAtDomain(tx, domain, { lock: true });
        const leaving = new Set(accounts.map((a) => a.id));
        if (accounts.length > 0 && !admins.some((id) => !leaving.has(id))) {
          throw new DomainError('conflict', `No admin would be left: create your own admin account first (Users, or samplebank user add --role admin), then remove the accounts at ${domain}`, {
            errors: [{ field: 'accounts', message: 'would leave no enabled admin' }],
          });
        }
        for (const account of accounts) {
          await identityRepository.retireUser(tx, account.id);
          const revoked = await identityRepository.revokeUserTokens(tx, account.id);
          await recordAudit(tx, actor, { stream: `user:${account.id}`, action: 'user.retire', entityType: 'user', entityId: account.id, data: { email: account.email, tokensRevoked: revoked } });
        }
        return accounts;
      });
      tokens.clear();
      return retired.map((row) => toUser({ ...row, disabled_at: new Date() }));
    },

    async me(actor: Actor | null): Promise<User> {
      if (!actor?.userId) throw new DomainError('unauthenticated', 'Sign in first');
      return service.getUser(actor, actor.userId);
    },

    /**
     * Checks the password and opens a session; the same answer, in the same time, for an unknown
     * e-mail and a wrong password. `from` is the client's address: failures slow down that
     * address, not the account's owner elsewhere (login-throttle.ts).
     */
    async login(email: string, password: string, from: string = LOCAL_CLIENT): Promise<{ user: User; token: string; expiresAt: Date }> {
      const account = accountKey(email);
      const address = addressKey(from);
      const { knownAddressDays } = LOGIN_THROTTLE;
      const waitUntil = await identityRepository.loginWaitUntil(db, account, address, knownAddressDays);
      if (waitUntil) {
        const retryAfter = Math.max(1, Math.ceil((waitUntil.getTime() - Date.now()) / 1000));
        throw new DomainError('rate-limited', `Too many failed sign-ins; wait ${retryAfter} s and try again`, { extensions: { retryAfter } });
      }
      // Awaited on every path, so that the first sign-in after start is not the one that makes it.
      const dummy = await dummyPasswordHash();
      const row = await identityRepository.findUserByEmail(db, email);
      const hash = row && !row.disabled_at ? row.password_hash : null;
      const matches = await verifyPassword(hash ?? dummy, password);
      if (!row || !hash || !matches) {
        for (const [key, rule] of [
          [{ account, address }, LOGIN_THROTTLE.pair],
          [{ account: '', address }, LOGIN_THROTTLE.address],
          [{ account, address: '' }, LOGIN_THROTTLE.account],
        ] as const) {
          await identityRepository.recordLoginFailure(db, key, rule);
        }
        await identityRepository.pruneLoginFailures(db);
        throw new DomainError('invalid-credentials', 'The e-mail or the password is wrong');
      }
      await identityRepository.recordLoginSuccess(db, account, address, knownAddressDays);
      const { secret, hash: tokenHash } = newSecret('sbs');
      const expiresAt = new Date(Date.now() + SESSION_DAYS * DAY_MS);
      await inTransaction(db, async (tx) => {
        await identityRepository.insertToken(tx, { id: crypto.randomUUID(), user_id: row.id, kind: 'session', name: null, token_hash: tokenHash, expires_at: expiresAt });
        await recordAudit(tx, { ...systemActor, userId: row.id }, { stream: `user:${row.id}`, action: 'user.login', entityType: 'user', entityId: row.id });
      });
      return { user: toUser(row), token: secret, expiresAt };
    },

    async logout(token: string): Promise<void> {
      const hash = hashSecret(token);
      tokens.forget(hash);
      await identityRepository.revokeTokenByHash(db, hash);
    },

    /** The actor behind a bearer token or session cookie, or null. */
    async authenticate(token: string | undefined): Promise<Actor | null> {
      if (!token || token.length > 200) return null;
      const hash = hashSecret(token);
      const cached = tokens.get(hash);
      if (cached) return cached;
      const found = await identityRepository.findActiveToken(db, hash);
      if (!found || !found.userId || found.disabledAt || found.kind === 'setup') return null;
      const actor: Actor = { userId: found.userId, institutionId: found.institutionId ?? null, roles: found.roles ?? [] };
      tokens.set(hash, actor, found.expiresAt);
      return actor;
    },

    /** A new API token: it expires after the days asked for, up to the server's maximum, or after the server's default. */
    async createApiToken(actor: Actor | null, input: { name: string; expiresInDays?: number | undefined }) {
      authorize(actor, 'token.manage');
      const days = input.expiresInDays ?? apiTokenDays;
      if (!Number.isInteger(days) || days < 1 || days > apiTokenMaxDays) {
        throw invalid('expiresInDays', `must be a whole number of days from 1 to ${apiTokenMaxDays}, the most this server allows`);
      }
      const { secret, hash } = newSecret('sbt');
      const expiresAt = new Date(Date.now() + days * DAY_MS);
      const row = await inTransaction(db, async (tx) => {
        const inserted = await identityRepository.insertToken(tx, { id: crypto.randomUUID(), user_id: actor.userId, kind: 'api', name: input.name, token_hash: hash, expires_at: expiresAt });
        await recordAudit(tx, actor, { stream: `user:${actor.userId}`, action: 'token.create', entityType: 'auth_token', entityId: inserted.id, data: { name: input.name, expiresAt: expiresAt.toISOString() } });
        return inserted;
      });
      return { id: row.id, name: row.name ?? input.name, token: secret, createdAt: row.created_at, expiresAt };
    },

    async listApiTokens(actor: Actor | null) {
      authorize(actor, 'token.manage');
      const rows = await identityRepository.listTokens(db, actor.userId!);
      return rows.map((row) => ({ id: row.id, name: row.name ?? '', createdAt: row.created_at, expiresAt: row.expires_at, lastUsedAt: row.last_used_at }));
    },

    async revokeApiToken(actor: Actor | null, id: string): Promise<void> {
      authorize(actor, 'token.manage');
      const isAdmin = actor.roles.includes('admin');
      await inTransaction(db, async (tx) => {
        const revoked = await identityRepository.revokeToken(tx, id, isAdmin ? null : actor.userId);
        if (!revoked) throw notFound('The token');
        await recordAudit(tx, actor, { stream: `user:${revoked.user_id}`, action: 'token.revoke', entityType: 'auth_token', entityId: id });
      });
      // The cache is keyed by the secret's hash, which the id does not give: forget everyone (revoking is rare).
      tokens.clear();
    },

    /**
     * Changes your own password, with the current one. Every other session and API token of yours
     * ends (someone who knew the old password may hold one); the one used for this request
     * (`credential`, the bearer token or session cookie) stays, so you stay signed in where you are.
     */
    async changePassword(actor: Actor | null, input: { currentPassword: string; newPassword: string }, credential?: string): Promise<void> {
      if (!actor?.userId) throw new DomainError('unauthenticated', 'Sign in first');
      const userId = actor.userId;
      const user = await identityRepository.findUser(db, userId);
      const withHash = user && (await identityRepository.findUserByEmail(db, user.email));
      if (!withHash || !(await verifyPassword(withHash.password_hash, input.currentPassword))) {
        throw new DomainError('invalid-credentials', 'The current password is wrong', { errors: [{ field: 'currentPassword', message: 'is wrong' }] });
      }
      const passwordHash = await hashPassword(input.newPassword);
      await inTransaction(db, async (tx) => {
        await identityRepository.updatePassword(tx, userId, passwordHash);
        const revoked = await identityRepository.revokeUserTokens(tx, userId, credential === undefined ? undefined : hashSecret(credential));
        await recordAudit(tx, actor, { stream: `user:${userId}`, action: 'user.password-change', entityType: 'user', entityId: userId, data: { tokensRevoked: revoked } });
      });
      // The revoked tokens' hashes are not at hand: forget everyone (changing a password is rare).
      tokens.clear();
    },

    /** First start: create the admin from the environment when no user exists yet. */
    async ensureFirstAdmin(email: string | undefined, password: string | undefined): Promise<User | null> {
      if ((await identityRepository.countUsers(db)) > 0 || !email || !password) return null;
      try {
        return await service.createUser(systemActor, { email, name: 'Administrator', password, roles: ['admin'] });
      } catch (error) {
        // Another server process starting at the same moment created them first.
        if (error instanceof DomainError && error.code === 'duplicate') return null;
        throw error;
      }
    },
  };
  return service;
}
