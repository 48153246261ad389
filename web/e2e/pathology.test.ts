/**
 * The pathology bank in Chromium. The API sets the scene: a collection of
 * human material, a donor with a signed consent and a specimen (reserved for
 * a project), a release batch offering it and an applicant's draft. The
 * applicant declares the intended research uses on the draft and sees them
 * saved; the curator finds the donor from the navigation, records a new
 * consent, withdraws consent through the confirmation dialog with the
 * keyboard, and sees the donor marked withdrawn and the specimen quarantined
 * (its reservation released). A curator also registers a new donor, records
 * their consent and registers a specimen through the pages alone, the forms
 * checking as they type and showing the server's refusals on the field; the
 * donor page's specimens table shows what the server lists (refreshed after a
 * registration and a withdrawal, further pages on "Load more").
 * axe-core runs on every new page, form and dialog.
 */
import crypto from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createAccount, launch, openPage, seriousViolations, signInWithKeyboard, startApp, type Account, type RunningApp } from './harness.js';

let app: RunningApp;
let browser: Browser;
let curator: Account;
let chair: Account;
let applicant: Account;
let collectionId: string;
let collectionCode: string;
let donor: { id: string; code: string };
let sampleId: string;
let identifier: string;
let applicationId: string;
const hours = (n: number): string => new Date(Date.now() + n * 3600_000).toISOString();

