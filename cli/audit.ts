import fs from 'node:fs';
import type { Command } from 'commander';
import { systemActor } from '../src/core/actor.js';
import { DomainError } from '../src/core/errors.js';
import { compose } from '../src/compose.js';
import { anchor as anchorSchema } from '../src/features/audit/audit.schemas.js';
import type { Verification } from '../src/features/audit/audit.verify.js';

function readAnchorFile(file: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not an anchor file (${error instanceof Error ? error.message : String(error)})`);
  }
  const result = anchorSchema.safeParse(parsed);
  if (!result.success) throw new Error(`${file}: not an anchor file (${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return result.data;
}

function describe(result: Verification): string {
  const signed = result.signatures ? `, ${result.signatures.signed} signed${result.signatures.unsigned ? ` (${result.signatures.unsigned} from before signing)` : ''}` : '';
  if (result.ok) {
    const anchored = result.anchor ? `\nthe trail still holds seal ${result.anchor.seq} exactly as anchored` : '';
    return `audit trail OK: ${result.events} events, ${result.seals} seals${signed}${anchored}\nhead ${result.head}\n`;
  }
  const bad = result.firstBad!;
  return (
    `audit trail BROKEN after checking ${result.events} events and ${result.seals} seals\n` +
    `first bad: stream ${bad.stream}, seq ${bad.seq}, event ${bad.eventId ?? '(missing)'}\n` +
    `reason: ${bad.reason}\n`
  );
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('verify')
    .description('seal pending stream heads, then recompute every hash chain, the seals and their signatures; exits 1 when anything was altered')
    .option('--json', 'print the result as JSON')
    .option('--anchor <file>', 'also prove the trail still holds the seal of this anchor (from `samplebank audit anchor`), unchanged')
    .action(async (options: { json?: boolean; anchor?: string }) => {
      const anchor = options.anchor ? readAnchorFile(options.anchor) : undefined;
      const context = await compose();
      try {
        const result = await context.services.audit.verify(systemActor, anchor ? { anchor } : {});
        process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : describe(result));
        if (!result.ok) process.exitCode = 1;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 1;
      } finally {
        await context.close();
      }
    });
  audit
    .command('anchor')
    .description('print the newest seal, signed, with the public key: file it outside the database (a ticket, an e-mail) and later run `audit verify --anchor FILE`')
    .option('--out <file>', 'write the anchor to this file instead of standard output')
    .action(async (options: { out?: string }) => {
      const context = await compose();
      try {
        const anchor = await context.services.audit.anchor(systemActor);
        const text = `${JSON.stringify(anchor, null, 2)}\n`;
        if (options.out) {
          fs.writeFileSync(options.out, text, { mode: 0o644 });
          process.stdout.write(`anchored seal ${anchor.seal.seq} (${anchor.events} events) in ${options.out}\n`);
        } else {
          process.stdout.write(text);
        }
      } finally {
        await context.close();
      }
    });
  audit
    .command('key')
    .description('print the public key that signs the seals (PEM): keep it to check signatures should the key file be lost')
    .action(async () => {
      const context = await compose();
      try {
        process.stdout.write(await context.services.audit.publicKey());
      } finally {
        await context.close();
      }
    });
}
