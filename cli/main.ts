import { Command } from 'commander';
import { version } from '../src/compose.js';
import { registerServe } from './serve.js';
import { registerImport } from './import.js';
import { registerExport } from './export.js';
import { registerAudit } from './audit.js';
import { registerInstitution, registerUser } from './user.js';
import { registerBackup } from './backup.js';
import { registerDemo } from './demo.js';
import { ensureWebBuilt } from './web-build.js';

const program = new Command();
program.name('samplebank').description('SampleBank: custody, lending and exact accounting of research samples').version(version);
registerServe(program);
registerImport(program);
registerExport(program);
registerAudit(program);
registerUser(program);
registerInstitution(program);
registerBackup(program);
registerDemo(program);
program
  .command('build-web')
  .description('build the web app (web/dist) when it is missing or older than its sources; serve does this by itself')
  .option('--force', 'build even when web/dist is up to date')
  .action(async (options: { force?: boolean }) => {
    const result = await ensureWebBuilt((line) => process.stdout.write(`${line}\n`), options);
    if (result.state === 'fresh') process.stdout.write('web/dist is up to date\n');
    if (result.state === 'failed' || result.state === 'unavailable') process.exitCode = 1;
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = process.exitCode || 1;
});
