/**
 * The admin's Users page in Chromium, through the page alone. The API sets
 * the scene: the only admin, a curator, an institution and enough users for
 * a second page. The admin finds users with the search box, pages through
 * the list, adds a user with roles and an institution (the form checking as
 * they type, a taken e-mail refused on its field), edits their roles,
 * disables them behind a dialog that says they are signed out everywhere
 * and lose their API tokens (and they can no longer sign in, nor use the
 * token they held), enables them again, and is refused taking the admin
 * role from themselves, the last enabled admin. The admin registers an
 * institution (a taken code refused on its field), adds a user in it at once,
 * and sets a new password for that user, who lost theirs: the old password
 * and their API token stop working, the new password signs in; their own
 * row offers no new password (the Account page does). The page reads in Chinese;
 * a curator has no Users link and gets "not allowed" at /users. axe-core
 * runs on the page, each dialog and the Chinese page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/core/actor.js';
import { call, createAccount, launch, openPage, PASSWORD, seriousViolations, signInWithKeyboard, startApp, type Account, type RunningApp } from './harness.js';

let app: RunningApp;
let browser: Browser;
let admin: Account;
let curator: Account;
let institution: { id: string; code: string; name: string };
const BULK = 52;
const NEW_PASSWORD = 'initial-password-1';
const newEmail = 'wu.fang@lab.example.org';

async function ok<T>(promise: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const response = await promise;
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

/** Signs in through the API; answers the status and, on success, the token. */
async function login(email: string, password: string): Promise<{ status: number; token?: string }> {
  const response = await fetch(`${app.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const body = (await response.json()) as { token?: string };
  return { status: response.status, ...(body.token ? { token: body.token } : {}) };
}

type ListedUser = { id: string; email: string; name: string; institutionId: string | null; roles: string[]; disabled: boolean };

async function userByEmail(email: string): Promise<ListedUser> {
  const listed = await ok(call<{ items: ListedUser[] }>(app, admin, 'GET', `/users?q=${encodeURIComponent(email)}`));
  const found = listed.items.find((user) => user.email === email);
  if (!found) throw new Error(`no user ${email}`);
  return found;
}

beforeAll(async () => {
  app = await startApp();
  browser = await launch();
  admin = await createAccount(app, ['admin'], 'Admin Gao');
  curator = await createAccount(app, ['curator'], 'Curator Xia');
  institution = await ok(call<{ id: string; code: string; name: string }>(app, admin, 'POST', '/institutions', { code: 'IGGCAS', name: 'Institute of Geology and Geophysics' }), 201);
  const identity = app.server.context.services.identity;
  await identity.createUser(systemActor, { email: 'ma.lin@lab.example.org', name: 'Ma Lin', password: PASSWORD, institutionId: institution.id, roles: ['applicant'] });
  await identity.createUser(systemActor, { email: 'q.zhou@lab.example.org', name: 'Zhou Qing', password: PASSWORD, institutionId: null, roles: ['reviewer', 'chair'] });
  for (let n = 1; n <= BULK; n++) {
    const two = String(n).padStart(2, '0');
    await identity.createUser(systemActor, { email: `bulk${two}@test.samplebank`, name: `Bulk User ${two}`, password: PASSWORD, institutionId: null, roles: ['applicant'] });
  }
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the Users page', () => {
  it('lets the admin find, add, edit, disable and enable a user through the page alone', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: 'Users' });
    const rowOf = (name: string) => table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${name}`) }) });

    // A page at a time: 56 users, 50 first, the rest on "Load more".
    await page.getByText('50 users shown').waitFor();
    await expect(table.getByRole('row').count()).resolves.toBe(51);
    await expectAccessible(page, 'users page');
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByText(`${BULK + 4} users shown`).waitFor();
    await page.getByText('All users shown').waitFor();

    // The admin's own row: marked, and no way to disable it from here.
    const mine = rowOf('Admin Gao');
    await mine.getByText('you', { exact: true }).waitFor();
    await mine.getByText('You cannot disable yourself').waitFor();
    await expect(mine.getByRole('button', { name: /^Disable/ }).count()).resolves.toBe(0);
    // Nor a new password: their own changes on the Account page, with the current one.
    await expect(mine.getByRole('button', { name: /^New password/ }).count()).resolves.toBe(0);
    await expect(mine.getByRole('link', { name: 'Your password: on the Account page' }).getAttribute('href')).resolves.toBe('/account');

    // The search box asks the server as the admin types (part of a name, any case; part of an e-mail).
    const search = page.getByRole('search', { name: 'Find users' }).getByLabel('Name or e-mail contains');
    await search.fill('zhou q');
    await page.getByText('1 user shown').waitFor();
    const zhou = rowOf('Zhou Qing');
    await expect(zhou.getByRole('cell').allTextContents()).resolves.toEqual(['q.zhou@lab.example.org', '—', 'reviewercommittee chair', 'enabled', 'Edit Zhou QingNew password Zhou QingDisable Zhou Qing']);
    expect(new URL(page.url()).searchParams.get('q')).toBe('zhou q');
    await search.fill('MA.LIN@');
    await page.getByText('1 user shown').waitFor();
    await expect(rowOf('Ma Lin').getByRole('cell').nth(1).textContent()).resolves.toBe(`${institution.name} IGGCAS`);
    await search.fill('nobody-by-this-name');
    await page.getByText('No user’s name or e-mail contains “nobody-by-this-name”').waitFor();
    await expectAccessible(page, 'users page, nothing found');
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByText('50 users shown').waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBeNull();

    // Add a user: the dialog opens with the focus in the e-mail field, and checks as the admin types.
    await page.getByRole('button', { name: 'Add user' }).click();
    const add = page.getByRole('dialog', { name: 'Add a user' });
    await add.waitFor();
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent)).resolves.toBe('E-mail');
    await expectAccessible(page, 'add user dialog');
    const email = add.getByLabel('E-mail');
    await page.keyboard.type('wu.fang@');
    await page.keyboard.press('Tab');
    await add.getByText('Not an e-mail address: it looks like name@example.org').waitFor();
    await expect(email.getAttribute('aria-invalid')).resolves.toBe('true');
    await add.getByLabel('Initial password').fill('short');
    await add.getByLabel('Initial password').blur();
    await add.getByText('Too short: 5 characters, at least 8 needed').waitFor();
    await add.getByRole('button', { name: 'Add user' }).click();
    await add.getByText('Enter their name').waitFor();
    await expectAccessible(page, 'add user dialog with errors');

    // The server's refusal lands on the field: the e-mail is taken.
    await email.fill('ma.lin@lab.example.org');
    await add.getByLabel('Name').fill('Wu Fang');
    await add.getByLabel('Institution').selectOption({ label: `IGGCAS · ${institution.name}` });
    await add.getByLabel('Initial password').fill(NEW_PASSWORD);
    await add.getByRole('group', { name: 'Roles' }).getByLabel('curator', { exact: true }).check();
    await add.getByRole('group', { name: 'Roles' }).getByLabel('reviewer', { exact: true }).check();
    await add.getByRole('button', { name: 'Add user' }).click();
    await add.getByRole('alert').filter({ hasText: 'A user with this e-mail address already exists: use another address, or edit that user' }).waitFor();
    await add.locator('[data-field="email"] .field-error').filter({ hasText: 'Already used by another user' }).waitFor();
    await expect(email.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent)).resolves.toBe('E-mail');
    await email.fill(newEmail);
    await expect(email.getAttribute('aria-invalid')).resolves.toBeNull();
    await add.getByRole('button', { name: 'Add user' }).click();
    await add.waitFor({ state: 'detached' });
    await page.locator('.toasts').getByText('Wu Fang added').waitFor();
    // The new user heads the list, with the institution's name and the translated roles.
    const wu = rowOf('Wu Fang');
    await expect(table.getByRole('row').nth(1).getByRole('rowheader').textContent()).resolves.toBe('Wu Fang');
    await expect(wu.getByRole('cell').allTextContents()).resolves.toEqual([newEmail, `${institution.name} IGGCAS`, 'curatorreviewer', 'enabled', 'Edit Wu FangNew password Wu FangDisable Wu Fang']);
    const created = await userByEmail(newEmail);
    expect(created).toMatchObject({ name: 'Wu Fang', institutionId: institution.id, roles: ['curator', 'reviewer'], disabled: false });

    // Edit their roles: reviewer off, committee chair on.
    await wu.getByRole('button', { name: 'Edit Wu Fang' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Wu Fang' });
    await edit.waitFor();
    await expect(edit.textContent()).resolves.toContain(newEmail);
    const roles = edit.getByRole('group', { name: 'Roles' });
    await expect(roles.getByLabel('curator', { exact: true }).isChecked()).resolves.toBe(true);
    await expectAccessible(page, 'edit user dialog');
    await roles.getByLabel('reviewer', { exact: true }).uncheck();
    await roles.getByLabel('committee chair', { exact: true }).check();
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    await page.locator('.toasts').getByText('Wu Fang saved').waitFor();
    await expect(wu.getByRole('cell').nth(2).textContent()).resolves.toBe('curatorcommittee chair');
    expect((await userByEmail(newEmail)).roles).toEqual(['curator', 'chair']);

    // They sign in and hold an API token; disabling them says what it does, then ends both.
    const before = await login(newEmail, NEW_PASSWORD);
    expect(before.status).toBe(200);
    const token = before.token!;
    const me = async () => (await fetch(`${app.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await me()).toBe(200);
    await wu.getByRole('button', { name: 'Disable Wu Fang' }).click();
    const disable = page.getByRole('dialog', { name: 'Disable Wu Fang?' });
    await disable.waitFor();
    await expect(disable.textContent()).resolves.toMatch(/signed out everywhere at once.*loses every API token.*cannot sign in/s);
    await expectAccessible(page, 'disable dialog');
    // Escape closes it and nothing happens.
    await page.keyboard.press('Escape');
    await disable.waitFor({ state: 'detached' });
    expect((await userByEmail(newEmail)).disabled).toBe(false);
    await wu.getByRole('button', { name: 'Disable Wu Fang' }).click();
    await disable.getByRole('button', { name: 'Disable account' }).click();
    await disable.waitFor({ state: 'detached' });
    await page.locator('.toasts').getByText('Wu Fang disabled: signed out everywhere and API tokens revoked').waitFor();
    await wu.getByText('disabled', { exact: true }).waitFor();
    expect((await userByEmail(newEmail)).disabled).toBe(true);
    expect((await login(newEmail, NEW_PASSWORD)).status).toBe(401);
    expect(await me()).toBe(401);
    await expectAccessible(page, 'users page with a disabled user');

    // Enabled again, they can sign in; the old token stays revoked.
    await wu.getByRole('button', { name: 'Enable Wu Fang' }).click();
    const enable = page.getByRole('dialog', { name: 'Enable Wu Fang?' });
    await expect(enable.textContent()).resolves.toMatch(/can sign in again.*stay revoked/s);
    await enable.getByRole('button', { name: 'Enable account' }).click();
    await enable.waitFor({ state: 'detached' });
    await wu.getByText('enabled', { exact: true }).waitFor();
    expect((await userByEmail(newEmail)).disabled).toBe(false);
    expect((await login(newEmail, NEW_PASSWORD)).status).toBe(200);
    expect(await me()).toBe(401);

    // The only admin cannot take the admin role from themselves: the refusal is on the roles, the dialog stays.
    // (Found by the search: the list is in no particular order, so their row may be past the first page.)
    await search.fill('admin gao');
    await page.getByText('1 user shown').waitFor();
    await mine.getByRole('button', { name: 'Edit Admin Gao' }).click();
    const self = page.getByRole('dialog', { name: 'Edit Admin Gao' });
    await self.waitFor();
    await self.getByRole('group', { name: 'Roles' }).getByLabel('administrator', { exact: true }).uncheck();
    await self.getByText('Without the administrator role you will no longer see this page').waitFor();
    await self.getByRole('button', { name: 'Save' }).click();
    await self.getByRole('alert').filter({ hasText: 'This is the last enabled administrator: make another user an administrator first' }).waitFor();
    await self.locator('[data-field="roles"] .field-error').filter({ hasText: 'Would leave no enabled administrator' }).waitFor();
    await expect(self.getByRole('group', { name: 'Roles' }).getAttribute('aria-invalid')).resolves.toBe('true');
    await expectAccessible(page, 'last admin refusal');
    await self.getByRole('button', { name: 'Cancel' }).click();
    await self.waitFor({ state: 'detached' });
    expect((await userByEmail(admin.email)).roles).toEqual(['admin']);
    await page.context().close();
  });

  it('lets the admin register an institution, add a user in it, and set a new password for a user who lost theirs', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, admin);
    await page.goto(`${app.baseUrl}/users`);
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByText('50 users shown').waitFor();
    const table = page.getByRole('table', { name: 'Users' });
    const rowOf = (name: string) => table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${name}`) }) });
    const focusedLabel = () => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent);

    // Register an institution: the dialog checks as the admin types, and opens with the focus in the code.
    await page.getByRole('button', { name: 'Add institution' }).click();
    const register = page.getByRole('dialog', { name: 'Register an institution' });
    await register.waitFor();
    await expect(focusedLabel()).resolves.toBe('Code');
    await expectAccessible(page, 'register institution dialog');
    const code = register.getByLabel('Code');
    await page.keyboard.type('IGS NRR');
    await page.keyboard.press('Tab');
    await register.getByText('No spaces: letters, digits, dot, dash or underscore only').waitFor();
    await expect(code.getAttribute('aria-invalid')).resolves.toBe('true');
    await register.getByRole('button', { name: 'Register institution' }).click();
    await register.getByText('Enter the institution’s name').waitFor();
    await expect(focusedLabel()).resolves.toBe('Code');
    await expectAccessible(page, 'register institution dialog with errors');

    // A code already registered: the server's refusal lands on the code field.
    await code.fill(institution.code);
    await expect(code.getAttribute('aria-invalid')).resolves.toBeNull();
    const instituteName = 'Institute of Geographic Sciences and Natural Resources Research';
    await register.getByLabel('Name').fill(instituteName);
    await register.getByLabel('Parent body (optional)').fill('中国科学院');
    await register.getByRole('button', { name: 'Register institution' }).click();
    await register.getByRole('alert').filter({ hasText: 'An institution with this code already exists: choose another code' }).waitFor();
    await register.locator('[data-field="code"] .field-error').filter({ hasText: 'Already used by another institution' }).waitFor();
    await expect(code.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(focusedLabel()).resolves.toBe('Code');
    await expectAccessible(page, 'register institution dialog, code taken');
    await code.fill('IGSNRR');
    await expect(code.getAttribute('aria-invalid')).resolves.toBeNull();
    await register.getByRole('button', { name: 'Register institution' }).click();
    await register.waitFor({ state: 'detached' });
    await page.locator('.toasts').getByText(`Institution IGSNRR · ${instituteName} registered`).waitFor();
    const institutions = await ok(call<{ items: Array<{ id: string; code: string; name: string; parentBody: string | null }> }>(app, admin, 'GET', '/institutions'));
    const igsnrr = institutions.items.find((found) => found.code === 'IGSNRR');
    expect(igsnrr).toMatchObject({ name: instituteName, parentBody: '中国科学院' });

    // At once a choice in the Edit dialog, and a user is added in it without reloading the page.
    await rowOf('Admin Gao').getByRole('button', { name: 'Edit Admin Gao' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Admin Gao' });
    await expect(edit.getByLabel('Institution').locator('option', { hasText: `IGSNRR · ${instituteName}` }).count()).resolves.toBe(1);
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await edit.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Add user' }).click();
    const add = page.getByRole('dialog', { name: 'Add a user' });
    const heEmail = 'he.jing@igsnrr.example.cn';
    await add.getByLabel('E-mail').fill(heEmail);
    await add.getByLabel('Name').fill('He Jing');
    await add.getByLabel('Institution').selectOption({ label: `IGSNRR · ${instituteName}` });
    await add.getByLabel('Initial password').fill(NEW_PASSWORD);
    await add.getByRole('group', { name: 'Roles' }).getByLabel('applicant (PI)', { exact: true }).check();
    await add.getByRole('button', { name: 'Add user' }).click();
    await add.waitFor({ state: 'detached' });
    await page.locator('.toasts').getByText('He Jing added').waitFor();
    const he = rowOf('He Jing');
    await expect(he.getByRole('cell').nth(1).textContent()).resolves.toBe(`${instituteName} IGSNRR`);
    expect(await userByEmail(heEmail)).toMatchObject({ name: 'He Jing', institutionId: igsnrr!.id, roles: ['applicant'] });

    // He Jing signs in and holds an API token, then loses the password: the admin sets a new one.
    const before = await login(heEmail, NEW_PASSWORD);
    expect(before.status).toBe(200);
    const token = before.token!;
    const me = async () => (await fetch(`${app.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await me()).toBe(200);
    await he.getByRole('button', { name: 'New password He Jing' }).click();
    const reset = page.getByRole('dialog', { name: 'New password for He Jing' });
    await reset.waitFor();
    await expect(reset.textContent()).resolves.toMatch(/signed out everywhere at once.*lose every API token.*Hand the password over securely/s);
    await expect(focusedLabel()).resolves.toBe('New password');
    await expectAccessible(page, 'new password dialog');
    const password = reset.getByLabel('New password', { exact: true });
    const again = reset.getByLabel('Type it again');
    await page.keyboard.type('short');
    await page.keyboard.press('Tab');
    await reset.getByText('Too short: 5 characters, at least 8 needed').waitFor();
    await page.keyboard.type('something-else');
    await page.keyboard.press('Tab');
    await reset.getByText('Not the same as the new password above').waitFor();
    await expect(again.getAttribute('aria-invalid')).resolves.toBe('true');
    await expectAccessible(page, 'new password dialog with errors');
    const lostAndFound = 'a-fresh-password-9';
    await password.fill(lostAndFound);
    await expect(password.getAttribute('aria-invalid')).resolves.toBeNull();
    await again.fill(`${lostAndFound}x`);
    await reset.getByText('Not the same as the new password above').waitFor();
    await again.fill(lostAndFound);
    await expect(again.getAttribute('aria-invalid')).resolves.toBeNull();
    await reset.getByRole('button', { name: 'Set new password' }).click();
    await reset.waitFor({ state: 'detached' });
    await page.locator('.toasts').getByText('New password set for He Jing: signed out everywhere and API tokens revoked').waitFor();
    expect((await login(heEmail, NEW_PASSWORD)).status).toBe(401);
    expect((await login(heEmail, lostAndFound)).status).toBe(200);
    expect(await me()).toBe(401);
    await page.context().close();
  });

  it('reads in Chinese', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, admin);
    await page.goto(`${app.baseUrl}/users?q=zhou`);
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '用户', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: '主导航' }).getByRole('link', { name: '用户' }).waitFor();
    const table = page.getByRole('table', { name: '用户' });
    await expect(table.getByRole('columnheader').allTextContents()).resolves.toEqual(['姓名', '电子邮箱', '科研机构', '角色', '状态', '操作']);
    const zhou = table.getByRole('row').filter({ hasText: 'Zhou Qing' });
    await expect(zhou.getByRole('cell').allTextContents()).resolves.toEqual(['q.zhou@lab.example.org', '—', '评审专家专家委员会主任', '已启用', '编辑 Zhou Qing重设密码 Zhou Qing停用 Zhou Qing']);
    await page.getByText('显示 1 个用户').waitFor();
    await expect(page.getByRole('search', { name: '查找用户' }).getByLabel('姓名或电子邮箱包含').inputValue()).resolves.toBe('zhou');
    await expectAccessible(page, 'users page in Chinese');

    await zhou.getByRole('button', { name: '停用 Zhou Qing' }).click();
    const disable = page.getByRole('dialog', { name: '停用 Zhou Qing？' });
    await expect(disable.textContent()).resolves.toMatch(/立即在所有地方退出登录.*失去全部 API 令牌/s);
    await expectAccessible(page, 'disable dialog in Chinese');
    await disable.getByRole('button', { name: '取消' }).click();
    await disable.waitFor({ state: 'detached' });

    await zhou.getByRole('button', { name: '重设密码 Zhou Qing' }).click();
    const reset = page.getByRole('dialog', { name: '为 Zhou Qing 重设密码' });
    await expect(reset.textContent()).resolves.toMatch(/立即在所有地方退出登录.*失去全部 API 令牌.*请通过安全渠道告知新密码/s);
    await reset.getByLabel('新密码', { exact: true }).fill('12345678');
    await reset.getByLabel('再次输入新密码').fill('12345679');
    await reset.getByLabel('再次输入新密码').blur();
    await reset.getByText('与上面的新密码不一致').waitFor();
    await expectAccessible(page, 'new password dialog in Chinese');
    await reset.getByRole('button', { name: '取消' }).click();
    await reset.waitFor({ state: 'detached' });

    await page.getByRole('button', { name: '添加科研机构' }).click();
    const register = page.getByRole('dialog', { name: '登记科研机构' });
    await register.getByLabel('代码').fill(institution.code);
    await register.getByLabel('名称').fill('地质与地球物理研究所');
    await register.getByLabel('上级单位（选填）').fill('中国科学院');
    await register.getByRole('button', { name: '登记科研机构' }).click();
    await register.getByRole('alert').filter({ hasText: '已有科研机构使用此代码：请换一个代码' }).waitFor();
    await register.locator('[data-field="code"] .field-error').filter({ hasText: '已被其他科研机构使用' }).waitFor();
    await expectAccessible(page, 'register institution dialog in Chinese');
    await page.keyboard.press('Escape');
    await register.waitFor({ state: 'detached' });

    await page.getByRole('button', { name: '添加用户' }).click();
    const add = page.getByRole('dialog', { name: '添加用户' });
    await add.getByLabel('电子邮箱').fill('ma.lin@lab.example.org');
    await add.getByLabel('姓名').fill('马林');
    await add.getByLabel('初始密码').fill(NEW_PASSWORD);
    await add.getByRole('group', { name: '角色' }).getByLabel('申请人（项目负责人）').check();
    await add.getByRole('button', { name: '添加用户' }).click();
    await add.getByRole('alert').filter({ hasText: '已有用户使用此电子邮箱：请换一个地址，或编辑该用户' }).waitFor();
    await add.locator('[data-field="email"] .field-error').filter({ hasText: '已被其他用户使用' }).waitFor();
    await expectAccessible(page, 'add user dialog in Chinese');
    await page.keyboard.press('Escape');
    await add.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'English' }).click();
    await page.context().close();
  });

  it('keeps a curator out: no Users link, "not allowed" at /users, and the server refuses too', async () => {
    const page = await openPage(browser);
    await signInWithKeyboard(page, app.baseUrl, curator);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Samples' }).waitFor();
    await expect(nav.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
    await page.goto(`${app.baseUrl}/users`);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await expect(page.locator('main').textContent()).resolves.toContain('This page is for administrator.');
    await expectAccessible(page, 'users page not allowed');
    expect((await call(app, curator, 'GET', '/users')).status).toBe(403);
    await page.context().close();
  });
});
