import readline from 'node:readline';
import type { Command } from 'commander';
import { systemActor } from '../src/core/actor.js';
import { DomainError } from '../src/core/errors.js';
import { roles, type Role } from '../src/core/roles.js';
import { compose } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import type { Context } from '../src/compose.js';
import { institutionInput, password as passwordRule, personName, userInput } from '../src/features/identity/identity.schemas.js';
import type { Institution, User } from '../src/features/identity/identity.service.js';

interface UserSetOptions {
  name?: string;
  role: string[];
  clearRoles?: boolean;
  institution?: string;
  disable?: boolean;
  enable?: boolean;
}

interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

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

/** Opens the configured database as the system (no sign-in), runs fn, and closes it; domain refusals read as option errors. */
async function withSystem<T>(fn: (context: Context) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const context = await compose({ config, logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel) });
  try {
    return await fn(context);
  } catch (error) {
    if (error instanceof DomainError) throw new Error(error.errors.map((e) => `--${e.field}: ${e.message}`).join('\n') || error.message);
    throw error;
  } finally {
    await context.close();
  }
}

function checkRoles(given: string[]): Role[] {
  const unknown = given.filter((r) => !(roles as readonly string[]).includes(r));
  if (unknown.length > 0) throw new Error(`--role: unknown role ${unknown.join(', ')} (one of ${roles.join(', ')})`);
  return given as Role[];
}

/** The password from --password, standard input or the terminal, checked against the same rule as the API. */
async function readPassword(options: PasswordOptions): Promise<string> {
  let password = options.password;
  if (password === undefined) {
    if (options.passwordStdin || !process.stdin.isTTY) password = await readStdinLine();
    else password = await promptPassword();
  }
  const checked = passwordRule.safeParse(password);
  if (!checked.success) throw new Error(`--password: ${checked.error.issues[0]!.message}`);
  return checked.data;
}

/** The institution with this code (any case), among those already read. */
function institutionByCode(institutions: Institution[], code: string): Institution {
  const found = institutions.find((i) => i.code.toLowerCase() === code.toLowerCase());
  if (!found) throw new Error(`--institution: no institution with code ${code}`);
  return found;
}

async function userByEmail(context: Context, email: string): Promise<User> {
  try {
    return await context.services.identity.getUserByEmail(systemActor, email);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'not-found') throw new Error(`no user with e-mail ${email}`);
    throw error;
  }
}

const describeUser = (u: User, institutions: Institution[]): string =>
  `${u.email} (${u.id}): ${u.name}; roles ${u.roles.join(', ') || 'none'}; institution ${u.institutionId ? (institutions.find((i) => i.id === u.institutionId)?.code ?? u.institutionId) : 'none'}; ${u.disabled ? 'disabled' : 'enabled'}`;

