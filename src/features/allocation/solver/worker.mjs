// Worker entry: registers tsx in this thread (hooks registered in the parent
// do not reach worker threads on every Node version), then runs the
// TypeScript worker. Works the same under plain node, tsx and vitest.
import { register } from 'tsx/esm/api';

register();
await import('./highs.worker.ts');
