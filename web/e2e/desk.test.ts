/**
 * The public pages and the curator's desk in Chromium: a signed-out visitor
 * reads a batch's statistics (charts and exact figures); the curator records
 * the receipt of returned material and resolves a receipt incident; label
 * sheets come back as PDFs; the curator moves a loan's due date and is told
 * why it cannot close yet. The API only sets the scene. axe-core runs on every
 * page; the new controls are reached and used with the keyboard.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createAccount, createCollection, launch, openPage, seriousViolations, signInWithKeyboard, startApp, type Account, type RunningApp } from './harness.js';

let app: RunningApp;
let browser: Browser;
let chair: Account;
let curator: Account;
let alice: Account;
let bob: Account;
let callId: string;
let sampleIds: string[];
let stats: { distributed: { quantity: string }; byInstitution: Array<{ name: string; distributed: string }> };
let loanId: string;
let aliceApplication: string;
const callTitle = 'First release of lunar samples';
const hours = (n: number): string => new Date(Date.now() + n * 3600_000).toISOString();

async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

async function ok<T>(promise: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const response = await promise;
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Presses Tab until the focused element's text or label matches; fails after 60 presses. */
async function tabTo(page: Page, name: RegExp): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return `${el?.getAttribute('aria-label') ?? ''} ${el?.textContent ?? ''}`.trim();
    });
    if (name.test(label)) return;
  }
  throw new Error(`no focusable element matching ${name} within 60 tabs`);
}

