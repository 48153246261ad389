import type { Command } from 'commander';
import { compose } from '../src/compose.js';
import { buildServer } from '../src/server.js';
import { describeDemo, isEmpty, loadDemo } from '../src/features/demo/demo.js';

/** How often the server seals the audit streams that moved (a seal with nothing new is skipped). */
const AUDIT_SEAL_INTERVAL_MS = 60_000;
/** How often reminders are checked and queued mail is sent. */
const NOTIFICATIONS_INTERVAL_MS = 60_000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the web app and the API (embedded database in DATA_DIR, or PostgreSQL at DATABASE_URL)')
    .action(async () => {
      const context = await compose();
      if (context.config.demo && (await isEmpty(context))) {
        context.logger.info('empty database: loading the demo scenario (SAMPLEBANK_DEMO=0 skips it)');
        const demo = await loadDemo(context, { onProgress: (step, done, total) => context.logger.info({ step, done, total }, 'demo') });
        process.stdout.write(`\n${describeDemo(demo)}\n\n`);
      }
      const server = await buildServer(context);
      const sealer = context.services.audit.startSealing(AUDIT_SEAL_INTERVAL_MS);
      // Review reminders before the deadline and the mail outbox's sender run on a timer in the server process only.
      context.services.notifications.start(NOTIFICATIONS_INTERVAL_MS);
      // Graceful shutdown: stop accepting, let requests in flight finish, seal, then close the
      // database cleanly (PGlite writes a shutdown checkpoint and the data-folder lock goes).
      // A second signal while stopping exits at once; committed work is safe either way.
      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) {
          context.logger.warn({ signal }, 'second signal: exiting without waiting');
          process.exit(1);
        }
        stopping = true;
        context.logger.info({ signal }, 'shutting down');
        let code = 0;
        try {
          context.services.notifications.stop();
          await server.close();
          await sealer.stop().catch((error: unknown) => context.logger.warn({ err: error }, 'final audit seal failed'));
        } catch (error) {
          code = 1;
          context.logger.error({ err: error }, 'stopping the server failed');
        }
        try {
          await context.close();
          context.logger.info({ engine: context.handle.engine }, 'database closed');
        } catch (error) {
          code = 1;
          context.logger.error({ err: error }, 'closing the database failed');
        }
        process.exit(code);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      const address = await server.listen({ port: context.config.port, host: context.config.host });
      context.logger.info({ address, engine: context.handle.engine }, 'SampleBank is listening');
      // One plain line among the JSON logs, for the person who just typed `npm start`.
      process.stdout.write(`\nSampleBank is running: open ${context.config.publicUrl} (Ctrl-C stops it)\n\n`);
      const link = await context.services.setup.createLink();
      if (link) {
        const url = new URL('/setup', context.config.publicUrl);
        url.searchParams.set('token', link.token);
        process.stdout.write(
          `\nNo user exists yet. Create the first admin within ${Math.round((link.expiresAt.getTime() - Date.now()) / 60_000)} minutes with this one-time link:\n\n  ${url.toString()}\n\n` +
            `or: curl -X POST ${new URL('/api/v1/setup', context.config.publicUrl).toString()} -H 'content-type: application/json' \\\n` +
            `       -d '{"token":"${link.token}","email":"you@example.org","name":"Your Name","password":"…"}'\n` +
            `(or set SAMPLEBANK_ADMIN_EMAIL and SAMPLEBANK_ADMIN_PASSWORD, or run: samplebank user add --role admin …)\n\n`,
        );
      }
    });
}
