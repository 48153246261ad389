import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError, FieldError } from '../api/client';
import type { Problem, Problems } from '../lib/application-rules';

/** Focuses the input or select inside the form's `data-field` wrapper for `field`. */
export function focusField(form: HTMLFormElement | null, field: string | undefined): void {
  if (field) form?.querySelector<HTMLElement>(`[data-field="${field}"] input, [data-field="${field}"] select`)?.focus();
}

/** The first field with a problem, focused after a refused submission. */
export function focusFirst(form: HTMLFormElement | null, problems: Problems): void {
  focusField(form, Object.keys(problems)[0]);
}

/**
 * What the server said, above the form: its detail and a pointer to the
 * marked fields when it named some; or the page's own words for a refusal
 * it knows (`message`), which say what to do.
 */
export function ServerError({ error, message }: { error: ApiError | null; message?: ReactNode }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <div className="form-error" role="alert">
      {error.status === 0 ? t('state.network') : (message ?? <>{error.detail || error.title} {error.errors.length > 0 && t('apply.fixFields')}</>)}
    </div>
  );
}

/**
 * A field's message: the local check once the field was touched (or a
 * submission tried), else the server's (through `serverMessage` when the page
 * words it itself) until the field is edited again.
 */
export function useChecks(problems: Problems, serverError: ApiError | null, serverMessage: (error: FieldError) => string = (error) => error.message) {
  const { t } = useTranslation();
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [attempted, setAttempted] = useState(false);
  const [edited, setEdited] = useState<Set<string>>(new Set());
  useEffect(() => setEdited(new Set()), [serverError]);
  const message = (problem: Problem | undefined) => (problem ? t(problem.key, problem.values) : undefined);
  const server = (field: string) => {
    if (edited.has(field)) return undefined;
    const found = serverError?.errors.find((error) => error.field === field || error.field.startsWith(`${field}.`));
    return found ? serverMessage(found) : undefined;
  };
  return {
    errorFor: (field: string): string | undefined => (touched.has(field) || attempted ? message(problems[field]) : undefined) ?? server(field),
    touch: (field: string) => setTouched((all) => (all.has(field) ? all : new Set(all).add(field))),
    /** The field changed since the server refused it: its refusal no longer applies. */
    edit: (field: string) => setEdited((all) => (all.has(field) ? all : new Set(all).add(field))),
    attempt: () => setAttempted(true),
    reset: () => {
      setTouched(new Set());
      setAttempted(false);
    },
  };
}
