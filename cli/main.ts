import { Command } from 'commander';
import { version } from '../src/compose.js';
import { registerServe } from './serve.js';
import { registerImport } from './import.js';
import { registerExport } from './export.js';
import { registerAudit } from './audit.js';
import { registerInstitution, registerUser } from './user.js';
import { registerBackup } from './backup.js';
import { registerDemo } from './demo.js';

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

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = process.exitCode || 1;
});
