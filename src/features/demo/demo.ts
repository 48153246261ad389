/**
 * Loading the demo: `samplebank demo` into an empty database, `samplebank
 * serve` only into a brand-new one (no user at all) and never in production
 * or when the first admin comes from the environment. Two scenarios,
 * one after the other, with the same demo password and e-mail domain: the
 * lunar case (the Chang'e-5 first batch) and a pathology bank with consent.
 */
import type { Context } from '../../compose.js';
import type { Actor } from '../../core/actor.js';
import { buildPathologyDemo, type PathologyDemo } from '../pathology/demo.js';
import { buildLunarDemo, DEMO_DOMAIN, DEMO_PASSWORD, type DemoProgress, type LunarDemo } from './lunar.js';

export interface DemoResult {
  lunar: LunarDemo;
  pathology: PathologyDemo;
}

/** Steps the progress reports: the lunar scenario's seven, then the pathology bank's five. */
const LUNAR_STEPS = 7;
export const DEMO_STEPS = LUNAR_STEPS + 5;

/** True when no collection exists: a fresh database the demo may fill. */
export async function isEmpty(context: Context): Promise<boolean> {
  const row = await context.handle.db.selectFrom('collections').select('id').limit(1).executeTakeFirst();
  return row === undefined;
}

/**
 * Whether `samplebank serve` loads the demo: only into a brand-new database
 * (no user, no collection), never with NODE_ENV=production, never when
 * SAMPLEBANK_ADMIN_EMAIL names a real first admin, never with SAMPLEBANK_DEMO=0.
 * A deployment whose last collection was removed never gets demo accounts back.
 */
export async function shouldLoadDemo(context: Context): Promise<{ load: boolean; why: string }> {
  const { config } = context;
  if (!config.demo) return { load: false, why: 'SAMPLEBANK_DEMO=0' };
  if (config.production) return { load: false, why: 'NODE_ENV=production' };
  if (config.adminEmail) return { load: false, why: 'SAMPLEBANK_ADMIN_EMAIL is set' };
  const user = await context.handle.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (user) return { load: false, why: 'the database already has users' };
  if (!(await isEmpty(context))) return { load: false, why: 'the database already has collections' };
  return { load: true, why: 'brand-new database' };
}

/** The demo's accounts that can still sign in (the banner shows while there are any). */
export async function demoAccounts(context: Pick<Context, 'services'>): Promise<number> {
  return (await context.services.identity.accountsAtDomain(DEMO_DOMAIN)).length;
}

/** Retires every demo account (disabled, no password, sessions and tokens revoked); the demo's records stay. */
export function removeDemoAccounts(context: Pick<Context, 'services'>, actor: Actor | null) {
  return context.services.identity.retireAccountsAtDomain(actor, DEMO_DOMAIN);
}

export async function loadDemo(context: Context, options: { seed?: number; onProgress?: DemoProgress } = {}): Promise<DemoResult> {
  const report = options.onProgress ?? (() => {});
  const lunar = await buildLunarDemo(context.services, { ...(options.seed === undefined ? {} : { seed: options.seed }), onProgress: (step, done) => report(step, Math.min(done, LUNAR_STEPS), DEMO_STEPS) });
  const pathology = await buildPathologyDemo(context.services, {
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    password: DEMO_PASSWORD,
    domain: DEMO_DOMAIN,
    onProgress: (step, done) => report(`pathology: ${step}`, LUNAR_STEPS + done, DEMO_STEPS),
  });
  return { lunar, pathology };
}

/** The lines printed after a demo load: where to sign in and as whom. */
export function describeDemo(result: DemoResult): string {
  const wanted = ['admin@', 'curator@', 'chair@', 'reviewer@', 'applicant@', 'auditor@', 'pathology-curator@', 'pathology-chair@', 'pathology-applicant1@'];
  const accounts = [...result.lunar.accounts, ...result.pathology.accounts].filter((a) => wanted.some((w) => a.email.startsWith(w)));
  const { pathology } = result;
  return [
    `Demo loaded: ${result.lunar.applications} applications, ${result.lunar.approved} approved, ${result.lunar.distributed} g distributed.`,
    `Pathology bank: ${pathology.specimens} specimens (${pathology.samples} samples) from ${pathology.donors} donors, one consent withdrawn (${pathology.quarantined} samples quarantined), a call across ${pathology.institutions.length} universities.`,
    `Demo accounts (password "${DEMO_PASSWORD}"; a demo only, a real deployment has none):`,
    ...accounts.map((a) => `  ${a.email.padEnd(Math.max(...accounts.map((b) => b.email.length)) + 2)}${a.roles.join(', ')}`),
  ].join('\n');
}
