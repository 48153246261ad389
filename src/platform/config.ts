import path from 'node:path';
import { z } from 'zod';

const boolFlag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no'])
  .transform((value) => value === '1' || value === 'true' || value === 'yes');

const envSchema = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(20),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SAMPLEBANK_DEMO: boolFlag.default(true),
  SAMPLEBANK_ADMIN_EMAIL: z.string().email().optional(),
  SAMPLEBANK_ADMIN_PASSWORD: z.string().min(8).optional(),
  SAMPLEBANK_PUBLIC_URL: z.string().url().optional(),
  SAMPLEBANK_COOKIE_SECURE: boolFlag.default(false),
  SAMPLEBANK_LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(10),
  SMTP_URL: z.string().optional(),
  SMTP_FROM: z.string().default('SampleBank <no-reply@samplebank.local>'),
  SAMPLEBANK_BLOCK_OVERDUE: boolFlag.default(true),
  SAMPLEBANK_TOKEN_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
});

export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  /** Connections the server keeps to PostgreSQL at most (PGlite has one). */
  databasePoolSize: number;
  port: number;
  host: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  demo: boolean;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  publicUrl: string;
  cookieSecure: boolean;
  /** Sign-in (and setup) attempts per client address per minute. */
  loginRateLimit: number;
  smtpUrl: string | undefined;
  smtpFrom: string;
  /** Refuse new applications from applicants with an overdue loan obligation. */
  blockOverdue: boolean;
  /** Seconds a process remembers who a token belongs to; a token revoked by another process works that much longer. 0 turns it off. */
  tokenCacheSeconds: number;
}

/** Reads configuration from the environment; a bad value stops start-up with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const config: Config = {
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    demo: e.SAMPLEBANK_DEMO,
    adminEmail: e.SAMPLEBANK_ADMIN_EMAIL,
    adminPassword: e.SAMPLEBANK_ADMIN_PASSWORD,
    publicUrl: e.SAMPLEBANK_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    cookieSecure: e.SAMPLEBANK_COOKIE_SECURE,
    loginRateLimit: e.SAMPLEBANK_LOGIN_RATE_LIMIT,
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
    blockOverdue: e.SAMPLEBANK_BLOCK_OVERDUE,
    tokenCacheSeconds: e.SAMPLEBANK_TOKEN_CACHE_SECONDS,
  };
  return { ...config, ...overrides };
}
