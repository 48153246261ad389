import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { systemActor } from '../src/core/actor.js';
import { compose } from '../src/compose.js';
import { DEMO_STEPS, describeDemo, isEmpty, loadDemo, removeDemoAccounts } from '../src/features/demo/demo.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build the demo scenarios (the Chang\'e-5 first batch and a pathology bank with consent) in an empty database; --remove retires the demo accounts')
    .option('--seed <n>', 'seed of the deterministic demo', (value) => Number.parseInt(value, 10), 20201217)
    .option('--remove', 'remove the demo accounts (…@demo.samplebank.test, published password): disabled for good, sessions and tokens revoked; the demo records stay')
    .action(async (options: { seed: number; remove?: boolean }) => {
      const context = await compose();
      try {
        if (options.remove) {
          const removed = await removeDemoAccounts(context, systemActor);
          process.stdout.write(removed.length === 0 ? 'no demo accounts to remove\n' : `removed ${removed.length} demo accounts:\n${removed.map((u) => `  ${u.email}`).sort().join('\n')}\n`);
          return;
        }
        if (!(await isEmpty(context))) {
          process.stderr.write('The database already holds collections; the demo needs an empty database (a new DATA_DIR or DATABASE_URL).\n');
          process.exitCode = 1;
          return;
        }
        const bar = new SingleBar({ format: 'demo [{bar}] {value}/{total} {step}', hideCursor: true }, Presets.shades_classic);
        bar.start(DEMO_STEPS, 0, { step: 'starting' });
        const result = await loadDemo(context, { seed: options.seed, onProgress: (step, done) => bar.update(done, { step }) });
        bar.stop();
        process.stdout.write(`${describeDemo(result)}\n`);
      } finally {
        await context.close();
      }
    });
}
