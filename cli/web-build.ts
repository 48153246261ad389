/**
 * The web app is built from web/ into web/dist. `samplebank serve` (and the
 * test command) build it when it is missing or older than its sources, so a
 * fresh clone's `npm start` serves the page on the first try. "Older" is
 * decided by content: a digest of every source file (and the lockfile) is
 * written beside the build, so a checkout, a touch or a clock never fools it.
 * Builds go to a temporary folder and replace web/dist in one rename, under a
 * lock, so two processes starting at once never serve or write half a build.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const web = path.join(root, 'web');
export const dist = path.join(web, 'dist');
const STAMP = '.source-digest';
const LOCK = path.join(web, '.build.lock');

export type WebBuildState = { state: 'fresh' } | { state: 'missing' | 'stale'; digest: string } | { state: 'no-sources' };

/** Every file the build reads from the project: web/index.html, the Vite and TypeScript config, web/src (tests excluded), the lockfile. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (!/\.test\.tsx?$/.test(entry.name)) files.push(file);
    }
  };
  walk(path.join(web, 'src'));
  walk(path.join(web, 'public'));
  for (const name of ['index.html', 'vite.config.ts', 'tsconfig.json']) files.push(path.join(web, name));
  files.push(path.join(root, 'package-lock.json'));
  return files.filter((file) => fs.existsSync(file)).sort();
}

export function sourceDigest(): string {
  const hash = crypto.createHash('sha256');
  for (const file of sourceFiles()) {
    hash.update(path.relative(root, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

export function webBuildState(): WebBuildState {
  if (!fs.existsSync(path.join(web, 'src'))) return fs.existsSync(path.join(dist, 'index.html')) ? { state: 'fresh' } : { state: 'no-sources' };
  const digest = sourceDigest();
  if (!fs.existsSync(path.join(dist, 'index.html'))) return { state: 'missing', digest };
  let built = '';
  try {
    built = fs.readFileSync(path.join(dist, STAMP), 'utf8').trim();
  } catch {
    // Built by `npm run build:web` or an older version: no digest, so rebuild once.
  }
  return built === digest ? { state: 'fresh' } : { state: 'stale', digest };
}

function viteBin(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve('vite/package.json');
    const { bin } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { bin: string | Record<string, string> };
    return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : (bin.vite ?? ''));
  } catch {
    return undefined;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Holds web/.build.lock while fn runs; waits for another live process's build, takes over a dead one's. */
async function withLock<T>(fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const fd = fs.openSync(LOCK, 'wx', 0o644);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(fs.readFileSync(LOCK, 'utf8') || '0', 10);
      if (!holder || !alive(holder)) {
        fs.rmSync(LOCK, { force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs) throw new Error(`another process (pid ${holder}) has been building the web app for ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}

export interface EnsureResult {
  state: 'fresh' | 'built' | 'unavailable' | 'failed';
  ms: number;
  message?: string;
}

/**
 * Builds web/dist when it is missing or older than its sources; `say` tells
 * the person waiting. Never throws: a failed build leaves the API running and
 * the message says why (the page then says the app is not built).
 */
export async function ensureWebBuilt(say: (line: string) => void, options: { force?: boolean } = {}): Promise<EnsureResult> {
  const t0 = Date.now();
  const first = webBuildState();
  if (!options.force && (first.state === 'fresh' || first.state === 'no-sources')) {
    return first.state === 'fresh' ? { state: 'fresh', ms: 0 } : { state: 'unavailable', ms: 0, message: 'web/dist is missing and web/src is not here to build it from' };
  }
  const vite = viteBin();
  if (!vite) {
    const message = 'The web app cannot be built here: Vite is not installed (install with `npm ci`, including dev dependencies, or copy a built web/dist)';
    say(message);
    return { state: 'unavailable', ms: 0, message };
  }
  try {
    return await withLock(async () => {
      // Another process may have built it while this one waited for the lock.
      const now = webBuildState();
      if (!options.force && now.state === 'fresh') return { state: 'fresh', ms: Date.now() - t0 };
      const digest = now.state === 'missing' || now.state === 'stale' ? now.digest : sourceDigest();
      say(`Building the web app (${now.state === 'missing' ? 'web/dist is missing' : now.state === 'stale' ? 'web/dist is older than its sources' : 'asked for'}); this takes a few seconds…`);
      const out = path.join(web, `.dist-${process.pid}`);
      fs.rmSync(out, { recursive: true, force: true });
      const output = await run(process.execPath, [vite, 'build', '--mode', 'production', '--config', path.join(web, 'vite.config.ts'), '--outDir', out, '--emptyOutDir', '--logLevel', 'warn']);
      if (output.code !== 0 || !fs.existsSync(path.join(out, 'index.html'))) {
        fs.rmSync(out, { recursive: true, force: true });
        const message = `Building the web app failed (exit ${output.code}):\n${output.text.trim()}`;
        say(message);
        return { state: 'failed', ms: Date.now() - t0, message };
      }
      fs.writeFileSync(path.join(out, STAMP), `${digest}\n`);
      const old = path.join(web, `.dist-old-${process.pid}`);
      if (fs.existsSync(dist)) fs.renameSync(dist, old);
      fs.renameSync(out, dist);
      fs.rmSync(old, { recursive: true, force: true });
      const ms = Date.now() - t0;
      say(`Built the web app in ${(ms / 1000).toFixed(1)} s.`);
      return { state: 'built', ms };
    });
  } catch (error) {
    const message = `Building the web app failed: ${error instanceof Error ? error.message : String(error)}`;
    say(message);
    return { state: 'failed', ms: Date.now() - t0, message };
  }
}

function run(command: string, args: string[]): Promise<{ code: number; text: string }> {
  return new Promise((resolve) => {
    // A production build whatever the caller's NODE_ENV: under a test runner (NODE_ENV=test) Vite would
    // otherwise bundle React's development build, whose StrictMode runs every effect twice.
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', (error) => resolve({ code: 1, text: `${text}\n${error.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, text }));
  });
}
