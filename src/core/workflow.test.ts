import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import { applicationStates, applicationTransitions, assertTransition, callTransitions, canTransition, withdrawableStates } from './workflow.js';

describe('workflow', () => {
  it('walks a call forward only, one step at a time', () => {
    expect(canTransition(callTransitions, 'draft', 'open')).toBe(true);
    expect(canTransition(callTransitions, 'draft', 'closed')).toBe(false);
    expect(canTransition(callTransitions, 'closed', 'open')).toBe(false);
    expect(canTransition(callTransitions, 'archived', 'draft')).toBe(false);
  });

  it('lets an application be withdrawn before allocation and never after', () => {
    for (const state of applicationStates) {
      expect(canTransition(applicationTransitions, state, 'withdrawn')).toBe(withdrawableStates.includes(state));
    }
    expect(canTransition(applicationTransitions, 'allocated', 'withdrawn')).toBe(false);
  });

  it('includes the loan states after allocation', () => {
    expect(canTransition(applicationTransitions, 'approved', 'allocated')).toBe(true);
    expect(canTransition(applicationTransitions, 'rejected', 'allocated')).toBe(false);
    expect(canTransition(applicationTransitions, 'reporting', 'closed')).toBe(true);
  });

  it('refuses with invalid-state naming the allowed targets', () => {
    try {
      assertTransition('call', callTransitions, 'open', 'decided');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('invalid-state');
      expect((error as DomainError).extensions.allowed).toEqual(['closed']);
    }
  });
});
