import type { Command } from 'commander';
import { compose, type Context } from '../src/compose.js';
import { buildServer } from '../src/server.js';
import { describeDemo, loadDemo, shouldLoadDemo } from '../src/features/demo/demo.js';
import { standardOutput } from '../src/platform/log-output.js';
import { listenForMetrics } from '../src/platform/metrics.js';
import { ensureWebBuilt } from './web-build.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the web app and the API (embedded database in DATA_DIR, or PostgreSQL at DATABASE_URL)')
    .action(async () => {
      const out = standardOutput();
      // Plain lines for the person who typed `npm start`, among the JSON logs; never blocking (log-output.ts).
      const say = (text: string): void => out.write(`${text}\n`);
      const shutdown = createShutdown(out);
      await ensureWebBuilt(say);
      const context = await compose();
      shutdown.attach(context);
      const demo = await shouldLoadDemo(context);
      if (demo.load) {
        context.logger.info('brand-new database: loading the demo scenario (SAMPLEBANK_DEMO=0 skips it)');
        const result = await loadDemo(context, { onProgress: (step, done, total) => context.logger.info({ step, done, total }, 'demo') });
        say(`\n${describeDemo(result)}\n`);
      } else {
        context.logger.debug({ why: demo.why }, 'demo not loaded');
      }
      const server = await buildServer(context);
      shutdown.attachServer(server, context.services.audit.startSealing(context.config.sealIntervalMs));
      // Closing calls on their date, reminders and the mail outbox run on a timer in every server process;
      // each piece of work is claimed in the database, so several processes on one PostgreSQL do it once.
      context.services.notifications.start(context.config.workIntervalMs);
      // The metrics port (no token: bind it where only the scraper reaches) opens before the main one, so a listening server is a scraped one.
      if (context.config.metricsPort !== undefined) {
        const metrics = await listenForMetrics(context.metrics, { port: context.config.metricsPort, host: context.config.metricsHost });
        shutdown.attachMetrics(metrics);
        context.logger.info({ address: metrics.address }, 'metrics are served at /metrics on this address');
      }
      const address = await server.listen({ port: context.config.port, host: context.config.host });
      context.logger.info({ address, engine: context.handle.engine }, 'SampleBank is listening');
      say(`\nSampleBank is running: open ${context.config.publicUrl} (Ctrl-C stops it)\n`);
      const link = await context.services.setup.createLink();
      if (link) {
        const url = new URL('/setup', context.config.publicUrl);
        url.searchParams.set('token', link.token);
        say(
          `\nNo user exists yet. Create the first admin within ${Math.round((link.expiresAt.getTime() - Date.now()) / 60_000)} minutes with this one-time link:\n\n  ${url.toString()}\n\n` +
            `or: curl -X POST ${new URL('/api/v1/setup', context.config.publicUrl).toString()} -H 'content-type: application/json' \\\n` +
            `       -d '{"token":"${link.token}","email":"you@example.org","name":"Your Name","password":"…"}'\n` +
            `(or set SAMPLEBANK_ADMIN_EMAIL and SAMPLEBANK_ADMIN_PASSWORD, or run: samplebank user add --role admin …)\n`,
        );
      }
    });
}

interface Closable {
  close(): Promise<unknown>;
}

/**
 * Graceful shutdown on SIGTERM or SIGINT, within a hard deadline whatever
 * happens: stop accepting, let requests in flight finish, seal the audit
 * trail, close the database cleanly (PGlite writes a shutdown checkpoint and
 * the data-folder lock goes), then exit. Past SAMPLEBANK_SHUTDOWN_TIMEOUT_SECONDS
 * (default 8) the process exits anyway; a second signal exits at once.
 * Committed work is safe either way. The handlers are installed before the
 * database opens, so a signal during start-up is honoured too.
 */
function createShutdown(out: ReturnType<typeof standardOutput>) {
  let context: Context | undefined;
  let server: Closable | undefined;
  let sealer: { stop(): Promise<void> } | undefined;
  let metricsListener: Closable | undefined;
  let stopping = false;
  const log = (level: 'info' | 'warn' | 'error', data: Record<string, unknown>, message: string): void => {
    if (context) context.logger[level](data, message);
    else out.write(`${JSON.stringify({ level: level === 'info' ? 30 : level === 'warn' ? 40 : 50, time: new Date().toISOString(), service: 'samplebank', ...data, msg: message })}\n`);
  };
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      log('warn', { signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    const timeoutMs = context?.config.shutdownTimeoutMs ?? 8000;
    const deadline = setTimeout(() => {
      log('error', { signal, timeoutMs }, 'shutdown did not finish in time; exiting anyway (committed work is safe)');
      process.exit(1);
    }, timeoutMs);
    log('info', { signal }, 'shutting down');
    let code = 0;
    try {
      context?.services.notifications.stop();
      await server?.close();
      await sealer?.stop().catch((error: unknown) => log('warn', { err: String(error) }, 'final audit seal failed'));
      // Scraped until the requests have drained, so the drain shows on the dashboards; closed before the database.
      await metricsListener?.close();
    } catch (error) {
      code = 1;
      log('error', { err: String(error) }, 'stopping the server failed');
    }
    try {
      if (context) {
        await context.close();
        log('info', { engine: context.handle.engine }, 'database closed');
      }
    } catch (error) {
      code = 1;
      log('error', { err: String(error) }, 'closing the database failed');
    }
    // What is queued for the log reader gets a moment, never more: a reader that stopped reading must not hold the exit.
    await out.flush(500);
    clearTimeout(deadline);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return {
    attach(opened: Context): void {
      context = opened;
    },
    attachServer(opened: Closable, openedSealer: { stop(): Promise<void> }): void {
      server = opened;
      sealer = openedSealer;
    },
    attachMetrics(opened: Closable): void {
      metricsListener = opened;
    },
  };
}
