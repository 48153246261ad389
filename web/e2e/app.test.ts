/**
 * The web app in a real browser against the real server: sign-in, language,
 * access by role, account tokens, and the curator's sample search, sample page
 * and split. axe-core runs on every page: no serious or critical violations.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { call, createAccount, createCollection, launch, seriousViolations, signInWithKeyboard, startApp, type Account, type RunningApp } from './harness.js';

let app: RunningApp;
let browser: Browser;
let curator: Account;
let applicant: Account;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  app = await startApp();
  browser = await launch();
  curator = await createAccount(app, ['curator'], 'Curator Lin');
  applicant = await createAccount(app, ['applicant'], 'Applicant Wu');
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});
beforeEach(async () => {
  context = await browser.newContext({ locale: 'en-US' });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
});
afterEach(async () => context?.close());

async function expectAccessible(where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

/** Presses Tab until the focused element's text or label matches; fails after 40 presses. */
async function tabTo(name: RegExp): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return `${el?.getAttribute('aria-label') ?? ''} ${el?.textContent ?? ''}`.trim();
    });
    if (name.test(label)) return;
  }
  throw new Error(`no focusable element matching ${name} within 40 tabs`);
}

describe('web app in Chromium', () => {
  it('signs in with the keyboard and shows the catalog; the sign-in page is accessible', async () => {
    await page.goto(`${app.baseUrl}/sign-in`);
    await page.getByRole('heading', { name: 'Sign in to SampleBank' }).waitFor();
    await expectAccessible('sign-in');
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Samples' }).waitFor();
    await expectAccessible('catalog');
  });

  it('refuses a wrong password with the server message and stays on the form', async () => {
    await page.goto(`${app.baseUrl}/sign-in`);
    await page.getByLabel('E-mail').fill(curator.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).last().click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Sign-in failed');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  });

  it('switches to Chinese and remembers it after a reload', async () => {
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '样品目录' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await page.reload();
    await page.getByRole('heading', { name: '样品目录' }).waitFor();
    await expect(page.getByRole('navigation', { name: '主导航' }).getByRole('link', { name: '存储位置' }).count()).resolves.toBe(1);
    await expectAccessible('catalog in zh-CN');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  });

  it('keeps an applicant out of the curator console: hidden in the nav, "not allowed" at the URL', async () => {
    await signInWithKeyboard(page, app.baseUrl, applicant);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'My applications' }).waitFor();
    for (const name of ['Samples', 'Storage', 'Import', 'Shipments', 'Loans', 'Committee', 'Audit']) await expect(nav.getByRole('link', { name }).count()).resolves.toBe(0);
    for (const path of ['/samples', '/storage', '/import', '/shipments', '/loans', '/samples/0f6c1a4e-1111-4222-8333-944445555666']) {
      await page.goto(`${app.baseUrl}${path}`);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      await expect(page.locator('main').textContent()).resolves.toContain('curator');
    }
    await expectAccessible('not allowed');
    // The server refuses too, whatever the page shows.
    expect((await call(app, applicant, 'GET', '/samples')).status).toBeGreaterThanOrEqual(403);
  });

  it('asks to sign in on a console page when signed out, and goes there after', async () => {
    await page.goto(`${app.baseUrl}/samples`);
    await page.getByRole('heading', { name: 'Sign in to SampleBank' }).waitFor();
    await page.getByLabel('E-mail').fill(curator.email);
    await page.getByLabel('Password').fill('correct-horse-battery');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Samples', exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/samples');
  });

  it('creates an API token shown once, lists it and revokes it', async () => {
    await signInWithKeyboard(page, app.baseUrl, applicant);
    await page.getByRole('button', { name: /account menu/i }).click();
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText('No API tokens yet').waitFor();
    await expectAccessible('account');
    await page.getByLabel('Token name').fill('analysis script');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').textContent()) ?? '';
    expect(token.length).toBeGreaterThan(20);
    const works = await fetch(`${app.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(works.status).toBe(200);
    await page.getByRole('rowheader', { name: 'analysis script' }).waitFor();
    // Left empty, the days field gives the server's default, 90 days: shown with the new token and in the list (created, expires).
    const expires = await page.locator('.secret time').getAttribute('datetime');
    expect(Math.round((new Date(expires!).getTime() - Date.now()) / 86_400_000)).toBe(90);
    expect(await page.getByRole('row', { name: /analysis script/ }).locator('time').count()).toBe(2);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke: analysis script' }).click();
    await page.getByText('No API tokens yet').waitFor();
    const revoked = await fetch(`${app.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(401);
  });

  it('shows field errors from the server next to the field (password change)', async () => {
    await signInWithKeyboard(page, app.baseUrl, applicant);
    await page.goto(`${app.baseUrl}/account`);
    await page.getByLabel('Current password').fill('correct-horse-battery');
    await page.getByLabel('New password').fill('short');
    await page.getByRole('button', { name: 'Change password' }).click();
    const input = page.getByLabel('New password');
    await expect(input.getAttribute('aria-invalid')).resolves.toBe('true');
    const described = (await input.getAttribute('aria-describedby')) ?? '';
    const error = await page.locator(`[id="${described.split(' ').pop()}"]`).textContent();
    expect(error).toMatch(/8/);
  });

  it('the auditor filters the audit trail and verifies the chain', async () => {
    const auditor = await createAccount(app, ['auditor'], 'Auditor Zhao');
    await signInWithKeyboard(page, app.baseUrl, auditor);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    await page.locator('tbody tr').first().waitFor();
    await expectAccessible('audit trail');
    await page.getByLabel('Action').fill('user.create');
    await page.keyboard.press('Enter');
    await page.waitForURL(/action=user\.create/);
    await page.getByRole('rowheader', { name: 'institution.create' }).first().waitFor({ state: 'detached' });
    await page.getByRole('rowheader', { name: 'user.create' }).first().waitFor();
    const actions = await page.getByRole('rowheader').allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['user.create']));
    await page.getByRole('button', { name: 'Verify the audit trail' }).click();
    await page.getByText(/The audit trail is intact: [\d,]+ events verified/).waitFor();
    await expectAccessible('audit verified');
  });

  it('imports samples from a CSV: row errors first, then the import with its progress', async () => {
    await createCollection(app, curator, [['scooped', '1.0000']]);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
    await page.getByRole('heading', { name: 'Import' }).waitFor();
    await expectAccessible('import');
    const bad = 'identifier,kind,quantity\nIMP0001,scooped,1.2500\nIMP0002,scooped,0.123456\nIMP0003,scooped,abc\n';
    await page.getByLabel('File (CSV or XLSX)').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.getByRole('button', { name: 'Check the file' }).click();
    await page.getByRole('heading', { name: /2 rows have errors; nothing was imported/ }).waitFor();
    const rows = await page.getByRole('rowheader').allTextContents();
    expect(rows).toEqual(['2', '3']); // the server numbers data rows from 1
    await expectAccessible('import with row errors');
    const good = 'identifier,kind,quantity\nIMP0001,scooped,1.2500\nIMP0002,scooped,0.1234\n';
    await page.getByLabel('File (CSV or XLSX)').setInputFiles({ name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.getByLabel(/Check only/).uncheck();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('heading', { name: '2 samples imported' }).waitFor();
    await expect(page.getByRole('status').filter({ hasText: 'Total quantity' }).textContent()).resolves.toContain('1.3734\u00a0g');
    const imported = await call<{ items: Array<{ identifier: string; quantity: string }> }>(app, curator, 'GET', '/samples?q=IMP');
    expect(imported.body.items.map((sample) => [sample.identifier, sample.quantity])).toEqual([['IMP0001', '1.2500'], ['IMP0002', '0.1234']]);
  });

  it('statistics page renders an accessible state without data', async () => {
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.goto(`${app.baseUrl}/statistics`);
    await page.getByRole('heading', { name: 'Statistics' }).waitFor();
    await page.locator('.state, .kpis').first().waitFor();
    await expectAccessible('statistics');
  });

  it('searches samples, opens one and splits it through the dialog with the keyboard', async () => {
    const collection = await call<{ id: string }>(app, curator, 'POST', '/collections', {
      code: 'CE5C',
      name: "Chang'e-5 returned samples",
      unit: 'g',
      scale: 4,
      humanConsent: false,
      kinds: ['scooped', 'drilled'],
    });
    expect(collection.status).toBe(201);
    const parent = await call<{ id: string }>(app, curator, 'POST', '/samples', { collectionId: collection.body.id, kind: 'scooped', quantity: '17.4764', identifier: 'CE5C0400' });
    expect(parent.status).toBe(201);
    for (const n of [1, 2, 3]) {
      expect((await call(app, curator, 'POST', '/samples', { collectionId: collection.body.id, kind: 'drilled', quantity: '1.0000', identifier: `CE5Z080${n}` })).status).toBe(201);
    }

    await signInWithKeyboard(page, app.baseUrl, curator);
    await tabTo(/^Samples$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Samples', exact: true }).waitFor();
    await page.getByRole('link', { name: 'CE5Z0801' }).waitFor();
    await expectAccessible('samples');

    await page.getByLabel('Identifier starts with').fill('CE5C04');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=CE5C04/);
    await page.getByRole('link', { name: 'CE5Z0801' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'CE5C0400' }).waitFor();
    await page.getByRole('link', { name: 'CE5C0400' }).focus();
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Sample CE5C0400' }).waitFor();
    await expect(page.getByTestId('sample-quantity').textContent()).resolves.toBe('17.4764\u00a0g');
    await page.getByText('created').first().waitFor();
    await expectAccessible('sample page');

    await tabTo(/^Split/);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Split CE5C0400' });
    await dialog.waitFor();
    // Focus starts in the first quantity field.
    await page.keyboard.type('5.00001');
    await dialog.getByText('At most 4 decimals for this collection').waitFor();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('20');
    await dialog.getByText(/Only 17\.4764 g is available/).waitFor();
    await expect(page.getByTestId('split-remainder').textContent()).resolves.toContain('-2.5236');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('5');
    await dialog.getByRole('button', { name: /Add subsample/ }).click();
    await dialog.getByLabel('Quantity (g)').nth(1).fill('2.4764');
    await dialog.getByLabel(/Loss in cutting/).fill('0.0001');
    await expect(page.getByTestId('split-remainder').textContent()).resolves.toContain('9.9999\u00a0g');
    await expectAccessible('split dialog');
    await dialog.getByLabel('Reason').fill('First release batch');
    await dialog.getByLabel('Reason').press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('Split into 2 subsamples').waitFor();
    await expect(page.getByTestId('sample-quantity').textContent()).resolves.toBe('9.9999\u00a0g');
    await page.getByRole('tree').getByText('5.0000\u00a0g').waitFor();

    const after = await call<{ quantity: string; available: string }>(app, curator, 'GET', `/samples/${parent.body.id}`);
    expect(after.body.quantity).toBe('9.9999');

    await page.getByRole('button', { name: '中文' }).click();
    await expect(page.getByTestId('sample-quantity').textContent()).resolves.toBe('9.9999\u00a0克');
  });
});
