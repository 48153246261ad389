import readline from 'node:readline';
import type { Command } from 'commander';
import { systemActor } from '../src/core/actor.js';
import { DomainError } from '../src/core/errors.js';
import { roles, type Role } from '../src/core/roles.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { userInput } from '../src/features/identity/identity.schemas.js';

interface UserAddOptions {
  email: string;
  name: string;
  role: string[];
  institution?: string;
  password?: string;
  passwordStdin?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

/** The first line of standard input (for --password-stdin or a piped password). */
async function readStdinLine(): Promise<string> {
  const reader = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of reader) {
    reader.close();
    return line;
  }
  return '';
}

/** Asks twice on the terminal without echoing. */
async function promptPassword(): Promise<string> {
  const ask = (question: string): Promise<string> =>
    new Promise((resolve) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput.bind(rl);
      let asked = false;
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (!asked) {
          write(s);
          asked = true;
        }
      };
      rl.question(question, (answer) => {
        rl.close();
        process.stderr.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  const second = await ask('Repeat the password: ');
  if (first !== second) throw new Error('The passwords differ');
  return first;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('user accounts');
  user
    .command('add')
    .description('create a user (as the system, no sign-in needed); the password is asked for, read from stdin, or given')
    .requiredOption('--email <email>', 'the sign-in e-mail address')
    .requiredOption('--name <name>', 'the full name')
    .option('--role <role>', `a role (${roles.join(', ')}); repeat it or separate with commas`, collect, [])
    .option('--institution <code>', 'the code of the institution the user belongs to')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--password <password>', 'the password (visible to other users of this machine: prefer the prompt or --password-stdin)')
    .action(async (options: UserAddOptions) => {
      const unknown = options.role.filter((r) => !(roles as readonly string[]).includes(r));
      if (unknown.length > 0) throw new Error(`--role: unknown role ${unknown.join(', ')} (one of ${roles.join(', ')})`);
      let password = options.password;
      if (password === undefined) {
        if (options.passwordStdin || !process.stdin.isTTY) password = await readStdinLine();
        else password = await promptPassword();
      }
      const parsed = userInput.safeParse({ email: options.email, name: options.name, password, roles: options.role });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`--${String(issue.path[0] ?? 'input')}: ${issue.message}`);
      }
      const config = loadConfig();
      const context = await compose({ config, logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel) });
      try {
        let institutionId: string | null = null;
        if (options.institution) {
          const institutions = await context.services.identity.listInstitutions(systemActor);
          const found = institutions.find((i) => i.code.toLowerCase() === options.institution!.toLowerCase());
          if (!found) throw new Error(`--institution: no institution with code ${options.institution}`);
          institutionId = found.id;
        }
        const created = await context.services.identity.createUser(systemActor, { ...parsed.data, institutionId, roles: parsed.data.roles as Role[] });
        process.stdout.write(`created user ${created.email} (${created.id}) with roles ${created.roles.join(', ') || 'none'}\n`);
      } catch (error) {
        if (error instanceof DomainError) throw new Error(error.errors.map((e) => `--${e.field}: ${e.message}`).join('\n') || error.message);
        throw error;
      } finally {
        await context.close();
      }
    });
}
