/**
 * Two processes opening the same PGlite folder corrupt it, so the folder gets
 * a lock file holding the owner's pid. A lock left by a dead process is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface DataDirLock {
  release(): void;
}

/** Folders this process holds: a second open in the same process is refused too. */
const held = new Set<string>();

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const file = path.join(dataDir, 'samplebank.lock');
  const key = fs.realpathSync(dataDir);
  if (held.has(key)) throw new Error(`The data folder ${dataDir} is already open in this process (only one handle may open the embedded database).`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      held.add(key);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          held.delete(key);
          try {
            if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const text = readIfExists(file);
      if (text === undefined) continue;
      const owner = Number(text);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `The data folder ${dataDir} is in use by process ${owner}. Stop that process first (only one process may open the embedded database).`,
        );
      }
      // A lock left by a process that is gone (or by this pid before a restart): take it over,
      // unless another starter replaced it in the meantime.
      if (readIfExists(file) === text) fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock the data folder ${dataDir}`);
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
