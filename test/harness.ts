/**
 * Test databases: every test file gets its own, so files run in parallel and
 * never see each other's data. SAMPLEBANK_TEST_ENGINE=postgres runs the same
 * suites on a real PostgreSQL (a fresh database per file, dropped afterwards).
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { compose, type Context } from '../src/compose.js';
import { loadConfig, type Config } from '../src/platform/config.js';
import { IN_MEMORY } from '../src/platform/db/database.js';
import { createLogger } from '../src/platform/logger.js';
import { buildServer } from '../src/server.js';

export type TestEngine = 'pglite' | 'postgres';
export const engine: TestEngine = process.env.SAMPLEBANK_TEST_ENGINE === 'postgres' ? 'postgres' : 'pglite';
export const adminDatabaseUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestContext extends Context {
  dispose(): Promise<void>;
}

/** A throw-away PostgreSQL database; returns its URL and a function that drops it. */
export async function createPostgresDatabase(prefix = 'sb_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminDatabaseUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function createTestContext(overrides: Partial<Config> = {}): Promise<TestContext> {
  // Tests sign in many users from one address; the login rate limit itself is tested with its default (rate-limit.test.ts).
  const base = loadConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SAMPLEBANK_DEMO: '0',
    SAMPLEBANK_LOGIN_RATE_LIMIT: '100000',
    ...(process.env.SAMPLEBANK_AUDIT_KEY_FILE ? { SAMPLEBANK_AUDIT_KEY_FILE: process.env.SAMPLEBANK_AUDIT_KEY_FILE } : {}),
  });
  const logger = createLogger(base.logLevel);
  if (engine === 'postgres') {
    const database = await createPostgresDatabase();
    const context = await compose({ config: { ...base, databaseUrl: database.url, ...overrides }, logger });
    return {
      ...context,
      async dispose() {
        await context.close();
        await database.drop();
      },
    };
  }
  const context = await compose({ config: { ...base, dataDir: IN_MEMORY, databaseUrl: undefined, ...overrides }, logger });
  return { ...context, dispose: () => context.close() };
}

export interface TestServer {
  context: TestContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The whole HTTP server over a fresh database; use app.inject, or app.listen for real sockets. */
export async function createTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const context = await createTestContext(overrides);
  const app = await buildServer(context);
  await app.ready();
  return {
    context,
    app,
    async close() {
      await app.close();
      await context.dispose();
    },
  };
}