export function registerUser(program: Command): void {
  const user = program.command('user').description('user accounts (as the system, no sign-in needed)');
  user
    .command('add')
    .description('create a user; the password is asked for, read from stdin, or given')
    .requiredOption('--email <email>', 'the sign-in e-mail address')
    .requiredOption('--name <name>', 'the full name')
    .option('--role <role>', `a role (${roles.join(', ')}); repeat it or separate with commas`, collect, [])
    .option('--institution <code>', 'the code of the institution the user belongs to')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--password <password>', 'the password (visible to other users of this machine: prefer the prompt or --password-stdin)')
    .action(async (options: UserAddOptions) => {
      checkRoles(options.role);
      const password = await readPassword(options);
      const parsed = userInput.safeParse({ email: options.email, name: options.name, password, roles: options.role });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`--${String(issue.path[0] ?? 'input')}: ${issue.message}`);
      }
      await withSystem(async (context) => {
        const institutionId = options.institution ? institutionByCode(await context.services.identity.listInstitutions(systemActor), options.institution).id : null;
        const created = await context.services.identity.createUser(systemActor, { ...parsed.data, institutionId, roles: parsed.data.roles as Role[] });
        process.stdout.write(`created user ${created.email} (${created.id}) with roles ${created.roles.join(', ') || 'none'}\n`);
      });
    });

  user
    .command('list')
    .description('list the users, or those whose e-mail or name contains --search')
    .option('--search <text>', 'part of the e-mail address or the name, any case')
    .option('--json', 'one JSON object per line instead of text')
    .action(async (options: { search?: string; json?: boolean }) => {
      await withSystem(async (context) => {
        const institutions = await context.services.identity.listInstitutions(systemActor);
        let cursor: string | undefined;
        do {
          const page = await context.services.identity.listUsers(systemActor, { limit: 500, cursor, q: options.search?.trim() || undefined });
          for (const u of page.items) process.stdout.write(options.json ? `${JSON.stringify(u)}\n` : `${describeUser(u, institutions)}\n`);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      });
    });

  user
    .command('set')
    .description("change a user: name, roles (the given ones replace the old), institution, or disable / enable the account (disabling revokes every session and API token)")
    .argument('<email>', "the user's e-mail address")
    .option('--name <name>', 'the full name')
    .option('--role <role>', `the roles to hold from now on (${roles.join(', ')}); repeat it or separate with commas`, collect, [])
    .option('--clear-roles', 'take every role away')
    .option('--institution <code>', "the institution's code, or none")
    .option('--disable', 'disable the account')
    .option('--enable', 'enable the account again')
    .action(async (email: string, options: UserSetOptions) => {
      if (options.disable && options.enable) throw new Error('--disable and --enable: give one of them');
      if (options.clearRoles && options.role.length > 0) throw new Error('--clear-roles and --role: give one of them');
      const newRoles = options.clearRoles ? [] : options.role.length > 0 ? checkRoles(options.role) : undefined;
      let name: string | undefined;
      if (options.name !== undefined) {
        const checked = personName.safeParse(options.name);
        if (!checked.success) throw new Error(`--name: ${checked.error.issues[0]!.message}`);
        name = checked.data;
      }
      const disabled = options.disable ? true : options.enable ? false : undefined;
      if (name === undefined && newRoles === undefined && options.institution === undefined && disabled === undefined) {
        throw new Error('nothing to change: give --name, --role, --clear-roles, --institution, --disable or --enable');
      }
      await withSystem(async (context) => {
        const target = await userByEmail(context, email);
        const institutions = await context.services.identity.listInstitutions(systemActor);
        const institutionId = options.institution === undefined ? undefined : options.institution.toLowerCase() === 'none' ? null : institutionByCode(institutions, options.institution).id;
        const updated = await context.services.identity.updateUser(systemActor, target.id, { name, roles: newRoles, institutionId, disabled });
        process.stdout.write(`updated ${describeUser(updated, institutions)}\n`);
      });
    });

  user
    .command('password')
    .description('set a new password for a user who lost theirs; revokes their sessions and API tokens')
    .argument('<email>', "the user's e-mail address")
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--password <password>', 'the password (visible to other users of this machine: prefer the prompt or --password-stdin)')
    .action(async (email: string, options: PasswordOptions) => {
      const password = await readPassword(options);
      await withSystem(async (context) => {
        const target = await userByEmail(context, email);
        await context.services.identity.resetPassword(systemActor, target.id, password);
        process.stdout.write(`new password set for ${target.email}; their sessions and API tokens are revoked\n`);
      });
    });
}

export function registerInstitution(program: Command): void {
  const institution = program.command('institution').description('the institutions users belong to (as the system, no sign-in needed)');
  institution
    .command('add')
    .description('register an institution')
    .requiredOption('--code <code>', 'a short code: letters, digits, dot, dash or underscore; at most 32 (IGG)')
    .requiredOption('--name <name>', 'the full name')
    .option('--parent-body <name>', 'the body it belongs to (Chinese Academy of Sciences)')
    .action(async (options: { code: string; name: string; parentBody?: string }) => {
      const parsed = institutionInput.safeParse({ code: options.code, name: options.name, parentBody: options.parentBody });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`--${issue.path[0] === 'parentBody' ? 'parent-body' : String(issue.path[0] ?? 'input')}: ${issue.message}`);
      }
      await withSystem(async (context) => {
        const created = await context.services.identity.createInstitution(systemActor, parsed.data);
        process.stdout.write(`registered institution ${created.code} (${created.id}): ${created.name}\n`);
      });
    });
  institution
    .command('list')
    .description('list the institutions')
    .action(async () => {
      await withSystem(async (context) => {
        for (const i of await context.services.identity.listInstitutions(systemActor)) {
          process.stdout.write(`${i.code}\t${i.name}${i.parentBody ? `\t${i.parentBody}` : ''}\n`);
        }
      });
    });
}
