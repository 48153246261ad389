/**
 * PNGs of each main page in both languages, for docs/screenshots/ (linked
 * from the README). Starts the real server over a fresh in-memory database
 * with a small lunar scene (its panel scores the applications before the
 * chair decides, so the ranking ranks) and a small pathology bank (the
 * demo's, with 8 donors, one of whom withdrew consent) and an administrator
 * (with one account disabled, for the Users page), on port 4700
 * (SCREENSHOT_PORT to change), and drives Debian's Chromium. Run: npm run build:web && npx tsx scripts/screenshots.ts
 * (SCREENSHOTS=returns,incidents … to regenerate only those).
 */
import crypto from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { ensureBuilt, launch } from '../web/e2e/harness.js';
import { SEED_PASSWORD, seedShowcase, type Seed, type SeedUser } from '../web/e2e/seed.js';
import { systemActor } from '../src/core/actor.js';
import { buildPathologyDemo } from '../src/features/pathology/demo.js';
import { createTestServer } from '../test/harness.js';

const out = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const port = Number(process.env.SCREENSHOT_PORT ?? 4700);

interface Shot {
  name: string;
  as: Pick<SeedUser, 'email'> | null;
  path: string;
  ready: (page: Page) => Promise<void>;
  then?: (page: Page) => Promise<void>;
  /** The window only: a modal dialog over a long page (a full-page shot would scroll the page out from under it). */
  viewportOnly?: boolean;
}

