import { describe, expect, it } from 'vitest';
import { code as serverCode, email as serverEmail, institutionInput as serverInstitution, password as serverPassword, personName as serverName } from '../../../src/features/identity/identity.schemas.js';
import { editBody, editProblems, emailProblem, emptyUser, institutionBody, institutionProblems, newUserBody, newUserProblems, passwordProblem, passwordResetProblems, refusalKey } from './user-rules';

describe('user form checks', () => {
  it('accepts the e-mail addresses the server accepts, and refuses those it refuses', () => {
    for (const address of ['li.wei@example.org', 'a+b@lab.example.cn', "o'neil@x.io", 'li@localhost', 'li@@example.org', 'li wei@example.org', '.li@example.org', 'li..wei@example.org', 'li@example', 'li@example.c', '', '@example.org', `${'a'.repeat(250)}@example.org`]) {
      expect(emailProblem(address) === undefined, address).toBe(serverEmail.safeParse(address).success);
    }
    expect(emailProblem('  li@example.org ')).toBeUndefined();
    expect(emailProblem('')?.key).toBe('users.err.email');
    expect(emailProblem('li@')?.key).toBe('users.err.emailShape');
  });

  it('needs a name and a password of 8 to 200 characters, as the server does', () => {
    for (const password of ['', 'short', '1234567', '12345678', 'x'.repeat(200), 'x'.repeat(201)]) {
      expect(passwordProblem(password) === undefined, password).toBe(serverPassword.safeParse(password).success);
    }
    for (const name of ['', '  ', 'Li Wei', '李伟', 'x'.repeat(200), 'x'.repeat(201)]) {
      expect(editProblems({ name, institutionId: '', roles: [] }).name === undefined, name).toBe(serverName.safeParse(name).success);
    }
    expect(Object.keys(newUserProblems(emptyUser()))).toEqual(['email', 'name', 'password']);
    expect(newUserProblems({ ...emptyUser(), email: 'li@example.org', name: 'Li Wei', password: 'long enough' })).toEqual({});
  });

  it('sends the new user trimmed, roles in order once each, no institution as null', () => {
    expect(newUserBody({ email: ' li@example.org ', name: ' Li Wei ', institutionId: '', roles: ['reviewer', 'curator', 'reviewer'], password: ' secret pass ' })).toEqual({
      email: 'li@example.org',
      name: 'Li Wei',
      password: ' secret pass ',
      institutionId: null,
      roles: ['curator', 'reviewer'],
    });
  });

  it('sends only what an edit changed', () => {
    const before = { name: 'Li Wei', institutionId: 'i1', roles: ['reviewer', 'curator'] };
    expect(editBody(before, { name: 'Li Wei ', institutionId: 'i1', roles: ['curator', 'reviewer'] })).toEqual({});
    expect(editBody(before, { name: 'Li Wei', institutionId: '', roles: ['curator'] })).toEqual({ institutionId: null, roles: ['curator'] });
    expect(editBody(before, { name: 'Wei Li', institutionId: 'i2', roles: ['curator', 'reviewer', 'chair'] })).toEqual({ name: 'Wei Li', institutionId: 'i2', roles: ['curator', 'reviewer', 'chair'] });
  });

  it('checks an institution as the server does: its code, a name, an optional parent body', () => {
    const valid = { code: 'IGGCAS', name: 'Institute of Geology and Geophysics', parentBody: '' };
    for (const code of ['IGGCAS', 'cas.igg', 'A', '9lab', 'USTC_2', 'a-b', 'x'.repeat(32), 'x'.repeat(33), '', '.igg', '-igg', '_igg', 'IGG CAS', '中科院', 'igg/cas', 'igg@cas']) {
      expect(institutionProblems({ ...valid, code }).code === undefined, code).toBe(serverCode.safeParse(code).success);
    }
    for (const name of ['', '  ', '中国科学院地质与地球物理研究所', 'x'.repeat(200), 'x'.repeat(201)]) {
      expect(institutionProblems({ ...valid, name }).name === undefined, name).toBe(serverName.safeParse(name).success);
    }
    for (const parentBody of ['', '   ', '中国科学院', 'Chinese Academy of Sciences', 'x'.repeat(200), 'x'.repeat(201)]) {
      const checked = institutionProblems({ ...valid, parentBody });
      expect(checked.parentBody === undefined, parentBody).toBe(serverInstitution.safeParse(institutionBody({ ...valid, parentBody })).success);
    }
    expect(institutionProblems({ code: '', name: ' ', parentBody: 'x'.repeat(201) })).toEqual({
      code: { key: 'users.err.code' },
      name: { key: 'users.err.institutionName' },
      parentBody: { key: 'users.err.long', values: { max: 200 } },
    });
    // It says what is wrong: a space, a character it cannot hold, or the first one.
    expect(institutionProblems({ ...valid, code: 'IGG CAS' }).code).toEqual({ key: 'users.err.codeSpace' });
    expect(institutionProblems({ ...valid, code: 'igg/cas' }).code).toEqual({ key: 'users.err.codeChar', values: { char: '/' } });
    expect(institutionProblems({ ...valid, code: '中科院' }).code).toEqual({ key: 'users.err.codeChar', values: { char: '中' } });
    expect(institutionProblems({ ...valid, code: '.igg' }).code).toEqual({ key: 'users.err.codeStart' });
    expect(institutionProblems({ ...valid, code: 'x'.repeat(33) }).code).toEqual({ key: 'users.err.long', values: { max: 32 } });
    // Spaces around the code are the admin's slip, not part of it: checked and sent without them.
    expect(institutionProblems({ ...valid, code: ' IGGCAS ' })).toEqual({});
  });

  it('sends the institution trimmed, and no parent body when none was given', () => {
    expect(institutionBody({ code: ' IGGCAS ', name: ' Institute of Geology and Geophysics ', parentBody: '  ' })).toEqual({ code: 'IGGCAS', name: 'Institute of Geology and Geophysics' });
    expect(institutionBody({ code: 'IGGCAS', name: '地质与地球物理研究所', parentBody: ' 中国科学院 ' })).toEqual({ code: 'IGGCAS', name: '地质与地球物理研究所', parentBody: '中国科学院' });
  });

  it('needs the new password long enough and typed the same twice', () => {
    expect(passwordResetProblems({ password: '', again: '' })).toEqual({ password: { key: 'users.err.passwordShort', values: { min: 8, length: 0 } }, again: { key: 'users.err.again' } });
    expect(passwordResetProblems({ password: 'long enough', again: 'long enough ' })).toEqual({ again: { key: 'users.err.mismatch' } });
    expect(passwordResetProblems({ password: 'long enough', again: 'Long enough' })).toEqual({ again: { key: 'users.err.mismatch' } });
    expect(passwordResetProblems({ password: 'x'.repeat(201), again: 'x'.repeat(201) })).toEqual({ password: { key: 'users.err.long', values: { max: 200 } } });
    expect(passwordResetProblems({ password: 'long enough', again: 'long enough' })).toEqual({});
  });

  it('words the refusals it knows, and leaves the others to the server', () => {
    expect(refusalKey('duplicate', { field: 'email', message: 'already exists' })).toBe('users.err.emailTaken');
    expect(refusalKey('conflict', { field: 'roles', message: 'would leave no enabled admin' })).toBe('users.err.lastAdmin');
    expect(refusalKey('conflict', { field: 'disabled', message: 'would leave no enabled admin' })).toBe('users.err.lastAdmin');
    expect(refusalKey('conflict', { field: 'disabled', message: 'is your own account' })).toBe('users.err.self');
    expect(refusalKey('validation-failed', { field: 'institutionId', message: 'no such institution' })).toBe('users.err.noInstitution');
    expect(refusalKey('duplicate', { field: 'code', message: 'already exists' })).toBe('users.err.codeTaken');
    expect(refusalKey('conflict', { field: 'password', message: 'is your own' })).toBe('users.err.ownPassword');
    expect(refusalKey('validation-failed', { field: 'password', message: 'at least 8 characters' })).toBeUndefined();
    expect(refusalKey('validation-failed', { field: 'name', message: 'Too big' })).toBeUndefined();
  });
});
