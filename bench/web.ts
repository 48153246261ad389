/**
 * Web app budget, in headless Chromium on localhost:
 * - the gzipped JavaScript the first page loads (target ≤ 250 KB): what
 *   index.html references, and what the browser actually fetched for the
 *   catalog (signed out) and for the statistics page (which adds ECharts);
 * - the statistics page's time to interactive (target < 1 s): from
 *   navigation start until its figures and charts are drawn and the page
 *   answers input;
 * - the curator's sample list over 100,000 samples against a baseline of
 *   1,000 in the same run (server pagination): time to the first page of
 *   rows, time to load the next page, and the rows in the DOM. Smooth means
 *   the 100,000 case costs about what the 1,000 case does.
 * Prints a Markdown section for BENCHMARKS.md.
 *
 *   npm run build:web && npx tsx bench/web.ts [runs=7]
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import type { Browser } from 'playwright-core';
import { ensureBuilt, launch } from '../web/e2e/harness.js';
import { SEED_PASSWORD, seedShowcase } from '../web/e2e/seed.js';
import { createTestServer } from '../test/harness.js';

const dist = fileURLToPath(new URL('../web/dist/', import.meta.url));
const runs = Number(process.argv[2] ?? 7);
/** Every chart on the page has drawn (signed out, per-institution charts wait for the committee's decision). */
const allChartsDrawn = "(() => { const charts = [...document.querySelectorAll('.chart')]; return charts.length > 0 && charts.every((c) => c.querySelector('svg')); })()";
const port = Number(process.env.BENCH_PORT ?? 4710);

/** The scripts index.html loads at once: the entry and its modulepreloads (lazy pages excluded). */
function firstPageScripts(): Array<{ file: string; raw: number; gzip: number }> {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((match) => match[1]!);
  return [...new Set(files)].map((file) => {
    const body = readFileSync(path.join(dist, file));
    return { file, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
  });
}

const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
const gzipOf = (file: string): number => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;

/** The JavaScript files the browser fetched while opening `url` (cold cache), with their gzipped sizes. */
async function fetchedScripts(browser: Browser, url: string, ready: string, login?: { base: string; email: string }): Promise<Array<{ file: string; gzip: number }>> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  if (login) await context.request.post(`${login.base}/api/v1/auth/login`, { data: { email: login.email, password: SEED_PASSWORD } });
  const page = await context.newPage();
  const files = new Set<string>();
  page.on('response', (response) => {
    const match = /\/(assets\/[^?]+\.js)$/.exec(new URL(response.url()).pathname);
    if (match) files.add(match[1]!);
  });
  await page.goto(url);
  await page.waitForSelector(ready);
  await page.waitForLoadState('networkidle');
  await context.close();
  return [...files].map((file) => ({ file, gzip: gzipOf(file) }));
}

/** Adds `count` samples to a new collection in one statement; answers the collection id. */
async function manySamples(server: Awaited<ReturnType<typeof createTestServer>>, code: string, count: number): Promise<string> {
  const db = server.context.handle.db;
  const collectionId = crypto.randomUUID();
  await db.insertInto('collections').values({ id: collectionId, code, name: `${count} samples`, unit: 'g', scale: 4, human_consent: false, kinds: ['scooped', 'drilled'] }).execute();
  await sql`insert into samples (id, root_id, collection_id, identifier, kind, quantity, attributes)
    select u, u, ${collectionId}::uuid, ${code} || lpad(g::text, 7, '0'), case when g % 3 = 0 then 'drilled' else 'scooped' end, 10000 + g, '{}'::jsonb
    from (select gen_random_uuid() as u, g from generate_series(1, ${count}::int) as g) as s`.execute(db);
  return collectionId;
}

