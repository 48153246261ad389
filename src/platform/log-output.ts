/**
 * Where the server's log lines go: standard output, written without ever
 * blocking the event loop. pino's default destination writes synchronously
 * and, at exit, flushes synchronously: when the process reading the pipe
 * stops reading (or holds it open and goes away), that flush waits on the
 * full pipe forever and no signal can end the process. Here lines are queued
 * in memory, written by asynchronous writes, and dropped (and counted) when
 * more than `maxBytes` wait; a reader that went away (EPIPE) silences the
 * output instead of crashing the server.
 */
import fs from 'node:fs';

export interface LogOutput {
  write(chunk: string): void;
  /** Lines dropped since start because the reader fell behind or went away. */
  dropped(): number;
  /** Bytes waiting to be written. */
  pending(): number;
  /** Waits until everything queued is written, the reader is gone, or `timeoutMs` passed. */
  flush(timeoutMs: number): Promise<void>;
}

const RETRY_MS = 50;

let standard: LogOutput | undefined;

/** The process's standard output as a LogOutput (one per process: fd 1 is one). */
export function standardOutput(): LogOutput {
  standard ??= nonBlockingOutput(1);
  return standard;
}

export function nonBlockingOutput(fd = 1, maxBytes = 8 * 1024 * 1024): LogOutput {
  let queue: string[] = [];
  let queued = 0;
  let writing = false;
  let gone = false;
  let dropped = 0;
  let droppedSinceNote = 0;
  const waiters = new Set<() => void>();

  const settle = (): void => {
    if (queued > 0 && !gone) return;
    for (const wake of waiters) wake();
    waiters.clear();
  };

  const writeNext = (): void => {
    if (gone || queue.length === 0) {
      writing = false;
      settle();
      return;
    }
    writing = true;
    if (droppedSinceNote > 0) {
      const note = `${JSON.stringify({ level: 40, time: new Date().toISOString(), service: 'samplebank', msg: `${droppedSinceNote} log lines dropped: the log reader fell behind` })}\n`;
      queue.unshift(note);
      queued += Buffer.byteLength(note);
      droppedSinceNote = 0;
    }
    const chunk = Buffer.from(queue.join(''));
    queue = [];
    writeChunk(chunk);
  };

  const writeChunk = (chunk: Buffer): void => {
    fs.write(fd, chunk, 0, chunk.length, null, (error, written) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') {
          // The pipe is full: try again later, never in a loop that holds the event loop.
          setTimeout(() => writeChunk(chunk), RETRY_MS).unref();
          return;
        }
        // EPIPE, EBADF, …: nobody reads any more. Keep serving; stop logging.
        gone = true;
        dropped += queue.length + 1;
        queue = [];
        queued = 0;
        writing = false;
        settle();
        return;
      }
      queued -= written;
      if (written < chunk.length) {
        writeChunk(chunk.subarray(written));
        return;
      }
      writeNext();
    });
  };

  return {
    write(chunk: string): void {
      if (gone) {
        dropped++;
        return;
      }
      const bytes = Buffer.byteLength(chunk);
      if (queued + bytes > maxBytes) {
        dropped++;
        droppedSinceNote++;
        return;
      }
      queue.push(chunk);
      queued += bytes;
      if (!writing) writeNext();
    },
    dropped: () => dropped,
    pending: () => queued,
    flush(timeoutMs: number): Promise<void> {
      if (queued === 0 || gone) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve();
        }, timeoutMs);
        timer.unref();
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        waiters.add(done);
      });
    },
  };
}
