/**
 * The one table from domain error codes to HTTP statuses and titles, and the
 * RFC 9457 problem document built from any error.
 */
import type { DomainError} from '../../core/errors.js';
import { type ErrorCode, type FieldError } from '../../core/errors.js';

export const problemStatus: Record<ErrorCode, { status: number; title: string }> = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'invalid-quantity': { status: 400, title: 'The quantity is not valid' },
  'malformed-request': { status: 400, title: 'The request could not be read' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'payload-too-large': { status: 413, title: 'The request is too large' },
  unauthenticated: { status: 401, title: 'Sign-in required' },
  'invalid-credentials': { status: 401, title: 'Wrong e-mail or password' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  duplicate: { status: 409, title: 'Already exists' },
  'insufficient-quantity': { status: 409, title: 'Not enough material is available' },
  'invalid-state': { status: 409, title: 'Not possible in the current state' },
  'location-occupied': { status: 409, title: 'The storage position is occupied' },
  'idempotency-key-reuse': { status: 422, title: 'Idempotency-Key reused with a different request' },
  'idempotency-key-in-progress': { status: 409, title: 'The first request with this Idempotency-Key is still running' },
  'consent-withdrawn': { status: 409, title: 'The donor withdrew consent' },
  'consent-scope-excluded': { status: 409, title: "The donor's consent does not cover the application's uses" },
  'deadline-passed': { status: 409, title: 'The deadline has passed' },
  'conflict-of-interest': { status: 409, title: 'Conflict of interest' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'setup-required': { status: 409, title: 'Setup is required' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
  'obligations-overdue': { status: 403, title: 'An obligation on a loan is overdue' },
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: FieldError[];
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

export function problemFromDomainError(error: DomainError, requestId?: string): Problem {
  const { status, title } = problemStatus[error.code];
  return {
    ...error.extensions,
    type: error.code,
    title,
    status,
    detail: error.message,
    errors: error.errors,
    ...(requestId ? { requestId } : {}),
  };
}

export function internalProblem(requestId: string): Problem {
  return {
    type: 'internal-error',
    title: 'Internal error',
    status: 500,
    detail: `Something went wrong on our side. Quote request id ${requestId} when you report it; nothing was changed unless the answer said so.`,
    errors: [],
    requestId,
  };
}
