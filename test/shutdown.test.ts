/**
 * SIGTERM always ends the server within 10 s, whatever happened to the pipe
 * its log goes to: a reader that stopped reading (the pipe is full) or one
 * that went away (every write fails). Logging never blocks the event loop, so
 * requests are still answered meanwhile. pino's synchronous destination hung
 * here for minutes in a futex wait, its exit-time flush retrying a full pipe.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, engine } from './harness.js';
import { ADMIN, adminToken, root, startServe } from './serve-process.js';

const DEADLINE_MS = 10_000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pid: number, ms: number): Promise<number> {
  const started = Date.now();
  while (alive(pid)) {
    if (Date.now() - started > ms) return Number.POSITIVE_INFINITY;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

/** Requests that each log two lines (incoming, completed) and read the database. */
async function traffic(url: string, token: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, count - i) }, () =>
        fetch(`${url}/api/v1/institutions`, { headers: { authorization: `Bearer ${token}`, 'x-padding': 'p'.repeat(200) } }).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
      ),
    );
    statuses.push(...batch);
  }
  return statuses;
}

describe(`stopping the server whatever its log pipe does (${engine})`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-shutdown-'));
  const drops: Array<() => Promise<void>> = [];
  let n = 0;
  async function environment(): Promise<Record<string, string>> {
    if (engine === 'postgres') {
      const database = await createPostgresDatabase('sb_shutdown');
      drops.push(database.drop);
      return { DATABASE_URL: database.url };
    }
    return { DATA_DIR: path.join(tmp, `data-${++n}`) };
  }
  afterAll(async () => {
    for (const drop of drops) await drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('exits within 10 s on SIGTERM while nobody reads its full log pipe, and answers requests until then', async () => {
    const env = await environment();
    const serve = await startServe(env);
    const token = await adminToken(serve.url);
    // The reader stops reading: the pipe fills (64 KiB) and stays full.
    serve.child.stdout!.pause();
    serve.child.stderr!.pause();
    const statuses = await traffic(serve.url, token, 600);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const sent = Date.now();
    serve.child.kill('SIGTERM');
    const exit = await Promise.race([serve.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), DEADLINE_MS + 5_000))]);
    const took = Date.now() - sent;
    if (exit === null) serve.child.kill('SIGKILL');
    expect(exit, 'the server did not exit after SIGTERM').not.toBeNull();
    expect(took).toBeLessThan(DEADLINE_MS);
    expect(exit!.code).toBe(0);
    if (engine === 'pglite') expect(fs.existsSync(path.join(env.DATA_DIR!, 'samplebank.lock'))).toBe(false);
  }, 300_000);

  it('exits within 10 s on SIGTERM after the parent that read its log went away, and kept serving meanwhile', async () => {
    const env = await environment();
    const parent = spawn(process.execPath, [path.join(root, 'test/fixtures/log-reader.mjs'), root], {
      cwd: root,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SAMPLEBANK_DEMO: '0', SAMPLEBANK_ADMIN_EMAIL: ADMIN.email, SAMPLEBANK_ADMIN_PASSWORD: ADMIN.password, SAMPLEBANK_LOGIN_RATE_LIMIT: '1000', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const told = await new Promise<{ pid: number; url: string }>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`the server did not start:\n${text}`)), 240_000);
      parent.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const line = text.split('\n').find((l) => l.startsWith('{"pid"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { pid: number; url: string });
        }
        if (text.includes('"exited"')) reject(new Error(`the server exited while starting:\n${text}`));
      });
    });
    try {
      const token = await adminToken(told.url);
      expect((await traffic(told.url, token, 50)).every((s) => s === 200)).toBe(true);

      // The parent disappears at once (as a terminal or a supervisor does): its end of the pipe closes with it.
      parent.kill('SIGKILL');
      await new Promise((resolve) => parent.once('exit', resolve));
      // Every log line now fails to write (EPIPE); the server must neither die of it nor stop answering.
      expect((await traffic(told.url, token, 300)).every((s) => s === 200)).toBe(true);

      process.kill(told.pid, 'SIGTERM');
      const took = await waitGone(told.pid, DEADLINE_MS + 5_000);
      expect(took, 'the server was still alive after SIGTERM').toBeLessThan(DEADLINE_MS);
      // It stopped cleanly: the embedded database's folder lock is released.
      if (engine === 'pglite') expect(fs.existsSync(path.join(env.DATA_DIR!, 'samplebank.lock'))).toBe(false);
    } finally {
      if (alive(told.pid)) process.kill(told.pid, 'SIGKILL');
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }
  }, 300_000);
});
