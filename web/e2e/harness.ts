/**
 * Browser tests: the real server over a fresh test database (test/harness.ts),
 * listening on a free port and serving the built web/dist, driven by Debian's
 * Chromium through playwright-core. Never downloads a browser.
 */
import crypto from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureWebBuilt } from '../../cli/web-build.js';
import { systemActor } from '../../src/core/actor.js';
import type { Role } from '../../src/core/roles.js';
import { createInstitution, unique } from '../../test/factories.js';
import { createTestServer, type TestServer } from '../../test/harness.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PASSWORD = 'correct-horse-battery';

/** Builds web/dist when it is missing or older than its sources (the test command builds it first; this covers a single file run alone). */
export async function ensureBuilt(): Promise<void> {
  const result = await ensureWebBuilt((line) => console.log(line));
  if (result.state === 'failed' || result.state === 'unavailable') throw new Error(result.message ?? 'the web app could not be built');
}

export function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (set CHROMIUM_PATH to use another)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run'],
  });
}

export interface RunningApp {
  server: TestServer;
  baseUrl: string;
  close(): Promise<void>;
}

export async function startApp(): Promise<RunningApp> {
  await ensureBuilt();
  const server = await createTestServer();
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const address = server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  return { server, baseUrl: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

export interface Account {
  id: string;
  email: string;
  name: string;
  token: string;
}

/** A user with these roles, and a bearer token for setting up data through the API. */
export async function createAccount(app: RunningApp, roles: Role[], name: string): Promise<Account> {
  const { context } = app.server;
  const institution = await createInstitution(context);
  const email = `${unique('e2e')}@test.samplebank`;
  const user = await context.services.identity.createUser(systemActor, { email, name, password: PASSWORD, institutionId: institution.id, roles });
  const login = await fetch(`${app.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
  const { token } = (await login.json()) as { token: string };
  return { id: user.id, email, name, token };
}

/** Calls the API as an account; answers status and body. */
export async function call<T = unknown>(app: RunningApp, account: Account, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${app.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${account.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Signs in through the form using only the keyboard. */
export async function signInWithKeyboard(page: Page, baseUrl: string, account: Account): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel(/E-mail|电子邮箱/).focus();
  await page.keyboard.type(account.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: new RegExp(account.name) }).waitFor();
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** Runs axe-core in the page; answers the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ content: axeSource });
  // A string, so this file type-checks without the DOM library (scripts/ import it).
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as Violation[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/**
 * A collection (scale 4, grams) with one sample per given kind and quantity:
 * through the inventory API when the server has it, else straight into its tables.
 */
export async function createCollection(app: RunningApp, curator: Account, samples: Array<[kind: string, quantity: string]>): Promise<{ collectionId: string; sampleIds: string[] }> {
  const kinds = [...new Set(samples.map(([kind]) => kind))];
  const code = unique('E2E').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 16);
  const created = await call<{ id: string }>(app, curator, 'POST', '/collections', { code, name: "Chang'e-5 returned samples", unit: 'g', scale: 4, humanConsent: false, kinds });
  const sampleIds: string[] = [];
  if (created.status === 201) {
    for (const [index, [kind, quantity]] of samples.entries()) {
      const sample = await call<{ id: string }>(app, curator, 'POST', '/samples', { collectionId: created.body.id, kind, quantity, identifier: `${code}S${index + 1}` });
      if (sample.status !== 201) throw new Error(`POST /samples: ${sample.status} ${JSON.stringify(sample.body)}`);
      sampleIds.push(sample.body.id);
    }
    return { collectionId: created.body.id, sampleIds };
  }
  if (created.status !== 404) throw new Error(`POST /collections: ${created.status} ${JSON.stringify(created.body)}`);
  const db = app.server.context.handle.db;
  const collectionId = crypto.randomUUID();
  await db.insertInto('collections').values({ id: collectionId, code, name: "Chang'e-5 returned samples", unit: 'g', scale: 4, human_consent: false, kinds }).execute();
  for (const [index, [kind, quantity]] of samples.entries()) {
    const id = crypto.randomUUID();
    const units = (BigInt(quantity.split('.')[0]!) * 10_000n + BigInt((quantity.split('.')[1] ?? '').padEnd(4, '0'))).toString();
    await db.insertInto('samples').values({ id, collection_id: collectionId, identifier: `${code}S${index + 1}`, kind, quantity: units, reserved: '0', state: 'available', parent_id: null, root_id: id, location_id: null, position: null, attributes: '{}' }).execute();
    sampleIds.push(id);
  }
  return { collectionId, sampleIds };
}

/** A fresh browser context and page in English (or the given locale). */
export async function openPage(browser: Browser, locale = 'en-US'): Promise<Page> {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  // Confirmation prompts (close the batch, remove a file) are accepted.
  page.on('dialog', (dialog) => void dialog.accept());
  return page;
}

/** A minimal valid PDF for attachment uploads. */
export const tinyPdf = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
