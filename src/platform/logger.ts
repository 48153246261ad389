import pino, { type Logger } from 'pino';
import { standardOutput } from './log-output.js';

export type { Logger };

/** JSON logs; by default to standard output through a writer that never blocks the event loop (log-output.ts). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'samplebank' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'password', '*.password', 'token', '*.token'],
        censor: '[redacted]',
      },
    },
    destination ?? standardOutput(),
  );
}