/** The sample list of one collection: ms to the first page of rows, ms to the next page, rows in the DOM. */
async function sampleList(browser: Browser, base: string, email: string, collectionId: string): Promise<{ first: number; next: number; rows: number }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.request.post(`${base}/api/v1/auth/login`, { data: { email, password: SEED_PASSWORD } });
  const page = await context.newPage();
  await page.goto(`${base}/samples?collectionId=${collectionId}`, { waitUntil: 'commit' });
  await page.waitForFunction("document.querySelectorAll('tbody tr').length >= 50");
  const first = (await page.evaluate('performance.now()')) as number;
  const started = (await page.evaluate('performance.now()')) as number;
  await page.getByRole('button', { name: /Load more|加载更多/ }).click();
  await page.waitForFunction("document.querySelectorAll('tbody tr').length >= 100");
  const next = ((await page.evaluate('performance.now()')) as number) - started;
  const rows = (await page.evaluate("document.querySelectorAll('tbody tr').length")) as number;
  await context.close();
  return { first, next, rows };
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  ensureBuilt();
  const scripts = firstPageScripts();
  const total = scripts.reduce((sum, script) => sum + script.gzip, 0);
  const css = readFileSync(path.join(dist, 'index.html'), 'utf8').match(/href="\/(assets\/[^"]+\.css)"/)?.[1];
  const cssGzip = css ? gzipSync(readFileSync(path.join(dist, css)), { level: 9 }).length : 0;

  const server = await createTestServer();
  await server.app.listen({ port, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  const seed = await seedShowcase(server);
  const browser = await launch();
  const times: number[] = [];
  let catalogScripts: Array<{ file: string; gzip: number }> = [];
  let statisticsScripts: Array<{ file: string; gzip: number }> = [];
  const lists: Array<{ size: number; first: number; next: number; rows: number }> = [];
  try {
    for (let run = 0; run < runs + 1; run++) {
      // A new context each run: cold HTTP cache, like a first visit.
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      // The public page, as a visitor who is not signed in sees it.
      const page = await context.newPage();
      await page.goto(`${base}/statistics?call=${seed.callId ?? ''}`, { waitUntil: 'commit' });
      await page.waitForSelector('.kpis');
      await page.waitForFunction(allChartsDrawn);
      // Interactive: the main thread answers a task posted now.
      const elapsed = (await page.evaluate('new Promise((resolve) => setTimeout(() => resolve(performance.now()), 0))')) as number;
      if (run > 0) times.push(elapsed); // the first run warms the server's code paths
      await context.close();
    }
    catalogScripts = await fetchedScripts(browser, `${base}/`, 'main h1');
    statisticsScripts = await fetchedScripts(browser, `${base}/statistics?call=${seed.callId ?? ''}`, '.chart svg');
    const small = await manySamples(server, 'BASE', 1_000);
    const large = await manySamples(server, 'BIG', 100_000);
    for (let run = 0; run < Math.max(3, Math.ceil(runs / 2)); run++) {
      for (const [size, collectionId] of [[1_000, small], [100_000, large]] as const) {
        const measured = await sampleList(browser, base, seed.curator.email, collectionId);
        if (run > 0) lists.push({ size, ...measured });
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `web app, ${date}, Chromium headless on localhost, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(1)}`,
    '',
    '| first page script | raw KB | gzip KB |',
    '| --- | ---: | ---: |',
    ...scripts.map((script) => `| ${script.file.replace(/-[A-Za-z0-9_-]{8}\.js$/, '.js')} | ${kb(script.raw)} | ${kb(script.gzip)} |`),
    `| **total JS (target ≤ 250 KB)** | ${kb(scripts.reduce((sum, script) => sum + script.raw, 0))} | **${kb(total)}** |`,
    `| CSS | | ${kb(cssGzip)} |`,
    '',
    `public statistics page time to interactive (cold cache, signed out, ${times.length} runs): median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (target < 1000 ms)`,
  ];
  const sumGzip = (list: Array<{ gzip: number }>): number => list.reduce((sum, script) => sum + script.gzip, 0);
  const of = (size: number, key: 'first' | 'next'): number => median(lists.filter((entry) => entry.size === size).map((entry) => entry[key]));
  lines.push(
    '',
    `JavaScript the browser fetched (gzip): catalog signed out ${kb(sumGzip(catalogScripts))} KB in ${catalogScripts.length} files; statistics page ${kb(sumGzip(statisticsScripts))} KB in ${statisticsScripts.length} files (ECharts loads only there)`,
    '',
    '| sample list (curator, server pagination, 50 a page) | 1,000 samples | 100,000 samples | ratio |',
    '| --- | ---: | ---: | ---: |',
    `| first page of rows drawn (ms from navigation) | ${of(1_000, 'first').toFixed(0)} | ${of(100_000, 'first').toFixed(0)} | ${(of(100_000, 'first') / of(1_000, 'first')).toFixed(2)} |`,
    `| next page loaded and drawn (ms) | ${of(1_000, 'next').toFixed(0)} | ${of(100_000, 'next').toFixed(0)} | ${(of(100_000, 'next') / of(1_000, 'next')).toFixed(2)} |`,
    `| rows in the DOM after two pages | ${lists.find((entry) => entry.size === 1_000)?.rows ?? 0} | ${lists.find((entry) => entry.size === 100_000)?.rows ?? 0} | |`,
  );
  console.log(lines.join('\n'));
  const ok = total <= 250 * 1024 && sumGzip(catalogScripts) <= 250 * 1024 && median(times) < 1000;
  if (!ok) process.exitCode = 1;
}

await main();