beforeAll(async () => {
  app = await startApp();
  browser = await launch();
  chair = await createAccount(app, ['chair'], 'Chair Li');
  curator = await createAccount(app, ['curator'], 'Curator Chen');
  alice = await createAccount(app, ['applicant'], 'Applicant Wu');
  bob = await createAccount(app, ['applicant'], 'Applicant Zhao');
  ({ sampleIds } = await createCollection(app, curator, [['scooped', '60.0000'], ['drilled', '20.0000']]));
  const collectionId = (await ok(call<{ collectionId: string }>(app, curator, 'GET', `/samples/${sampleIds[0]}`))).collectionId;
  callId = (
    await ok(
      call<{ id: string }>(app, chair, 'POST', '/calls', {
        collectionId,
        title: callTitle,
        opensAt: hours(-1),
        closesAt: hours(24),
        reviewDeadline: hours(24 * 14),
        blind: true,
        reviewersPerApplication: 1,
        researchDirections: ['age of lunar volcanism', 'evolution of the Moon'],
        rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 1 }] },
      }),
      201,
    )
  ).id;
  await ok(call(app, curator, 'PUT', `/calls/${callId}/pool`, { sampleIds }));
  await ok(call(app, chair, 'POST', `/calls/${callId}/transitions`, { to: 'open' }));
  const apply = async (who: Account, direction: string, items: Array<{ kind: string; quantity: string; minimum: string }>) => {
    const created = await ok(
      call<{ id: string }>(app, who, 'POST', '/applications', {
        callId,
        title: `Basalt study ${direction}`,
        researchDirection: direction,
        methods: 'SIMS Pb-Pb dating',
        destructive: true,
        justification: 'Young basalts constrain late lunar volcanism.',
        items,
        team: [],
        publications: [],
      }),
      201,
    );
    await ok(call(app, who, 'POST', `/applications/${created.id}/submit`));
    return created.id;
  };
  aliceApplication = await apply(alice, 'age of lunar volcanism', [{ kind: 'scooped', quantity: '3.2500', minimum: '1.0000' }]);
  const bobApplication = await apply(bob, 'evolution of the Moon', [{ kind: 'scooped', quantity: '2.1234', minimum: '1.0000' }, { kind: 'drilled', quantity: '1.0001', minimum: '0.5000' }]);
  await ok(call(app, chair, 'POST', `/calls/${callId}/transitions`, { to: 'closed' }));
  await ok(call(app, chair, 'POST', `/calls/${callId}/transitions`, { to: 'in_review' }));
  for (const id of [aliceApplication, bobApplication]) await ok(call(app, chair, 'POST', `/applications/${id}/decision`, { outcome: 'approved', rationale: 'Strong case' }));
  await ok(call(app, chair, 'POST', `/calls/${callId}/transitions`, { to: 'decided' }));
  const allocation = await ok(call<{ id: string }>(app, chair, 'POST', `/calls/${callId}/allocations`, { timeLimitSeconds: 10 }), 201);
  await ok(call(app, chair, 'POST', `/allocations/${allocation.id}/approve`));
  await ok(call(app, curator, 'POST', `/allocations/${allocation.id}/execute`));
  stats = await ok(call<typeof stats>(app, curator, 'GET', `/calls/${callId}/statistics`));

  // Alice's material is shipped; she finds less of one piece than shipped (an incident), then sends some back.
  const shipment = await ok(call<{ id: string }>(app, curator, 'POST', '/shipments', { applicationId: aliceApplication }), 201);
  await ok(call(app, curator, 'POST', `/shipments/${shipment.id}/pack`));
  const sent = await ok(call<{ items: Array<{ sampleId: string; quantity: string }> }>(app, curator, 'POST', `/shipments/${shipment.id}/dispatch`, { courier: 'China Post EMS', trackingNumber: 'EE123456789CN' }));
  const [first, ...rest] = sent.items;
  const short = (BigInt(first!.quantity.replace('.', '')) - 100n).toString().padStart(5, '0');
  await ok(
    call(app, alice, 'POST', `/shipments/${shipment.id}/receipt`, {
      items: [{ sampleId: first!.sampleId, quantity: `${short.slice(0, -4)}.${short.slice(-4)}`, condition: 'intact', note: 'vial lighter than labelled' }, ...rest.map((item) => ({ sampleId: item.sampleId, quantity: item.quantity, condition: 'intact' }))],
    }),
  );
  const loans = await ok(call<{ items: Array<{ id: string; samples: Array<{ sampleId: string; held: string }> }> }>(app, alice, 'GET', `/loans?applicationId=${aliceApplication}`));
  loanId = loans.items[0]!.id;
  await ok(call(app, alice, 'POST', `/loans/${loanId}/returns`, { items: [{ sampleId: loans.items[0]!.samples[0]!.sampleId, quantity: '0.5000', note: 'unused chips' }] }), 201);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('public pages and the curator desk in the browser', () => {
  it('a signed-out visitor reads the statistics: charts, and exact figures that add up', async () => {
    expect(BigInt(stats.distributed.quantity.replace('.', ''))).toBe(stats.byInstitution.reduce((sum, row) => sum + BigInt(row.distributed.replace('.', '')), 0n));
    const page = await openPage(browser);
    await page.goto(`${app.baseUrl}/`);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    // Signed out: the public pages are in the navigation, and a sign-in link.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual(['Catalog', 'Statistics']);
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await page.getByRole('heading', { name: 'On offer in release batches' }).waitFor();
    await expectAccessible(page, 'public catalog');

    // From the catalog to the batch's statistics, with the keyboard.
    await tabTo(page, new RegExp(`Statistics of this batch: ${callTitle}`));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Statistics' }).waitFor();
    const kpis = page.getByTestId('kpis');
    await kpis.getByText(stats.distributed.quantity).waitFor();
    await expect(kpis.textContent()).resolves.toMatch(/Applications\s*2/);
    // The charts are drawn (SVG) and described; the distributed figures per institution are exact strings.
    await page.getByRole('img', { name: 'Applications and approvals by institution' }).locator('svg').waitFor();
    await page.getByRole('img', { name: 'Material distributed by institution' }).locator('svg').waitFor();
    const table = page.getByRole('table', { name: 'Material distributed by institution' });
    for (const row of stats.byInstitution) await expect(table.getByRole('row', { name: new RegExp(row.name) }).textContent()).resolves.toContain(row.distributed);
    await expectAccessible(page, 'public statistics');
    await page.context().close();
  });

  it('the curator records the receipt of returned material, from the returns desk', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Returns' }).click();
    await page.getByRole('heading', { name: 'Returns' }).waitFor();
    await page.getByRole('cell', { name: /0\.5000/ }).first().waitFor();
    await expectAccessible(page, 'returns desk');
    await tabTo(page, /^Record receipt of /);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Quantity found (g)').waitFor();
    await expect(page.evaluate(() => document.activeElement?.getAttribute('inputmode'))).resolves.toBe('decimal');
    await expectAccessible(page, 'receipt dialog');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0.4990');
    await dialog.getByLabel('Note (optional)').fill('weighed on arrival');
    await dialog.getByRole('button', { name: 'Record receipt' }).press('Enter');
    await page.getByText(/^Receipt of .* recorded$/).waitFor();
    await page.getByText('No returned material is on its way back.').waitFor();
    await page.getByRole('button', { name: 'Received' }).click();
    await page.getByText('weighed on arrival').waitFor();
    await expectAccessible(page, 'received returns');
    const received = await ok(call<{ items: Array<{ loanId: string; receivedQuantity: string }> }>(app, curator, 'GET', '/loans/returns?state=received'));
    expect(received.items).toEqual([expect.objectContaining({ loanId, receivedQuantity: '0.4990' })]);
    await page.context().close();
  });

  it('the curator resolves the receipt incident', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.goto(`${app.baseUrl}/incidents`);
    await page.getByRole('heading', { name: 'Incidents' }).waitFor();
    await page.getByText('vial lighter than labelled').waitFor();
    await expectAccessible(page, 'incidents');
    await tabTo(page, /^Resolve the incident on /);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Adjust the sample to what was found').check();
    await dialog.getByLabel('What was decided, and why').fill('Weighed again: 0.0100 g short; the ledger follows what was found.');
    await expectAccessible(page, 'resolve dialog');
    await dialog.getByRole('button', { name: 'Resolve incident' }).click();
    await page.getByText(/^Incident on .* resolved$/).waitFor();
    await page.getByText('No open incident. Differences found on receipt appear here.').waitFor();
    await page.getByRole('button', { name: 'Resolved' }).click();
    await page.getByText('Adjust the sample to what was found', { exact: true }).waitFor();
    const resolved = await ok(call<{ items: Array<{ state: string; action: string }> }>(app, curator, 'GET', '/incidents?state=resolved'));
    expect(resolved.items).toEqual([expect.objectContaining({ state: 'resolved', action: 'adjust' })]);
    await page.context().close();
  });

  it('prints labels as a PDF, for one sample and for a selection', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.goto(`${app.baseUrl}/samples/${sampleIds[1]}`);
    const one = page.getByRole('link', { name: 'Print label' });
    await one.waitFor();
    await expectAccessible(page, 'sample page');
    const single = await page.context().request.get(new URL((await one.getAttribute('href'))!, app.baseUrl).toString());
    expect(single.status()).toBe(200);
    expect(single.headers()['content-type']).toBe('application/pdf');
    expect((await single.body()).subarray(0, 5).toString()).toBe('%PDF-');

    await page.goto(`${app.baseUrl}/samples`);
    const boxes = page.getByRole('checkbox', { name: /^Select (?!every).* for labels$/ });
    await boxes.first().waitFor();
    await boxes.nth(0).focus();
    await page.keyboard.press('Space');
    await boxes.nth(1).check();
    const several = page.getByRole('link', { name: 'Print labels (2)' });
    await several.waitFor();
    await expectAccessible(page, 'samples with a selection');
    const sheet = await page.context().request.get(new URL((await several.getAttribute('href'))!, app.baseUrl).toString());
    expect(sheet.status()).toBe(200);
    expect(sheet.headers()['content-type']).toBe('application/pdf');
    expect(sheet.headers()['content-disposition']).toContain('labels-2.pdf');
    await page.context().close();
  });

  it('the curator moves the loan’s due date and is told why it cannot close yet; the recipient can return material', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.goto(`${app.baseUrl}/applications/${aliceApplication}`);
    await page.getByRole('heading', { name: 'Manage the loan' }).waitFor();
    await expectAccessible(page, 'loan management');
    await page.getByLabel('Material due back').fill('2031-06-30');
    await page.getByRole('button', { name: 'Change due dates' }).click();
    await page.getByText('Due dates changed').waitFor();
    const loan = await ok(call<{ dueAt: string }>(app, curator, 'GET', `/loans/${loanId}`));
    expect(loan.dueAt.slice(0, 10)).toBe('2031-06-30');
    await page.getByRole('button', { name: 'Close the loan' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'The loan cannot close yet:' });
    await refusal.waitFor();
    await expect(refusal.textContent()).resolves.toContain('No result report has been filed.');
    await page.context().close();

    // The recipient's loan panel offers the return form.
    const own = await openPage(browser);
    await signInWithKeyboard(own, app.baseUrl, alice);
    await own.goto(`${app.baseUrl}/applications/${aliceApplication}`);
    await own.getByRole('form', { name: 'Return material' }).waitFor();
    await own.context().close();
  });
});