async function ok<T>(promise: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const response = await promise;
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

/** A pseudonymous code that never holds a run of nine digits. */
function donorCode(): string {
  const hex = crypto.randomBytes(6).toString('hex');
  return `D-${hex.slice(0, 4)}x${hex.slice(4, 8)}x${hex.slice(8)}`;
}

beforeAll(async () => {
  app = await startApp();
  browser = await launch();
  curator = await createAccount(app, ['curator'], 'Curator Xia');
  chair = await createAccount(app, ['chair'], 'Chair Bian');
  applicant = await createAccount(app, ['applicant'], 'Applicant Qin');
  const code = `PATH${crypto.randomBytes(3).toString('hex').toUpperCase()}`;
  collectionCode = code;
  collectionId = (await ok(call<{ id: string }>(app, curator, 'POST', '/collections', { code, name: 'COVID-19 autopsy tissue', unit: 'count', scale: 0, humanConsent: true, kinds: ['block'], biosafetyLevel: 2 }), 201)).id;
  donor = await ok(
    call<{ id: string; code: string }>(app, curator, 'POST', '/donors', {
      code: donorCode(),
      collectionId,
      collectedOn: '2020-02-14',
      collectionSite: 'Department of Pathology',
      diagnoses: ['U07.1', 'J80'],
      consent: { scope: ['genetic-analysis', 'external-sharing'], givenOn: '2020-02-10', formVersion: 'v2.1' },
    }),
    201,
  );
  identifier = `${code}-B1`;
  sampleId = (
    await ok(call<{ sampleId: string }>(app, curator, 'POST', `/donors/${donor.id}/specimens`, { kind: 'block', quantity: '10', identifier, collectionMethod: 'autopsy', bodySite: 'lung, right lower lobe', fixation: 'formalin' }), 201)
  ).sampleId;
  const callId = (
    await ok(
      call<{ id: string }>(app, chair, 'POST', '/calls', {
        collectionId,
        title: 'COVID-19 lung pathology',
        opensAt: hours(-1),
        closesAt: hours(24),
        reviewDeadline: hours(24 * 14),
        blind: false,
        reviewersPerApplication: 1,
        researchDirections: ['pulmonary pathology'],
        rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 1 }] },
      }),
      201,
    )
  ).id;
  await ok(call(app, curator, 'PUT', `/calls/${callId}/pool`, { sampleIds: [sampleId] }));
  await ok(call(app, chair, 'POST', `/calls/${callId}/transitions`, { to: 'open' }));
  applicationId = (
    await ok(
      call<{ id: string }>(app, applicant, 'POST', '/applications', {
        callId,
        title: 'Alveolar damage in COVID-19',
        researchDirection: 'pulmonary pathology',
        methods: 'Immunohistochemistry and sequencing',
        destructive: true,
        justification: 'Diffuse alveolar damage needs tissue.',
        items: [{ kind: 'block', quantity: '1', minimum: '1' }],
        team: [],
        publications: [],
      }),
      201,
    )
  ).id;
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the pathology bank in the browser', () => {
  it('an applicant declares the intended research uses on a draft and sees them saved', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, applicant);
    await page.goto(`${app.baseUrl}/applications/${applicationId}/edit`);
    const uses = page.getByRole('group', { name: 'Intended research uses' });
    await uses.waitFor();
    await expectAccessible(page, 'application form with uses');
    await uses.getByLabel('genetic analysis').check();
    await uses.getByLabel('data linkage').check();
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('heading', { name: 'Alveolar damage in COVID-19' }).waitFor();
    await expect(page.getByTestId('declared-uses').textContent()).resolves.toBe('genetic analysis, data linkage');
    await expectAccessible(page, 'application page with uses');
    const saved = await ok(call<{ uses: string[] }>(app, applicant, 'GET', `/applications/${applicationId}/uses`));
    expect(saved.uses).toEqual(['data-linkage', 'genetic-analysis']);

    // Editing again shows what was declared, and unticking is saved too.
    await page.goto(`${app.baseUrl}/applications/${applicationId}/edit`);
    await expect(page.getByLabel('genetic analysis').isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('data linkage').isChecked()).resolves.toBe(true);
    await page.getByLabel('data linkage').uncheck();
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByTestId('declared-uses').filter({ hasText: /^genetic analysis$/ }).waitFor();
    // An applicant has no donors page.
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Donors' }).count()).resolves.toBe(0);
    await page.context().close();
  });

  it('a curator registers a donor, records their consent and registers a specimen through the pages alone', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Donors' }).click();
    await page.getByRole('heading', { name: 'Donors', level: 1 }).waitFor();

    await page.getByRole('row').filter({ hasText: donor.code }).waitFor();

    // The button opens the form with the keyboard and puts the focus in its first field.
    await page.getByRole('button', { name: 'Register donor' }).focus();
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Register donor');
    await page.keyboard.press('Enter');
    const form = page.getByRole('form', { name: 'Register a donor' });
    await form.waitFor();
    await expect(form.textContent()).resolves.toMatch(/Only a pseudonymous code is stored.*name, identity card/);
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent)).resolves.toBe('Donor code');
    await expectAccessible(page, 'register donor form');

    // Checked as the curator types: an identity card number is not a pseudonym, a word is not an ICD-10 code.
    const code = form.getByLabel('Donor code');
    await page.keyboard.type('110101199003071234');
    await page.keyboard.press('Tab');
    await form.getByText('Needs a letter: a pseudonym, not a number from an identity document').waitFor();
    await expect(code.getAttribute('aria-invalid')).resolves.toBe('true');
    await form.getByLabel('Diagnoses (ICD-10)').fill('U07.1 pneumonia');
    await form.getByLabel('Diagnoses (ICD-10)').blur();
    await form.getByText(/Not ICD-10 codes: PNEUMONIA/).waitFor();
    await expectAccessible(page, 'register donor form with errors');

    // The server's refusal lands on the field: the code is taken.
    await code.fill(donor.code);
    await form.getByLabel('Diagnoses (ICD-10)').fill('u07.1, J80');
    await form.getByLabel('Collection', { exact: true }).selectOption({ label: `${collectionCode} · COVID-19 autopsy tissue` });
    await form.getByLabel('Collection date').fill('2021-04-28');
    await form.getByLabel('Collection site').fill('Department of Pathology, biopsy service');
    await form.getByRole('button', { name: 'Register donor' }).click();
    await form.getByRole('alert').waitFor();
    await form.getByText('is already used').waitFor();
    await expect(code.getAttribute('aria-invalid')).resolves.toBe('true');

    const fresh = donorCode();
    await code.fill(fresh);
    await form.getByRole('button', { name: 'Register donor' }).click();
    await page.getByRole('heading', { name: `Donor ${fresh}` }).waitFor();
    const details = page.getByRole('region', { name: 'Donor', exact: true });
    await expect(details.textContent()).resolves.toContain('U07.1, J80');
    await details.getByText('none on record').waitFor();
    const specimens = page.getByRole('region', { name: 'Specimens' });
    await expect(specimens.getByTestId('specimen-count').textContent()).resolves.toMatch(/Record their signed consent form first/);
    await expectAccessible(page, 'new donor page');

    // Their signed consent form.
    const consentForm = page.getByRole('form', { name: 'Record a signed consent form' });
    await consentForm.getByLabel('genetic analysis').check();
    await consentForm.getByLabel('Signed on').fill('2021-04-27');
    await consentForm.getByLabel('Form version').fill('v3.0');
    await consentForm.getByRole('button', { name: 'Record consent' }).click();
    await page.getByRole('table', { name: 'Consent records' }).getByRole('row').filter({ hasText: 'v3.0' }).waitFor();
    await details.getByText('given', { exact: true }).waitFor();

    // A specimen with its pre-analytical data; the quantity is checked as it is typed.
    const specimenForm = page.getByRole('form', { name: 'Register a specimen' });
    await expect(specimenForm.getByLabel('Kind').inputValue()).resolves.toBe('block');
    await specimenForm.getByLabel('Quantity (pcs)').fill('1.5');
    await specimenForm.getByText('Whole numbers only for this collection').waitFor();
    await specimenForm.getByLabel('Quantity (pcs)').fill('4');
    await expect(specimenForm.getByText('Whole numbers only for this collection').count()).resolves.toBe(0);
    await specimenForm.getByLabel('Sample identifier (optional)').fill(`${collectionCode}-N1`);
    await specimenForm.getByLabel('Collection method').selectOption('biopsy');
    await specimenForm.getByLabel('Body site').fill('lung, left upper lobe');
    await specimenForm.getByLabel('Collected at').fill('2021-04-28T09:30');
    await specimenForm.getByLabel('Fixation').selectOption('formalin');
    await specimenForm.getByLabel('Cold ischaemia time (minutes)').fill('45');
    await specimenForm.getByLabel('Storage temperature (°C)').fill('20');
    await specimenForm.getByLabel('SPREC code').fill('tis-bps');
    await specimenForm.getByLabel('SPREC code').blur();
    await specimenForm.getByText(/Seven elements separated by dashes/).waitFor();
    await specimenForm.getByLabel('SPREC code').fill('tis-bps-a-b-for-s-a');
    await expectAccessible(page, 'register specimen form');
    await specimenForm.getByRole('button', { name: 'Register specimen' }).click();

    // The table is the server's list, read again after the registration.
    const table = specimens.getByRole('table', { name: 'Specimens of this donor' });
    const newRow = table.getByRole('row').filter({ hasText: `${collectionCode}-N1` });
    await newRow.waitFor();
    const cells = await newRow.getByRole('cell').allTextContents();
    expect(cells).toEqual(['block', '4\u00a0pcs', 'available', 'formalin', '45 min', 'TIS-BPS-A-B-FOR-S-A', '0']);
    await expect(table.getByRole('row').count()).resolves.toBe(2);
    await specimens.getByText('1 of 1 shown').waitFor();
    await specimens.getByText('All specimens shown').waitFor();
    await specimens.getByTestId('specimen-count').filter({ hasText: /^1 specimen registered for this donor\.$/ }).waitFor();
    await expect(specimenForm.getByLabel('Quantity (pcs)').inputValue()).resolves.toBe('');
    await expectAccessible(page, 'donor page with a specimen');

    // The server agrees: the donor, the consent, the specimen with its pre-analytical data.
    const listed = await ok(call<{ items: Array<{ id: string; code: string; diagnoses: string[]; collectedOn: string; consents: Array<{ formVersion: string }>; specimens: number }> }>(app, curator, 'GET', `/donors?collectionId=${collectionId}`));
    const created = listed.items.find((item) => item.code === fresh)!;
    expect(created).toMatchObject({ diagnoses: ['U07.1', 'J80'], collectedOn: '2021-04-28', consents: [{ formVersion: 'v3.0' }], specimens: 1 });
    const sampleLink = newRow.getByRole('link', { name: `${collectionCode}-N1` });
    const newSampleId = (await sampleLink.getAttribute('href'))!.split('/').pop()!;
    const record = await ok(call<Record<string, unknown>>(app, curator, 'GET', `/samples/${newSampleId}/specimen`));
    expect(record).toMatchObject({ donorId: created.id, collectionMethod: 'biopsy', bodySite: 'lung, left upper lobe', fixation: 'formalin', coldIschaemiaMinutes: 45, storageTemperatureC: 20, sprec: 'TIS-BPS-A-B-FOR-S-A' });
    expect(new Date(record.collectedAt as string).getTime()).toBe(new Date('2021-04-28T09:30').getTime());

    // And the list shows the new donor with their consent and specimen.
    await page.getByRole('link', { name: 'Back to donors' }).click();
    const row = page.getByRole('row').filter({ hasText: fresh });
    await row.waitFor();
    await row.getByText('given', { exact: true }).waitFor();
    await expect(row.getByRole('cell').last().textContent()).resolves.toBe('1');
    await page.context().close();
  });

  it('the curator lists donors, records a consent, withdraws consent through the dialog and sees the material quarantined', async () => {
    const reservation = await ok(call<{ id: string }>(app, curator, 'POST', `/samples/${sampleId}/reservations`, { quantity: '2', note: 'for an approved project' }), 201);
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Donors' }).click();
    await page.getByRole('heading', { name: 'Donors', level: 1 }).waitFor();
    const row = page.getByRole('row').filter({ hasText: donor.code });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('2020-02-14');
    await expect(row.textContent()).resolves.toContain('Department of Pathology');
    await expect(row.textContent()).resolves.toContain('U07.1, J80');
    await expect(row.getByText('given', { exact: true }).count()).resolves.toBe(1);
    await expectAccessible(page, 'donors list');

    await row.getByRole('link', { name: donor.code }).click();
    await page.getByRole('heading', { name: `Donor ${donor.code}` }).waitFor();
    const consents = page.getByRole('table', { name: 'Consent records' });
    await expect(consents.getByRole('row').filter({ hasText: 'v2.1' }).textContent()).resolves.toContain('genetic analysis, sharing outside the institution');
    await expectAccessible(page, 'donor page');

    // A second, wider consent form.
    const form = page.getByRole('form', { name: 'Record a signed consent form' });
    await form.getByLabel('data linkage').check();
    await form.getByLabel('genetic analysis').check();
    await form.getByLabel('Signed on').fill('2021-05-01');
    await form.getByLabel('Form version').fill('v3.0');
    await form.getByRole('button', { name: 'Record consent' }).click();
    await consents.getByRole('row').filter({ hasText: 'v3.0' }).waitFor();
    await expect(consents.getByRole('row').filter({ hasText: 'v3.0' }).textContent()).resolves.toContain('genetic analysis, data linkage');

    // Withdraw, with the keyboard: the dialog says what will happen before anything does.
    await page.getByRole('button', { name: 'Withdraw consent' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Withdraw the consent of donor ${donor.code}?` });
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toMatch(/quarantined.*can be reserved, split for distribution or allocated/s);
    await expectAccessible(page, 'withdrawal dialog');
    // Escape closes it and nothing happens.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await ok(call<{ consentWithdrawnAt: string | null }>(app, curator, 'GET', `/donors/${donor.id}`))).consentWithdrawnAt).toBeNull();
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Withdraw consent');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    // Focus starts in the reason; Tab reaches Cancel, then the confirming button.
    await page.keyboard.type('telephone call from the donor');
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Cancel');
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Withdraw consent');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });

    const result = page.getByRole('region', { name: 'What the withdrawal did' });
    await result.waitFor();
    const quarantined = result.getByRole('list', { name: 'Samples quarantined' });
    await expect(quarantined.textContent()).resolves.toContain(identifier);
    await quarantined.getByText('quarantined', { exact: true }).waitFor();
    await expect(result.getByRole('list', { name: 'Reservations released' }).textContent()).resolves.toContain(identifier);
    await page.getByText(/This donor withdrew consent on/).waitFor();
    await page.getByRole('region', { name: 'Material outside the bank' }).getByText(/nobody to contact/).waitFor();
    await expect(page.getByRole('button', { name: 'Withdraw consent' }).count()).resolves.toBe(0);
    await expect(page.getByRole('form', { name: 'Record a signed consent form' }).count()).resolves.toBe(0);
    // The specimens table is read again: the specimen is quarantined there too.
    await page.getByRole('table', { name: 'Specimens of this donor' }).getByRole('row').filter({ hasText: identifier }).getByText('quarantined', { exact: true }).waitFor();
    await expectAccessible(page, 'donor page after withdrawal');

    // The server agrees: consent withdrawn, the specimen quarantined, its reservation released.
    const sample = await ok(call<{ state: string; reserved: string }>(app, curator, 'GET', `/samples/${sampleId}`));
    expect(sample).toMatchObject({ state: 'quarantined', reserved: '0' });
    const withdrawn = await ok(call<{ consentWithdrawnAt: string | null }>(app, curator, 'GET', `/donors/${donor.id}`));
    expect(withdrawn.consentWithdrawnAt).not.toBeNull();
    expect(reservation.id).toBeTruthy();

    // Back on the list the donor is marked withdrawn and quarantined; the sample page says quarantined too.
    await page.getByRole('link', { name: 'Back to donors' }).click();
    const after = page.getByRole('row').filter({ hasText: donor.code });
    await after.getByText('consent withdrawn').waitFor();
    await after.getByText('quarantined').waitFor();
    await page.goto(`${app.baseUrl}/samples/${sampleId}`);
    await page.getByRole('heading', { name: identifier }).waitFor();
    await page.getByText(/^quarantined$/i).first().waitFor();
    await page.context().close();
  });

  it('reads in Chinese, and shows the donors to an auditor without the forms', async () => {
    const auditor = await createAccount(app, ['auditor'], 'Auditor Zhou');
    const page = await openPage(browser, 'zh-CN');
    await signInWithKeyboard(page, app.baseUrl, auditor);
    await page.goto(`${app.baseUrl}/donors/${donor.id}`);
    await page.getByRole('heading', { name: `捐献者 ${donor.code}` }).waitFor();
    await page.getByRole('heading', { name: '知情同意记录' }).waitFor();
    await expect(page.getByRole('button', { name: '撤回同意' }).count()).resolves.toBe(0);
    await expect(page.getByRole('form', { name: '登记已签署的知情同意书' }).count()).resolves.toBe(0);
    await page.getByRole('table', { name: '该捐献者的样本' }).getByRole('row').filter({ hasText: identifier }).getByText('已隔离').waitFor();
    await expectAccessible(page, 'donor page in Chinese');
    await page.getByRole('navigation', { name: '主导航' }).getByRole('link', { name: '捐献者' }).click();
    await page.getByRole('heading', { name: '捐献者', level: 1 }).waitFor();
    await page.getByRole('row').filter({ hasText: donor.code }).getByText('撤回同意').waitFor();
    await expectAccessible(page, 'donors list in Chinese');
    await page.context().close();
  });

  it('shows a donor with many specimens a page at a time, loading more on request', async () => {
    const many = await ok(call<{ id: string; code: string }>(app, curator, 'POST', '/donors', { code: donorCode(), collectionId }), 201);
    for (let n = 1; n <= 52; n++) {
      await ok(call(app, curator, 'POST', `/donors/${many.id}/specimens`, { kind: 'block', quantity: String(n), identifier: `${collectionCode}-M${String(n).padStart(2, '0')}` }), 201);
    }
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    await page.goto(`${app.baseUrl}/donors/${many.id}`);
    const specimens = page.getByRole('region', { name: 'Specimens' });
    const table = specimens.getByRole('table', { name: 'Specimens of this donor' });
    await specimens.getByText('50 of 52 shown').waitFor();
    await expect(table.getByRole('row').count()).resolves.toBe(51);
    await specimens.getByRole('button', { name: 'Load more' }).click();
    await specimens.getByText('52 of 52 shown').waitFor();
    await specimens.getByText('All specimens shown').waitFor();
    await expect(table.getByRole('row').last().getByRole('rowheader').textContent()).resolves.toBe(`${collectionCode}-M52`);
    await expect(specimens.getByRole('button', { name: 'Load more' }).count()).resolves.toBe(0);
    await expectAccessible(page, 'donor page with many specimens');
    await page.context().close();
  });
});
