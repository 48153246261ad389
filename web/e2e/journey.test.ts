/**
 * The release journey through the pages alone, each person in their own
 * browser: an applicant drafts, attaches and submits; the chair closes the
 * batch, assigns reviewers and starts the review; two reviewers score (blind,
 * with autosave); the chair reads the ranking and decides, then proposes,
 * approves and executes the allocation; the curator prepares, packs and
 * dispatches the shipment; the applicant reads the decision letter, confirms
 * receipt and files a result report. The API is used only to set the scene (the
 * batch and its material) and to check what the pages did.
 * axe-core runs on every page on the way.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createAccount, createCollection, launch, openPage, seriousViolations, signInWithKeyboard, startApp, tinyPdf, type Account, type RunningApp } from './harness.js';

let app: RunningApp;
let browser: Browser;
let chair: Account;
let curator: Account;
let applicant: Account;
let reviewers: Account[];
let callId: string;
const title = 'Crystallisation ages of mare basalt fragments';
const callTitle = 'First release of lunar samples';
const hours = (n: number): string => new Date(Date.now() + n * 3600_000).toISOString();

async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

beforeAll(async () => {
  app = await startApp();
  browser = await launch();
  chair = await createAccount(app, ['chair'], 'Chair Li');
  curator = await createAccount(app, ['curator'], 'Curator Chen');
  applicant = await createAccount(app, ['applicant'], 'Applicant Wu');
  reviewers = [await createAccount(app, ['reviewer'], 'Reviewer Wang'), await createAccount(app, ['reviewer'], 'Reviewer Sun')];
  const { collectionId, sampleIds } = await createCollection(app, curator, [['scooped', '17.4764'], ['drilled', '3.0000']]);
  const created = await call<{ id: string }>(app, chair, 'POST', '/calls', {
    collectionId,
    title: callTitle,
    opensAt: hours(-1),
    closesAt: hours(24),
    reviewDeadline: hours(24 * 14),
    blind: true,
    reviewersPerApplication: 2,
    researchDirections: ['age of lunar volcanism', 'evolution of the Moon'],
    rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 3 }, { key: 'feasibility', name: 'Feasibility', weight: 1 }] },
    panel: reviewers.map((reviewer) => reviewer.id),
  });
  expect(created.status).toBe(201);
  callId = created.body.id;
  expect((await call(app, curator, 'PUT', `/calls/${callId}/pool`, { sampleIds })).status).toBe(200);
  expect((await call(app, chair, 'POST', `/calls/${callId}/transitions`, { to: 'open' })).status).toBe(200);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the release journey in the browser', () => {
  let applicationId: string;

  it('the applicant drafts with live checks, attaches a PDF and submits', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, applicant);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Release batches' }).click();
    await page.getByRole('heading', { name: callTitle }).waitFor();
    await expectAccessible(page, 'calls');
    await page.getByRole('link', { name: `Apply: ${callTitle}` }).click();
    await page.getByRole('heading', { name: 'New application' }).waitFor();

    // Checked as the applicant types, before anything is sent.
    await page.getByLabel('Title').fill(title);
    const quantity = page.getByLabel('Quantity (g)');
    await page.getByLabel('Kind').selectOption('scooped');
    await quantity.fill('1.00001');
    await page.getByText('At most 4 decimals for this collection').waitFor();
    await expect(quantity.getAttribute('aria-invalid')).resolves.toBe('true');
    await quantity.fill('20');
    await page.getByText(/This batch offers at most \d+\.\d{4} g/).waitFor();
    await quantity.fill('1.5000');
    await page.getByLabel(/Minimum useful/).fill('2');
    await page.getByText('Must not exceed the quantity requested').waitFor();
    await page.getByLabel(/Minimum useful/).fill('0.5000');
    await expectAccessible(page, 'application form with errors cleared');

    // Submitting an incomplete application says what is missing, next to each field.
    await page.getByRole('button', { name: 'Submit application' }).click();
    await page.getByText('Describe the methods').waitFor();
    await page.getByText('Choose a research direction or describe one').waitFor();
    await page.getByLabel('Research direction').selectOption('age of lunar volcanism');
    await page.getByLabel('Methods').fill('SIMS Pb-Pb dating of baddeleyite; electron microprobe');
    await page.getByLabel('Scientific justification').fill('Young mare basalts constrain how long the Moon stayed volcanically active.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('heading', { name: title }).waitFor();
    applicationId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByText('No files yet').waitFor();
    await expectAccessible(page, 'draft application');

    await page.getByLabel('Attach a PDF').setInputFiles({ name: 'cv-wu.pdf', mimeType: 'application/pdf', buffer: tinyPdf });
    await page.getByRole('link', { name: 'cv-wu.pdf' }).waitFor();
    await page.getByRole('button', { name: 'Submit application' }).click();
    await page.getByText('Application submitted').waitFor();
    await expect(page.locator('.badge').first().textContent()).resolves.toBe('submitted');

    const stored = await call<{ state: string; items: Array<{ quantity: string; minimum: string }>; attachments: unknown[] }>(app, applicant, 'GET', `/applications/${applicationId}`);
    expect(stored.body.state).toBe('submitted');
    expect(stored.body.items).toEqual([expect.objectContaining({ quantity: '1.5000', minimum: '0.5000' })]);
    expect(stored.body.attachments).toHaveLength(1);
    await page.context().close();
  });

  it('the chair closes the batch, assigns the two reviewers and starts the review', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, chair);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Committee' }).click();
    await page.getByRole('link', { name: callTitle }).click();
    await page.getByRole('heading', { name: callTitle }).waitFor();
    await page.getByRole('link', { name: title }).waitFor();
    await expectAccessible(page, 'committee call');
    await page.getByRole('button', { name: 'Close applications' }).click();
    await page.getByText('The batch is now closed').waitFor();
    await page.getByRole('button', { name: 'Assign reviewers' }).click();
    await page.getByText('Reviewers assigned').waitFor();
    await page.getByRole('button', { name: 'Start the review' }).click();
    await page.getByText('The batch is now in review').waitFor();
    await page.getByRole('cell', { name: 'no scores yet' }).waitFor();
    await page.context().close();
  });

  it('two reviewers score blind; a draft survives a reload', async () => {
    for (const [index, reviewer] of reviewers.entries()) {
      const page = await openPage(browser);
      await signInWithKeyboard(page, app.baseUrl, reviewer);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reviews' }).click();
      await page.getByRole('link', { name: title }).click();
      await page.getByRole('heading', { name: `Review: ${title}` }).waitFor();
      await page.getByText('the applicant and institution are hidden').waitFor();
      await expect(page.locator('main').textContent()).resolves.not.toContain(applicant.name);
      await expectAccessible(page, 'review workspace');

      const merit = page.getByRole('radiogroup', { name: 'Scientific merit' });
      await merit.getByRole('radio', { name: String(5 - index) }).check();
      if (index === 0) {
        // Autosaved on this device; still there after a reload.
        await page.getByText(/Draft saved on this device/).waitFor();
        await page.reload();
        await page.getByRole('heading', { name: `Review: ${title}` }).waitFor();
        await expect(page.getByRole('radiogroup', { name: 'Scientific merit' }).getByRole('radio', { name: '5' }).isChecked()).resolves.toBe(true);
      }
      await page.getByRole('button', { name: 'Submit review' }).click();
      await page.getByText('Score every criterion before submitting.').waitFor();
      const feasibility = page.getByRole('radiogroup', { name: 'Feasibility' });
      await feasibility.getByRole('radio', { name: '4' }).focus();
      await page.keyboard.press('Space');
      await page.getByLabel('Comments for the applicant').fill(index === 0 ? 'A clear, feasible plan.' : 'Sound methods.');
      await page.getByRole('button', { name: 'Submit review' }).click();
      await page.getByText('Review submitted').waitFor();
      await page.context().close();
    }
  });

  it('the chair sees the ranking with its spread and approves', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, chair);
    await page.goto(`${app.baseUrl}/committee/${callId}`);
    const row = page.getByRole('row', { name: new RegExp(title) });
    await row.getByText(/^4–4\.75, s\.d\. /).waitFor();
    await expect(row.getByRole('cell').nth(1).textContent()).resolves.toBe('2');
    await row.getByRole('button', { name: `Decide: ${title}` }).click();
    const dialog = page.getByRole('dialog', { name: `Decision: ${title}` });
    await dialog.getByRole('button', { name: 'Record the decision' }).click();
    await dialog.getByText('Give the rationale for the decision').waitFor();
    await dialog.getByLabel('Rationale').fill('Strong and feasible; fits the priorities of the batch.');
    await expectAccessible(page, 'decision dialog');
    await dialog.getByRole('button', { name: 'Record the decision' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('approved').waitFor();
    await page.context().close();
  });

  it('the chair finishes deciding, proposes the allocation, reads why, approves and executes it', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, chair);
    await page.goto(`${app.baseUrl}/committee/${callId}`);
    await page.getByRole('button', { name: 'Finish deciding' }).click();
    await page.getByText('The batch is now decided').waitFor();
    await page.getByRole('link', { name: 'Allocation' }).click();
    await page.getByRole('heading', { name: 'Allocation', exact: true }).waitFor();
    await page.getByText(/No allocation yet/).waitFor();
    await expectAccessible(page, 'allocation, empty');
    await page.getByRole('button', { name: 'Propose an allocation' }).click();
    await page.getByText('Allocation proposed').waitFor();
    const row = page.getByRole('row', { name: new RegExp(title) });
    await row.getByText('in full').waitFor();
    await expect(row.textContent()).resolves.toContain('1.5000\u00a0g');
    await expect(row.locator('.explanation').textContent()).resolves.not.toBe('');
    await expectAccessible(page, 'allocation proposal');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Allocation approved').waitFor();
    await page.getByRole('button', { name: 'Execute: split and reserve' }).click();
    await page.getByText('Allocation executed: subsamples reserved').waitFor();
    const application = await call<{ state: string }>(app, applicant, 'GET', `/applications/${applicationId}`);
    expect(application.body.state).toBe('allocated');
    await page.context().close();
  });

  it('the curator prepares, packs and dispatches the shipment', async () => {
    // The previous step left the application allocated; without that this journey cannot go on.
    expect((await call<{ state: string }>(app, applicant, 'GET', `/applications/${applicationId}`)).body.state).toBe('allocated');
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Shipments' }).click();
    await page.getByRole('heading', { name: 'Shipments', exact: true }).waitFor();
    await expectAccessible(page, 'shipments');
    await expect(page.getByLabel('Ship the reserved material of').locator('option:checked').textContent()).resolves.toContain(title);
    await page.getByRole('button', { name: 'Prepare shipment' }).click();
    await page.getByRole('heading', { name: /^Shipment / }).waitFor();
    await expect(page.locator('tfoot').textContent()).resolves.toContain('1.5000\u00a0g');
    await page.getByRole('button', { name: 'Record as packed' }).click();
    await page.getByText('Shipment packed').waitFor();
    await page.getByLabel('Courier').fill('China Post EMS');
    await page.getByLabel('Tracking number').fill('EE123456789CN');
    await page.getByRole('button', { name: 'Record dispatch' }).click();
    await page.getByText(/Shipment dispatched/).waitFor();
    await page.getByRole('list').getByText('dispatched').waitFor();
    await expectAccessible(page, 'shipment');
    await page.context().close();
  });

  it('the applicant reads the decision letter (in Chinese too), confirms receipt and files a report', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, applicant);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My applications' }).click();
    await page.getByRole('link', { name: title }).click();
    await page.getByRole('heading', { name: 'Decision letter' }).waitFor();
    await page.getByText(/has been approved/).waitFor();
    await expect(page.getByRole('row', { name: /scooped/ }).textContent()).resolves.toContain('1.5000\u00a0g');
    await expectAccessible(page, 'application with decision');
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '决定通知书' }).waitFor();
    await expect(page.getByRole('row', { name: /scooped/ }).textContent()).resolves.toContain('1.5000\u00a0克');
    await expectAccessible(page, 'application with decision in zh-CN');
    await page.getByRole('button', { name: 'English' }).click();
    if ((await call<{ state: string }>(app, applicant, 'GET', `/applications/${applicationId}`)).body.state !== 'shipped') return;
    await page.getByRole('heading', { name: /^Confirm receipt of / }).waitFor();
    await page.getByRole('button', { name: 'Confirm receipt' }).click();
    await page.getByText('Receipt confirmed').waitFor();
    await page.getByRole('heading', { name: /^Loan/ }).waitFor();
    await expect(page.locator('.badge').first().textContent()).resolves.toBe('received');
    await page.getByLabel('Summary of results').fill('Pb-Pb ages of 2.0 Ga for the basalt clasts.');
    await page.getByRole('button', { name: 'File report' }).click();
    await page.getByText('Report filed').waitFor();
    await expectAccessible(page, 'application with its loan');
    await page.context().close();
  });
});
