/**
 * Every failure the domain knows about is a DomainError with a stable code.
 * Services throw them; one table in the HTTP layer maps codes to statuses.
 */
export const errorCodes = [
  'validation-failed',
  'invalid-quantity',
  'malformed-request',
  'unsupported-media-type',
  'payload-too-large',
  'unauthenticated',
  'invalid-credentials',
  'forbidden',
  'not-found',
  'conflict',
  'duplicate',
  'insufficient-quantity',
  'invalid-state',
  'location-occupied',
  'idempotency-key-reuse',
  'idempotency-key-in-progress',
  'consent-withdrawn',
  'consent-scope-excluded',
  'deadline-passed',
  'conflict-of-interest',
  'rate-limited',
  'setup-required',
  'service-unavailable',
  'obligations-overdue',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface FieldError {
  field: string;
  message: string;
}

export interface DomainErrorOptions {
  errors?: FieldError[];
  /** Extra machine-readable members of the problem document. */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[];
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.errors = options.errors ?? [];
    this.extensions = options.extensions ?? {};
  }
}

export function notFound(what: string, field?: string): DomainError {
  return new DomainError('not-found', `${what} was not found`, field ? { errors: [{ field, message: 'not found' }] } : {});
}

export function invalid(field: string, message: string): DomainError {
  return new DomainError('validation-failed', `${field}: ${message}`, { errors: [{ field, message }] });
}

export function forbidden(message = 'You do not have permission to do this'): DomainError {
  return new DomainError('forbidden', message);
}
