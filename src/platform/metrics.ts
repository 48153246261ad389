/**
 * Prometheus metrics (prom-client) for operations: request durations, ledger
 * operations and refusals, database connections and the backlogs an operator
 * alerts on (jobs, the mail outbox, the audit seal). Each composed context has
 * a registry of its own, never prom-client's global one, so several servers in
 * one process (tests) never count into each other.
 *
 * Values read from the database are read at scrape time through functions the
 * composition root gives (each a repository query), with a time limit: a
 * database that does not answer makes those series disappear and
 * samplebank_database_up 0, never a failed scrape, so the process, HTTP and
 * ledger series still arrive and an alert can say what is wrong.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectionUse } from './db/database.js';

/** What the ledger reports: an operation that committed, or one refused (reason: the DomainError code, or conflict). */
export interface LedgerCounters {
  committed(kind: string): void;
  refused(kind: string, reason: string): void;
}

/** How many wait, and for how long the oldest has waited (0 when none). */
export interface Backlog {
  count: number;
  oldestAgeSeconds: number;
}

/** Read from the database at each scrape, each through its feature's repository. */
export interface DatabaseReadings {
  /** Jobs queued and running. */
  jobs(): Promise<{ queued: Backlog; running: Backlog }>;
  /** Mail waiting in the outbox (state pending). */
  mailOutbox(): Promise<Backlog>;
  /** Seconds since the last audit seal; null before the first. */
  lastSealAgeSeconds(): Promise<number | null>;
}

export interface MetricsOptions {
  version: string;
  engine: string;
  connections(): ConnectionUse;
  readings: DatabaseReadings;
  /** Ledger operation kinds, counted from 0 so rate() works from the first one. */
  ledgerKinds?: readonly string[];
  /**
   * Node process metrics (CPU, memory, event loop lag, GC). They install
   * observers that live as long as the process, so only where /metrics is served.
   */
  processMetrics?: boolean;
  /** How long a scrape waits for the database before it reports without it. */
  readTimeoutMs?: number;
}

export interface Metrics {
  readonly registry: Registry;
  /** The exposition format's content type (text/plain; version=0.0.4). */
  readonly contentType: string;
  readonly ledger: LedgerCounters;
  /** One HTTP request: route is the route pattern (never the raw URL), 'unmatched' when none matched. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** The exposition text; never rejects because of the database. */
  render(): Promise<string>;
}