async function main(): Promise<void> {
  ensureBuilt();
  mkdirSync(out, { recursive: true });
  const server = await createTestServer();
  await server.app.listen({ port, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  const seed = await seedShowcase(server, { reviews: true });
  const scene = await advance(base, seed);
  const pathology = await pathologyScene(server, base);
  const admin = await adminScene(server);
  const idle = async (page: Page) => {
    await page.waitForLoadState('networkidle');
    await page.waitForFunction("!document.querySelector('.state-loading')");
  };
  const consoleShots: Shot[] = [
    // The lunar collection's samples: the pathology bank's would fill the page.
    { name: 'samples', as: seed.curator, path: `/samples?collectionId=${seed.collectionId}`, ready: idle },
    { name: 'sample', as: seed.curator, path: `/samples/${seed.sampleId}`, ready: idle },
    {
      name: 'split-dialog',
      as: seed.curator,
      path: `/samples/${seed.sampleId}`,
      ready: idle,
      then: async (page) => {
        await page.locator('.page-actions .button-primary').click();
        await page.locator('dialog input').first().fill('2.5000');
        await page.locator('dialog .parts > .button').click();
        await page.locator('dialog input').nth(3).fill('1.25001');
        await page.waitForTimeout(200);
      },
    },
    ...(seed.boxId ? [{ name: 'storage-box', as: seed.curator, path: `/storage/${seed.boxId}`, ready: idle }] : []),
    { name: 'storage', as: seed.curator, path: '/storage', ready: idle },
  ];
  const shots: Shot[] = [
    { name: 'sign-in', as: null, path: '/sign-in', ready: idle },
    // The public pages, as a signed-out visitor sees them.
    { name: 'catalog', as: null, path: '/', ready: idle },
    // The console pages need the inventory API; without it they would only say "not available yet".
    ...(seed.inventoryApi ? consoleShots : []),
    {
      name: 'statistics',
      as: null,
      path: seed.callId ? `/statistics?call=${seed.callId}` : '/statistics',
      ready: async (page) => {
        await idle(page);
        await page.waitForTimeout(600); // the charts animate in
      },
    },
    { name: 'calls', as: seed.applicant, path: '/calls', ready: idle },
    { name: 'my-applications', as: seed.applicant, path: '/applications', ready: idle },
    ...(scene.applicationId ? [{ name: 'application', as: seed.applicant, path: `/applications/${scene.applicationId}`, ready: idle }] : []),
    ...(scene.reviewId ? [{ name: 'review', as: seed.reviewer, path: `/reviews/${scene.reviewId}`, ready: idle }] : []),
    ...(seed.callId ? [{ name: 'committee', as: seed.chair, path: `/committee/${seed.callId}`, ready: idle }] : []),
    ...(scene.allocation ? [{ name: 'allocation', as: seed.chair, path: `/committee/${seed.callId}/allocation`, ready: idle }] : []),
    ...(scene.shipmentId ? [{ name: 'shipment', as: seed.curator, path: `/shipments/${scene.shipmentId}`, ready: idle }] : []),
    { name: 'shipments', as: seed.curator, path: '/shipments', ready: idle },
    { name: 'returns', as: seed.curator, path: '/returns', ready: idle },
    { name: 'incidents', as: seed.curator, path: '/incidents', ready: idle },
    ...(scene.loanApplicationId ? [{ name: 'loan', as: seed.curator, path: `/applications/${scene.loanApplicationId}`, ready: idle }] : []),
    { name: 'import', as: seed.curator, path: '/import', ready: idle },
    { name: 'donors', as: pathology.curator, path: '/donors', ready: idle },
    {
      name: 'donor-register',
      as: pathology.curator,
      path: '/donors',
      ready: idle,
      then: async (page) => {
        await page.locator('.page-actions .button-primary').click();
        await page.locator('#register-donor input').first().fill('CQ-COVID-0009');
        // code, collection date, collection site, diagnoses: one diagnosis is not an ICD-10 code, checked as typed
        await page.locator('#register-donor input').nth(2).fill('Department of Pathology, autopsy service');
        await page.locator('#register-donor input').nth(3).fill('U07.1, pneumonia');
        await page.locator('#register-donor input').nth(3).blur();
      },
    },
    { name: 'donor', as: pathology.curator, path: `/donors/${pathology.donorId}`, ready: idle },
    { name: 'donor-withdrawn', as: pathology.curator, path: `/donors/${pathology.withdrawnDonorId}`, ready: idle },
    { name: 'audit', as: seed.auditor, path: '/audit', ready: idle },
    { name: 'users', as: admin, path: '/users', ready: idle },
    {
      name: 'user-add',
      as: admin,
      path: '/users',
      ready: idle,
      viewportOnly: true,
      then: async (page) => {
        await page.locator('.page-actions .button-primary').click();
        // e-mail, name, institution, initial password; the password is too short, checked as typed
        const dialog = page.locator('dialog');
        await dialog.locator('input').nth(0).fill('he.jing@ustc.example.edu.cn');
        await dialog.locator('input').nth(1).fill('He Jing');
        await dialog.locator('select').selectOption({ index: 3 });
        await dialog.locator('input').nth(2).fill('lunar');
        await dialog.locator('input').nth(2).blur();
        await dialog.locator('input[type=checkbox]').nth(4).check();
      },
    },
    {
      name: 'institution-add',
      as: admin,
      path: '/users',
      ready: idle,
      viewportOnly: true,
      then: async (page) => {
        await page.locator('.page-actions .button:not(.button-primary)').click();
        // code, name, parent body
        const dialog = page.locator('dialog');
        await dialog.locator('input').nth(0).fill('NAOC');
        await dialog.locator('input').nth(1).fill('National Astronomical Observatories');
        await dialog.locator('input').nth(2).fill('Chinese Academy of Sciences');
        await dialog.locator('input').nth(2).blur();
      },
    },
    {
      name: 'user-disable',
      as: admin,
      path: '/users',
      ready: idle,
      viewportOnly: true,
      then: async (page) => {
        await page.locator('tbody tr').filter({ hasText: 'Wang Fang' }).locator('.button-danger').click();
        await page.locator('dialog').waitFor();
      },
    },
    { name: 'not-allowed', as: seed.applicant, path: '/samples', ready: idle },
    { name: 'account', as: seed.curator, path: '/account', ready: idle },
  ];

  const only = process.env.SCREENSHOTS?.split(',').map((name) => name.trim()).filter(Boolean);
  const browser: Browser = await launch();
  try {
    for (const language of ['zh-CN', 'en'] as const) {
      for (const shot of shots.filter((candidate) => !only || only.includes(candidate.name))) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1, locale: language === 'en' ? 'en-US' : 'zh-CN' });
        await context.addInitScript({ content: `localStorage.setItem('samplebank.language', '${language}')` });
        if (shot.as) {
          const response = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: shot.as.email, password: SEED_PASSWORD } });
          if (!response.ok()) throw new Error(`login ${shot.as.email}: ${response.status()}`);
        }
        const page = await context.newPage();
        await page.goto(`${base}${shot.path}`);
        await shot.ready(page);
        await shot.then?.(page);
        const file = `${out}${shot.name}.${language}.png`;
        await page.screenshot({ path: file, fullPage: !shot.viewportOnly });
        console.log(`wrote ${file}`);
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

