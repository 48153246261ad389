/**
 * Loading the demo: `samplebank demo` always, `samplebank serve` when the
 * database holds no collection yet (unless SAMPLEBANK_DEMO=0).
 */
import type { Context } from '../../compose.js';
import { buildLunarDemo, DEMO_PASSWORD, type DemoProgress, type LunarDemo } from './lunar.js';

export interface DemoResult {
  lunar: LunarDemo;
}

/** True when no collection exists: a fresh database the demo may fill. */
export async function isEmpty(context: Context): Promise<boolean> {
  const row = await context.handle.db.selectFrom('collections').select('id').limit(1).executeTakeFirst();
  return row === undefined;
}

export async function loadDemo(context: Context, options: { seed?: number; onProgress?: DemoProgress } = {}): Promise<DemoResult> {
  const lunar = await buildLunarDemo(context.services, options);
  return { lunar };
}

/** The lines printed after a demo load: where to sign in and as whom. */
export function describeDemo(result: DemoResult): string {
  const wanted = ['admin@', 'curator@', 'chair@', 'reviewer@', 'applicant@', 'auditor@'];
  const accounts = result.lunar.accounts.filter((a) => wanted.some((w) => a.email.startsWith(w)));
  return [
    `Demo loaded: ${result.lunar.applications} applications, ${result.lunar.approved} approved, ${result.lunar.distributed} g distributed.`,
    `Demo accounts (password "${DEMO_PASSWORD}"; a demo only, a real deployment has none):`,
    ...accounts.map((a) => `  ${a.email.padEnd(36)} ${a.roles.join(', ')}`),
  ].join('\n');
}
