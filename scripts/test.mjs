#!/usr/bin/env node
// The one test command (`npm test`): provision what the suites need beyond
// `npm ci`, build the web app, lint, type check, then every test suite,
// ending with one summary line "tests: N passed, N failed, N skipped".
// SAMPLEBANK_TEST_ENGINE=postgres runs the suites on PostgreSQL instead of PGlite.
// CI (.ci/run) calls this very command, so the two never drift apart.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { provision } from './provision.mjs';

const skipStatic = process.argv.includes('--no-static');
const extra = process.argv.slice(2).filter((arg) => arg !== '--no-static');
const run = (command, args, env = {}) => {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
};
const finish = (passed, failed, skipped, ok) => {
  console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(ok ? 0 : 1);
};

console.log('== system packages');
if (!provision()) finish(0, 1, 0, false);

console.log('\n== web app');
if (run(process.execPath, ['bin/samplebank.js', 'build-web']) !== 0) finish(0, 1, 0, false);

let failedSteps = 0;
if (!skipStatic) {
  console.log('\n== lint');
  failedSteps += run('npx', ['eslint', '.']) === 0 ? 0 : 1;
  console.log('\n== type check');
  failedSteps += run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) === 0 ? 0 : 1;
  if (fs.existsSync('web/tsconfig.json')) failedSteps += run('npx', ['tsc', '--noEmit', '-p', 'web/tsconfig.json']) === 0 ? 0 : 1;
}

console.log(`\n== tests (${process.env.SAMPLEBANK_TEST_ENGINE ?? 'pglite'})`);
fs.rmSync('test-results/vitest.json', { force: true });
const status = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json', ...extra]);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(fs.readFileSync('test-results/vitest.json', 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
} catch {
  failed += 1;
}
if (status !== 0 && failed === 0) failed = 1;
failed += failedSteps;
finish(passed, failed, skipped, failed === 0 && status === 0);
