/**
 * Runs the real server as a user does (`node bin/samplebank.js serve`) in a
 * child process, for shutdown, crash and lock tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');
export const ADMIN = { email: 'admin@lifecycle.samplebank.test', password: 'lifecycle-password' };

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `samplebank serve` on a free port and resolves once it listens. */
export function startServe(env: Record<string, string>, timeoutMs = 240_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['bin/samplebank.js', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SAMPLEBANK_DEMO: '0',
      SAMPLEBANK_ADMIN_EMAIL: ADMIN.email,
      SAMPLEBANK_ADMIN_PASSWORD: ADMIN.password,
      SAMPLEBANK_LOGIN_RATE_LIMIT: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in ${timeoutMs} ms:\n${text}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = /"address":"(http:\/\/[^"]+)"[^\n]*SampleBank is listening/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => text, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${text}`));
    });
  });
}

export async function adminToken(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
