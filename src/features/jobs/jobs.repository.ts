import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tx.js';
import type { Backlog } from '../../platform/metrics.js';

/** Job rows are written by the job runner (platform/jobs.ts); this is what operations read about them. */
export const jobsRepository = {
  /**
   * Jobs queued and running, and the age of the oldest of each, in one query
   * (ages by the database's clock). The table holds one row per job ever run,
   * few enough for a scan; /metrics asks at every scrape.
   */
  async backlog(db: Executor): Promise<{ queued: Backlog; running: Backlog }> {
    const rows = await db
      .selectFrom('jobs')
      .select(['state', sql<string>`count(*)`.as('count'), sql<string>`greatest(0, extract(epoch from now() - min(created_at)))`.as('age')])
      .where('state', 'in', ['queued', 'running'])
      .groupBy('state')
      .execute();
    const of = (state: string): Backlog => {
      const row = rows.find((r) => r.state === state);
      return { count: Number(row?.count ?? 0), oldestAgeSeconds: Number(row?.age ?? 0) };
    };
    return { queued: of('queued'), running: of('running') };
  },
};
