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
  NODE_ENV: z.string().optional(),
  SAMPLEBANK_COOKIE_SECURE: boolFlag.optional(),
  SAMPLEBANK_TRUST_PROXY: z
    .string()
    .regex(/^(0|1|true|false|\d{1,2}|[0-9a-fA-F.:/,\s]+)$/, 'must be 0, 1, a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges')
    .default('0'),
  SAMPLEBANK_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SAMPLEBANK_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SAMPLEBANK_METRICS_HOST: z.string().optional(),
  SAMPLEBANK_SEAL_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(86_400).default(60),
  SAMPLEBANK_WORK_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(86_400).default(60),
  SAMPLEBANK_SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(8),
  SAMPLEBANK_AUDIT_KEY_FILE: z.string().min(1).optional(),
  SAMPLEBANK_AUDIT_TRUSTED_KEYS: z.string().optional(),
  SAMPLEBANK_LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(10),
  SMTP_URL: z.string().optional(),
  SMTP_FROM: z.string().default('SampleBank <no-reply@samplebank.local>'),
  SAMPLEBANK_BLOCK_OVERDUE: boolFlag.default(true),
  SAMPLEBANK_TOKEN_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  SAMPLEBANK_API_TOKEN_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  SAMPLEBANK_API_TOKEN_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
});

export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  /** Connections the server keeps to PostgreSQL at most (PGlite has one). */
  databasePoolSize: number;
  port: number;
  host: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** NODE_ENV=production: never load the demo. */
  production: boolean;
  /** SAMPLEBANK_DEMO: load the demo into a brand-new database (no user at all); never in production or with SAMPLEBANK_ADMIN_EMAIL. */
  demo: boolean;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  publicUrl: string;
  /** Session cookie marked Secure: SAMPLEBANK_COOKIE_SECURE, by default when the public URL is https. */
  cookieSecure: boolean;
  /** Fastify's trustProxy: false, true, a hop count, or the proxies' addresses (X-Forwarded-For is believed from them only). */
  trustProxy: boolean | number | string[];
  /** Bearer token that /metrics requires on the main port; without it (and without a metrics port) /metrics is off. */
  metricsToken: string | undefined;
  /** Serve /metrics on this port instead (no token; bind it to a private address). */
  metricsPort: number | undefined;
  metricsHost: string;
  /** How often the server seals the audit streams that moved. */
  sealIntervalMs: number;
  /** How often periodic work runs: closing calls on their date, reminders, the mail outbox. */
  workIntervalMs: number;
  /** On SIGTERM/SIGINT, the longest the server waits for requests in flight, the last seal and the database before it exits anyway. */
  shutdownTimeoutMs: number;
  /** The Ed25519 key that signs audit seals: kept outside the database, generated on first use when missing. */
  auditKeyFile: string;
  /** More public keys whose seals verify (a rotated key, another deployment's): PEM files. */
  auditTrustedKeyFiles: string[];
  /** Sign-in (and setup) attempts per client address per minute. */
  loginRateLimit: number;
  smtpUrl: string | undefined;
  smtpFrom: string;
  /** Refuse new applications from applicants with an overdue loan obligation. */
  blockOverdue: boolean;
  /** Seconds a process remembers who a token belongs to; a token revoked by another process works that much longer. 0 turns it off. */
  tokenCacheSeconds: number;
  /** Days a new API token lives when its creator does not say how many. */
  apiTokenDays: number;
  /** The most days a new API token may be asked to live. */
  apiTokenMaxDays: number;
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
  if (e.SAMPLEBANK_API_TOKEN_DAYS > e.SAMPLEBANK_API_TOKEN_MAX_DAYS) {
    throw new Error(`Invalid configuration:\n  SAMPLEBANK_API_TOKEN_DAYS: must not exceed SAMPLEBANK_API_TOKEN_MAX_DAYS (${e.SAMPLEBANK_API_TOKEN_MAX_DAYS})`);
  }
  const publicUrl = e.SAMPLEBANK_PUBLIC_URL ?? `http://localhost:${e.PORT}`;
  const config: Config = {
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    production: e.NODE_ENV === 'production',
    demo: e.SAMPLEBANK_DEMO,
    adminEmail: e.SAMPLEBANK_ADMIN_EMAIL,
    adminPassword: e.SAMPLEBANK_ADMIN_PASSWORD,
    publicUrl,
    cookieSecure: e.SAMPLEBANK_COOKIE_SECURE ?? publicUrl.startsWith('https:'),
    trustProxy: parseTrustProxy(e.SAMPLEBANK_TRUST_PROXY),
    metricsToken: e.SAMPLEBANK_METRICS_TOKEN,
    metricsPort: e.SAMPLEBANK_METRICS_PORT,
    metricsHost: e.SAMPLEBANK_METRICS_HOST ?? e.HOST,
    sealIntervalMs: Math.round(e.SAMPLEBANK_SEAL_INTERVAL_SECONDS * 1000),
    workIntervalMs: Math.round(e.SAMPLEBANK_WORK_INTERVAL_SECONDS * 1000),
    shutdownTimeoutMs: Math.round(e.SAMPLEBANK_SHUTDOWN_TIMEOUT_SECONDS * 1000),
    auditKeyFile: path.resolve(e.SAMPLEBANK_AUDIT_KEY_FILE ?? path.join(e.DATA_DIR, 'audit-signing-key.pem')),
    auditTrustedKeyFiles: (e.SAMPLEBANK_AUDIT_TRUSTED_KEYS ?? '').split(',').map((f) => f.trim()).filter(Boolean).map((f) => path.resolve(f)),
    loginRateLimit: e.SAMPLEBANK_LOGIN_RATE_LIMIT,
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
    blockOverdue: e.SAMPLEBANK_BLOCK_OVERDUE,
    tokenCacheSeconds: e.SAMPLEBANK_TOKEN_CACHE_SECONDS,
    apiTokenDays: e.SAMPLEBANK_API_TOKEN_DAYS,
    apiTokenMaxDays: e.SAMPLEBANK_API_TOKEN_MAX_DAYS,
  };
  return { ...config, ...overrides };
}

function parseTrustProxy(value: string): boolean | number | string[] {
  const v = value.trim();
  if (v === '0' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((part) => part.trim()).filter(Boolean);
}
