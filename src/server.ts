/** The HTTP face: the platform server with every feature's routes. */
import type { FastifyInstance } from 'fastify';
import { version, type Context } from './compose.js';
import { credentialOf, identityRoutes } from './features/identity/identity.routes.js';
import { setupPage, setupRoutes } from './features/identity/setup.routes.js';
import { auditRoutes } from './features/audit/audit.routes.js';
import { createHttpServer } from './platform/http/server.js';
import { importRoutes } from './features/inventory/import/import.routes.js';
import { exportRoutes } from './features/inventory/export/export.routes.js';
import { inventoryRoutes } from './features/inventory/inventory.routes.js';
import { jobsRoutes } from './features/jobs/jobs.routes.js';
import { webRoutes } from './features/web/web.routes.js';
import { callsRoutes } from './features/calls/calls.routes.js';
import { applicationsRoutes } from './features/applications/applications.routes.js';
import { reviewRoutes } from './features/review/review.routes.js';
import { allocationRoutes } from './features/allocation/allocation.routes.js';
import { distributionRoutes } from './features/distribution/distribution.routes.js';
import { loansRoutes } from './features/loans/loans.routes.js';
import { notificationsRoutes } from './features/notifications/notifications.routes.js';
import { pathologyRoutes } from './features/pathology/pathology.routes.js';
import { catalogRoutes } from './features/catalog/catalog.routes.js';
import { labelsRoutes } from './features/labels/labels.routes.js';
import { demoRoutes } from './features/demo/demo.routes.js';

export async function buildServer(context: Context): Promise<FastifyInstance> {
  const { services } = context;
  return createHttpServer({
    logger: context.logger,
    version,
    authenticate: (request) => services.identity.authenticate(credentialOf(request)),
    health: services.health,
    trustProxy: context.config.trustProxy,
    metrics: context.metrics,
    metricsToken: context.config.metricsToken,
    api: [
      identityRoutes(services.identity, { cookieSecure: context.config.cookieSecure, loginRateLimit: context.config.loginRateLimit }),
      setupRoutes(services.setup, { loginRateLimit: context.config.loginRateLimit }),
      importRoutes(services.imports),
      exportRoutes(services.exports),
      labelsRoutes(services.labels),
      inventoryRoutes(services.inventory),
      jobsRoutes(services.jobs),
      auditRoutes(services.audit),
      callsRoutes(services.calls),
      applicationsRoutes(services.applications),
      reviewRoutes(services.review),
      allocationRoutes(services.allocation),
      pathologyRoutes(services),
      distributionRoutes(services.distribution),
      loansRoutes(services.loans),
      notificationsRoutes(services.notifications),
      catalogRoutes(services.catalog),
      demoRoutes(context),
    ],
    root: [setupPage(), webRoutes()],
  });
}