/** Buckets for an API: 5 ms to 10 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Readings {
  jobs?: { queued: Backlog; running: Backlog };
  outbox?: Backlog;
  /** undefined: not read; null: no seal yet. */
  sealAge?: number | null;
  up: boolean;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const readTimeoutMs = options.readTimeoutMs ?? 3000;
  if (options.processMetrics) collectDefaultMetrics({ register: registry });

  new Gauge({ name: 'samplebank_info', help: 'Version and database engine of this process (always 1)', labelNames: ['version', 'engine'], registers: [registry] }).set(
    { version: options.version, engine: options.engine },
    1,
  );

  const duration = new Histogram({
    name: 'samplebank_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const operations = new Counter({ name: 'samplebank_ledger_operations_total', help: 'Ledger operations committed, by kind', labelNames: ['kind'], registers: [registry] });
  const refusals = new Counter({
    name: 'samplebank_ledger_refusals_total',
    help: 'Ledger operations refused, by kind and reason (the problem type: insufficient-quantity, consent-withdrawn, conflict, …)',
    labelNames: ['kind', 'reason'],
    registers: [registry],
  });
  for (const kind of options.ledgerKinds ?? []) operations.inc({ kind }, 0);

  new Gauge({
    name: 'samplebank_db_connections',
    help: 'Database connections by state: total open, idle, and waiting (queries waiting for a connection); PGlite has one',
    labelNames: ['engine', 'state'],
    registers: [registry],
    collect() {
      const use = options.connections();
      for (const state of ['total', 'idle', 'waiting'] as const) this.set({ engine: options.engine, state }, use[state]);
    },
  });
  new Gauge({
    name: 'samplebank_db_connections_max',
    help: 'Database connections this process opens at most (DATABASE_POOL_SIZE; 1 for PGlite)',
    labelNames: ['engine'],
    registers: [registry],
    collect() {
      this.set({ engine: options.engine }, options.connections().max);
    },
  });

  // One set of reads per scrape: prom-client collects every metric at once, so they share the reads in flight.
  let inFlight: Promise<Readings> | undefined;
  const read = (): Promise<Readings> => (inFlight ??= readDatabase(options.readings, readTimeoutMs).finally(() => (inFlight = undefined)));

  new Gauge({
    name: 'samplebank_database_up',
    help: 'Whether the database answered this scrape (1) or not (0); without it the job, outbox and seal series are left out',
    registers: [registry],
    async collect() {
      this.set((await read()).up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'samplebank_jobs',
    help: 'Jobs (imports, allocation proposals, …) queued or running',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { jobs } = await read();
      this.reset();
      if (jobs) for (const state of ['queued', 'running'] as const) this.set({ state }, jobs[state].count);
    },
  });
  new Gauge({
    name: 'samplebank_jobs_oldest_age_seconds',
    help: 'Age of the oldest job queued or running, by state (0 when there is none)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { jobs } = await read();
      this.reset();
      if (jobs) for (const state of ['queued', 'running'] as const) this.set({ state }, jobs[state].oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'samplebank_mail_outbox_pending',
    help: 'E-mails waiting in the outbox to be sent (or retried)',
    registers: [registry],
    async collect() {
      const { outbox } = await read();
      if (outbox) this.set(outbox.count);
      else this.remove();
    },
  });
  new Gauge({
    name: 'samplebank_mail_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest e-mail waiting in the outbox (0 when there is none)',
    registers: [registry],
    async collect() {
      const { outbox } = await read();
      if (outbox) this.set(outbox.oldestAgeSeconds);
      else this.remove();
    },
  });
  new Gauge({
    name: 'samplebank_audit_last_seal_age_seconds',
    help: 'Seconds since the last audit seal (a seal is written only when audit streams moved; absent before the first)',
    registers: [registry],
    async collect() {
      const { sealAge } = await read();
      if (typeof sealAge === 'number') this.set(sealAge);
      else this.remove();
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    ledger: {
      committed: (kind) => operations.inc({ kind }),
      refused: (kind, reason) => refusals.inc({ kind, reason }),
    },
    observeRequest: (method, route, status, seconds) => duration.observe({ method, route, status: String(status) }, seconds),
    render: () => registry.metrics(),
  };
}

async function readDatabase(readings: DatabaseReadings, timeoutMs: number): Promise<Readings> {
  const [jobs, outbox, sealAge] = await Promise.allSettled([
    within(timeoutMs, readings.jobs()),
    within(timeoutMs, readings.mailOutbox()),
    within(timeoutMs, readings.lastSealAgeSeconds()),
  ]);
  return {
    ...(jobs.status === 'fulfilled' ? { jobs: jobs.value } : {}),
    ...(outbox.status === 'fulfilled' ? { outbox: outbox.value } : {}),
    ...(sealAge.status === 'fulfilled' ? { sealAge: sealAge.value } : {}),
    up: jobs.status === 'fulfilled' && outbox.status === 'fulfilled' && sealAge.status === 'fulfilled',
  };
}

/** The promise's value, or a rejection after ms: a database that hangs (a pool waiting for a connection) must not hang the scrape. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  // The loser's rejection must not surface as unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The bearer token of an Authorization header compared with the expected one in constant time (digests, so the length leaks nothing either). */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const digest = (value: string): Buffer => crypto.createHash('sha256').update(value).digest();
  const same = crypto.timingSafeEqual(digest(match?.[1] ?? ''), digest(expected));
  return match !== null && same;
}

export interface MetricsListener {
  /** http://host:port */
  address: string;
  close(): Promise<void>;
}

/**
 * The separate metrics port (SAMPLEBANK_METRICS_PORT): plain node:http serving
 * GET /metrics without a token, for a scraper on a private network. Nothing
 * else answers there.
 */
export async function listenForMetrics(metrics: Metrics, options: { port: number; host: string }): Promise<MetricsListener> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: this port serves /metrics only\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    metrics.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      () => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The metrics could not be collected\n'),
    );
  });
  // A scraper keeps its connection alive between scrapes; it must not hold a shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
