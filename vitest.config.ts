import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'cli/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts', 'web/e2e/**/*.test.ts'],
    // web/ holds only the web app's unit tests and its browser tests (web/e2e); never its build output.
    exclude: ['**/node_modules/**', 'web/dist/**'],
    // One audit signing key for every test database and server process of the run, so a trail moved between
    // them (backup and restore, PGlite to PostgreSQL) still verifies; tests of the key itself set their own.
    env: { SAMPLEBANK_AUDIT_KEY_FILE: path.join(os.tmpdir(), 'samplebank-test-audit-signing-key.pem') },
    pool: 'forks',
    maxWorkers: Number(process.env.TEST_WORKERS ?? 2),
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
