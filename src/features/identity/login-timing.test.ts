/**
 * Sign-in must not tell by its time whether an e-mail has an account: an unknown e-mail (or a
 * disabled account) verifies against a dummy Argon2 hash, as costly as a real one.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem, unique } from '../../../test/factories.js';
import { hashPassword } from './password.js';

/** Sign-ins of each kind per round, at most ROUNDS rounds; medians within TOLERANCE of each other. */
const N = 11;
const ROUNDS = 4;
const TOLERANCE = 1.3;

interface Timing {
  /** Wall-clock time, what an attacker sees. */
  wall: number;
  /** CPU time of the whole process (Argon2 runs on libuv's threads): the work, whatever else the machine is doing. */
  cpu: number;
}

describe(`sign-in timing on ${engine}`, () => {
  let server: TestServer;
  const known: string[] = [];
  const disabled: string[] = [];
  beforeAll(async () => {
    server = await createTestServer();
    // One account per attempt, each tried from its own address: no throttle (nor the old lock-out) is in play.
    // They share one real hash, so that making them costs one Argon2 run, not seventy.
    const passwordHash = await hashPassword(PASSWORD);
    const rows = (count: number, prefix: string, disabledAt: Date | null) =>
      Array.from({ length: count }, () => ({ id: crypto.randomUUID(), email: `${unique(prefix)}@test.samplebank`, name: prefix, password_hash: passwordHash, roles: ['applicant' as const], disabled_at: disabledAt }));
    const users = [...rows(N * ROUNDS + 1, 'known', null), ...rows(N * ROUNDS, 'gone', new Date())];
    await server.context.handle.db.insertInto('users').values(users).execute();
    for (const user of users) (user.disabled_at ? disabled : known).push(user.email);
  });
  afterAll(async () => server?.close());

  let address = 0;
  async function timed(email: string): Promise<Timing> {
    address++;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const response = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: `198.18.${address >> 8}.${address & 255}`, payload: { email, password: 'not-the-password' } });
    const wall = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    problem(response, 401, 'invalid-credentials');
    return { wall, cpu: (used.user + used.system) / 1000 };
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  /**
   * The median, over turns, of one kind's time divided by the wrong password's in the same turn:
   * sign-ins a moment apart share the machine's load, which on a busy machine moves single
   * medians by more than the tolerance.
   */
  function compare(measure: keyof Timing, label: string, base: Timing[], other: Timing[]): { ratio: number; summary: string } {
    const ratio = median(other.map((t, i) => t[measure] / base[i]![measure]));
    const [a, b] = [median(base.map((t) => t[measure])), median(other.map((t) => t[measure]))];
    return { ratio, summary: `${measure} ms, median of ${base.length}: wrong password ${a.toFixed(1)}, ${label} ${b.toFixed(1)}; median ratio ${ratio.toFixed(2)}` };
  }
  const close = (r: number) => r > 1 / TOLERANCE && r < TOLERANCE;

  it('takes as long for an unknown e-mail or a disabled account as for a wrong password', async () => {
    // Warm-up (the first of each kind is not measured).
    await timed(known[N * ROUNDS]!);
    await timed(`${unique('ghost')}@test.samplebank`);
    const wrong: Timing[] = [];
    const unknown: Timing[] = [];
    const gone: Timing[] = [];
    const kinds = [
      async (i: number) => wrong.push(await timed(known[i]!)),
      async () => unknown.push(await timed(`${unique('ghost')}@test.samplebank`)),
      async (i: number) => gone.push(await timed(disabled[i]!)),
    ];
    let results: Array<{ ratio: number; summary: string }> = [];
    // On a busy machine one round can be far off by chance: then measure another round and judge
    // all together. A real difference (before the dummy hash, 4x) stays, however many rounds.
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = round * N; i < (round + 1) * N; i++) {
        // Interleaved, each turn starting with another kind, so that neither a busy moment nor the order favours one.
        for (let k = 0; k < kinds.length; k++) await kinds[(i + k) % kinds.length]!(i);
      }
      results = (['wall', 'cpu'] as const).flatMap((measure) => [compare(measure, 'unknown e-mail', wrong, unknown), compare(measure, 'disabled account', wrong, gone)]);
      if (results.every((r) => close(r.ratio))) break;
    }
    for (const { ratio: r, summary } of results) expect(close(r), summary).toBe(true);
  });
});
