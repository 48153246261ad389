/**
 * Durability for the embedded database on a local folder.
 *
 * What @electric-sql/pglite 0.5.16 does on its own (read from its dist/ and
 * reported upstream as electric-sql/pglite#1107):
 * - it starts PostgreSQL with `-F`, i.e. fsync = off;
 * - its Node filesystem (Emscripten NODEFS) has no fsync operation, and the
 *   fdatasync system call is a no-op, so even with fsync on nothing reaches the disk
 *   through them;
 * - every write is still a synchronous write(2) into the operating system, so a
 *   committed transaction's WAL is in the kernel when the commit returns.
 *
 * What this module changes, so a commit is on disk when it is acknowledged:
 * - fsync = on (the library's start parameters without `-F`);
 * - wal_sync_method = open_datasync: WAL files are opened O_DSYNC, which NODEFS
 *   passes to Node as O_SYNC, so each WAL write returns only once it is on disk;
 * - NODEFS gets an fsync operation that calls fs.fsyncSync on the real file (or
 *   folder), so checkpoints flush data files before old WAL is recycled;
 * - a folder created by initdb is flushed once after the first start (flushFolder).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** The start parameters PGlite would use, with fsync on and synchronous WAL writes. */
export function durableStartParams(): string[] {
  const defaults = (PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? [];
  return [...defaults.filter((param) => param !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=open_datasync', '-c', 'synchronous_commit=on'];
}

interface EmscriptenStream {
  nfd?: number;
  node?: unknown;
}

interface NodeFsModule {
  NODEFS?: {
    stream_ops: { fsync?: (stream: EmscriptenStream) => number };
    realPath(node: unknown): string;
  };
}

const EIO = 29; // Emscripten's errno numbering

/** Adds the missing fsync to Emscripten's NODEFS: flush the real file (or folder) behind the stream. */
function addFsync(mod: NodeFsModule): void {
  const nodefs = mod.NODEFS;
  if (!nodefs || nodefs.stream_ops.fsync) return;
  nodefs.stream_ops.fsync = (stream) => {
    try {
      if (typeof stream.nfd === 'number') {
        fs.fsyncSync(stream.nfd);
      } else {
        const fd = fs.openSync(nodefs.realPath(stream.node), 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      }
      return 0;
    } catch (error) {
      // Some file systems refuse fsync on a folder; PostgreSQL tolerates that for folders too.
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'EISDIR' || code === 'EINVAL' || code === 'EBADF' ? 0 : EIO;
    }
  };
}

/** NodeFS whose Emscripten module can fsync. */
export class DurableNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFS['init']>): ReturnType<NodeFS['init']> {
    const { emscriptenOpts } = await super.init(...args);
    const preRun = [...((emscriptenOpts.preRun as Array<(mod: unknown) => void> | undefined) ?? []), (mod: unknown) => addFsync(mod as NodeFsModule)];
    return { emscriptenOpts: { ...emscriptenOpts, preRun } as typeof emscriptenOpts };
  }
}

/**
 * Flushes a folder that initdb wrote without fsync: on Linux one syncfs of its
 * file system (`sync -f`), elsewhere an fsync of every file and folder in it.
 */
export function flushFolder(dir: string): void {
  if (process.platform === 'linux') {
    try {
      execFileSync('sync', ['-f', dir], { stdio: 'ignore', timeout: 60_000 });
      return;
    } catch {
      // No coreutils sync here: flush file by file.
    }
  }
  flushTree(dir);
}

/** fsyncs every file and folder under dir. */
export function flushTree(dir: string): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) flushTree(full);
    else if (entry.isFile()) {
      const fd = fs.openSync(full, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } catch {
    // A folder that cannot be fsynced on this file system.
  } finally {
    fs.closeSync(fd);
  }
}
