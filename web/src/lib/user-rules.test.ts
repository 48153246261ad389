import { describe, expect, it } from 'vitest';
import { email as serverEmail, password as serverPassword, personName as serverName } from '../../../src/features/identity/identity.schemas.js';
import { editBody, editProblems, emailProblem, emptyUser, newUserBody, newUserProblems, passwordProblem, refusalKey } from './user-rules';

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

  it('words the refusals it knows, and leaves the others to the server', () => {
    expect(refusalKey('duplicate', { field: 'email', message: 'already exists' })).toBe('users.err.emailTaken');
    expect(refusalKey('conflict', { field: 'roles', message: 'would leave no enabled admin' })).toBe('users.err.lastAdmin');
    expect(refusalKey('conflict', { field: 'disabled', message: 'would leave no enabled admin' })).toBe('users.err.lastAdmin');
    expect(refusalKey('conflict', { field: 'disabled', message: 'is your own account' })).toBe('users.err.self');
    expect(refusalKey('validation-failed', { field: 'institutionId', message: 'no such institution' })).toBe('users.err.noInstitution');
    expect(refusalKey('validation-failed', { field: 'name', message: 'Too big' })).toBeUndefined();
  });
});
