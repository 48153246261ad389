/**
 * The composition root: one place builds the database and every service, and
 * the server, the CLI and the tests all start from here.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { loadConfig, type Config } from './platform/config.js';
import { openDatabase, type DatabaseHandle } from './platform/db/database.js';
import { migrate } from './platform/db/migrate.js';
import { createLogger, type Logger } from './platform/logger.js';
import { createIdentityService } from './features/identity/identity.service.js';
import { createSetupService } from './features/identity/setup.service.js';
import { createJobRunner } from './platform/jobs.js';
import { createJobsService } from './features/jobs/jobs.service.js';
import { createImportService } from './features/inventory/import/import.service.js';
import { createExportService } from './features/inventory/export/export.service.js';
import { createInventoryService } from './features/inventory/inventory.service.js';
import { createAuditService } from './features/audit/audit.service.js';
import { createAuditKeys } from './features/audit/audit.keys.js';
import { createNotificationsService } from './features/notifications/notifications.service.js';
import { createCallsService } from './features/calls/calls.service.js';
import { createApplicationsService } from './features/applications/applications.service.js';
import { createReviewService } from './features/review/review.service.js';
import { createAllocationService } from './features/allocation/allocation.service.js';
import { allocationRepository } from './features/allocation/allocation.repository.js';
import type { NotificationsService } from './features/notifications/notifications.service.js';
import type { ApplicationsService } from './features/applications/applications.service.js';
import { createDonorsService } from './features/pathology/donors.service.js';
import { createEligibilityService } from './features/pathology/eligibility.service.js';
import { createNetworkService } from './features/pathology/network.service.js';
import { createPathologyExportsService } from './features/pathology/exports.service.js';
import { createDistributionService } from './features/distribution/distribution.service.js';
import { createLoansService } from './features/loans/loans.service.js';
import { createCatalogService } from './features/catalog/catalog.service.js';
import { createLabelsService } from './features/labels/labels.service.js';
import { countLedgerOperations, ledgerOperationKinds } from './features/inventory/ledger.js';
import { jobsRepository } from './features/jobs/jobs.repository.js';
import { notificationsRepository } from './features/notifications/notifications.repository.js';
import { auditRepository } from './features/audit/audit.repository.js';
import { createMetrics, type Metrics } from './platform/metrics.js';

export const version: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Context {
  config: Config;
  logger: Logger;
  handle: DatabaseHandle;
  services: Services;
  /** This context's Prometheus registry (GET /metrics); the ledger on its database counts into it. */
  metrics: Metrics;
  close(): Promise<void>;
}

export type Services = ReturnType<typeof createServices>;

export function createServices(handle: DatabaseHandle, config: Config, logger: Logger) {
  const { db } = handle;
  const inventory = createInventoryService(db);
  const requests = withPathology(db, requestServices(db, config, logger));
  return {
    health: async (): Promise<void> => {
      await sql`select 1`.execute(db);
    },
    config,
    logger,
    identity: createIdentityService(db, { tokenCacheMs: config.tokenCacheSeconds * 1000, apiTokenDays: config.apiTokenDays, apiTokenMaxDays: config.apiTokenMaxDays }),
    inventory,
    setup: createSetupService(db),
    ...importExportServices(db, logger),
    audit: createAuditService(db, logger, createAuditKeys({ keyFile: config.auditKeyFile, trustedKeyFiles: config.auditTrustedKeyFiles, logger })),
    ...requests,
    catalog: createCatalogService({ inventory, calls: requests.calls }),
    labels: createLabelsService({ inventory }),
  };
}

/** Donors, consent, eligibility, networks and the standard exports of the pathology bank, beside the request services they use. */
function withPathology<T extends { notifications: NotificationsService; applications: ApplicationsService }>(db: DatabaseHandle['db'], requests: T) {
  return {
    ...requests,
    donors: createDonorsService(db, { notifications: requests.notifications }),
    eligibility: createEligibilityService(db, { canSeeApplication: (actor, id) => requests.applications.canSee(actor, id) }),
    networks: createNetworkService(db),
    pathologyExports: createPathologyExportsService(db),
  };
}

/** Calls, applications and review, and the notifications they send. */
function requestServices(db: DatabaseHandle['db'], config: Config, logger: Logger) {
  const notifications = createNotificationsService(db, { smtpUrl: config.smtpUrl, smtpFrom: config.smtpFrom, publicUrl: config.publicUrl, logger });
  const calls = createCallsService(db);
  const applications = createApplicationsService(db, { calls, notifications });
  const review = createReviewService(db, { calls, applications, notifications });
  const allocation = createAllocationService(db, { calls, applications, review });
  // A call's distributed quantities are those of its executed allocations (the same rows as GET /calls/{id}/distribution).
  applications.useDistributedOf((callId) => allocationRepository.distributed(db, callId));
  const distribution = createDistributionService(db, { applications, notifications });
  const loans = createLoansService(db, { applications, distribution, notifications }, { blockOverdue: config.blockOverdue });
  return { notifications, calls, applications, review, allocation, distribution, loans };
}

function importExportServices(db: DatabaseHandle['db'], logger: Logger) {
  const jobRunner = createJobRunner(db, (error) => logger.warn({ err: error }, 'job progress not recorded'));
  return { jobRunner, jobs: createJobsService(jobRunner), imports: createImportService(db, jobRunner), exports: createExportService(db) };
}

export interface ComposeOptions {
  config?: Config;
  logger?: Logger;
}

export async function compose(options: ComposeOptions = {}): Promise<Context> {
  const config = options.config ?? loadConfig();
  const logger = options.logger ?? createLogger(config.logLevel);
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize });
  try {
    const applied = await migrate(handle);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } catch (error) {
    await handle.close();
    throw error;
  }
  const services = createServices(handle, config, logger);
  const metrics = contextMetrics(handle, config);
  const admin = await services.identity.ensureFirstAdmin(config.adminEmail, config.adminPassword);
  if (admin) logger.info({ email: admin.email }, 'first admin created');
  return {
    config,
    logger,
    handle,
    services,
    metrics,
    close: () => handle.close(),
  };
}

/** One registry per context; what it reads from the database, it reads through the features' repositories. */
function contextMetrics(handle: DatabaseHandle, config: Config): Metrics {
  const { db } = handle;
  const metrics = createMetrics({
    version,
    engine: handle.engine,
    connections: () => handle.connections(),
    readings: {
      jobs: () => jobsRepository.backlog(db),
      mailOutbox: () => notificationsRepository.outboxBacklog(db),
      lastSealAgeSeconds: () => auditRepository.lastSealAgeSeconds(db),
    },
    ledgerKinds: ledgerOperationKinds,
    processMetrics: config.metricsToken !== undefined || config.metricsPort !== undefined,
  });
  countLedgerOperations(db, metrics.ledger);
  return metrics;
}
