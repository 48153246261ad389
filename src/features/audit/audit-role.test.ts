/**
 * The documented least-privilege setup (app-role.sql) on a real PostgreSQL:
 * the app starts, records and verifies under the role, and the database
 * itself refuses it UPDATE, DELETE and TRUNCATE of audit rows.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { compose, type Context } from '../../compose.js';
import { sqlState } from '../../platform/db/tx.js';
import { adminDatabaseUrl, createTestContext, engine, type TestContext } from '../../../test/harness.js';

describe.skipIf(engine !== 'postgres')('audit tables under the app role from app-role.sql (PostgreSQL)', () => {
  const role = `sb_app_${crypto.randomBytes(4).toString('hex')}`;
  let owner: TestContext;
  let app: Context;
  beforeAll(async () => {
    owner = await createTestContext();
    const snippet = fs.readFileSync(new URL('./app-role.sql', import.meta.url), 'utf8').replaceAll('samplebank_app', role);
    await sql.raw(snippet).execute(owner.handle.db);
    const url = new URL(owner.config.databaseUrl!);
    url.username = role;
    url.password = 'change-me';
    app = await compose({ config: { ...owner.config, databaseUrl: url.toString() }, logger: owner.logger });
  });
  afterAll(async () => {
    await app?.close();
    await owner?.dispose();
    const admin = new pg.Client({ connectionString: adminDatabaseUrl });
    await admin.connect();
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  it('records, seals and verifies, but cannot change audit rows even with the triggers off', async () => {
    const { rows } = await sql<{ user: string; superuser: string }>`select current_user as user, current_setting('is_superuser') as superuser`.execute(app.handle.db);
    expect(rows[0]).toEqual({ user: role, superuser: 'off' });
    await app.services.identity.createInstitution(systemActor, { code: `R${crypto.randomBytes(3).toString('hex')}`, name: 'Role test institute' });
    expect(await app.services.audit.verify(systemActor)).toMatchObject({ ok: true, events: 1, seals: 1 });

    const refused = async (statement: ReturnType<typeof sql>) => sqlState(await statement.execute(app.handle.db).then(() => null, (e: unknown) => e));
    expect(await refused(sql`update audit_events set action = 'x'`)).toBe('42501');
    expect(await refused(sql`delete from audit_events`)).toBe('42501');
    expect(await refused(sql`truncate audit_events`)).toBe('42501');
    expect(await refused(sql`delete from audit_seals`)).toBe('42501');
    // The bypass a superuser has is closed to the app: it owns no audit table.
    expect(await refused(sql`alter table audit_events disable trigger user`)).toBe('42501');
    expect(await refused(sql`set session_replication_role = replica`)).toBe('42501');
  });
});
