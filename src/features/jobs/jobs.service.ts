import type { Actor } from '../../core/actor.js';
import { notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import type { Job, JobRunner } from '../../platform/jobs.js';

export type JobsService = ReturnType<typeof createJobsService>;

/** Who may see a job: whoever started it, and admins and auditors; to anyone else it does not exist. */
export function createJobsService(jobs: JobRunner) {
  return {
    async get(actor: Actor | null, id: string): Promise<Job> {
      authorize(actor, 'job.read');
      const job = await jobs.get(id);
      const mayRead = job && (job.createdBy === actor.userId || actor.roles.includes('admin') || actor.roles.includes('auditor'));
      if (!job || !mayRead) throw notFound('The job', 'id');
      return job;
    },
  };
}
