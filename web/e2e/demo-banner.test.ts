/**
 * The demo banner in Chromium: while accounts at demo.samplebank.test exist
 * (the demo's published password works for them), every page says so, signed
 * in or not, in both languages. An admin removes them from the banner; a demo
 * admin who is the only admin is told to add their own admin first. Once
 * removed, the banner is gone for good and the demo accounts cannot sign in.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/core/actor.js';
import { createAccount, launch, openPage, PASSWORD, seriousViolations, signInWithKeyboard, startApp, type Account, type RunningApp } from './harness.js';

let app: RunningApp;
let browser: Browser;
const demoAdmin: Account = { id: '', email: 'admin@demo.samplebank.test', name: 'Demo Admin', token: '' };

async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

beforeAll(async () => {
  app = await startApp();
  browser = await launch();
  const identity = app.server.context.services.identity;
  // As the demo leaves a database: the only admin is a demo account.
  demoAdmin.id = (await identity.createUser(systemActor, { email: demoAdmin.email, name: demoAdmin.name, password: PASSWORD, institutionId: null, roles: ['admin'] })).id;
  await identity.createUser(systemActor, { email: 'curator@demo.samplebank.test', name: 'Demo Curator', password: PASSWORD, institutionId: null, roles: ['curator'] });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the demo banner', () => {
  it('shows on every page while demo accounts exist, in English and Chinese, signed in or not', async () => {
    const page = await openPage(browser);
    await page.goto(`${app.baseUrl}/`);
    const banner = page.getByRole('region', { name: 'Demo accounts' });
    await banner.getByText('2 demo accounts (…@demo.samplebank.test) can still sign in with the published password “demo-password”').waitFor();
    // Signed out, nobody is offered the removal.
    await expect(banner.getByRole('button').count()).resolves.toBe(0);
    await expectAccessible(page, 'catalog with the demo banner');
    await page.goto(`${app.baseUrl}/statistics`);
    await banner.waitFor();
    await page.goto(`${app.baseUrl}/sign-in`);
    await banner.waitFor();

    const zh = await openPage(browser, 'zh-CN');
    await zh.goto(`${app.baseUrl}/`);
    await zh.getByRole('region', { name: '演示账号' }).getByText('仍有 2 个演示账号').waitFor();
    await zh.context().close();
    await page.context().close();
  });

  it('tells a demo admin who is the only admin to add their own admin first, and removes nothing', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, demoAdmin);
    const banner = page.getByRole('region', { name: 'Demo accounts' });
    await banner.getByRole('button', { name: 'Remove demo accounts' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove the demo accounts?' });
    await dialog.getByText('The 2 demo accounts will never sign in again').waitFor();
    await expectAccessible(page, 'removal dialog');
    await dialog.getByRole('button', { name: 'Remove them' }).click();
    await dialog.getByRole('alert').getByText('No admin would be left. Add your own admin account first').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await banner.getByText('2 demo accounts').waitFor();
    await page.context().close();
  });

  it('lets a real admin remove them from the banner: the banner goes and the demo accounts no longer sign in', async () => {
    const admin = await createAccount(app, ['admin'], 'Admin Real');
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, admin);
    const banner = page.getByRole('region', { name: 'Demo accounts' });
    await banner.getByRole('button', { name: 'Remove demo accounts' }).click();
    await page.getByRole('dialog', { name: 'Remove the demo accounts?' }).getByRole('button', { name: 'Remove them' }).click();
    await page.getByText('2 demo accounts removed').waitFor();
    await banner.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('button', { name: /Admin Real/ }).waitFor();
    await expect(page.getByRole('region', { name: 'Demo accounts' }).count()).resolves.toBe(0);

    for (const email of [demoAdmin.email, 'curator@demo.samplebank.test']) {
      const response = await fetch(`${app.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
      expect(response.status, email).toBe(401);
    }
    await page.context().close();
  });
});
