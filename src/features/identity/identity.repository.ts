import { sql } from 'kysely';
import type { Role } from '../../core/roles.js';
import type { Executor } from '../../platform/db/tx.js';

const userColumns = ['id', 'email', 'name', 'institution_id', 'roles', 'disabled_at', 'created_at'] as const;

export interface UserRow {
  id: string;
  email: string;
  name: string;
  institution_id: string | null;
  roles: Role[];
  disabled_at: Date | null;
  created_at: Date;
}

export const identityRepository = {
  insertInstitution(db: Executor, row: { id: string; code: string; name: string; parent_body: string | null }) {
    return db.insertInto('institutions').values(row).returning(['id', 'code', 'name', 'parent_body', 'created_at']).executeTakeFirstOrThrow();
  },

  listInstitutions(db: Executor) {
    return db.selectFrom('institutions').select(['id', 'code', 'name', 'parent_body']).orderBy('code').execute();
  },

  findInstitution(db: Executor, id: string) {
    return db.selectFrom('institutions').select(['id', 'code', 'name', 'parent_body']).where('id', '=', id).executeTakeFirst();
  },

  insertUser(db: Executor, row: { id: string; email: string; name: string; password_hash: string | null; institution_id: string | null; roles: Role[] }): Promise<UserRow> {
    return db.insertInto('users').values(row).returning(userColumns).executeTakeFirstOrThrow() as Promise<UserRow>;
  },

  findUser(db: Executor, id: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst() as Promise<UserRow | undefined>;
  },

  findUserByEmail(db: Executor, email: string): Promise<(UserRow & { password_hash: string | null }) | undefined> {
    return db
      .selectFrom('users')
      .select([...userColumns, 'password_hash'])
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
      .executeTakeFirst() as Promise<(UserRow & { password_hash: string | null }) | undefined>;
  },

  /** Users by name (any case), then id; `after` is the previous page's last (lower-cased name, id). */
  listUsers(db: Executor, options: { limit: number; after?: { name: string; id: string } | undefined; q?: string | undefined }): Promise<Array<UserRow & { sort_name: string }>> {
    // The sort key comes from the database: its lower() and JavaScript's toLowerCase() differ outside ASCII.
    let query = db.selectFrom('users').select([...userColumns, sql<string>`lower(name)`.as('sort_name')]).orderBy(sql`lower(name)`).orderBy('id').limit(options.limit);
    const after = options.after;
    if (after) query = query.where(sql<boolean>`(lower(name), id) > (${after.name}, ${after.id}::uuid)`);
    if (options.q) {
      // A plain substring of the e-mail or the name: LIKE's wildcards in what was typed match themselves.
      const pattern = `%${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) => eb.or([eb('email', 'ilike', pattern), eb('name', 'ilike', pattern)]));
    }
    return query.execute() as Promise<Array<UserRow & { sort_name: string }>>;
  },

  /** The user's row, locked until the transaction ends. */
  lockUser(tx: Executor, id: string): Promise<UserRow | undefined> {
    return tx.selectFrom('users').select(userColumns).where('id', '=', id).forUpdate().executeTakeFirst() as Promise<UserRow | undefined>;
  },

  /**
   * The ids of the enabled admins, their rows locked: two admins taking each
   * other's role at once queue here, and the second sees the first's change.
   */
  async lockActiveAdmins(tx: Executor): Promise<string[]> {
    const rows = await tx.selectFrom('users').select('id').where(sql<boolean>`'admin' = any(roles)`).where('disabled_at', 'is', null).orderBy('id').forUpdate().execute();
    return rows.map((r) => r.id);
  },

  updateUser(tx: Executor, id: string, set: { name?: string; institution_id?: string | null; roles?: Role[]; disabled_at?: Date | null }): Promise<UserRow> {
    return tx.updateTable('users').set(set).where('id', '=', id).returning(userColumns).executeTakeFirstOrThrow() as Promise<UserRow>;
  },

  /** Ends every session and API token of the user (but the one whose hash is `exceptHash`); returns how many were still live. */
  async revokeUserTokens(tx: Executor, userId: string, exceptHash?: string): Promise<number> {
    let query = tx.updateTable('auth_tokens').set({ revoked_at: new Date() }).where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (exceptHash !== undefined) query = query.where('token_hash', '<>', exceptHash);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  /** Enabled users whose e-mail address is at this domain (any case). */
  activeUsersAtDomain(db: Executor, domain: string, options: { lock?: boolean } = {}): Promise<UserRow[]> {
    let query = db
      .selectFrom('users')
      .select(userColumns)
      .where((eb) => eb(eb.fn('lower', ['email']), 'like', `%@${domain.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}`))
      .where('disabled_at', 'is', null)
      .orderBy('id');
    if (options.lock) query = query.forUpdate();
    return query.execute() as Promise<UserRow[]>;
  },

  /** The account can never sign in again: disabled, and no password. */
  retireUser(tx: Executor, id: string) {
    return tx.updateTable('users').set({ disabled_at: new Date(), password_hash: null }).where('id', '=', id).execute();
  },

  countUsers(db: Executor): Promise<number> {
    return db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n));
  },

  updatePassword(db: Executor, userId: string, passwordHash: string) {
    return db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
  },

  insertToken(
    db: Executor,
    row: { id: string; user_id: string | null; kind: 'session' | 'api' | 'setup'; name: string | null; token_hash: string; expires_at: Date | null },
  ) {
    return db.insertInto('auth_tokens').values(row).returning(['id', 'kind', 'name', 'created_at', 'expires_at']).executeTakeFirstOrThrow();
  },

  /** A live token and its user. */
  findActiveToken(db: Executor, tokenHash: string) {
    return db
      .selectFrom('auth_tokens as t')
      .leftJoin('users as u', 'u.id', 't.user_id')
      .select(['t.id as tokenId', 't.kind', 't.user_id as userId', 't.expires_at as expiresAt', 'u.institution_id as institutionId', 'u.roles', 'u.disabled_at as disabledAt'])
      .where('t.token_hash', '=', tokenHash)
      .where('t.revoked_at', 'is', null)
      .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', new Date())]))
      .executeTakeFirst();
  },

  listTokens(db: Executor, userId: string) {
    return db
      .selectFrom('auth_tokens')
      .select(['id', 'kind', 'name', 'created_at', 'expires_at', 'last_used_at'])
      .where('user_id', '=', userId)
      .where('kind', '=', 'api')
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .execute();
  },

  revokeToken(db: Executor, id: string, userId: string | null) {
    let query = db.updateTable('auth_tokens').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null);
    if (userId) query = query.where('user_id', '=', userId);
    return query.returning(['id', 'user_id']).executeTakeFirst();
  },

  /** Ends every setup link still open (a new one replaces them). */
  revokeSetupTokens(db: Executor) {
    return db.updateTable('auth_tokens').set({ revoked_at: new Date() }).where('kind', '=', 'setup').where('revoked_at', 'is', null).execute();
  },

  /** Uses up a live setup link: one caller wins, every other (and any later) caller gets nothing. */
  consumeSetupToken(db: Executor, tokenHash: string) {
    return db
      .updateTable('auth_tokens')
      .set({ revoked_at: new Date(), last_used_at: new Date() })
      .where('token_hash', '=', tokenHash)
      .where('kind', '=', 'setup')
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', new Date())
      .returning('id')
      .executeTakeFirst();
  },

  /**
   * When this address may try this account again, if it must wait now: its own failures on the
   * account always count; the address's failures on any account and the account's failures from
   * any address count only where the account has not signed in from this address recently.
   */
  async loginWaitUntil(db: Executor, account: string, address: string, knownDays: number): Promise<Date | null> {
    const result = await sql<{ until: Date | null }>`
      select max(f.wait_until) as until from login_failures f
      where f.wait_until > now()
        and ((f.account = ${account} and f.address = ${address})
          or (((f.account = '' and f.address = ${address}) or (f.account = ${account} and f.address = ''))
            and not exists (select 1 from login_known_addresses k
              where k.account = ${account} and k.address = ${address} and k.last_signed_in_at > now() - make_interval(days => ${knownDays}))))`.execute(db);
    return result.rows[0]?.until ?? null;
  },

  /**
   * Counts one failed sign-in under a key ('' for "any"): what has leaked away since the last
   * failure goes first; from the threshold on, the key waits base seconds, doubling per further
   * failure, capped (never less than a wait already set).
   */
  async recordLoginFailure(db: Executor, key: { account: string; address: string }, rule: { threshold: number; leakSeconds: number; baseSeconds: number; maxSeconds: number }): Promise<void> {
    // To the hundredth: the instants between quick failures must not keep the fifth at 4.9999.
    const count = sql`round((greatest(0, f.failures::float8 - extract(epoch from now() - f.last_failed_at)::float8 / ${rule.leakSeconds}::float8) + 1)::numeric, 2)::float8`;
    await sql`
      insert into login_failures as f (account, address, failures) values (${key.account}, ${key.address}, 1)
      on conflict (account, address) do update set
        failures = ${count},
        last_failed_at = now(),
        wait_until = case when ${count} >= ${rule.threshold}::float8
          then greatest(f.wait_until, now() + make_interval(secs => least(${rule.maxSeconds}::float8, ${rule.baseSeconds}::float8 * power(2, ${count} - ${rule.threshold}::float8))))
          else f.wait_until end`.execute(db);
  },

  /** Keeps the counters small: a counter quiet for a day has leaked away (none waits that long). */
  pruneLoginFailures(db: Executor) {
    return sql`delete from login_failures where last_failed_at < now() - interval '1 day' and (wait_until is null or wait_until < now())`.execute(db);
  },

  /** A successful sign-in: the address's own failures on the account are forgiven, and the address is known for the account. */
  async recordLoginSuccess(db: Executor, account: string, address: string, knownDays: number): Promise<void> {
    await sql`delete from login_failures where account = ${account} and address = ${address}`.execute(db);
    await sql`
      insert into login_known_addresses (account, address) values (${account}, ${address})
      on conflict (account, address) do update set last_signed_in_at = now()`.execute(db);
    await sql`delete from login_known_addresses where last_signed_in_at < now() - make_interval(days => ${knownDays})`.execute(db);
  },

  /** Forgets every failure counted against the account (its new password makes them moot). */
  async clearLoginFailures(db: Executor, account: string): Promise<void> {
    await sql`delete from login_failures where account = ${account}`.execute(db);
  },

  revokeTokenByHash(db: Executor, tokenHash: string) {
    return db.updateTable('auth_tokens').set({ revoked_at: new Date() }).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).execute();
  },
};
