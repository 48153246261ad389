import type { Command } from 'commander';
import { systemActor } from '../src/core/actor.js';
import { compose } from '../src/compose.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('verify')
    .description('seal pending stream heads, then recompute every hash chain and the seals; exits 1 when anything was altered')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const context = await compose();
      try {
        const result = await context.services.audit.verify(systemActor);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
        } else if (result.ok) {
          process.stdout.write(`audit trail OK: ${result.events} events, ${result.seals} seals\nhead ${result.head}\n`);
        } else {
          const bad = result.firstBad!;
          process.stdout.write(
            `audit trail BROKEN after checking ${result.events} events and ${result.seals} seals\n` +
              `first bad: stream ${bad.stream}, seq ${bad.seq}, event ${bad.eventId ?? '(missing)'}\n` +
              `reason: ${bad.reason}\n`,
          );
        }
        if (!result.ok) process.exitCode = 1;
      } finally {
        await context.close();
      }
    });
}