/**
 * Moves the seeded batch on so the later pages have something to show: a
 * reviewer's assignment, an allocation proposal, and (when the allocation
 * API is there) an executed allocation with one shipment on its way and
 * another received short (an incident), its loan with material on the way back.
 */
async function advance(base: string, seed: Seed): Promise<{ applicationId: string | null; reviewId: string | null; allocation: boolean; shipmentId: string | null; loanApplicationId: string | null }> {
  const as = async <T>(who: SeedUser, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const headers = { ...who.headers, 'idempotency-key': crypto.randomUUID(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const response = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const scene = { applicationId: null as string | null, reviewId: null as string | null, allocation: false, shipmentId: null as string | null, loanApplicationId: null as string | null };
  if (!seed.callId) return scene;
  const mine = await as<{ items: Array<{ id: string; state: string }> }>(seed.applicant, 'GET', '/applications?mine=true');
  await as(seed.chair, 'POST', `/calls/${seed.callId}/assignments/auto`, {});
  // A review the reviewer scored and commented on, when there is one.
  const reviews = (await as<{ items: Array<{ id: string; commentsForApplicant: string | null }> }>(seed.reviewer, 'GET', '/reviews')).body.items;
  scene.reviewId = (reviews.find((review) => review.commentsForApplicant) ?? reviews[0])?.id ?? null;
  const proposed = await as<{ id: string }>(seed.chair, 'POST', `/calls/${seed.callId}/allocations`, { timeLimitSeconds: 10 });
  scene.allocation = proposed.status === 201;
  if (!scene.allocation) console.warn(`no allocation for the later pages: ${proposed.status} ${JSON.stringify(proposed.body).slice(0, 300)}`);
  if (scene.allocation) {
    // The batch is decided once every application is: the one the seed left open is declined.
    const all = await as<{ items: Array<{ id: string; state: string }> }>(seed.chair, 'GET', `/applications?callId=${seed.callId}&limit=100`);
    for (const open of all.body.items.filter((application) => application.state === 'in_review' || application.state === 'submitted')) {
      await as(seed.chair, 'POST', `/applications/${open.id}/decision`, { outcome: 'rejected', rationale: 'Outside the priorities of this batch' });
    }
    for (const [step, response] of [
      ['decide', await as(seed.chair, 'POST', `/calls/${seed.callId}/transitions`, { to: 'decided' })],
      ['approve', await as(seed.chair, 'POST', `/allocations/${proposed.body.id}/approve`)],
      ['execute', await as(seed.chair, 'POST', `/allocations/${proposed.body.id}/execute`)],
    ] as const) {
      if (response.status !== 200) console.warn(`${step}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    }
    const allocated = mine.body.items.find((application) => application.state === 'approved');
    if (allocated) {
      const shipment = await as<{ id: string }>(seed.curator, 'POST', '/shipments', { applicationId: allocated.id });
      if (shipment.status === 201) {
        scene.shipmentId = shipment.body.id;
        await as(seed.curator, 'POST', `/shipments/${shipment.body.id}/pack`);
        await as(seed.curator, 'POST', `/shipments/${shipment.body.id}/dispatch`, { courier: 'China Post EMS', trackingNumber: 'EE123456789CN' });
      }
    }
    await receivedShortAndReturned(as, seed, mine.body.items.filter((application) => application.state === 'approved' && application.id !== allocated?.id), scene);
  }
  scene.applicationId = mine.body.items.find((application) => application.state !== 'draft')?.id ?? null;
  return scene;
}

/**
 * The pathology bank of the demo, smaller: donors with consent and specimens,
 * a call across three universities, one donor who withdrew consent. Built
 * through the services, as `samplebank demo` builds it.
 */
async function pathologyScene(server: Awaited<ReturnType<typeof createTestServer>>, base: string): Promise<{ curator: { email: string }; donorId: string; withdrawnDonorId: string }> {
  const domain = 'showcase.samplebank.test';
  const demo = await buildPathologyDemo(server.context.services, { donors: 8, password: SEED_PASSWORD, domain });
  const curator = { email: `pathology-curator@${domain}` };
  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: curator.email, password: SEED_PASSWORD }) });
  const { token } = (await login.json()) as { token: string };
  const donors = await fetch(`${base}/api/v1/donors?collectionId=${demo.collectionId}&limit=10`, { headers: { authorization: `Bearer ${token}` } });
  const first = ((await donors.json()) as { items: Array<{ id: string; consentWithdrawnAt: string | null }> }).items.find((donor) => !donor.consentWithdrawnAt);
  if (!first) throw new Error('the pathology scene has no donor with consent');
  return { curator, donorId: first.id, withdrawnDonorId: demo.withdrawnDonorId };
}

/**
 * The administrator of the scene, at the space agency's centre, and one
 * account they disabled (a reviewer who left), for the Users page. Runs
 * after everything else is built, so the disabled reviewer did their part.
 */
async function adminScene(server: Awaited<ReturnType<typeof createTestServer>>): Promise<{ email: string }> {
  const identity = server.context.services.identity;
  const home = (await identity.listInstitutions(systemActor)).find((institution) => institution.code === 'CNSA');
  const email = 'liu.yang@showcase.samplebank.test';
  await identity.createUser(systemActor, { email, name: 'Liu Yang', password: SEED_PASSWORD, institutionId: home?.id ?? null, roles: ['admin'] });
  const listed = await identity.listUsers(systemActor, { limit: 10, q: 'Sun Hao' });
  const leaver = listed.items[0];
  if (leaver) await identity.updateUser(systemActor, leaver.id, { disabled: true });
  return { email };
}

type As = <T>(who: SeedUser, method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

/** A second approved application: shipped, received with one piece short (an incident), and part of it sent back (a return on its way). */
async function receivedShortAndReturned(as: As, seed: Seed, candidates: Array<{ id: string }>, scene: { loanApplicationId: string | null }): Promise<void> {
  const application = candidates[0];
  if (!application) return;
  const shipment = await as<{ id: string }>(seed.curator, 'POST', '/shipments', { applicationId: application.id });
  if (shipment.status !== 201) return;
  await as(seed.curator, 'POST', `/shipments/${shipment.body.id}/pack`);
  const sent = await as<{ items: Array<{ sampleId: string; quantity: string }> }>(seed.curator, 'POST', `/shipments/${shipment.body.id}/dispatch`, { courier: 'SF Express', trackingNumber: 'SF1402339876' });
  const [first, ...rest] = sent.body.items;
  if (!first) return;
  const units = BigInt(first.quantity.replace('.', '')) - 25n;
  const digits = units.toString().padStart(5, '0');
  const short = `${digits.slice(0, -4)}.${digits.slice(-4)}`;
  await as(seed.applicant, 'POST', `/shipments/${shipment.body.id}/receipt`, {
    items: [{ sampleId: first.sampleId, quantity: short, condition: 'intact', note: 'vial lighter than labelled' }, ...rest.map((item) => ({ sampleId: item.sampleId, quantity: item.quantity, condition: 'intact' }))],
  });
  const loans = await as<{ items: Array<{ id: string; samples: Array<{ sampleId: string; held: string }> }> }>(seed.applicant, 'GET', `/loans?applicationId=${application.id}`);
  const loan = loans.body.items[0];
  if (!loan) return;
  scene.loanApplicationId = application.id;
  await as(seed.applicant, 'POST', `/loans/${loan.id}/reports`, { summary: 'Pb-Pb ages of about 2.0 Ga for the basalt clasts.' });
  const held = loan.samples.find((sample) => sample.held !== '0.0000');
  if (held) await as(seed.applicant, 'POST', `/loans/${loan.id}/returns`, { items: [{ sampleId: held.sampleId, quantity: '0.1000', note: 'unused chips' }] });
}

await main();
